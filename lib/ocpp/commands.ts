import type { ChargePointPort } from '../contracts';
import type { PersistentIdTags } from './authorization';
import type { CdrConnector } from './cdr-connectors';
import type { OpenTransaction } from './central-state';
import type { ChargePointInfo } from './central-types';
import {
  CENTRAL_SYSTEM_ACTIONS,
  type CentralSystemAction,
  CommandError,
  isCentralSystemAction,
} from './connection';
import { type FileCommandHost, prepareFileCommand } from './files-commands';
import type { IdTagEntry } from './id-tags';
import {
  type ConnectorSource,
  connectorRows,
  type SessionListOptions,
  type SessionSource,
  sessionRows,
} from './listings';
import type { OcppRequest } from './messages';
import { type SessionsCsvOptions, sessionsCsv } from './sessions-csv';
import { CSMS_ACTIONS_201, isCsmsAction201 } from './v201/schemas';

/**
 * Actions the central system carries out itself, next to the OCPP commands it sends to chargers.
 * They let a flow manage charge points, id tags and records with the same node.
 */
export const LOCAL_ACTIONS = [
  'ApproveChargePoint',
  'RejectChargePoint',
  'ListChargePoints',
  'ListOpenTransactions',
  'ListConnectors',
  'ListSessions',
  'GetIdTags',
  'SetIdTags',
  'RemoveIdTags',
  'ReplaceIdTags',
  'PushLocalList',
  'ExportSessions',
] as const;
export type LocalAction = (typeof LOCAL_ACTIONS)[number];

const localActions = new Set<string>(LOCAL_ACTIONS);
const chargePointActionsNeedingId = new Set<string>([
  'ApproveChargePoint',
  'RejectChargePoint',
  'PushLocalList',
]);

/** OCPP 2.0.1 commands 1.6 has no counterpart of: a 2.0.1 charger gets them as the flow writes them. */
export const ONLY_201_ACTIONS: readonly string[] = CSMS_ACTIONS_201.filter(
  (action) => !isCentralSystemAction(action),
);

export const COMMAND_ACTIONS: readonly string[] = [
  ...CENTRAL_SYSTEM_ACTIONS,
  ...ONLY_201_ACTIONS,
  ...LOCAL_ACTIONS,
];

/** What commands need of the central system: its commands to chargers and its records. */
export interface CommandTarget extends ConnectorSource, SessionSource, Pick<ChargePointPort, 'call'> {
  readonly options: Readonly<{
    authorization?: Readonly<{ fixedIdTag?: string }>;
    cdrConnectors?: Readonly<Record<string, CdrConnector>>;
  }>;
  readonly idTags: PersistentIdTags;
  approveChargePoint(chargePointId: string): Promise<void>;
  rejectChargePoint(chargePointId: string): Promise<void>;
  chargePoint(chargePointId: string): ChargePointInfo | undefined;
  chargePoints(): ChargePointInfo[];
  openTransactions(): OpenTransaction[];
  pushLocalList(chargePointId: string, options?: { full?: boolean }): Promise<unknown>;
  /** The central system's own file exchange, where it has one (files-commands.ts). */
  readonly files?: FileCommandHost['files'];
  fileBaseUrl?(chargePointId: string): string;
  /** Settles once a start in progress has: a command waits for it (central-lifecycle.ts). */
  whenStarted?(): Promise<void>;
}

export interface Command {
  chargePointId?: string;
  action: string;
  payload?: unknown;
  timeoutMs?: number;
}

export interface CommandResult {
  action: string;
  chargePointId?: string;
  request: unknown;
  response: unknown;
}

/**
 * Statuses in a charger's answer that mean the command was not carried out. The answer is a
 * valid CallResult, but a flow must see it as a failure (Catch nodes).
 */
const REFUSALS = new Set([
  'Rejected',
  'NotSupported',
  'Failed',
  'VersionMismatch',
  'UnknownMessageId',
  'UnknownVendorId',
  'UnlockFailed',
  'Occupied',
  'Faulted',
  'Unavailable',
  'NotImplemented',
  'InvalidCertificate',
  'RevokedCertificate',
]);

/** Statuses that are a refusal for one action only (NotFound is a plain answer to GetInstalledCertificateIds). */
const REFUSALS_OF: Partial<Record<string, ReadonlySet<string>>> = {
  DeleteCertificate: new Set(['NotFound']),
};

export class CommandRefusedError extends CommandError {
  constructor(
    message: string,
    readonly result: CommandResult,
  ) {
    super(message, 'CallError');
    this.name = 'CommandRefusedError';
  }
}

/** Runs an OCPP command or a local action; throws CommandError with a message naming charger and action. */
export async function executeCommand(cs: CommandTarget, command: Command): Promise<CommandResult> {
  const { action, chargePointId } = command;
  // Sent while the central system is still starting: after its start (or with the start's error).
  await cs.whenStarted?.();
  if (localActions.has(action)) return executeLocal(cs, command as Command & { action: LocalAction });
  if (!isCentralSystemAction(action) && !isCsmsAction201(action)) {
    throw new CommandError(
      `"${action}" is not a command: expected one of ${COMMAND_ACTIONS.join(', ')}`,
      'InvalidRequest',
    );
  }
  if (!chargePointId) throw new CommandError(`${action} needs the charge point it goes to`, 'InvalidRequest');
  // Location "ampflow": the central system serves the firmware or takes the upload itself (files.ts).
  const payload = cs.files
    ? prepareFileCommand(cs as FileCommandHost, chargePointId, action, command.payload ?? {})
    : (command.payload ?? {});
  const request = isCentralSystemAction(action) ? withDefaults(cs, action, payload) : payload;
  // A 2.0.1-only action goes to the charger as written (the connection checks the charger speaks it).
  const response = await cs.call(
    chargePointId,
    action as CentralSystemAction,
    request as OcppRequest<CentralSystemAction>,
    command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs },
  );
  const result = { action, chargePointId, request, response };
  const status = (response as { status?: unknown }).status;
  if (typeof status === 'string' && (REFUSALS.has(status) || REFUSALS_OF[action]?.has(status))) {
    // A 2.0.1 station may say why (statusInfo.reasonCode): the message carries it.
    const reason = (response as { statusInfo?: { reasonCode?: unknown } }).statusInfo?.reasonCode;
    const why = typeof reason === 'string' ? ` (${reason})` : '';
    throw new CommandRefusedError(
      `charge point ${chargePointId} answered ${action} with ${status}${why}`,
      result,
    );
  }
  return result;
}

function withDefaults(cs: CommandTarget, action: CentralSystemAction, payload: unknown): unknown {
  if (action === 'RemoteStartTransaction' && typeof payload === 'object' && payload !== null) {
    const request = payload as Record<string, unknown>;
    const fixedIdTag = cs.options.authorization?.fixedIdTag;
    if (request.idTag === undefined && fixedIdTag) return { ...request, idTag: fixedIdTag };
  }
  return payload;
}

async function executeLocal(
  cs: CommandTarget,
  command: Command & { action: LocalAction },
): Promise<CommandResult> {
  const { action, chargePointId } = command;
  const payload = (command.payload ?? {}) as Record<string, unknown>;
  if (chargePointActionsNeedingId.has(action) && !chargePointId) {
    throw new CommandError(`${action} needs a charge point id`, 'InvalidRequest');
  }
  const result = (response: unknown): CommandResult => ({
    action,
    ...(chargePointId ? { chargePointId } : {}),
    request: command.payload,
    response,
  });
  switch (action) {
    case 'ApproveChargePoint':
      await cs.approveChargePoint(chargePointId as string);
      return result(cs.chargePoint(chargePointId as string));
    case 'RejectChargePoint':
      await cs.rejectChargePoint(chargePointId as string);
      return result(cs.chargePoint(chargePointId as string));
    case 'ListChargePoints':
      return result(chargePointId ? cs.chargePoint(chargePointId) : cs.chargePoints());
    case 'ListOpenTransactions':
      return result(
        cs.openTransactions().filter((tx) => !chargePointId || tx.chargePointId === chargePointId),
      );
    case 'ListConnectors':
      return result(connectorRows(cs).filter((row) => !chargePointId || row.chargePointId === chargePointId));
    case 'ListSessions': {
      const { from, to, limit } = payload as SessionListOptions;
      const options = { from, to, limit, ...(chargePointId ? { chargePointId } : {}) };
      try {
        return result(await sessionRows(cs, options));
      } catch (err) {
        if (err instanceof RangeError)
          throw new CommandError(`ListSessions: ${err.message}`, 'InvalidRequest');
        throw err;
      }
    }
    case 'GetIdTags':
      return result({ version: cs.idTags.version, idTags: cs.idTags.entries() });
    case 'SetIdTags':
      return result(await cs.idTags.upsert(idTagEntries(payload, action)));
    case 'ReplaceIdTags':
      return result(await cs.idTags.replaceAll(idTagEntries(payload, action)));
    case 'RemoveIdTags': {
      const idTags = Array.isArray(payload) ? payload : payload.idTags;
      if (!Array.isArray(idTags) || idTags.some((tag) => typeof tag !== 'string')) {
        throw new CommandError('RemoveIdTags needs payload.idTags, a list of id tags', 'InvalidRequest');
      }
      return result(await cs.idTags.remove(idTags as string[]));
    }
    case 'PushLocalList':
      return result(await cs.pushLocalList(chargePointId as string, { full: payload.full === true }));
    case 'ExportSessions':
      try {
        return result(
          await sessionsCsv(cs.sessions(), payload as SessionsCsvOptions, cs.options.cdrConnectors),
        );
      } catch (err) {
        if (err instanceof RangeError)
          throw new CommandError(`ExportSessions: ${err.message}`, 'InvalidRequest');
        throw err;
      }
  }
}

function idTagEntries(payload: unknown, action: string): IdTagEntry[] {
  const entries = Array.isArray(payload) ? payload : (payload as { idTags?: unknown }).idTags;
  if (!Array.isArray(entries)) {
    throw new CommandError(
      `${action} needs payload.idTags, a list of { idTag, status, ... }`,
      'InvalidRequest',
    );
  }
  return entries as IdTagEntry[];
}
