/**
 * The site configuration as plain JSON (what the editor saves and the user imports/exports), and
 * the defaults `validateSite` fills in. The defaults of rules that a stage of the load manager
 * owns come from that stage (evidence/overdraw.ts, control/policy.ts) or from lib/electrical.ts.
 */
import { IEC_61851_MINIMUM_A, NOMINAL_VOLTAGE_V } from '../../electrical';
import type { Network, Triple } from '../phases';

/**
 * OCPP `ConnectorPhaseRotation`: which grid phase each of the charger's L1, L2, L3 is wired to
 * (R, S, T = grid L1, L2, L3). `STR` means the charger's L1 is on grid L2, L2 on L3, L3 on L1.
 */
export const PHASE_ROTATIONS = ['RST', 'STR', 'TRS', 'RTS', 'SRT', 'TSR'] as const;
export type PhaseRotation = (typeof PHASE_ROTATIONS)[number];

export const CHARGING_MODES = ['fast', 'pv', 'minpv', 'off', 'price'] as const;
/**
 * `fast`: as much as the circuits allow; `pv`: only PV surplus (paused below the minimum);
 * `minpv`: the minimum always, PV surplus on top; `off`: paused; `price`: PV surplus, and the grid
 * in the cheapest slots its plan needs or below its price limit (modes/price-plans.ts).
 */
export type ChargingMode = (typeof CHARGING_MODES)[number];

export const SHEDDING_RULES = ['firstStarted', 'mostEnergyFirst'] as const;
/**
 * Who is paused when not every charging car can get its minimum: `firstStarted` keeps the
 * earliest-started sessions charging; `mostEnergyFirst` pauses the session that already received
 * the most energy.
 */
export type SheddingRule = (typeof SHEDDING_RULES)[number];

export const METER_LOCATIONS = ['includesChargers', 'otherLoadsOnly'] as const;
/**
 * Where a circuit's meter sits (Bender "External Meter Location"), and what the load manager
 * takes it to measure:
 *
 * - `includesChargers`: everything that flows through the circuit, that is every load below it:
 *   the chargers, the other loads on the circuit itself and everything on its child circuits. The
 *   other loads of the circuit are its reading minus what the chargers below draw (each at most
 *   what it may draw), and never less than what its child circuits count.
 * - `otherLoadsOnly`: loads on this circuit that are not chargers (the chargers are on a branch it
 *   does not measure). Whether it also sees the loads of the child circuits is not known, so the
 *   load manager takes the safe side: the other loads of the circuit are its reading PLUS what its
 *   child circuits count (their meters, their fallbacks). A meter that does see them is then
 *   counted twice (safe, but less for the chargers); `validateSite` warns where this can happen.
 *
 * A circuit without a meter counts what its child circuits count (the sum of its children) plus
 * its `fallback.otherLoadA`, the most its own other loads draw (with no meter to tell, that estimate
 * counts always); without one it is taken to have no other loads of its own, even where a meter above
 * it sees loads somewhere below (it cannot tell where), and `validateSite` warns where no meter above
 * counts them either (site/warnings.ts).
 */
export type MeterLocation = (typeof METER_LOCATIONS)[number];

export interface MeterConfig {
  /** The `source` of the Readings this meter produces (the meter's name). */
  source: string;
  /**
   * The Node-RED meter node chosen in the editor, by id: the load-manager node sets `source` to
   * that node's current name before the site is read (a renamed meter keeps its circuit).
   */
  node?: string;
  location: MeterLocation;
  /**
   * Data older than this makes the circuit fall back. Default 30 000 ms. Each phase has its own
   * age: a phase a reading does not carry (null, not a number) goes stale on its own.
   */
  staleAfterMs?: number;
  /**
   * Nothing below this meter generates (no PV, no battery feeding in). Only then is a reading that
   * carries only a total power used per phase (the whole total on every phase, the worst case);
   * otherwise export on one phase could hide import on another, and such a reading gives no
   * current data (the circuit falls back when nothing else arrives). Default false.
   */
  noGenerationBelow?: boolean;
}

/**
 * What a circuit assumes while its meter is stale (or always, for a circuit with no meter). `otherLoadA`
 * (Bender "External Load Fallback"): the other loads are taken to be this current per phase; the
 * safety invariant holds with it. `connectorLimitA` (the Climkit gateway's 6 A): every connector below the circuit gets at
 * most this; the other loads are then taken at their last fresh value, so whether the breaker holds
 * depends on the operator's choice of the value. Both may be set; with neither, 6 A per connector.
 */
export interface FallbackConfig {
  otherLoadA?: number | Triple;
  connectorLimitA?: number;
}

export interface CircuitConfig {
  id: string;
  name?: string;
  /** The circuit this one is fed from; absent for the root (the grid connection). */
  parent?: string;
  /** Breaker/cable limit per phase in A: one number for all three phases, or [L1, L2, L3]. */
  limitA: number | Triple;
  /** Optional limit on the total active power through the circuit, W. */
  powerLimitW?: number;
  /** Current kept free per phase (Bender "External Load Headroom"). Default 0. */
  headroomA?: number | Triple;
  meter?: MeterConfig;
  fallback?: FallbackConfig;
  /**
   * Largest difference between the most and the least loaded grid phase that the connectors
   * below may cause (VDE-AR-N 4100: 4.6 kVA ≈ 20 A). Roots default to the site's `unbalanceLimitA`.
   */
  unbalanceLimitA?: number;
}

export interface ConnectorConfig {
  chargePointId: string;
  /** Default 1. */
  connectorId?: number;
  name?: string;
  /** The id of the circuit (supply line) the connector hangs on. */
  circuit: string;
  /** Default `RST`. */
  phaseRotation?: PhaseRotation;
  /** Phases wired to the connector: 1 (uses the charger's L1 only) or 3. Default 3. */
  phases?: 1 | 3;
  /** The lowest current a car takes (IEC 61851: 6 A; some cars need 7-8 A). Default 6. */
  minA?: number;
  /**
   * The lowest current a car charging on one phase takes here, A (the charger's own floor, e.g.
   * Schneider EVlink's monophasedLoadSheddingFloorValue: below it the charger suspends). Default `minA`.
   */
  minOnePhaseA?: number;
  /**
   * The lowest current a car charging on three phases takes here, A (EVlink's
   * triphasedLoadSheddingFloorValue: "0 to 13 A three-phase → 0" is 14). Default `minA`.
   */
  minThreePhaseA?: number;
  /** Operator/installation/cable limit per phase. Default 32. */
  maxA?: number;
  /**
   * Higher is served first. A number, or a JSONata expression written as a string starting with
   * `=` (for example `"=connector.transaction.idTag in ['VIP-1'] ? 10 : 0"`). Default: the id tag's
   * priority, else 0.
   */
  priority?: number | string;
  /** A mode, or a JSONata expression starting with `=`. Default: the site's `defaultMode`. */
  mode?: ChargingMode | string;
  /** The charger can switch between 1 and 3 phases during a session. */
  canSwitchPhases?: boolean;
  /**
   * What the charger may draw per phase when it cannot be controlled: while it is offline or
   * before its state is known (its own fallback, a wallbox's "fallback limit"). Default `maxA`.
   */
  offlineA?: number;
  /**
   * The charger's own current step, A: it takes only multiples of it (Schneider EVlink's
   * `maxIntensitySocket` and presets that set whole amperes: 1). The connector is given a multiple
   * of it and what is left over goes to the others. Default: `control.stepA` (0.1 A).
   */
  stepA?: number;
}

// The control values the overdraw judgement (evidence/overdraw.ts) and the policy (control/policy.ts) use by
// default: defined here, with the rest of the settings' defaults, and read there.
/**
 * How far above its set-point a charger may measure before it counts as overdrawing, A: meters
 * and chargers round, and a car settles a little above a new set-point (default of
 * `control.overdrawToleranceA`).
 */
export const OVERDRAW_TOLERANCE_A = 1;
/**
 * How long an overdrawing charger must follow its set-point before it is counted at its set-point
 * again and may be raised, ms (default of `control.overdrawClearMs`).
 */
export const OVERDRAW_CLEAR_MS = 60_000;
/**
 * How long a charger never seen following a decrease is given to follow one, ms (default of
 * `control.decreaseSettleMs`): the start value of its follow time, which is then learned from its
 * own decreases (evidence/response-time.ts). Real chargers take 2 to 30 s; 60 s is on the safe side.
 */
export const DECREASE_SETTLE_MS = 60_000;
/**
 * How fast a set-point may rise, A per second (default of `control.rampUpAPerS`): a slow rise
 * lets a circuit meter and the other chargers' decreases catch up before the current is taken.
 */
export const RAMP_UP_A_PER_S = 0.5;

/** Timers and thresholds of the controller; every field has a default (`DEFAULT_CONTROL`). */
export interface ControlConfig {
  /** At most one increase per connector per interval; decreases that protect a circuit are immediate. */
  minUpdateIntervalMs: number;
  /** Increases are ramped: at most this many A per second since the connector's last change. */
  rampUpAPerS: number;
  /** Set-point resolution (rounded down). */
  stepA: number;
  /**
   * Decreases smaller than this are not sent unless a circuit needs them; an increase smaller than
   * this waits until it is worth this much for one `minUpdateIntervalMs` (A × s: half of it waits
   * two intervals), so a small rise that lasts is sent, a flicker is not.
   */
  minChangeA: number;
  /** A connector started by the load manager keeps charging at least this long, if it fits. */
  minOnMs: number;
  /** A connector paused by the load manager stays paused at least this long... */
  minOffMs: number;
  /**
   * ...doubled for each further pause that follows a charge shorter than 10 min, up to this (so a
   * recurring peak does not switch a contactor every few minutes: evidence/minimum-times.ts). A
   * `pv` car's count of stops starts again after a charge this long (`pv.enableDelayMs`).
   */
  minOffMaxMs: number;
  /** A paused connector restarts only when its minimum plus this margin fits (start hysteresis). */
  startMarginA: number;
  /** How often the controller re-evaluates on its own (staleness, timers). */
  tickMs: number;
  /**
   * A charger drawing more than its set-point plus this (within its follow time after a change,
   * more than the higher of the old and the new) is reported and counted at what it draws from
   * that reading on; its set-point is not raised while it is. Caught a second time in the same
   * session, it is not under control until its car leaves (evidence/uncontrolled.ts).
   */
  overdrawToleranceA: number;
  /**
   * A charger counted at what it draws is trusted again only when its own readings, measured after
   * its last set-point change, show it following for this long (two readings at least this far apart).
   */
  overdrawClearMs: number;
  /**
   * A charger never seen following a decrease is given this long to follow one (the start value of
   * its follow time, learned afterwards from its own decreases: evidence/response-time.ts). Its readings
   * within its follow time after a change are compared with the higher of the two set-points, and
   * an increase of another connector that needs the current a decrease frees waits until the
   * decreased charger's own reading shows it followed, or its follow time passed with no reading.
   */
  decreaseSettleMs: number;
  /** A car drawing more than this below its set-point... */
  underDrawMarginA: number;
  /** ...for this long gets its set-point lowered to its draw plus `underDrawHeadroomA`. */
  underDrawAfterMs: number;
  underDrawHeadroomA: number;
  /**
   * A car is counted on fewer phases only after two readings of its charger, at least this far
   * apart and with none between them showing another phase, saw it use those phases only (a phase
   * not measured counts as used).
   */
  phaseDetectionMs: number;
  /** A charger's own current measurement older than this is not used. */
  connectorDrawStaleAfterMs: number;
  /** Summary on output 2 at least this often (and at once after a set-point changes). */
  summaryIntervalMs: number;
  /** `mostEnergyFirst`: a paused session replaces a charging one only with this much less energy. */
  shedHysteresisWh: number;
  /**
   * Count a car whose phases are not measured yet as a single-phase car on its L1 for the
   * unbalance limit (default false: on all its wired phases, as for the capacity).
   */
  strictUnbalance: boolean;
  /**
   * Chargers that take no offline fallback keep the last limit they were given once ampflow is
   * gone (ABB Terra: limits at stack level 0; EVlink R4/R5: a vendor key). true (default): while
   * ampflow runs they are given no more than fits, with every other connector's fallback and the
   * other loads' learned peak, if ampflow stopped now (safe; costs energy only while the circuit
   * is full and the other loads are below their peak). false: they get what the circuit allows
   * now, and the summary says what they would draw at worst.
   */
  holdKeptLimits: boolean;
  /**
   * Start every car at its minimum and ramp every rise (`rampUpAPerS`, one change per
   * `minUpdateIntervalMs`), even where the headroom is measured (control/measured-headroom.ts).
   * Default false: a car whose share is measured free (and would fit even if its charger drew its
   * maximum) gets it at once; where it is not, it starts at its minimum and the ramp applies.
   */
  softStart: boolean;
}

export interface PvConfig {
  /** The circuit whose meter is the grid meter (import positive). Default: the only root. */
  gridCircuit?: string;
  /** Kept back from the surplus as a household safety margin, W. Default 100. */
  residualPowerW?: number;
  /** Reading source of the home battery: `totalPowerW` positive while charging, `socPercent`. */
  batterySource?: string;
  /**
   * Reading source(s) of the PV inverter(s): what they generate (`currentA` per phase, else
   * `totalPowerW`, either sign). The meters' plausibility rules allow for the generation as
   * measured; without it, where something below a meter may generate (a car on PV, a battery),
   * a meter reading below the chargers or exporting cannot be judged.
   */
  inverterSource?: string | string[];
  /**
   * While the battery's SoC is below this, its charge power is not for cars; once it was below, until
   * 1 % above it (no hand-over at every crossing). Default 0 (cars first).
   */
  batteryPrioritySocPercent?: number;
  /**
   * The battery's highest charge power, W. While it has priority, what it could take beyond what it
   * takes now is kept back too (a battery only charges from what is exported, so without this the
   * cars would take the surplus first). Default 0.
   */
  batteryMaxChargeW?: number;
  /**
   * Above this SoC (and not below `batteryPrioritySocPercent`) the home battery is the buffer of the
   * pv cars: what it gives while a cloud passes does not count against a charging `pv` car (which
   * goes down to its minimum, not off), and no `residualPowerW` is kept back (the battery takes
   * the meter's lag both ways). Never to start a car. Default 100: never (the battery's energy is
   * the home's, whether it may feed a car is the owner's choice).
   */
  batteryBufferSocPercent?: number;
  /**
   * Enough surplus for a car's minimum this long before a `pv` car starts. A car a dip stopped
   * this session also needs the surplus beyond its minimum to have been worth its minimum for this
   * long (energy), twice that after each further stop that followed a charge shorter than
   * `control.minOffMaxMs`, up to 8×. Default 60 000.
   */
  enableDelayMs?: number;
  /**
   * A charging `pv` car stops once what it took beyond the surplus at its minimum (the one-phase
   * minimum if it can still switch), less what the surplus gave back above it, reaches the
   * one-phase minimum for this long (a grid-energy budget per dip, 69 Wh at 6 A: a one-phase car
   * with no surplus at all stops after this long, a three-phase one after a third of it), or once
   * it was short for twice this long. Without a grid reading: after this long. Default 180 000.
   */
  disableDelayMs?: number;
  /** 3p → 1p after this long with too little for 3 phases. Default 180 000. */
  phaseSwitchDownDelayMs?: number;
  /**
   * 1p → 3p after this long with enough for 3 phases without a break (a switch under load stops
   * the car for the charger's pause: one more start). Default 600 000.
   */
  phaseSwitchUpDelayMs?: number;
  /** Switch up only when the 3-phase minimum fits with this margin per phase, A. Default 1. */
  phaseSwitchUpMarginA?: number;
  /** After a switch the charger needs this long; both phase sets are counted meanwhile. Default 60 000. */
  phaseSwitchSettleMs?: number;
  /** Per session. Default 4. */
  maxPhaseSwitchesPerSession?: number;
}

export interface SiteConfig {
  /**
   * The version of this shape (lib/config-versions.ts SITE_SHAPE): absent in sites saved up to
   * 0.1.0 (read as 0), written by the editor; a site is upgraded to the current shape when read.
   */
  version?: number;
  /**
   * The supply network (phases.ts `Network`): `TN` (3×400 V with a neutral) or `IT` (3×230 V
   * without one: a single-phase connector loads two line conductors). Default `TN`. One per site:
   * the network is the grid connection's, and every circuit below it has the same (a site with an
   * isolating transformer to another network below is a second site).
   */
  network?: Network;
  /**
   * Line-to-neutral voltage used to turn currents into power (TN); on IT the line-to-line voltage
   * (3×230 V: 230). Default 230.
   */
  voltageV?: number;
  /**
   * The site's time zone, an IANA name (`Europe/Berlin`): the clock times in the load manager's
   * words (a plan's slots and departure) and the dashboard's. Default: the Node-RED process's zone.
   */
  timeZone?: string;
  circuits: CircuitConfig[];
  connectors: ConnectorConfig[];
  /** Default `firstStarted`. */
  shedding?: SheddingRule;
  /** Unbalance limit at the root circuits, A; `null` turns it off. Default 20. */
  unbalanceLimitA?: number | null;
  /** Mode of connectors that set none. Default `fast`. */
  defaultMode?: ChargingMode | string;
  control?: Partial<ControlConfig>;
  pv?: PvConfig;
}

export const DEFAULT_CONTROL: Readonly<ControlConfig> = {
  minUpdateIntervalMs: 30_000,
  rampUpAPerS: RAMP_UP_A_PER_S,
  stepA: 0.1,
  minChangeA: 1,
  minOnMs: 120_000,
  minOffMs: 30_000,
  minOffMaxMs: 900_000,
  startMarginA: 1,
  tickMs: 1_000,
  overdrawToleranceA: OVERDRAW_TOLERANCE_A,
  overdrawClearMs: OVERDRAW_CLEAR_MS,
  decreaseSettleMs: DECREASE_SETTLE_MS,
  underDrawMarginA: 2,
  underDrawAfterMs: 60_000,
  underDrawHeadroomA: 1,
  phaseDetectionMs: 30_000,
  connectorDrawStaleAfterMs: 180_000,
  summaryIntervalMs: 10_000,
  shedHysteresisWh: 2_000,
  strictUnbalance: false,
  holdKeptLimits: true,
  softStart: false,
};

export const DEFAULT_STALE_AFTER_MS = 30_000;
/** A stale circuit's per-connector fallback when none is set: the minimum a car can charge at. */
export const DEFAULT_FALLBACK_CONNECTOR_A = IEC_61851_MINIMUM_A;
export const DEFAULT_UNBALANCE_LIMIT_A = 20;
export const DEFAULT_MIN_A = IEC_61851_MINIMUM_A;
export const DEFAULT_MAX_A = 32;
/** The site's voltage when it names none (an alias of the one owner's value, for existing imports). */
export const DEFAULT_VOLTAGE_V = NOMINAL_VOLTAGE_V;
