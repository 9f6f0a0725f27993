/**
 * Whether a car is on a connector, from what its charger says: whether it wants current
 * (carWantsCurrent, the observer's rule), and whether the car a decrease went out for has left, on
 * evidence strong enough to free its current at once (carLeft: evidence/decrease-settle.ts settleDecrease, the one
 * owner of "a decrease is settled", asks here). docs/load-manager.md, "A departure frees its
 * current at once", says why each kind of evidence is enough.
 *
 * The car left when no transaction runs on the connector any more (the charger ended it: 1.6
 * StopTransaction, 2.0.1 TransactionEvent Ended) and
 * - the connector is Available (nothing plugged in) or Finishing (the session is over; a new one
 *   needs a new transaction), or
 * - the transaction ended with EVDisconnected (the cable was pulled), or
 * - the charger's own reading, taken after the end, is within the new set-point on every phase the
 *   connector is wired for (what says it may draw no more is the end itself: a car draws
 *   only within a transaction, so a reading after it needs no confirmation of the new limit).
 * The last two only while no status since the end says a car is there (Preparing, Charging,
 * SuspendedEV, SuspendedEVSE: a new car, or the same one again).
 *
 * Never while its own reading taken after the decrease went out still shows more than the new
 * set-point (a charger that says Available and draws).
 *
 * Not a departure: a status alone while the transaction runs (SuspendedEV: the car paused and may
 * take the old current again at any moment; Finishing before the StopTransaction), and a low
 * reading alone (a car that draws little now is no proof that the charger follows its new limit).
 */
import type { ConnectorStatus } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import { isoMs } from '../../time';
import type { ConnectorRuntime } from '../parts';
import { wiredPhases } from '../phases';
import type { Connector, Site } from '../site/model';

/** Statuses that say a car is on the connector. */
const CAR_THERE: ReadonlySet<ConnectorStatus | undefined> = new Set<ConnectorStatus | undefined>([
  'Preparing',
  'Charging',
  'SuspendedEV',
  'SuspendedEVSE',
]);

/**
 * Whether a connector that still shows a car's status (Charging, SuspendedEV, SuspendedEVSE) is
 * empty after all: its transaction ended after that status was reported (a 1.6 charger often
 * sends its StopTransaction before the status that follows it), and it ended with EVDisconnected
 * or the charger's readings since the end carry no current. The car no longer wants current
 * (carWantsCurrent, read by the observer); a charger that ends a transaction and starts the next one at once (a session
 * split) still draws, and is not taken for empty.
 */
function leftAfterStatus(connector: Connector, runtime: ConnectorRuntime): boolean {
  const state = runtime.state;
  const stop = state?.lastStop;
  if (!state || !stop || state.transaction) return false;
  const stopMs = isoMs(stop.at);
  const statusMs = state.statusAt === undefined ? Number.NaN : isoMs(state.statusAt);
  if (!Number.isFinite(stopMs) || statusMs > stopMs) return false;
  if (stop.reason === 'EVDisconnected') return true;
  const draw = runtime.draw;
  if (!draw || draw.atMs < stopMs) return false;
  return wiredPhases(connector).every((i) => {
    const value = draw.chargerA[i];
    return value !== null && value !== undefined && value <= ACTIVE_PHASE_A;
  });
}

/**
 * Whether the car on `connector` has left since a decrease went out at `decreasedAtMs` (see the
 * module comment): what showed it, worded for a log line, or undefined.
 */
export function carLeft(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  decreasedAtMs: number,
): string | undefined {
  const state = runtime.state;
  if (state?.online !== true || state.transaction) return undefined;
  const draw = runtime.draw;
  const allowedA = (runtime.sent?.limitA ?? 0) + site.control.overdrawToleranceA;
  // Its own reading since the decrease still shows more: whatever the status says, it draws.
  if (
    draw &&
    draw.atMs > decreasedAtMs &&
    wiredPhases(connector).some((i) => (draw.chargerA[i] ?? 0) > allowedA)
  )
    return undefined;
  if (state.status === 'Available' || state.status === 'Finishing') return `its connector is ${state.status}`;
  const stop = state.lastStop;
  const stopMs = stop ? isoMs(stop.at) : Number.NaN;
  if (!stop || !Number.isFinite(stopMs)) return undefined;
  const statusMs = state.statusAt === undefined ? Number.NaN : isoMs(state.statusAt);
  if (CAR_THERE.has(state.status) && statusMs > stopMs) return undefined;
  if (stop.reason === 'EVDisconnected') return 'its transaction ended with EVDisconnected';
  if (!draw || draw.atMs < stopMs) return undefined;
  for (const i of wiredPhases(connector)) {
    const value = draw.chargerA[i];
    if (value === null || value === undefined || !(value <= allowedA)) return undefined;
  }
  return 'its transaction ended and it reads no more than its new set-point';
}

/**
 * A car wants current while it is plugged in and not done: Charging, SuspendedEV (it may resume),
 * SuspendedEVSE (waiting for us); Preparing only with a transaction (authorized, not yet charging).
 */
export function carWantsCurrent(connector: Connector, runtime: ConnectorRuntime): boolean {
  switch (runtime.state?.status) {
    case 'Charging':
    case 'SuspendedEV':
    case 'SuspendedEVSE':
      // Unless its transaction ended after the status was said, and the car left.
      return !leftAfterStatus(connector, runtime);
    case 'Preparing':
    case undefined:
      return runtime.state?.transaction !== undefined;
    default:
      return false;
  }
}
