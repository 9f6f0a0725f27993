/**
 * Day 3 of `npm run bench:control`, the home tariff: a house on a 16 A fuse with a grid meter, a
 * PV plant, a 15-minute price curve with a cheap night, and a car that arrives in the evening and
 * must have 20 kWh by its departure at 07:00 (a `plan` command; its connector in mode `price`).
 * The real LoadManager with its departure planner runs in the closed loop (sim/closed-loop.ts)
 * against the simulated site; what the car drew from the grid (what the PV surplus beyond the
 * house did not cover) is priced slot by slot.
 *
 * The reference is an independent solver: an exact linear programme, solved by simplex (yalps),
 * over the same truth (the house's load, the PV and the prices, averaged per slot). Per slot t it
 * chooses the grid energy g, the PV energy p and the share f of the slot the car charges:
 *
 *     minimise Σ price·g   with   Σ (g + p) = 20 kWh,
 *     min·dt·f ≤ g + p ≤ cap·dt·f,   p ≤ surplus·dt·f,   0 ≤ f ≤ 1,
 *
 * where `min` is the car's minimum (6 A on three phases: a car charges at that or more, or not at
 * all), `cap` what the fuse leaves beside the house (at most the car's 16 A) and `surplus` the PV
 * beyond the house. It is what a controller with perfect knowledge of the day could pay; the
 * closed loop's cost ÷ this is the day's `costRatio`.
 *
 * The bench tunes nothing: `--seed 1` is the day the planner was looked at on; the seeds 2 and 3
 * were not (run `npx tsx bench/control/tariff-day.ts --seed 2`).
 */
import { solve } from 'yalps';
import { ManualClock } from '../../lib/clock';
import { LoadManager } from '../../lib/dlm/load-manager';
import type { SiteConfig, Triple } from '../../lib/dlm/site';
import { runClosedLoop } from '../../sim/closed-loop';
import { seededRandom } from '../../sim/fleet';
import { SiteSimulator } from '../../sim/site';
import { TINY_DAY_MS, tinyCap } from '../support/options';
import type { DayResult } from './day-result';
import { beyondPace } from './days';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SLOT = 15 * MINUTE;
const DAY = 24 * HOUR;
const V = 230;
const FUSE_A = 16;
const CAR_MAX_A = 16;
const CAR_MIN_A = 6;
const NEED_KWH = 20;
/** The run starts at 17:00 and the car leaves at 07:00 the next morning. */
const START_OF_DAY = 17 * HOUR;
const DEPARTURE = 14 * HOUR;

/** The day's truth, drawn from the seed: prices, the house's load and the PV per slot, the car's arrival. */
export function tariffTruth(seed: number) {
  const rnd = seededRandom(seed * 7919 + 3);
  const hourOf = (ms: number) => ((START_OF_DAY + ms) % DAY) / HOUR;
  // The price curve, €/kWh by the hour of the day, with a cheap night around 02:00-04:00.
  const basePrice = (h: number) =>
    h < 5
      ? h < 2
        ? 0.2 - 0.04 * h
        : h < 4
          ? 0.1
          : 0.12
      : h < 7
        ? 0.17 + 0.05 * (h - 5)
        : h < 17
          ? 0.3
          : h < 20
            ? 0.34
            : h < 22
              ? 0.27
              : 0.22;
  const slots = Math.ceil((DEPARTURE + 5 * HOUR) / SLOT);
  const prices: number[] = [];
  const houseW: number[] = [];
  for (let i = 0; i < slots; i++) {
    const h = hourOf(i * SLOT);
    prices.push(Math.round((basePrice(h) + (rnd() - 0.5) * 0.04) * 10_000) / 10_000);
    // The house: cooking in the evening, a base load at night, the morning.
    const base = h >= 18 && h < 21 ? 2200 : h >= 17 && h < 23 ? 700 : h >= 6 && h < 8 ? 1400 : 250;
    // In whole 0.01 A per phase: the simulated meter reads to 0.01 A, and a load between two of its
    // steps put the fuse 0.001-0.004 A over for whole slots (the allocation has no headroom on it).
    houseW.push(Math.round((base * (0.7 + 0.6 * rnd())) / (3 * V * 0.01)) * 3 * V * 0.01);
  }
  const weather = 0.4 + 0.6 * rnd();
  const pvPeakW = 7000;
  // PV from 05:00 to 21:00, highest at 13:00.
  const pvShare = (h: number) => (h >= 5 && h <= 21 ? Math.sin((Math.PI * (h - 5)) / 16) : 0) * weather;
  const arriveMs = Math.round((1 + rnd() * 2) * 4) * SLOT; // 18:00 to 20:00, on a slot
  return { prices, houseW, pvPeakW, pvShare, hourOf, arriveMs, weather };
}

type Truth = ReturnType<typeof tariffTruth>;

/** The optimal cost of the car's energy over the truth (the module comment's LP), €. */
export function referenceCost(truth: Truth): { cost: number; status: string } {
  const first = Math.floor(truth.arriveMs / SLOT);
  const last = DEPARTURE / SLOT;
  const constraints = new Map<string, { max?: number; min?: number; equal?: number }>();
  const variables = new Map<string, Map<string, number>>();
  constraints.set('energy', { equal: NEED_KWH });
  const dt = SLOT / HOUR;
  const minKW = (CAR_MIN_A * 3 * V) / 1000;
  for (let t = first; t < last; t++) {
    // The slot's PV and house load as their mean over the slot (the simulator's truth per minute).
    let pvW = 0;
    for (let m = 0; m < 15; m++) pvW += truth.pvPeakW * truth.pvShare(truth.hourOf(t * SLOT + m * MINUTE));
    pvW /= 15;
    const houseW = truth.houseW[t] ?? 0;
    const capKW = Math.min(CAR_MAX_A * 3 * V, FUSE_A * 3 * V - houseW + pvW) / 1000;
    const surplusKW = Math.max(0, pvW - houseW) / 1000;
    constraints.set(`cap${t}`, { max: 0 });
    constraints.set(`min${t}`, { min: 0 });
    constraints.set(`pv${t}`, { max: 0 });
    constraints.set(`f${t}`, { max: 1 });
    variables.set(
      `g${t}`,
      new Map([
        ['cost', truth.prices[t] ?? 1],
        ['energy', 1],
        [`cap${t}`, 1],
        [`min${t}`, 1],
      ]),
    );
    variables.set(
      `p${t}`,
      new Map([
        ['energy', 1],
        [`cap${t}`, 1],
        [`min${t}`, 1],
        [`pv${t}`, 1],
      ]),
    );
    variables.set(
      `f${t}`,
      new Map([
        [`cap${t}`, -capKW * dt],
        [`min${t}`, -minKW * dt],
        [`pv${t}`, -surplusKW * dt],
        [`f${t}`, 1],
      ]),
    );
  }
  const solution = solve({ direction: 'minimize', objective: 'cost', constraints, variables });
  return { cost: solution.result, status: solution.status };
}

/** The tariff day through the real LoadManager in the closed loop. */
export async function runTariffDay(options: { seed: number }): Promise<DayResult> {
  const { seed } = options;
  const truth = tariffTruth(seed);
  const startMs = Date.UTC(2026, 5, 1, 17);
  const clock = new ManualClock(startMs);
  const site: SiteConfig = {
    circuits: [{ id: 'home', limitA: FUSE_A, meter: { source: 'grid', location: 'includesChargers' } }],
    connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: CAR_MAX_A, minA: CAR_MIN_A, mode: 'price' }],
    pv: {},
  };
  const slotOf = (elapsedMs: number) => Math.floor(elapsedMs / SLOT);
  const houseA = (atMs: number): Triple => {
    const w = (truth.houseW[slotOf(atMs - START_OF_DAY)] ?? 250) / (3 * V);
    return [w, w, w];
  };
  const sim = new SiteSimulator({
    clock,
    site,
    startOfDayMs: START_OF_DAY,
    otherLoads: { home: houseA },
    pv: { peakW: truth.pvPeakW, profile: (atMs) => truth.pvShare((((atMs % DAY) + DAY) % DAY) / HOUR) },
    cars: [
      {
        connector: 'WB-1/1',
        arriveMs: truth.arriveMs,
        leaveMs: DEPARTURE,
        ev: { capacityKWh: 60, socPercent: 30, maxCurrentA: CAR_MAX_A, minCurrentA: CAR_MIN_A },
      },
    ],
  });
  const manager = new LoadManager({ site, clock });
  manager.command({
    type: 'prices',
    prices: {
      currency: 'EUR',
      prices: truth.prices.map((price, i) => ({
        start: startMs + i * SLOT,
        end: startMs + (i + 1) * SLOT,
        price,
      })),
    },
  });
  // A perfect forecast of the PV beyond the house, as a forecast node would give it.
  manager.command({
    type: 'pvForecast',
    forecast: truth.houseW.map((houseW, i) => ({
      start: startMs + i * SLOT,
      end: startMs + (i + 1) * SLOT,
      powerW: Math.max(0, truth.pvPeakW * truth.pvShare(truth.hourOf(i * SLOT + SLOT / 2)) - houseW),
    })),
  });
  manager.command({
    type: 'plan',
    chargePointId: 'WB-1',
    energyKWh: NEED_KWH,
    departure: new Date(startMs + DEPARTURE).toISOString(),
  });
  let costEur = 0;
  let deliveredWh = 0;
  let startEnergyWh: number | undefined;
  const reasons = new Set<string>();
  let lastDrawing = false;
  const loop = runClosedLoop(clock, sim, manager, {
    durationMs: tinyCap(DEPARTURE, TINY_DAY_MS),
    onStep: (s) => {
      const charger = s.chargerStats()[0];
      if (!charger) return;
      startEnergyWh ??= charger.energyWh;
      deliveredWh = charger.energyWh - startEnergyWh;
      const surplusW = Math.max(0, s.pvPowerW - s.otherLoadsW);
      const gridW = Math.max(0, charger.drawW - surplusW);
      costEur += ((truth.prices[slotOf(s.elapsedMs - 1)] ?? 0) * gridW) / 3_600_000;
      const reason = manager.setPoints()[0]?.reason;
      if (process.env.TARIFF_DEBUG && charger.drawW > 0 !== lastDrawing) {
        lastDrawing = charger.drawW > 0;
        console.error(clock24(s.elapsedMs), charger.drawW, reason);
      }
      if (reason && s.elapsedMs % HOUR === 0) reasons.add(`${s.elapsedMs / HOUR} h: ${reason}`);
    },
  });
  const reference = referenceCost(truth);
  if (process.env.TARIFF_DEBUG)
    console.error(loop.overloads.map((o) => `${clock24(o.fromMs)} ${o.durationMs} ${o.maxExcessA}`));
  const starts = sim.chargerStats()[0]?.starts ?? 0;
  const deliveredKWh = deliveredWh / 1000;
  return {
    day: 'tariff',
    seed,
    deliveredKWh: round(deliveredKWh, 2),
    idealKWh: NEED_KWH,
    ratio: round(deliveredKWh / NEED_KWH, 4),
    secondsOver: loop.overloadedMs / 1000,
    secondsOverBeyondPace:
      beyondPace(
        {
          name: 'tariff',
          site,
          startOfDayMs: START_OF_DAY,
          durationMs: DEPARTURE,
          otherLoads: { home: houseA },
          cars: [],
        },
        loop.overloads,
      ) / 1000,
    maxStartsPerCar: starts,
    startsPerCar: { 'WB-1/1': starts },
    costRatio: round(costEur / reference.cost, 4),
    reachedByDeparture: deliveredKWh >= NEED_KWH - 0.05,
    notes: [
      `cost ${costEur.toFixed(3)} € against the optimum ${reference.cost.toFixed(3)} € (LP ${reference.status}, yalps simplex)`,
      `car from ${clock24(truth.arriveMs)} to 07:00; PV weather ${truth.weather.toFixed(2)}`,
      `over the fuse at most ${Math.max(0, ...loop.overloads.map((o) => o.maxExcessA)).toFixed(3)} A (${loop.overloads.length} episodes)`,
      ...reasons,
    ],
  };
}

function clock24(elapsedMs: number): string {
  const minutes = Math.round(((START_OF_DAY + elapsedMs) % DAY) / MINUTE);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv[1]?.endsWith('tariff-day.ts')) {
  const at = process.argv.indexOf('--seed');
  const seed = at >= 0 ? Number(process.argv[at + 1]) : 1;
  runTariffDay({ seed }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
