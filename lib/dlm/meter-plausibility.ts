/**
 * Whether a circuit meter's fresh reading is plausible: a meter that contradicts what the site
 * knows is as blind as a silent one (circuits.ts counts its circuit as blind, and names why). One
 * owner for the rules and their thresholds:
 * - **below the chargers**: a meter that counts the chargers reads less on a phase than the
 *   chargers below it draw by their own meters (a CT disconnected, a gateway's stuck cache);
 * - **negative** where nothing can export (a CT the wrong way round);
 * - **frozen**: every phase the same value, to the last digit, for `FROZEN_AFTER_MS` while the
 *   chargers below (which it counts) changed their draw (a gateway repeating its cache);
 * - **impossible**: more than `IMPOSSIBLE_FACTOR` times the breaker's limit (a wrong CT ratio).
 * The first two hold only where nothing below can generate (PV or a battery could explain them):
 * the meter says `noGenerationBelow`, or the site has no battery and no charger in a PV mode.
 */
import { GRID_PHASES, type GridPhase, type Triple } from './phases';

/** A negative current beyond this, A, is not a meter's offset. */
export const NEGATIVE_TOLERANCE_A = 1;
/** A meter may read this much (A, or this share of what they draw, whichever is more) below the chargers' own meters... */
export const BELOW_CHARGERS_TOLERANCE_A = 2;
export const BELOW_CHARGERS_TOLERANCE_SHARE = 0.1;
/** A meter whose every phase repeats its value this long, ms... */
export const FROZEN_AFTER_MS = 60_000;
/** ...while the chargers it counts changed their draw by more than this on a phase, A, is frozen. */
export const FROZEN_CHARGERS_CHANGE_A = 2;
/** A reading above this many times the circuit's limit cannot be a current the breaker carried. */
export const IMPOSSIBLE_FACTOR = 3;

/** What the plausibility check keeps of a meter between updates (part of the circuits stage's notes). */
export interface FrozenNote {
  /** The values every phase has repeated since `sinceMs`, and what the chargers below drew then. */
  values: readonly (number | undefined)[];
  sinceMs: number;
  chargersA: Triple;
}

export interface MeterJudgement {
  /** The meter's name and circuit, for the reason. */
  source: string;
  /** Each phase's newest value while fresh (undefined: stale or never read). */
  fresh: readonly ({ value: number; atMs: number } | undefined)[];
  includesChargers: boolean;
  /** Whether something below the meter may generate (PV, a battery). */
  generation: boolean;
  limitA: Triple;
  /** What the chargers below drew per grid phase when the meter measured at `atMs` (their own meters). */
  chargersAt: (atMs: number) => Triple;
  /** Whether any charger below has a fresh reading of its own (without one, "below the chargers" cannot be judged). */
  chargersMeasured: boolean;
}

/** Which rule a reading broke, and why in words. */
export interface Implausible {
  kind: 'impossible' | 'negative' | 'belowChargers' | 'frozen';
  why: string;
}

/**
 * Why the meter's reading is implausible; undefined when it is plausible. `note` is the frozen
 * check's record, updated here.
 */
export function implausibility(
  meter: MeterJudgement,
  note: { frozen?: FrozenNote },
  now: number,
): Implausible | undefined {
  const phases = GRID_PHASES.filter((p) => meter.fresh[p] !== undefined);
  if (phases.length === 0) {
    note.frozen = undefined;
    return undefined;
  }
  const name = (p: GridPhase) => `L${p + 1}`;
  for (const p of phases) {
    const value = meter.fresh[p]?.value ?? 0;
    if (Math.abs(value) > IMPOSSIBLE_FACTOR * Math.max(1, meter.limitA[p])) {
      return {
        kind: 'impossible',
        why: `${meter.source} reads ${value.toFixed(1)} A on ${name(p)}, more than ${IMPOSSIBLE_FACTOR} times the ${meter.limitA[p]} A limit: implausible (a wrong CT ratio?)`,
      };
    }
  }
  if (!meter.generation) {
    for (const p of phases) {
      const value = meter.fresh[p]?.value ?? 0;
      if (value < -NEGATIVE_TOLERANCE_A) {
        return {
          kind: 'negative',
          why: `${meter.source} reads ${value.toFixed(1)} A on ${name(p)} where nothing can export: implausible (a CT the wrong way round?)`,
        };
      }
    }
    if (meter.includesChargers && meter.chargersMeasured) {
      for (const p of phases) {
        const sample = meter.fresh[p];
        if (!sample) continue;
        const chargers = meter.chargersAt(sample.atMs)[p];
        const tolerance = Math.max(BELOW_CHARGERS_TOLERANCE_A, chargers * BELOW_CHARGERS_TOLERANCE_SHARE);
        if (sample.value < chargers - tolerance) {
          return {
            kind: 'belowChargers',
            why: `${meter.source} reads ${sample.value.toFixed(1)} A on ${name(p)} while the chargers below draw ${chargers.toFixed(1)} A by their own meters: implausible (a CT disconnected?)`,
          };
        }
      }
    }
  }
  if (!meter.includesChargers) {
    note.frozen = undefined;
    return undefined;
  }
  const values = GRID_PHASES.map((p) => meter.fresh[p]?.value);
  const newest = Math.max(...phases.map((p) => meter.fresh[p]?.atMs ?? 0));
  const frozen = note.frozen;
  if (!frozen || values.some((v, p) => v !== frozen.values[p])) {
    note.frozen = { values, sinceMs: newest, chargersA: meter.chargersAt(newest) };
    return undefined;
  }
  if (newest - frozen.sinceMs < FROZEN_AFTER_MS) return undefined;
  const nowA = meter.chargersAt(newest);
  const moved = GRID_PHASES.find((p) => Math.abs(nowA[p] - frozen.chargersA[p]) > FROZEN_CHARGERS_CHANGE_A);
  if (moved === undefined) return undefined;
  return {
    kind: 'frozen',
    why: `${meter.source} has read exactly ${values.map((v) => (v ?? 0).toFixed(2)).join('/')} A for ${Math.round((now - frozen.sinceMs) / 1000)} s while the chargers below went from ${frozen.chargersA[moved].toFixed(1)} to ${nowA[moved].toFixed(1)} A on ${name(moved)}: frozen`,
  };
}
