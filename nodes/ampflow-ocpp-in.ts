import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { parseIdList, subscribe, subscribeRequests } from '../lib/ocpp/events';
import { settingsInTodaysShape } from './shared/config-version';
import { centralSystemStatus } from './status';
import type { CentralSystemNode } from './types';

interface OcppInNodeDef extends NodeDef {
  centralSystem: string;
  /** Charge point identities, comma or space separated; empty = all. */
  chargePoints: string;
  /** Message types; empty = all. */
  actions: string[] | string;
  /** `messages`: what chargers sent, once answered; `requests`: decisions the flow must answer. */
  mode: 'messages' | 'requests';
}

/** What the node sends for a charger's message or a central system's event. */
interface OcppInMessage extends NodeMessage {
  chargePointId: string;
  action: string;
  ocpp?: { request: unknown; response: unknown };
}

export = (RED: NodeAPI): void => {
  function OcppInNode(this: Node, def: OcppInNodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-ocpp-in', def);
    if (!current) return;
    def = current;
    const csNode = RED.nodes.getNode(def.centralSystem) as CentralSystemNode | null;
    const user = { refreshStatus: () => this.status(centralSystemStatus(csNode)) };
    const cs = csNode?.centralSystem;
    if (!csNode || !cs) {
      user.refreshStatus();
      csNode?.register(user);
      this.on('close', () => csNode?.deregister(user));
      return;
    }
    const filter = {
      chargePoints: parseIdList(def.chargePoints),
      actions: Array.isArray(def.actions) ? def.actions : parseIdList(def.actions),
    };
    const unsubscribe =
      def.mode === 'requests'
        ? subscribeRequests(cs, filter, (request) => {
            this.send({
              topic: `${request.chargePointId}/${request.action}`,
              payload: request.request,
              proposal: request.proposal,
              chargePointId: request.chargePointId,
              action: request.action,
              ampflowRequest: { id: request.id, centralSystem: csNode.id, deadline: request.deadline },
            });
          })
        : subscribe(cs, filter, (event) => {
            const msg: OcppInMessage = {
              topic: `${event.chargePointId}/${event.action}`,
              payload: event.payload,
              chargePointId: event.chargePointId,
              action: event.action,
            };
            // A field set, not a spread after the others: V8 takes a slow path for the latter.
            if (event.ocpp) msg.ocpp = event.ocpp;
            this.send(msg);
          });
    csNode.register(user);
    this.on('close', () => {
      unsubscribe();
      csNode.deregister(user);
    });
  }

  RED.nodes.registerType('ampflow-ocpp-in', OcppInNode);
};
