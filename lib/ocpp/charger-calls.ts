/**
 * A charger's CALL after its connection has validated it, step by step: the status recall hears
 * of a boot (status-recall.ts), the operator's backend may decide the answer first (traffic.ts,
 * lib/upstream through CentralSystem.interpose), then the central system's own handlers answer
 * (handlers.ts). A named step rather than a closure in the wiring, so that "go to definition"
 * follows a MeterValues from the connection to the handlers.
 */
import type { MaybePromise } from './central-types';
import type { ChargePointAction, ChargePointConnection } from './connection';
import type { ChargePointHandlers } from './handlers';
import type { StatusRecall } from './status-recall';
import type { TrafficGate } from './traffic';

/** The steps a charger's CALL passes. */
export interface ChargerCallSteps {
  readonly recall: Pick<StatusRecall, 'booted'>;
  readonly gate: Pick<TrafficGate, 'incoming'>;
  /** The central system's handlers, which exist only while it runs (central-lifecycle.ts). */
  handlers(): ChargePointHandlers;
}

/**
 * Answers one CALL: `decided` is what the room between decided for a 2.0.1 charger's call (it met
 * the room as it came, before its translation), so it does not pass the gate again.
 */
export function handleChargerCall(
  steps: ChargerCallSteps,
  action: ChargePointAction,
  request: unknown,
  connection: ChargePointConnection,
  decided?: unknown,
): MaybePromise<unknown> {
  if (action === 'BootNotification') steps.recall.booted(connection.identity);
  const handlers = steps.handlers();
  if (decided !== undefined) return handlers.handle(action, request, connection, decided);
  return steps.gate.incoming(connection, action, request, handlers);
}
