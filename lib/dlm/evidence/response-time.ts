/**
 * How long a charger takes to follow a change of its limit: the one owner of that time. Learned per
 * charger from its own decreases (from the decrease going out to the first reading of its own that
 * shows it followed: an upper bound of the true time, since readings come at intervals), kept
 * across restarts with the load manager's memory, and for a charger never seen following one the
 * conservative start value `control.decreaseSettleMs`.
 *
 * Only decreases the car had to follow teach anything: a car that already drew less than its new
 * limit shows "followed" in its next reading whatever the charger does.
 */
import type { Site } from '../site/model';

/** The learned time is this much above the slowest of the samples (readings are seconds apart). */
const MARGIN = 1.25;
/** A learned time is never shorter than this (a car's own ramp takes a few seconds). */
export const MIN_FOLLOW_MS = 5_000;
/** Nor longer than this: a charger slower than 3 minutes is a charger that did not follow. */
export const MAX_FOLLOW_MS = 180_000;
/** The samples kept per charger (the slowest of them counts). */
const SAMPLES = 5;
/**
 * One sample never shortens the start value: a charger that applies whatever limit it
 * holds on its own cycle follows anywhere within that cycle, and one decrease that went out late in
 * it (or replaced a rise still on its way) shows a fraction of it. Issue 45's car park (seed 500983,
 * fleet following): a charger following in 33 s, paused 27 s after a rise, applied the pause 6 s
 * after it went out; 7.5 s learned from that one sample, its next pause was judged an overdraw 11 s
 * in, and held at 0 A it waited 4.7 h for its car to leave. (Three cost the chargers that follow in
 * 1-10 s on the mixed car park of that seed 88.8 -> 87.2 %: they wait 60 s the longer.)
 */
const SAMPLES_TO_SHORTEN = 2;

/** What is kept of the learned times across restarts: per charge point, its samples in ms. */
export type ResponseTimesMemory = Record<string, number[]>;

export class ResponseTimes {
  private readonly samples = new Map<string, number[]>();
  /** Changed since the memory was last taken (`memory`). */
  dirty = false;

  /**
   * How long the charger may take to follow a change: the slowest of its last decreases plus a
   * margin, bounded; the site's start value for a charger never seen following one, and at least
   * that until a second decrease was seen.
   */
  followMs(site: Site, chargePointId: string): number {
    const samples = this.samples.get(chargePointId);
    if (!samples || samples.length === 0) return site.control.decreaseSettleMs;
    const learned = Math.min(MAX_FOLLOW_MS, Math.max(MIN_FOLLOW_MS, Math.max(...samples) * MARGIN));
    return samples.length < SAMPLES_TO_SHORTEN ? Math.max(learned, site.control.decreaseSettleMs) : learned;
  }

  /** Whether the charger's time was learned (the reasons say "learned" or "not seen yet"). */
  learned(chargePointId: string): boolean {
    return (this.samples.get(chargePointId)?.length ?? 0) > 0;
  }

  /** A decrease the car had to follow was shown followed `ms` after it went out. */
  note(chargePointId: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const list = this.samples.get(chargePointId) ?? [];
    list.push(Math.round(ms));
    if (list.length > SAMPLES) list.shift();
    this.samples.set(chargePointId, list);
    this.dirty = true;
  }

  memory(): ResponseTimesMemory {
    this.dirty = false;
    return Object.fromEntries(this.samples);
  }

  /** Takes back what `memory` gave (anything that is not a list of durations is left out). */
  restore(memory: unknown): void {
    if (typeof memory !== 'object' || memory === null) return;
    for (const [id, list] of Object.entries(memory)) {
      if (!Array.isArray(list)) continue;
      const kept = list.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0);
      if (kept.length > 0) this.samples.set(id, kept.slice(-SAMPLES));
    }
  }
}
