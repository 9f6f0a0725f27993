/**
 * When the load manager updates: periodically (tickMs), after an input (at once, or once per turn
 * of the event loop with coalesceInputs), once after a batch of inputs, never while stopped, and
 * never re-entrantly (a listener that feeds an input back makes the update run again after).
 */
import type { Clock, TimerHandle } from '../../clock';

/** What the scheduler runs. */
export interface UpdateTarget {
  /** The update interval, read each time (a replaced site may change it). */
  tickMs(): number;
  /** One run of the stages. */
  updateOnce(): void;
}

export class UpdateScheduler {
  private timer: TimerHandle | undefined;
  private coalesceTimer: TimerHandle | undefined;
  private running = false;
  /** After stop(): inputs are kept, nothing is updated or emitted. */
  private halted = false;
  private updating = false;
  private updateAgain = false;
  private batching = 0;
  private batchPending = false;
  private updatesRun = 0;
  private lastUpdateAtMs: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly coalesceInputs: boolean,
    private readonly target: UpdateTarget,
  ) {}

  /** Whether stop() was called (and start() not since). */
  get stopped(): boolean {
    return this.halted;
  }

  /** How many updates have run. */
  get updateCount(): number {
    return this.updatesRun;
  }

  /** Starts the periodic update and runs the first update. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.halted = false;
    this.update();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.halted = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clock.clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
  }

  /** Runs `inputs` and updates once after them instead of once per input. */
  batch(inputs: () => void): void {
    this.batching += 1;
    try {
      inputs();
    } finally {
      this.batching -= 1;
    }
    if (this.batching === 0 && this.batchPending) {
      this.batchPending = false;
      this.update();
    }
  }

  /** An update after a reading or connector state: at once, or once per turn (coalesceInputs). */
  afterInput(): void {
    if (!this.coalesceInputs || this.batching > 0) {
      this.update();
      return;
    }
    if (this.coalesceTimer !== undefined || this.halted) return;
    this.coalesceTimer = this.clock.setTimeout(() => {
      this.coalesceTimer = undefined;
      this.update();
    }, 0);
  }

  update(): void {
    if (this.halted) return;
    if (this.batching > 0) {
      this.batchPending = true;
      return;
    }
    // A listener of our own events may feed an input back (a simulator, a flow): run again after.
    if (this.updating) {
      this.updateAgain = true;
      return;
    }
    this.updating = true;
    this.updatesRun += 1;
    // This update takes in every input so far: a coalesced one still to come would repeat it.
    this.clock.clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    try {
      for (let round = 0; round < 3; round++) {
        this.updateAgain = false;
        this.lastUpdateAtMs = this.clock.now();
        this.target.updateOnce();
        if (!this.updateAgain) break;
      }
    } finally {
      this.updating = false;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      // An input-driven update a moment ago already did what the tick would do.
      const sinceMs = this.clock.now() - (this.lastUpdateAtMs ?? Number.NEGATIVE_INFINITY);
      if (sinceMs >= this.target.tickMs() / 2) this.update();
      this.schedule();
    }, this.target.tickMs());
  }
}
