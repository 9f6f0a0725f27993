/**
 * What the load manager keeps across restarts and redeploys, in one record: what it learned (the
 * most each circuit's other loads drew, evidence/other-load-peaks.ts, what a blind meter counts them
 * at; how long each charger takes to follow a decrease, evidence/response-time.ts) and what the
 * flow told it (modes/mode-stages.ts: modes and priorities set by message, prices and the PV
 * forecast with when they came, plans, PV settings, and each car's PV timers). Read back when the
 * load manager is made, written when it changed: at once after a command, else at most once a
 * minute, and always at stop, to a store the caller gives (a file: lib/store/json-memory.ts; in
 * Node-RED one per node under the user directory, so a restart and a full deploy read it back).
 * The record carries its version (lib/config-versions.ts LOAD_MANAGER_MEMORY_SHAPE): an older one
 * is read in today's shape, a newer one is not read, with a word.
 */
import { LOAD_MANAGER_MEMORY_SHAPE, ShapeVersionError, upgradeShape } from '../config-versions';
import type { Logger } from '../log';
import type { OtherLoadPeaks } from './evidence/other-load-peaks';
import type { ResponseTimes } from './evidence/response-time';
import type { KeptModes, ModeStages } from './modes/mode-stages';

/** What the load manager keeps across restarts (plain JSON). */
export interface LoadManagerMemory {
  /** The version of this record's shape (LOAD_MANAGER_MEMORY_SHAPE; none: version 0). */
  version?: number;
  /** When it was written, ms since 1970 on the load manager's clock. */
  savedAtMs?: number;
  otherLoadPeaks?: unknown;
  responseTimes?: unknown;
  modes?: KeptModes;
}

export interface LoadManagerMemoryStore {
  load(): unknown;
  save(memory: LoadManagerMemory): void;
}

/** What was learned is written at most this often (and at stop; a command's change at once). */
const SAVE_INTERVAL_MS = 60_000;

export class LearnedMemory {
  private savedAtMs: number | undefined;

  constructor(
    private readonly store: LoadManagerMemoryStore,
    private readonly peaks: OtherLoadPeaks,
    private readonly responseTimes: ResponseTimes,
    private readonly modes: ModeStages,
    private readonly logger: Logger,
    now: number,
  ) {
    let kept: unknown;
    try {
      kept = store.load();
    } catch (err) {
      logger.warn(`cannot read what the load manager kept: ${(err as Error).message}; starting anew`);
    }
    if (typeof kept !== 'object' || kept === null || Array.isArray(kept)) return;
    let memory: LoadManagerMemory;
    try {
      memory = upgradeShape(LOAD_MANAGER_MEMORY_SHAPE, kept as Record<string, unknown>).shape;
    } catch (err) {
      if (!(err instanceof ShapeVersionError)) throw err;
      // Never misread: a newer release's record is not read, and this release's replaces it.
      logger.warn(`${err.message}; not read, the load manager starts anew`);
      return;
    }
    peaks.restore(memory.otherLoadPeaks);
    responseTimes.restore(memory.responseTimes);
    const savedAtMs =
      typeof memory.savedAtMs === 'number' && Number.isFinite(memory.savedAtMs) ? memory.savedAtMs : now;
    modes.restore(memory.modes, Math.max(0, now - savedAtMs));
  }

  /**
   * Writes what is kept when it changed: what was learned or the PV timers at most once an
   * interval, a command's change at once, and everything at stop (`force`).
   */
  save(now: number, force: boolean): void {
    if (!force && !this.modes.dirty) {
      if (this.savedAtMs !== undefined && now - this.savedAtMs < SAVE_INTERVAL_MS) return;
      if (!(this.peaks.dirty || this.responseTimes.dirty || this.modes.timing)) return;
    }
    this.savedAtMs = now;
    try {
      this.store.save({
        version: LOAD_MANAGER_MEMORY_SHAPE.current,
        savedAtMs: now,
        otherLoadPeaks: this.peaks.memory(),
        responseTimes: this.responseTimes.memory(),
        modes: this.modes.kept(),
      });
    } catch (err) {
      this.logger.warn(`cannot keep what the load manager learned and was told: ${(err as Error).message}`);
    }
  }
}
