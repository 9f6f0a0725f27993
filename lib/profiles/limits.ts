/**
 * Limits as the profile manager compares and combines them: a current per phase and, when known,
 * the phases it is for. Pure functions.
 */

export interface Target {
  /** A per phase, rounded for the charger; 0 is a pause. */
  limitA: number;
  /** Phases the limit is for, when the set-point said. */
  phases?: number;
}

export function sameTarget(a: Target, b: Target): boolean {
  return a.limitA === b.limitA && a.phases === b.phases;
}

/**
 * The current per grid phase a target allows (unknown phases count as three: a car may use them
 * all). L1 first, as a single-phase car loads the first phase of its connector.
 */
export function phaseCurrentsA(target: Target): [number, number, number] {
  const phases = target.phases ?? 3;
  return [0, 1, 2].map((index) => (index < phases ? target.limitA : 0)) as [number, number, number];
}

/**
 * Whether `next` raises the current on some phase and lowers it on none: only such a change may
 * wait (the rate limit for increases). A change that lowers any phase, or the current per phase,
 * protects a breaker and goes at once, even when another phase goes up with it (16 A × 1 → 6 A × 3).
 */
export function isPureIncrease(next: Target, last: Target): boolean {
  if (next.limitA < last.limitA) return false;
  const before = phaseCurrentsA(last);
  const after = phaseCurrentsA(next);
  let raised = false;
  for (let index = 0; index < 3; index++) {
    const a = after[index] as number;
    const b = before[index] as number;
    if (a < b - 1e-9) return false;
    if (a > b + 1e-9) raised = true;
  }
  return raised;
}

/** Whether `next` lowers the current on any phase (or per phase) compared with `last`. */
export function lowersAnyPhase(next: Target, last: Target): boolean {
  if (next.limitA < last.limitA - 1e-9) return true;
  const before = phaseCurrentsA(last);
  return phaseCurrentsA(next).some((currentA, index) => currentA < (before[index] as number) - 1e-9);
}

/** One connector's part in a charger-wide limit. */
export interface ConnectorShare {
  connectorId: number;
  target: Target;
  /** Phases the car on it uses, where known (set-point, meter, wiring). */
  knownPhases?: number;
}

/**
 * The limit for a charger-wide method (ChargePointMaxProfile, a vendor key such as EVlink's
 * maxIntensitySocket), which caps every connector of the charger alike.
 *
 * The choice is the safe one: the lowest limit among every connector that has one (connector 0's
 * included, charging or not). A charger shares a ChargePointMaxProfile among its connectors as it
 * likes (3.13.3 only bounds the sum): any single connector may get all of it, so anything above the
 * lowest allocation can give some connector more than the load manager allowed it, idle connectors
 * included, as a car may arrive before the next set-point. A sum of allocations (per phase) would
 * be safe only if the charger enforced each connector's share itself, which nothing in OCPP 1.6
 * promises. The price: connectors with higher allocations get the lowest one while this method is
 * in use; the composite schedule then reports them `lower`.
 *
 * In W the charger divides by the phases the car uses: `wattPhases` is the fewest phases any
 * connector is known to use, 1 where one is unknown, so that no car gets more per phase.
 */
export function chargerWideLimit(
  shares: readonly ConnectorShare[],
): { limitA: number; wattPhases: number } | undefined {
  if (shares.length === 0) return undefined;
  let limitA = Number.POSITIVE_INFINITY;
  let wattPhases = 3;
  for (const share of shares) {
    limitA = Math.min(limitA, share.target.limitA);
    wattPhases = Math.min(wattPhases, share.knownPhases ?? 1);
  }
  return { limitA, wattPhases };
}
