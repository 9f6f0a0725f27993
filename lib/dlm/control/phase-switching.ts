/**
 * Phase-switching stage: when a connector that can switch goes to one phase or back to three, after
 * its delays and margins. The switching part of the session record and what may be done with it (at
 * most how often, the switch itself, a car that refused one is switched no more) are
 * evidence/phase-session.ts; the switch itself never breaks the invariant, since the observer
 * counts the connector on both phase sets until it has settled.
 */
import type { Logger } from '../../log';
import type { AllocationProblem, ConnectorAllocation } from '../allocation/allocate';
import { canSwitch, clearTally, settlingAfterSwitch, switchPhases, tallyWh } from '../evidence/phase-session';
import type { ConnectorView } from '../parts';
import {
  EPS,
  GRID_PHASES,
  type GridPhase,
  gridPhasesFor,
  ONE_PHASE,
  onePhaseConductors,
  type Triple,
  triple,
} from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import { countedA } from '../site/circuit';
import type { Site } from '../site/model';

/** What the decision looks at: this update's site, records and connector views. */
export interface PhaseSwitchContext {
  site: Site;
  logger: Logger;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
}

/**
 * Switch down when the 3-phase minimum cannot be met but the 1-phase one can; up when 3 phases
 * give more than 1 can and the 3-phase minimum fits with a margin; each after its own delay (at
 * once while not charging, except a pv or minpv car's switch up), at most N per session. Returns
 * whether any connector switched.
 */
export function decidePhaseSwitches(
  context: PhaseSwitchContext,
  now: number,
  problem: AllocationProblem,
  allocation: { connectors: ConnectorAllocation[] },
  pvBudgetW: number,
): boolean {
  const { site, runtimes, views } = context;
  const { pv } = site;
  let switched = false;
  // Most sites have no connector that may switch now: then nothing below needs computing.
  const candidates: number[] = [];
  site.connectors.forEach((connector, k) => {
    // The connector's own setting first: most are not wired to switch (nothing else is read).
    if (!connector.canSwitchPhases) return;
    const runtime = runtimes.of(connector);
    if ((runtime.sent?.limitA ?? 0) > 0) runtime.session.currentSent = true;
    if (!views[k] || !problem.connectors[k]?.wants || !canSwitch(site, connector, runtime)) return;
    if (!settlingAfterSwitch(site, runtime.session, now)) candidates.push(k);
  });
  if (candidates.length === 0) return false;
  // Residual per circuit and phase after this allocation; and while decreases are on their way,
  // with each connector at the most it may still draw (its target, what it was sent, a decrease
  // it has not yet shown to follow).
  const usage = site.circuits.map(() => triple(0));
  const usageInFlight = site.circuits.map(() => triple(0));
  problem.connectors.forEach((demand, k) => {
    const limit = allocation.connectors[k]?.limitA ?? 0;
    const runtime = runtimes.at(k);
    const inFlight = Math.max(limit, runtime?.sent?.limitA ?? 0, runtime?.pendingDecrease?.fromA ?? 0);
    for (const c of demand.path) {
      for (const p of GRID_PHASES) {
        const own = demand.phases.includes(p);
        const row = usage[c];
        if (row) row[p] += countedA(demand.floorA[p], own, limit);
        const flight = usageInFlight[c];
        if (flight) flight[p] += countedA(demand.floorA[p], own, inFlight);
      }
    }
  });
  let pvUsedW = 0;
  problem.connectors.forEach((demand, k) => {
    if (demand.pv) pvUsedW += (allocation.connectors[k]?.limitA ?? 0) * demand.phases.length * site.voltageV;
  });
  for (const k of candidates) {
    const connector = site.connectors[k];
    const view = views[k];
    const demand = problem.connectors[k];
    if (!connector || !view || !demand) continue;
    const runtime = runtimes.of(connector);
    const session = runtime.session;
    const own = allocation.connectors[k]?.limitA ?? 0;
    const ownInFlight = Math.max(own, runtime.sent?.limitA ?? 0, runtime.pendingDecrease?.fromA ?? 0);
    const residualIn = (used: Triple[], mine: number) => (p: GridPhase) =>
      Math.min(
        ...connector.path.map((c) => {
          const capacity = problem.circuits[c]?.capacityA[p] ?? 0;
          const taken = used[c]?.[p] ?? 0;
          return capacity - taken + (demand.phases.includes(p) ? Math.max(0, mine - demand.floorA[p]) : 0);
        }),
      );
    const residual = residualIn(usage, own);
    // A car with a departure plan is not held to the surplus (evidence/departure.ts): it switches as a fast car.
    const pvLimited = (view.mode === 'pv' || view.mode === 'minpv') && !view.plan;
    const minA = demand.minA;
    const ownPowerW = own * demand.phases.length * site.voltageV;
    const pvShareW = pvLimited ? Math.max(0, pvBudgetW - pvUsedW + ownPowerW) : Number.POSITIVE_INFINITY;
    // A charger that draws more than its set-point takes its excess to every phase it uses.
    const excessA = view.overdrawExcessA;
    const threeA =
      Math.min(connector.maxA, ...GRID_PHASES.map(residual), pvShareW / (3 * site.voltageV)) - excessA;
    const oneA =
      Math.min(
        connector.maxA,
        ...gridPhasesFor(connector, ONE_PHASE).map(residual),
        pvShareW / (onePhaseConductors(connector) * site.voltageV),
      ) - excessA;
    const charging = (runtime.sent?.limitA ?? 0) > 0;
    if (!session.onePhase) {
      // What the three-phase minimum takes beyond the surplus, in energy (see `tallyWh`).
      let shortWh = 0;
      if (pvLimited && charging)
        shortWh = tallyWh(session.downShort, minA * 3 * site.voltageV - pvShareW, now);
      else clearTally(session.downShort);
      const budgetWh =
        (minA * onePhaseConductors(connector) * site.voltageV * pv.phaseSwitchDownDelayMs) / 3_600_000;
      if (threeA < minA - EPS && (oneA >= minA || (pvLimited && charging))) {
        session.downSinceMs ??= now;
        const steady = now - session.downSinceMs >= pv.phaseSwitchDownDelayMs;
        if (!charging || steady || shortWh >= budgetWh - EPS) {
          const why =
            charging && !steady
              ? `three phases took ${Math.round(shortWh)} Wh more than the PV surplus since the clouds came (allowed: the one-phase minimum for the switch-down delay, ${Math.round(budgetWh)} Wh)`
              : undefined;
          switchPhases(site, context.logger, connector, runtime, true, now, why);
          switched = true;
        }
      } else session.downSinceMs = undefined;
    } else {
      // Up only once three phases have fitted for the switch-up delay without a break, charging or
      // not for a pv car (one a dip stopped starts again on one phase: a switch up before its
      // start was followed by a switch back down at its next restart). A switch under load stops
      // the car for the charger's pause and is one more start of it: under fast clouds the sun
      // never holds that long and the car rides the clouds on one phase (bench:control's oracle:
      // with at most two starts a day the best schedule never switches under load). A rule that
      // switched up by the energy three phases would have gained switched up and back down every
      // few minutes there: 4-7 starts a day for 0.5-1.5 points of the surplus (issue #39).
      const moreAtThree = 3 * threeA > Math.min(oneA, connector.maxA) + EPS;
      if (threeA >= minA + pv.phaseSwitchUpMarginA && moreAtThree) {
        session.upSinceMs ??= now;
        // Two more phases must fit without anyone's decrease: one still on its way waits.
        const residualNow = residualIn(usageInFlight, ownInFlight);
        const fitsNow = Math.min(...GRID_PHASES.map(residualNow)) - excessA >= minA + pv.phaseSwitchUpMarginA;
        const steady = now - session.upSinceMs >= pv.phaseSwitchUpDelayMs;
        if (fitsNow && ((!charging && !pvLimited) || steady)) {
          switchPhases(site, context.logger, connector, runtime, false, now);
          switched = true;
        }
      } else session.upSinceMs = undefined;
    }
  }
  return switched;
}
