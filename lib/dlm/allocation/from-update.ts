/**
 * Turns the stages' picture of one update into the pure allocator's problem: the keep order
 * (priority, the shedding rule, configuration order), each circuit's capacity (site/circuit.ts
 * `circuitBudget` over the other loads the circuits stage counted, less what the cars' overshoot
 * needs kept) and each connector's demand (with why it does not want current, for the reasons).
 */

import { carYields } from '../evidence/car-minimum';
import { chargerStepA, noteChargerStep } from '../evidence/charger-step';
import type { CircuitView } from '../evidence/circuit-view';
import { shareSurplusWithPlans } from '../evidence/departure';
import { cappedOvershootA, keptForOvershoot, overshootOf } from '../evidence/overshoot';
import type { PvSummary } from '../modes/pv-surplus';
import type { ConnectorView } from '../parts';
import { GRID_PHASES, type GridPhase, NO_FLOOR, onePhaseConductors, type Triple, triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import { circuitBudget, limitNowA } from '../site/circuit';
import type { SiteLimits } from '../site/limits';
import type { Connector, Site } from '../site/model';
import { say, sayStatus } from '../words';
import { type Allocation, type AllocationProblem, allocate, type ConnectorDemand } from './allocate';

/** What a circuit keeps back of its capacity for the overshoot of the cars below it (keepForOvershoot). */
export interface OvershootKept {
  /** Per grid phase, A: the factor's part (evidence/overshoot.ts `keptForOvershoot`), not a held car's own. */
  keptA: Triple;
  /** Per grid phase: the most any car below that may be given more than its own draw was learned at. */
  factor: Triple;
}

/** The allocator's problem as this update built it, with what each circuit kept for the overshoot. */
export interface BuiltProblem extends AllocationProblem {
  /** By circuit index: what it kept for the cars' overshoot; undefined: nothing. */
  readonly overshootKept: readonly (OvershootKept | undefined)[];
}

/** What the problem is built from. */
export interface ProblemContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  circuitViews: readonly CircuitView[];
  siteLimits: SiteLimits;
}

/**
 * Connector indexes in keep order: priority, then the shedding rule, then configuration order.
 * The sort starts from `previous` (an earlier update's order: any order of the indexes 0 … n - 1):
 * the comparison decides every pair (configuration order last), so any start gives the same order,
 * and the sort (a merge sort that takes runs already in order as they are) costs about one
 * comparison per connector when little has changed since.
 */
export function keepOrder(context: ProblemContext, previous?: readonly number[]): number[] {
  const { site, views } = context;
  const mostEnergyFirst = site.shedding === 'mostEnergyFirst';
  // The sort keys in flat arrays (no object per connector), sorted as indexes; read from this
  // update's views (written just before), not from the records.
  const count = site.connectors.length;
  const priorities = new Float64Array(count);
  const restings = new Float64Array(count);
  const keys = new Float64Array(count);
  let comparable = true;
  for (let k = 0; k < count; k++) {
    const view = views[k];
    priorities[k] = view?.priority ?? 0;
    // Within a priority, a car that takes nothing (SuspendedEV) is the first to give way; not one
    // still in its follow time after a raise, which has not had the time to take it (issue 45: two
    // chargers that keep their last limit, each started at 6 A and sent to the end of the order
    // within its charger's 8 s, were held for one another all afternoon and neither car drew). A
    // car paused after it took nothing stays there until it is offered again (view.tookNothing).
    restings[k] = Number(view?.tookNothing === true && !view.tryingRaise);
    let key: number;
    if (mostEnergyFirst) {
      const charging = (view?.sentA ?? 0) > 0;
      key = (view?.energyWh ?? 0) - (charging ? site.control.shedHysteresisWh : 0);
    } else key = view?.sinceMs ?? Number.POSITIVE_INFINITY;
    keys[k] = key;
    // A key that is not a number compares as equal to every other: then the start matters.
    if (Number.isNaN(key) || Number.isNaN(priorities[k] ?? 0)) comparable = false;
  }
  const compare = (a: number, b: number) =>
    (priorities[b] ?? 0) - (priorities[a] ?? 0) ||
    (restings[a] ?? 0) - (restings[b] ?? 0) ||
    (keys[a] ?? 0) - (keys[b] ?? 0) ||
    a - b;
  const start = comparable && previous?.length === count ? previous : undefined;
  if (!start) return Array.from({ length: count }, (_, k) => k).sort(compare);
  // Most updates change no connector's place: then the start is the order (one comparison per
  // pair of neighbours, as the sort's first run would make, without the sort's calls).
  let sorted = true;
  for (let i = 1; i < count && sorted; i++) sorted = compare(start[i - 1] ?? 0, start[i] ?? 0) <= 0;
  return sorted ? start.slice() : start.slice().sort(compare);
}

/**
 * The allocation problem of this update. Sets each view's `notWanting` (why a connector that
 * does not want current does not). The connectors' demands are written into `demands` (by
 * connector index; every field again), the list the last problem had: one object per connector
 * for every update, not one per connector and update. The problem is this update's: the next one
 * writes its demands again.
 */
export function buildProblem(
  context: ProblemContext,
  now: number,
  order: readonly number[],
  pvState: PvSummary | undefined,
  pvBudgetW: number,
  demands: ConnectorDemand[],
): BuiltProblem {
  const { site, runtimes, views } = context;
  const rank = new Int32Array(site.connectors.length).fill(-1);
  order.forEach((k, position) => {
    if (k >= 0 && k < rank.length) rank[k] = position;
  });
  // Most sites have no car seen overshooting (nor one whose readings were refused, evidence/overshoot.ts
  // `overshootOf`): then no circuit looks (one pass over the connectors).
  const overshooting = site.connectors.some((connector) => overshootOf(runtimes.of(connector)) > 0);
  const overshootKept: (OvershootKept | undefined)[] = [];
  const circuits = site.circuits.map((circuit, c) => {
    const view = context.circuitViews[c];
    const override = context.siteLimits.of(circuit.id);
    // What its limits now leave beside its other loads as the circuits stage counted them, with
    // what their readings' rounding may hide (CircuitView.hiddenA: filled to what a reading shows,
    // a limit may be that much exceeded) (the circuit's own rule: site/circuit.ts); a circuit not
    // counted yet has its limit and no other loads.
    const budget = circuitBudget(
      circuit,
      override,
      view?.limitA ?? limitNowA(circuit, override),
      view ? (GRID_PHASES.map((p) => view.otherA[p] + view.hiddenA[p]) as Triple) : NO_FLOOR,
      view?.otherW ?? 0,
      site.voltageV,
    );
    // The cars' overshoot (evidence/overshoot.ts), on every circuit above them however it is
    // metered: a meter that counts the chargers takes a car's learned overshoot for the car's, not
    // for other loads (evidence/charger-draw.ts), so it is kept here, for the set-points given now.
    if (overshooting)
      overshootKept[c] = keepForOvershoot(circuit.connectorIndexes, views, runtimes, site, budget.capacityA);
    return budget;
  });
  let anyPlan = false;
  for (let k = 0; k < site.connectors.length; k++) {
    const connector = site.connectors[k] as Connector;
    const view = views[k];
    if (!view) throw new Error(`no view of ${connector.key}`);
    view.notWanting = undefined;
    let wants = view.wantsByStatus;
    if (!view.known) view.notWanting = [say('unknownState', { amps: connector.offlineA })];
    else if (view.neverConnected) view.notWanting = [say('neverConnected')];
    else if (!view.online)
      view.notWanting = [
        say('offline', {
          amps: view.uncontrolled?.amps ?? connector.offlineA,
          why: view.uncontrolled?.why ?? [say('ownFallback')],
        }),
      ];
    else if (!view.wantsByStatus) {
      const status = runtimes.of(connector).state?.status;
      view.notWanting = [say('idle', { status: [status ? sayStatus(status) : say('noStatus')] })];
    } else if (view.mode === 'off') {
      wants = false;
      view.notWanting = [say('modeOff')];
    } else if (view.mode === 'pv' && !runtimes.of(connector).session.pvEnabled) {
      wants = false;
      // What it needs is modes/pv.ts's (on one phase for a car that can switch); before its first
      // decision, its minimum on the phases it has.
      const session = runtimes.of(connector).session;
      const need =
        session.pvNeedW ??
        view.minA *
          (view.phasesOut === 1 ? onePhaseConductors(connector) : view.gridPhases.length) *
          site.voltageV;
      const surplus = pvState?.surplusW;
      const reserve = session.pvReserve;
      const stops = session.pvStops ?? 0;
      view.notWanting =
        surplus === undefined
          ? [say('pvNoMeter')]
          : session.pvLeftToOthersW !== undefined
            ? [
                say('pvOthersTake', { surplusW: Math.max(0, surplus), moreW: session.pvLeftToOthersW }),
                say('pvStartsOn', { needW: need }),
              ]
            : session.pvEnableSinceMs !== undefined && reserve
              ? [
                  say('pvEnough'),
                  stops === 1
                    ? say('pvCloudsOnce', { neededWh: reserve.neededWh, paidWh: reserve.paidWh })
                    : say('pvClouds', { n: stops, neededWh: reserve.neededWh, paidWh: reserve.paidWh }),
                ]
              : session.pvEnableSinceMs !== undefined
                ? [
                    say('pvEnoughFor', {
                      s: Math.round((now - session.pvEnableSinceMs) / 1000),
                      delayS: Math.round(site.pv.enableDelayMs / 1000),
                    }),
                  ]
                : session.pvLeftW !== undefined
                  ? [
                      say('pvWaitingLeft', {
                        surplusW: Math.max(0, surplus),
                        leftW: session.pvLeftW,
                        needW: need,
                      }),
                    ]
                  : [say('pvWaiting', { surplusW: Math.max(0, surplus), needW: need })];
      if (view.minFromCar)
        view.notWanting.push(say('carTakesNoLess', { amps: view.minA, why: view.minWhy ?? [] }));
    } else if (view.keepOff) {
      wants = false;
      const leftS = Math.ceil(((runtimes.of(connector).offUntilMs ?? now) - now) / 1000);
      view.notWanting = [say('minimumOffTime', { s: leftS })];
    }
    const position = rank[k] ?? -1;
    const demand = demands[k] ?? newDemand();
    demand.path = connector.path;
    demand.wants = wants;
    demand.phases = view.gridPhases;
    demand.unbalancePhases = view.unbalancePhases;
    demand.minA = view.minA;
    demand.maxA = view.capA;
    demand.priority = view.priority;
    demand.keepRank = position >= 0 ? position : k;
    demand.keepOn = view.keepOn;
    demand.starting = !(view.sentA > 0);
    demand.startExtraA = view.startExtraA;
    demand.floorA = view.floorA;
    demand.ownFloorA = view.ownFloorA;
    demand.ownFloorJudged = view.ownFloorJudged;
    demand.pv = view.countsForPv;
    // What the charger says it offers shows whether it takes whole amperes (evidence/charger-step.ts).
    noteChargerStep(site, connector, runtimes.of(connector), now);
    demand.stepA = chargerStepA(connector, runtimes.of(connector));
    // A car that rests on its own (full, or waiting for its own timer) takes its minimum from what
    // the charging cars leave, and no more (evidence/car-minimum.ts carYields).
    demand.yields = carYields(site, connector, runtimes.of(connector), now, wants && !view.keepOn);
    if (demand.yields && demand.maxA > demand.minA) demand.maxA = demand.minA;
    demands[k] = demand;
    if (view.plan) anyPlan = true;
  }
  demands.length = site.connectors.length;
  // A car with a departure plan takes the surplus first, at least what its plan needs (the grid
  // pays the rest): a demand of its own, outside the PV budget, up to what it takes (evidence/departure.ts).
  let budgetW = pvBudgetW;
  if (pvState && anyPlan) {
    const wanting = (k: number) => demands[k]?.wants === true;
    budgetW = shareSurplusWithPlans(site, views, order, pvBudgetW, wanting);
    for (let k = 0; k < demands.length; k++) {
      const plan = views[k]?.plan;
      const demand = demands[k];
      if (!plan || !demand?.wants) continue;
      demand.pv = false;
      demand.maxA = plan.takeA;
    }
  }
  return {
    voltageV: site.voltageV,
    stepA: site.control.stepA,
    startMarginA: site.control.startMarginA,
    circuits,
    connectors: demands,
    pvBudgetW: pvState ? budgetW : Number.POSITIVE_INFINITY,
    overshootKept,
  };
}

/**
 * Lowers `capacityA` (per grid phase) by what the overshoot of the charging cars among
 * `connectorIndexes` needs kept back (evidence/overshoot.ts `keptForOvershoot`): only where one of
 * them was seen drawing above its set-point (or its readings were refused: `overshootOf`), so the
 * allocation of a site without is untouched.
 */
function keepForOvershoot(
  connectorIndexes: readonly number[],
  views: readonly ConnectorView[],
  runtimes: ConnectorRuntimes,
  site: Site,
  capacityA: Triple,
): OvershootKept | undefined {
  let any = false;
  let anyCapped = false;
  const overshoot = triple(0);
  const floors = triple(0);
  for (const k of connectorIndexes) {
    const view = views[k];
    const connector = site.connectors[k];
    if (!view || !connector) continue;
    for (let p = 0; p < 3; p++) floors[p as GridPhase] += view.floorA[p] ?? 0;
    const runtime = runtimes.of(connector);
    const learned = overshootOf(runtime);
    if (!learned || view.uncontrolled || !view.wantsByStatus) continue;
    any = true;
    // Held at its own draw, it is given at most its cap (view.capA): cappedOvershootA, below.
    if (runtime.session.underDrawCapA !== undefined) {
      anyCapped = true;
      continue;
    }
    for (const p of view.gridPhases) overshoot[p] = Math.max(overshoot[p], learned);
  }
  if (!any) return undefined;
  const keptA = triple(0);
  for (let p = 0; p < 3; p++) {
    const phase = p as GridPhase;
    keptA[phase] = keptForOvershoot(capacityA[phase], floors[phase], overshoot[phase]);
    capacityA[phase] -= keptA[phase];
  }
  const kept = { keptA, factor: overshoot };
  if (!anyCapped) return kept;
  for (const k of connectorIndexes) {
    const view = views[k];
    const connector = site.connectors[k];
    if (!view || !connector || view.uncontrolled || !view.wantsByStatus) continue;
    const runtime = runtimes.of(connector);
    if (runtime.session.underDrawCapA === undefined) continue;
    const learned = overshootOf(runtime);
    for (const p of view.gridPhases) capacityA[p] -= cappedOvershootA(learned, overshoot[p], view.capA);
  }
  return kept;
}

/**
 * Allocates `problem`, and once more where the set-points it gave need less kept back for their
 * cars' overshoot than the circuit kept. keepForOvershoot keeps the most any car below was learned
 * at on every ampere shared (one factor for all: the shares are not known before the allocation
 * runs); the cars' own overshoots, on the set-points they were given, need less (a car park's
 * cars at 0-3 %, the factor 3 %: about half of it). The second allocation keeps
 * `(kept − needed) / (1 + factor)` less on each such phase: raises that sum to it, at the factor,
 * take at most what was kept and not needed. Only the cars the first lets charge take part: who
 * starts and who pauses is the first's (a start judged on room the current mix of set-points
 * leaves would last only as long as the mix). The allocator may share the room otherwise than in
 * the first (a car with more overshoot may get more), so the second is taken only where what its
 * own set-points need of their overshoot fits what it kept, on every circuit and phase (the first
 * otherwise): its chargers, each at its set-point and its own overshoot, fit every breaker as the
 * first's do. Four cars on 63 A, one at 3 %, three at 0.5 %: 15.2 A each at the factor, 15.5 A
 * with their own (62.7 A drawn) (issue 45; test/unit/dlm/overshoot-kept_spec.ts).
 */
export function allocateKeepingOvershoot(
  context: ProblemContext,
  problem: BuiltProblem,
): { problem: AllocationProblem; allocation: Allocation } {
  const allocation = allocate(problem);
  const { overshootKept } = problem;
  if (!overshootKept.some((kept) => kept !== undefined)) return { problem, allocation };
  const needed = overshootNeeded(context, overshootKept, allocation);
  let raised = false;
  const circuits = problem.circuits.map((budget, c) => {
    const kept = overshootKept[c];
    const need = needed[c];
    if (!kept || !need) return budget;
    const capacityA = [...budget.capacityA] as Triple;
    for (const p of GRID_PHASES) {
      const raiseA = (kept.keptA[p] - need[p]) / (1 + kept.factor[p]);
      if (!(raiseA >= OVERSHOOT_RAISE_A)) continue;
      capacityA[p] += raiseA;
      raised = true;
    }
    return { ...budget, capacityA };
  });
  if (!raised) return { problem, allocation };
  // A car the first leaves at 0 A wants nothing of the second and keeps the first's answer.
  const connectors = problem.connectors.map((demand, k) =>
    demand.wants && !(allocation.connectors[k]?.limitA ?? 0) ? { ...demand, wants: false } : demand,
  );
  const raisedOnly = allocate({ ...problem, circuits, connectors });
  const again: Allocation = {
    connectors: raisedOnly.connectors.map((entry, k) =>
      allocation.connectors[k]?.limitA ? entry : (allocation.connectors[k] ?? entry),
    ),
  };
  const second: AllocationProblem = { ...problem, circuits };
  const neededAgain = overshootNeeded(context, overshootKept, again);
  for (let c = 0; c < circuits.length; c++) {
    const kept = overshootKept[c];
    const need = neededAgain[c];
    const before = problem.circuits[c]?.capacityA;
    const after = circuits[c]?.capacityA;
    if (!kept || !need || !before || !after) continue;
    for (const p of GRID_PHASES)
      if (need[p] > kept.keptA[p] - (after[p] - before[p]) + OVERSHOOT_FIT_EPS_A)
        return { problem, allocation };
  }
  return { problem: second, allocation: again };
}

/** A phase kept less by less than this, A, is not allocated again (a step's rounding takes it). */
const OVERSHOOT_RAISE_A = 0.01;
/** What the second allocation's overshoot may exceed what it kept by, A: floating-point sums only. */
const OVERSHOOT_FIT_EPS_A = 1e-9;

/**
 * By circuit (where one kept for the overshoot), per grid phase: what the cars the factor covers
 * (keepForOvershoot's: charging, under control) need of their overshoot on the set-points
 * `allocation` gives them, each at its own, at most the factor (a car held at its own draw keeps
 * what its own puts above the factor on its cap: cappedOvershootA).
 */
function overshootNeeded(
  context: ProblemContext,
  overshootKept: readonly (OvershootKept | undefined)[],
  allocation: Allocation,
): (Triple | undefined)[] {
  const { site, views, runtimes } = context;
  return site.circuits.map((circuit, c) => {
    const kept = overshootKept[c];
    if (!kept) return undefined;
    const need = triple(0);
    for (const k of circuit.connectorIndexes) {
      const view = views[k];
      const connector = site.connectors[k];
      const limitA = allocation.connectors[k]?.limitA ?? 0;
      if (!view || !connector || !(limitA > 0) || view.uncontrolled || !view.wantsByStatus) continue;
      const learned = overshootOf(runtimes.of(connector));
      for (const p of view.gridPhases) need[p] += limitA * Math.min(learned, kept.factor[p]);
    }
    return need;
  });
}

/** A demand with every field, before buildProblem writes it (all keep this shape). */
function newDemand(): ConnectorDemand {
  return {
    path: [],
    wants: false,
    phases: [],
    unbalancePhases: undefined,
    minA: 0,
    maxA: 0,
    priority: 0,
    keepRank: 0,
    keepOn: false,
    starting: true,
    startExtraA: undefined,
    floorA: NO_FLOOR,
    ownFloorA: undefined,
    ownFloorJudged: false,
    pv: false,
    stepA: undefined,
    yields: false,
  };
}
