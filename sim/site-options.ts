/**
 * What a simulated site is made of (site.ts `SiteSimulator`): its other loads over the day, its
 * meters and their faults, its chargers and their faults, the cars, a PV plant and a home battery.
 */
import type { ManualClock } from '../lib/clock';
import type { Site, SiteConfig, Triple } from '../lib/dlm/site';
import type { EvOptions } from './ev';
import type { MeterLie, SimChargerFaults } from './site-faults';

/** Per-phase current of the other loads (A, grid phases) at `atMs` since the start of the day. */
export type LoadProfile = (atMs: number) => Triple;

export interface SimMeterOptions {
  /** A Reading every this often. Default 1000 ms. */
  intervalMs?: number;
  /** No readings in these windows (ms since the simulation started). */
  dropouts?: { fromMs: number; toMs: number }[];
  /** Readings with fresh timestamps but false values in these windows (site-faults.ts). */
  lies?: MeterLie[];
  /**
   * A real meter's last digits move from reading to reading: each non-zero phase reads up to this
   * much above the truth, A (never below: the noise must not hide load). Default 0 (exact).
   */
  jitterA?: number;
  /**
   * Its readings reach the load manager this long after they were measured, stamped with when
   * they were measured (a Modbus poll, a flow, MQTT): a charger's reading taken meanwhile arrives
   * with or before it, newer than the meter's newest sample. Default 0 (at once).
   */
  delayMs?: number;
}

export interface SimChargerOptions extends SimChargerFaults {
  /** Time from a set-point to the car drawing the new current. Default 5000 ms. */
  responseDelayMs?: number;
  /** Ignores every set-point and offers its maximum. */
  rogue?: boolean;
  /**
   * Offers this much more than its set-point (up to its maximum): a charger that applies its limit
   * wrongly, so that what it draws follows the set-point. Default 0.
   */
  overOfferA?: number;
  /** Ignores the number of phases in a set-point: the car keeps drawing on all its phases. */
  ignoresPhaseSwitch?: boolean;
  /**
   * A switch of the phases under load stops the car this long (the charger opens its contactor,
   * waits, switches and the car starts again). Default `DEFAULT_PHASE_SWITCH_PAUSE_MS` (20 s).
   */
  phaseSwitchPauseMs?: number;
  /** The charger's own meter reports this often (OCPP MeterValueSampleInterval). Default 10 000 ms. */
  meterIntervalMs?: number;
  /**
   * Takes whole amperes only (the EVlink presets): a limit is rounded down to a whole ampere before
   * the car sees it (17.5 A offers 17 A), and its connector state says so as the charging-profile
   * manager would (`limitStep`: 1 A). Default false.
   */
  wholeAmps?: boolean;
}

export interface SimCar {
  /** `<chargePointId>/<connectorId>`. */
  connector: string;
  /** ms since the simulation started. */
  arriveMs: number;
  leaveMs?: number;
  ev: EvOptions;
  idTag?: string;
  /** The id tag's priority, as the central system would put it on the transaction. */
  tagPriority?: number;
}

export interface SimPv {
  peakW: number;
  /** 0..1 of the peak at `atMs` since the start of the day. */
  profile: (atMs: number) => number;
  /** The inverter's reading source: a reading (`totalPowerW`, export negative) every second. */
  source?: string;
}

export interface SimBattery {
  source: string;
  capacityWh: number;
  socPercent: number;
  maxChargeW: number;
  maxDischargeW: number;
  /** Never discharged below this. Default 10 %. */
  minSocPercent?: number;
  intervalMs?: number;
  /**
   * Its controller settles up to this far off a flat grid, W, a new deviation each second
   * (site-battery.ts). Default 0: the grid held exactly at zero.
   */
  controlErrorW?: number;
  /** Its controller closes the gap to its target over this long, ms. Default 0: at once. */
  controlLagMs?: number;
  /** Seeds the deviation (the scenario's seed: a run replays exactly). Default 0. */
  seed?: number;
}

export interface SiteSimOptions {
  clock: ManualClock;
  /** The electrical truth: tree, limits, rotations, meters (the same model the load manager gets). */
  site: SiteConfig | Site;
  /** Time of day at the start, ms after midnight (profiles get the time of day). Default 0. */
  startOfDayMs?: number;
  otherLoads?: Record<string, LoadProfile>;
  meters?: Record<string, SimMeterOptions>;
  chargers?: Record<string, SimChargerOptions>;
  cars?: SimCar[];
  /** PV and battery sit at the root circuit (behind the grid meter). */
  pv?: SimPv;
  battery?: SimBattery;
}
