import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { settingsInTodaysShape } from './shared/config-version';
import { useCatalog } from './shared/i18n';
import { onInput } from './shared/input';
import { statusOf } from './shared/status-table';
import type { CentralSystemNode } from './types';

type ResponseMessage = NodeMessageInFlow & { ampflowRequest?: { id?: unknown; centralSystem?: unknown } };

export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-ocpp-response');
  function OcppResponseNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-ocpp-response', def);
    if (!current) return;
    def = current;
    onInput<ResponseMessage>(this, (msg) => {
      const request = msg.ampflowRequest;
      if (typeof request?.id !== 'string' || typeof request.centralSystem !== 'string') {
        throw new Error(RED._('ampflow-ocpp-response.errors.noRequest'));
      }
      const csNode = RED.nodes.getNode(request.centralSystem) as CentralSystemNode | null;
      const cs = csNode?.centralSystem;
      if (!cs) throw new Error(RED._('ampflow-ocpp-response.errors.noCentralSystem'));
      if (cs.respond(request.id, msg.payload)) {
        this.status(statusOf('ampflow-ocpp-response', 'answered'));
      } else {
        this.status(statusOf('ampflow-ocpp-response', 'tooLate'));
        this.warn(RED._('ampflow-ocpp-response.warnings.tooLate', { topic: String(msg.topic ?? '') }));
      }
    });
  }

  RED.nodes.registerType('ampflow-ocpp-response', OcppResponseNode);
};
