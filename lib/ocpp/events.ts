import type { ChargePointEvents, ConnectorState } from '../contracts';
import type { Logger } from '../log';
import type { FlowRequest } from './authorization';
import { CHARGE_POINT_ACTIONS } from './connection';
import type { FileUpload } from './files';
import { STATION_ACTIONS_201 } from './v201/schemas';

/**
 * OCPP 2.0.1 messages the flows get under their own names: those with no 1.6 counterpart. A
 * TransactionEvent arrives as what it is in 1.6 terms (StartTransaction, MeterValues, ...).
 */
const OWN_NAMES_201 = STATION_ACTIONS_201.filter(
  (action) => action !== 'TransactionEvent' && !(CHARGE_POINT_ACTIONS as readonly string[]).includes(action),
);

/** Messages chargers send, as the flows get them. */
const MESSAGE_ACTIONS = [...CHARGE_POINT_ACTIONS, ...OWN_NAMES_201];

/** What a flow can listen to: every charge-point message plus the central system's own events. */
export const OBSERVABLE_EVENTS = [
  ...CHARGE_POINT_ACTIONS,
  ...OWN_NAMES_201,
  'Connected',
  'Disconnected',
  'ConnectorState',
  'Session',
  'Upstream',
  'FileUploaded',
] as const;
export type ObservableEvent = (typeof OBSERVABLE_EVENTS)[number];

/** One event, whatever produced it. */
export interface CentralSystemEvent {
  chargePointId: string;
  action: ObservableEvent;
  payload: unknown;
  /**
   * The OCPP exchange, for charge-point messages, in the shared (1.6) shapes; for a 2.0.1 charger
   * `version` says so and `raw` is its message as it came.
   */
  ocpp?: {
    request: unknown;
    response: unknown;
    version?: string;
    raw?: { action: string; request: unknown };
  };
}

export interface EventFilter {
  /** Charge point identities; empty or undefined = all. */
  chargePoints?: readonly string[];
  /** Event names; empty or undefined = all. */
  actions?: readonly string[];
}

/** A listener of one of the port's events. */
type Listener<E extends keyof ChargePointEvents> = (payload: ChargePointEvents[E]) => void;

/** What subscribe needs of a central system: its port's events and its log. */
export interface EventSource {
  readonly log: Logger;
  on(event: 'message', listener: Listener<'message'>): unknown;
  on(event: 'connect', listener: Listener<'connect'>): unknown;
  on(event: 'disconnect', listener: Listener<'disconnect'>): unknown;
  on(event: 'connector', listener: Listener<'connector'>): unknown;
  on(event: 'session', listener: Listener<'session'>): unknown;
  on(event: 'upstream', listener: Listener<'upstream'>): unknown;
  on(event: 'file', listener: (upload: FileUpload) => void): unknown;
  off(event: 'message', listener: Listener<'message'>): unknown;
  off(event: 'connect', listener: Listener<'connect'>): unknown;
  off(event: 'disconnect', listener: Listener<'disconnect'>): unknown;
  off(event: 'connector', listener: Listener<'connector'>): unknown;
  off(event: 'session', listener: Listener<'session'>): unknown;
  off(event: 'upstream', listener: Listener<'upstream'>): unknown;
  off(event: 'file', listener: (upload: FileUpload) => void): unknown;
}

/** The port's events besides `message`, each one action of the flow. */
type OtherEvent = 'connect' | 'disconnect' | 'connector' | 'session' | 'upstream' | 'file';
/** The same source, seen through one signature for those events. */
interface OtherEventSource {
  on(event: OtherEvent, listener: (payload: { chargePointId: string }) => void): unknown;
  off(event: OtherEvent, listener: (payload: { chargePointId: string }) => void): unknown;
}

/** What subscribeRequests needs: a way to take the flow's decisions, and a log. */
export interface RequestSource {
  readonly log: Logger;
  addRequestHandler(handler: (request: FlowRequest) => boolean): () => void;
}

/** Splits a list typed by a person: commas, spaces or new lines. */
export function parseIdList(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter(Boolean);
}

function matcher(filter: EventFilter) {
  const chargePoints = new Set(filter.chargePoints ?? []);
  const actions = new Set(filter.actions ?? []);
  return (chargePointId: string, action: string) =>
    (chargePoints.size === 0 || chargePoints.has(chargePointId)) &&
    (actions.size === 0 || actions.has(action));
}

/**
 * Calls `listener` for each matching event; returns the function that unsubscribes. An event is
 * built only once it matches, and the central system's events no action of the filter can match
 * are not listened to at all (a node for MeterValues does not copy every connector state).
 */
export function subscribe(
  cs: EventSource,
  filter: EventFilter,
  listener: (event: CentralSystemEvent) => void,
) {
  const matches = matcher(filter);
  const emit = (event: CentralSystemEvent) => {
    // A listener runs inside the central system's own event (a connection closing, a message being
    // answered): its failure must not escape into the central system.
    try {
      listener(event);
    } catch (err) {
      cs.log.error(`a listener for ${event.chargePointId}/${event.action} failed: ${(err as Error).message}`);
    }
  };
  const onMessage = (message: ChargePointEvents['message']) => {
    if (!matches(message.chargePointId, message.action)) return;
    emit({
      chargePointId: message.chargePointId,
      action: message.action,
      payload: message.payload,
      ocpp: message.ocpp
        ? {
            request: message.request,
            response: message.response,
            version: message.ocpp.version,
            raw: { action: message.ocpp.action, request: message.ocpp.request },
          }
        : { request: message.request, response: message.response },
    });
  };
  const actions = filter.actions ?? [];
  const wanted = (action: string) => actions.length === 0 || actions.includes(action);
  const unsubscribers: (() => void)[] = [];
  if (MESSAGE_ACTIONS.some(wanted)) {
    cs.on('message', onMessage);
    unsubscribers.push(() => cs.off('message', onMessage));
  }
  // The other events: each is one action of the flow, its payload as the event gave it (a
  // connector state copied: the central system keeps changing its own).
  const events: [OtherEvent, ObservableEvent, (payload: never) => unknown][] = [
    ['connect', 'Connected', (info) => info],
    ['disconnect', 'Disconnected', (info) => info],
    ['connector', 'ConnectorState', (state: ConnectorState) => ({ ...state })],
    ['session', 'Session', (session) => session],
    ['upstream', 'Upstream', (event) => event],
    ['file', 'FileUploaded', (upload) => upload],
  ];
  for (const [event, action, payloadOf] of events) {
    if (!wanted(action)) continue;
    const on = (payload: { chargePointId: string }) => {
      if (matches(payload.chargePointId, action))
        emit({ chargePointId: payload.chargePointId, action, payload: payloadOf(payload as never) });
    };
    const source = cs as unknown as OtherEventSource;
    source.on(event, on);
    unsubscribers.push(() => source.off(event, on));
  }
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/**
 * Takes each matching decision the flow must make (the listener must see that it is answered
 * with `CentralSystem.respond`); returns the unsubscribe function.
 */
export function subscribeRequests(
  cs: RequestSource,
  filter: EventFilter,
  listener: (request: FlowRequest) => void,
) {
  const matches = matcher(filter);
  return cs.addRequestHandler((request) => {
    if (!matches(request.chargePointId, request.action)) return false;
    try {
      listener(request);
    } catch (err) {
      cs.log.error(
        `a listener for ${request.chargePointId}/${request.action} decisions failed: ${(err as Error).message}`,
      );
      return false;
    }
    return true;
  });
}
