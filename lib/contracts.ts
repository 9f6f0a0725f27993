/**
 * The data shapes every layer shares (DESIGN.md, "Data contracts"). Node-RED messages carry them
 * in `msg.payload`. All fields are plain JSON (no Date, no Map) so they travel through flows,
 * context stores and files unchanged.
 */

import type { CentralSystemAction, ChargePointAction } from './ocpp/actions';
import type {
  BootNotificationRequest,
  GetConfigurationResponse,
  OcppRequest,
  OcppResponse,
} from './ocpp/messages';
import type { StationAction201 } from './ocpp/v201/schemas';

/** A value per grid phase [L1, L2, L3]; null where the phase was not measured. */
export type PerPhase = [number | null, number | null, number | null];

/**
 * What any meter produces: a Modbus meter, OCPP MeterValues, or a flow (MQTT, HTTP, P1 reader).
 *
 * Sign: power and current are positive when the site imports from the grid (or the load
 * consumes), negative when it exports. Every field but `source` and `timestamp` is optional.
 */
export interface Reading {
  /** The meter's name, or `<chargePointId>/<connectorId>` for a charger's own meter. */
  source: string;
  /** When the values were measured (ISO 8601, UTC). */
  timestamp: string;
  /** Current per phase in A (line currents). */
  currentA?: PerPhase;
  /**
   * A current reported without a phase, in A. Chargers differ in what they mean by it (one
   * phase, the highest phase, the average), so it is kept apart from `currentA`.
   */
  currentUnphasedA?: number;
  /** Voltage per phase in V, line to neutral. */
  voltageV?: PerPhase;
  /** Active power per phase in W. */
  powerW?: PerPhase;
  /** Total active power in W. */
  totalPowerW?: number;
  /** Active energy imported, register value in Wh. */
  importWh?: number;
  /** Active energy exported, register value in Wh. */
  exportWh?: number;
  frequencyHz?: number;
  /** Vehicle state of charge in %. */
  socPercent?: number;
  /** Current the charger offers the vehicle, in A per phase. */
  offeredCurrentA?: number;
  /** Power the charger offers the vehicle, in W. */
  offeredPowerW?: number;
  powerFactor?: number;
  /** Total reactive power in var (positive = import). */
  reactivePowerVar?: number;
  temperatureC?: number;
}

/** OCPP 1.6 connector status (StatusNotification). */
export type ConnectorStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEVSE'
  | 'SuspendedEV'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted';

/** The transaction running on a connector. */
export interface ConnectorTransaction {
  transactionId: number;
  idTag: string;
  /** ISO 8601 start time as the charger reported it. */
  startedAt: string;
  meterStartWh: number;
  /** From the id tag's VIP flag or priority; read by the load manager. */
  priority?: number;
}

/** Per charge point and connector: what the central system knows right now. */
export interface ConnectorState {
  chargePointId: string;
  /** 0 is the charge point as a whole. */
  connectorId: number;
  status?: ConnectorStatus;
  errorCode?: string;
  info?: string;
  vendorErrorCode?: string;
  /** When the status was reported (ISO 8601). */
  statusAt?: string;
  transaction?: ConnectorTransaction;
  /**
   * The transaction that ended last on this connector, while no other runs: its id, the stop
   * reason in OCPP 1.6 words (`EVDisconnected`: the cable was pulled; a 2.0.1 stoppedReason is
   * translated) and when it ended (ISO 8601). Gone when the next transaction starts. The load
   * manager takes it as evidence that the car left (docs/load-manager.md, "A departure").
   */
  lastStop?: { transactionId: number; reason: string; at: string };
  /** Measured current per phase in A, from the charger's MeterValues. */
  currentA?: PerPhase;
  /**
   * A current the charger reported without a phase, in A (`Reading.currentUnphasedA`: Schneider
   * EVlink's `Current.Import` unless it is asked for `Current.Import.L1` etc.), while its newest
   * readings carry none per phase. The load manager counts it on every phase the connector is
   * wired for (the safe side) and says so.
   */
  currentUnphasedA?: number;
  /** Current the charger offers the vehicle, in A per phase. */
  offeredCurrentA?: number;
  /** Phases (1, 2, 3) carrying more than 1 A while charging. */
  activePhases?: number[];
  /** Active energy register in Wh. */
  energyWh?: number;
  powerW?: number;
  socPercent?: number;
  /** When the charger last sent anything about this connector (ISO 8601). */
  lastSeen?: string;
  /**
   * When its currents were measured (ISO 8601): the sample's own timestamp where it is plausible
   * (not after it arrived, at most a minute before), else when it arrived. A sample taken before a
   * set-point change but delivered after it must not pass for a reading of the new set-point.
   */
  measuredAt?: string;
  /** Whether the charge point is connected right now. */
  online: boolean;
  /**
   * The central system has no record of this charge point ever connecting (configured in a site,
   * not installed or not commissioned yet): it draws nothing, so the load manager reserves nothing
   * for it. Only with `online: false`; absent means it was seen, or nobody knows.
   */
  neverConnected?: true;
  /**
   * The limit the charger last confirmed for this connector (the charging-profile manager says so
   * when the charger accepted the command that carries it, or found it in force already): the car
   * may draw at most `limitA` per phase since `since`, when the charger's answer reached the central
   * system; `confirmedAt` is when it was said (each confirmation is new, even of the same limit). A
   * command still on its way may change it again: the load manager takes a reading as proof that a
   * decrease was followed only once the decrease is confirmed and the reading arrived after `since`.
   */
  limitInForce?: { limitA: number; since: string; confirmedAt: string };
  /**
   * What the charge-point operator's backend allows this connector now, in A per phase: its
   * charging profiles, kept by ampflow and composed with the load manager's limit (lib/upstream).
   * The load manager never gives the connector more.
   */
  operatorLimitA?: number;
  /**
   * The charger's offline fallback, as the charging-profile manager confirmed it: once ampflow has
   * lost the charger for `afterS` seconds, the connector offers at most `limitA` per phase (a new
   * car included), apart from a running session that keeps a higher limit it was given (OCPP 1.6
   * §3.13.6); confirmed at `since`. Kept while the charger is offline; absent when none is known.
   */
  offlineFallback?: { limitA: number; afterS: number; since: string };
  /**
   * The charger takes no offline fallback from ampflow (its limits go at stack level 0, by a vendor
   * key, or the fallback is switched off or refused; `why` says which): once ampflow is gone it
   * keeps the last limit it was given, forever. The charging-profile manager says so (since
   * `since`); the load manager counts it at that limit in its plan for ampflow's absence.
   */
  keepsLimitOffline?: { why: string; since: string };
  /**
   * The charging-profile manager could not set a limit on this connector since `since`: the
   * charger refused every way it knows to set one, or did not answer within its timeout (`why`
   * says which). The load manager counts the connector as uncontrolled from that moment (its
   * fallback, or what it draws if more), not after an overdraw grace. Absent once a limit is
   * confirmed again (`limitInForce`).
   */
  limitFailed?: { limitA: number; since: string; why: string };
  /**
   * The charger takes limits only in multiples of `stepA` A per phase (`why`: its model, as the
   * charging-profile manager's strategy says: Schneider EVlink's maxIntensitySocket takes whole
   * amperes). The load manager then allocates the connector in that step (the site's own
   * `stepA` for the connector wins), and what the step leaves goes to the others.
   */
  limitStep?: { stepA: number; why: string };
  /**
   * What the charger was asked to measure for the load manager (OCPP 1.6 MeterValuesSampledData
   * with per-phase Current.Import, MeterValueSampleInterval) and what came of it, since `since`.
   * `perPhaseCurrents: false`: it refused or cannot (`why`), so its readings are no evidence that
   * it followed a decrease. Absent: nobody asked (a flow that sets the charger up itself).
   * `intervalS` is the interval the charger confirmed (its readings come this often); `askedS` the
   * one ampflow asked for last while limits move or settle (lib/profiles/fast-sampling.ts: 5 s while
   * a limit moves, back to the normal one once steady); where the two differ, `why` says so.
   */
  sampling?: SamplingState;
  /**
   * What the car said it needs, over ISO 15118 through an OCPP 2.0.1 charger (NotifyEVChargingNeeds)
   * at `at`: the most and least current per phase it takes, on how many phases, the energy it wants
   * and when it leaves. The load manager gives it no more than `maxA`, no less than `minA` while it
   * charges, and plans a pv car's charging to have `energyWh` by `departureTime` (lib/dlm/evidence/departure.ts).
   * Absent when the car said nothing; gone when its session ends.
   */
  carNeeds?: CarNeeds;
}

/** What came of asking a charger for its readings (`ConnectorState.sampling`). */
export interface SamplingState {
  perPhaseCurrents: boolean;
  intervalS?: number;
  askedS?: number;
  since: string;
  why?: string;
}

/** A car's charging needs (ISO 15118-2 AC charge parameters, OCPP 2.0.1 ChargingNeedsType). */
export interface CarNeeds {
  at: string;
  maxA?: number;
  minA?: number;
  phases?: 1 | 2 | 3;
  energyWh?: number;
  /** When the driver leaves (ISO 8601). */
  departureTime?: string;
}

/** What the load manager decides per connector; `limitA = 0` means pause. */
export interface SetPoint {
  chargePointId: string;
  connectorId: number;
  limitA: number;
  phases: 1 | 2 | 3;
  reason: string;
  /**
   * The offline fallback the load manager chose for the connector, A per phase: what it may draw
   * once ampflow is gone (Node-RED stopped, the network down), so that the fallbacks of every
   * connector plus the other loads' learned peak fit each circuit (its minimum for as many as fit
   * by priority, 0 A for the rest). The charging-profile node installs it (never above its own
   * offline fallback setting). Absent: the load manager chose none (the connector is offline, or
   * keeps its last limit).
   */
  fallbackA?: number;
  /**
   * Volts per ampere and phase at the connector's site, where they are not the charging-profile
   * node's *Voltage*: on an IT network (3×230 V without a neutral) 230 V / √3 = 132.8 V. A charger
   * that takes its limit in watts is sent limitA × this × phases (on IT with 230 V it could draw
   * 1.7 times its limit). Absent: the node's Voltage setting.
   */
  voltageV?: number;
}

/** A charge data record: one finished session, what facility staff bill from. */
export interface SessionRecord {
  transactionId: number;
  /** An OCPP 2.0.1 charger's own id of the transaction; the CDR export shows it beside ours. */
  chargerTransactionId?: string;
  chargePointId: string;
  connectorId?: number;
  idTag?: string;
  startedAt?: string;
  stoppedAt: string;
  meterStartWh?: number;
  meterStopWh: number;
  energyWh?: number;
  /** OCPP stop reason; `Local` when the charger gave none (the spec's default). */
  stopReason: string;
  /** The id tag that stopped the session, when the charger reported one. */
  stopIdTag?: string;
  /**
   * How the record came about when it is not an ordinary start + stop: `unknownTransaction` (a
   * StopTransaction for a transaction the central system never started), `superseded` (the
   * charger started a new transaction on the connector without stopping this one; meterStop and
   * stoppedAt are then the new transaction's start values).
   */
  anomaly?: 'unknownTransaction' | 'superseded';
}

/** A charge-point-initiated message after it was answered. */
export interface ChargePointMessage {
  chargePointId: string;
  /** The action in the shared (1.6) shapes, or a 2.0.1 action that has no 1.6 counterpart. */
  action: ChargePointAction | StationAction201;
  request: unknown;
  response: unknown;
  receivedAt: string;
  /** The message in the package's shapes (Reading, ConnectorState, SessionRecord, ...). */
  payload: unknown;
  /**
   * The message as an OCPP 2.0.1 charger sent it, which `action` and `request` give in the shared
   * (1.6) shapes: a TransactionEvent may be StartTransaction, MeterValues and StatusNotification.
   */
  ocpp?: { version: string; action: string; request: unknown };
}

/** A MeterValues message in the package's shapes (ChargePointMessage.payload for MeterValues). */
export interface MeterValuesPayload extends Partial<Reading> {
  chargePointId: string;
  connectorId: number;
  transactionId?: number;
  /** Every reading of the message, oldest first. */
  readings: Reading[];
  /** The batch was older than what the connector already shows and did not change it. */
  outOfOrder?: true;
}

// ---- Ports: the interfaces rooms talk through ---------------------------------------------------

/** Why a command to a charge point failed (the central system's CommandError, by its name). */
export interface CommandFailure extends Error {
  name: 'CommandError';
  code: 'Offline' | 'Timeout' | 'CallError' | 'InvalidRequest' | 'InvalidResponse';
  /** The OCPP error code of a CALLERROR (NotSupported, FormationViolation, ...). */
  ocppErrorCode?: string;
}

export function isCommandFailure(err: unknown): err is CommandFailure {
  return (
    err instanceof Error && err.name === 'CommandError' && typeof (err as CommandFailure).code === 'string'
  );
}

/** What the central system keeps of a charge point that another room may read. */
export interface ChargerSnapshot {
  /** Its last BootNotification and when it came. */
  boot?: { at: string; request: BootNotificationRequest };
  /** Its configuration as last read (GetConfiguration) and when. */
  configuration?: { at: string; keys: NonNullable<GetConfigurationResponse['configurationKey']> };
}

/** What a charge point's connection reports, by event name; the payload is the listener's only argument. */
/** What happened on a charger's link to its operator's backend (plain JSON, for flows). */
export interface UpstreamEvent {
  chargePointId: string;
  /** linkUp, linkDown, forwarded, composed, refused, reasserted, replayed, drained, flushed */
  kind: string;
  action?: string;
  /** up (charger to backend) or down (backend to charger) for `forwarded`. */
  direction?: string;
  reason?: string;
  /** Requests still waiting for the backend. */
  queued?: number;
  /** `flushed`: the requests taken out unsent (the charger changed OCPP version), as they were. */
  requests?: { action: string; request: unknown }[];
}

export interface ChargePointEvents {
  /** A charge point connected (its WebSocket is open). */
  connect: { chargePointId: string; remoteAddress?: string; protocol?: string };
  /** A charge point's connection closed. */
  disconnect: { chargePointId: string; code?: number; reason?: string };
  /** A charge-point-initiated message after it was answered. */
  message: ChargePointMessage;
  /** A session ended (its StopTransaction was accepted, or it was superseded). */
  session: SessionRecord;
  /** A connector's state changed. */
  connector: ConnectorState;
  /** The operator's backend link of a charger (lib/upstream): up, down, a command refused, a replay. */
  upstream: UpstreamEvent;
  /** A command sent to a charge point was answered (`response`) or failed (`error`). */
  command: {
    chargePointId: string;
    action: CentralSystemAction;
    request: unknown;
    response?: unknown;
    error?: Error;
  };
}

/**
 * What a room that drives chargers (the charging-profile manager) needs of the central system:
 * send a command to a charge point, observe its connection and connectors, and keep its own facts
 * about the charger durably. The central system implements it; the room knows nothing else of it.
 */
export interface ChargePointPort {
  isConnected(chargePointId: string): boolean;
  /** The OCPP sub-protocol a connected charger speaks (`ocpp1.6`, `ocpp2.0.1`); undefined while it is not. */
  protocolOf?(chargePointId: string): string | undefined;
  /** The charge point's connectors as the central system knows them now (connector 0 included when reported). */
  connectorsOf(chargePointId: string): ConnectorState[];
  connectorOf(chargePointId: string, connectorId: number): ConnectorState | undefined;
  /** What the charge point said in its last BootNotification (model, vendor, firmware). */
  bootOf(chargePointId: string): BootNotificationRequest | undefined;
  /** Its boot and configuration as the central system keeps them; undefined for one never seen. */
  recordOf(chargePointId: string): ChargerSnapshot | undefined;
  /** Facts a room keeps about a charge point; opaque to the central system, kept with its record across restarts. */
  factsOf(chargePointId: string, room: string): unknown;
  keepFacts(chargePointId: string, room: string, facts: unknown): Promise<void>;
  call<A extends CentralSystemAction>(
    chargePointId: string,
    action: A,
    request: OcppRequest<A>,
    options?: { timeoutMs?: number },
  ): Promise<OcppResponse<A>>;
  /** The charger confirmed `limitA` for a connector: kept as its `ConnectorState.limitInForce`. */
  confirmLimit(chargePointId: string, connectorId: number, limitA: number): void;
  /**
   * The connector falls to an offline fallback when the charger loses ampflow (undefined: it may
   * not any more): kept as its `ConnectorState.offlineFallback`; or it takes none and keeps its
   * last limit (`keepsLastLimit`: why): kept as its `ConnectorState.keepsLimitOffline`.
   */
  confirmFallback(
    chargePointId: string,
    connectorId: number,
    fallback: { limitA: number; afterS: number } | { keepsLastLimit: string } | undefined,
  ): void;
  /**
   * The charger could not be given a limit on a connector (refused every way, or no answer in
   * time; undefined: a limit was set again): kept as its `ConnectorState.limitFailed`.
   */
  reportLimitFailure(
    chargePointId: string,
    connectorId: number,
    failure: { limitA: number; why: string } | undefined,
  ): void;
  /**
   * The connector's limits go in multiples of `stepA` (the charger's model takes no finer; undefined:
   * any): kept as its `ConnectorState.limitStep`.
   */
  reportLimitStep(
    chargePointId: string,
    connectorId: number,
    step: { stepA: number; why: string } | undefined,
  ): void;
  /**
   * What came of asking the charger to measure per-phase currents at a control interval: kept on
   * each of its connectors as `ConnectorState.sampling`.
   */
  reportSampling(chargePointId: string, sampling: Omit<SamplingState, 'since'>): void;
  on<E extends keyof ChargePointEvents>(event: E, listener: (payload: ChargePointEvents[E]) => void): unknown;
  off<E extends keyof ChargePointEvents>(
    event: E,
    listener: (payload: ChargePointEvents[E]) => void,
  ): unknown;
}
