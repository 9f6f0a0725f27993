import fc from 'fast-check';
import type { ConnectorConfig, Triple } from '../../lib/dlm/site';
import type { SimPv } from '../../sim/site';

/**
 * A PV plant behind the root meter of a closed-loop plan, as the sun's level in steps (passing
 * clouds). The truth the windows are computed from is the root's own loads minus what the plant
 * generates (`foldPv`: a cloud is an upward jump of the root's load); the simulator either plays it
 * folded into the loads (the site does not read its inverter) or as an inverter the site reads
 * (`simPv`, the plan's `pv`).
 */

const MINUTE = 60_000;

/** What the plant generates: `peakA` per phase at full sun; the sun's level (0-1) from each step on. */
export interface PlanPv {
  peakA: number;
  sun: { atMs: number; level: number }[];
  /** The inverter's reading source (the site's `pv.inverterSource`). */
  source: string;
}

type Loads = Record<string, { fromMs: number; levels: Triple }[]>;

/** The sun's steps from random minutes: the morning's level from the start, then each step on. */
export function sunSteps(morning: number, steps: { atMin: number; level: number }[]): PlanPv['sun'] {
  return [{ atMin: 0, level: morning }, ...steps]
    .sort((a, b) => a.atMin - b.atMin)
    .map((s) => ({ atMs: s.atMin * MINUTE, level: s.level }));
}

function levelAt(sun: PlanPv['sun'], atMs: number): number {
  let level = 0;
  for (const step of sun) if (step.atMs <= atMs) level = step.level;
  return level;
}

/** `loads` with the root's own loads minus what the plant generates (to 0.1 A), in steps at every change of either. */
export function foldPv(loads: Loads, rootId: string, pv: Pick<PlanPv, 'peakA' | 'sun'>): Loads {
  const own = loads[rootId] ?? [];
  const ownAt = (atMs: number): Triple => {
    let levels: Triple = [0, 0, 0];
    for (const step of own) if (step.fromMs <= atMs) levels = step.levels;
    return levels;
  };
  const times = [...new Set([0, ...own.map((s) => s.fromMs), ...pv.sun.map((s) => s.atMs)])].sort(
    (a, b) => a - b,
  );
  return {
    ...loads,
    [rootId]: times.map((fromMs) => ({
      fromMs,
      levels: ownAt(fromMs).map(
        (v) => Math.round((v - levelAt(pv.sun, fromMs) * pv.peakA) * 10) / 10,
      ) as Triple,
    })),
  };
}

/** The simulator's plant for a plan whose site reads its inverter (the same amps on each phase). */
export function simPv(pv: PlanPv, voltageV: number): SimPv {
  const peakW = pv.peakA * 3 * voltageV;
  return { peakW, profile: (atMs) => levelAt(pv.sun, atMs), source: pv.source };
}

/**
 * A closed-loop plan's PV plant as arbitraries, in draw order: its peak share of the root's limit,
 * the sun from the start, then clouds passing (or clearing) at random minutes (at most `maxSteps`),
 * and the modes of the first four connectors.
 */
export function pvPlantArbitraries(maxSteps: number) {
  return {
    peakShare: fc.double({ min: 0.3, max: 1, noNaN: true }),
    morning: fc.double({ min: 0.3, max: 1, noNaN: true }),
    sun: fc.array(
      fc.record({
        atMin: fc.integer({ min: 1, max: 24 }),
        level: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { maxLength: maxSteps },
    ),
    modes: fc.array(fc.constantFrom<ConnectorConfig['mode']>('pv', 'minpv', 'fast'), {
      minLength: 4,
      maxLength: 4,
    }),
  };
}
