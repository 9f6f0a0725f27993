/**
 * The allocator's bookkeeping in one round: the usage of every constraint at the current limits
 * (the constraints and each connector's terms in them are the layout's, allocation/layout.ts,
 * shared by the rounds), and the questions the allocation strategy asks: what would a change of
 * one connector break (`violated`)? The strategy itself is in allocation/allocate.ts.
 */

import type { GridPhase, Triple } from '../phases';
import { countedA } from '../site/circuit';
import { AllocationLayout, type ConnectorArrays, type Terms } from './layout';
import {
  type AllocationProblem,
  AT_MAX,
  type Bound,
  type ConnectorAllocation,
  type ConnectorDemand,
} from './problem';

export type { Constraint, Terms } from './layout';

/** Below this, a constraint is tight (the allocator works on exact sums; finer than the load manager's EPS). */
export const ALLOCATION_EPS = 1e-9;

/** Constraints, terms and limits of one allocation run; the strategy (allocation/allocate.ts) extends it. */
export class AllocationState {
  /** Per constraint: what it allows (−∞ where nothing fits). */
  readonly capacity: Float64Array;
  /** Per constraint: the consumption of everything counted (allocations and floors). */
  readonly usage: Float64Array;
  /** Per constraint: soft (the PV budget) shapes the sharing but never decides who may charge. */
  private readonly soft: Uint8Array;
  /** Terms per connector; a connector not loading a phase still counts its floor there (constant). */
  protected readonly terms: Terms;
  protected readonly limit: Float64Array;
  protected readonly result: ConnectorAllocation[];
  /** Per circuit with an unbalance limit: the connectors' load per phase as the unbalance counts it. */
  protected readonly unbalanceLoads: (Triple | undefined)[];
  /** Whether any circuit has an unbalance limit (else no unbalance loads are kept). */
  private readonly anyUnbalanceLimit: boolean;
  /** Per connector: floors, minimum, maximum, the unbalance's phases and circuits (the layout's). */
  protected readonly flat: ConnectorArrays;
  /** At 3k + p: 1 where the unbalance counts connector k on phase p. */
  private readonly unbalanceOn: Uint8Array;
  // The terms' arrays (as in `terms`), read on every question.
  private readonly termConstraint: Int32Array;
  private readonly termPhase: Uint8Array;
  /** Per constraint: its terms' coefficient. */
  private readonly coef: Float64Array;

  /** Per constraint: terms of connectors without an own floor (ConnectorArrays.owned) whose limit is above 0. */
  private readonly plainIn: Int32Array;
  /** The connectors with an own floor (ConnectorArrays.owned), listed when first asked. */
  private ownedList: number[] | undefined;

  /** Connectors the unbalance fix-up paused in this run. */
  readonly unbalancePaused = new Map<number, Bound>();

  /** Per circuit: its unbalance limit (+∞ for none). */
  protected readonly unbalanceLimit: Float64Array;

  /** `violated` sums one connector's terms per constraint here (no allocation per question). */
  private readonly deltaOf: Float64Array;
  private readonly deltaStamp: Int32Array;
  private stamp = 0;
  /** The constraints `violated` touched, in order (at most one connector's terms). */
  private touched = new Int32Array(16);

  constructor(
    protected readonly problem: AllocationProblem,
    protected readonly excluded: ReadonlyMap<number, Bound> = new Map(),
    /** What every round of one allocation shares (built once per problem). */
    protected readonly layout: AllocationLayout = new AllocationLayout(problem),
  ) {
    const { connectors } = problem;
    this.capacity = layout.capacity;
    this.soft = layout.soft;
    // Every connector at 0, counting only its floors.
    this.usage = layout.floorUsage.slice();
    this.unbalanceLoads = layout.unbalanceFloors.map((loads) =>
      loads ? ([loads[0], loads[1], loads[2]] as Triple) : undefined,
    );
    this.anyUnbalanceLimit = layout.anyUnbalanceLimit;
    this.limit = new Float64Array(connectors.length);
    const anyExcluded = excluded.size > 0;
    // One shape for every entry, `bound` in it from the start: one added later would go to a
    // property store of its own, an allocation per connector.
    const { wants } = layout.flat;
    this.result = new Array(connectors.length);
    for (let k = 0; k < connectors.length; k++) {
      const bound = anyExcluded ? excluded.get(k) : undefined;
      this.result[k] = { limitA: 0, state: bound || wants[k] ? 'paused' : 'idle', bound };
    }
    this.terms = layout.terms;
    this.flat = layout.flat;
    this.unbalanceOn = layout.flat.unbalanceOn;
    this.termConstraint = this.terms.constraint;
    this.termPhase = this.terms.phase;
    this.coef = this.terms.coef;
    this.unbalanceLimit = layout.unbalanceLimit;
    this.plainIn = new Int32Array(layout.capacity.length);
    this.deltaOf = new Float64Array(layout.capacity.length);
    this.deltaStamp = new Int32Array(layout.capacity.length);
  }

  protected demand(k: number): ConnectorDemand {
    const demand = this.problem.connectors[k];
    if (!demand) throw new Error(`no connector ${k}`);
    return demand;
  }

  protected setLimit(k: number, a: number): void {
    const before = this.limit[k] ?? 0;
    const { start } = this.terms;
    // A connector without an own floor above 0 in a constraint: no own floor exempts there.
    const plain = this.flat.owned[k] !== 1 ? Number(a > 0) - Number(before > 0) : 0;
    const constraint = this.termConstraint;
    const phase = this.termPhase;
    const coef = this.coef;
    const floorA = this.flat.floorA;
    const usage = this.usage;
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      const j = constraint[i] ?? 0;
      const c = coef[j] ?? 0;
      const f = floorA[3 * k + (phase[i] ?? 0)] ?? 0;
      usage[j] = (usage[j] ?? 0) + termChange(c, f, before, a);
      if (plain !== 0) this.plainIn[j] = (this.plainIn[j] ?? 0) + plain;
    }
    this.limit[k] = a;
    if (!this.anyUnbalanceLimit) return;
    const d0 = this.unbalanceDelta(k, 0, before, a);
    const d1 = this.unbalanceDelta(k, 1, before, a);
    const d2 = this.unbalanceDelta(k, 2, before, a);
    if (d0 === 0 && d1 === 0 && d2 === 0) return;
    const { start: pathStart, circuit } = this.flat.unbalancePath;
    for (let at = pathStart[k] ?? 0; at < (pathStart[k + 1] ?? 0); at++) {
      const loads = this.unbalanceLoads[circuit[at] ?? 0];
      if (!loads) continue;
      loads[0] += d0;
      loads[1] += d1;
      loads[2] += d2;
    }
  }

  /** How connector k's unbalance load on phase p changes from limit `from` to `to`. */
  protected unbalanceDelta(k: number, p: GridPhase, from: number, to: number): number {
    if (this.unbalanceOn[3 * k + p] !== 1) return 0;
    const floor = this.flat.floorA[3 * k + p] ?? 0;
    return Math.max(floor, to) - Math.max(floor, from);
  }

  /** Whether the unbalance counts connector k on phase p. */
  protected unbalanceCounts(k: number, p: GridPhase): boolean {
    return this.unbalanceOn[3 * k + p] === 1;
  }

  /** The hard constraint that a change of connector k to `a` would break, if any. */
  protected violated(k: number, a: number): Bound | undefined {
    // One connector has up to three terms in a power constraint: compare the sums.
    // A connector is refused where it would add to a full constraint, and also where a constraint
    // it loads is already over (floors it cannot reduce): it must not be told to keep drawing there.
    const { start } = this.terms;
    const constraint = this.termConstraint;
    const phase = this.termPhase;
    const coef = this.coef;
    const floorA = this.flat.floorA;
    const from = this.limit[k] ?? 0;
    const first = start[k] ?? 0;
    const end = start[k + 1] ?? 0;
    if (this.flat.owned[k] === 1) return this.violatedOwn(k, a);
    if (this.flat.termsApart[k]) {
      // Each term in a constraint of its own: its sum is its delta, compared as it comes.
      for (let i = first; i < end; i++) {
        const j = constraint[i] ?? 0;
        const c = coef[j] ?? 0;
        const f = floorA[3 * k + (phase[i] ?? 0)] ?? 0;
        const delta = termChange(c, f, from, a);
        if (!this.soft[j] && (this.usage[j] ?? 0) + delta > (this.capacity[j] ?? 0) + ALLOCATION_EPS)
          return this.layout.bounds[j] ?? AT_MAX;
      }
      return this.unbalanceViolated(k, a);
    }
    if (this.touched.length < end - first) this.touched = new Int32Array(end - first);
    const touched = this.touched;
    const deltaOf = this.deltaOf;
    const deltaStamp = this.deltaStamp;
    const stamp = ++this.stamp;
    let count = 0;
    for (let i = first; i < end; i++) {
      const j = constraint[i] ?? 0;
      const c = coef[j] ?? 0;
      const f = floorA[3 * k + (phase[i] ?? 0)] ?? 0;
      const delta = termChange(c, f, from, a);
      if (deltaStamp[j] === stamp) deltaOf[j] = (deltaOf[j] ?? 0) + delta;
      else {
        deltaStamp[j] = stamp;
        deltaOf[j] = delta;
        touched[count++] = j;
      }
    }
    for (let t = 0; t < count; t++) {
      const j = touched[t] ?? 0;
      if (
        !this.soft[j] &&
        (this.usage[j] ?? 0) + (deltaOf[j] ?? 0) > (this.capacity[j] ?? 0) + ALLOCATION_EPS
      )
        return this.layout.bounds[j] ?? AT_MAX;
    }
    return this.unbalanceViolated(k, a);
  }

  /**
   * `violated` for connector k whose floor is a count that may mean more than it draws (an energy
   * register's, ConnectorDemand.ownFloorA): that count takes room from the others only. A
   * constraint refuses k where it is over with one such connector given a limit there (k at `a`)
   * counted at what it surely draws, the others at their whole count (each discounts its own count
   * only: another's may be the truth), or where one without an own floor is above 0 (they come
   * after these in keep order, allocation/layout.ts, and find the whole count taken): a charger is
   * not paused by a draw it may not have (paused, its register shows no delta that clears the
   * count: a lone three-phase car at 12 A, counted on one phase, was paused for good). What the
   * invariant checks (allocation/invariant.ts).
   */
  protected violatedOwn(k: number, a: number): Bound | undefined {
    const { start } = this.terms;
    const constraint = this.termConstraint;
    const coef = this.coef;
    const floorA = this.flat.floorA;
    const from = this.limit[k] ?? 0;
    const first = start[k] ?? 0;
    const end = start[k + 1] ?? 0;
    this.ownedList ??= this.problem.connectors.flatMap((_, m) => (this.flat.owned[m] === 1 ? [m] : []));
    for (let i = first; i < end; i++) {
      const j = constraint[i] ?? 0;
      if (this.soft[j]) continue;
      let value = this.usage[j] ?? 0;
      for (let t = first; t < end; t++)
        if (constraint[t] === j)
          value += termChange(coef[j] ?? 0, floorA[3 * k + (this.termPhase[t] ?? 0)] ?? 0, from, a);
      const capacity = this.capacity[j] ?? 0;
      if (value <= capacity + ALLOCATION_EPS) continue;
      if ((this.plainIn[j] ?? 0) > 0) return this.layout.bounds[j] ?? AT_MAX;
      // A count a judged delta showed (ConnectorDemand.ownFloorJudged), over on what no limit lowers
      // (every floor, its own whole count among them) where that count alone fits: if it is what
      // it draws, nothing the others are given makes room, and its pause does, until the others'
      // floors leave room for it again. (A count above the capacity alone is discounted: paused for
      // it, nothing would ever clear it; so is the count before its first settled delta, which that
      // delta clears if the car is at its set-point: paused, it never shows one.) A charger
      // offering 3 A more than told, its one-phase car at 9.2 A under 6 A, read by its register,
      // kept at 6 A beside a refuser's 32 A: 1 A over a 40 A breaker for 15 min (closed loop, seed
      // 16180339 path 659).
      if (
        this.flat.judged[k] === 1 &&
        (this.layout.floorUsage[j] ?? 0) > capacity + ALLOCATION_EPS &&
        this.ownCountIn(k, j) <= capacity
      )
        return this.layout.bounds[j] ?? AT_MAX;
      // Each charging connector here discounts its own excess only: the least of them.
      let least = Number.POSITIVE_INFINITY;
      for (const m of this.ownedList) {
        const limit = m === k ? a : (this.limit[m] ?? 0);
        if (limit > 0 && this.hasTerm(m, j)) least = Math.min(least, this.excessIn(m, j, limit));
      }
      if (least !== Number.POSITIVE_INFINITY) value -= least;
      if (value > capacity + ALLOCATION_EPS) return this.layout.bounds[j] ?? AT_MAX;
    }
    return this.unbalanceViolated(k, a);
  }

  /** Connector k's whole floor (its count that may mean more) in constraint j. */
  private ownCountIn(k: number, j: number): number {
    const { start } = this.terms;
    let count = 0;
    for (let t = start[k] ?? 0; t < (start[k + 1] ?? 0); t++)
      if (this.termConstraint[t] === j)
        count += (this.coef[j] ?? 0) * (this.flat.floorA[3 * k + (this.termPhase[t] ?? 0)] ?? 0);
    return count;
  }

  /** Whether connector m's limit loads constraint j (it has a term there). */
  private hasTerm(m: number, j: number): boolean {
    const { start } = this.terms;
    for (let i = start[m] ?? 0; i < (start[m + 1] ?? 0); i++) if (this.termConstraint[i] === j) return true;
    return false;
  }

  /** What connector m at `limitA` counts in constraint j above what it surely draws (its own floor). */
  private excessIn(m: number, j: number, limitA: number): number {
    const bound = this.layout.bounds[j];
    if (!bound || bound.kind === 'pv') return 0;
    const demand = this.demand(m);
    if (!demand.path.includes(bound.circuit)) return 0;
    const excess = (p: GridPhase) => {
      const loads = demand.phases.includes(p);
      const i = 3 * m + p;
      return (
        countedA(this.flat.floorA[i] ?? 0, loads, limitA) -
        countedA(this.flat.ownFloorA[i] ?? 0, loads, limitA)
      );
    };
    if (bound.kind === 'phase') return excess(bound.phase);
    return (this.coef[j] ?? 0) * (excess(0) + excess(1) + excess(2));
  }

  /** Phase loads of circuit c as the unbalance counts them. */
  protected phaseLoads(c: number): Triple {
    const loads = this.unbalanceLoads[c];
    return loads ? [...loads] : [0, 0, 0];
  }

  protected unbalanceViolated(k: number, a: number): Bound | undefined {
    if (this.unbalanceOn[3 * k] && this.unbalanceOn[3 * k + 1] && this.unbalanceOn[3 * k + 2])
      return undefined;
    const from = this.limit[k] ?? 0;
    const { start, circuit } = this.flat.unbalancePath;
    // Only circuits with an unbalance limit are on this path.
    for (let at = start[k] ?? 0; at < (start[k + 1] ?? 0); at++) {
      const c = circuit[at] ?? 0;
      const limit = this.unbalanceLimit[c] ?? Number.POSITIVE_INFINITY;
      const loads = this.unbalanceLoads[c];
      const b0 = loads ? loads[0] : 0;
      const b1 = loads ? loads[1] : 0;
      const b2 = loads ? loads[2] : 0;
      const a0 = b0 + this.unbalanceDelta(k, 0, from, a);
      const a1 = b1 + this.unbalanceDelta(k, 1, from, a);
      const a2 = b2 + this.unbalanceDelta(k, 2, from, a);
      const gapAfter = Math.max(a0, a1, a2) - Math.min(a0, a1, a2);
      const gapBefore = Math.max(b0, b1, b2) - Math.min(b0, b1, b2);
      if (gapAfter > limit + ALLOCATION_EPS && gapAfter > gapBefore + ALLOCATION_EPS)
        return { kind: 'unbalance', circuit: c };
    }
    return undefined;
  }
}

/** What a term (coefficient c, floor f) adds to its constraint when its connector's limit goes from `from` to `to`. */
function termChange(c: number, f: number, from: number, to: number): number {
  return c * Math.max(f, to) - c * Math.max(f, from);
}
