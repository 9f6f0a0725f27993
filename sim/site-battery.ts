/**
 * The home battery's own controller (site.ts SiteSimulator): it holds the grid at zero, charging
 * from export and covering import within its power and its charge. A real one misses: it acts on
 * its own meter a moment late (`controlLagMs`) and settles a few tens of watts off zero
 * (`controlErrorW`), so a truthful grid meter never reads the same value for hours while the
 * battery holds it. Both are 0 by default (a perfect controller, the grid exactly flat).
 */
import { mix32 } from './site-faults';
import type { SimBattery } from './site-options';

export interface BatteryState extends SimBattery {
  storedWh: number;
  /** Charging positive, W. */
  powerW: number;
  /** When the battery's last reading was taken, ms. */
  lastMs: number;
}

/** A new battery's state from its options. */
export function batteryState(options: SimBattery): BatteryState {
  return {
    ...options,
    storedWh: (options.socPercent / 100) * options.capacityWh,
    powerW: 0,
    lastMs: Number.NEGATIVE_INFINITY,
  };
}

/**
 * How far the controller is off at `atMs`, W: within ±`controlErrorW`, the same for the same seed
 * and time (a run replays exactly), a new value each second.
 */
export function controlDeviationW(battery: SimBattery, atMs: number): number {
  const errorW = battery.controlErrorW ?? 0;
  if (errorW <= 0) return 0;
  let h = Math.imul(mix32(Math.floor(atMs / 1000) ^ Math.imul(battery.seed ?? 0, 0x9e3779b1)), 0x165667b1);
  h ^= h >>> 16;
  return ((h >>> 0) / 0x1_0000_0000) * 2 * errorW - errorW;
}

/**
 * The battery's power after `dtMs`, W, for a grid that would carry `netW` without it (import
 * positive) at `atMs`: the power that holds the grid at zero, off by the controller's deviation,
 * reached after its lag (each step closes dtMs ÷ controlLagMs of the gap, all of it from one lag
 * on), within its maximum charge and discharge (at which it runs the deviation below), never
 * beyond full or below its minimum SoC.
 */
export function batteryPowerW(battery: BatteryState, netW: number, dtMs: number, atMs: number): number {
  const minWh = ((battery.minSocPercent ?? 10) / 100) * battery.capacityWh;
  const roomW = ((battery.capacityWh - battery.storedWh) * 3_600_000) / dtMs;
  const availableW = (Math.max(0, battery.storedWh - minWh) * 3_600_000) / dtMs;
  const deviationW = controlDeviationW(battery, atMs);
  const targetW = -netW + deviationW;
  const lagMs = battery.controlLagMs ?? 0;
  const reachedW = lagMs <= dtMs ? targetW : battery.powerW + (targetW - battery.powerW) * (dtMs / lagMs);
  let powerW =
    reachedW >= 0
      ? Math.min(reachedW, battery.maxChargeW, Math.max(0, roomW))
      : -Math.min(-reachedW, battery.maxDischargeW, availableW);
  // At its maximum power it runs that much below it (an inverter at its rating wavers too).
  if (powerW >= battery.maxChargeW || powerW <= -battery.maxDischargeW)
    powerW -= Math.sign(powerW) * Math.abs(deviationW);
  return powerW === 0 ? 0 : powerW;
}
