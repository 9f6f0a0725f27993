/**
 * What the allocator reads of each connector on every question, flat (allocation-layout.ts builds
 * it once per `allocate` call): its terms in the constraints, and its floors, minimum, maximum, the
 * phases the unbalance counts it on and the circuits with an unbalance limit on its path. Typed
 * arrays indexed by connector, so that the rounds do not go back to the problem's objects (at
 * 5,000 connectors, reading those was a cache miss a question).
 */
import type { AllocationProblem, ConnectorDemand } from './allocation-problem';
import { phaseMask, type Triple } from './phases';

/** Constraint slots per circuit: L1, L2, L3, power, chargers' power. */
export const SLOTS = 5;

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

/** Per connector, flat. */
export interface ConnectorArrays {
  /** Floor per phase p at 3k + p. */
  readonly floorA: Float64Array;
  readonly minA: Float64Array;
  readonly maxA: Float64Array;
  /** At 3k + p: 1 where the unbalance counts connector k on phase p. */
  readonly unbalanceOn: Uint8Array;
  /** The circuits with an unbalance limit on k's path, in path order: `circuit[start[k] ..< start[k + 1]]`. */
  readonly unbalancePath: { readonly start: Int32Array; readonly circuit: Int32Array };
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
  // Every connector at 0, counting only its floors (in term order, as the rounds add to it; a
  // floor of 0 adds nothing).
  if (f > 0) floorUsage[at] = (floorUsage[at] ?? 0) + factor * f;
  return n + 1;
}

/**
 * Every connector's terms (see Terms) for the constraints at `slots` (circuit × L1, L2, L3,
 * power, chargers' power; -1 where there is none) and its flat values (ConnectorArrays). Adds what
 * the floors use to `floorUsage` (per constraint) and `unbalanceFloors` (per circuit with an
 * unbalance limit).
 */
export function buildTerms(
  problem: AllocationProblem,
  slots: Int32Array,
  pvAt: number,
  floorUsage: Float64Array,
  unbalanceFloors: readonly (Triple | undefined)[],
): { terms: Terms; connectors: ConnectorArrays } {
  const { connectors, voltageV } = problem;
  const count = connectors.length;
  const start = new Int32Array(count + 1);
  // How many terms a connector has per circuit on its path (a phase constraint one per phase, a
  // power constraint three), so the arrays are made once at their size.
  const termsPerCircuit = new Int32Array(problem.circuits.length);
  for (let c = 0; c < termsPerCircuit.length; c++) {
    let terms = 0;
    for (let p = 0; p < 3; p++) if ((slots[c * SLOTS + p] ?? -1) >= 0) terms++;
    if ((slots[c * SLOTS + 3] ?? -1) >= 0) terms += 3;
    if ((slots[c * SLOTS + 4] ?? -1) >= 0) terms += 3;
    termsPerCircuit[c] = terms;
  }
  let size = 0;
  let unbalanceSize = 0;
  for (let k = 0; k < count; k++) {
    const demand = connectors[k];
    if (!demand) continue;
    const path = demand.path;
    const counted = counts(demand);
    for (let at = 0; at < path.length; at++) {
      const c = path[at] ?? 0;
      if (counted) size += termsPerCircuit[c] ?? 0;
      if (unbalanceFloors[c]) unbalanceSize++;
    }
    if (counted && demand.pv && pvAt >= 0) size += 3;
  }
  const arrays: TermArrays = {
    constraint: new Int32Array(size),
    coef: new Float64Array(size),
    floor: new Float64Array(size),
    loads: new Uint8Array(size),
  };
  const flat = {
    floorA: new Float64Array(3 * count),
    minA: new Float64Array(count),
    maxA: new Float64Array(count),
    unbalanceOn: new Uint8Array(3 * count),
    unbalancePath: { start: new Int32Array(count + 1), circuit: new Int32Array(unbalanceSize) },
  };
  let n = 0;
  let u = 0;
  for (let k = 0; k < count; k++) {
    const demand = connectors[k];
    if (!demand) throw new Error(`no connector ${k}`);
    start[k] = n;
    flat.unbalancePath.start[k] = u;
    flat.minA[k] = demand.minA;
    flat.maxA[k] = demand.maxA;
    const unbalanceMask = phaseMask(demand.unbalancePhases ?? demand.phases);
    flat.unbalanceOn[3 * k] = unbalanceMask & 1;
    flat.unbalanceOn[3 * k + 1] = (unbalanceMask >> 1) & 1;
    flat.unbalanceOn[3 * k + 2] = (unbalanceMask >> 2) & 1;
    const mask = phaseMask(demand.phases);
    const on0 = mask & 1;
    const on1 = (mask >> 1) & 1;
    const on2 = (mask >> 2) & 1;
    const [f0, f1, f2] = demand.floorA;
    flat.floorA[3 * k] = f0;
    flat.floorA[3 * k + 1] = f1;
    flat.floorA[3 * k + 2] = f2;
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
        flat.unbalancePath.circuit[u++] = c;
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
  start[count] = n;
  flat.unbalancePath.start[count] = u;
  return { terms: { start, ...arrays }, connectors: flat };
}

/** A connector that wants nothing keeps its limit at 0: with no floor, it counts nothing anywhere. */
function counts(demand: ConnectorDemand): boolean {
  return demand.wants || demand.floorA[0] > 0 || demand.floorA[1] > 0 || demand.floorA[2] > 0;
}
