/**
 * What stays the same in every round of one allocation (allocation/allocate.ts starts over without the
 * connectors the unbalance fix-up paused): the constraints of the problem (per circuit its three
 * phases, its power and its chargers' power, and the PV budget), each connector's terms in them,
 * what the floors alone use, the keep order and which connectors are below a circuit. Built once
 * per `allocate` call; each round's state (allocation/state.ts) starts from copies of its sums.
 */

import { GRID_PHASES, type Triple } from '../phases';
import type { AllocationProblem, Bound } from './problem';
import { buildTerms, type ConnectorArrays, SLOTS, type Terms } from './terms';

export type { ConnectorArrays, Terms } from './terms';

/** What a constraint is: the bound it names (not `max` or `unbalance`, which are no constraints). */
export type Constraint = Exclude<Bound, { kind: 'max' } | { kind: 'unbalance' }>;

export class AllocationLayout {
  /**
   * Per constraint: what it is, as the bound it names (one object for every connector it holds).
   * Its capacity and usage are in flat arrays.
   */
  readonly bounds: Constraint[] = [];
  /** Per constraint: what it allows (−∞ where nothing fits). */
  readonly capacity: Float64Array;
  /** Per constraint: soft (the PV budget) shapes the sharing but never decides who may charge. */
  readonly soft: Uint8Array;
  /** Terms per connector; a connector not loading a phase still counts its floor there (constant). */
  readonly terms: Terms;
  /** Per connector: floors, minimum, maximum, the unbalance's phases and circuits (flat). */
  readonly flat: ConnectorArrays;
  /** Whether any circuit has an unbalance limit (else no unbalance loads are kept). */
  readonly anyUnbalanceLimit: boolean;
  /** Per constraint: what the floors use with every connector at 0. */
  readonly floorUsage: Float64Array;
  /** Per circuit with an unbalance limit: the floors per phase as the unbalance counts them. */
  readonly unbalanceFloors: (Triple | undefined)[];
  /** Per circuit: its unbalance limit (+∞ for none). */
  readonly unbalanceLimit: Float64Array;
  private readonly belowOf = new Map<number, number[]>();
  private keepOrder: number[] | undefined;

  constructor(private readonly problem: AllocationProblem) {
    const { circuits } = problem;
    // Constraint index by slot: circuit × (L1, L2, L3, power, chargers' power), then the PV budget.
    const slots = new Int32Array(circuits.length * SLOTS + 1).fill(-1);
    const capacities = new Float64Array(slots.length);
    // Whether `capacity` is a limit: then the slot has the next constraint (its bound pushed next).
    const limited = (slot: number, capacity: number): boolean => {
      // Only +∞ means no limit; NaN and −∞ leave no room at all (never "no constraint").
      if (capacity === Number.POSITIVE_INFINITY) return false;
      slots[slot] = this.bounds.length;
      capacities[this.bounds.length] = Number.isNaN(capacity) ? Number.NEGATIVE_INFINITY : capacity;
      return true;
    };
    const { bounds } = this;
    circuits.forEach((budget, circuit) => {
      for (const phase of GRID_PHASES)
        if (limited(circuit * SLOTS + phase, budget.capacityA[phase]))
          bounds.push({ kind: 'phase', circuit, phase });
      if (limited(circuit * SLOTS + 3, budget.capacityW)) bounds.push({ kind: 'power', circuit });
      if (limited(circuit * SLOTS + 4, budget.chargersCapacityW))
        bounds.push({ kind: 'chargersPower', circuit });
    });
    const pvSlot = circuits.length * SLOTS;
    if (limited(pvSlot, problem.pvBudgetW)) bounds.push({ kind: 'pv' });
    const constraints = this.bounds.length;
    this.capacity = capacities.subarray(0, constraints);
    this.soft = new Uint8Array(constraints);
    // The PV budget is the one soft constraint.
    const pvAt = slots[pvSlot] ?? -1;
    if (pvAt >= 0) this.soft[pvAt] = 1;
    this.unbalanceFloors = circuits.map((budget) =>
      Number.isFinite(budget.unbalanceLimitA) ? ([0, 0, 0] as Triple) : undefined,
    );
    this.anyUnbalanceLimit = this.unbalanceFloors.some((loads) => loads !== undefined);
    this.unbalanceLimit = new Float64Array(circuits.length);
    for (let c = 0; c < circuits.length; c++)
      this.unbalanceLimit[c] = circuits[c]?.unbalanceLimitA ?? Number.POSITIVE_INFINITY;
    // The terms, what the floors alone use and the floors per phase as the unbalance counts them:
    // one pass over the connectors.
    this.floorUsage = new Float64Array(constraints);
    const built = buildTerms(problem, slots, pvAt, this.floorUsage, this.unbalanceFloors);
    this.terms = built.terms;
    this.flat = built.connectors;
  }

  /**
   * The connectors below circuit c that the unbalance counts on one or two phases, in index order
   * (asked for circuits with an unbalance limit): only their current can widen a phase gap, as one
   * counted on all three phases (or none) adds the same to each.
   */
  unevenBelow(c: number): readonly number[] {
    if (this.belowOf.size === 0) {
      // Every such circuit's list in one pass over the connectors.
      for (let u = 0; u < this.unbalanceFloors.length; u++)
        if (this.unbalanceFloors[u]) this.belowOf.set(u, []);
      const { unbalanceOn: on, unbalancePath } = this.flat;
      const count = this.problem.connectors.length;
      for (let k = 0; k < count; k++) {
        const counted = (on[3 * k] ?? 0) + (on[3 * k + 1] ?? 0) + (on[3 * k + 2] ?? 0);
        if (counted === 0 || counted === 3) continue;
        for (let at = unbalancePath.start[k] ?? 0; at < (unbalancePath.start[k + 1] ?? 0); at++)
          this.belowOf.get(unbalancePath.circuit[at] ?? 0)?.push(k);
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
    const { wants, keepOn, priority, keepRank } = this.flat;
    const count = wants.length;
    const order: number[] = [];
    let finite = true;
    const anyExcluded = excluded.size > 0;
    for (let k = 0; k < count; k++) {
      if (!wants[k] || (anyExcluded && excluded.has(k))) continue;
      order.push(k);
      finite &&= Number.isFinite(keepOn[k]) && Number.isFinite(priority[k]) && Number.isFinite(keepRank[k]);
    }
    if (!sortedByCounting(order, keepOn, priority, keepRank))
      order.sort(
        (a, b) =>
          (keepOn[b] ?? 0) - (keepOn[a] ?? 0) ||
          (priority[b] ?? 0) - (priority[a] ?? 0) ||
          (keepRank[a] ?? 0) - (keepRank[b] ?? 0) ||
          a - b,
      );
    // A connector whose floor may mean more than it draws first (allocation/state.ts violatedOwn:
    // its own minimum is judged beside what the others have not taken yet, its count then takes
    // room from theirs). Rare, and for a few readings: whom they go before is not a lasting order.
    const { owned } = this.flat;
    if (order.some((k) => owned[k] === 1)) {
      const first = order.filter((k) => owned[k] === 1);
      const rest = order.filter((k) => owned[k] !== 1);
      order.length = 0;
      order.push(...first, ...rest);
    }
    if (finite && excluded.size === 0) this.keepOrder = order.slice();
    return order;
  }
}

/**
 * Sorts `order` (ascending indexes) in keep order, as wantingInKeepOrder's comparison does, by two
 * stable counting sorts, by rank and then by group (inside its minimum on time first, then the
 * higher priority): linear where the keys allow it (ranks whole numbers below 8 per connector, as
 * the shedding rule's positions are, at most 64 priorities). Returns false, leaving `order` as it
 * is, otherwise.
 */
function sortedByCounting(
  order: number[],
  keepOn: Float64Array,
  priority: Float64Array,
  keepRank: Float64Array,
): boolean {
  const ranks = 8 * order.length + 64;
  const priorities: number[] = [];
  let highest = 0;
  // Where the ranks already ascend in index order (as where the rank is the index), the stable
  // sort by rank leaves the order as it is: it is not made.
  let ascending = true;
  let last = Number.NaN;
  for (const k of order) {
    const rank = keepRank[k] ?? 0;
    if (!Number.isInteger(rank) || rank < 0 || rank >= ranks) return false;
    if (rank < highest) ascending = false;
    if (rank > highest) highest = rank;
    const p = priority[k] ?? 0;
    // (One already listed where it is the last one's.)
    if (p !== last && !priorities.includes(p)) {
      if (priorities.length === 64 || !Number.isFinite(p)) return false;
      priorities.push(p);
    }
    last = p;
  }
  priorities.sort((a, b) => b - a);
  const byRank = ascending ? order : countingSort(order, highest + 1, (k) => keepRank[k] ?? 0);
  const byGroup = countingSort(
    byRank,
    2 * priorities.length,
    (k) => (keepOn[k] ? 0 : priorities.length) + priorities.indexOf(priority[k] ?? 0),
  );
  for (let at = 0; at < byGroup.length; at++) order[at] = byGroup[at] ?? 0;
  return true;
}

/** `items` stably sorted by `keyOf` (whole numbers below `keys`). */
function countingSort(items: ArrayLike<number>, keys: number, keyOf: (item: number) => number): Int32Array {
  const key = new Int32Array(items.length);
  const from = new Int32Array(keys + 1);
  for (let at = 0; at < items.length; at++) {
    key[at] = keyOf(items[at] ?? 0);
    from[(key[at] ?? 0) + 1] = (from[(key[at] ?? 0) + 1] ?? 0) + 1;
  }
  for (let b = 0; b < keys; b++) from[b + 1] = (from[b + 1] ?? 0) + (from[b] ?? 0);
  const sorted = new Int32Array(items.length);
  for (let at = 0; at < items.length; at++) {
    const b = key[at] ?? 0;
    sorted[from[b] ?? 0] = items[at] ?? 0;
    from[b] = (from[b] ?? 0) + 1;
  }
  return sorted;
}
