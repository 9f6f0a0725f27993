/**
 * Checks the safety invariant of an allocation (stated in allocate.ts) for given limits: the load
 * manager runs it on every set of set-points before anything goes out, so a bug in the sharing or
 * in the update policy (ramps, holds) can never send a set of limits that breaks a circuit.
 */
import type { AllocationProblem } from './allocate';
import { GRID_PHASES, type GridPhase } from './site';

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
 */
export function checkAllocation(
  problem: AllocationProblem,
  limitsA: readonly number[],
): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const { circuits, connectors, voltageV } = problem;
  const below = circuits.map(() => [] as number[]);
  connectors.forEach((demand, k) => {
    for (const c of demand.path) below[c]?.push(k);
    const limit = limitsA[k] ?? 0;
    if (limit > TOLERANCE && limit < demand.minA - TOLERANCE) {
      violations.push({
        kind: 'minimum',
        index: k,
        message: `connector ${k}: ${limit} A is below its minimum ${demand.minA} A`,
      });
    }
    if (limit > Math.max(demand.maxA, 0) + TOLERANCE) {
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
  });
  const counted = (k: number, p: GridPhase) => {
    const demand = connectors[k];
    if (!demand) return 0;
    return Math.max(demand.floorA[p], demand.phases.includes(p) ? (limitsA[k] ?? 0) : 0);
  };
  const controlled = (k: number, p?: GridPhase) =>
    (limitsA[k] ?? 0) > TOLERANCE && (p === undefined || connectors[k]?.phases.includes(p));
  circuits.forEach((budget, c) => {
    const ks = below[c] ?? [];
    const phaseLoad = GRID_PHASES.map((p) => ks.reduce((sum, k) => sum + counted(k, p), 0));
    // The unbalance counts a connector on its unbalance phases (a car of unknown phases on its L1).
    const unbalanceLoad = GRID_PHASES.map((p) =>
      ks.reduce((sum, k) => {
        const demand = connectors[k];
        if (!demand) return sum;
        const on = (demand.unbalancePhases ?? demand.phases).includes(p);
        return sum + Math.max(demand.floorA[p], on ? (limitsA[k] ?? 0) : 0);
      }, 0),
    );
    for (const p of GRID_PHASES) {
      const load = phaseLoad[p] ?? 0;
      if (load > budget.capacityA[p] + TOLERANCE && ks.some((k) => controlled(k, p))) {
        violations.push({
          kind: 'phase',
          index: c,
          phase: p,
          message: `circuit ${c} L${p + 1}: connectors count ${load.toFixed(2)} A, capacity ${budget.capacityA[p].toFixed(2)} A`,
        });
      }
    }
    const powerW = phaseLoad.reduce((sum, value) => sum + value, 0) * voltageV;
    for (const [kind, capacity] of [
      ['power', budget.capacityW],
      ['chargersPower', budget.chargersCapacityW],
    ] as const) {
      if (powerW > capacity + TOLERANCE * voltageV && ks.some((k) => controlled(k))) {
        violations.push({
          kind,
          index: c,
          message: `circuit ${c}: connectors count ${powerW.toFixed(0)} W, ${kind} capacity ${capacity.toFixed(0)} W`,
        });
      }
    }
    if (Number.isFinite(budget.unbalanceLimitA)) {
      const high = unbalanceLoad.indexOf(Math.max(...unbalanceLoad)) as GridPhase;
      const low = unbalanceLoad.indexOf(Math.min(...unbalanceLoad)) as GridPhase;
      const gap = (unbalanceLoad[high] ?? 0) - (unbalanceLoad[low] ?? 0);
      const culprit = ks.some((k) => {
        const demand = connectors[k];
        const phases = demand?.unbalancePhases ?? demand?.phases ?? [];
        return (
          demand !== undefined &&
          (limitsA[k] ?? 0) > TOLERANCE &&
          phases.includes(high) &&
          !phases.includes(low) &&
          (limitsA[k] ?? 0) > demand.floorA[high] + TOLERANCE
        );
      });
      if (gap > budget.unbalanceLimitA + TOLERANCE && culprit) {
        violations.push({
          kind: 'unbalance',
          index: c,
          message: `circuit ${c}: connectors make L${high + 1} ${gap.toFixed(2)} A above L${low + 1}, limit ${budget.unbalanceLimitA} A`,
        });
      }
    }
  });
  return violations;
}
