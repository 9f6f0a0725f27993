/**
 * The allocator's bookkeeping: the constraints of a problem (per circuit its three phases, its
 * power and its chargers' power, and the PV budget), each connector's terms in them, the usage of
 * every constraint at the current limits, and the questions the allocation strategy asks: what
 * would a change of one connector break (`violated`)? The strategy itself is in allocate.ts.
 */
import type { AllocationProblem, Bound, ConnectorAllocation, ConnectorDemand } from './allocation-problem';
import { GRID_PHASES, type GridPhase, phaseMask, type Triple } from './phases';

/** Below this, a constraint is tight (the allocator works on exact sums; finer than the load manager's EPS). */
export const ALLOCATION_EPS = 1e-9;
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
 */
export interface Terms {
  readonly start: Int32Array;
  readonly constraint: Int32Array;
  readonly coef: Float64Array;
  readonly floor: Float64Array;
  readonly loads: Uint8Array;
}

/** Constraints, terms and limits of one allocation run; the strategy (allocate.ts) extends it. */
export class AllocationState {
  protected readonly constraints: Constraint[] = [];
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
  /** Per connector k and phase p at 3k + p: 1 where the unbalance counts it on p. */
  private readonly unbalanceOn: Uint8Array;
  // The terms' arrays (as in `terms`), read on every question.
  private readonly termConstraint: Int32Array;
  private readonly termCoef: Float64Array;
  private readonly termFloor: Float64Array;
  private readonly termLoads: Uint8Array;

  /** Connectors the unbalance fix-up paused in this run. */
  readonly unbalancePaused = new Map<number, Bound>();

  /** `violated` sums one connector's terms per constraint here (no allocation per question). */
  private readonly deltaOf: Float64Array;
  private readonly deltaStamp: Int32Array;
  private stamp = 0;
  private readonly touched: number[] = [];

  constructor(
    protected readonly problem: AllocationProblem,
    protected readonly excluded: ReadonlyMap<number, Bound> = new Map(),
  ) {
    const { circuits, connectors } = problem;
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
    this.usage = new Float64Array(capacities.length);
    this.soft = Uint8Array.from(this.constraints, (c) => (c.kind === 'pv' ? 1 : 0));
    this.unbalanceLoads = circuits.map((budget) =>
      Number.isFinite(budget.unbalanceLimitA) ? ([0, 0, 0] as Triple) : undefined,
    );
    this.anyUnbalanceLimit = this.unbalanceLoads.some((loads) => loads !== undefined);
    this.limit = new Float64Array(connectors.length);
    this.result = connectors.map((demand, k) => {
      const bound = excluded.get(k);
      return bound
        ? { limitA: 0, state: 'paused', bound }
        : { limitA: 0, state: demand.wants ? 'paused' : 'idle' };
    });
    const built = buildTerms(problem, slots, slots[pvSlot] ?? -1);
    this.terms = built.terms;
    this.unbalanceOn = built.unbalanceOn;
    this.termConstraint = this.terms.constraint;
    this.termCoef = this.terms.coef;
    this.termFloor = this.terms.floor;
    this.termLoads = this.terms.loads;
    this.deltaOf = new Float64Array(this.constraints.length);
    this.deltaStamp = new Int32Array(this.constraints.length);
    // (Each loop in its own method: one long constructor is compiled in pieces and thrown away again.)
    this.countFloors();
    if (this.anyUnbalanceLimit) this.countUnbalanceFloors();
  }

  /** Start: every connector at 0, counting only its floors. */
  private countFloors(): void {
    const constraint = this.termConstraint;
    const usage = this.usage;
    for (let i = 0; i < constraint.length; i++) {
      const j = constraint[i] ?? 0;
      usage[j] = (usage[j] ?? 0) + this.termValue(i, 0);
    }
  }

  private countUnbalanceFloors(): void {
    const connectors = this.problem.connectors;
    for (let k = 0; k < connectors.length; k++) {
      const demand = this.demand(k);
      const path = demand.path;
      for (let at = 0; at < path.length; at++) {
        const phaseLoads = this.unbalanceLoads[path[at] ?? 0];
        if (phaseLoads)
          for (let p = 0; p < 3; p++) phaseLoads[p as GridPhase] += demand.floorA[p as GridPhase];
      }
    }
  }

  protected at(j: number): Constraint {
    const constraint = this.constraints[j];
    if (!constraint) throw new Error(`no constraint ${j}`);
    return constraint;
  }

  protected demand(k: number): ConnectorDemand {
    const demand = this.problem.connectors[k];
    if (!demand) throw new Error(`no connector ${k}`);
    return demand;
  }

  /** What a connector counts in term i at allocation a. */
  protected termValue(i: number, a: number): number {
    return (this.termCoef[i] ?? 0) * Math.max(this.termFloor[i] ?? 0, this.termLoads[i] ? a : 0);
  }

  protected setLimit(k: number, a: number): void {
    const before = this.limit[k] ?? 0;
    const { start } = this.terms;
    const constraint = this.termConstraint;
    const usage = this.usage;
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      const j = constraint[i] ?? 0;
      usage[j] = (usage[j] ?? 0) + (this.termValue(i, a) - this.termValue(i, before));
    }
    this.limit[k] = a;
    if (!this.anyUnbalanceLimit) return;
    const d0 = this.unbalanceDelta(k, 0, before, a);
    const d1 = this.unbalanceDelta(k, 1, before, a);
    const d2 = this.unbalanceDelta(k, 2, before, a);
    const path = this.demand(k).path;
    for (let at = 0; at < path.length; at++) {
      const loads = this.unbalanceLoads[path[at] ?? 0];
      if (!loads) continue;
      loads[0] += d0;
      loads[1] += d1;
      loads[2] += d2;
    }
  }

  /** How connector k's unbalance load on phase p changes from limit `from` to `to`. */
  protected unbalanceDelta(k: number, p: GridPhase, from: number, to: number): number {
    const floor = this.demand(k).floorA[p];
    const on = this.unbalanceOn[3 * k + p] === 1;
    return Math.max(floor, on ? to : 0) - Math.max(floor, on ? from : 0);
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
    const loads = this.termLoads;
    const stamp = ++this.stamp;
    const touched = this.touched;
    touched.length = 0;
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      if (!loads[i]) continue;
      const j = constraint[i] ?? 0;
      const delta = this.termValue(i, a) - this.termValue(i, this.limit[k] ?? 0);
      if (this.deltaStamp[j] === stamp) this.deltaOf[j] = (this.deltaOf[j] ?? 0) + delta;
      else {
        this.deltaStamp[j] = stamp;
        this.deltaOf[j] = delta;
        touched.push(j);
      }
    }
    for (let t = 0; t < touched.length; t++) {
      const j = touched[t] ?? 0;
      if (
        !this.soft[j] &&
        (this.usage[j] ?? 0) + (this.deltaOf[j] ?? 0) > (this.capacity[j] ?? 0) + ALLOCATION_EPS
      )
        return boundOf(this.at(j));
    }
    return this.unbalanceViolated(k, a);
  }

  /** Phase loads of circuit c as the unbalance counts them. */
  protected phaseLoads(c: number): Triple {
    const loads = this.unbalanceLoads[c];
    return loads ? [...loads] : [0, 0, 0];
  }

  protected unbalanceViolated(k: number, a: number): Bound | undefined {
    const demand = this.demand(k);
    if (this.unbalanceOn[3 * k] && this.unbalanceOn[3 * k + 1] && this.unbalanceOn[3 * k + 2])
      return undefined;
    const from = this.limit[k] ?? 0;
    const path = demand.path;
    for (let at = 0; at < path.length; at++) {
      const c = path[at] ?? 0;
      const limit = this.problem.circuits[c]?.unbalanceLimitA ?? Number.POSITIVE_INFINITY;
      if (!Number.isFinite(limit)) continue;
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

/** The typed arrays terms are written into. */
interface TermArrays {
  constraint: Int32Array;
  coef: Float64Array;
  floor: Float64Array;
  loads: Uint8Array;
}

/** Writes term n (when constraint `at` exists); returns the next n. */
function putTerm(arrays: TermArrays, n: number, at: number, factor: number, f: number, on: number): number {
  if (at < 0) return n;
  arrays.constraint[n] = at;
  arrays.coef[n] = factor;
  arrays.floor[n] = f;
  arrays.loads[n] = on;
  return n + 1;
}

/**
 * Every connector's terms (see Terms) for the constraints at `slots` (circuit × L1, L2, L3,
 * power, chargers' power; -1 where there is none), and per connector the phases the unbalance
 * counts it on (3k + p).
 */
function buildTerms(
  problem: AllocationProblem,
  slots: Int32Array,
  pvAt: number,
): { terms: Terms; unbalanceOn: Uint8Array } {
  const { circuits, connectors, voltageV } = problem;
  // At most the constraints that exist per phase of each circuit on the path, and 3 PV terms.
  // Per circuit: how many of its three constraints per phase exist (most have only the phase's).
  const perPhase = new Int32Array(circuits.length);
  for (let c = 0; c < circuits.length; c++) {
    if ((slots[c * SLOTS + 3] ?? -1) >= 0) perPhase[c] = (perPhase[c] ?? 0) + 1;
    if ((slots[c * SLOTS + 4] ?? -1) >= 0) perPhase[c] = (perPhase[c] ?? 0) + 1;
  }
  let most = 0;
  for (let k = 0; k < connectors.length; k++) {
    const path = connectors[k]?.path ?? [];
    for (let at = 0; at < path.length; at++) {
      const c = path[at] ?? 0;
      for (let p = 0; p < 3; p++) most += ((slots[c * SLOTS + p] ?? -1) >= 0 ? 1 : 0) + (perPhase[c] ?? 3);
    }
    most += 3;
  }
  const start = new Int32Array(connectors.length + 1);
  const arrays: TermArrays = {
    constraint: new Int32Array(most),
    coef: new Float64Array(most),
    floor: new Float64Array(most),
    loads: new Uint8Array(most),
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
    // Per circuit on the path, per phase: the phase, the power and the chargers' power.
    const path = demand.path;
    for (let at = 0; at < path.length; at++) {
      const c = path[at] ?? 0;
      for (let p = 0; p < 3; p++) {
        const on = p === 0 ? on0 : p === 1 ? on1 : on2;
        const f = p === 0 ? f0 : p === 1 ? f1 : f2;
        n = putTerm(arrays, n, slots[c * SLOTS + p] ?? -1, 1, f, on);
        n = putTerm(arrays, n, slots[c * SLOTS + 3] ?? -1, voltageV, f, on);
        n = putTerm(arrays, n, slots[c * SLOTS + 4] ?? -1, voltageV, f, on);
      }
    }
    if (demand.pv) {
      n = putTerm(arrays, n, pvAt, voltageV, f0, on0);
      n = putTerm(arrays, n, pvAt, voltageV, f1, on1);
      n = putTerm(arrays, n, pvAt, voltageV, f2, on2);
    }
  }
  start[connectors.length] = n;
  return {
    terms: {
      start,
      constraint: arrays.constraint.subarray(0, n),
      coef: arrays.coef.subarray(0, n),
      floor: arrays.floor.subarray(0, n),
      loads: arrays.loads.subarray(0, n),
    },
    unbalanceOn,
  };
}

export function boundOf(constraint: Constraint): Bound {
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
