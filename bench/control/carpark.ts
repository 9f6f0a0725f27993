/**
 * Day 1 of `npm run bench:control`: a car park on one 63 A zone (a Climkit-style DLM meter on the
 * common areas), 12 chargers and 20 cars arriving and leaving over 10 hours, all drawn from one
 * seed. The chargers: a mix of OCPP 1.6 and 2.0.1 (a label only: the simulator's chargers behave
 * the same whatever their protocol, see docs/performance.md), 10 % slow ones (30-60 s from a limit
 * to the car drawing it), a third that take whole amperes only (the EVlink presets), the rest 3-10 s.
 * The cars: 30 % single-phase, half with their own minimum above 6 A (7-10 A), 16 or 32 A. The
 * common areas: lighting and ventilation, a morning and a lunch peak, a heat pump cycling in the
 * afternoon and lift runs at random moments.
 */
import type { ConnectorConfig, Triple } from '../../lib/dlm/site';
import type { EvOptions } from '../../sim/ev';
import { seededRandom } from '../../sim/fleet';
import type { LoadProfile, SimCar, SimChargerOptions } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
export const CARPARK_SEED = 63;
const CHARGERS = 12;
const CARS = 20;
const START_OF_DAY_MS = 7.5 * HOUR_MS;
const DAY_MS = 10 * HOUR_MS;

export interface CarParkDay {
  scenario: Scenario;
  /** What the day is made of, for the table's notes. */
  notes: string[];
}

export function carParkDay(seed = CARPARK_SEED, durationMs = DAY_MS): CarParkDay {
  const random = seededRandom(seed);
  const between = (low: number, high: number) => low + random() * (high - low);
  const rotations = ['RST', 'STR', 'TRS'] as const;
  const connectors: ConnectorConfig[] = Array.from({ length: CHARGERS }, (_, i) => ({
    chargePointId: `CP-${String(i + 1).padStart(2, '0')}`,
    circuit: 'zone',
    maxA: i % 4 === 3 ? 16 : 32,
    // As the shipped example sets it: what a charger gives when ampflow cannot limit it.
    offlineA: 6,
    phaseRotation: rotations[i % 3] ?? 'RST',
  }));
  // 10 % slow (at least one), a third whole-ampere, the rest 3-10 s; the protocol drawn for each.
  const order = connectors.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? j, order[i] ?? i];
  }
  const slow = new Set(order.slice(0, Math.max(1, Math.round(CHARGERS / 10))));
  const wholeAmps = new Set(order.slice(slow.size, slow.size + Math.round(CHARGERS / 3)));
  const chargers: Record<string, SimChargerOptions> = {};
  const protocols: string[] = [];
  connectors.forEach((connector, i) => {
    const key = `${connector.chargePointId}/1`;
    protocols.push(random() < 0.5 ? '1.6' : '2.0.1');
    chargers[key] = {
      responseDelayMs: Math.round(slow.has(i) ? between(30_000, 60_000) : between(3_000, 10_000)),
      ...(wholeAmps.has(i) ? { wholeAmps: true } : {}),
    };
  });
  // Cars: arrivals spread over the first 7 hours, each stays 1.5-5 h, on a charger free by then.
  const arrivals = Array.from({ length: CARS }, () => Math.round(between(0, 7 * HOUR_MS) / 1000) * 1000).sort(
    (a, b) => a - b,
  );
  const freeFrom = new Array<number>(CHARGERS).fill(0);
  const cars: SimCar[] = [];
  for (const arriveMs of arrivals) {
    const free = freeFrom.map((at, i) => (at <= arriveMs ? i : -1)).filter((i) => i >= 0);
    if (free.length === 0) continue;
    const i = free[Math.floor(random() * free.length)] ?? 0;
    const leaveMs = arriveMs + Math.round(between(1.5 * HOUR_MS, 5 * HOUR_MS) / 1000) * 1000;
    freeFrom[i] = leaveMs + 5 * MINUTE_MS;
    const onePhase = random() < 0.3;
    const ev: EvOptions = {
      phases: onePhase ? 1 : 3,
      maxCurrentA: random() < 0.3 ? 32 : 16,
      minCurrentA: random() < 0.5 ? 6 : 7 + Math.floor(random() * 4),
      capacityKWh: Math.round(between(40, 80)),
      socPercent: Math.round(between(10, 60)),
      targetSocPercent: random() < 0.5 ? 80 : 100,
    };
    cars.push({
      connector: `${connectors[i]?.chargePointId}/1`,
      arriveMs,
      ...(leaveMs < durationMs ? { leaveMs } : {}),
      ev,
    });
  }
  const commonAreas = commonAreaLoads(random);
  const describe = (set: Set<number>) =>
    [...set]
      .sort((a, b) => a - b)
      .map((i) => connectors[i]?.chargePointId)
      .join(', ');
  return {
    scenario: {
      name: 'car park: 63 A zone, 12 chargers, 20 cars over 10 h',
      site: {
        circuits: [
          {
            id: 'zone',
            name: 'zone 63 A',
            limitA: 63,
            meter: { source: 'common-areas', location: 'otherLoadsOnly', staleAfterMs: 30_000 },
            fallback: { connectorLimitA: 6 },
          },
        ],
        connectors,
      },
      startOfDayMs: START_OF_DAY_MS,
      durationMs,
      otherLoads: { zone: commonAreas },
      meters: { zone: { intervalMs: 2000 } },
      chargers,
      cars,
    },
    notes: [
      `${cars.length} cars (${cars.filter((c) => c.ev.phases === 1).length} single-phase, ${cars.filter((c) => (c.ev.minCurrentA ?? 6) > 6).length} with their own minimum 7-10 A)`,
      `slow chargers (30-60 s): ${describe(slow)}; whole-ampere: ${describe(wholeAmps)}`,
      `OCPP 2.0.1 (label only): ${protocols.filter((p) => p === '2.0.1').length} of ${CHARGERS}`,
    ],
  };
}

/**
 * The common areas' loads over the day (grid phases, A): lighting and ventilation, a morning and a
 * lunch peak, a heat pump cycling in the afternoon, lift runs (12 A on all phases for 20-40 s,
 * 4-10 an hour).
 */
function commonAreaLoads(random: () => number): LoadProfile {
  const lifts: { fromMs: number; toMs: number }[] = [];
  for (let at = 6 * HOUR_MS; at < 19 * HOUR_MS; ) {
    at += Math.round((6 + random() * 9) * MINUTE_MS);
    lifts.push({ fromMs: at, toMs: at + Math.round((20 + random() * 20) * 1000) });
  }
  return (atMs) => {
    const hour = atMs / HOUR_MS;
    const load: Triple = [6, 5, 5.5];
    if (hour >= 7 && hour < 9) for (const p of [0, 1, 2] as const) load[p] += 3;
    if (hour >= 11.5 && hour < 13.5) load[0] += 8;
    // The heat pump: 15 minutes on, 15 off, from 13:00.
    if (hour >= 13 && Math.floor((hour - 13) * 4) % 2 === 0) for (const p of [0, 1, 2] as const) load[p] += 5;
    if (lifts.some((lift) => atMs >= lift.fromMs && atMs < lift.toMs))
      for (const p of [0, 1, 2] as const) load[p] += 12;
    return load;
  };
}

/**
 * The 25 hours before the measured day on its site (its chargers as measured, with the fleet's
 * habits where drawn), no car: the common areas of the day drawn with the next seed (other lift
 * runs), wrapped round the clock. A load manager that ran through them has learned a whole day of
 * the other loads' peaks (evidence/other-load-peaks.ts: the hourly peaks of the last 24 hours,
 * without the margin it adds while it has seen less), as a site that has run before has: its memory
 * is kept across restarts (lib/dlm/memory.ts). `learnMs` shorter: less learned (a shortened day:
 * tests, AMPFLOW_BENCH_TINY).
 */
export function dayBefore(measured: Scenario, seed: number, learnMs = 25 * HOUR_MS): Scenario {
  const profile = carParkDay(seed + 1).scenario.otherLoads?.zone;
  return {
    ...measured,
    name: `${measured.name}: the day before`,
    startOfDayMs: measured.startOfDayMs - learnMs,
    durationMs: learnMs,
    otherLoads: profile
      ? { zone: (atMs) => profile(((atMs % (24 * HOUR_MS)) + 24 * HOUR_MS) % (24 * HOUR_MS)) }
      : {},
    cars: [],
  };
}
