import type { ConnectorState } from '../contracts';
import type { FlowRequest } from './authorization';
import type { SessionRecord } from './central-state';
import type { CentralSystem, ChargePointMessage } from './central-system';
import { CHARGE_POINT_ACTIONS } from './connection';

/** What a flow can listen to: every charge-point message plus the central system's own events. */
export const OBSERVABLE_EVENTS = [
  ...CHARGE_POINT_ACTIONS,
  'Connected',
  'Disconnected',
  'ConnectorState',
  'Session',
] as const;
export type ObservableEvent = (typeof OBSERVABLE_EVENTS)[number];

/** One event, whatever produced it. */
export interface CentralSystemEvent {
  chargePointId: string;
  action: ObservableEvent;
  payload: unknown;
  /** The raw OCPP exchange, for charge-point messages. */
  ocpp?: { request: unknown; response: unknown };
}

export interface EventFilter {
  /** Charge point identities; empty or undefined = all. */
  chargePoints?: readonly string[];
  /** Event names; empty or undefined = all. */
  actions?: readonly string[];
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

/** Calls `listener` for each matching event; returns the function that unsubscribes. */
export function subscribe(
  cs: CentralSystem,
  filter: EventFilter,
  listener: (event: CentralSystemEvent) => void,
) {
  const matches = matcher(filter);
  const emit = (event: CentralSystemEvent) => {
    if (!matches(event.chargePointId, event.action)) return;
    // A listener runs inside the central system's own event (a connection closing, a message being
    // answered): its failure must not escape into the central system.
    try {
      listener(event);
    } catch (err) {
      cs.log.error(`a listener for ${event.chargePointId}/${event.action} failed: ${(err as Error).message}`);
    }
  };
  const handlers = {
    message: (message: ChargePointMessage) =>
      emit({
        chargePointId: message.chargePointId,
        action: message.action,
        payload: message.payload,
        ocpp: { request: message.request, response: message.response },
      }),
    connect: (info: { chargePointId: string }) =>
      emit({ chargePointId: info.chargePointId, action: 'Connected', payload: info }),
    disconnect: (info: { chargePointId: string }) =>
      emit({ chargePointId: info.chargePointId, action: 'Disconnected', payload: info }),
    connector: (state: ConnectorState) =>
      emit({ chargePointId: state.chargePointId, action: 'ConnectorState', payload: { ...state } }),
    session: (session: SessionRecord) =>
      emit({ chargePointId: session.chargePointId, action: 'Session', payload: session }),
  };
  for (const [event, handler] of Object.entries(handlers)) cs.on(event, handler);
  return () => {
    for (const [event, handler] of Object.entries(handlers)) cs.off(event, handler);
  };
}

/**
 * Takes each matching decision the flow must make (the listener must see that it is answered
 * with `CentralSystem.respond`); returns the unsubscribe function.
 */
export function subscribeRequests(
  cs: CentralSystem,
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
