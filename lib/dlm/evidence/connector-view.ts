/**
 * How a connector counts in this update, derived from the observer's records (evidence/observer.ts
 * `observe` writes them) without changing any: its phases for the capacity and for the unbalance,
 * its floor (a charger not under control, or one that overdraws), its cap and why, its mode,
 * priority, minimum and plan. The draw helpers here (`freshDraw`, `chargerPhasesOf`, `drawnNow`)
 * are pure too; the observer reads the records through them the same way.
 */
import type { ConnectorStatus } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import { type ConnectorRuntime, type ConnectorView, newView, type SessionRuntime } from '../parts';
import {
  conductorsOf,
  type GridPhase,
  gridPhasesFor,
  maxKnown,
  NO_FLOOR,
  ONE_PHASE,
  type Triple,
  triple,
  union,
  wiredPhases,
} from '../phases';
import type { Connector, Site } from '../site/model';
import { type Reason, say } from '../words';
import { carWantsCurrent } from './car-left';
import { carMinimum } from './car-minimum';
import { departurePlan } from './departure';
import { type DrawSample, drawGrid } from './measurements';
import { minimumTimes } from './minimum-times';
import { sessionEnergyWh } from './observations';
import { notRaisedAbove } from './overdraw';
import { settlingAfterSwitch } from './phase-session';
import { effectiveMode, effectivePriority } from './preference-in-force';
import { failedLimitReserve, ignoredLimitReserve, offlineReserve } from './uncontrolled';

/**
 * How the connector counts in this update, from the records as `observe` left them (changes no
 * record). Written into `into`, the connector's view of the last update, when there is one: every
 * field is set again, so nothing of the last update is left (`observeAll` keeps one per connector;
 * no one else keeps a view past its update).
 */
export function viewConnector(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
  into?: ConnectorView,
): ConnectorView {
  const { control } = site;
  const state = runtime.state;
  const known = state !== undefined;
  const online = state?.online === true;
  const status = state?.status;
  const wantsByStatus = online && carWantsCurrent(connector, runtime);
  const session = runtime.session;
  const drawFresh = freshDraw(site, runtime, now);
  const chargerPhases = chargerPhasesOf(site, connector, session, now);
  const gridPhases = gridPhasesFor(connector, chargerPhases);
  // A car whose phases are not measured yet counts on all wired phases, for the capacity (the
  // safe side) and, by default, for the unbalance too: the unbalance rule is about sustained
  // load, and the detection takes only phaseDetectionMs, during which new cars charge at their
  // minimum. `strictUnbalance` counts such a car on its L1 for the unbalance (the worst case
  // there), which holds cars back until their phases are known.
  const unbalancePhases =
    control.strictUnbalance && connector.phases === 3 && !session.onePhase && !session.confirmedPhases
      ? gridPhasesFor(connector, ONE_PHASE)
      : gridPhases;
  const drawGridA = drawFresh ? drawGrid(connector, drawFresh) : undefined;
  const sentLimit = runtime.sent?.limitA ?? 0;

  // Floors: what it may draw whatever we say (most connectors have none: one shared list of zeros).
  let floorA: Readonly<Triple> = NO_FLOOR;
  // Not under our control, it draws what it does on its own; one that never connected, nothing.
  const neverConnected = state?.neverConnected === true;
  // A charger that refused its limit (or never answered) is not under control either, from the
  // moment the profile manager said so: online, it is counted at what it may draw on its own.
  const uncontrolled =
    (!known || !online) && !neverConnected
      ? offlineReserve(site, connector, runtime, now)
      : online && state?.limitFailed
        ? failedLimitReserve(connector, runtime, drawFresh)
        : online && session.ignoresLimit
          ? ignoredLimitReserve(connector, runtime, drawFresh)
          : undefined;
  if (uncontrolled) {
    const floor = triple(0);
    for (const p of conductorsOf(connector)) floor[p] = uncontrolled.amps;
    floorA = floor;
  }
  // An overdrawing charger is counted at what it drew; on a phase it counts on but drew nothing on
  // (at most ACTIVE_PHASE_A: a meter's offset; it was just switched up), at the most it drew.
  let overdrawExcessA = 0;
  if (session.overdrawing && session.overdrawFloorA) {
    const overdrawFloor = session.overdrawFloorA;
    const highest = Math.max(...overdrawFloor);
    overdrawExcessA = Math.max(0, highest - sentLimit);
    floorA = floorA.map((value, p) => {
      const drew = overdrawFloor[p] ?? 0;
      const idle = !(drew > ACTIVE_PHASE_A) && gridPhases.includes(p as GridPhase);
      return Math.max(value, idle ? highest : drew || 0);
    }) as Triple;
  }

  let capA = connector.maxA;
  let capReason: Reason | undefined;
  const operatorA = runtime.state?.operatorLimitA;
  if (operatorA !== undefined && operatorA < capA) {
    capA = Math.max(0, operatorA);
    capReason = [say('backendAllows', { amps: capA })];
  }
  const carMaxA = runtime.state?.carNeeds?.maxA;
  if (carMaxA !== undefined && carMaxA < capA) {
    capA = carMaxA;
    capReason = [say('carTakesAtMost', { amps: carMaxA })];
  }
  if (session.underDrawCapA !== undefined && session.underDrawCapA < capA) {
    capA = session.underDrawCapA;
    capReason = [say('carDraws', { amps: (drawnNow(status, drawFresh, chargerPhases) ?? 0).toFixed(1) })];
  }
  // A charger whose limit failed does not get its set-point: its car takes what the charger offers
  // on its own, what it is counted at (failedLimitReserve). A share above that is left unused and,
  // counted at its set-point, kept from the others (issue 45: a refuser taking 6.2 A was given 13.3 A).
  if (uncontrolled && online && state?.limitFailed && uncontrolled.amps < capA) {
    capA = uncontrolled.amps;
    capReason = uncontrolled.why;
  }
  const held = notRaisedAbove(connector, runtime, online);
  if (held && held.capA < capA) {
    capA = held.capA;
    capReason = held.why;
  }

  const mode = effectiveMode(site, connector, runtime);
  const { keepOn, keepOff } = minimumTimes(control, runtime, now);
  // Every field, those the later stages set too, into the one object per connector: views are
  // made for every connector on every update, and one made anew each time was a third of what an
  // update allocated (the garbage collector's work grew with it).
  const view = into ?? newView();
  view.online = online;
  view.uncontrolled = uncontrolled;
  view.known = known;
  view.wantsByStatus = wantsByStatus;
  view.mode = mode;
  view.priority = effectivePriority(connector, runtime);
  view.chargerPhases = chargerPhases;
  view.gridPhases = gridPhases;
  view.unbalancePhases = unbalancePhases;
  view.drawGridA = drawGridA;
  view.unphased = drawFresh?.unphased === true;
  view.fromEnergy = drawFresh?.energy !== undefined;
  view.floorA = floorA;
  view.capA = capA;
  view.capReason = capReason;
  view.notWanting = undefined;
  view.pausedByManager = false;
  view.overdrawExcessA = overdrawExcessA;
  view.phasesOut = connector.phases === 1 || session.onePhase ? 1 : 3;
  view.keepOn = keepOn;
  view.keepOff = keepOff;
  view.countsForPv = (mode === 'pv' || mode === 'minpv') && status !== 'SuspendedEV';
  const minimum = carMinimum(connector, runtime);
  view.minA = minimum.minA;
  view.minFromCar = minimum.why !== undefined;
  view.minWhy = minimum.why;
  view.holdReason = undefined;
  view.sentA = sentLimit;
  view.neverConnected = neverConnected;
  view.resting = status === 'SuspendedEV';
  view.sinceMs = session.startedAtMs ?? runtime.wantingSinceMs ?? Number.POSITIVE_INFINITY;
  view.energyWh = sessionEnergyWh(state);
  // Last: the plan reads the view's mode, phases, minimum and wanting.
  view.plan = departurePlan(site, runtime, view, now);
  return view;
}

/** The newest draw sample while it is fresh (connectorDrawStaleAfterMs). */
export function freshDraw(site: Site, runtime: ConnectorRuntime, now: number): DrawSample | undefined {
  const draw = runtime.draw;
  return draw && now - draw.atMs <= site.control.connectorDrawStaleAfterMs ? draw : undefined;
}

/**
 * The charger phases the car counts on: one after a switch to one phase, else the detected ones
 * (all wired until detected); while a switch settles, the old ones as well.
 */
export function chargerPhasesOf(
  site: Site,
  connector: Connector,
  session: SessionRuntime,
  now: number,
): readonly number[] {
  const phases = session.onePhase ? ONE_PHASE : (session.confirmedPhases ?? wiredPhases(connector));
  if (settlingAfterSwitch(site, session, now) && session.previousChargerPhases) {
    return union(phases, session.previousChargerPhases);
  }
  return phases;
}

/**
 * What the car draws now on its phases (a car in SuspendedEV draws nothing even when no meter
 * value says so).
 */
export function drawnNow(
  status: ConnectorStatus | undefined,
  drawFresh: DrawSample | undefined,
  chargerPhases: readonly number[],
): number | undefined {
  if (status === 'SuspendedEV') return maxKnown(drawFresh?.chargerA, chargerPhases) ?? 0;
  if (status === 'Charging' && drawFresh) return maxKnown(drawFresh.chargerA, chargerPhases);
  return undefined;
}
