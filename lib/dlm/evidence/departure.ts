/**
 * What a car's ISO 15118 needs ask of the load manager (OCPP 2.0.1 NotifyEVChargingNeeds, carried
 * as `ConnectorState.carNeeds`), beside the cap of its maximum (evidence/observer.ts). The rules, owned here:
 *
 * - **Its minimum.** A car that said it takes no less than `minA` gets that as its minimum this
 *   session instead of the connector's (6 A by default): given less, it would sit in SuspendedEV.
 *   Never below the connector's own minimum.
 * - **Its departure.** A `pv` or `minpv` car that asked for `energyWh` by `departureTime` needs,
 *   at a steady current until then,
 *
 *       needA = (energyWh − energy taken since the report, Wh) × 3600 s/h
 *               ÷ (seconds until departure × its phases × the site's voltage),
 *
 *   rounded up to the set-point step. While that is below its minimum it can still make it at its
 *   minimum later, so the PV surplus alone decides (as for any pv car). From the moment it is not
 *   (a plan), the car charges at least `needA` (at most its maximum): the surplus pays what it can,
 *   the grid the rest, and the surplus goes to such a car first (in keep order), up to its
 *   maximum; the other pv cars charge on what is left. It is a demand like any other: the
 *   allocator gives it no more than every circuit above it allows (then less than `needA`, and
 *   the reason says what holds it), and a car asked to start must fit its minimum. The plan ends
 *   when the energy is taken or the departure time has come: the car is then a plain pv car again.
 *
 * The energy taken since the report is the connector's energy register now less the register when
 * the load manager first had the report (a new report starts the count again: it is what the car
 * needs from then on). Everything is computed from the inputs and the injected clock on every
 * update: no timer of its own (the scheduler's tick runs the updates).
 */
import type { ConnectorState } from '../../contracts';
import { parseTimestamp } from '../../time';
import type { ConnectorRuntime, ConnectorView, DeparturePlan, DepartureSession } from '../parts';
import { ceilStep, EPS } from '../phases';
import { type Connector, minimumForPhases, type Site } from '../site/model';
import { clockTime } from '../site/time-zone';
import { type Reason, type Said, say } from '../words';

/**
 * The minimum of a session, A: the connector's for the car's phases (`connectorMinimumA`), or the
 * car's own (ISO 15118) where that is higher (then the car's is the one in force).
 */
export function sessionMinimumA(
  connector: Connector,
  state: ConnectorState | undefined,
  session?: CarPhases,
): number {
  const ownA = connectorMinimumA(connector, session);
  const carMinA = state?.carNeeds?.minA;
  return carMinA !== undefined && carMinA > ownA ? carMinA : ownA;
}

/** What the session knows of the car's phases (phase detection, a switch to one phase). */
type CarPhases = { onePhase?: boolean; confirmedPhases?: readonly number[] | undefined };

/**
 * The connector's own minimum for the car on it (`minOnePhaseA` or `minThreePhaseA`, site/model.ts):
 * one phase after a switch to one or once its readings showed one; until they show, the phases
 * the connector is wired for.
 */
export function connectorMinimumA(connector: Connector, session: CarPhases | undefined): number {
  const phases = session?.onePhase ? 1 : (session?.confirmedPhases?.length ?? connector.phases);
  return minimumForPhases(connector, phases);
}

/**
 * Keeps where the energy the car asked for counts from (the observer calls this for each
 * connector on every update, after the session is known): a new report (`CarNeeds.at`) starts at
 * the register as it is now; a register not known at the report starts at the first one seen
 * (the energy taken before it is not counted: the car gets more, not less).
 */
export function noteCarNeeds(runtime: ConnectorRuntime): void {
  const session = runtime.session;
  const state = runtime.state;
  const needs = state?.carNeeds;
  if (!needs) {
    if (session.needsAt !== undefined) clearNeeds(session);
    return;
  }
  const registerWh = state?.energyWh;
  if (session.needsAt !== needs.at) {
    session.needsAt = needs.at;
    session.needsFromWh = registerWh;
    session.needsLastWh = registerWh;
    return;
  }
  if (registerWh === undefined) return;
  session.needsFromWh ??= registerWh;
  session.needsLastWh = registerWh;
}

function clearNeeds(session: DepartureSession): void {
  session.needsAt = undefined;
  session.needsFromWh = undefined;
  session.needsLastWh = undefined;
}

/** Energy taken since the report, Wh (0 while the register is not known; never negative). */
function takenSinceNeedsWh(session: DepartureSession): number {
  const from = session.needsFromWh;
  const last = session.needsLastWh;
  return from === undefined || last === undefined ? 0 : Math.max(0, last - from);
}

/**
 * The departure plan of a connector in this update (see the module comment), from its view as the
 * observer wrote it (mode, wanting, phases, minimum): undefined for a car that is not pv or minpv,
 * does not want current now (idle, SuspendedEV, a minimum off time), did not say both its energy
 * and its departure, has its energy, or whose departure has come; and while it can still make it
 * at its minimum later.
 */
export function departurePlan(
  site: Site,
  runtime: ConnectorRuntime,
  view: ConnectorView,
  now: number,
): DeparturePlan | undefined {
  if (view.mode !== 'pv' && view.mode !== 'minpv') return undefined;
  if (!view.wantsByStatus || view.resting || view.keepOff) return undefined;
  const needs = runtime.state?.carNeeds;
  const energyWh = needs?.energyWh;
  if (!needs || energyWh === undefined || needs.departureTime === undefined) return undefined;
  const departureMs = parseTimestamp(needs.departureTime)?.ms;
  if (departureMs === undefined || !(departureMs > now)) return undefined;
  const remainingWh = energyWh - takenSinceNeedsWh(runtime.session);
  if (!(remainingWh > 0)) return undefined;
  // The phases it draws on: the fewer of those it is counted on and those it said it charges on.
  const phases = Math.max(1, Math.min(view.gridPhases.length, needs.phases ?? 3));
  const steadyA = (remainingWh * 3_600_000) / (departureMs - now) / (phases * site.voltageV);
  const needA = ceilStep(steadyA, site.control.stepA);
  if (!(needA >= view.minA - EPS)) return undefined;
  return { needA, phases, energyWh, remainingWh, departureMs, atMs: now, shareA: 0, takeA: 0 };
}

/**
 * The PV surplus shared among the cars with a plan that `charges` says charge, in keep order,
 * before the other pv cars get any: each takes all that is left of it (`shareA`), at least its
 * `needA` (the grid pays the rest), at most its cap (`takeA`). Writes both into each plan; returns
 * the surplus left for the others, W. Called by the PV stage (what the plans take before other cars
 * start or keep charging) and by the problem builder (their demands), on the same views and
 * budget: the same answer.
 */
export function shareSurplusWithPlans(
  site: Site,
  views: readonly ConnectorView[],
  order: readonly number[],
  budgetW: number,
  charges: (k: number) => boolean,
): number {
  let leftW = Math.max(0, budgetW);
  for (const k of order) {
    const view = views[k];
    const plan = view?.plan;
    if (!view || !plan || !charges(k)) continue;
    const perAW = plan.phases * site.voltageV;
    plan.shareA = Number.isFinite(leftW) ? leftW / perAW : view.capA;
    plan.takeA = Math.max(0, Math.min(view.capA, Math.max(plan.needA, plan.shareA)));
    leftW = Math.max(0, leftW - plan.takeA * perAW);
  }
  return leftW;
}

/** A departure's parameters: `20 kWh by 07:30` (in the site's zone; with the date when not within a day). */
function describeDeparture(plan: DeparturePlan, timeZone: string): { kWh: number; time: string } {
  return {
    kWh: Math.round(plan.energyWh / 100) / 10,
    time: clockTime(plan.departureMs, plan.atMs, timeZone),
  };
}

/**
 * The reason of a car with a plan that gets `limitA`: what the surplus pays, what the grid adds,
 * and what for. `held`: what a circuit allows, in words, when one holds it below what its plan
 * takes; `cap`: what caps it (its maximum, the car's, the operator's) when that is below its need.
 */
export function describePlan(
  plan: DeparturePlan,
  limitA: number,
  timeZone: string,
  held?: Reason,
  cap?: Reason,
): Said {
  const goal = describeDeparture(plan, timeZone);
  if (held) return say('planLimited', { why: held, amps: plan.needA, ...goal });
  const short = plan.needA > limitA + EPS;
  const why = cap ?? [say('maxIsLess')];
  const fromGridA = Math.round((limitA - plan.shareA) * 10) / 10;
  if (fromGridA <= 0)
    return short ? say('planFirstShort', { ...goal, amps: plan.needA, why }) : say('planFirst', goal);
  if (plan.shareA < 0.05)
    return short
      ? say('planGridShort', { amps: limitA, ...goal, needA: plan.needA, why })
      : say('planGrid', { amps: limitA, ...goal });
  return short
    ? say('planPlusShort', { amps: fromGridA, ...goal, needA: plan.needA, why })
    : say('planPlus', { amps: fromGridA, ...goal });
}
