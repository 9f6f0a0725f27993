/**
 * What the allocator reads of each connector on every question, flat (allocation/layout.ts builds
 * it once per `allocate` call): its terms in the constraints, and its floors, minimum, maximum, the
 * phases the unbalance counts it on and the circuits with an unbalance limit on its path. Typed
 * arrays indexed by connector, so that the rounds do not go back to the problem's objects (at
 * 5,000 connectors, reading those was a cache miss a question).
 */

import { phaseMask, type Triple } from '../phases';
import type { AllocationProblem } from './problem';

/** Constraint slots per circuit: L1, L2, L3, power, chargers' power. */
export const SLOTS = 5;

/**
 * Every connector's shares of the constraints, flat: connector k's terms are `start[k] ..<
 * start[k + 1]`; term i counts coef[constraint] × max(floor, allocation) in `constraint`, its floor
 * being the connector's on the term's `phase` (ConnectorArrays' floorA at 3k + phase). Only the
 * terms on a phase the connector's limit loads are listed: a term on another phase counts its
 * floor whatever the limit, which the floors' usage (buildTerms) already holds. A connector that
 * wants nothing and has no floor has no terms (it counts 0 everywhere). Typed arrays: this is
 * built on every update.
 */
export interface Terms {
  readonly start: Int32Array;
  readonly constraint: Int32Array;
  readonly phase: Uint8Array;
  /** Per constraint: every term's coefficient in it (1 in a phase, the voltage in a power limit or the PV budget). */
  readonly coef: Float64Array;
  /** Per connector k and grid phase p, at 3k + p: its floor (the same array as ConnectorArrays' floorA). */
  readonly floorA: Float64Array;
}

/** The floor of term i, of connector k. */
export function floorOf(terms: Terms, k: number, i: number): number {
  return terms.floorA[3 * k + (terms.phase[i] ?? 0)] ?? 0;
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
  /** 1 where it wants current. */
  readonly wants: Uint8Array;
  /** 1 where it is paused now (its `starting`). */
  readonly starting: Uint8Array;
  /** How many grid phases its set-point lists (up to 255). */
  readonly phaseCount: Uint8Array;
  /** Its keep order's keys: inside its minimum on time (as a number), priority and rank. */
  readonly keepOn: Float64Array;
  readonly priority: Float64Array;
  readonly keepRank: Float64Array;
  /** 1 where each of its terms is in a constraint of its own (none in a power limit or the PV budget, no circuit twice on its path). */
  readonly termsApart: Uint8Array;
  /**
   * Per phase p at 3k + p, what it surely draws where its floor is a count that may mean more
   * (ConnectorDemand.ownFloorA), else its floor; `owned` is 1 for such a connector. Its own
   * questions are answered beside this (allocation/state.ts).
   */
  readonly ownFloorA: Float64Array;
  readonly owned: Uint8Array;
  /** 1 where its own floor's count was shown by a judged delta (ConnectorDemand.ownFloorJudged). */
  readonly judged: Uint8Array;
}

/**
 * Per circuit c and grid phase p, the constraints a connector's current on p counts in, in term
 * order (the phase, the power, the chargers' power; those that exist), each with its coefficient:
 * `at[first[3c + p] ..< first[3c + p + 1]]`.
 */
interface PhaseTerms {
  first: Int32Array;
  at: Int32Array;
  coef: Float64Array;
}

function phaseTermsOf(slots: Int32Array, circuits: number, voltageV: number): PhaseTerms {
  const first = new Int32Array(3 * circuits + 1);
  const at = new Int32Array(9 * circuits);
  const coef = new Float64Array(9 * circuits);
  let n = 0;
  for (let c = 0; c < circuits; c++) {
    for (let p = 0; p < 3; p++) {
      first[3 * c + p] = n;
      // Slot p (the phase, coefficient 1), then 3 and 4 (the power and the chargers' power, the voltage).
      for (let slot = p; slot < SLOTS; slot = slot < 3 ? 3 : slot + 1) {
        const j = slots[c * SLOTS + slot] ?? -1;
        if (j < 0) continue;
        at[n] = j;
        coef[n++] = slot < 3 ? 1 : voltageV;
      }
    }
  }
  first[3 * circuits] = n;
  return { first, at, coef };
}

/**
 * What a path gives every connector on it: its terms on all three phases in term order (per
 * circuit on the path, per phase: the phase, the power and the chargers' power), whether they are
 * apart (no power limit on the path, no circuit twice on it) and its circuits with an unbalance
 * limit. The connectors of one circuit come one after another: each after the first takes these
 * as they are, instead of walking the circuits again.
 */
interface PathTerms {
  path: readonly number[];
  constraint: Int32Array;
  phase: Uint8Array;
  count: number;
  apart: number;
  unbalance: Int32Array;
  unbalanceCount: number;
}

/** `along` made over for `path`. */
function walkPath(
  along: PathTerms,
  path: readonly number[],
  slots: Int32Array,
  phaseTerms: PhaseTerms,
  unbalanceFloors: readonly (Triple | undefined)[],
): void {
  const { first, at: phaseAt } = phaseTerms;
  if (along.constraint.length < 9 * path.length) {
    along.constraint = new Int32Array(9 * path.length);
    along.phase = new Uint8Array(9 * path.length);
    along.unbalance = new Int32Array(path.length);
  }
  const { constraint, phase, unbalance } = along;
  let n = 0;
  let u = 0;
  let apart = 1;
  for (let at = 0; at < path.length; at++) {
    const c = path[at] ?? 0;
    if (apart && ((slots[c * SLOTS + 3] ?? -1) >= 0 || (slots[c * SLOTS + 4] ?? -1) >= 0)) apart = 0;
    for (let before = 0; apart && before < at; before++) if (path[before] === c) apart = 0;
    let e = first[3 * c] ?? 0;
    for (let p = 0; p < 3; p++) {
      for (const end = first[3 * c + p + 1] ?? 0; e < end; e++) {
        constraint[n] = phaseAt[e] ?? 0;
        phase[n++] = p;
      }
    }
    if (unbalanceFloors[c]) unbalance[u++] = c;
  }
  along.path = path;
  along.count = n;
  along.apart = apart;
  along.unbalanceCount = u;
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let at = 0; at < a.length; at++) if (a[at] !== b[at]) return false;
  return true;
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
  const phaseTerms = phaseTermsOf(slots, problem.circuits.length, voltageV);
  const { first, at: phaseAt, coef: phaseCoef } = phaseTerms;
  // The most terms a circuit on a path adds (and 3 for the PV budget): the arrays are made for
  // every connector having the first one's path and loading all three phases, and grow (by
  // doubling) for a connector that could not have its terms written in the room left.
  let widest = 0;
  for (let c = 0; 3 * c < first.length - 1; c++)
    widest = Math.max(widest, (first[3 * c + 3] ?? 0) - (first[3 * c] ?? 0));
  const firstPath = connectors[0]?.path ?? [];
  let size = 0;
  let unbalanceSize = 0;
  for (const c of firstPath) {
    size += (first[3 * c + 3] ?? 0) - (first[3 * c] ?? 0);
    if (unbalanceFloors[c]) unbalanceSize++;
  }
  // (With room for the last connector's terms at most, so that they do not make them grow.)
  const room = count * size + widest * firstPath.length + 3;
  let constraint = new Int32Array(room);
  let phase = new Uint8Array(room);
  let unbalanceCircuit = new Int32Array(count * unbalanceSize + firstPath.length);
  const flat = {
    floorA: new Float64Array(3 * count),
    minA: new Float64Array(count),
    maxA: new Float64Array(count),
    unbalanceOn: new Uint8Array(3 * count),
    unbalancePath: { start: new Int32Array(count + 1), circuit: unbalanceCircuit },
    wants: new Uint8Array(count),
    starting: new Uint8Array(count),
    phaseCount: new Uint8Array(count),
    keepOn: new Float64Array(count),
    priority: new Float64Array(count),
    keepRank: new Float64Array(count),
    termsApart: new Uint8Array(count),
    ownFloorA: new Float64Array(3 * count),
    owned: new Uint8Array(count),
    judged: new Uint8Array(count),
  };
  const { floorA, unbalanceOn, minA, maxA, wants, starting, phaseCount, keepOn, priority, keepRank } = flat;
  const unbalanceStart = flat.unbalancePath.start;
  // The coefficient per constraint: 1 in a phase, the voltage in the others.
  const coef = new Float64Array(floorUsage.length);
  for (let e = 0; e < (first[first.length - 1] ?? 0); e++) coef[phaseAt[e] ?? 0] = phaseCoef[e] ?? 0;
  if (pvAt >= 0) coef[pvAt] = voltageV;
  const along: PathTerms = {
    path: [],
    constraint: new Int32Array(0),
    phase: new Uint8Array(0),
    count: 0,
    apart: 1,
    unbalance: new Int32Array(0),
    unbalanceCount: 0,
  };
  let n = 0;
  let u = 0;
  for (let k = 0; k < count; k++) {
    const demand = connectors[k];
    if (!demand) throw new Error(`no connector ${k}`);
    const path = demand.path;
    if (n + widest * path.length + 3 > constraint.length) {
      const more = Math.max(2 * constraint.length, n + widest * path.length + 3);
      constraint = grown(constraint, new Int32Array(more));
      phase = grown(phase, new Uint8Array(more));
    }
    if (u + path.length > unbalanceCircuit.length)
      unbalanceCircuit = grown(
        unbalanceCircuit,
        new Int32Array(Math.max(2 * unbalanceCircuit.length, u + path.length)),
      );
    start[k] = n;
    unbalanceStart[k] = u;
    minA[k] = demand.minA;
    maxA[k] = demand.maxA;
    wants[k] = demand.wants ? 1 : 0;
    starting[k] = demand.starting ? 1 : 0;
    phaseCount[k] = Math.min(demand.phases.length, 255);
    keepOn[k] = Number(demand.keepOn);
    priority[k] = demand.priority;
    keepRank[k] = demand.keepRank;
    const mask = phaseMask(demand.phases);
    const unbalanceMask = demand.unbalancePhases ? phaseMask(demand.unbalancePhases) : mask;
    unbalanceOn[3 * k] = unbalanceMask & 1;
    unbalanceOn[3 * k + 1] = (unbalanceMask >> 1) & 1;
    unbalanceOn[3 * k + 2] = (unbalanceMask >> 2) & 1;
    const floors = demand.floorA;
    const f0 = floors[0];
    const f1 = floors[1];
    const f2 = floors[2];
    floorA[3 * k] = f0;
    floorA[3 * k + 1] = f1;
    floorA[3 * k + 2] = f2;
    const own = demand.ownFloorA;
    flat.owned[k] = own ? 1 : 0;
    flat.judged[k] = own && demand.ownFloorJudged ? 1 : 0;
    flat.ownFloorA[3 * k] = own ? Math.min(own[0], f0) : f0;
    flat.ownFloorA[3 * k + 1] = own ? Math.min(own[1], f1) : f1;
    flat.ownFloorA[3 * k + 2] = own ? Math.min(own[2], f2) : f2;
    // A connector that wants nothing keeps its limit at 0: with no floor, it counts nothing anywhere.
    const counted = demand.wants || f0 > 0 || f1 > 0 || f2 > 0;
    if (path !== along.path && !samePath(path, along.path))
      walkPath(along, path, slots, phaseTerms, unbalanceFloors);
    // Apart unless a constraint gets more than one of its terms: a power limit on its path or the
    // PV budget (a term per phase each), or a circuit twice on its path.
    const apart = demand.pv && counted && pvAt >= 0 ? 0 : along.apart;
    if (counted) {
      // Only the terms on a phase the limit loads are kept.
      for (let t = 0; t < along.count; t++) {
        const p = along.phase[t] ?? 0;
        if (!((mask >> p) & 1)) continue;
        constraint[n] = along.constraint[t] ?? 0;
        phase[n++] = p;
      }
      // Every term counts its floor in the constraint with every connector at 0 (in term order, as
      // the rounds add to it; a floor of 0 adds nothing).
      if (f0 > 0 || f1 > 0 || f2 > 0) {
        for (let t = 0; t < along.count; t++) {
          const p = along.phase[t] ?? 0;
          const f = p === 0 ? f0 : p === 1 ? f1 : f2;
          const j = along.constraint[t] ?? 0;
          if (f > 0) floorUsage[j] = (floorUsage[j] ?? 0) + (coef[j] ?? 0) * f;
        }
      }
    }
    for (let at = 0; at < along.unbalanceCount; at++) {
      const c = along.unbalance[at] ?? 0;
      const phaseLoads = unbalanceFloors[c];
      if (!phaseLoads) continue;
      unbalanceCircuit[u++] = c;
      phaseLoads[0] += f0;
      phaseLoads[1] += f1;
      phaseLoads[2] += f2;
    }
    flat.termsApart[k] = apart;
    if (demand.pv && counted && pvAt >= 0) {
      for (let p = 0; p < 3; p++) {
        const f = p === 0 ? f0 : p === 1 ? f1 : f2;
        if ((mask >> p) & 1) {
          constraint[n] = pvAt;
          phase[n++] = p;
        }
        if (f > 0) floorUsage[pvAt] = (floorUsage[pvAt] ?? 0) + voltageV * f;
      }
    }
  }
  start[count] = n;
  unbalanceStart[count] = u;
  const terms = {
    start,
    constraint: constraint.subarray(0, n),
    phase: phase.subarray(0, n),
    coef,
    floorA,
  };
  flat.unbalancePath.circuit = unbalanceCircuit.subarray(0, u);
  return { terms, connectors: flat };
}

/** `into` with `from` copied to its start. */
function grown<T extends Int32Array | Float64Array | Uint8Array>(from: T, into: T): T {
  into.set(from);
  return into;
}
