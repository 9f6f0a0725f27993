import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { CentralSystemNode } from './types';

type ResponseMessage = NodeMessageInFlow & { ampflowRequest?: { id?: unknown; centralSystem?: unknown } };

export = (RED: NodeAPI): void => {
  function OcppResponseNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    this.on('input', (message, _send, done) => {
      const msg = message as ResponseMessage;
      const request = msg.ampflowRequest;
      if (typeof request?.id !== 'string' || typeof request.centralSystem !== 'string') {
        return done(new Error(RED._('ampflow-ocpp-response.errors.noRequest')));
      }
      const csNode = RED.nodes.getNode(request.centralSystem) as CentralSystemNode | null;
      const cs = csNode?.centralSystem;
      if (!cs) return done(new Error(RED._('ampflow-ocpp-response.errors.noCentralSystem')));
      let answered: boolean;
      try {
        answered = cs.respond(request.id, msg.payload);
      } catch (err) {
        return done(err as Error);
      }
      if (answered) {
        this.status({ fill: 'green', shape: 'dot', text: 'answered' });
      } else {
        this.status({ fill: 'yellow', shape: 'ring', text: 'too late' });
        this.warn(RED._('ampflow-ocpp-response.warnings.tooLate', { topic: String(msg.topic ?? '') }));
      }
      done();
    });
  }

  RED.nodes.registerType('ampflow-ocpp-response', OcppResponseNode);
};
