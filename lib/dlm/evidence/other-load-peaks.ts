/**
 * The most each circuit's other loads have drawn, per phase: what a blind meter's circuit counts
 * them at (evidence/circuit-view.ts) when no `fallback.otherLoadA` is configured. Learned from the meter's own
 * readings while they are fresh and plausible, in hourly peaks over the last 24 hours that had
 * readings (so the daily peak is in it, and a meter blind for days keeps the last day it saw),
 * kept across restarts with the load manager's memory. Until a whole day has been learned, the
 * highest seen so far counts with a margin (`LEARNING_MARGIN`, at least `LEARNING_MARGIN_MIN_A`).
 * One owner: nobody else keeps what the other loads have drawn.
 */
import type { GridPhase } from '../phases';
import { blindIncluding } from '../site/circuit';

const HOUR_MS = 3_600_000;
/** The window the peak is taken over, hours that had readings. */
export const WINDOW_HOURS = 24;
/** Until a whole window has been learned, the highest seen so far counts this much more... */
export const LEARNING_MARGIN = 0.25;
/** ...and at least this much more, A. */
export const LEARNING_MARGIN_MIN_A = 2;

/** One circuit's meter: per phase, the peak of each hour that had a reading (oldest first). */
interface Learned {
  /** When it was first read (ms): a whole window has been learned once the newest is a day later. */
  firstMs: number;
  lastMs: number;
  hours: [number[], number[], number[]];
  peaks: [number[], number[], number[]];
}

/** What the learned level of one phase is, and how it was learned. */
export interface OtherLoadLevel {
  amps: number;
  /** Whether a whole window has been learned (else the margin is in `amps`). */
  full: boolean;
  /** How long the meter has been learned from, ms. */
  learnedMs: number;
}

/** The keys one meter learns under (OtherLoadPeaks.keysOf). */
export interface MeterKeys {
  whole: string;
  ownPart?: string;
  gross?: string;
}

/** One fresh, plausible reading of a phase, as learned (OtherLoadPeaks.learn). */
export interface LearnedReading {
  amps: number;
  knownBelowA: number;
  generatedA?: number;
  exportA?: number;
}

/** A blind meter's phase: what the circuits below count now, whether it counts them, what is surely generated now. */
export interface BlindMeter {
  includes: boolean;
  belowA: number;
  generatedNowA: number;
}

/** What a blind phase counts at, its learned level, and which of the rules above it raised it. */
export interface BlindCount {
  amps: number;
  level: OtherLoadLevel;
  /** Raised to what the circuits below count plus its own part. */
  apart: boolean;
  /** Raised by what was generated while it learned and is not now. */
  gross: boolean;
}

/** What is kept across restarts (plain JSON): per meter key, its learned peaks. */
export type OtherLoadPeaksMemory = Record<string, Learned>;

export class OtherLoadPeaks {
  private readonly byMeter = new Map<string, Learned>();
  /** Readings noted and memories restored so far: a level asked twice between two is the same. */
  private notes = 0;
  /** Changed since the memory was last taken. */
  dirty = false;

  /** The key of a circuit's meter: another meter on the circuit learns anew. */
  static keyOf(circuitId: string, source: string): string {
    return `${circuitId}|${source}`;
  }

  /**
   * The key of a meter's own part: what a meter that counts the circuits below it
   * (`includesChargers`) reads beyond the other loads that the meters below it measure.
   */
  static ownPartKeyOf(circuitId: string, source: string): string {
    return `${circuitId}|${source}|own`;
  }

  /** The key of what a meter's other loads drew with what was generated then added back (`gross`). */
  static grossKeyOf(circuitId: string, source: string): string {
    return `${circuitId}|${source}|gross`;
  }

  /**
   * The keys a meter learns under: its other loads; its own part where it counts a metered circuit
   * below it (`ownPart`); their gross where the site may generate (`gross`).
   */
  static keysOf(circuitId: string, source: string, learns: { ownPart: boolean; gross: boolean }): MeterKeys {
    return {
      whole: OtherLoadPeaks.keyOf(circuitId, source),
      ...(learns.ownPart ? { ownPart: OtherLoadPeaks.ownPartKeyOf(circuitId, source) } : {}),
      ...(learns.gross ? { gross: OtherLoadPeaks.grossKeyOf(circuitId, source) } : {}),
    };
  }

  /**
   * Learns from a fresh, plausible reading of one phase: what the other loads drew (`amps`, never
   * below 0), beyond what the meters below measure for sure (`knownBelowA`, the own part), and,
   * where generation below was measured (`generatedA`, the most it may have been), the same plus
   * what was generated (`exportA`: how far the reading was below 0, an export, counts against it).
   */
  learn(keys: MeterKeys, phase: GridPhase, reading: LearnedReading, atMs: number): void {
    this.note(keys.whole, phase, reading.amps, atMs);
    if (keys.ownPart) this.note(keys.ownPart, phase, reading.amps - reading.knownBelowA, atMs);
    if (keys.gross && reading.generatedA !== undefined)
      this.note(
        keys.gross,
        phase,
        reading.amps + Math.min(0, reading.exportA ?? 0) + reading.generatedA,
        atMs,
      );
  }

  /**
   * What a blind meter's phase counts at (undefined: never read, nothing learned): its learned
   * level, never less than its gross less what is surely generated now (`generatedNowA`, 0 when not
   * measured: a PV plant that stops, a cloud or the night, gives the loads back what it covered);
   * for a meter that counts the circuits below it, never less than what they count plus its own
   * part (`blindIncluding`); for one of the other loads only, plus what they count.
   */
  blindCount(keys: MeterKeys, phase: GridPhase, blind: BlindMeter): BlindCount | undefined {
    const level = this.level(keys.whole, phase);
    if (!level) return undefined;
    const gross = keys.gross ? this.level(keys.gross, phase) : undefined;
    const grossA = gross ? gross.amps - blind.generatedNowA : 0;
    const whole = Math.max(level.amps, grossA);
    if (!blind.includes)
      return { amps: whole + blind.belowA, level, apart: false, gross: grossA > level.amps };
    const ownPart = keys.ownPart ? this.level(keys.ownPart, phase)?.amps : undefined;
    const amps = blindIncluding(whole, blind.belowA, ownPart);
    return { amps, level, apart: amps > whole, gross: grossA > level.amps };
  }

  /** A fresh, plausible value of a phase's own other loads (A, never below 0) measured at `atMs`. */
  note(key: string, phase: GridPhase, amps: number, atMs: number): void {
    if (!Number.isFinite(amps) || !Number.isFinite(atMs)) return;
    this.notes += 1;
    let learned = this.byMeter.get(key);
    if (!learned) {
      learned = { firstMs: atMs, lastMs: atMs, hours: [[], [], []], peaks: [[], [], []] };
      this.byMeter.set(key, learned);
    }
    const value = Math.max(0, amps);
    const hour = Math.floor(atMs / HOUR_MS);
    const hours = learned.hours[phase];
    const peaks = learned.peaks[phase];
    const last = hours.length - 1;
    learned.lastMs = Math.max(learned.lastMs, atMs);
    if (last >= 0 && (hours[last] ?? 0) >= hour) {
      // This hour (or a reading that came late, counted in the newest hour).
      if (value > (peaks[last] ?? 0)) {
        peaks[last] = value;
        this.dirty = true;
      }
      return;
    }
    hours.push(hour);
    peaks.push(value);
    if (hours.length > WINDOW_HOURS) {
      hours.shift();
      peaks.shift();
    }
    this.dirty = true;
  }

  /**
   * Changes with every reading noted (even one that leaves the peaks as they were: it moves how
   * long they were learned) and every memory restored; levels are the same while it is.
   */
  get version(): number {
    return this.notes;
  }

  /** The level a blind phase counts at; undefined when the meter was never read on that phase. */
  level(key: string, phase: GridPhase): OtherLoadLevel | undefined {
    const learned = this.byMeter.get(key);
    const peaks = learned?.peaks[phase];
    if (!learned || !peaks || peaks.length === 0) return undefined;
    const peak = Math.max(...peaks);
    const learnedMs = learned.lastMs - learned.firstMs;
    const full = learnedMs >= WINDOW_HOURS * HOUR_MS;
    const amps = full ? peak : peak + Math.max(LEARNING_MARGIN_MIN_A, peak * LEARNING_MARGIN);
    return { amps: Math.round(amps * 10) / 10, full, learnedMs };
  }

  memory(): OtherLoadPeaksMemory {
    this.dirty = false;
    return Object.fromEntries(this.byMeter);
  }

  /** Takes back what `memory` gave; anything malformed is left out (learned anew). */
  restore(memory: unknown): void {
    if (typeof memory !== 'object' || memory === null) return;
    this.notes += 1;
    for (const [key, value] of Object.entries(memory)) {
      const learned = readLearned(value);
      if (learned) this.byMeter.set(key, learned);
    }
  }
}

function readLearned(value: unknown): Learned | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Learned>;
  const numbers = (list: unknown): list is number[] =>
    Array.isArray(list) && list.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (typeof v.firstMs !== 'number' || typeof v.lastMs !== 'number') return undefined;
  if (!Array.isArray(v.hours) || !Array.isArray(v.peaks) || v.hours.length !== 3 || v.peaks.length !== 3)
    return undefined;
  for (let p = 0; p < 3; p++) {
    const hours = v.hours[p];
    const peaks = v.peaks[p];
    if (!numbers(hours) || !numbers(peaks) || hours.length !== peaks.length) return undefined;
  }
  return {
    firstMs: v.firstMs,
    lastMs: v.lastMs,
    hours: v.hours.map((h) => h.slice(-WINDOW_HOURS)) as Learned['hours'],
    peaks: v.peaks.map((h) => h.slice(-WINDOW_HOURS)) as Learned['peaks'],
  };
}
