/**
 * bench:control's reference (bench/control/ideal.ts): the ideal is what the same allocation gives
 * with perfect, instant knowledge, so it is never below what the closed loop delivers for the same
 * truth, equals it where knowledge makes no difference (a car that fills up either way), matches
 * the arithmetic on a case small enough to do by hand, and keeps every limit. Short days only.
 */
import assert from 'node:assert/strict';
import { carParkDay } from '../../bench/control/carpark';
import { CarLedger } from '../../bench/control/cars';
import { beyondPace, compareDay, runLocalDay, UncontrolledDraws } from '../../bench/control/days';
import { parseFleet, withFleet } from '../../bench/control/fleet';
import { runIdeal } from '../../bench/control/ideal';
import { ManualClock } from '../../lib/clock';
import type { Triple } from '../../lib/dlm/site';
import { WHOLE_POPULATION } from '../../sim/charger-habits';
import type { EvOptions } from '../../sim/ev';
import { SiteSimulator } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** The car arrives at 60 s; steps end every second: this many steps have it plugged in for 30 minutes. */
const HALF_HOUR_AFTER_ARRIVAL_MS = 31 * MINUTE_MS - 1000;
const QUARTER_HOUR_MS = 16 * MINUTE_MS - 1000;
/** A car's last step draws for the whole second though it fills within it: one second at 16 A × 3. */
const ONE_STEP_KWH = (16 * 3 * 230) / 3_600_000;

/** One 3-phase 16 A car in a zone of `limitA` with steady other loads, for `durationMs`. */
function oneCar(options: {
  limitA: number;
  otherA: Triple;
  remainingKWh: number;
  durationMs: number;
}): Scenario {
  const capacityKWh = 50;
  return {
    name: 'one car',
    site: {
      circuits: [
        { id: 'zone', limitA: options.limitA, meter: { source: 'zone-meter', location: 'otherLoadsOnly' } },
      ],
      connectors: [{ chargePointId: 'CP', circuit: 'zone', maxA: 32 }],
    },
    startOfDayMs: 9 * HOUR_MS,
    durationMs: options.durationMs,
    otherLoads: { zone: () => [...options.otherA] as Triple },
    cars: [
      {
        connector: 'CP/1',
        arriveMs: 60_000,
        ev: {
          phases: 3,
          maxCurrentA: 16,
          capacityKWh,
          socPercent: 100 - (options.remainingKWh / capacityKWh) * 100,
        },
      },
    ],
  };
}

/**
 * Puts a 16 A charger NS/1 beside CP/1 in `scenario`'s zone that rejects its limits (no
 * SmartCharging), with its car `ev` there from the start.
 */
function besideNoSmartCharging(scenario: Scenario, ev: EvOptions, offlineA?: number): void {
  scenario.site.connectors.push({
    chargePointId: 'NS',
    circuit: 'zone',
    maxA: 16,
    ...(offlineA === undefined ? {} : { offlineA }),
  });
  scenario.chargers = { ...scenario.chargers, 'NS/1': { refusesLimits: 'reject' } };
  scenario.cars.push({ connector: 'NS/1', arriveMs: 0, ev: { maxCurrentA: 16, capacityKWh: 50, ...ev } });
}

describe('bench:control ideal', () => {
  it('gives a lone car its maximum from the second it arrives, to the watt-hour', () => {
    const scenario = oneCar({
      limitA: 63,
      otherA: [5, 5, 5],
      remainingKWh: 40,
      durationMs: HALF_HOUR_AFTER_ARRIVAL_MS,
    });
    const ideal = runIdeal(scenario);
    // 16 A on three phases at 230 V for the 30 minutes after its arrival.
    assert.ok(Math.abs(ideal.ledger.totalWh() - 16 * 3 * 230 * 0.5) < 1, `${ideal.ledger.totalWh()} Wh`);
    assert.equal(ideal.overloadedMs, 0);
  });

  it('gives a car what the breaker leaves beside the other loads, and never more', () => {
    // 20 A breaker, 9 A of other loads on L2: the car gets 11 A on all three phases.
    const scenario = oneCar({
      limitA: 20,
      otherA: [2, 9, 4],
      remainingKWh: 40,
      durationMs: HALF_HOUR_AFTER_ARRIVAL_MS,
    });
    const ideal = runIdeal(scenario);
    assert.ok(Math.abs(ideal.ledger.totalWh() - 11 * 3 * 230 * 0.5) < 1, `${ideal.ledger.totalWh()} Wh`);
    assert.equal(ideal.overloadedMs, 0);
  });

  it("knows each car's own minimum: the current goes to the car that can take it", () => {
    // 15 A: two minimums of 6 A would fit, but car A takes nothing below 10 A. Told only 6 A, the
    // allocation would give 7.5 A each and A would draw nothing; knowing it, A gets the 15 A.
    const base = oneCar({ limitA: 15, otherA: [0, 0, 0], remainingKWh: 40, durationMs: QUARTER_HOUR_MS });
    const scenario: Scenario = {
      ...base,
      site: {
        circuits: [{ id: 'zone', limitA: 15 }],
        connectors: [
          { chargePointId: 'A', circuit: 'zone', maxA: 32 },
          { chargePointId: 'B', circuit: 'zone', maxA: 32 },
        ],
      },
      cars: [
        {
          connector: 'A/1',
          arriveMs: 60_000,
          ev: { phases: 3, maxCurrentA: 16, minCurrentA: 10, capacityKWh: 60 },
        },
        { connector: 'B/1', arriveMs: 60_000, ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60 } },
      ],
    };
    const ideal = runIdeal(scenario);
    assert.ok(Math.abs(ideal.ledger.totalWh() - 15 * 3 * 230 * 0.25) < 1, `${ideal.ledger.totalWh()} Wh`);
    assert.equal(ideal.overloadedMs, 0);
  });

  it('is never below what the closed loop delivers, and equals it where knowledge makes no difference', () => {
    // The car needs 1 kWh and has 15 minutes: it fills up under the closed loop as in the ideal.
    const fills = compareDay(
      'fills',
      0,
      oneCar({ limitA: 63, otherA: [5, 5, 5], remainingKWh: 1, durationMs: QUARTER_HOUR_MS }),
    );
    assert.ok(Math.abs(fills.deliveredKWh - 1) <= ONE_STEP_KWH, `delivered ${fills.deliveredKWh} kWh`);
    assert.ok(Math.abs(fills.idealKWh - 1) <= ONE_STEP_KWH, `ideal ${fills.idealKWh} kWh`);
    assert.ok(Math.abs(fills.deliveredKWh - fills.idealKWh) <= ONE_STEP_KWH, `ratio ${fills.ratio}`);
    // The car would take more than 15 minutes give: the closed loop's ramp and update interval cost energy.
    const tight = compareDay(
      'tight',
      0,
      oneCar({ limitA: 20, otherA: [2, 9, 4], remainingKWh: 40, durationMs: QUARTER_HOUR_MS }),
    );
    assert.ok(tight.deliveredKWh > 0);
    assert.ok(
      tight.idealKWh >= tight.deliveredKWh,
      `ideal ${tight.idealKWh} < delivered ${tight.deliveredKWh}`,
    );
    assert.ok(tight.ratio < 1);
    assert.equal(tight.secondsOver, 0);
    assert.deepEqual(tight.startsPerCar, { 'CP/1@09:01': 1 });
  });

  it('counts a start each time a car goes from not drawing to drawing, per car', () => {
    const scenario = oneCar({ limitA: 63, otherA: [0, 0, 0], remainingKWh: 40, durationMs: 10 * MINUTE_MS });
    const ledger = new CarLedger(scenario.cars);
    const draws = [0, 1000, 1000, 0, 1000];
    draws.forEach((drawW, i) => {
      const sim = { elapsedMs: 60_000 + i * 1000, chargerStats: () => [{ key: 'CP/1', drawW }] };
      ledger.step(sim as never, 1000);
    });
    assert.deepEqual(ledger.startsByName(scenario.startOfDayMs), { 'CP/1@09:01': 2 });
    assert.ok(Math.abs(ledger.totalWh() - 3000 / 3600) < 1e-9);
  });

  it('counts a restart after a phase switch under load as a start, and apart as one after a switch', () => {
    const scenario = oneCar({ limitA: 63, otherA: [0, 0, 0], remainingKWh: 40, durationMs: 10 * MINUTE_MS });
    const ledger = new CarLedger(scenario.cars);
    // Draws, a switch under load pauses it (the count rises during the pause), draws again; then a stop and a start.
    const steps: [number, number][] = [
      [1000, 0],
      [0, 1],
      [0, 1],
      [1000, 1],
      [0, 1],
      [1000, 1],
    ];
    steps.forEach(([drawW, phaseSwitchesUnderLoad], i) => {
      const sim = {
        elapsedMs: 60_000 + i * 1000,
        chargerStats: () => [{ key: 'CP/1', drawW, phaseSwitchesUnderLoad }],
      };
      ledger.step(sim as never, 1000);
    });
    assert.deepEqual(ledger.startsByName(scenario.startOfDayMs), { 'CP/1@09:01': 3 });
    assert.deepEqual(ledger.startsByName(scenario.startOfDayMs, true), { 'CP/1@09:01': 1 });
  });

  it('runs the first half hour of the car park day with the ideal at or above the closed loop', function () {
    this.timeout(20_000);
    const result = runLocalDay('carpark', 63, 30 * MINUTE_MS);
    assert.equal(result.day, 'carpark');
    assert.ok(result.idealKWh > 0);
    assert.ok(
      result.idealKWh >= result.deliveredKWh,
      `ideal ${result.idealKWh} < delivered ${result.deliveredKWh}`,
    );
    assert.equal(Object.keys(result.startsPerCar).length, 20);
  });

  it('has whole-ampere chargers that round their limit down and say their step (the car park day uses them)', () => {
    const clock = new ManualClock(0);
    const sim = new SiteSimulator({
      clock,
      site: {
        circuits: [{ id: 'zone', limitA: 63 }],
        connectors: [
          { chargePointId: 'W', circuit: 'zone' },
          { chargePointId: 'T', circuit: 'zone' },
        ],
      },
      chargers: { 'W/1': { wholeAmps: true, responseDelayMs: 0 }, 'T/1': { responseDelayMs: 0 } },
      cars: [
        { connector: 'W/1', arriveMs: 0, ev: { phases: 3, maxCurrentA: 32 } },
        { connector: 'T/1', arriveMs: 0, ev: { phases: 3, maxCurrentA: 32 } },
      ],
    });
    for (const id of ['W', 'T'])
      sim.applySetPoint({ chargePointId: id, connectorId: 1, limitA: 17.5, phases: 3, reason: 'test' });
    clock.advance(1000);
    sim.step(1000);
    const drawW = Object.fromEntries(sim.chargerStats().map((c) => [c.key, c.drawW]));
    assert.equal(drawW['W/1'], 17 * 3 * 230);
    assert.equal(drawW['T/1'], 17.5 * 3 * 230);
    // Its connector state says its step, as the charging-profile manager does for an EVlink preset.
    const states = sim.takeConnectorStates();
    assert.equal(states.find((s) => s.chargePointId === 'W')?.limitStep?.stepA, 1);
    assert.equal(states.find((s) => s.chargePointId === 'T')?.limitStep, undefined);
    assert.equal(states.length, 2);
  });

  it("counts as beyond the pace only the seconds over that no rise of the other loads within the chargers' pace explains", () => {
    // Other loads 10 A, a 12 A lift from 100 s to 130 s; meter every 2 s, the slowest charger 5 s: pace 9 s.
    const scenario = oneCar({ limitA: 40, otherA: [10, 10, 10], remainingKWh: 10, durationMs: 200_000 });
    const start = scenario.startOfDayMs;
    scenario.otherLoads = {
      zone: (atMs) => (atMs - start >= 100_000 && atMs - start < 130_000 ? [22, 22, 22] : [10, 10, 10]),
    };
    scenario.meters = { zone: { intervalMs: 2000 } };
    scenario.chargers = { 'CP/1': { responseDelayMs: 5000 } };
    const episode = (fromMs: number, durationMs: number, maxExcessA = 5) => ({
      circuit: 'zone',
      phase: 0 as const,
      fromMs,
      durationMs,
      maxExcessA,
    });
    // 6 s over right after the lift starts: within the pace, explained.
    assert.equal(beyondPace(scenario, [episode(101_000, 6000)]), 0);
    // 15 s over from the lift's start: the last 6 s are past the pace.
    assert.equal(beyondPace(scenario, [episode(101_000, 15_000)]), 6000);
    // Over with no rise before it: every second counts; the same seconds on two phases count once.
    assert.equal(beyondPace(scenario, [episode(50_000, 4000), { ...episode(50_000, 4000), phase: 1 }]), 4000);
    // A rise smaller than the excess does not explain it.
    assert.equal(beyondPace(scenario, [episode(101_000, 3000, 15)]), 3000);
    // The whole lift over a zone that was exactly full: 12 A over, as the breaker's sums of tenths
    // give it (12.000000000000014 A), is the lift's 12 A.
    assert.equal(beyondPace(scenario, [episode(101_000, 6000, 12.000000000000014)]), 0);
    // A dip the cars were given (10 → 5 A at 95 s), then the lift (5 → 17 A at 100 s): a rise of
    // 12 A from the dip explains 9 A over, though the level before the pace was 10 A.
    scenario.otherLoads = {
      zone: (atMs) => {
        const t = atMs - start;
        const level = t >= 100_000 && t < 130_000 ? 17 : t >= 95_000 ? 5 : 10;
        return [level, level, level];
      },
    };
    assert.equal(beyondPace(scenario, [episode(101_000, 6000, 9)]), 0);
  });

  it("draws the fleet's habits from the day's seed alone: the same each time, the day's truth untouched", () => {
    const { scenario } = carParkDay(63);
    const before = JSON.stringify(scenario);
    const one = withFleet(scenario, 63, WHOLE_POPULATION);
    assert.equal(JSON.stringify(scenario), before);
    assert.deepEqual(one.scenario.chargers, withFleet(scenario, 63, WHOLE_POPULATION).scenario.chargers);
    assert.notDeepEqual(one.scenario.chargers, withFleet(scenario, 64, WHOLE_POPULATION).scenario.chargers);
    assert.deepEqual(
      one.scenario.cars.map((c) => [c.connector, c.arriveMs, c.leaveMs]),
      scenario.cars.map((c) => [c.connector, c.arriveMs, c.leaveMs]),
    );
    for (const options of Object.values(one.scenario.chargers ?? {})) {
      assert.ok((options.meterIntervalMs ?? 0) >= 5000 && (options.meterIntervalMs ?? 0) <= 60_000);
      assert.ok((options.responseDelayMs ?? 0) >= 1000 && (options.responseDelayMs ?? 0) <= 60_000);
    }
    // --fleet following plays that habit alone: the meters keep the simulator's interval.
    const following = withFleet(scenario, 63, parseFleet('following') ?? WHOLE_POPULATION);
    assert.ok(Object.values(following.scenario.chargers ?? {}).every((o) => o.meterIntervalMs === undefined));
    assert.throws(() => parseFleet('lazy'), /--fleet: no habit "lazy"/);
  });

  it('has the ideal count a charger without SmartCharging as a load and fill what is left, a car that overshoots included', () => {
    // 40 A zone, other loads 10 A; a charger that rejects its limits with a 16 A car; beside it a
    // 32 A car that draws 3 % above its limit: it may draw 40 - 10 - 16 = 14 A, a limit of 14 / 1.03.
    const scenario = oneCar({
      limitA: 40,
      otherA: [10, 10, 10],
      remainingKWh: 20,
      durationMs: 5 * MINUTE_MS,
    });
    besideNoSmartCharging(scenario, { phases: 3 });
    const car = scenario.cars[0];
    if (car) car.ev = { ...car.ev, maxCurrentA: 32, overshootPercent: 3 };
    const ideal = runIdeal(scenario);
    assert.equal(ideal.overloadedMs, 0);
    const drawA = Object.fromEntries(ideal.sim.chargerStats().map((c) => [c.key, c.drawW / 3 / 230]));
    assert.ok(Math.abs((drawA['CP/1'] ?? 0) - 14) < 0.1, `CP/1 draws ${drawA['CP/1']} A`);
    assert.ok(Math.abs((drawA['NS/1'] ?? 0) - 16) < 1e-6, `NS/1 draws ${drawA['NS/1']} A`);
  });

  it("has the ideal hold a car that does not start at a charger without SmartCharging like no car: at the charger's own fallback", () => {
    // 40 A zone, other loads 10 A; a charger that rejects its limits offers its own 6 A to a car
    // that needs 8 A: it never draws, but may start at any moment, so the breaker keeps its 6 A
    // as for an arrival; the 32 A car beside it gets 40 - 10 - 6 = 24 A (30 A counted it at 0).
    const scenario = oneCar({
      limitA: 40,
      otherA: [10, 10, 10],
      remainingKWh: 20,
      durationMs: 2 * MINUTE_MS,
    });
    besideNoSmartCharging(scenario, { phases: 3, minCurrentA: 8 }, 6);
    const car = scenario.cars[0];
    if (car) car.ev = { ...car.ev, maxCurrentA: 32 };
    const ideal = runIdeal(scenario);
    const drawA = Object.fromEntries(ideal.sim.chargerStats().map((c) => [c.key, c.drawW / 3 / 230]));
    assert.equal(drawA['NS/1'], 0);
    assert.ok(Math.abs((drawA['CP/1'] ?? 0) - 24) < 0.1, `CP/1 draws ${drawA['CP/1']} A`);
  });

  it("has the ideal hold a charger that keeps its last limit with the whole day's highest other loads, not only what is left of the day", () => {
    // 40 A zone; the other loads 30 A for the first minute, then 10 A. Were the controller gone at
    // 3 min, the kept limit would still be there at the same hour tomorrow: 40 - 30 = 10 A, not 30.
    const scenario = oneCar({
      limitA: 40,
      otherA: [10, 10, 10],
      remainingKWh: 20,
      durationMs: 4 * MINUTE_MS,
    });
    const start = scenario.startOfDayMs;
    scenario.otherLoads = {
      zone: (atMs) => (atMs < start + MINUTE_MS ? [30, 30, 30] : [10, 10, 10]) as Triple,
    };
    scenario.chargers = { 'CP/1': { keepsLastLimit: true } };
    const ideal = runIdeal(scenario);
    const drawA = (ideal.sim.chargerStats()[0]?.drawW ?? 0) / 3 / 230;
    assert.ok(Math.abs(drawA - 10) < 0.1, `the keeper draws ${drawA} A`);
  });

  it('has the ideal hold a keeper with the next car at a charger without SmartCharging on every phase, not only the phase of the car there', () => {
    // 40 A zone, other loads 20 A. A one-phase keeper on grid L2 (rotation STR) beside a charger
    // that rejects its limits, its one-phase car drawing its own 6 A on L1. Were the controller
    // gone, that car may leave and a three-phase one draw 6 A on L2 as well: the keeper may keep
    // 40 - 20 - 6 = 14 A, not the 20 A L2 leaves beside the car there now.
    const scenario = oneCar({
      limitA: 40,
      otherA: [20, 20, 20],
      remainingKWh: 20,
      durationMs: 3 * MINUTE_MS,
    });
    const keeper = scenario.site.connectors[0];
    if (keeper) Object.assign(keeper, { phases: 1, phaseRotation: 'STR' });
    const car = scenario.cars[0];
    if (car) car.ev = { ...car.ev, phases: 1, maxCurrentA: 32 };
    scenario.chargers = { 'CP/1': { keepsLastLimit: true } };
    besideNoSmartCharging(scenario, { phases: 1 }, 6);
    const ideal = runIdeal(scenario);
    const drawA = Object.fromEntries(ideal.sim.chargerStats().map((c) => [c.key, c.drawW / 230]));
    assert.ok(Math.abs((drawA['NS/1'] ?? 0) - 6) < 1e-6, `NS/1 draws ${drawA['NS/1']} A`);
    assert.ok(Math.abs((drawA['CP/1'] ?? 0) - 14) < 0.1, `the keeper draws ${drawA['CP/1']} A`);
  });

  it('excuses as within the pace the seconds a charger without SmartCharging and the other loads alone put a breaker over', function () {
    this.timeout(10_000);
    // 40 A zone, other loads 10 A, a charger that rejects its limits with a 32 A car: 2 A over that
    // no set-point prevents, for as long as the car charges.
    const scenario = oneCar({
      limitA: 40,
      otherA: [10, 10, 10],
      remainingKWh: 20,
      durationMs: 5 * MINUTE_MS,
    });
    scenario.chargers = { 'CP/1': { refusesLimits: 'reject' } };
    const car = scenario.cars[0];
    if (car) car.ev = { ...car.ev, maxCurrentA: 32 };
    const result = compareDay('refuser', 1, scenario);
    assert.ok(result.secondsOver > 200, `${result.secondsOver} s over`);
    assert.equal(result.secondsOverBeyondPace, 0);
    assert.ok(Math.abs(result.ratio - 1) < 0.01, `${result.ratio}`);
  });

  it("judges each second over by its own excess where the day recorded it, not by the episode's largest", () => {
    // Other loads 10 A, 15 A from 100 s (a rise of 5 A), a 12 A lift on top from 110 s; 40 A zone,
    // pace 9 s. The breaker is 5 A over from 101 s, 12 A over from 110 s: each second within the pace
    // of a rise at least its own excess.
    const scenario = oneCar({ limitA: 40, otherA: [10, 10, 10], remainingKWh: 10, durationMs: 200_000 });
    const start = scenario.startOfDayMs;
    scenario.otherLoads = {
      zone: (atMs) => {
        const t = atMs - start;
        const level = t >= 110_000 ? 27 : t >= 100_000 ? 15 : 10;
        return [level, level, level];
      },
    };
    scenario.meters = { zone: { intervalMs: 2000 } };
    scenario.chargers = { 'CP/1': { responseDelayMs: 5000 } };
    const trace = new UncontrolledDraws(scenario);
    for (let t = 1000; t <= 120_000; t += 1000) {
      const carried = t > 100_000 ? (t >= 110_000 ? 52 : 45) : 30;
      const sim = {
        elapsedMs: t,
        site: { circuits: [{ id: 'zone' }] },
        actualA: () => [[carried, carried, carried]],
        chargerStats: () => [],
      };
      trace.step(sim as never);
    }
    const episode = {
      circuit: 'zone',
      phase: 0 as const,
      fromMs: 101_000,
      durationMs: 15_000,
      maxExcessA: 12,
    };
    assert.equal(beyondPace(scenario, [episode], trace), 0);
    // By the episode's largest excess (no trace), its first 9 s (5 A over, a 5 A rise) were counted.
    assert.equal(beyondPace(scenario, [episode]), 9000);
  });
});
