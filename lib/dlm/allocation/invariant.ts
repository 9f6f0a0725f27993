/**
 * Checks the safety invariant of an allocation (stated in allocation/allocate.ts) for given limits: the load
 * manager runs it on every set of set-points before anything goes out, so a bug in the sharing or
 * in the update policy (ramps, holds) can never send a set of limits that breaks a circuit.
 */

import { GRID_PHASES, type GridPhase, phaseMask, type Triple } from '../phases';
import { countedA } from '../site/circuit';
import type { AllocationProblem } from './allocate';

export interface InvariantViolation {
  kind: 'phase' | 'power' | 'chargersPower' | 'unbalance' | 'minimum' | 'maximum';
  /** Circuit index (phase, power, unbalance) or connector index (minimum, maximum). */
  index: number;
  phase?: GridPhase;
  message: string;
}

const TOLERANCE = 1e-6;

/**
 * Every way `limitsA` breaks the invariant, each connector counted at its floors in `floorsA` where
 * given (the hold's worst case: control/pending-decreases.ts), else at the problem's. A circuit whose
 * uncontrolled load (floors) alone exceeds its capacity is not a violation as long as every
 * connector below it that loads the phase is at 0; nor where those above 0 all have an own floor
 * (ConnectorDemand.ownFloorA: a count that may mean more takes room from the others only) and it
 * holds with any one of them counted at that instead, the others at their whole count (each
 * discounts its own count, never another's; a connector given `floorsA` is counted at it), except
 * one whose count a judged delta showed (ConnectorDemand.ownFloorJudged) on a phase where the
 * floors alone exceed the capacity and its whole count there fits it alone (its pause is then what
 * holds the breaker if the count is the truth).
 * Every comparison is written so that a value that is not a number (a limit, a capacity, a floor,
 * a minimum or maximum) is a violation, never a pass: only +∞ means "no limit".
 */
export function checkAllocation(
  problem: AllocationProblem,
  limitsA: readonly number[],
  floorsA?: readonly (Triple | undefined)[],
): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const { circuits, connectors, voltageV } = problem;
  // Per circuit, in one pass over the connectors and their paths: the load per phase as the
  // capacity counts it, as the unbalance counts it (only if a circuit has an unbalance limit: no
  // other reads it), and whether a connector below is controlled (limit above 0; a limit that is
  // not a number counts as controlled, it may be anything).
  // Flat per circuit × phase (this runs several times on every update).
  const phaseLoad = new Float64Array(circuits.length * 3);
  const unbalanceLoad = new Float64Array(circuits.length * 3);
  const controlledOn = new Uint8Array(circuits.length * 3);
  const controlledAny = new Uint8Array(circuits.length);
  // Per circuit × phase: a connector above 0 without an own floor loads it (`plain`), and the least
  // that one with an own floor loading it counts there above that floor (`excess`: each may
  // discount its own count only); per circuit over the phases, `plainAny` and `powerExcess`.
  let plainOn: Uint8Array | undefined;
  let plainAny: Uint8Array | undefined;
  let excess: Float64Array | undefined;
  let powerExcess: Float64Array | undefined;
  // Per circuit × phase, what the floors alone count (every connector at 0) where a connector has
  // an own floor: over the capacity there, one whose whole count fits alone discounts nothing (if
  // its count is the truth, its pause is what holds the breaker: allocation/state.ts violatedOwn).
  const floorLoad = connectors.some((demand) => demand?.ownFloorA)
    ? floorLoads(circuits.length, connectors, floorsA)
    : undefined;
  let anyUnbalanceLimit = false;
  for (const budget of circuits)
    if (budget?.unbalanceLimitA !== Number.POSITIVE_INFINITY) anyUnbalanceLimit = true;
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
    const loads = phaseMask(demand.phases);
    const floorA = floorsA?.[k] ?? demand.floorA;
    const counted0 = countedA(floorA[0], (loads & 1) !== 0, limit);
    const counted1 = countedA(floorA[1], (loads & 2) !== 0, limit);
    const counted2 = countedA(floorA[2], (loads & 4) !== 0, limit);
    let unbalanced0 = 0;
    let unbalanced1 = 0;
    let unbalanced2 = 0;
    if (anyUnbalanceLimit) {
      const unbalancedOn = demand.unbalancePhases ? phaseMask(demand.unbalancePhases) : loads;
      unbalanced0 = countedA(floorA[0], (unbalancedOn & 1) !== 0, limit);
      unbalanced1 = countedA(floorA[1], (unbalancedOn & 2) !== 0, limit);
      unbalanced2 = countedA(floorA[2], (unbalancedOn & 4) !== 0, limit);
    }
    // A connector that counts 0 everywhere and is not controlled adds nothing (x + 0 is x).
    if (
      !isControlled &&
      counted0 === 0 &&
      counted1 === 0 &&
      counted2 === 0 &&
      unbalanced0 === 0 &&
      unbalanced1 === 0 &&
      unbalanced2 === 0
    )
      continue;
    const own = floorsA?.[k] ? undefined : demand.ownFloorA;
    if (own && !plainOn) {
      plainOn = new Uint8Array(circuits.length * 3);
      plainAny = new Uint8Array(circuits.length);
      excess = new Float64Array(circuits.length * 3).fill(Number.POSITIVE_INFINITY);
      powerExcess = new Float64Array(circuits.length).fill(Number.POSITIVE_INFINITY);
      // Those before k without one.
      for (let m = 0; m < k; m++) {
        const other = connectors[m];
        if (!other || (other.ownFloorA && !floorsA?.[m]) || !((limitsA[m] ?? 0) > TOLERANCE)) continue;
        markPlain(other.path, phaseMask(other.phases), plainOn, plainAny);
      }
    }
    if (plainOn && plainAny && excess && powerExcess && isControlled) {
      if (!own) markPlain(demand.path, loads, plainOn, plainAny);
      else {
        const e0 = counted0 - countedA(Math.min(own[0], floorA[0]), (loads & 1) !== 0, limit);
        const e1 = counted1 - countedA(Math.min(own[1], floorA[1]), (loads & 2) !== 0, limit);
        const e2 = counted2 - countedA(Math.min(own[2], floorA[2]), (loads & 4) !== 0, limit);
        for (const c of demand.path) {
          const capacityA = circuits[c]?.capacityA;
          // Its discount where the floors alone are over and its whole count alone fits: none.
          const discount = (p: GridPhase, e: number) =>
            demand.ownFloorJudged &&
            floorLoad &&
            capacityA &&
            (floorLoad[c * 3 + p] ?? 0) > capacityA[p] + TOLERANCE &&
            floorA[p] <= capacityA[p]
              ? 0
              : e;
          if (loads & 1) excess[c * 3] = Math.min(excess[c * 3] ?? 0, discount(0, e0));
          if (loads & 2) excess[c * 3 + 1] = Math.min(excess[c * 3 + 1] ?? 0, discount(1, e1));
          if (loads & 4) excess[c * 3 + 2] = Math.min(excess[c * 3 + 2] ?? 0, discount(2, e2));
          powerExcess[c] = Math.min(powerExcess[c] ?? 0, e0 + e1 + e2);
        }
      }
    }
    for (const c of demand.path) {
      const at = c * 3;
      phaseLoad[at] = (phaseLoad[at] ?? 0) + counted0;
      phaseLoad[at + 1] = (phaseLoad[at + 1] ?? 0) + counted1;
      phaseLoad[at + 2] = (phaseLoad[at + 2] ?? 0) + counted2;
      if (anyUnbalanceLimit) {
        unbalanceLoad[at] = (unbalanceLoad[at] ?? 0) + unbalanced0;
        unbalanceLoad[at + 1] = (unbalanceLoad[at + 1] ?? 0) + unbalanced1;
        unbalanceLoad[at + 2] = (unbalanceLoad[at + 2] ?? 0) + unbalanced2;
      }
      if (isControlled) {
        if (loads & 1) controlledOn[at] = 1;
        if (loads & 2) controlledOn[at + 1] = 1;
        if (loads & 4) controlledOn[at + 2] = 1;
        controlledAny[c] = 1;
      }
    }
  }
  for (let c = 0; c < circuits.length; c++) {
    const budget = circuits[c];
    if (!budget) continue;
    // (No arrays per circuit: this runs for every circuit several times on every update.)
    const load0 = phaseLoad[c * 3] ?? 0;
    const load1 = phaseLoad[c * 3 + 1] ?? 0;
    const load2 = phaseLoad[c * 3 + 2] ?? 0;
    // Over with any charging connector that has an own floor counted at it, or with one that has none.
    const counted = (at: number, value: number) =>
      plainOn && excess && plainOn[at] !== 1 ? value - finiteOr0(excess[at]) : value;
    for (const p of GRID_PHASES) {
      const value = p === 0 ? load0 : p === 1 ? load1 : load2;
      if (!(counted(c * 3 + p, value) <= budget.capacityA[p] + TOLERANCE) && controlledOn[c * 3 + p]) {
        violations.push({
          kind: 'phase',
          index: c,
          phase: p,
          message: `circuit ${c} L${p + 1}: connectors count ${value.toFixed(2)} A, capacity ${budget.capacityA[p].toFixed(2)} A`,
        });
      }
    }
    let powerW = (0 + load0 + load1 + load2) * voltageV;
    if (plainAny && powerExcess && plainAny[c] !== 1) powerW -= finiteOr0(powerExcess[c]) * voltageV;
    if (controlledAny[c]) {
      powerViolation(violations, 'power', c, powerW, budget.capacityW, voltageV);
      powerViolation(violations, 'chargersPower', c, powerW, budget.chargersCapacityW, voltageV);
    }
    if (budget.unbalanceLimitA === Number.POSITIVE_INFINITY) continue;
    const unbalance = [
      unbalanceLoad[c * 3] ?? 0,
      unbalanceLoad[c * 3 + 1] ?? 0,
      unbalanceLoad[c * 3 + 2] ?? 0,
    ];
    const high = unbalance.indexOf(Math.max(...unbalance)) as GridPhase;
    const low = unbalance.indexOf(Math.min(...unbalance)) as GridPhase;
    const gap = (unbalance[high] ?? 0) - (unbalance[low] ?? 0);
    if (gap <= budget.unbalanceLimitA + TOLERANCE && !Number.isNaN(budget.unbalanceLimitA)) continue;
    // Over the unbalance limit: a violation only if a connector the limit could lower causes it.
    const culprit = connectors.some((demand, k) => {
      const phases = demand.unbalancePhases ?? demand.phases;
      const limit = limitsA[k] ?? 0;
      return (
        demand.path.includes(c) &&
        limit > TOLERANCE &&
        phases.includes(high) &&
        !phases.includes(low) &&
        limit > (floorsA?.[k] ?? demand.floorA)[high] + TOLERANCE
      );
    });
    if (culprit) {
      violations.push({
        kind: 'unbalance',
        index: c,
        message: `circuit ${c}: connectors make L${high + 1} ${gap.toFixed(2)} A above L${low + 1}, limit ${budget.unbalanceLimitA} A`,
      });
    }
  }
  return violations;
}

/** Per circuit × phase, what every connector on it counts at 0 A (its floors alone). */
function floorLoads(
  circuitCount: number,
  connectors: AllocationProblem['connectors'],
  floorsA: readonly (Triple | undefined)[] | undefined,
): Float64Array {
  const load = new Float64Array(circuitCount * 3);
  connectors.forEach((demand, k) => {
    const floorA = floorsA?.[k] ?? demand.floorA;
    for (const c of demand.path)
      for (const p of GRID_PHASES) load[c * 3 + p] = (load[c * 3 + p] ?? 0) + countedA(floorA[p], false, 0);
  });
  return load;
}

/** A least excess found (none found: +∞, nothing to discount). */
function finiteOr0(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

/** Marks the circuits on `path` as loaded by a connector above 0 without an own floor (on the phases of `loads`). */
function markPlain(path: readonly number[], loads: number, plainOn: Uint8Array, plainAny: Uint8Array): void {
  for (const c of path) {
    plainAny[c] = 1;
    if (loads & 1) plainOn[c * 3] = 1;
    if (loads & 2) plainOn[c * 3 + 1] = 1;
    if (loads & 4) plainOn[c * 3 + 2] = 1;
  }
}

function powerViolation(
  violations: InvariantViolation[],
  kind: 'power' | 'chargersPower',
  c: number,
  powerW: number,
  capacity: number,
  voltageV: number,
): void {
  if (!(powerW <= capacity + TOLERANCE * voltageV)) {
    violations.push({
      kind,
      index: c,
      message: `circuit ${c}: connectors count ${powerW.toFixed(0)} W, ${kind} capacity ${capacity.toFixed(0)} W`,
    });
  }
}
