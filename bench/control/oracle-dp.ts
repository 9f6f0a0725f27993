/**
 * The oracle's core (issue #39, fast clouds): for a known day, cut in slots of `stepMs`, the most PV
 * surplus the cars can take when the one car that switches between 1 and 3 phases starts at most
 * `maxStarts` times. A dynamic programme over (slot, state, starts used), exact for this model:
 *
 * - the switching car is off, on one phase or on three; it restarts on the same phases at once, but
 *   on the others only after `pauseMs` without current (the charger stops the car to switch; a
 *   stop of one second before the switch does not skip that), and every restart counts as a start;
 * - the first start of the day picks either phase count;
 * - on, it takes any current between its minimum and maximum (`minW`, `capW`): the other cars are
 *   continuous (a `minpv` car always on between its minimum and maximum), so the cars together take
 *   min(surplus, capW of the state) in a slot;
 * - `dips`: where the surplus is below the switching car's minimum it may stay on only through a dip
 *   the day's pv rule allows (`rides`, computed by the caller), or everywhere (`any`: an upper bound),
 *   or nowhere (`none`: no grid import at all, stricter than the day).
 */

export interface OracleSlot {
  /** The PV surplus the cars may take, W. */
  surplusW: number;
  /** The switching car is plugged in and wants current. */
  present: boolean;
  /** What all cars together can take with the switching car off (or pausing), on 1 phase, on 3. */
  capW: readonly [number, number, number];
  /** The switching car's minimum on 1 and on 3 phases, W. */
  minW: readonly [number, number];
  /** The switching car's own maximum off, on 1 phase, on 3 (it takes the surplus first); with `othersWeight`. */
  ownW?: readonly [number, number, number];
  /** It may stay on 1 / 3 phases in this slot though the surplus is below its minimum (a dip it rides). */
  rides?: readonly [boolean, boolean];
}

export type DipRule = 'any' | 'rides' | 'none';

export interface OracleOptions {
  stepMs: number;
  pauseMs: number;
  /** Starts of the switching car (a restart after a switch included); Infinity: no limit. */
  maxStarts: number;
  dips: DipRule;
  /**
   * What a Wh the other cars take is worth beside one the switching car takes (default 1). Below 1
   * the schedule keeps the switching car on where both could take the surplus, so that an other car
   * with a small need is not full by the afternoon (the DP does not track the cars' energy).
   */
  othersWeight?: number;
}

/** The switching car's state per slot: 0 off, 1 one phase, 3 three phases, -1 or -3 resting after 1 or 3 (the pause). */
export type SlotMode = 0 | 1 | 3 | -1 | -3;

export interface OracleResult {
  /** What the cars took of the surplus, Wh (in the model: the other cars never full). */
  takenWh: number;
  starts: number;
  /** Starts on other phases than the charge before (each one of the starts). */
  switches: number;
  modes: SlotMode[];
}

const NEG = -1e18;

/** The best schedule for `slots`. */
export function solveOracle(slots: readonly OracleSlot[], options: OracleOptions): OracleResult {
  const hours = options.stepMs / 3_600_000;
  const pause = Math.max(0, Math.round(options.pauseMs / options.stepMs));
  const limited = Number.isFinite(options.maxStarts);
  const levels = limited ? options.maxStarts + 1 : 1;
  // States: 0 off, 1 on 1p, 2 on 3p, then resting after 1p (2 + k: k slots until it may change
  // phases), then resting after 3p (2 + pause + k). Changing phases takes `pause` slots of not
  // drawing, whether the charger or the car stopped (a stop for one second does not skip the pause).
  const states = 3 + 2 * pause;
  const rest = (three: boolean, left: number) => (left <= 0 ? 0 : 2 + (three ? pause : 0) + left);
  const width = states * levels;
  const n = slots.length;
  let value = new Float64Array(width).fill(NEG);
  let next = new Float64Array(width);
  value[0] = 0; // off, no start
  const from = new Int32Array(n * width);
  const reward = (slot: OracleSlot, state: number): number => {
    const mode = state === 1 ? 1 : state === 2 ? 2 : 0;
    if (mode > 0) {
      if (!slot.present) return NEG;
      const short = slot.surplusW < (slot.minW[mode - 1] ?? 0);
      if (short && options.dips === 'none') return NEG;
      if (short && options.dips === 'rides' && !slot.rides?.[mode - 1]) return NEG;
    }
    const all = Math.min(slot.surplusW, slot.capW[mode]);
    const own = slot.ownW ? Math.min(slot.surplusW, slot.ownW[mode]) : all;
    return (own + (options.othersWeight ?? 1) * (all - own)) * hours;
  };
  for (let t = 0; t < n; t++) {
    const slot = slots[t] as OracleSlot;
    next.fill(NEG);
    const row = t * width;
    const offer = (state: number, level: number, v: number, prev: number) => {
      if (level >= levels) return;
      const r = reward(slot, state);
      if (r <= NEG / 2) return;
      const i = state * levels + level;
      if (v + r > (next[i] as number)) {
        next[i] = v + r;
        from[row + i] = prev;
      }
    };
    for (let s = 0; s < states; s++)
      for (let l = 0; l < levels; l++) {
        const prev = s * levels + l;
        const v = value[prev] as number;
        if (v <= NEG / 2) continue;
        const started = limited ? l + 1 : 0;
        if (s === 0) {
          offer(0, l, v, prev);
          offer(1, started, v, prev);
          offer(2, started, v, prev);
        } else if (s === 1 || s === 2) {
          offer(s, l, v, prev);
          offer(rest(s === 2, pause), l, v, prev);
        } else {
          const three = s > 2 + pause;
          const left = three ? s - 2 - pause : s - 2;
          // A restart on the same phases at once; on the others once the pause is over.
          offer(three ? 2 : 1, started, v, prev);
          offer(rest(three, left - 1), l, v, prev);
          if (left <= 1) offer(three ? 1 : 2, started, v, prev);
        }
      }
    [value, next] = [next, value];
  }
  let best = 0;
  for (let i = 1; i < width; i++) if ((value[i] as number) > (value[best] as number)) best = i;
  const modes: SlotMode[] = new Array(n);
  let at = best;
  for (let t = n - 1; t >= 0; t--) {
    const s = Math.floor(at / levels);
    modes[t] = s === 0 ? 0 : s === 1 ? 1 : s === 2 ? 3 : s > 2 + pause ? -3 : -1;
    at = from[t * width + at] as number;
  }
  let starts = 0;
  let switches = 0;
  let drawing = false;
  let lastOn = 0;
  for (const mode of modes) {
    if (mode > 0 && !drawing) {
      starts += 1;
      if (lastOn !== 0 && lastOn !== mode) switches += 1;
    }
    drawing = mode > 0;
    if (mode > 0) lastOn = mode;
  }
  let takenWh = 0;
  modes.forEach((mode, t) => {
    const slot = slots[t] as OracleSlot;
    takenWh += Math.min(slot.surplusW, slot.capW[mode === 1 ? 1 : mode === 3 ? 2 : 0]) * hours;
  });
  return { takenWh, starts, switches, modes };
}
