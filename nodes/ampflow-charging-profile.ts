import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { SetPoint } from '../lib/contracts';
import {
  ChargingProfileManager,
  type LimitReport,
  type ProfileSettings,
  parseProfileSettings,
  type VerificationReport,
} from '../lib/profiles';
import { LastLimits, limitsStatus, RepeatedFailures } from './profile-status';
import { settingsInTodaysShape } from './shared/config-version';
import { useCatalog } from './shared/i18n';
import { onInput } from './shared/input';
import { nodeLogger } from './shared/logger';
import { statusOf } from './shared/status-table';
import { centralSystemStatus } from './status';
import type { CentralSystemNode } from './types';

interface ChargingProfileNodeDef extends NodeDef, ProfileSettings {
  centralSystem: string;
}

/** Commands besides set-points: `{command, chargePointId, connectorId, idTag?}`. */
const COMMANDS = ['pause', 'resume', 'remoteStart'] as const;
type ProfileCommand = {
  command: (typeof COMMANDS)[number];
  chargePointId: string;
  connectorId: number;
  idTag?: string;
};

// Node-RED's shape of a node module (a constructor that calls createNode and finds its config
// node, registered by type): alike in every node here by Node-RED's design.
export = (RED: NodeAPI): void => {
  useCatalog(RED, 'ampflow-charging-profile');
  function ChargingProfileNode(this: Node, def: ChargingProfileNodeDef): void {
    RED.nodes.createNode(this, def);
    const current = settingsInTodaysShape(this, 'ampflow-charging-profile', def);
    if (!current) return;
    def = current;
    const csNode = RED.nodes.getNode(def.centralSystem) as CentralSystemNode | null;
    // Every connector's last limit: the status sums them up ("9 verified, 1 refused").
    const limits = new LastLimits();
    const refreshStatus = () => {
      const cs = csNode?.centralSystem;
      const known = limits.all;
      // The central system's own trouble comes first; otherwise every connector's last limit.
      if (known.length > 0 && cs?.state === 'listening') this.status(limitsStatus(known));
      else this.status(centralSystemStatus(csNode));
    };
    const user = { refreshStatus };
    csNode?.register(user);
    if (!csNode) refreshStatus();

    let settingsProblem: string | undefined;
    let manager: ChargingProfileManager | undefined;
    try {
      const options = parseProfileSettings(def);
      const cs = csNode?.centralSystem;
      if (cs) {
        manager = new ChargingProfileManager(cs, { ...options, log: nodeLogger(this) });
      }
    } catch (err) {
      settingsProblem = (err as Error).message;
      this.error(RED._('ampflow-charging-profile.errors.settings', { message: settingsProblem }));
      this.status(statusOf('ampflow-charging-profile', 'settingsError'));
    }

    // Limits the manager sent by itself (after a reconnect or boot, a retry, connector 0's limit on a
    // connector, at a session's end) answer no input message.
    const failures = new RepeatedFailures();
    manager?.on('limit', (report: LimitReport) => {
      if (!report.resent) return;
      limits.note(report);
      refreshStatus();
      const warn = failures.shouldWarn(report);
      if (report.outcome === 'failed') {
        if (warn) this.warn(report.error ?? 'limit refused');
      } else
        this.send({
          topic: `${report.chargePointId}/${report.connectorId}`,
          payload: { event: 'limit', ...report },
        });
    });
    manager?.on('verification', (report: VerificationReport) => {
      limits.note(report);
      refreshStatus();
      this.send({
        topic: `${report.chargePointId}/${report.connectorId}`,
        payload: { event: 'verification', ...report },
      });
    });

    onInput(this, async (msg, send) => {
      if (settingsProblem) throw new Error(settingsProblem);
      if (!manager)
        throw new Error(csNode?.problem ?? RED._('ampflow-charging-profile.errors.noCentralSystem'));
      const active = manager;
      const command = asCommand(msg.payload);
      if (command?.command === 'remoteStart') {
        if (!command.idTag) throw new Error(RED._('ampflow-charging-profile.errors.noIdTag'));
        const started = await active.remoteStart({
          chargePointId: command.chargePointId,
          connectorId: command.connectorId,
          idTag: command.idTag,
        });
        send({
          ...msg,
          topic: `${command.chargePointId}/${command.connectorId}`,
          payload: { event: 'remoteStart', ...started },
        });
        return;
      }
      const reports = command
        ? [
            command.command === 'pause'
              ? await active.pause(command.chargePointId, command.connectorId)
              : await active.resume(command.chargePointId, command.connectorId),
          ]
        : await active.apply(msg.payload as SetPoint | SetPoint[]);
      const shown = reports.filter(
        (report) => report.outcome !== 'superseded' && report.outcome !== 'duplicate',
      );
      for (const report of shown) limits.note(report);
      if (shown.length > 0) refreshStatus();
      // One message per set-point that went out as a command; refusals go to Catch nodes below.
      const out: NodeMessage[] = reports
        .filter((report) => report.attempts.length > 0 && report.outcome !== 'failed')
        .map((report) => ({
          ...RED.util.cloneMessage(msg),
          topic: `${report.chargePointId}/${report.connectorId}`,
          payload: { event: 'limit', ...report },
        }));
      if (out.length > 0) send([out]);
      const failed = reports.filter((report) => report.outcome === 'failed');
      if (failed.length === 0) return;
      msg.payload = failed.length === 1 ? failed[0] : failed;
      throw new Error(failed.map((report) => report.error).join('; '));
    });

    this.on('close', () => {
      manager?.close();
      csNode?.deregister(user);
    });
  }

  RED.nodes.registerType('ampflow-charging-profile', ChargingProfileNode);
};

function asCommand(payload: unknown): ProfileCommand | undefined {
  const command = (payload as { command?: unknown } | null)?.command;
  if (typeof command !== 'string') return undefined;
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new Error(`command "${command}" is not one of ${COMMANDS.join(', ')}`);
  const { chargePointId, connectorId, idTag } = payload as Record<string, unknown>;
  if (typeof chargePointId !== 'string' || !Number.isInteger(connectorId))
    throw new Error(`${command} needs chargePointId and connectorId`);
  return {
    command: command as ProfileCommand['command'],
    chargePointId,
    connectorId: connectorId as number,
    ...(typeof idTag === 'string' ? { idTag } : {}),
  };
}
