/**
 * Whether a circuit meter's fresh reading is plausible: a meter that contradicts what the site
 * knows is as blind as a silent one (evidence/circuit-view.ts counts its circuit as blind, and names why). One
 * owner for the rules and their thresholds:
 * - **below the chargers**: a meter that counts the chargers reads less on a phase than the
 *   chargers below it draw by their own meters (a CT disconnected, a gateway's stuck cache);
 * - **negative** where nothing can export (a CT the wrong way round);
 * - **zero**: a live meter (its values moved at nearly every reading) reads exactly 0 on every
 *   phase (a CT fallen off, a gateway that lost its meter and serves zeros): blind from that
 *   reading until its values move again;
 * - **frozen**: a live meter repeats every phase (and the total power) to the last digit in
 *   `FROZEN_MIN_READINGS` readings over `FROZEN_AFTER_MS` (a gateway repeating its cache); a meter
 *   that counts the chargers, also one that repeats itself while the chargers below changed their
 *   draw by their own readings, live or not;
 * - **impossible**: more than `IMPOSSIBLE_FACTOR` times the breaker's limit (a wrong CT ratio).
 *
 * A charger's own reading (its connector state's currents, or a reading of its meter) is judged
 * here too (`chargerReadingRefusal`): a value that is not a finite number, or beyond what its
 * connector's wiring can carry by a wide margin, is refused as a reading, and the charger counts
 * as not measured.
 *
 * Where something below may generate (PV, a battery) the first two could be explained by it: they
 * allow for the generation as measured (the inverter's and the battery's readings, `generationA`),
 * and are not judged only where generation is possible but not measured. A meter that says
 * `noGenerationBelow` has none.
 */
import type { PerPhase } from '../../contracts';
import { AC_CONNECTOR_MAX_A } from '../../electrical';
import { GRID_PHASES, type GridPhase, type Triple, triple } from '../phases';
import type { Connector } from '../site/model';
import { type Reason, type Said, say } from '../words';

/** A charger's own reading, per grid phase (evidence/charger-draw.ts readingsBelow gives them). */
export interface ChargerReading {
  /** The connector's index. */
  key: number;
  atMs: number;
  gridA: Readonly<Triple>;
  /** A register's delta: the average since then. */
  fromMs?: number;
  /** A register's delta: how much more than `gridA` its step lets it be, per grid phase. */
  spanA?: Readonly<Triple>;
}

/** A negative current beyond this, A, is not a meter's offset. */
export const NEGATIVE_TOLERANCE_A = 1;
/** A meter may read this much (A, or this share of what they draw, whichever is more) below the chargers' own meters... */
export const BELOW_CHARGERS_TOLERANCE_A = 2;
export const BELOW_CHARGERS_TOLERANCE_SHARE = 0.1;
/**
 * A meter that has shown itself live (`LIVE_SHARE` of its last `LIVE_WINDOW` readings changed some
 * value's last digit: a real load and the mains voltage are never that still) and then repeats
 * every value, to the last digit, over this long, ms, in at least `FROZEN_MIN_READINGS` readings,
 * is frozen. A meter whose readings often repeat (a coarse resolution, a flow that sends the same
 * values) is never judged by this: see docs/load-manager.md.
 */
export const FROZEN_AFTER_MS = 10_000;
export const FROZEN_MIN_READINGS = 3;
export const LIVE_WINDOW = 20;
export const LIVE_SHARE = 0.8;
/**
 * A meter that counts the chargers and repeats its values this long, ms, while the chargers below
 * changed their draw (`FROZEN_CHARGERS_CHANGE_A`), is frozen whether or not it was seen live.
 * Their draw is what their own readings say, readings taken while the meter repeated itself only:
 * not what the load manager counts them at (that moves with their set-points, their status and
 * the age of their readings while nothing drawn changes: 862 false firings in one run of
 * closed-loop-fixed/closed-loop-20261123-9542.json, a truthful meter), nor a reading from before
 * (a charger that followed a set-point after its last reading had changed before the meter's values began to repeat).
 */
export const FROZEN_WHILE_CHARGERS_MOVE_MS = 60_000;
/**
 * A meter that counts the chargers repeating itself while, by their readings, they changed their
 * draw on a phase by more than this, A, plus the meter's resolution (`resolutionOf`).
 */
export const FROZEN_CHARGERS_CHANGE_A = 2;

/** A reading above this many times the circuit's limit cannot be a current the breaker carried. */
export const IMPOSSIBLE_FACTOR = 3;

/**
 * A charger's reading of more than this, A, and more than `IMPOSSIBLE_FACTOR` times its
 * connector's `maxA`, is no current its wiring carried: half as much again as the most any AC
 * connector is rated for (`AC_CONNECTOR_MAX_A`), so a charger whose `maxA` is set below what its
 * hardware carries and that ignores its limit (a 32 A charger set to 6 A drawing 32 A) is still
 * counted at what it draws (evidence/overdraw.ts), and a meter's error, harmonics and a car's
 * inrush (milliseconds, not a sample's average) are far inside it. 10 times a 16 A or 32 A
 * connector's maximum is beyond it; so is a reading that is not a number at all (1e308, NaN).
 */
export const CHARGER_IMPOSSIBLE_FLOOR_A = 1.5 * AC_CONNECTOR_MAX_A;

/** The most current a charger's reading may show on a phase before it is refused as impossible, A. */
export function chargerImpossibleA(connector: Pick<Connector, 'maxA'>): number {
  return Math.max(IMPOSSIBLE_FACTOR * connector.maxA, CHARGER_IMPOSSIBLE_FLOOR_A);
}

/** What of a charger's reading is refused (`chargerReadingRefusal`), and why. */
export interface ChargerRefusal {
  /** The first refused value in words, naming the charger. */
  why: Reason;
  /** The charger phases (0..2) whose values are refused: taken as not measured. */
  phases: number[];
  /** Its current without a phase is refused. */
  unphased: boolean;
}

/**
 * Which values of a charger's reading (its currents per phase, or without a phase) cannot be a
 * current its connector carried: a number that is not a finite one (NaN, an infinity), or one
 * whose size is beyond `chargerImpossibleA` (either sign: a negative current is no free room
 * either). Each refused value is taken as not measured (a phase not measured counts at the
 * connector's set-point), the others stay evidence (a plausible phase above the set-point is still
 * an overdraw). Undefined when every value is plausible. Values that are not numbers at all are
 * the input boundary's (dlm/inputs.ts: taken as not measured).
 */
export function chargerReadingRefusal(
  connector: Pick<Connector, 'key' | 'maxA'>,
  currentA: unknown,
  unphasedA: unknown,
): ChargerRefusal | undefined {
  const boundA = chargerImpossibleA(connector);
  const judge = (value: unknown, where: Said): Reason | undefined => {
    if (typeof value !== 'number') return undefined;
    if (!Number.isFinite(value))
      return [say('chargerNotFinite', { key: connector.key, value: String(value), where: [where] })];
    if (Math.abs(value) > boundA)
      return [
        say('chargerBeyondWiring', {
          key: connector.key,
          value: formatAmps(value),
          where: [where],
          boundA,
          maxA: connector.maxA,
        }),
      ];
    return undefined;
  };
  let refusal: ChargerRefusal | undefined;
  if (Array.isArray(currentA)) {
    for (let p = 0; p < currentA.length && p < 3; p++) {
      const why = judge(currentA[p], say('onPhase', { phase: p + 1 }));
      if (!why) continue;
      refusal ??= { why, phases: [], unphased: false };
      refusal.phases.push(p);
    }
  }
  const why = judge(unphasedA, say('withoutAPhase'));
  if (why) {
    refusal ??= { why, phases: [], unphased: false };
    refusal.unphased = true;
  }
  return refusal;
}

/**
 * `currentA` (checked by the input boundary) with the phases `refusal` refused taken as not
 * measured; undefined stays undefined.
 */
export function withoutRefused(currentA: PerPhase | undefined, refusal: ChargerRefusal | undefined) {
  if (!currentA || !refusal || refusal.phases.length === 0) return currentA;
  const kept = [...currentA] as PerPhase;
  for (const p of refusal.phases) kept[p as GridPhase] = null;
  return kept;
}

/** A current in words: tenths where it is small enough to be read so, else its exponent. */
function formatAmps(value: number): string {
  return Math.abs(value) < 1e6 ? value.toFixed(1) : value.toExponential(2);
}

/** What the plausibility check keeps of a meter between updates (part of the circuits stage's notes). */
export interface FrozenNote {
  /** The values every phase (and the total power) has repeated since `sinceMs`, and what the chargers below drew then. */
  values: readonly (number | undefined)[];
  sinceMs: number;
  /** The newest reading's time, and how many readings have repeated the values. */
  lastMs: number;
  readings: number;
  /**
   * By connector index: the first and the newest reading of each charger below that the meter
   * read while the charger held it, the meter repeating itself (noteChargerReadings), per grid phase.
   */
  chargers: Map<number, { first: ChargerReading; last: ChargerReading }>;
  /** Whether the meter had shown itself live when the values began to repeat. */
  live: boolean;
}

/** What the check keeps of a meter between updates (part of the circuits stage's notes). */
export interface PlausibilityNote {
  frozen?: FrozenNote;
  /** Per reading, newest in bit 0: whether it changed some value (the last `LIVE_WINDOW`). */
  changedBits?: number;
  /** Readings counted into `changedBits` (up to `LIVE_WINDOW`). */
  bitsKept?: number;
}

export interface MeterJudgement {
  /** The meter's name and circuit, for the reason. */
  /** The meter in words (`meter "x" of zone`). */
  source: Reason;
  /** Each phase's newest value while fresh (undefined: stale or never read). */
  fresh: readonly ({ value: number; atMs: number } | undefined)[];
  /** The total power of the newest reading, if it carried one (compared by the frozen rule). */
  powerW?: number;
  includesChargers: boolean;
  /**
   * What may generate below the meter: `none`; per grid phase the most it generates now as
   * measured, A (the inverter's and the battery's fresh readings); or `unmeasured`.
   */
  generation: 'none' | 'unmeasured' | { perPhaseA: Triple };
  limitA: Triple;
  /** What the chargers below drew per grid phase when the meter measured at `atMs` (their own meters). */
  chargersAt: (atMs: number) => Triple;
  /** The readings of the chargers below that their histories hold (evidence/charger-draw.ts). */
  chargerReadings: () => readonly ChargerReading[];
  /** Whether any charger below has a fresh reading of its own (without one, "below the chargers" cannot be judged). */
  chargersMeasured: boolean;
}

/** Which rule a reading broke, and why in words. */
export interface Implausible {
  kind: 'impossible' | 'negative' | 'belowChargers' | 'zero' | 'frozen';
  why: Reason;
}

/**
 * Why the meter's reading is implausible; undefined when it is plausible. `note` is the check's
 * record of the meter, updated here.
 */
export function implausibility(
  meter: MeterJudgement,
  note: PlausibilityNote,
  now: number,
): Implausible | undefined {
  const phases = GRID_PHASES.filter((p) => meter.fresh[p] !== undefined);
  if (phases.length === 0) {
    note.frozen = undefined;
    return undefined;
  }
  for (const p of phases) {
    const value = meter.fresh[p]?.value ?? 0;
    if (Math.abs(value) > IMPOSSIBLE_FACTOR * Math.max(1, meter.limitA[p])) {
      return {
        kind: 'impossible',
        why: [
          say('wrongRatio', {
            source: meter.source,
            value: value.toFixed(1),
            phase: p + 1,
            factor: IMPOSSIBLE_FACTOR,
            limit: meter.limitA[p],
          }),
        ],
      };
    }
  }
  noteValues(meter, note, phases);
  const zero = zeroRule(meter, note, phases);
  if (zero) return zero;
  const generation = meter.generation;
  if (generation !== 'unmeasured') {
    const generatedA = (p: GridPhase) => (generation === 'none' ? 0 : generation.perPhaseA[p]);
    for (const p of phases) {
      const value = meter.fresh[p]?.value ?? 0;
      if (value < -NEGATIVE_TOLERANCE_A - generatedA(p)) {
        return {
          kind: 'negative',
          why: [
            generation === 'none'
              ? say('nothingExports', { source: meter.source, value: value.toFixed(1), phase: p + 1 })
              : say('moreExport', {
                  source: meter.source,
                  value: value.toFixed(1),
                  phase: p + 1,
                  generated: generatedA(p).toFixed(1),
                }),
          ],
        };
      }
    }
    if (meter.includesChargers && meter.chargersMeasured) {
      for (const p of phases) {
        const sample = meter.fresh[p];
        if (!sample) continue;
        const chargers = meter.chargersAt(sample.atMs)[p];
        const tolerance = Math.max(BELOW_CHARGERS_TOLERANCE_A, chargers * BELOW_CHARGERS_TOLERANCE_SHARE);
        const generated = generatedA(p);
        if (sample.value < chargers - generated - tolerance) {
          return {
            kind: 'belowChargers',
            why: [
              generated > 0
                ? say('belowChargersGenerated', {
                    source: meter.source,
                    value: sample.value.toFixed(1),
                    phase: p + 1,
                    chargersA: chargers.toFixed(1),
                    generated: generated.toFixed(1),
                  })
                : say(generation === 'none' ? 'belowChargers' : 'belowChargersNoneMeasured', {
                    source: meter.source,
                    value: sample.value.toFixed(1),
                    phase: p + 1,
                    chargersA: chargers.toFixed(1),
                  }),
            ],
          };
        }
      }
    }
  }
  return frozenRule(meter, note, now);
}

/**
 * A live meter (`LIVE_SHARE` of its readings moved) that reads exactly 0 on every phase: its
 * values stopped moving at the one value a lost CT or a gateway that lost its meter gives.
 */
function zeroRule(
  meter: MeterJudgement,
  note: PlausibilityNote,
  phases: GridPhase[],
): Implausible | undefined {
  if (!note.frozen?.live || phases.length < GRID_PHASES.length) return undefined;
  if (phases.some((p) => meter.fresh[p]?.value !== 0) || (meter.powerW ?? 0) !== 0) return undefined;
  return {
    kind: 'zero',
    why: [say('allZero', { source: meter.source })],
  };
}

/** Notes a reading's values: whether they changed, and whether the meter was live when they began to repeat. */
function noteValues(meter: MeterJudgement, note: PlausibilityNote, phases: GridPhase[]): void {
  const values = [...GRID_PHASES.map((p) => meter.fresh[p]?.value), meter.powerW];
  const newest = Math.max(...phases.map((p) => meter.fresh[p]?.atMs ?? 0));
  const frozen = note.frozen;
  const changed = !frozen || values.some((v, i) => v !== frozen.values[i]);
  if (frozen && newest <= frozen.lastMs) return;
  note.changedBits = (((note.changedBits ?? 0) << 1) | (changed ? 1 : 0)) & ((1 << LIVE_WINDOW) - 1);
  note.bitsKept = Math.min(LIVE_WINDOW, (note.bitsKept ?? 0) + 1);
  if (!frozen || changed) {
    note.frozen = {
      values,
      sinceMs: newest,
      lastMs: newest,
      readings: 1,
      chargers: new Map(),
      live: isLive(note),
    };
  } else {
    // What the chargers below held when the meter read before this repeat (judged now: a reading
    // of theirs taken by then may arrive after the meter's).
    const heldAtMs = frozen.lastMs;
    frozen.lastMs = newest;
    frozen.readings += 1;
    if (meter.includesChargers) noteChargerReadings(frozen, meter.chargerReadings(), heldAtMs);
  }
}

/**
 * The same values to the last digit: for `FROZEN_AFTER_MS` in `FROZEN_MIN_READINGS` readings after
 * the meter showed itself live, or, for a meter that counts the chargers, for
 * `FROZEN_WHILE_CHARGERS_MOVE_MS` while the chargers below changed their draw.
 */
function frozenRule(meter: MeterJudgement, note: PlausibilityNote, now: number): Implausible | undefined {
  const frozen = note.frozen;
  if (!frozen) return undefined;
  // (In words only when the rule holds: this runs at every update of every meter.)
  const shown = () =>
    frozen.values
      .slice(0, 3)
      .map((v) => (v ?? 0).toFixed(2))
      .join('/');
  const seconds = Math.round((now - frozen.sinceMs) / 1000);
  const forMs = frozen.lastMs - frozen.sinceMs;
  if (frozen.live && forMs >= FROZEN_AFTER_MS && frozen.readings >= FROZEN_MIN_READINGS) {
    return {
      kind: 'frozen',
      why: [say('frozenReadings', { source: meter.source, shown: shown(), n: frozen.readings, s: seconds })],
    };
  }
  if (!meter.includesChargers || forMs < FROZEN_WHILE_CHARGERS_MOVE_MS) return undefined;
  // By their own readings, taken while the meter repeated itself: how far they moved per phase.
  const fromA = triple(0);
  const toA = triple(0);
  // What their registers' steps let two readings of an unchanged draw differ by (IT seed 9611 path
  // 1311: an energy-only charger read every 5 s in whole Wh, steady at 7.1 A, read 9.4 and 12.5 A
  // by turns; the grid meter rightly stood still, was judged frozen, its other loads taken at their
  // configured fallback, and a car raised into 1.2 A over the breaker for 5 s).
  const stepsA = triple(0);
  for (const { first, last } of frozen.chargers.values()) {
    for (const p of GRID_PHASES) {
      fromA[p] += first.gridA[p];
      toA[p] += last.gridA[p];
      stepsA[p] += (first.spanA?.[p] ?? 0) + (last.spanA?.[p] ?? 0);
    }
  }
  const beyondA = FROZEN_CHARGERS_CHANGE_A + resolutionOf(frozen.values);
  const moved = GRID_PHASES.find((p) => Math.abs(toA[p] - fromA[p]) > beyondA + stepsA[p]);
  if (moved === undefined) return undefined;
  return {
    kind: 'frozen',
    why: [
      say('frozenWhileChargers', {
        source: meter.source,
        shown: shown(),
        s: seconds,
        from: fromA[moved].toFixed(1),
        to: toA[moved].toFixed(1),
        phase: moved + 1,
      }),
    ],
  };
}

/**
 * Keeps each charger's first and newest reading that the meter read while the charger held it:
 * taken after the meter's values began to repeat (`sinceMs`), and still the charger's newest when
 * the meter read at `heldAtMs` (one of its repeats). A reading its charger's next one replaced
 * before the meter read again shows a level the meter never had the chance to see: IT seed 9703
 * path 1126, a charger offering 3 A more than told followed 6 A and, a second later, 0 A (the load
 * manager had changed its mind within a second), and read 9 A then 0 A; the meter that counts it,
 * read every 2 s, saw neither, stood rightly at 16/0/16 A and was judged frozen "while the chargers
 * below went from 9.0 to 0.0 A", and its circuit fell back to its configured other loads for as
 * long as the meter stayed at those values (its readings set aside when the charger later drew
 * 9 A under 6 A).
 * Kept in the note: a charger's history holds only its last few. `readings` come grouped by
 * charger, each charger's oldest first (readingsBelow).
 */
function noteChargerReadings(
  frozen: FrozenNote,
  readings: readonly ChargerReading[],
  heldAtMs: number,
): void {
  for (let i = 0; i < readings.length; i++) {
    const reading = readings[i] as ChargerReading;
    if (reading.atMs <= frozen.sinceMs || reading.atMs > heldAtMs) continue;
    // Replaced by the same charger's next reading at or before the meter read: not held then (at
    // the same instant, the meter may show the newer level).
    const next = readings[i + 1];
    if (next && next.key === reading.key && next.atMs <= heldAtMs) continue;
    // A register's delta that began before the meter repeated itself averages what the charger
    // drew before too: it does not show a move while the meter stood still (issue 45's home
    // layout, seed 500983: an energy-only charger's delta spanning its decrease read 14.8 A, the next
    // 11.2 A, while the grid meter rightly stood at 39.03 A; judged frozen, the other loads' peak
    // was learned at 38.2 A and a keeper beside it held at 24.8 A all day).
    if (reading.fromMs !== undefined && reading.fromMs < frozen.sinceMs) continue;
    const kept = frozen.chargers.get(reading.key);
    if (!kept) frozen.chargers.set(reading.key, { first: reading, last: reading });
    else if (reading.atMs < kept.first.atMs) kept.first = reading;
    else if (reading.atMs > kept.last.atMs) kept.last = reading;
  }
}

/**
 * The finest step a meter's current is taken to be read to, A (hundredths: a reading rounded to
 * them may be up to half of it below what flows; circuit-view.ts counts that half).
 */
export const FINEST_METER_STEP_A = 0.01;

/**
 * The meter's resolution as its repeated values show it, A: the step of their last digit (1 A
 * for whole amperes, 0.1 A, at least FINEST_METER_STEP_A). The coarsest they allow: a meter that
 * rounds to 1 A may hide a change of up to that much.
 */
export function resolutionOf(values: readonly (number | undefined)[]): number {
  let resolution = FINEST_METER_STEP_A;
  for (const step of [1, 0.1]) {
    if (
      values.slice(0, 3).every((v) => v === undefined || Math.abs(v / step - Math.round(v / step)) < 1e-6)
    ) {
      resolution = step;
      break;
    }
  }
  return resolution;
}

/** Whether `LIVE_SHARE` of the meter's last `LIVE_WINDOW` readings changed some value. */
function isLive(note: PlausibilityNote): boolean {
  if ((note.bitsKept ?? 0) < LIVE_WINDOW) return false;
  let bits = note.changedBits ?? 0;
  let changes = 0;
  while (bits) {
    changes += bits & 1;
    bits >>>= 1;
  }
  return changes >= LIVE_SHARE * LIVE_WINDOW;
}
