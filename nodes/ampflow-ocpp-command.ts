import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { CommandRefusedError, executeCommand } from '../lib/ocpp/commands';
import { settingsInTodaysShape } from './shared/config-version';
import { useCatalog } from './shared/i18n';
import { onInput } from './shared/input';
import { statusOf } from './shared/status-table';
import { centralSystemStatus } from './status';
import type { CentralSystemNode } from './types';

interface OcppCommandNodeDef extends NodeDef {
  centralSystem: string;
  /** Fixed charge point; empty = `msg.chargePointId` (or the first part of `msg.topic`). */
  chargePointId: string;
  /** Fixed action; empty = `msg.action`. */
  action: string;
  /** Fixed request payload as JSON; empty = `msg.payload`. */
  payload: string;
  /** Answer timeout in s; empty = the central system's. */
  timeoutS: string;
}

type CommandMessage = NodeMessageInFlow & {
  chargePointId?: unknown;
  action?: unknown;
  ocpp?: unknown;
};

// Node-RED's shape of a node module (a constructor that calls createNode and finds its config
// node, registered by type): alike in every node here by Node-RED's design.
export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-ocpp-command');
  function OcppCommandNode(this: Node, def: OcppCommandNodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-ocpp-command', def);
    if (!current) return;
    def = current;
    const csNode = RED.nodes.getNode(def.centralSystem) as CentralSystemNode | null;
    const user = { refreshStatus: () => this.status(centralSystemStatus(csNode)) };
    csNode?.register(user);
    if (!csNode) user.refreshStatus();

    let fixedPayload: unknown;
    let settingsProblem: string | undefined;
    if (def.payload?.trim()) {
      try {
        fixedPayload = JSON.parse(def.payload);
      } catch (err) {
        settingsProblem = RED._('ampflow-ocpp-command.errors.payload', { message: (err as Error).message });
        this.error(settingsProblem);
      }
    }
    const timeoutS = Number(def.timeoutS);
    const timeoutMs = def.timeoutS?.trim() && timeoutS > 0 ? timeoutS * 1000 : undefined;

    // A flow that feeds this node from an ocpp-in node sends msg.action with every message: say
    // once per field that the node's own setting applies, not once per message.
    const warned = new Set<string>();
    const warnOnce = (field: string, value: string) => {
      if (warned.has(field)) return;
      warned.add(field);
      this.warn(RED._('ampflow-ocpp-command.warnings.noOverride', { field, value }));
    };
    onInput<CommandMessage>(this, async (msg, send) => {
      const cs = csNode?.centralSystem;
      if (settingsProblem) throw new Error(settingsProblem);
      if (!cs) throw new Error(csNode?.problem ?? RED._('ampflow-ocpp-command.errors.noCentralSystem'));
      const fromMsg = {
        chargePointId:
          typeof msg.chargePointId === 'string'
            ? msg.chargePointId
            : typeof msg.topic === 'string' && msg.topic.includes('/')
              ? msg.topic.split('/')[0]
              : undefined,
        action: typeof msg.action === 'string' ? msg.action : undefined,
      };
      for (const field of ['chargePointId', 'action'] as const) {
        if (def[field] && fromMsg[field] !== undefined && fromMsg[field] !== def[field] && field in msg) {
          warnOnce(field, String(def[field]));
        }
      }
      if (fixedPayload !== undefined && typeof msg.payload === 'object' && msg.payload !== null) {
        warnOnce('payload', String(def.payload));
      }
      const action = def.action || fromMsg.action;
      if (!action) throw new Error(RED._('ampflow-ocpp-command.errors.noAction'));
      const payload =
        fixedPayload !== undefined
          ? fixedPayload
          : typeof msg.payload === 'object' && msg.payload !== null
            ? msg.payload
            : undefined;
      const chargePointId = def.chargePointId || fromMsg.chargePointId;
      const command = {
        action,
        ...(chargePointId ? { chargePointId } : {}),
        ...(payload === undefined ? {} : { payload }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      };
      try {
        const result = await executeCommand(cs, command);
        msg.payload = result.response;
        msg.ocpp = result;
        this.status(answerStatus(action, result.response));
        send(msg);
      } catch (err) {
        if (err instanceof CommandRefusedError) {
          msg.payload = err.result.response;
          msg.ocpp = err.result;
        }
        this.status(statusOf('ampflow-ocpp-command', 'failed', { action }));
        throw err;
      }
    });

    this.on('close', () => csNode?.deregister(user));
  }

  RED.nodes.registerType('ampflow-ocpp-command', OcppCommandNode);
};

/** "Reset: Accepted" where the answer has a status, else "ClearCache: done". */
function answerStatus(action: string, response: unknown): NodeStatus {
  const answer = (response as { status?: unknown } | null)?.status;
  return typeof answer === 'string'
    ? statusOf('ampflow-ocpp-command', 'answered', { action, answer })
    : statusOf('ampflow-ocpp-command', 'done', { action });
}
