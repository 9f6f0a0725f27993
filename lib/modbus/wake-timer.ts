/**
 * The bus's one wake-up timer: when the wire must stay quiet (a pause after connecting, the
 * inter-frame delay, a line drain), the bus asks to be woken at a time and this keeps the
 * earliest such time armed.
 */
import type { Clock, TimerHandle } from '../clock';

export class WakeTimer {
  private timer: TimerHandle | undefined;
  private atMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly wake: () => void,
  ) {}

  /** Wakes the bus at `atMs`, unless a wake at or before then is already armed. */
  wakeAt(atMs: number): void {
    if (atMs >= this.atMs && this.timer !== undefined) return;
    this.clock.clearTimeout(this.timer);
    this.atMs = atMs;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.atMs = Number.POSITIVE_INFINITY;
        this.wake();
      },
      Math.max(0, atMs - this.clock.now()),
    );
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
  }
}
