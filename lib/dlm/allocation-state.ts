/**
 * The allocator's bookkeeping: the constraints of a problem (per circuit its three phases, its
 * power and its chargers' power, and the PV budget), each connector's terms in them, the usage of
 * every constraint at the current limits, and the questions the allocation strategy asks: what
 * would a change of one connector break (`violated`)? The strategy itself is in allocate.ts.
 */
import type { AllocationProblem, Bound, ConnectorAllocation, ConnectorDemand } from './allocation-problem';
import { GRID_PHASES, type GridPhase, type Triple } from './phases';

/** Below this, a constraint is tight (the allocator works on exact sums; finer than the load manager's EPS). */
export const ALLOCATION_EPS = 1e-9;
const SLOTS = 5;

type ConstraintKind = 'phase' | 'power' | 'chargersPower' | 'pv';

export interface Constraint {
  kind: ConstraintKind;
  circuit: number;
  phase: GridPhase | undefined;
  capacity: number;
  /** Soft constraints (the PV budget) shape the sharing but never decide who may charge. */
  soft: boolean;
  /** Current consumption of everything counted (allocations and floors). */
  usage: number;
}

/** One connector's share of one constraint: coef × max(floor, allocation) on `phase`. */
interface Term {
  constraint: number;
  coef: number;
  phase: GridPhase;
  /** The connector's floor on `phase`. */
  floor: number;
  /** The connector's limit loads `phase`. */
  loads: boolean;
}

/** Constraints, terms and limits of one allocation run; the strategy (allocate.ts) extends it. */
export class AllocationState {
  protected readonly constraints: Constraint[] = [];
  /** Terms per connector; a connector not loading a phase still counts its floor there (constant). */
  protected readonly terms: Term[][] = [];
  protected readonly loads: boolean[][] = [];
  protected readonly limit: number[];
  protected readonly result: ConnectorAllocation[];
  /** Per circuit with an unbalance limit: the connectors' load per phase as the unbalance counts it. */
  protected readonly unbalanceLoads: (Triple | undefined)[];
  /** Per connector: the phases the unbalance counts it on. */
  protected readonly unbalanceOn: boolean[][] = [];

  /** Connectors the unbalance fix-up paused in this run. */
  readonly unbalancePaused = new Map<number, Bound>();

  constructor(
    protected readonly problem: AllocationProblem,
    protected readonly excluded: ReadonlyMap<number, Bound> = new Map(),
  ) {
    const { circuits, connectors, voltageV } = problem;
    // Constraint index by slot: circuit × (L1, L2, L3, power, chargers' power), then the PV budget.
    const slots = new Int32Array(circuits.length * SLOTS + 1).fill(-1);
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
      this.constraints.push({ kind, circuit, phase, capacity, soft: kind === 'pv', usage: 0 });
    };
    circuits.forEach((budget, c) => {
      for (const p of GRID_PHASES) add(c * SLOTS + p, 'phase', c, p, budget.capacityA[p]);
      add(c * SLOTS + 3, 'power', c, undefined, budget.capacityW);
      add(c * SLOTS + 4, 'chargersPower', c, undefined, budget.chargersCapacityW);
    });
    const pvSlot = circuits.length * SLOTS;
    add(pvSlot, 'pv', -1, undefined, problem.pvBudgetW);
    this.unbalanceLoads = circuits.map((budget) =>
      Number.isFinite(budget.unbalanceLimitA) ? ([0, 0, 0] as Triple) : undefined,
    );
    this.limit = connectors.map(() => 0);
    this.result = connectors.map((demand, k) => {
      const bound = excluded.get(k);
      return bound
        ? { limitA: 0, state: 'paused', bound }
        : { limitA: 0, state: demand.wants ? 'paused' : 'idle' };
    });
    connectors.forEach((demand) => {
      const loads = GRID_PHASES.map((p) => demand.phases.includes(p));
      this.loads.push(loads);
      const unbalancePhases = demand.unbalancePhases ?? demand.phases;
      this.unbalanceOn.push(GRID_PHASES.map((p) => unbalancePhases.includes(p)));
      const terms: Term[] = [];
      const push = (slot: number, coef: number, on: GridPhase) => {
        const at = slots[slot] ?? -1;
        if (at >= 0) {
          terms.push({
            constraint: at,
            coef,
            phase: on,
            floor: demand.floorA[on],
            loads: loads[on] ?? false,
          });
        }
      };
      for (const c of demand.path) {
        for (const p of GRID_PHASES) {
          push(c * SLOTS + p, 1, p);
          push(c * SLOTS + 3, voltageV, p);
          push(c * SLOTS + 4, voltageV, p);
        }
      }
      if (demand.pv) for (const p of GRID_PHASES) push(pvSlot, voltageV, p);
      this.terms.push(terms);
    });
    // Start: every connector at 0, counting only its floors.
    connectors.forEach((demand, k) => {
      for (const term of this.terms[k] ?? []) this.at(term.constraint).usage += this.termValue(term, 0);
      for (const c of demand.path) {
        const loads = this.unbalanceLoads[c];
        if (loads) for (const p of GRID_PHASES) loads[p] += demand.floorA[p];
      }
    });
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

  /** What connector k counts in a term at allocation a. */
  protected termValue(term: Term, a: number): number {
    return term.coef * Math.max(term.floor, term.loads ? a : 0);
  }

  protected setLimit(k: number, a: number): void {
    const before = this.limit[k] ?? 0;
    for (const term of this.terms[k] ?? []) {
      const constraint = this.at(term.constraint);
      constraint.usage += this.termValue(term, a) - this.termValue(term, before);
    }
    const demand = this.demand(k);
    for (const c of demand.path) {
      const loads = this.unbalanceLoads[c];
      if (loads) for (const p of GRID_PHASES) loads[p] += this.unbalanceDelta(k, p, before, a);
    }
    this.limit[k] = a;
  }

  /** How connector k's unbalance load on phase p changes from limit `from` to `to`. */
  protected unbalanceDelta(k: number, p: GridPhase, from: number, to: number): number {
    const floor = this.demand(k).floorA[p];
    const on = this.unbalanceOn[k]?.[p] ?? false;
    return Math.max(floor, on ? to : 0) - Math.max(floor, on ? from : 0);
  }

  /** The hard constraint that a change of connector k to `a` would break, if any. */
  protected violated(k: number, a: number): Bound | undefined {
    // One connector has up to three terms in a power constraint: compare the sums.
    // A connector is refused where it would add to a full constraint, and also where a constraint
    // it loads is already over (floors it cannot reduce): it must not be told to keep drawing there.
    const deltas = new Map<number, number>();
    for (const term of this.terms[k] ?? []) {
      if (!term.loads) continue;
      const delta = this.termValue(term, a) - this.termValue(term, this.limit[k] ?? 0);
      deltas.set(term.constraint, (deltas.get(term.constraint) ?? 0) + delta);
    }
    for (const [j, delta] of deltas) {
      const constraint = this.at(j);
      if (!constraint.soft && constraint.usage + delta > constraint.capacity + ALLOCATION_EPS)
        return boundOf(constraint);
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
    if (this.unbalanceOn[k]?.every(Boolean)) return undefined;
    for (const c of demand.path) {
      const limit = this.problem.circuits[c]?.unbalanceLimitA ?? Number.POSITIVE_INFINITY;
      if (!Number.isFinite(limit)) continue;
      const before = this.phaseLoads(c);
      const after: Triple = [...before];
      for (const p of GRID_PHASES) after[p] += this.unbalanceDelta(k, p, this.limit[k] ?? 0, a);
      const gapAfter = Math.max(...after) - Math.min(...after);
      const gapBefore = Math.max(...before) - Math.min(...before);
      if (gapAfter > limit + ALLOCATION_EPS && gapAfter > gapBefore + ALLOCATION_EPS)
        return { kind: 'unbalance', circuit: c };
    }
    return undefined;
  }
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
