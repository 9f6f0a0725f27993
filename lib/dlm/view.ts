/**
 * The view of a connector in one update (`ConnectorView`: what the observer derives and later
 * stages add to, for this update only) and a departure plan it may carry. Not a record part: made
 * once per connector (`newView`) and written again on every update. parts.ts re-exports it.
 */
import { GRID_PHASES, type GridPhase, NO_FLOOR, THREE_PHASES, type Triple } from './phases';
import type { ChargingMode } from './site/config';
import type { Reason } from './words';

/**
 * A pv or minpv car's departure plan in one update (evidence/departure.ts): it asked over ISO 15118 for
 * `energyWh` by `departureMs` and has `remainingWh` of it still to take; at a steady current it
 * needs `needA` per phase on `phases` phases (rounded up to the set-point step). Only while that
 * is at least its minimum: below, it can still make it at its minimum later, so PV alone decides.
 * `shareA` is what is left of the PV surplus for it, `takeA` what it takes (at least `needA`, at
 * most its cap): the surplus goes to such a car first (evidence/departure.ts shareSurplusWithPlans writes both).
 */
export interface DeparturePlan {
  needA: number;
  phases: number;
  energyWh: number;
  remainingWh: number;
  departureMs: number;
  /** The update it was made in (its words say the date of a departure more than a day after it). */
  atMs: number;
  shareA: number;
  takeA: number;
}

/**
 * How a connector counts in one update. The observer derives it; later stages add what they
 * decide for this update only: the fail-safe a lower cap (`capA`, `capReason`), the PV stage
 * `pausedByManager`, the problem builder `notWanting`, the policy `holdReason`.
 */
export interface ConnectorView {
  online: boolean;
  /** Not under control (offline or not reported yet): what it is counted at, and why. */
  uncontrolled?: { amps: number; why: Reason };
  known: boolean;
  wantsByStatus: boolean;
  mode: ChargingMode;
  priority: number;
  chargerPhases: readonly number[];
  gridPhases: readonly GridPhase[];
  unbalancePhases: readonly GridPhase[];
  drawGridA?: Readonly<Triple>;
  /** Its draw is a current the charger reported without a phase, counted on every wired phase (the reason says so). */
  unphased: boolean;
  /** Its draw is derived from its energy register's readings (evidence/energy-draw.ts): it reports no current. */
  fromEnergy: boolean;
  floorA: Readonly<Triple>;
  /**
   * Where its floor is a count that may mean more than it draws (an energy register's, evidence/
   * overdraw.ts): what it surely draws, beside which its own set-point is judged (allocation/
   * problem.ts ConnectorDemand.ownFloorA); undefined: its floor.
   */
  ownFloorA?: Readonly<Triple> | undefined;
  /** `ownFloorA`'s count was shown by a judged delta (allocation/problem.ts ConnectorDemand.ownFloorJudged). */
  ownFloorJudged: boolean;
  /**
   * Paused, what it was seen drawing above its set-point this session (evidence/overdraw.ts
   * `registerAboveA`, the most over its phases): its start must find room for that too
   * (allocation/problem.ts ConnectorDemand.startExtraA). 0: none.
   */
  startExtraA: number;
  capA: number;
  capReason?: Reason;
  notWanting?: Reason;
  pausedByManager: boolean;
  /** How much more than its set-point an overdrawing charger draws (0 when it follows). */
  overdrawExcessA: number;
  phasesOut: 1 | 2 | 3;
  keepOn: boolean;
  keepOff: boolean;
  countsForPv: boolean;
  /**
   * Its minimum this session: the connector's, or the car's own where it said over ISO 15118 that
   * it takes no less (`CarNeeds.minA`, `minFromCar`), whichever is higher.
   */
  minA: number;
  minFromCar: boolean;
  /** Where the car's own minimum comes from, in words ('ISO 15118', learned this session), while `minFromCar`. */
  minWhy?: Reason;
  /** A pv or minpv car's departure plan (evidence/departure.ts), while it needs current from now on. */
  plan?: DeparturePlan;
  /** Why an increase is held back this update (a decrease not yet in effect, expressions pending). */
  holdReason?: Reason;
  /**
   * What the later stages of the update read of the connector's records, read here once (the
   * records are other objects; each pass that went back to them paid for it again): the set-point
   * in force as the update began (0 for none), whether it has never connected, whether its car
   * takes nothing now (SuspendedEV), since when its session charges (the transaction's start, else
   * since when it wants current; +∞ for neither) and the session's energy so far.
   */
  sentA: number;
  neverConnected: boolean;
  resting: boolean;
  /**
   * Its car takes nothing now (`resting`), or, paused, took nothing when last offered current
   * (evidence/car-minimum.ts `tookNothingWhenLastOffered`): the keep order's first to give way.
   */
  tookNothing: boolean;
  /**
   * Offered more than before within its charger's follow time: its car has not yet had the time to
   * show whether it takes it (a SuspendedEV then says nothing of the car).
   */
  tryingRaise: boolean;
  sinceMs: number;
  energyWh: number;
}

/**
 * A view with every field, before the observer writes it (ConnectorObserver.view): the observer
 * keeps one per connector and writes it again on every update, so all of them keep this shape.
 */
export function newView(): ConnectorView {
  return {
    online: false,
    uncontrolled: undefined,
    known: false,
    wantsByStatus: false,
    mode: 'fast',
    priority: 0,
    chargerPhases: THREE_PHASES,
    gridPhases: GRID_PHASES,
    unbalancePhases: GRID_PHASES,
    drawGridA: undefined,
    unphased: false,
    fromEnergy: false,
    floorA: NO_FLOOR,
    ownFloorA: undefined,
    ownFloorJudged: false,
    startExtraA: 0,
    capA: 0,
    capReason: undefined,
    notWanting: undefined,
    pausedByManager: false,
    overdrawExcessA: 0,
    phasesOut: 3,
    keepOn: false,
    keepOff: false,
    countsForPv: false,
    minA: 0,
    minFromCar: false,
    minWhy: undefined,
    plan: undefined,
    holdReason: undefined,
    sentA: 0,
    neverConnected: false,
    resting: false,
    tookNothing: false,
    tryingRaise: false,
    sinceMs: Number.POSITIVE_INFINITY,
    energyWh: 0,
  };
}
