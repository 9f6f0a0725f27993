import type { SessionRecord } from '../contracts';
import type { BootNotificationRequest, GetConfigurationResponse } from './messages';
import type { RotatedPassword } from './rotated-passwords';

/**
 * The central system's durable state and the events that change it. Every change is an event
 * appended to a journal (lib/store) before the charger gets its answer, so a crash at any instant
 * loses nothing acknowledged and never issues a transaction id twice. `applyEvent` is the one
 * place that turns events into state; it must stay deterministic.
 */

export interface OpenTransaction {
  transactionId: number;
  chargePointId: string;
  connectorId: number;
  idTag: string;
  /** The status the central system answered the StartTransaction with. */
  idTagStatus: string;
  meterStartWh: number;
  /** As the charger reported it (ISO 8601). */
  startedAt: string;
  reservationId?: number;
  /** When the central system received the StartTransaction (ISO 8601). */
  receivedAt: string;
  priority?: number;
  /** An OCPP 2.0.1 charger's own id of the transaction (2.0.1 chargers name their transactions). */
  chargerTransactionId?: string;
}

export type { SessionRecord } from '../contracts';

/** Why a stop was refused as a record (stop-anomalies.ts judges it). */
export type StopAnomalyReason =
  | 'otherCharger'
  | 'alreadyStopped'
  | 'unknownTransaction'
  | 'negativeMeter'
  | 'belowMeterStart'
  | 'impossibleEnergy';

/** A stop as received, in the shared (1.6) shapes. */
export interface StopReceived {
  /** The ledger's id it names; 0 for a 2.0.1 Ended of a transaction the ledger does not have. */
  transactionId: number;
  /** An OCPP 2.0.1 charger's own id of the transaction it ended. */
  chargerTransactionId?: string;
  meterStop: number;
  timestamp: string;
  reason?: string;
  idTag?: string;
}

/**
 * A stop that is no charge data record: kept in the journal and the archive (never lost), shown to
 * the operator, never a row of the CDR export, a `session` or a stop for the operator's backend.
 */
export interface StopAnomaly {
  chargePointId: string;
  /** When ampflow received it (ISO 8601). */
  receivedAt: string;
  reason: StopAnomalyReason;
  /** Why, in words with the figures. */
  detail: string;
  /** What the charger sent, in the shared (1.6) shapes; `transactionData` left out. */
  received: StopReceived;
  /** The charger that runs the transaction the stop names, when it is another (`otherCharger`). */
  openOn?: string;
}

/** How many anomalies the state keeps at hand for the sidebar; all of them are in the archive. */
export const RECENT_ANOMALIES_KEPT = 50;

export type Registration = 'Accepted' | 'Pending' | 'Rejected';

export interface ChargerRecord {
  chargePointId: string;
  firstSeenAt: string;
  /** The operator approved it (or the unknown-charger policy accepted it). */
  approved: boolean;
  /** The operator rejected it: refused at the handshake. */
  blocked: boolean;
  /** The answer to its last BootNotification. */
  registration?: Registration;
  /**
   * The address it was last accepted from: others' failed guesses for its identity do not slow it
   * there (lib/ocpp/brake.ts), also right after a restart.
   */
  lastAddress?: string;
  boot?: { at: string; request: BootNotificationRequest };
  configuration?: { at: string; keys: NonNullable<GetConfigurationResponse['configurationKey']> };
  /** The local authorization list version the charger last reported or accepted. */
  localListVersion?: number;
  /** Its password as changed over OCPP (AuthorizationKey), digests only: rotated-passwords.ts. */
  password?: RotatedPassword;
  /**
   * What other rooms keep about the charger, by room name (ChargePointPort.storeData): e.g. what
   * the charging-profile manager learned (`profiles`: which way of setting a limit worked and which
   * were refused), kept so a restart does not ask again. Opaque here: each room owns its shape.
   */
  facts?: Record<string, { at: string; facts: unknown }>;
  /**
   * Lists other rooms keep about the charger entry by entry (ChargePointPort.keepEntries), by room
   * name and then key: e.g. the requests that wait for the operator's backend (`upstream`), where
   * one more request is one more line in the journal, not a copy of all that wait. Opaque here.
   */
  entries?: Record<string, Record<string, unknown>>;
}

export interface CentralState {
  nextTransactionId: number;
  openTransactions: Record<string, OpenTransaction>;
  /**
   * The last stops, to recognise a StopTransaction (or an OCPP 2.0.1 TransactionEvent) the charger
   * sends again after a lost answer; `charger` is `<chargePointId>|<its own transaction id>` for
   * a 2.0.1 charger's transaction.
   */
  recentStops: {
    transactionId: number;
    fingerprint: string;
    charger?: string;
    /** The charger that sent it (entries written before it was kept have none). */
    chargePointId?: string;
    /** A stop refused as a record (a StopAnomaly): its repeat is answered, not journalled again. */
    refused?: true;
  }[];
  /** Stops refused as records: how many ever, and the latest (RECENT_ANOMALIES_KEPT), oldest first. */
  stopAnomalies?: { count: number; recent: StopAnomaly[] };
  chargers: Record<string, ChargerRecord>;
  /** The id-tag list (lib/ocpp/id-tags snapshot); opaque here. */
  idTags?: unknown;
}

export type CentralEvent =
  | { type: 'transactionStarted'; transaction: OpenTransaction }
  | { type: 'transactionStopped'; session: SessionRecord; fingerprint: string }
  | { type: 'stopRefused'; anomaly: StopAnomaly; fingerprint: string }
  | { type: 'chargerSeen'; chargePointId: string; at: string }
  | { type: 'chargerAddress'; chargePointId: string; at: string; address: string }
  | { type: 'chargerApproval'; chargePointId: string; at: string; approved: boolean }
  | {
      type: 'chargerBooted';
      chargePointId: string;
      at: string;
      request: BootNotificationRequest;
      registration: Registration;
    }
  | {
      type: 'chargerConfiguration';
      chargePointId: string;
      at: string;
      keys: ChargerConfigurationKeys;
      complete: boolean;
    }
  | { type: 'chargerLocalListVersion'; chargePointId: string; version: number }
  | { type: 'chargerPassword'; chargePointId: string; at: string; password: RotatedPassword }
  | {
      type: 'chargerSmartCharging';
      chargePointId: string;
      at: string;
      facts: unknown;
      namespace?: string;
      /** What `namespace` was called in journals written before issue 47 (read, never written). */
      room?: string;
    }
  | {
      type: 'chargerEntries';
      chargePointId: string;
      namespace?: string;
      /** What `namespace` was called in journals written before issue 47 (read, never written). */
      room?: string;
      put?: Record<string, unknown>;
      drop?: string[];
    }
  | { type: 'idTags'; snapshot: unknown };

type ChargerConfigurationKeys = NonNullable<GetConfigurationResponse['configurationKey']>;

export const RECENT_STOPS_KEPT = 1000;

export function initialCentralState(): CentralState {
  return { nextTransactionId: 1, openTransactions: {}, recentStops: [], chargers: {} };
}

/** Finished sessions go to the permanent archive as well (billing history), and refused stops beside them. */
export function isArchivedEvent(event: CentralEvent): boolean {
  return event.type === 'transactionStopped' || event.type === 'stopRefused';
}

export function applyEvent(state: CentralState, event: CentralEvent): void {
  switch (event.type) {
    case 'transactionStarted': {
      const { transaction } = event;
      state.openTransactions[String(transaction.transactionId)] = transaction;
      state.nextTransactionId = Math.max(state.nextTransactionId, transaction.transactionId + 1);
      return;
    }
    case 'transactionStopped': {
      const key = String(event.session.transactionId);
      // Only the charger that runs a transaction can end it: a stop from another charger carrying
      // the same id is recorded (as unknownTransaction) but leaves the open one alone.
      if (state.openTransactions[key]?.chargePointId === event.session.chargePointId) {
        delete state.openTransactions[key];
      }
      const { chargePointId, chargerTransactionId } = event.session;
      const stop = {
        transactionId: event.session.transactionId,
        fingerprint: event.fingerprint,
        chargePointId,
      };
      state.recentStops.push(
        chargerTransactionId === undefined
          ? stop
          : { ...stop, charger: `${chargePointId}|${chargerTransactionId}` },
      );
      if (state.recentStops.length > RECENT_STOPS_KEPT) state.recentStops.shift();
      return;
    }
    case 'stopRefused': {
      const { anomaly } = event;
      state.recentStops.push({
        transactionId: anomaly.received.transactionId,
        fingerprint: event.fingerprint,
        chargePointId: anomaly.chargePointId,
        refused: true,
      });
      if (state.recentStops.length > RECENT_STOPS_KEPT) state.recentStops.shift();
      const kept = state.stopAnomalies ?? { count: 0, recent: [] };
      state.stopAnomalies = kept;
      kept.count += 1;
      kept.recent.push(anomaly);
      if (kept.recent.length > RECENT_ANOMALIES_KEPT) kept.recent.shift();
      return;
    }
    case 'chargerSeen':
      chargerOf(state, event.chargePointId, event.at);
      return;
    case 'chargerAddress':
      chargerOf(state, event.chargePointId, event.at).lastAddress = event.address;
      return;
    case 'chargerApproval': {
      const charger = chargerOf(state, event.chargePointId, event.at);
      charger.approved = event.approved;
      charger.blocked = !event.approved;
      return;
    }
    case 'chargerBooted': {
      const charger = chargerOf(state, event.chargePointId, event.at);
      charger.boot = { at: event.at, request: event.request };
      charger.registration = event.registration;
      if (event.registration === 'Accepted') charger.approved = true;
      return;
    }
    case 'chargerConfiguration': {
      const charger = chargerOf(state, event.chargePointId, event.at);
      if (event.complete || !charger.configuration) {
        charger.configuration = { at: event.at, keys: event.keys };
      } else {
        // Keys are case insensitive (CiString50): a change under another spelling replaces the key.
        const byKey = new Map(charger.configuration.keys.map((key) => [key.key.toLowerCase(), key]));
        for (const key of event.keys) {
          const known = byKey.get(key.key.toLowerCase());
          byKey.set(key.key.toLowerCase(), known ? { ...known, value: key.value } : key);
        }
        charger.configuration = { at: event.at, keys: [...byKey.values()] };
      }
      return;
    }
    case 'chargerLocalListVersion':
      chargerOf(state, event.chargePointId).localListVersion = event.version;
      return;
    case 'chargerPassword':
      chargerOf(state, event.chargePointId, event.at).password = event.password;
      return;
    case 'chargerSmartCharging': {
      // Journals written before issue 47 name the namespace `room`; before that, data was kept
      // under no name and is only the profile manager's.
      const charger = chargerOf(state, event.chargePointId, event.at);
      const namespace = event.namespace ?? event.room ?? 'profiles';
      charger.facts = { ...charger.facts, [namespace]: { at: event.at, facts: event.facts } };
      return;
    }
    case 'chargerEntries': {
      const charger = chargerOf(state, event.chargePointId);
      const entries = charger.entries ?? {};
      charger.entries = entries;
      // Journals written before issue 47 name the namespace `room`.
      const namespace = event.namespace ?? event.room ?? '';
      const kept = entries[namespace] ?? {};
      entries[namespace] = kept;
      if (event.put) Object.assign(kept, event.put);
      // An emptied namespace stays (as {}): counting its keys on every drop would cost a long
      // queue's length for each request it sends.
      for (const key of event.drop ?? []) delete kept[key];
      return;
    }
    case 'idTags':
      state.idTags = event.snapshot;
      return;
  }
}

function chargerOf(state: CentralState, chargePointId: string, at?: string): ChargerRecord {
  let charger = state.chargers[chargePointId];
  if (!charger) {
    charger = {
      chargePointId,
      firstSeenAt: at ?? new Date(0).toISOString(),
      approved: false,
      blocked: false,
    };
    state.chargers[chargePointId] = charger;
  }
  return charger;
}

/**
 * What identifies one StopTransaction, so that the same stop sent twice is recognised: the same
 * charge point, transaction id, meter reading and time. The charge point is part of it: another
 * charger's stop with the same figures (a copy, an impostor, a charger set to another's ids) is not
 * the real stop sent again. JSON keeps the parts apart (`|` may be part of an identity).
 */
export function stopFingerprint(
  chargePointId: string,
  stop: { transactionId: number; meterStop: number; timestamp: string },
): string {
  return JSON.stringify([chargePointId, stop.transactionId, stop.meterStop, stop.timestamp]);
}

/** The persistence the central system needs; lib/store's DurableLog provides it on disk. */
export interface StateLog<State, Event> {
  readonly state: State;
  /** Applies the event at once; resolves when it is durable. */
  append(event: Event): Promise<void>;
  /** Every archived event ever appended, in order. */
  archive(): AsyncIterable<Event>;
  /** Resolves once every event appended so far is durable. */
  whenDurable(): Promise<void>;
  close(): Promise<void>;
}

/** A StateLog that keeps everything in memory (no data directory configured, tests, tools). */
export class MemoryStateLog<State, Event> implements StateLog<State, Event> {
  readonly state: State;
  private readonly archived: Event[] = [];

  constructor(
    initialState: State,
    private readonly apply: (state: State, event: Event) => void,
    private readonly isArchived: (event: Event) => boolean,
  ) {
    this.state = initialState;
  }

  async append(event: Event): Promise<void> {
    this.apply(this.state, event);
    if (this.isArchived(event)) this.archived.push(event);
  }

  async *archive(): AsyncIterable<Event> {
    yield* this.archived;
  }

  async whenDurable(): Promise<void> {}

  async close(): Promise<void> {}
}
