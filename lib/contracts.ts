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
import type { ConnectorState, LimitFailure, Reading, SamplingState } from './readings';

export type {
  CarNeeds,
  ConnectorState,
  ConnectorStatus,
  ConnectorTransaction,
  LimitFailure,
  LimitFailureCause,
  ModbusFault,
  PerPhase,
  Reading,
  SamplingState,
  StaleCause,
} from './readings';

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
   * How the record came about when it is not an ordinary start + stop: `superseded` (the charger
   * started a new transaction on the connector without stopping this one; meterStop and stoppedAt
   * are then the new transaction's start values). `unknownTransaction` is only in records written
   * before such stops were kept as anomalies instead (lib/ocpp/stop-anomalies.ts).
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
  /**
   * Data a part of ampflow stores about a charge point under its own namespace (e.g. 'profiles');
   * opaque to the central system, kept with its record across restarts.
   */
  storedData(chargePointId: string, namespace: string): unknown;
  storeData(chargePointId: string, namespace: string, data: unknown): Promise<void>;
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
  reportLimitFailure(chargePointId: string, connectorId: number, failure: LimitFailure | undefined): void;
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
  /** The typed port of connector states (CentralSystem.onConnectorState); returns the unsubscribe. */
  onConnectorState(listener: (state: ConnectorState) => void): () => void;
  on<E extends keyof ChargePointEvents>(event: E, listener: (payload: ChargePointEvents[E]) => void): unknown;
  off<E extends keyof ChargePointEvents>(
    event: E,
    listener: (payload: ChargePointEvents[E]) => void,
  ): unknown;
}
