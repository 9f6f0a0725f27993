import type { Clock, TimerHandle } from '../lib/clock';
import { IEC_61851_MINIMUM_A } from '../lib/electrical';

/**
 * A simulated electric vehicle on an AC charger: a battery, an on-board charger with a phase count
 * and a current window, and nothing else. The charge point decides how much current it offers;
 * the car takes what it can of that, on its own phases, until the battery is full, and takes a
 * moment to follow when the offer changes.
 */

export interface EvOptions {
  /** Shown in logs; defaults to `EV`. */
  name?: string;
  /** Usable battery capacity. Default 60 kWh. */
  capacityKWh?: number;
  /** State of charge on arrival. Default 20 %. */
  socPercent?: number;
  /** The car stops drawing at this state of charge. Default 100 %. */
  targetSocPercent?: number;
  /** Phases the on-board charger uses: 1 (many PHEVs, older cars) or 3. Default 3. */
  phases?: 1 | 3;
  /** The on-board charger's maximum current per phase. Default 16 A. */
  maxCurrentA?: number;
  /**
   * Below this offered current the car does not charge at all. 6 A is the IEC 61851 floor; some
   * cars (older Renault Zoe, some Teslas) need 8 A or more.
   */
  minCurrentA?: number;
  /**
   * How long the car takes to follow a change of the offered current (IEC 61851-1 gives the EV a
   * few seconds to react to a new PWM duty cycle). Needs a charge point that tells the car the
   * time (it does when the car is plugged in). Default 0: at once.
   */
  followDelayMs?: number;
  /**
   * Draws this much above the current it is given, in % (IEC 61851-1 lets the car's current stray
   * above the PWM's; cars of an independent simulator draw up to 3 % above, issue #45). Default 0.
   */
  overshootPercent?: number;
}

/** What the car draws right now, as the charge point's meter sees it. */
export interface EvDraw {
  /** Current per phase the car draws, in A (0 when it does not charge). */
  currentA: number;
  /** Phases the car draws on (0 when it does not charge). */
  phases: number;
}

export class SimulatedEv {
  readonly name: string;
  readonly capacityKWh: number;
  readonly targetSocPercent: number;
  readonly phases: 1 | 3;
  readonly maxCurrentA: number;
  readonly minCurrentA: number;
  readonly followDelayMs: number;
  readonly overshootPercent: number;
  private storedWh: number;
  /** What the car draws now, while it follows a changed offer. */
  private drawing: EvDraw = { currentA: 0, phases: 0 };
  /** The draw the car moves to, and since when it was asked to. */
  private settling: { draw: EvDraw; sinceMs: number } | undefined;
  /** The charge point the car is plugged into: its clock, and how to make it look again. */
  private plug: { clock: Clock; wake: () => void; timer?: TimerHandle } | undefined;

  constructor(options: EvOptions = {}) {
    this.name = options.name ?? 'EV';
    this.capacityKWh = positive('capacityKWh', options.capacityKWh ?? 60);
    const socPercent = options.socPercent ?? 20;
    this.targetSocPercent = options.targetSocPercent ?? 100;
    if (!(socPercent >= 0 && socPercent <= 100)) throw new RangeError('socPercent must be between 0 and 100');
    if (!(this.targetSocPercent > 0 && this.targetSocPercent <= 100)) {
      throw new RangeError('targetSocPercent must be above 0 and at most 100');
    }
    this.phases = options.phases ?? 3;
    if (this.phases !== 1 && this.phases !== 3) throw new RangeError('phases must be 1 or 3');
    this.maxCurrentA = positive('maxCurrentA', options.maxCurrentA ?? 16);
    this.minCurrentA = positive('minCurrentA', options.minCurrentA ?? IEC_61851_MINIMUM_A);
    if (this.minCurrentA > this.maxCurrentA) throw new RangeError('minCurrentA must not exceed maxCurrentA');
    this.followDelayMs = options.followDelayMs ?? 0;
    if (!(this.followDelayMs >= 0)) throw new RangeError('followDelayMs must not be negative');
    this.overshootPercent = options.overshootPercent ?? 0;
    if (!(this.overshootPercent >= 0)) throw new RangeError('overshootPercent must not be negative');
    this.storedWh = (socPercent / 100) * this.capacityKWh * 1000;
  }

  get socPercent(): number {
    return (this.storedWh / (this.capacityKWh * 1000)) * 100;
  }

  /** Energy the battery still takes before it reaches the target state of charge, in Wh. */
  get remainingWh(): number {
    return Math.max(0, (this.targetSocPercent / 100) * this.capacityKWh * 1000 - this.storedWh);
  }

  get full(): boolean {
    return this.remainingWh <= 1e-6;
  }

  /**
   * What the car draws when the charge point offers `offeredA` per phase on a connector wired
   * with `connectorPhases` phases: min(offered, car maximum) on the phases both sides have (its
   * overshoot above that), or nothing when that is below the car's minimum or the battery is full.
   */
  draw(offeredA: number, connectorPhases: number): EvDraw {
    const currentA = Math.min(offeredA, this.maxCurrentA);
    const target =
      this.full || currentA < this.minCurrentA
        ? { currentA: 0, phases: 0 }
        : {
            currentA: this.overshootPercent > 0 ? currentA * (1 + this.overshootPercent / 100) : currentA,
            phases: Math.min(this.phases, connectorPhases),
          };
    // A full battery stops the car itself, at once.
    if (this.followDelayMs <= 0 || !this.plug || this.full) return this.settle(target);
    if (sameDraw(target, this.drawing)) return this.settle(target);
    const nowMs = this.plug.clock.now();
    if (!this.settling || !sameDraw(this.settling.draw, target)) {
      this.settling = { draw: target, sinceMs: nowMs };
      this.wakeAfter(this.followDelayMs);
    }
    const waitedMs = nowMs - this.settling.sinceMs;
    if (waitedMs >= this.followDelayMs) return this.settle(target);
    // A timer can fire a moment before the clock reads its delay as passed (Node runs timers on
    // the event loop's cached time): wake again for what is left, or the car would keep its old
    // current until the charge point next has a reason to ask.
    if (this.plug.timer === undefined) this.wakeAfter(this.followDelayMs - waitedMs);
    return { ...this.drawing };
  }

  private wakeAfter(delayMs: number): void {
    const plug = this.plug;
    if (!plug) return;
    plug.clock.clearTimeout(plug.timer);
    plug.timer = plug.clock.setTimeout(() => {
      plug.timer = undefined;
      plug.wake();
    }, delayMs);
  }

  /**
   * The car is plugged into a charge point: it follows changes on that charge point's clock and
   * calls `wake` when it has followed, so the charge point looks at what it draws again.
   */
  attach(clock: Clock, wake: () => void): void {
    this.detach();
    this.plug = { clock, wake };
    this.drawing = { currentA: 0, phases: 0 };
  }

  /** The car is unplugged (or the charge point powers down): no more wake-ups. */
  detach(): void {
    this.cancelFollow();
    this.plug = undefined;
    this.drawing = { currentA: 0, phases: 0 };
  }

  /** The charge point offers nothing (no transaction, or less than 6 A): the car draws nothing. */
  rest(): void {
    this.settle({ currentA: 0, phases: 0 });
  }

  /** Forgets a change the car was about to follow (the charge point powers down). */
  cancelFollow(): void {
    if (this.plug) this.plug.clock.clearTimeout(this.plug.timer);
    if (this.plug) this.plug.timer = undefined;
    this.settling = undefined;
  }

  private settle(target: EvDraw): EvDraw {
    if (this.settling && this.plug) this.plug.clock.clearTimeout(this.plug.timer);
    if (this.plug) this.plug.timer = undefined;
    this.settling = undefined;
    this.drawing = target;
    return { ...target };
  }

  /** Adds energy that flowed into the car (AC side; the simulation ignores charging losses). */
  charge(energyWh: number): void {
    const targetWh = (this.targetSocPercent / 100) * this.capacityKWh * 1000;
    if (this.storedWh >= targetWh) return;
    this.storedWh = Math.min(this.storedWh + Math.max(0, energyWh), targetWh);
  }
}

function sameDraw(a: EvDraw, b: EvDraw): boolean {
  return a.currentA === b.currentA && a.phases === b.phases;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}
