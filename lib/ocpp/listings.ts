import type { Clock } from '../clock';
import type { ChargePointMessage, ConnectorState, ConnectorStatus } from '../contracts';
import type { SessionRecord } from './central-state';
import type { BackendLink, ChargePointInfo, ChargePointViolation } from './central-types';

/**
 * Read-only views of a central system shaped for people: one row per connector for a dashboard
 * table, the charge data records newest first, and what each charger did last for the editor's
 * Chargers sidebar. Nothing here changes the central system.
 */

/**
 * The connectors (ids from 1) a charger is known to have, for commissioning while it is not
 * connected: those it reported, else as many as its NumberOfConnectors setting says, else one.
 */
export function knownConnectorIds(info: Pick<ChargePointInfo, 'connectors' | 'configuration'>): number[] {
  const reported = info.connectors.map((c) => c.connectorId).filter((id) => id > 0);
  if (reported.length > 0) return [...new Set(reported)].sort((a, b) => a - b);
  const setting = info.configuration?.keys.find((k) => k.key === 'NumberOfConnectors')?.value;
  const count = Number(setting);
  const n = Number.isInteger(count) && count >= 1 && count <= 32 ? count : 1;
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Where connector rows come from: the connectors' live state and the time. */
export interface ConnectorSource {
  readonly connectors: { all(): ConnectorState[] };
  readonly clock: Clock;
  /** The charger's link to the operator's backend, where there is one (lib/upstream). */
  backendLinkOf?(chargePointId: string): BackendLink | undefined;
}

/** Where the charge data records come from. */
export interface SessionSource {
  sessions(): AsyncIterable<SessionRecord>;
}

/** What ChargerActivity watches and lists: messages, violations and the charge points. */
export interface ActivitySource {
  on(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
  on(event: 'violation', listener: (violation: ChargePointViolation) => void): unknown;
  off(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
  off(event: 'violation', listener: (violation: ChargePointViolation) => void): unknown;
  nowIso(): string;
  chargePoints(): ChargePointInfo[];
}

/** One connector as a dashboard shows it: what it does now and the session running on it. */
export interface ConnectorRow {
  chargePointId: string;
  connectorId: number;
  /** `Offline` while the charge point is not connected, else the last OCPP status. */
  status: ConnectorStatus | 'Offline' | 'Unknown';
  online: boolean;
  errorCode?: string;
  powerW?: number;
  /** Energy of the running session so far, Wh. */
  sessionEnergyWh?: number;
  idTag?: string;
  transactionId?: number;
  startedAt?: string;
  /** Minutes since the session started. */
  durationMinutes?: number;
  socPercent?: number;
  lastSeen?: string;
  /** Its charger's link to the operator's backend, where there is one. */
  backend?: BackendLink;
}

/** Every connector (connector 0, the charge point itself, left out) of every charge point. */
export function connectorRows(cs: ConnectorSource, now: number = cs.clock.now()): ConnectorRow[] {
  return cs.connectors
    .all()
    .filter((state) => state.connectorId > 0)
    .map((state) => {
      const tx = state.transaction;
      const row: ConnectorRow = {
        chargePointId: state.chargePointId,
        connectorId: state.connectorId,
        status: state.online ? (state.status ?? 'Unknown') : 'Offline',
        online: state.online,
      };
      if (state.errorCode && state.errorCode !== 'NoError') row.errorCode = state.errorCode;
      if (state.powerW !== undefined) row.powerW = state.powerW;
      if (state.socPercent !== undefined) row.socPercent = state.socPercent;
      if (state.lastSeen) row.lastSeen = state.lastSeen;
      const backend = cs.backendLinkOf?.(state.chargePointId);
      if (backend) row.backend = { ...backend };
      if (tx) {
        row.idTag = tx.idTag;
        row.transactionId = tx.transactionId;
        row.startedAt = tx.startedAt;
        const minutes = (now - Date.parse(tx.startedAt)) / 60000;
        if (Number.isFinite(minutes)) row.durationMinutes = Math.max(0, Math.round(minutes * 10) / 10);
        if (state.energyWh !== undefined) row.sessionEnergyWh = Math.max(0, state.energyWh - tx.meterStartWh);
      }
      return row;
    });
}

export interface SessionListOptions {
  /** Only sessions that stopped at or after this instant (ISO 8601). */
  from?: string;
  /** Only sessions that stopped before this instant (ISO 8601). */
  to?: string;
  /** At most this many, the newest. Default 100. */
  limit?: number;
  /** Only this charge point's sessions. */
  chargePointId?: string;
}

export type SessionRow = SessionRecord & { durationMinutes?: number };

/** The charge data records, newest first, each with its duration. */
export async function sessionRows(
  cs: SessionSource,
  options: SessionListOptions = {},
): Promise<SessionRow[]> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit: expected a whole number ≥ 1, got ${limit}`);
  for (const key of ['from', 'to'] as const) {
    const value = options[key];
    if (value !== undefined && !Number.isFinite(Date.parse(value))) {
      throw new RangeError(`${key}: "${value}" is not a date (ISO 8601)`);
    }
  }
  const fromMs = options.from === undefined ? undefined : Date.parse(options.from);
  const toMs = options.to === undefined ? undefined : Date.parse(options.to);
  const newest: SessionRow[] = [];
  for await (const session of cs.sessions()) {
    const stoppedMs = Date.parse(session.stoppedAt);
    if (fromMs !== undefined && stoppedMs < fromMs) continue;
    if (toMs !== undefined && stoppedMs >= toMs) continue;
    if (options.chargePointId !== undefined && session.chargePointId !== options.chargePointId) continue;
    const row: SessionRow = { ...session };
    const minutes = session.startedAt ? (stoppedMs - Date.parse(session.startedAt)) / 60000 : Number.NaN;
    if (Number.isFinite(minutes) && minutes >= 0) row.durationMinutes = Math.round(minutes * 10) / 10;
    newest.push(row);
    if (newest.length > limit) newest.shift();
  }
  return newest.reverse();
}

/** The last message a charger sent (a charge-point-initiated one, after it was answered). */
export interface LastMessage {
  action: string;
  at: string;
}

/** A message of a charger that broke the OCPP 1.6 schema. */
export interface ValidationWarning {
  at: string;
  action: string;
  kind: string;
  summary: string;
  /** How often this same warning came, since the first. */
  count: number;
}

/** A charge point as the editor's Chargers sidebar lists it. */
export interface ChargerListing extends ChargePointInfo {
  lastMessage?: LastMessage;
  /** The latest distinct validation warnings, newest first (at most 5). */
  warnings: ValidationWarning[];
}

const WARNINGS_KEPT = 5;

/**
 * Watches a central system for what each charger did last: its last message and the schema
 * violations it sent (kept in memory, bounded). `stop()` unsubscribes.
 */
export class ChargerActivity {
  private readonly last = new Map<string, LastMessage>();
  private readonly warnings = new Map<string, ValidationWarning[]>();
  /** Runs for every message: each charger's record is written over, not made again (list copies it). */
  private readonly onMessage = (message: ChargePointMessage) => {
    const last = this.last.get(message.chargePointId);
    // What the charger sent: a 2.0.1 TransactionEvent, not the StartTransaction it became.
    const action = message.ocpp?.action ?? message.action;
    if (last === undefined) this.last.set(message.chargePointId, { action, at: message.receivedAt });
    else {
      last.action = action;
      last.at = message.receivedAt;
    }
  };
  private readonly onViolation = (violation: ChargePointViolation) => this.warn(violation);

  constructor(private readonly cs: ActivitySource) {
    cs.on('message', this.onMessage);
    cs.on('violation', this.onViolation);
  }

  private warn(violation: { chargePointId: string; action: string; kind: string; summary: string }): void {
    const list = this.warnings.get(violation.chargePointId) ?? [];
    const at = this.cs.nowIso();
    const index = list.findIndex(
      (w) => w.action === violation.action && w.kind === violation.kind && w.summary === violation.summary,
    );
    const existing = index >= 0 ? list.splice(index, 1)[0] : undefined;
    list.unshift({
      at,
      action: violation.action,
      kind: violation.kind,
      summary: violation.summary,
      count: (existing?.count ?? 0) + 1,
    });
    if (list.length > WARNINGS_KEPT) list.length = WARNINGS_KEPT;
    // Chargers that are neither known nor connected any more are forgotten (memory bound).
    if (!this.warnings.has(violation.chargePointId) && this.warnings.size > 10000) this.forgetGone();
    this.warnings.set(violation.chargePointId, list);
  }

  private forgetGone(): void {
    const present = new Set(this.cs.chargePoints().map((cp) => cp.chargePointId));
    for (const map of [this.last, this.warnings]) {
      for (const id of map.keys()) if (!present.has(id)) map.delete(id);
    }
  }

  /** Every charge point the central system knows or has connected, with its activity. */
  list(): ChargerListing[] {
    if (this.last.size > 10000) this.forgetGone();
    return this.cs.chargePoints().map((cp) => {
      const listing: ChargerListing = { ...cp, warnings: [...(this.warnings.get(cp.chargePointId) ?? [])] };
      const last = this.last.get(cp.chargePointId);
      if (last) listing.lastMessage = { ...last };
      return listing;
    });
  }

  stop(): void {
    this.cs.off('message', this.onMessage);
    this.cs.off('violation', this.onViolation);
  }
}
