/**
 * Time as `lib/` sees it. Everything that waits (call timeouts, heartbeats, staleness, ramps,
 * simulators) takes a Clock so tests and simulations can run on {@link ManualClock}.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    // Timers in lib/ never keep a process alive on their own; sockets and servers do.
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

interface ManualTimer {
  id: number;
  dueMs: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires every timer that falls due within
 * the interval, in due order (ties in creation order), including timers set by those callbacks.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.currentMs + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers = this.timers.filter((timer) => timer.id !== (handle as unknown as number));
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    this.fireUntil(this.currentMs + ms, true);
  }

  /**
   * Moves the clock `ms` on like advance(), but the timers due at that very instant wait for the
   * next advance (advance(0) fires them): what arrives at the instant is taken in before them.
   */
  advanceBefore(ms: number): void {
    this.fireUntil(this.currentMs + ms, false);
  }

  private fireUntil(targetMs: number, atTarget: boolean): void {
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.dueMs < targetMs || (atTarget && timer.dueMs === targetMs))
        .sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.currentMs = due.dueMs;
      due.callback();
    }
    this.currentMs = targetMs;
  }
}
