import type { ConnectorState } from '../contracts';
import type { ChargerStepRecord } from './evidence/charger-step-record';
import type { DrawRecord } from './evidence/measurements';
import type { ObservedSession } from './evidence/observations';
import type { AllFields } from './site/all-fields';
import type { ChargingMode } from './site/config';
import type { Reason } from './words';

export { type ConnectorView, type DeparturePlan, newView } from './view';

/**
 * The parts of a connector's record and of its session record, each declared here for the one
 * stage that writes it (named in its doc comment), and the records they make up. The stages and
 * runtime.ts import it; it imports only the site's and the evidence stage's records, so every stage
 * from the evidence on may read it without reaching a later stage (test/unit/architecture_spec.ts).
 */

/** The switching part of a session record (written only here). */
export interface PhaseSession {
  onePhase: boolean;
  switches: number;
  switchedAtMs?: number;
  previousChargerPhases?: readonly number[];
  /** A current was sent this session (a switch before it interrupts no charge). */
  currentSent?: boolean;
  /** Of `switches`, the one made before any current was sent: not counted against the maximum. */
  switchesBeforeCurrent?: number;
  /** The car kept drawing on phases it was switched off: no more switching this session. */
  phaseSwitchRefused: boolean;
  downSinceMs?: number;
  upSinceMs?: number;
  /** A pv car on three phases: what its minimum took beyond the surplus, less what it gave since. */
  downShort: EnergyTally;
}

/**
 * Energy that runs up while a power is positive and back down while it is negative (W × ms, never
 * below 0), kept as the total at `atMs` and the power since: `wms` is undefined while nothing is
 * counted. Written only by evidence/phase-session.ts
 * (`tallyWh`, `clearTally`); made once per session with all its fields, for V8 (see runtime.ts).
 */
export interface EnergyTally {
  wms?: number;
  w?: number;
  atMs?: number;
}

export function newEnergyTally(): AllFields<EnergyTally> {
  return { wms: undefined, w: undefined, atMs: undefined };
}

export function newPhaseSession(): AllFields<PhaseSession> {
  return {
    onePhase: false,
    switches: 0,
    switchedAtMs: undefined,
    previousChargerPhases: undefined,
    currentSent: undefined,
    switchesBeforeCurrent: undefined,
    phaseSwitchRefused: false,
    downSinceMs: undefined,
    upSinceMs: undefined,
    downShort: newEnergyTally(),
  };
}

/** A set-point change: the limit sent and when (PolicyRecord.changes). */
export interface SetPointChange {
  atMs: number;
  limitA: number;
}

/** The policy's part of a connector's record (written only here). */
export interface PolicyRecord {
  /**
   * The set-point in force, and the reason it went out with (why it is what it is now, the load
   * manager explains when asked: LoadManager.setPoints, the summary).
   */
  sent?: {
    limitA: number;
    phases: 1 | 2 | 3;
    reason: string;
    /** `reason` in message keys and parameters, as the stages made it (lib/dlm/words.ts). */
    words: Reason;
    atMs: number;
    fallbackA?: number;
  };
  /** The set-point before the last change (a charger may still follow it for decreaseSettleMs). */
  previousSent?: { limitA: number; phases: 1 | 2 | 3 };
  lastChangeAtMs?: number;
  /**
   * The last set-point changes, oldest first, each with when it went out (the newest is `sent`):
   * what the charger was told and when, from which evidence/charger-draw.ts estimates what it drew
   * between its own readings.
   */
  changes: SetPointChange[];
  /** Since when the target is above the set-point (the ramp starts at the later of this and the last change). */
  increaseSinceMs?: number;
  chargingSinceMs?: number;
  /** Paused by the load manager: stays paused until then (minimum off time). */
  offUntilMs?: number;
  /**
   * When an increase last went out: a charger that does not confirm its limits may still be on its
   * way up to it, so its reading proves a later decrease only once it had the time to follow it.
   */
  lastIncreaseAtMs?: number;
}

export function newPolicyRecord(): AllFields<PolicyRecord> {
  return {
    sent: undefined,
    previousSent: undefined,
    lastChangeAtMs: undefined,
    changes: [],
    increaseSinceMs: undefined,
    chargingSinceMs: undefined,
    offUntilMs: undefined,
    lastIncreaseAtMs: undefined,
  };
}

/** The policy's part of a session record. */
export interface PolicySession {
  /** Pauses by the load manager in a row (each doubles the minimum off time). */
  pauses: number;
}

export function newPolicySession(): AllFields<PolicySession> {
  return { pauses: 0 };
}

/** The preferences' part of a connector's record (written only here). */
export interface PreferenceRecord {
  modeOverride?: ChargingMode;
  priorityOverride?: number;
  exprMode?: ChargingMode;
  exprPriority?: number;
  /** The expressions' errors by field (listed in the summary). */
  exprErrors: Map<string, Reason>;
  /** The expression input last evaluated (without the time), to tell a changed input. */
  lastExprInput?: string;
  /** A `price` connector's mode in this update, and its plan in words (modes/price-plans.ts). */
  priceMode?: 'fast' | 'pv';
  pricePlan?: Reason;
  /** The same plan in figures, while the departure planner plans for it (modes/plan-figures.ts). */
  pricePlanned?: PlanFigures;
}

export function newPreferenceRecord(): AllFields<PreferenceRecord> {
  return {
    modeOverride: undefined,
    priorityOverride: undefined,
    exprMode: undefined,
    exprPriority: undefined,
    exprErrors: new Map(),
    lastExprInput: undefined,
    priceMode: undefined,
    pricePlan: undefined,
    pricePlanned: undefined,
  };
}

/**
 * A connector's plan in figures (the summary's `connectors[].planned`): made by the price stage from
 * the departure planner's plan (modes/plan-figures.ts planFigures), kept in `pricePlanned`.
 */
export interface PlanFigures {
  /** Energy planned by the departure, Wh: from the grid and from PV. */
  energyWh: number;
  pvWh: number;
  /** ISO 8601. */
  departure: string;
  /** Grid energy is planned in the slot now: the car charges now. */
  chargingNow: boolean;
  /** The price now, when known. */
  priceNow?: number;
  /** The first slot with grid energy planned (the one now, while charging now). */
  next?: { start: string; price?: number };
  /** What the breakers cannot give by the departure, Wh (absent below 50 Wh). */
  shortWh?: number;
  /** The slots with grid energy planned, in time order. */
  slots: { start: string; end: string; price?: number; gridWh: number }[];
}

/** The PV part of a session record (written only here). */
export interface PvSession {
  pvEnabled: boolean;
  pvEnableSinceMs?: number;
  /**
   * While enabled: what the car took beyond the surplus at its minimum (W × ms), less what the
   * surplus gave back above it since; it stops when this reaches its budget (its minimum, at most
   * the one-phase minimum, for `disableDelayMs`).
   */
  pvShortfallWms?: number;
  /** Since when the surplus has been short of the car's minimum without a break (a dip). */
  pvShortSinceMs?: number;
  /** What was put by (−pvShortfallWms) when the dip began: it lengthens the dip's cap. */
  pvDipCreditWms?: number;
  /**
   * While waiting to start: what the surplus gave beyond the car's minimum (W × ms), less what it
   * was short of it; the surplus beyond the minimum at the last decision, and when.
   */
  pvStartWms?: number;
  pvStartW?: number;
  pvStartAtMs?: number;
  /**
   * A car a dip stopped, waiting although the surplus fits its minimum: what the charging cars
   * could take of it beyond their minimums, W (it starts only on what they cannot take).
   */
  pvLeftToOthersW?: number;
  /** What a waiting pv car needs to start, W: its minimum on the phases it would start on. */
  pvNeedW?: number;
  /** What is left for a waiting pv car of the surplus after the other cars' minimums, W, when less than the surplus. */
  pvLeftW?: number;
  /** A car a dip stopped: the reserve its start waits for, and how much of it the surplus paid, Wh. */
  pvReserve?: { paidWh: number; neededWh: number };
  /** Pv stops this session (each doubles the start's energy, up to 8×). */
  pvStops?: number;
  pvEnabledAtMs?: number;
  /** The shortfall (W) at the last decision, counted until the next (`pvShortfallAtMs`). */
  pvShortfallW?: number;
  pvShortfallAtMs?: number;
}

export function newPvSession(): AllFields<PvSession> {
  return {
    pvEnabled: false,
    pvEnableSinceMs: undefined,
    pvShortfallWms: undefined,
    pvShortSinceMs: undefined,
    pvDipCreditWms: undefined,
    pvStartWms: undefined,
    pvStartW: undefined,
    pvStartAtMs: undefined,
    pvLeftToOthersW: undefined,
    pvNeedW: undefined,
    pvLeftW: undefined,
    pvReserve: undefined,
    pvStops: undefined,
    pvEnabledAtMs: undefined,
    pvShortfallW: undefined,
    pvShortfallAtMs: undefined,
  };
}

/** The observer's part of a connector's record (written only by the observer stage). */
export interface ObservedConnector {
  state?: ConnectorState;
  session: SessionRuntime;
  /**
   * A decrease the charger may not have followed yet: until its reading shows it did (or
   * decreaseSettleMs passed), it is counted at `fromA` for the increases of the others.
   */
  pendingDecrease?: {
    fromA: number;
    atMs: number;
    /** When the first decrease of those not shown followed went out (what a learned time counts from). */
    firstAtMs?: number;
    /** The most its car drew on a phase when the decrease went out (its newest reading), if known. */
    drewA?: number;
    /**
     * The set-points it was sent since the first decrease not shown followed, before its newest
     * (control/policy.ts notes each as it is replaced): a charger that takes 50 s may be applying any of
     * them, and a reading at one of them is no proof it followed the newest (evidence/decrease-settle.ts).
     */
    passedA?: number[];
  };
  /**
   * The limit the charger last confirmed (`ConnectorState.limitInForce`): in force since `sinceMs`
   * (the central system's clock), and `atMs` when it reached the load manager. Once a connector has
   * one, a reading proves a decrease followed only if it arrived after the decrease itself was
   * confirmed: before that, a command still on its way (an increase sent just before) may raise
   * the charger again.
   */
  confirmed?: { limitA: number; sinceMs: number; confirmedAt: string; atMs: number };
  /**
   * Its car left (evidence/car-left.ts) at `atMs` while a decrease from `freedA` was on its way: that
   * current was drawn through its circuits a moment ago, so the others may take it without the
   * ramp (control/policy.ts). Written by settleDecrease only.
   */
  departed?: { atMs: number; freedA: number };
  wantingSinceMs?: number;
  /**
   * How long this charger may take to follow a change of its limit, ms (evidence/response-time.ts: learned
   * from its past decreases, else the site's start value); written by the observer every update.
   */
  followMs?: number;
  wasOnline: boolean;
  /** Needs a re-send (the charger came back online). */
  resend: boolean;
}

export function newObservedConnector(session: SessionRuntime): AllFields<ObservedConnector> {
  return {
    state: undefined,
    session,
    pendingDecrease: undefined,
    confirmed: undefined,
    departed: undefined,
    wantingSinceMs: undefined,
    followMs: undefined,
    wasOnline: false,
    resend: false,
  };
}

/**
 * The departure part of a session record (written only by evidence/departure.ts): which report of the car's
 * needs (`CarNeeds.at`) the energy it asked for counts from, and the connector's energy register
 * then (the energy the car takes from that report on is what it asked for).
 */
export interface DepartureSession {
  /** The report (`CarNeeds.at`) the count starts from. */
  needsAt?: string;
  /** The connector's energy register when the load manager first had the report, Wh (undefined until known). */
  needsFromWh?: number;
  /** The register's last value seen since, Wh (a state without one keeps what was delivered). */
  needsLastWh?: number;
}

export function newDepartureSession(): AllFields<DepartureSession> {
  return { needsAt: undefined, needsFromWh: undefined, needsLastWh: undefined };
}

/** The car's own minimum learned this session (written only by evidence/car-minimum.ts). */
export interface CarMinimumSession {
  /** The minimum learned, A: the car stopped (SuspendedEV) at `stoppedAtA` after a decrease. */
  learnedMinA?: number;
  stoppedAtA?: number;
  /** The lowest limit the car was seen charging at with it in force, A. */
  chargedAtA?: number;
  /** The status at the last update (a stop is Charging, then SuspendedEV). */
  minLastStatus?: ConnectorState['status'];
  /** The limit a car that never charged this session did not start at, A (`learnedMinA` is above it). */
  notStartedAtA?: number;
  /** Offered up to CAR_MINIMUM_PROBE_MAX_A without starting: not asked for more this session. */
  probeDone?: boolean;
  /**
   * Since when the car rests on its own: it charged, then went SuspendedEV at a limit that was not
   * just lowered (full, or waiting for its own timer); cleared when it charges again.
   */
  restingSinceMs?: number;
  /** This update: it yields (`carYields`), offered its minimum only from what the charging cars leave. */
  yielding?: boolean;
}

export function newCarMinimumSession(): AllFields<CarMinimumSession> {
  return {
    learnedMinA: undefined,
    stoppedAtA: undefined,
    chargedAtA: undefined,
    minLastStatus: undefined,
    notStartedAtA: undefined,
    probeDone: undefined,
    restingSinceMs: undefined,
    yielding: undefined,
  };
}

export type SessionRuntime = ObservedSession &
  PhaseSession &
  PvSession &
  PolicySession &
  DepartureSession &
  CarMinimumSession;

export type ConnectorRuntime = DrawRecord &
  ObservedConnector &
  PolicyRecord &
  PreferenceRecord &
  ChargerStepRecord;
