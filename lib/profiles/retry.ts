import type { Clock, TimerHandle } from '../clock';

/**
 * Waits before sending again a limit the charger has not confirmed (no answer, a lost connection
 * mid-command, every way refused): 5 s, 10 s, 30 s, then every 60 s. A load manager sends
 * set-points only when they change, so without this a charger would stay at a wrong limit.
 */
export const RETRY_BACKOFF_MS: readonly number[] = [5_000, 10_000, 30_000, 60_000];

/** One retry timer with backoff, on the injected clock (one per charger: no retry storm). */
export class RetryTimer {
  private timer: TimerHandle | undefined;
  private failures = 0;

  constructor(
    private readonly clock: Clock,
    private readonly run: () => void,
  ) {}

  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Arms the timer with the next delay, unless it is armed already. */
  arm(): void {
    if (this.timer !== undefined) return;
    const delayMs = RETRY_BACKOFF_MS[Math.min(this.failures, RETRY_BACKOFF_MS.length - 1)] as number;
    this.failures += 1;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
  }

  /** Everything is confirmed: the next failure waits the shortest delay again. */
  reset(): void {
    this.cancel();
    this.failures = 0;
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
