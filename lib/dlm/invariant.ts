/**
 * Checks the safety invariant of an allocation (stated in allocate.ts) for given limits: the load
 * manager runs it on every set of set-points before anything goes out, so a bug in the sharing or
 * in the update policy (ramps, holds) can never send a set of limits that breaks a circuit.
 */
import type { AllocationProblem } from './allocate';
import { GRID_PHASES, type GridPhase } from './phases';

export interface InvariantViolation {
  kind: 'phase' | 'power' | 'chargersPower' | 'unbalance' | 'minimum' | 'maximum';
  /** Circuit index (phase, power, unbalance) or connector index (minimum, maximum). */
  index: number;
  phase?: GridPhase;
  message: string;
}

const TOLERANCE = 1e-6;

/**
 * Every way `limitsA` breaks the invariant. A circuit whose uncontrolled load (floors) alone exceeds
 * its capacity is not a violation as long as every connector below it that loads the phase is at 0.
 * Every comparison is written so that a value that is not a number (a limit, a capacity, a floor,
 * a minimum or maximum) is a violation, never a pass: only +∞ means "no limit".
 */
export function checkAllocation(
  problem: AllocationProblem,
  limitsA: readonly number[],
): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const { circuits, connectors, voltageV } = problem;
  // Per circuit, in one pass over the connectors and their paths: the load per phase as the
  // capacity counts it, as the unbalance counts it, and whether a connector below is controlled
  // (limit above 0; a limit that is not a number counts as controlled, it may be anything).
  // Flat per circuit × phase (this runs several times on every update).
  const phaseLoad = new Float64Array(circuits.length * 3);
  const unbalanceLoad = new Float64Array(circuits.length * 3);
  const controlledOn = new Uint8Array(circuits.length * 3);
  const controlledAny = new Uint8Array(circuits.length);
  const counted = [0, 0, 0];
  const unbalanced = [0, 0, 0];
  const loads = [false, false, false];
  for (let k = 0; k < connectors.length; k++) {
    const demand = connectors[k];
    if (!demand) continue;
    const limit = limitsA[k] ?? 0;
    if (!Number.isFinite(limit) || limit < 0) {
      violations.push({ kind: 'maximum', index: k, message: `connector ${k}: ${limit} A is not a current` });
    } else {
      if (limit > TOLERANCE && !(limit >= demand.minA - TOLERANCE)) {
        violations.push({
          kind: 'minimum',
          index: k,
          message: `connector ${k}: ${limit} A is below its minimum ${demand.minA} A`,
        });
      }
      if (!(limit <= Math.max(demand.maxA, 0) + TOLERANCE)) {
        violations.push({
          kind: 'maximum',
          index: k,
          message: `connector ${k}: ${limit} A is above its maximum ${demand.maxA} A`,
        });
      }
      if (limit > TOLERANCE && !demand.wants) {
        violations.push({
          kind: 'maximum',
          index: k,
          message: `connector ${k}: ${limit} A although it may not charge`,
        });
      }
    }
    const isControlled = !(limit <= TOLERANCE);
    const unbalancePhases = demand.unbalancePhases ?? demand.phases;
    for (const p of GRID_PHASES) {
      loads[p] = demand.phases.includes(p);
      counted[p] = Math.max(demand.floorA[p], loads[p] ? limit : 0);
      unbalanced[p] = Math.max(demand.floorA[p], unbalancePhases.includes(p) ? limit : 0);
    }
    for (const c of demand.path) {
      for (let p = 0; p < 3; p++) {
        phaseLoad[c * 3 + p] = (phaseLoad[c * 3 + p] ?? 0) + (counted[p] ?? 0);
        unbalanceLoad[c * 3 + p] = (unbalanceLoad[c * 3 + p] ?? 0) + (unbalanced[p] ?? 0);
        if (isControlled && loads[p]) controlledOn[c * 3 + p] = 1;
      }
      if (isControlled) controlledAny[c] = 1;
    }
  }
  circuits.forEach((budget, c) => {
    const load = [phaseLoad[c * 3] ?? 0, phaseLoad[c * 3 + 1] ?? 0, phaseLoad[c * 3 + 2] ?? 0];
    for (const p of GRID_PHASES) {
      const value = load[p] ?? 0;
      if (!(value <= budget.capacityA[p] + TOLERANCE) && controlledOn[c * 3 + p]) {
        violations.push({
          kind: 'phase',
          index: c,
          phase: p,
          message: `circuit ${c} L${p + 1}: connectors count ${value.toFixed(2)} A, capacity ${budget.capacityA[p].toFixed(2)} A`,
        });
      }
    }
    const powerW = load.reduce((sum, value) => sum + value, 0) * voltageV;
    for (const [kind, capacity] of [
      ['power', budget.capacityW],
      ['chargersPower', budget.chargersCapacityW],
    ] as const) {
      if (!(powerW <= capacity + TOLERANCE * voltageV) && controlledAny[c]) {
        violations.push({
          kind,
          index: c,
          message: `circuit ${c}: connectors count ${powerW.toFixed(0)} W, ${kind} capacity ${capacity.toFixed(0)} W`,
        });
      }
    }
    if (budget.unbalanceLimitA === Number.POSITIVE_INFINITY) return;
    const unbalance = [
      unbalanceLoad[c * 3] ?? 0,
      unbalanceLoad[c * 3 + 1] ?? 0,
      unbalanceLoad[c * 3 + 2] ?? 0,
    ];
    const high = unbalance.indexOf(Math.max(...unbalance)) as GridPhase;
    const low = unbalance.indexOf(Math.min(...unbalance)) as GridPhase;
    const gap = (unbalance[high] ?? 0) - (unbalance[low] ?? 0);
    if (gap <= budget.unbalanceLimitA + TOLERANCE && !Number.isNaN(budget.unbalanceLimitA)) return;
    // Over the unbalance limit: a violation only if a connector the limit could lower causes it.
    const culprit = connectors.some((demand, k) => {
      const phases = demand.unbalancePhases ?? demand.phases;
      const limit = limitsA[k] ?? 0;
      return (
        demand.path.includes(c) &&
        limit > TOLERANCE &&
        phases.includes(high) &&
        !phases.includes(low) &&
        limit > demand.floorA[high] + TOLERANCE
      );
    });
    if (culprit) {
      violations.push({
        kind: 'unbalance',
        index: c,
        message: `circuit ${c}: connectors make L${high + 1} ${gap.toFixed(2)} A above L${low + 1}, limit ${budget.unbalanceLimitA} A`,
      });
    }
  });
  return violations;
}
