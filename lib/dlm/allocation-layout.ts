/**
 * What stays the same in every round of one allocation (allocate.ts starts over without the
 * connectors the unbalance fix-up paused): the constraints of the problem (per circuit its three
 * phases, its power and its chargers' power, and the PV budget), each connector's terms in them,
 * what the floors alone use, the keep order and which connectors are below a circuit. Built once
 * per `allocate` call; each round's state (allocation-state.ts) starts from copies of its sums.
 */
import type { AllocationProblem, Bound, ConnectorDemand } from './allocation-problem';
import { GRID_PHASES, type GridPhase, phaseMask, type Triple } from './phases';

const SLOTS = 5;

type ConstraintKind = 'phase' | 'power' | 'chargersPower' | 'pv';

/** What a constraint is (for the bound it names); its capacity and usage are in flat arrays. */
export interface Constraint {
  kind: ConstraintKind;
  circuit: number;
  phase: GridPhase | undefined;
}

/**
 * Every connector's shares of the constraints, flat: connector k's terms are `start[k] ..<
 * start[k + 1]`; term i counts coef × max(floor, allocation) in `constraint`, the allocation only
 * where the connector's limit `loads` that phase (typed arrays: this is built on every update).
 * A connector that wants nothing and has no floor has no terms (it counts 0 everywhere).
 */
export interface Terms {
  readonly start: Int32Array;
  readonly constraint: Int32Array;
  readonly coef: Float64Array;
  readonly floor: Float64Array;
  readonly loads: Uint8Array;
}

export class AllocationLayout {
  readonly constraints: Constraint[] = [];
  /** Per constraint: the bound it names (one object for every connector it holds). */
  readonly bounds: Bound[];
  /** Per constraint: what it allows (−∞ where nothing fits). */
  readonly capacity: Float64Array;
  /** Per constraint: soft (the PV budget) shapes the sharing but never decides who may charge. */
  readonly soft: Uint8Array;
  /** Terms per connector; a connector not loading a phase still counts its floor there (constant). */
  readonly terms: Terms;
  /** Per connector k and phase p at 3k + p: 1 where the unbalance counts it on p. */
  readonly unbalanceOn: Uint8Array;
  /** Whether any circuit has an unbalance limit (else no unbalance loads are kept). */
  readonly anyUnbalanceLimit: boolean;
  /** Per constraint: what the floors use with every connector at 0. */
  readonly floorUsage: Float64Array;
  /** Per circuit with an unbalance limit: the floors per phase as the unbalance counts them. */
  readonly unbalanceFloors: (Triple | undefined)[];
  /** Per circuit: its unbalance limit (+∞ for none). */
  readonly unbalanceLimit: Float64Array;
  /** Per connector k and phase p at 3k + p: its floor (read on every change of its limit). */
  readonly floorA: Float64Array;
  private readonly belowOf = new Map<number, number[]>();
  private keepOrder: number[] | undefined;

  constructor(private readonly problem: AllocationProblem) {
    const { circuits } = problem;
    // Constraint index by slot: circuit × (L1, L2, L3, power, chargers' power), then the PV budget.
    const slots = new Int32Array(circuits.length * SLOTS + 1).fill(-1);
    const capacities: number[] = [];
    const add = (
      slot: number,
      kind: ConstraintKind,
      circuit: number,
      phase: GridPhase | undefined,
      capacity: number,
    ) => {
      // Only +∞ means no limit; NaN and −∞ leave no room at all (never "no constraint").
      if (capacity === Number.POSITIVE_INFINITY) return;
      if (Number.isNaN(capacity)) capacity = Number.NEGATIVE_INFINITY;
      slots[slot] = this.constraints.length;
      this.constraints.push({ kind, circuit, phase });
      capacities.push(capacity);
    };
    circuits.forEach((budget, c) => {
      for (const p of GRID_PHASES) add(c * SLOTS + p, 'phase', c, p, budget.capacityA[p]);
      add(c * SLOTS + 3, 'power', c, undefined, budget.capacityW);
      add(c * SLOTS + 4, 'chargersPower', c, undefined, budget.chargersCapacityW);
    });
    const pvSlot = circuits.length * SLOTS;
    add(pvSlot, 'pv', -1, undefined, problem.pvBudgetW);
    this.capacity = Float64Array.from(capacities);
    this.bounds = this.constraints.map(boundOf);
    this.soft = new Uint8Array(capacities.length);
    for (let j = 0; j < capacities.length; j++) if (this.constraints[j]?.kind === 'pv') this.soft[j] = 1;
    this.unbalanceFloors = circuits.map((budget) =>
      Number.isFinite(budget.unbalanceLimitA) ? ([0, 0, 0] as Triple) : undefined,
    );
    this.anyUnbalanceLimit = this.unbalanceFloors.some((loads) => loads !== undefined);
    this.unbalanceLimit = Float64Array.from(circuits, (budget) => budget.unbalanceLimitA);
    this.floorA = new Float64Array(3 * problem.connectors.length);
    // The terms, what the floors alone use and the floors per phase as the unbalance counts them:
    // one pass over the connectors.
    this.floorUsage = new Float64Array(capacities.length);
    const built = buildTerms(
      problem,
      slots,
      slots[pvSlot] ?? -1,
      this.floorUsage,
      this.unbalanceFloors,
      this.floorA,
    );
    this.terms = built.terms;
    this.unbalanceOn = built.unbalanceOn;
  }

  /**
   * The connectors below circuit c that the unbalance counts on one or two phases, in index order
   * (asked for circuits with an unbalance limit): only their current can widen a phase gap, as one
   * counted on all three phases (or none) adds the same to each.
   */
  unevenBelow(c: number): readonly number[] {
    if (this.belowOf.size === 0) {
      // Every such circuit's list in one pass over the connectors' paths.
      for (let u = 0; u < this.unbalanceFloors.length; u++)
        if (this.unbalanceFloors[u]) this.belowOf.set(u, []);
      const connectors = this.problem.connectors;
      const on = this.unbalanceOn;
      for (let k = 0; k < connectors.length; k++) {
        const counted = (on[3 * k] ?? 0) + (on[3 * k + 1] ?? 0) + (on[3 * k + 2] ?? 0);
        if (counted === 0 || counted === 3) continue;
        const path = connectors[k]?.path ?? [];
        for (let at = 0; at < path.length; at++) this.belowOf.get(path[at] ?? 0)?.push(k);
      }
    }
    return this.belowOf.get(c) ?? [];
  }

  /**
   * The connectors that want current and are not `excluded`, in keep order: inside their minimum
   * on time first, then priority, then the shedding rule's rank, then index. The keys are numbers
   * kept exactly; where they are all finite the order is a total one, so the order of a round
   * is the first round's without the connectors excluded since (no sort again).
   */
  wantingInKeepOrder(excluded: ReadonlyMap<number, Bound>): number[] {
    if (this.keepOrder) return this.keepOrder.filter((k) => !excluded.has(k));
    const connectors = this.problem.connectors;
    const count = connectors.length;
    const keepOn = new Float64Array(count);
    const priority = new Float64Array(count);
    const keepRank = new Float64Array(count);
    const order: number[] = [];
    let finite = true;
    for (let k = 0; k < count; k++) {
      const demand = connectors[k];
      if (!demand?.wants || excluded.has(k)) continue;
      order.push(k);
      keepOn[k] = Number(demand.keepOn);
      priority[k] = demand.priority;
      keepRank[k] = demand.keepRank;
      finite &&=
        Number.isFinite(keepOn[k]) && Number.isFinite(demand.priority) && Number.isFinite(demand.keepRank);
    }
    if (!sortedByPackedKeys(order, keepOn, priority, keepRank))
      order.sort(
        (a, b) =>
          (keepOn[b] ?? 0) - (keepOn[a] ?? 0) ||
          (priority[b] ?? 0) - (priority[a] ?? 0) ||
          (keepRank[a] ?? 0) - (keepRank[b] ?? 0) ||
          a - b,
      );
    if (finite && excluded.size === 0) this.keepOrder = order.slice();
    return order;
  }
}

const INDEX_BITS = 2 ** 20;
const RANK_BITS = 2 ** 26;

/**
 * Sorts `order` in keep order (as wantingInKeepOrder's comparison) by one number per connector,
 * where the keys allow it (ranks whole numbers below 2^26, at most 64 priorities, fewer than 2^20
 * connectors): (group, rank, index) packed exactly below 2^53 and sorted as numbers, which is
 * several times faster than a comparison function. Returns false, leaving `order` as it is, otherwise.
 */
function sortedByPackedKeys(
  order: number[],
  keepOn: Float64Array,
  priority: Float64Array,
  keepRank: Float64Array,
): boolean {
  if (keepOn.length >= INDEX_BITS) return false;
  const priorities: number[] = [];
  for (const k of order) {
    const rank = keepRank[k] ?? 0;
    if (!Number.isInteger(rank) || rank < 0 || rank >= RANK_BITS) return false;
    const p = priority[k] ?? 0;
    if (!priorities.includes(p)) {
      if (priorities.length === 64 || !Number.isFinite(p)) return false;
      priorities.push(p);
    }
  }
  // Group: inside its minimum on time first, then the higher priority.
  priorities.sort((a, b) => b - a);
  const keys = new Float64Array(order.length);
  order.forEach((k, at) => {
    const group = (keepOn[k] ? 0 : priorities.length) + priorities.indexOf(priority[k] ?? 0);
    keys[at] = (group * RANK_BITS + (keepRank[k] ?? 0)) * INDEX_BITS + k;
  });
  keys.sort();
  for (let at = 0; at < keys.length; at++) order[at] = (keys[at] ?? 0) % INDEX_BITS;
  return true;
}

/** The typed arrays terms are written into. */
interface TermArrays {
  constraint: Int32Array;
  coef: Float64Array;
  floor: Float64Array;
  loads: Uint8Array;
}

/** Writes term n (when constraint `at` exists) and adds what its floor uses; returns the next n. */
function putTerm(
  arrays: TermArrays,
  n: number,
  at: number,
  factor: number,
  f: number,
  on: number,
  floorUsage: Float64Array,
): number {
  if (at < 0) return n;
  arrays.constraint[n] = at;
  arrays.coef[n] = factor;
  arrays.floor[n] = f;
  arrays.loads[n] = on;
  // Every connector at 0, counting only its floors (in term order, as the rounds add to it).
  floorUsage[at] = (floorUsage[at] ?? 0) + factor * Math.max(f, 0);
  return n + 1;
}

/**
 * Every connector's terms (see Terms) for the constraints at `slots` (circuit × L1, L2, L3,
 * power, chargers' power; -1 where there is none), and per connector the phases the unbalance
 * counts it on (3k + p). Adds what the floors use to `floorUsage` (per constraint) and
 * `unbalanceFloors` (per circuit with an unbalance limit); writes the floors to `floorA` (3k + p).
 */
function buildTerms(
  problem: AllocationProblem,
  slots: Int32Array,
  pvAt: number,
  floorUsage: Float64Array,
  unbalanceFloors: readonly (Triple | undefined)[],
  floorA: Float64Array,
): { terms: Terms; unbalanceOn: Uint8Array } {
  const { connectors, voltageV } = problem;
  const start = new Int32Array(connectors.length + 1);
  // How many terms a connector has per circuit on its path (a phase constraint one per phase, a
  // power constraint three), so the arrays are made once at their size.
  const termsPerCircuit = new Int32Array(problem.circuits.length);
  for (let c = 0; c < termsPerCircuit.length; c++) {
    let count = 0;
    for (let p = 0; p < 3; p++) if ((slots[c * SLOTS + p] ?? -1) >= 0) count++;
    if ((slots[c * SLOTS + 3] ?? -1) >= 0) count += 3;
    if ((slots[c * SLOTS + 4] ?? -1) >= 0) count += 3;
    termsPerCircuit[c] = count;
  }
  let size = 0;
  for (let k = 0; k < connectors.length; k++) {
    const demand = connectors[k];
    if (!demand || !counts(demand)) continue;
    const path = demand.path;
    for (let at = 0; at < path.length; at++) size += termsPerCircuit[path[at] ?? 0] ?? 0;
    if (demand.pv && pvAt >= 0) size += 3;
  }
  const arrays: TermArrays = {
    constraint: new Int32Array(size),
    coef: new Float64Array(size),
    floor: new Float64Array(size),
    loads: new Uint8Array(size),
  };
  const unbalanceOn = new Uint8Array(3 * connectors.length);
  let n = 0;
  for (let k = 0; k < connectors.length; k++) {
    const demand = connectors[k];
    if (!demand) throw new Error(`no connector ${k}`);
    start[k] = n;
    const unbalanceMask = phaseMask(demand.unbalancePhases ?? demand.phases);
    unbalanceOn[3 * k] = unbalanceMask & 1;
    unbalanceOn[3 * k + 1] = (unbalanceMask >> 1) & 1;
    unbalanceOn[3 * k + 2] = (unbalanceMask >> 2) & 1;
    const mask = phaseMask(demand.phases);
    const on0 = mask & 1;
    const on1 = (mask >> 1) & 1;
    const on2 = (mask >> 2) & 1;
    const [f0, f1, f2] = demand.floorA;
    floorA[3 * k] = f0;
    floorA[3 * k + 1] = f1;
    floorA[3 * k + 2] = f2;
    const counted = counts(demand);
    // Per circuit on the path, per phase: the phase, the power and the chargers' power.
    const path = demand.path;
    for (let at = 0; at < path.length; at++) {
      const c = path[at] ?? 0;
      for (let p = 0; counted && p < 3; p++) {
        const on = p === 0 ? on0 : p === 1 ? on1 : on2;
        const f = p === 0 ? f0 : p === 1 ? f1 : f2;
        n = putTerm(arrays, n, slots[c * SLOTS + p] ?? -1, 1, f, on, floorUsage);
        n = putTerm(arrays, n, slots[c * SLOTS + 3] ?? -1, voltageV, f, on, floorUsage);
        n = putTerm(arrays, n, slots[c * SLOTS + 4] ?? -1, voltageV, f, on, floorUsage);
      }
      const phaseLoads = unbalanceFloors[c];
      if (phaseLoads) {
        phaseLoads[0] += f0;
        phaseLoads[1] += f1;
        phaseLoads[2] += f2;
      }
    }
    if (demand.pv && counted) {
      n = putTerm(arrays, n, pvAt, voltageV, f0, on0, floorUsage);
      n = putTerm(arrays, n, pvAt, voltageV, f1, on1, floorUsage);
      n = putTerm(arrays, n, pvAt, voltageV, f2, on2, floorUsage);
    }
  }
  start[connectors.length] = n;
  return { terms: { start, ...arrays }, unbalanceOn };
}

/** A connector that wants nothing keeps its limit at 0: with no floor, it counts nothing anywhere. */
function counts(demand: ConnectorDemand): boolean {
  return demand.wants || demand.floorA[0] > 0 || demand.floorA[1] > 0 || demand.floorA[2] > 0;
}

/** What constraint `constraint` is called as a bound. */
function boundOf(constraint: Constraint): Bound {
  switch (constraint.kind) {
    case 'phase':
      return { kind: 'phase', circuit: constraint.circuit, phase: constraint.phase ?? 0 };
    case 'power':
      return { kind: 'power', circuit: constraint.circuit };
    case 'chargersPower':
      return { kind: 'chargersPower', circuit: constraint.circuit };
    case 'pv':
      return { kind: 'pv' };
  }
}
