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

/** The charger phases the connector is wired with. */
/** What the phase helpers read of a connector (site-model's Connector has it). */
export interface WiredConnector {
  phases: number;
  gridPhaseOf: readonly GridPhase[];
}

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

/** Grid phases the given charger phases load, in order (a shared list: read it, do not change it). */
export function gridPhasesFor(
  connector: WiredConnector,
  chargerPhases: readonly number[],
): readonly GridPhase[] {
  let mask = 0;
  for (const i of chargerPhases) mask |= 1 << (connector.gridPhaseOf[i as GridPhase] ?? 0);
  return PHASE_LISTS[mask & 7] ?? [];
}

/** Grid phase currents of the charger's phases through its rotation (a phase not measured: 0). */
export function toGrid(connector: WiredConnector, chargerA: PerPhase): Triple {
  const grid = triple(0);
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
