/**
 * Per-phase arithmetic of the load manager: a value per grid phase (`Triple`), the grid phases a
 * charger's phases load through its rotation, and the rounding of currents to the set-point step.
 * A leaf module (it imports no other module of the load manager), so that the site defaults and
 * every stage can use it without an import cycle.
 */
import type { PerPhase } from '../contracts';

/** A value per grid phase: index 0, 1, 2 = grid L1, L2, L3. */
export type Triple = [number, number, number];
/** A grid phase as an index into a Triple. */
export type GridPhase = 0 | 1 | 2;
export const GRID_PHASES: readonly GridPhase[] = [0, 1, 2];

/** Charger phases (0 = its L1) of a connector wired with one phase, and with three. */
export const ONE_PHASE: readonly number[] = [0];
export const THREE_PHASES: readonly number[] = [0, 1, 2];
/**
 * No floor on any phase: the one list of zeros that every connector without a floor shares (not
 * frozen, which would give it another element kind than the floors made per connector: the readonly
 * type keeps it unchanged).
 */
export const NO_FLOOR: Readonly<Triple> = [0, 0, 0];

/** Below this, two currents are the same (float noise of the ramps and sums). */
export const EPS = 1e-6;

export function triple(value: number): Triple {
  return [value, value, value];
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/**
 * The supply network (IEC 60364 earthing systems, as far as the load manager is concerned):
 * - `TN` (and TT): 3×400 V with a neutral; a charger's phase is one line conductor to the neutral
 *   at 230 V, so a single-phase car loads one line conductor.
 * - `IT`: 3×230 V without a neutral (Belgium, Norway); line to line is 230 V. A single-phase charger
 *   is connected between two line conductors: its current flows out on one and back on the other,
 *   so each of the two carries it. A three-phase charger carries its current on each of the three
 *   conductors (power √3·230·I, not 3·230·I).
 * Breakers protect conductors, so every limit is per conductor in both: the load manager's "grid
 * phase" L1, L2, L3 is a line conductor, and an IT connector's footprint is simply larger (a
 * single-phase car on two conductors), so the allocation, the invariant and the fallbacks need no
 * rule of their own. A charger's phase i on IT is taken as the branch from its conductor i to the
 * next one of its rotation (L1→L2, L2→L3, L3→L1): a single-phase connector, or a single-phase car
 * on a three-phase one, loads the conductors the rotation puts on its L1 and L2 (RST: grid L1+L2,
 * STR: L2+L3, TRS: L3+L1; RTS: L1+L3, SRT: L2+L1, TSR: L3+L2).
 */
export type Network = 'TN' | 'IT';
export const NETWORKS: readonly Network[] = ['TN', 'IT'];

/** What the phase helpers read of a connector (site-model's Connector has it). */
export interface WiredConnector {
  phases: number;
  gridPhaseOf: readonly GridPhase[];
  /** Undefined: TN. */
  network?: Network;
}

/** The charger phases the connector is wired with. */
export function wiredPhases(connector: WiredConnector): readonly number[] {
  return connector.phases === 1 ? ONE_PHASE : THREE_PHASES;
}

/** Highest of the measured `values` at the given charger phases; undefined when none is measured. */
export function maxKnown(values: PerPhase | undefined, phases: readonly number[]): number | undefined {
  let highest: number | undefined;
  if (!values) return highest;
  for (const i of phases) {
    const value = values[i as GridPhase];
    if (value !== null && value !== undefined) highest = Math.max(highest ?? value, value);
  }
  return highest;
}

/** The phases not measured taken at the highest measured one (the worst case for a floor). */
export function fillUnknown(values: PerPhase): PerPhase {
  const highest = maxKnown(values, THREE_PHASES) ?? 0;
  return values.map((v) => v ?? highest) as PerPhase;
}

/** Which of the grid phases 0, 1, 2 a list holds, as bits 1, 2, 4 (what `includes` finds, in one pass). */
export function phaseMask(phases: readonly number[]): number {
  let mask = 0;
  for (let at = 0; at < phases.length; at++) {
    const p = phases[at];
    if (p === 0) mask |= 1;
    else if (p === 1) mask |= 2;
    else if (p === 2) mask |= 4;
  }
  return mask;
}

/** Charger phases in either list, in order. */
export function union(a: readonly number[], b: readonly number[]): number[] {
  return THREE_PHASES.filter((i) => a.includes(i) || b.includes(i));
}

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Every list of grid phases in order, by the bits of its phases (one list each, shared: never changed). */
const PHASE_LISTS: readonly (readonly GridPhase[])[] = Array.from({ length: 8 }, (_, mask) =>
  GRID_PHASES.filter((p) => mask & (1 << p)),
);

/**
 * Grid phases (line conductors) the given charger phases load, in order (a shared list: read it,
 * do not change it). On IT each charger phase loads its conductor and the next one of its rotation
 * (see `Network`): one charger phase is two conductors, two or three are all three.
 */
export function gridPhasesFor(
  connector: WiredConnector,
  chargerPhases: readonly number[],
): readonly GridPhase[] {
  const it = connector.network === 'IT';
  let mask = 0;
  for (const i of chargerPhases) {
    mask |= 1 << (connector.gridPhaseOf[i as GridPhase] ?? 0);
    if (it) mask |= 1 << (connector.gridPhaseOf[((i + 1) % 3) as GridPhase] ?? 0);
  }
  return PHASE_LISTS[mask & 7] ?? [];
}

/**
 * How many conductors a car on one charger phase loads (1 on TN, 2 on IT): what its power per
 * ampere is counted on (× the site's voltageV, which is per conductor).
 */
export function onePhaseConductors(connector: WiredConnector): number {
  return connector.network === 'IT' ? 2 : 1;
}

/** The conductors a connector loads with every phase it is wired with (its fallback's, an unknown car's). */
export function conductorsOf(connector: WiredConnector): readonly GridPhase[] {
  return gridPhasesFor(connector, wiredPhases(connector));
}

/**
 * Grid phase currents of the charger's phases through its rotation (a phase not measured: 0).
 * On IT there is no neutral: what flows out on one conductor comes back on the others, so no
 * conductor carries more than the other two together (Kirchhoff). A charger that reports a
 * current on its L1 alone (a single-phase charger, or a single-phase car) has the rest come back
 * on its next conductor (L1→L2, as `gridPhasesFor` counts it): each charger phase's excess over
 * the other two is added to the next one.
 */
export function toGrid(connector: WiredConnector, chargerA: PerPhase): Triple {
  const grid = triple(0);
  if (connector.network === 'IT') {
    const a = triple(0);
    for (const i of wiredPhases(connector)) a[i as GridPhase] = chargerA[i as GridPhase] ?? 0;
    for (const i of GRID_PHASES) {
      const next = ((i + 1) % 3) as GridPhase;
      const excess = a[i] - a[next] - a[((i + 2) % 3) as GridPhase];
      if (excess > 0) a[next] += excess;
    }
    for (const i of GRID_PHASES) grid[connector.gridPhaseOf[i] ?? 0] += a[i];
    return grid;
  }
  for (const i of wiredPhases(connector))
    grid[connector.gridPhaseOf[i as GridPhase] ?? 0] += chargerA[i as GridPhase] ?? 0;
  return grid;
}

/** Down to the set-point step (a ramp never overshoots). */
export function floorStep(value: number, stepA: number): number {
  return Math.round(Math.floor((value + EPS) / stepA) * stepA * 1000) / 1000;
}

/** Up to the set-point step (a cap never cuts below what a car draws). */
export function ceilStep(value: number, stepA: number): number {
  return Math.round(Math.ceil((value - EPS) / stepA) * stepA * 1000) / 1000;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
