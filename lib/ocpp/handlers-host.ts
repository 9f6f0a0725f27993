/**
 * The parts of the central system the charge point handlers (handlers.ts, transaction-handlers.ts,
 * command-records.ts) work with, each of its own class, so that "go to definition" from a handler
 * lands on the code it calls; and the shapes of their answers.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log';
import type { Admission } from './admission';
import type { CentralSystemOptions } from './central-options';
import type { CentralSystemEvents } from './central-types';
import type { ChargerState } from './charger-state';
import type { ConnectorStatePort } from './connector-feed';
import type { IdTagInfo } from './id-tags';
import type { TrafficGate } from './traffic';

/** A handler's answer: the response to the charger, the payload of the `message` event. */
export interface Answer {
  response: unknown;
  payload: unknown;
}

/** What the handlers work with: the central system's parts (central-wiring.ts makes them). */
export interface HandlerParts {
  /** The central system's settings (unknown chargers, configuration read on boot, DataTransfer, intervals). */
  readonly options: Readonly<CentralSystemOptions>;
  /** The durable state, its clock (nowIso) and the connectors' live state the handlers keep in step. */
  readonly charges: ChargerState;
  /** Who is known (configured, in the password book, approved). */
  readonly admission: Admission;
  /** Commands to chargers (a GetConfiguration after a boot, SendLocalList). */
  readonly gate: TrafficGate;
  /** A connector's state changed: to the load managers' feeds, the listeners, then the flows. */
  readonly port: ConnectorStatePort;
  readonly log: Logger;
  /** The central system's events the handlers tell of (`message`, `session`). */
  readonly events: Pick<EventEmitter<CentralSystemEvents>, 'emit'>;
}

/** An answer decided by somebody else (the operator's backend), as the charger is to get it. */
export interface Decided {
  idTagInfo?: IdTagInfo;
  [field: string]: unknown;
}
