/**
 * A charger's own step: the one owner of that rule. Some chargers take whole amperes only
 * (Schneider EVlink and others): sent 9.8 A, they offer the car 9 A, and the 0.8 A is given to
 * nobody. Given whole amperes, the rest goes to the others. In this order:
 *
 * - the site's `stepA` for the connector (the integrator's word wins);
 * - the step its charger's model takes as the charging-profile manager says it
 *   (`ConnectorState.limitStep`: e.g. Schneider EVlink's maxIntensitySocket, whole amperes);
 * - else learned here from what the charger says it offers (OCPP `Current.Offered`):
 *
 * - A charger that reports offering the whole ampere below a set-point that is not whole (9.8 A
 *   sent, 9 A offered), in a report that came once it had its follow time to take that set-point
 *   (a report newer than the one in hand at the first update after that time), takes whole
 *   amperes: from then on it is given whole amperes (step 1 A).
 * - One that reports offering such a set-point itself (9.8 A) takes tenths: forgotten again.
 *
 * It is the charger's, not the car's: kept in the connector's record across sessions. Learned
 * wrongly (a charger that reports its offer rounded but applies tenths), it costs that charger at
 * most one ampere and never loads a breaker more (a step only rounds limits down).
 */
import type { ConnectorRuntime } from '../parts';
import { EPS } from '../phases';
import type { Connector, Site } from '../site/model';
import { followMsOf } from './overdraw';

/** A set-point this far above its whole ampere says whether the charger takes tenths, A. */
const FRACTION_A = 0.05;

/** Learns from the connector's state on every update (see the module comment). */
export function noteChargerStep(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
): void {
  const state = runtime.state;
  const changedAt = runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY;
  if (connector.stepA !== undefined || state?.limitStep !== undefined) return;
  if (now - changedAt < followMsOf(site, runtime)) return;
  // The first update after the follow time: what is in hand may have come before it.
  if (runtime.stepStaleForMs !== changedAt) {
    runtime.stepStaleForMs = changedAt;
    runtime.stepStaleState = state;
    return;
  }
  const offeredA = state?.offeredCurrentA;
  const sentA = runtime.sent?.limitA ?? 0;
  if (state === runtime.stepStaleState || offeredA === undefined || !(sentA > 0)) return;
  const wholeA = Math.floor(sentA + EPS);
  if (sentA - wholeA < FRACTION_A || sentA > connector.maxA + EPS) return;
  if (Math.abs(offeredA - wholeA) < 0.01) runtime.wholeAmpsSeen = true;
  else if (Math.abs(offeredA - sentA) < 0.01) runtime.wholeAmpsSeen = false;
}

/**
 * The charger's own step: configured, else its model's as the profile manager says it, else 1 A
 * once it was seen taking whole amperes, else none (the site's step). Only ever rounds a limit down.
 */
export function chargerStepA(connector: Connector, runtime: ConnectorRuntime): number | undefined {
  return connector.stepA ?? runtime.state?.limitStep?.stepA ?? (runtime.wholeAmpsSeen ? 1 : undefined);
}
