/**
 * One day of bench:control: the scenario through the closed loop (a real LoadManager against the
 * site simulator, sim/site-scenarios.ts `runScenario`) and through the ideal (ideal.ts), each
 * car's energy and starts counted alike (cars.ts), as a DayResult.
 */
import type { LoadManagerMemory, LoadManagerMemoryStore } from '../../lib/dlm/load-manager';
import { parseSite, type Triple } from '../../lib/dlm/site';
import type { Population } from '../../sim/charger-habits';
import type { Overload } from '../../sim/closed-loop';
import type { SiteSimulator } from '../../sim/site';
import { DEFAULT_RESPONSE_DELAY_MS } from '../../sim/site-charger';
import { homeLayout, pvHome, runScenario, type Scenario } from '../../sim/site-scenarios';
import { PV_DAYS } from '../support/pv-days';
import { CARPARK_SEED, carParkDay, dayBefore } from './carpark';
import { CarLedger, carAt } from './cars';
import type { DayResult } from './day-result';
import { byBehaviour, type FleetDay, fleetArgument, fleetNotes, withFleet } from './fleet';
import { ignoresLimits, runIdeal } from './ideal';
import { perCar, shortfallByGroup } from './per-car';

/** Closed loop and ideal over one scenario (`fleet`: its chargers with the fleet's habits, fleet.ts). */
export function compareDay(
  day: string,
  seed: number,
  scenario: Scenario,
  notes: string[] = [],
  durationMs = scenario.durationMs,
  fleet?: FleetDay,
  earlier?: Scenario,
): DayResult {
  const started = performance.now();
  const ledger = new CarLedger(scenario.cars);
  const uncontrolled = new UncontrolledDraws(scenario);
  const memory = earlier ? learnedMemory(earlier) : undefined;
  const closed = runScenario(scenario, {
    ...(memory ? { memory } : {}),
    durationMs,
    onStep: (sim) => {
      ledger.step(sim, 1000);
      uncontrolled.step(sim);
    },
  });
  const ideal = runIdeal(scenario, { durationMs });
  const deliveredKWh = ledger.totalWh() / 1000;
  const idealKWh = ideal.ledger.totalWh() / 1000;
  const startsPerCar = ledger.startsByName(scenario.startOfDayMs);
  const starts = Object.values(startsPerCar);
  const idealStarts = Object.values(ideal.ledger.startsByName(scenario.startOfDayMs));
  const allNotes = [...notes];
  if (ideal.overloadedMs > 0)
    allNotes.push(`the ideal itself was over a limit for ${ideal.overloadedMs / 1000} s`);
  allNotes.push(
    `the ideal starts each car at most ${Math.max(0, ...idealStarts)} times (it has no minimum on/off time, no start margin, no enable delay)`,
  );
  const afterSwitch = Object.entries(ledger.startsByName(scenario.startOfDayMs, true)).filter(
    ([, n]) => n > 0,
  );
  if (afterSwitch.length > 0)
    allNotes.push(
      `of the starts, restarts after a phase switch under load (the charger's pause): ${afterSwitch.map(([car, n]) => `${car} ${n}`).join(', ')}`,
    );
  if (closed.pv && ideal.fromPvWh !== undefined)
    allNotes.push(
      `from PV: delivered ${(closed.pv.carsFromPvWh / 1000).toFixed(1)} kWh, the ideal ${(ideal.fromPvWh / 1000).toFixed(1)} kWh (${((closed.pv.carsFromPvWh / Math.max(1, ideal.fromPvWh)) * 100).toFixed(1)} %); the rest of each is from the grid or the battery (minpv minimum, pv dips)`,
    );
  if (scenario.cars.length > 2) allNotes.push(shortfallByGroup(scenario, ledger, ideal.ledger));
  const overNote = overloadCauses(scenario, closed.overloads);
  if (overNote) allNotes.push(overNote);
  if (fleet) allNotes.push(...fleetNotes(fleet));
  return {
    day,
    seed,
    ...(fleet
      ? { fleet: fleetArgument(fleet.on), byBehaviour: byBehaviour(fleet, ledger, ideal.ledger) }
      : {}),
    deliveredKWh,
    idealKWh,
    ratio: idealKWh > 0 ? deliveredKWh / idealKWh : 1,
    secondsOver: closed.overloadedMs / 1000,
    secondsOverBeyondPace: beyondPace(scenario, closed.overloads, uncontrolled) / 1000,
    maxStartsPerCar: Math.max(0, ...starts),
    meanStartsPerCar: starts.length > 0 ? starts.reduce((a, b) => a + b, 0) / starts.length : 0,
    startsPerCar,
    perCar: perCar(scenario, ledger, ideal.ledger),
    ...(closed.pv ? { surplusShare: closed.pv.share } : {}),
    ...(ideal.pvShare === undefined ? {} : { idealSurplusShare: ideal.pvShare }),
    wallSeconds: (performance.now() - started) / 1000,
    notes: allNotes,
  };
}

/**
 * What a load manager that ran through `earlier` (a day before the measured one, on the same
 * site) kept across its restart (lib/dlm/memory.ts: the other loads' peaks, the chargers' follow
 * times): the shipped node keeps it in a file under the user directory (nodes/ampflow-dlm.ts), so
 * a site that has run for a day starts every later day with it.
 */
function learnedMemory(earlier: Scenario): LoadManagerMemoryStore {
  let kept: LoadManagerMemory | undefined;
  const store: LoadManagerMemoryStore = {
    load: () => kept,
    save: (memory) => {
      kept = structuredClone(memory);
    },
  };
  runScenario(earlier, { memory: store });
  return store;
}

/**
 * Which overload episodes began within 60 s after the other loads rose by more than 2 A on a phase
 * (a lift, a heat pump): what chargers that take seconds to follow cannot avoid without a margin.
 */
function overloadCauses(scenario: Scenario, overloads: readonly Overload[]): string | undefined {
  if (overloads.length === 0) return undefined;
  const rose = (circuit: string, phase: number, atMs: number) => {
    const profile = scenario.otherLoads?.[circuit];
    if (!profile) return false;
    const at = scenario.startOfDayMs + atMs;
    for (let back = 0; back <= 60_000; back += 1000) {
      const now = profile(at - back)[phase as 0 | 1 | 2] ?? 0;
      const before = profile(at - back - 1000)[phase as 0 | 1 | 2] ?? 0;
      if (now - before > 2) return true;
    }
    return false;
  };
  let afterRise = 0;
  let total = 0;
  let worstA = 0;
  for (const o of overloads) {
    total += o.durationMs;
    worstA = Math.max(worstA, o.maxExcessA);
    if (rose(o.circuit, o.phase, o.fromMs)) afterRise += o.durationMs;
  }
  return `over a limit: ${overloads.length} episodes per phase (${total / 1000} phase-seconds, up to ${worstA.toFixed(1)} A over), ${afterRise / 1000} phase-seconds of them within 60 s after the other loads rose by more than 2 A`;
}

/**
 * What each circuit carried, and what the chargers that ignore their limits (no SmartCharging,
 * rogue) drew on the circuit they are on (directly), per grid phase, second by second of the closed
 * loop: to the load manager those chargers are a load like the other loads, which it learns of from
 * their own readings.
 */
export class UncontrolledDraws {
  private readonly keys: Map<string, { circuit: string; gridPhases: number[]; phases: number }>;
  private readonly drawn = new Map<string, Triple[]>();
  /** What each circuit carried, per grid phase, second by second (A). */
  private readonly carried = new Map<string, Triple[]>();

  constructor(private readonly scenario: Scenario) {
    const site = parseSite(scenario.site);
    this.keys = new Map(
      site.connectors
        .filter((connector) => ignoresLimits(scenario.chargers?.[connector.key]))
        .map((connector) => [
          connector.key,
          {
            circuit: site.circuits[connector.circuitIndex]?.id ?? '',
            gridPhases: [...connector.gridPhaseOf],
            phases: connector.phases,
          },
        ]),
    );
  }

  get any(): boolean {
    return this.keys.size > 0;
  }

  /** The circuits those chargers are on, with the slowest of their meters' intervals, ms. */
  slowestReportMs(circuit: string): number {
    let slowest = 0;
    for (const [key, at] of this.keys)
      if (at.circuit === circuit)
        slowest = Math.max(slowest, this.scenario.chargers?.[key]?.meterIntervalMs ?? 10_000);
    return slowest;
  }

  /** After a step of the closed loop (at its end). */
  step(sim: SiteSimulator): void {
    const second = Math.round(sim.elapsedMs / 1000);
    const actual = sim.actualA();
    sim.site.circuits.forEach((circuit, c) => {
      const seconds = this.carried.get(circuit.id) ?? [];
      seconds[second] = [...(actual[c] ?? [0, 0, 0])] as Triple;
      this.carried.set(circuit.id, seconds);
    });
    if (!this.any) return;
    for (const stats of sim.chargerStats()) {
      const at = this.keys.get(stats.key);
      if (!at || stats.drawW <= 0) continue;
      // On the car's phases (the charger's own `phases` is what it was set to, three for a one-phase car).
      const phases = Math.min(carAt(this.scenario.cars, stats.key, sim.elapsedMs)?.ev.phases ?? 3, at.phases);
      const perPhaseA = stats.drawW / phases / sim.site.voltageV;
      const seconds = this.drawn.get(at.circuit) ?? [];
      const draw = seconds[second] ?? ([0, 0, 0] as Triple);
      for (const p of at.gridPhases.slice(0, phases)) draw[p as 0 | 1 | 2] += perPhaseA;
      seconds[second] = draw;
      this.drawn.set(at.circuit, seconds);
    }
  }

  /** What `circuit` carried on phase `phase` in the second that ends at `elapsedMs` (A), if recorded. */
  carriedAt(circuit: string, phase: 0 | 1 | 2, elapsedMs: number): number | undefined {
    return this.carried.get(circuit)?.[Math.round(elapsedMs / 1000)]?.[phase];
  }

  /** What they drew on `circuit`, phase `phase`, in the second that ends at `elapsedMs` (A). */
  at(circuit: string, phase: 0 | 1 | 2, elapsedMs: number): number {
    return this.drawn.get(circuit)?.[Math.round(elapsedMs / 1000)]?.[phase] ?? 0;
  }
}

/**
 * Of the seconds a breaker was over its limit, those that no rise of the other loads explains
 * (ms): a second of an episode is excused when, within the circuit's pace before it (its meter's
 * reading interval, the slowest response of a charger on it, and 2 s for the update and the
 * set-point on the wire), the circuit's other loads on that phase rose by at least that second's
 * excess (as `uncontrolled` recorded it from the closed loop; else the episode's largest) (from their lowest level
 * in that time: a dip the cars were given, then a rise). Chargers that take seconds to follow cannot avoid those without a standing
 * margin; every other second over is the load manager's fault. Seconds of several circuits or
 * phases at once count once.
 *
 * With chargers that ignore their limits (`uncontrolled`, the fleet's stations without
 * SmartCharging), what they draw counts with the other loads, their own readings' interval joins
 * the pace (the load manager learns of them from those), and a second is excused where the other
 * loads and they alone put the breaker at least that second's excess over its limit (no set-point
 * prevents that).
 */
export function beyondPace(
  scenario: Scenario,
  overloads: readonly Overload[],
  uncontrolled?: UncontrolledDraws,
): number {
  const epoch = scenario.startOfDayMs;
  const site = parseSite(scenario.site);
  const paceOf = (circuit: string) => {
    let slowest = 0;
    for (const c of scenario.site.connectors)
      if (c.circuit === circuit)
        slowest = Math.max(
          slowest,
          scenario.chargers?.[`${c.chargePointId}/${c.connectorId ?? 1}`]?.responseDelayMs ??
            DEFAULT_RESPONSE_DELAY_MS,
        );
    const meterMs = Math.max(
      scenario.meters?.[circuit]?.intervalMs ?? 1000,
      uncontrolled?.slowestReportMs(circuit) ?? 0,
    );
    return meterMs + slowest + 2000;
  };
  const unexcused = new Set<number>();
  for (const o of overloads) {
    const own = scenario.otherLoads?.[o.circuit];
    const phase = o.phase as 0 | 1 | 2;
    const level = (elapsedMs: number) =>
      (own?.(epoch + elapsedMs)[phase] ?? 0) + (uncontrolled?.at(o.circuit, phase, elapsedMs) ?? 0);
    const limitA = site.circuits.find((c) => c.id === o.circuit)?.limitA[phase] ?? Infinity;
    const pace = paceOf(o.circuit);
    for (let at = o.fromMs; at < o.fromMs + o.durationMs; at += 1000) {
      // To the same 1e-6 A the closed loop counts an excess from (sim/closed-loop.ts): a zone
      // exactly full when a 12 A lift starts is 12.000000000000014 A over by its sums.
      // That second's own excess where the day recorded it (an episode's largest may be a lift's
      // that starts on top of it later), else the episode's largest.
      const carried = uncontrolled?.carriedAt(o.circuit, phase, at);
      const excessA = carried === undefined ? o.maxExcessA : carried - limitA;
      let excused = uncontrolled?.any === true && level(at) - limitA >= excessA - 1e-6;
      if (own || uncontrolled?.any) {
        // A rise within the pace: from the lowest level since the pace began (the load manager may
        // have given a dip of the other loads to the cars just before) to any second up to now.
        let lowest = level(at - pace - 1000);
        for (let back = Math.floor(pace / 1000) * 1000; back >= 0 && !excused; back -= 1000) {
          const now = level(at - back);
          excused = now - lowest >= excessA - 1e-6;
          lowest = Math.min(lowest, now);
        }
      }
      if (!excused) unexcused.add(Math.floor(at / 1000));
    }
  }
  return unexcused.size * 1000;
}

/** The home day's fixed seed (the fleet's habits are all it draws: the layout has no chance in it). */
export const HOME_SEED = 45;

/**
 * The days this module runs, by name, with their fixed seeds; `fleet`: it has a variant with the
 * fleet's habits (`--fleet`, fleet.ts).
 */
export const LOCAL_DAYS: readonly { name: string; defaultSeed: number; fleet?: true }[] = [
  { name: 'carpark', defaultSeed: CARPARK_SEED, fleet: true },
  { name: 'home', defaultSeed: HOME_SEED, fleet: true },
  ...PV_DAYS.filter((d) => d.control).map((d) => ({
    name: d.name,
    // pvHome's own default seeds: 10 for the afternoon clouds, 11 for the fast ones.
    defaultSeed: d.options.clouds === 'fast' ? 11 : 10,
  })),
];

/**
 * Runs one of LOCAL_DAYS with `seed`; `durationMs` shortens it (tests); `fleet`: its chargers with
 * the habits it turns on, drawn with `seed` (carpark and home). The car park's load manager starts
 * with what it kept from the day before (carpark.ts `dayBefore`; as long as the day when shortened).
 */
export function runLocalDay(name: string, seed: number, durationMs?: number, fleet?: Population): DayResult {
  const run = (scenario: Scenario, notes: string[], earlier?: (measured: Scenario) => Scenario) => {
    if (!fleet) return compareDay(name, seed, scenario, notes, durationMs, undefined, earlier?.(scenario));
    const day = withFleet(scenario, seed, fleet);
    return compareDay(name, seed, day.scenario, notes, durationMs, day, earlier?.(day.scenario));
  };
  if (name === 'carpark') {
    const { scenario, notes } = carParkDay(seed);
    const learned = `the load manager starts with what it kept from ${durationMs === undefined ? 'the 25 h' : `${durationMs / 1000} s`} before (the common areas of seed ${seed + 1}'s day, no car)`;
    return run(scenario, [...notes, learned], (measured) => dayBefore(measured, seed, durationMs));
  }
  if (name === 'home') {
    const scenario = homeLayout();
    return run(scenario, [
      `${scenario.name}; the chargers report every 10, 30 and 60 s and follow at once (with --fleet: as drawn)`,
    ]);
  }
  if (fleet)
    throw new Error(`--fleet: the ${name} day has no variant with the fleet's habits (carpark, home)`);
  const pv = PV_DAYS.find((d) => d.name === name);
  if (!pv) throw new Error(`no day "${name}"`);
  return compareDay(name, seed, pvHome({ ...pv.options, seed }), [pv.label], durationMs);
}
