/**
 * The ideal: for a scenario's truth (other loads, PV, battery, cars and their needs), what
 * ampflow's own allocation policy (lib/dlm `allocate`, the same function the load manager calls)
 * gives with perfect, instant knowledge. Every second it is handed the true other loads of the
 * coming second, each car's true phases, minimum, maximum and whether it is full, and the true PV
 * surplus; the chargers take its limits at once (no response delay, no ramp, no update interval, no
 * minimum on/off time, no pause to switch phases, no start margin, no learned peaks or fallbacks) and to the tenth (no
 * whole-ampere chargers). What stays is what the site is configured with: breaker limits,
 * headroom, the unbalance limit, the step, the PV residual and the battery's priority. A `pv` car
 * charges whenever the surplus left after the cars before it covers its minimum (on one phase when
 * its charger can switch and three do not fit). The cars are the simulator's (sim/ev.ts): they
 * stop when full and leave at their departure. With the fleet's habits (bench:control --fleet) the
 * ideal knows them too: a charger that ignores its limits is a load like the other loads (its car
 * at what it takes), and a car that draws a share above its limit is given its limit less that share.
 * A charger that keeps its last limit when ampflow is gone is held by the rule every controller
 * that may stop must keep (control.holdKeptLimits): if it stopped now, what the keepers keep, the
 * chargers that ignore their limits and the other loads at their highest of the day fit every
 * breaker (the ideal knows that highest; the others' fallbacks it sets to 0 A).
 */
import type { SetPoint } from '../../lib/contracts';
import { type AllocationProblem, allocate, type ConnectorDemand } from '../../lib/dlm/allocation/allocate';
import { batteryHasPriority } from '../../lib/dlm/modes/pv-surplus';
import { GRID_PHASES, type GridPhase, type Site, type Triple } from '../../lib/dlm/site';
import { budgets, chooseMinimum, shareEvenly } from '../../lib/dlm/site/offline-plan';
import { PvDayAccount } from '../../sim/pv-figures';
import type { SimChargerOptions, SiteSimulator } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';
import { CarLedger, carAt } from './cars';
import { daySimulator } from './day-sim';

export interface IdealRun {
  ledger: CarLedger;
  sim: SiteSimulator;
  /** Seconds a breaker carried more than its limit in the ideal (0 unless the ideal is wrong). */
  overloadedMs: number;
  /** What the cars took of the PV surplus ÷ what they could have taken (PV days). */
  pvShare?: number;
  /** What the cars took of the PV surplus, Wh (PV days). */
  fromPvWh?: number;
}

/** A charger that offers its maximum whatever it is given (rogue, or no SmartCharging). */
export function ignoresLimits(options: SimChargerOptions | undefined): boolean {
  return options?.rogue === true || options?.refusesLimits !== undefined;
}

/** The mode a connector is in (a JSONata expression counts as `fast`: none of the days uses one). */
function modeOf(site: Site, k: number): string {
  const mode = site.connectors[k]?.mode ?? site.defaultMode;
  return typeof mode === 'string' ? mode : 'fast';
}

/**
 * The limit that makes a car that draws `overshootPercent` above its limit draw `drawA`: a hair
 * above the quotient, so that a car given exactly its minimum's draw is not a rounding error below
 * its minimum (the hair is far inside the 1e-6 A an overload is counted from).
 */
function limitFor(drawA: number, overshootPercent: number | undefined): number {
  if (!overshootPercent || drawA <= 0) return drawA;
  return drawA / (1 + overshootPercent / 100) + 1e-9;
}

/** Runs the ideal over the scenario's day (or `durationMs`), one allocation per `stepMs`. */
export function runIdeal(
  scenario: Scenario,
  options: { durationMs?: number; stepMs?: number } = {},
): IdealRun {
  const stepMs = options.stepMs ?? 1000;
  const durationMs = options.durationMs ?? scenario.durationMs;
  // Chargers that follow at once and to the tenth (the scenario's slow and whole-ampere ones too)
  // and switch phases without a pause.
  const { clock, site, sim } = daySimulator(scenario, 0);
  const keeperHold = keepersOffline(scenario, site, durationMs, stepMs);
  const ledger = new CarLedger(scenario.cars);
  const voltageV = site.voltageV;
  const pvKeys = new Set(scenario.pvConnectors ?? []);
  let batteryAhead = false;
  let overloadedMs = 0;
  // The surplus share as bench:dlm counts it for the closed loop (sim/pv-figures.ts).
  const pvModeKeys = new Set(site.connectors.filter((_, k) => modeOf(site, k) === 'pv').map((c) => c.key));
  const maxA = (key: string) => site.connectors.find((c) => c.key === key)?.maxA ?? 32;
  const account = scenario.pv
    ? new PvDayAccount(pvKeys, pvModeKeys, site.pv.batteryPrioritySocPercent, maxA)
    : undefined;
  for (let elapsed = 0; elapsed < durationMs; elapsed += stepMs) {
    const next = elapsed + stepMs;
    const timeOfDay = scenario.startOfDayMs + next;
    // The truth of the coming step: each circuit's loads other than the chargers (its own and its
    // children's), PV and the battery at the root; counted as the load manager counts them, never
    // below 0 (generation gives a breaker no room).
    const own = site.circuits.map(
      (c) => [...(scenario.otherLoads?.[c.id]?.(timeOfDay) ?? [0, 0, 0])] as Triple,
    );
    // The other loads alone through each circuit (the keepers' hold adds the chargers that ignore
    // their limits as what they may draw while the controller is gone: `offlineOwn`).
    const otherThrough = keeperHold ? throughCircuits(site, own) : undefined;
    const offlineOwn = own.map((t) => [...t] as Triple);
    const stats = sim.chargerStats();
    // The chargers that ignore their limits: their cars at what they take, with the other loads.
    // With no car there, what a car arriving could draw at once (the connector's own fallback, as
    // the site says it): when a car arrives is what no meter or message tells in advance, and the
    // invariant wants the breakers to hold that arrival as any controller must.
    for (const connector of site.connectors) {
      if (!ignoresLimits(scenario.chargers?.[connector.key])) continue;
      const car = carAt(scenario.cars, connector.key, next);
      const k = connector.index;
      // While the controller is gone (the keepers' hold), the next car may use every phase at
      // what the charger offers on its own, or the car there draws more (its overshoot) on its own.
      const offline = offlineOwn[connector.circuitIndex];
      if (offline) for (const p of connector.gridPhaseOf) offline[p] += connector.offlineA;
      if (!car) {
        const circuit = own[connector.circuitIndex];
        if (circuit) for (const p of connector.gridPhaseOf) circuit[p] += connector.offlineA;
        continue;
      }
      const sameCar = carAt(scenario.cars, connector.key, elapsed) === car;
      const full = sameCar && stats[k]?.carSocPercent !== undefined && (stats[k]?.carMaxW ?? 0) === 0;
      if (full) continue;
      // What the charger gives on its own (sim/site-charger.ts): a rogue its maximum, one that
      // takes no limits its own fallback.
      const offersA =
        scenario.chargers?.[connector.key]?.rogue === true ? connector.maxA : connector.offlineA;
      const takesA = Math.min(offersA, car.ev.maxCurrentA ?? 16);
      if (takesA < (car.ev.minCurrentA ?? 6)) {
        // A car that does not start at what the charger offers (its own minimum is above it) is
        // held like no car: it may start at any moment (a car in SuspendedEV on its own timer, or
        // whose minimum falls as its battery warms), and nothing can then bring this charger down;
        // that it never does is the simulator's future, which the ideal does not use for a
        // charger it cannot control, any more than when the next car arrives.
        const circuit = own[connector.circuitIndex];
        if (circuit) for (const p of connector.gridPhaseOf) circuit[p] += connector.offlineA;
        continue;
      }
      const drawA = takesA * (1 + (car.ev.overshootPercent ?? 0) / 100);
      const circuit = own[connector.circuitIndex];
      const phases = Math.min(car.ev.phases ?? 3, connector.phases);
      if (circuit) for (const p of connector.gridPhaseOf.slice(0, phases)) circuit[p] += drawA;
      if (offline)
        for (const p of connector.gridPhaseOf.slice(0, phases))
          offline[p] += Math.max(0, drawA - connector.offlineA);
    }
    // The other loads with what the chargers that ignore their limits may draw while the
    // controller is gone, before PV and battery.
    const withIgnoring = keeperHold ? throughCircuits(site, offlineOwn) : undefined;
    const pvW = scenario.pv
      ? scenario.pv.peakW * Math.max(0, Math.min(1, scenario.pv.profile(timeOfDay)))
      : 0;
    const houseW = own.reduce((sum, t) => sum + t[0] + t[1] + t[2], 0) * voltageV;
    const root = site.rootIndexes[0] ?? 0;
    const rootOwn = own[root];
    if (rootOwn)
      for (const p of GRID_PHASES) rootOwn[p] = (rootOwn[p] ?? 0) + (sim.batteryPowerW - pvW) / 3 / voltageV;
    const through = throughCircuits(site, own);
    // The PV surplus the cars may share: PV less the house, the battery's charge while it has
    // priority, and the configured residual.
    const soc = sim.batterySocPercent;
    if (soc !== undefined)
      batteryAhead = batteryHasPriority(soc, site.pv.batteryPrioritySocPercent, batteryAhead);
    const batteryFirstW = soc !== undefined && batteryAhead ? site.pv.batteryMaxChargeW : 0;
    const anyPv = site.connectors.some((_, k) => modeOf(site, k) === 'pv' || modeOf(site, k) === 'minpv');
    const surplusW = anyPv ? Math.max(0, pvW - houseW - batteryFirstW - site.pv.residualPowerW) : Infinity;

    // Keep order: the earliest arrival first (the `firstStarted` rule), then configuration order.
    const present = site.connectors.map((connector) => carAt(scenario.cars, connector.key, next));
    const order = site.connectors
      .map((_, k) => k)
      .sort((a, b) => (present[a]?.arriveMs ?? Infinity) - (present[b]?.arriveMs ?? Infinity) || a - b);
    const rank = new Map(order.map((k, position) => [k, position]));
    let pvLeftW = surplusW;
    const phasesOut: (1 | 3)[] = site.connectors.map((c) => c.phases);
    const demands: ConnectorDemand[] = site.connectors.map((connector) => ({
      path: connector.path,
      wants: false,
      phases: [],
      minA: connector.minA,
      maxA: 0,
      priority: typeof connector.priority === 'number' ? connector.priority : 0,
      keepRank: rank.get(connector.index) ?? connector.index,
      keepOn: false,
      starting: false,
      floorA: [0, 0, 0],
      pv: false,
    }));
    for (const k of order) {
      const connector = site.connectors[k];
      const car = present[k];
      const demand = demands[k];
      if (!connector || !car || !demand || ignoresLimits(scenario.chargers?.[connector.key])) continue;
      // The same car as at the last step: its battery as the simulator has it; a car that just
      // arrived is not full.
      const sameCar = carAt(scenario.cars, connector.key, elapsed) === car;
      const full = sameCar && stats[k]?.carSocPercent !== undefined && (stats[k]?.carMaxW ?? 0) === 0;
      const mode = modeOf(site, k);
      if (full || mode === 'off') continue;
      const carPhases = Math.min(car.ev.phases ?? 3, connector.phases);
      // In what the car draws: its limit times its overshoot (set back when the limit is given).
      const draws = 1 + (car.ev.overshootPercent ?? 0) / 100;
      const minA = Math.max(connector.minA, car.ev.minCurrentA ?? connector.minA) * draws;
      const maxA = Math.min(connector.maxA, car.ev.maxCurrentA ?? 16) * draws;
      if (minA > maxA) continue;
      let phases = carPhases;
      let wants = true;
      if (mode === 'pv' || mode === 'minpv') {
        const threeW = minA * carPhases * voltageV;
        if (carPhases === 3 && connector.canSwitchPhases && pvLeftW < threeW) phases = 1;
        const needW = minA * phases * voltageV;
        if (mode === 'pv') wants = pvLeftW >= needW;
        if (wants) pvLeftW -= needW;
        demand.pv = true;
      }
      phasesOut[k] = phases === 1 ? 1 : connector.phases;
      demand.wants = wants;
      demand.phases = connector.gridPhaseOf.slice(0, phases) as GridPhase[];
      demand.minA = minA;
      demand.maxA = maxA;
    }
    if (keeperHold && otherThrough && withIgnoring) {
      const caps = keeperHold.caps(otherThrough, withIgnoring, order, demands);
      for (const [k, capA] of caps) {
        const demand = demands[k];
        const draws = 1 + (present[k]?.ev.overshootPercent ?? 0) / 100;
        if (!demand) continue;
        if (capA * draws < demand.minA - 1e-9) demand.wants = false;
        else demand.maxA = Math.min(demand.maxA, capA * draws);
      }
    }
    const problem: AllocationProblem = {
      voltageV,
      stepA: site.control.stepA,
      startMarginA: site.control.startMarginA,
      circuits: site.circuits.map((circuit) => {
        const other = through[circuit.index] ?? [0, 0, 0];
        return {
          capacityA: GRID_PHASES.map(
            (p) => circuit.limitA[p] - circuit.headroomA[p] - Math.max(0, other[p]),
          ) as Triple,
          capacityW:
            circuit.powerLimitW === undefined
              ? Infinity
              : circuit.powerLimitW -
                (circuit.headroomA[0] + circuit.headroomA[1] + circuit.headroomA[2]) * voltageV -
                Math.max(0, other[0] + other[1] + other[2]) * voltageV,
          chargersCapacityW: Infinity,
          unbalanceLimitA: circuit.unbalanceLimitA ?? Infinity,
        };
      }),
      connectors: demands,
      pvBudgetW: anyPv ? surplusW : Infinity,
    };
    const allocation = allocate(problem);
    const setPoints: SetPoint[] = site.connectors.map((connector, k) => ({
      chargePointId: connector.chargePointId,
      connectorId: connector.connectorId,
      limitA: limitFor(allocation.connectors[k]?.limitA ?? 0, present[k]?.ev.overshootPercent),
      phases: phasesOut[k] ?? connector.phases,
      reason: 'ideal',
    }));
    for (const setPoint of setPoints) sim.applySetPoint(setPoint);
    clock.advance(stepMs);
    sim.step(stepMs);
    ledger.step(sim, stepMs);
    const actual = sim.actualA();
    if (
      site.circuits.some((c, i) =>
        GRID_PHASES.some((p) => Math.abs(actual[i]?.[p] ?? 0) > c.limitA[p] + 1e-6),
      )
    )
      overloadedMs += stepMs;
    account?.step(sim, setPoints, stepMs);
  }
  return {
    ledger,
    sim,
    overloadedMs,
    ...(account ? { pvShare: account.finish(sim).share, fromPvWh: account.figures.carsFromPvWh } : {}),
  };
}

/**
 * The chargers that keep their last limit offline (sim faults `keepsLastLimit`) and the most each
 * may keep now, by the load manager's own arithmetic (lib/dlm/site/offline-plan.ts, as
 * control/offline-fit.ts uses it) with what it cannot know: each circuit's limit less headroom,
 * the other loads at their highest of the whole day and what the chargers that ignore their limits
 * may draw while it is gone is left: the next car at each on every phase at what the charger offers
 * on its own (as for one without a car, and as the load manager counts them: control/offline-fit.ts
 * offlineDrawOf), or what the car there draws if more (the whole day, not what is left of it: a kept limit stays on the charger once the
 * controller has stopped, until someone changes it, past the day's end into the same hours of the
 * next day, whose loads repeat the day's; the load manager holds its keepers with the last 24
 * hours' peaks, evidence/other-load-peaks.ts, for the same reason); each keeper whose car wants current gets its minimum in keep
 * order (on every phase its connector is wired with: the next car may use them all), the rest
 * shared evenly. Undefined without keepers.
 */
function keepersOffline(
  scenario: Scenario,
  site: Site,
  durationMs: number,
  stepMs: number,
):
  | {
      caps: (
        other: readonly Triple[],
        withIgnoring: readonly Triple[],
        order: readonly number[],
        demands: readonly ConnectorDemand[],
      ) => Map<number, number>;
    }
  | undefined {
  const keepers = new Set(
    site.connectors.filter((c) => scenario.chargers?.[c.key]?.keepsLastLimit === true).map((c) => c.index),
  );
  if (keepers.size === 0) return undefined;
  const otherAt = (timeOfDay: number) =>
    throughCircuits(
      site,
      site.circuits.map((c) => [...(scenario.otherLoads?.[c.id]?.(timeOfDay) ?? [0, 0, 0])] as Triple),
    );
  // The other loads through each circuit at their highest of the day.
  const steps = Math.ceil(durationMs / stepMs);
  const highest: Triple[] = site.circuits.map(() => [0, 0, 0]);
  for (let i = 0; i < steps; i++) {
    const through = otherAt(scenario.startOfDayMs + (i + 1) * stepMs);
    site.circuits.forEach((_, c) => {
      const now = through[c] ?? [0, 0, 0];
      highest[c] = GRID_PHASES.map((p) => Math.max(highest[c]?.[p] ?? 0, now[p])) as Triple;
    });
  }
  return {
    caps: (other, withIgnoring, order, demands) => {
      // The other loads at their highest, and what the chargers that ignore their limits
      // draw now (`withIgnoring` less `other`, the other loads alone): they draw it offline too.
      const offline = site.circuits.map(
        (circuit) =>
          GRID_PHASES.map(
            (p) =>
              Math.max(0, highest[circuit.index]?.[p] ?? 0) +
              Math.max(0, (withIgnoring[circuit.index]?.[p] ?? 0) - (other[circuit.index]?.[p] ?? 0)),
          ) as Triple,
      );
      const left = budgets(site.circuits, offline);
      const caps = new Map<number, number>();
      const wanting = order.filter((k) => keepers.has(k) && demands[k]?.wants === true);
      for (const k of wanting) {
        const connector = site.connectors[k];
        const demand = demands[k];
        if (!connector || !demand) continue;
        caps.set(k, chooseMinimum(left, connector, demand.maxA, demand.minA));
      }
      const sharing = wanting.filter((k) => (caps.get(k) ?? 0) > 0);
      const extras = shareEvenly(
        left,
        sharing.flatMap((k) => site.connectors[k] ?? []),
        (connector) => (demands[connector.index]?.maxA ?? 0) - (caps.get(connector.index) ?? 0),
      );
      sharing.forEach((k, j) => {
        caps.set(k, (caps.get(k) ?? 0) + (extras[j] ?? 0));
      });
      return caps;
    },
  };
}

/** Each circuit's loads with its children's added (children first). */
function throughCircuits(site: Site, own: readonly Triple[]): Triple[] {
  const through = own.map((t) => [...t] as Triple);
  const depth = (c: number): number => {
    const parent = site.circuits[c]?.parentIndex;
    return parent === undefined ? 0 : 1 + depth(parent);
  };
  for (const c of site.circuits.map((circuit) => circuit.index).sort((a, b) => depth(b) - depth(a))) {
    const parent = site.circuits[c]?.parentIndex;
    const from = through[c];
    const to = parent === undefined ? undefined : through[parent];
    if (from && to) for (const p of GRID_PHASES) to[p] += from[p];
  }
  return through;
}
