import type { ChargePointEvents, ConnectorState } from '../contracts';
import type { CentralSystemAction, ChargePointAction } from './actions';
import type { ChargerRecord } from './central-state';
import type { FileUpload } from './files';
import type { Violation } from './v16/validation';

/** A value, or a promise of it where it is not there at once (most answers are: no promise, no turn). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The central system's data shapes: its state, what it tells of a charge point, and its events.
 * They live apart from the CentralSystem class so that the modules around it (listings, events,
 * commands, the Node-RED nodes) can speak of them without importing the class.
 */

export type CentralSystemState = 'stopped' | 'starting' | 'listening' | 'failed' | 'stopping';

/** A charge point as the central system knows it: its durable record and its live connection. */
export interface ChargePointInfo extends Omit<ChargerRecord, 'password'> {
  connected: boolean;
  connectedAt?: string;
  remoteAddress?: string;
  protocol?: string;
  lenient: boolean;
  connectors: ConnectorState[];
  /** Its link to the operator's backend, where the central system keeps one (lib/upstream). */
  backend?: BackendLink;
  /**
   * Approved, but still Pending because it refused to boot again at once (approval-boot.ts): why,
   * and that it is accepted at its next BootNotification.
   */
  waitingForBoot?: string;
}

/** A charger's link to the operator's backend as dashboards show it (lib/upstream notes it). */
export interface BackendLink {
  state: 'connected' | 'not reached';
  /** Requests waiting for the backend. */
  queued: number;
  /** The latest request ampflow answered in the backend's place, when, and why. */
  decidedLocally?: string;
}

/** The HTTP statuses a refused charger can get. */
export type RefusalStatus = 400 | 401 | 404 | 409 | 429 | 503;

/** A WebSocket upgrade refused: the reason is logged and emitted, never sent to the charger. */
export interface Refusal {
  identity: string;
  /** The peer's address, `unknown address` when the socket no longer tells it. */
  remoteAddress: string;
  status: RefusalStatus;
  reason: string;
}

/** An attempt that waits, unchecked, while a refusal of its identity from its address is answered late. */
export interface HeldAttempt {
  identity: string;
  remoteAddress: string;
  /** Attempts waiting for that identity at that address, this one included. */
  waiting: number;
}

/** A message of a charger that broke the OCPP 1.6 schema. */
export type ChargePointViolation = Violation & { chargePointId: string };

/** One WebSocket frame, as sent or received (for a flow's protocol trace). */
export interface FrameEvent {
  chargePointId: string;
  direction: 'in' | 'out';
  frame: string;
}

/** ChargePointEvents (the port's events) as EventEmitter tuples: one argument each. */
type ChargePointEventArgs = { [E in keyof ChargePointEvents]: [ChargePointEvents[E]] };

/**
 * Every event of a CentralSystem and its one argument: the port's (connect, disconnect, message,
 * session, connector, command) plus its own.
 */
export interface CentralSystemEvents extends ChargePointEventArgs {
  state: [CentralSystemState];
  refused: [Refusal];
  held: [HeldAttempt];
  violation: [ChargePointViolation];
  frame: [FrameEvent];
  /** The durable state failed and the central system stopped. */
  failed: [Error];
  /** A charger uploaded diagnostics or a log through the central system's own file exchange (files.ts). */
  file: [FileUpload];
}

/** The central system's events beyond the port's, and listener types by event. */
export type OwnEvent = Exclude<keyof CentralSystemEvents, keyof ChargePointEvents>;
export type OwnListener<E extends OwnEvent> = (...args: CentralSystemEvents[E]) => void;
export type PortListener<E extends keyof ChargePointEvents> = (payload: ChargePointEvents[E]) => void;

/**
 * A room that stands between the chargers and the central system's own answers (lib/upstream: the
 * operator's backend kept). `request` gets every CALL from a charger and answers it, with the
 * central system's own handling in `local` (which keeps the state, the ledger and the events as
 * always; `decided` is an answer decided elsewhere that it records instead of deciding itself).
 * `command` gets each of ampflow's own commands on its way to a charger and returns the request as
 * that charger must see it (its transaction ids may differ from the ledger's).
 */
export interface ChargerTraffic {
  request(
    chargePointId: string,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown>;
  command(chargePointId: string, action: CentralSystemAction, request: unknown): unknown;
  /**
   * An OCPP 2.0.1 charger's CALL as it came, before its translation; `local` translates it and
   * answers it the central system's way (with `decided`, in 2.0.1's shapes, recorded instead).
   * Absent: 2.0.1 chargers are answered by the central system alone.
   */
  request201?(
    chargePointId: string,
    action: string,
    request: Record<string, unknown>,
    local: (decided?: Record<string, unknown>) => MaybePromise<unknown>,
  ): Promise<unknown>;
}
