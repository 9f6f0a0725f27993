/**
 * The allocation problem and its answer: what the caller of `allocate` gives (each circuit's
 * budget, as site/circuit.ts makes it, and each connector's demand) and gets (a limit per connector
 * and what bound it), and how a problem with values that are not numbers is read on its safe side.
 */
import type { GridPhase, Triple } from '../phases';
import type { CircuitBudget } from '../site/circuit';

/** Each circuit's constraints: what its limits leave the connectors below (site/circuit.ts, the circuit's home). */
export type { CircuitBudget } from '../site/circuit';

export interface ConnectorDemand {
  /** Circuit indexes from the connector's own circuit up to its root. */
  path: readonly number[];
  /** A car wants current and may get it now; false means 0. */
  wants: boolean;
  /** Grid phases the set-point loads. */
  phases: readonly GridPhase[];
  /**
   * Grid phases it is counted on for the unbalance limit; default `phases`. A car whose phases are
   * not known yet is counted on all its phases for the capacity but on its L1 alone for the
   * unbalance: each is the worst case of its own check.
   */
  unbalancePhases?: readonly GridPhase[];
  minA: number;
  /** The most it may get now (maximum current, fallback cap, under-draw cap); below minA means 0. */
  maxA: number;
  /** Higher is served first. */
  priority: number;
  /** Lower keeps charging first when not every minimum fits (the shedding rule's order). */
  keepRank: number;
  /** Inside its minimum on time: placed before every other connector if its minimum fits. */
  keepOn: boolean;
  /** Paused now: starts only if its minimum plus the start margin fits (start hysteresis). */
  starting: boolean;
  /**
   * Paused now, what it may draw above any set-point (a charger seen offering its car more than
   * told): its start must find room for this too. Undefined: 0.
   */
  startExtraA?: number | undefined;
  /** Current it draws whatever its limit, per grid phase (offline charger, charger ignoring its limit). */
  floorA: Readonly<Triple>;
  /**
   * Where `floorA` is a count that may mean more than it draws (an energy register's: the most any
   * count of its car's phases puts on a phase, evidence/overdraw.ts): what it surely draws. That
   * count takes room from the others only: its own minimum and limit are judged beside this
   * (allocation/state.ts), so that it is never paused by a draw it may not have. Undefined: `floorA`.
   */
  ownFloorA?: Readonly<Triple> | undefined;
  /**
   * `ownFloorA`'s count was shown by a delta judged over a settled set-point (not only the count
   * before its first settled delta): where it fits a circuit alone but not beside the floors there
   * (what no limit lowers), it is not judged beside its own floor but paused (allocation/state.ts
   * violatedOwn): if the count is the truth, only its pause holds the breaker.
   */
  ownFloorJudged?: boolean | undefined;
  /** Shares the PV budget (pv and minpv modes). */
  pv: boolean;
  /** The charger's own step, where coarser than the problem's (whole amperes: 1); the rest goes to others. */
  stepA?: number | undefined;
  /**
   * A car that rests on its own (full, or waiting for its own timer): its minimum is admitted only
   * after the others have shared what there is, from what they leave (at most its minimum).
   */
  yields?: boolean | undefined;
}

export interface AllocationProblem {
  voltageV: number;
  /** Limits are rounded down to this step. */
  stepA: number;
  startMarginA: number;
  /** Indexed like the site's circuits. */
  circuits: CircuitBudget[];
  connectors: ConnectorDemand[];
  /** Power the pv/minpv connectors may use together (the PV surplus), W; Infinity for none. */
  pvBudgetW: number;
}

export type Bound =
  | { kind: 'max' }
  | { kind: 'phase'; circuit: number; phase: GridPhase }
  | { kind: 'power'; circuit: number }
  | { kind: 'chargersPower'; circuit: number }
  | { kind: 'unbalance'; circuit: number }
  | { kind: 'pv' };

/** "At its maximum": one object for every connector it holds (bounds are read, never changed). */
export const AT_MAX: Bound = Object.freeze({ kind: 'max' });

export interface ConnectorAllocation {
  limitA: number;
  /** `idle`: wants nothing; `paused`: wants current but its minimum does not fit; `charging`. */
  state: 'idle' | 'paused' | 'charging';
  /** What kept it from more (charging) or from starting (paused). */
  bound?: Bound;
}

export interface Allocation {
  connectors: ConnectorAllocation[];
}

/** A floor that is not a number: more than any circuit carries, but finite (so differences stay numbers). */
const UNBOUNDED_A = 1e12;

/**
 * The problem with every value that is not a number replaced by its safe side (see the invariant):
 * capacities by −∞, unbalance limits by 0, floors by an unbounded current, a maximum by 0 and a
 * minimum by +∞ (the connector is not served).
 */
export function sanitized(problem: AllocationProblem): AllocationProblem {
  if (isClean(problem)) return problem;
  const safe = (value: number, fallback: number) => (Number.isNaN(value) ? fallback : value);
  const NEG = Number.NEGATIVE_INFINITY;
  return {
    ...problem,
    pvBudgetW: safe(problem.pvBudgetW, NEG),
    circuits: problem.circuits.map((c) => ({
      capacityA: c.capacityA.map((v) => safe(v, NEG)) as Triple,
      capacityW: safe(c.capacityW, NEG),
      chargersCapacityW: safe(c.chargersCapacityW, NEG),
      unbalanceLimitA: Math.max(0, safe(c.unbalanceLimitA, 0)),
    })),
    connectors: problem.connectors.map((d) => ({
      ...d,
      floorA: d.floorA.map((v) =>
        Number.isFinite(v) ? v : v === Number.NEGATIVE_INFINITY ? 0 : UNBOUNDED_A,
      ) as Triple,
      // Not a number: no exemption (its floor throughout).
      ownFloorA: d.ownFloorA?.some((v) => !Number.isFinite(v)) ? undefined : d.ownFloorA,
      minA: safe(d.minA, Number.POSITIVE_INFINITY),
      maxA: safe(d.maxA, 0),
      // Not a number: it does not start.
      startExtraA: safe(d.startExtraA ?? 0, Number.POSITIVE_INFINITY),
    })),
  };
}

/** Whether every value of the problem is a number where it must be one (plain loops: read on every update). */
function isClean(problem: AllocationProblem): boolean {
  if (Number.isNaN(problem.pvBudgetW)) return false;
  for (const c of problem.circuits) {
    const [a0, a1, a2] = c.capacityA;
    if (Number.isNaN(a0) || Number.isNaN(a1) || Number.isNaN(a2)) return false;
    if (Number.isNaN(c.capacityW) || Number.isNaN(c.chargersCapacityW)) return false;
    if (Number.isNaN(c.unbalanceLimitA) || c.unbalanceLimitA === Number.NEGATIVE_INFINITY) return false;
  }
  for (const d of problem.connectors) {
    const [f0, f1, f2] = d.floorA;
    if (!Number.isFinite(f0) || !Number.isFinite(f1) || !Number.isFinite(f2)) return false;
    if (d.ownFloorA?.some((v) => !Number.isFinite(v))) return false;
    if (Number.isNaN(d.minA) || Number.isNaN(d.maxA) || Number.isNaN(d.startExtraA ?? 0)) return false;
  }
  return true;
}
