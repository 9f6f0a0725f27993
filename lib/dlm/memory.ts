/**
 * What the load manager learns and keeps across restarts: the most each circuit's other loads drew
 * (evidence/other-load-peaks.ts, what a blind meter counts them at) and how long each charger takes to follow
 * a decrease (evidence/response-time.ts). Read back when the load manager is made, written when it changed
 * (at most once a minute, and at stop) to a store the caller gives (a file: lib/store/json-memory.ts).
 */
import type { Logger } from '../log';
import type { OtherLoadPeaks } from './evidence/other-load-peaks';
import type { ResponseTimes } from './evidence/response-time';

/** What the load manager keeps across restarts (plain JSON). */
export interface LoadManagerMemory {
  otherLoadPeaks?: unknown;
  responseTimes?: unknown;
}

export interface LoadManagerMemoryStore {
  load(): unknown;
  save(memory: LoadManagerMemory): void;
}

/** What was learned is written at most this often (and at stop). */
const SAVE_INTERVAL_MS = 60_000;

export class LearnedMemory {
  private savedAtMs: number | undefined;

  constructor(
    private readonly store: LoadManagerMemoryStore,
    private readonly peaks: OtherLoadPeaks,
    private readonly responseTimes: ResponseTimes,
    private readonly logger: Logger,
  ) {
    let kept: unknown;
    try {
      kept = store.load();
    } catch (err) {
      logger.warn(`cannot read what the load manager learned: ${(err as Error).message}; learning anew`);
    }
    if (typeof kept === 'object' && kept !== null) {
      const memory = kept as LoadManagerMemory;
      peaks.restore(memory.otherLoadPeaks);
      responseTimes.restore(memory.responseTimes);
    }
  }

  /** Writes what was learned when it changed: at most once an interval, or now (`force`). */
  save(now: number, force: boolean): void {
    if (!(this.peaks.dirty || this.responseTimes.dirty)) return;
    if (!force && this.savedAtMs !== undefined && now - this.savedAtMs < SAVE_INTERVAL_MS) return;
    this.savedAtMs = now;
    try {
      this.store.save({ otherLoadPeaks: this.peaks.memory(), responseTimes: this.responseTimes.memory() });
    } catch (err) {
      this.logger.warn(`cannot keep what the load manager learned: ${(err as Error).message}`);
    }
  }
}
