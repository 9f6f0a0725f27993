/**
 * Safe by default (issue #27): the two layouts that overloaded a breaker with the shipped settings,
 * run closed-loop against the site simulator (the physical truth) with NO setting changed, and for
 * each the peak above the breaker's limit, the seconds above it (both must be 0), and the charge
 * the protection cost: kWh the cars did not get against an oracle run that is the same but for the
 * fault (the meter never goes silent, the charger follows at once).
 *
 *   npm run bench:safety
 *
 * 1. A car park behind a 63 A zone (the Climkit layout: the DLM meter counts the common areas
 *    only), ten three-phase cars. The common areas draw 8 A, 20 A at their morning peak; in the
 *    afternoon the meter goes silent for 10 minutes while they rise from 8 to 20 A again.
 * 2. A 40 A supply line, its meter counting the other loads only, three chargers; one follows a
 *    decrease only after 30 s, and cars arrive one after another, each forcing it down.
 *
 * Simulated time: a few seconds of CPU. Not part of npm test.
 */
import { ManualClock } from '../lib/clock';
import type { SetPoint } from '../lib/contracts';
import { LoadManager } from '../lib/dlm/load-manager';
import type { SiteConfig, Triple } from '../lib/dlm/site';
import { silentLogger } from '../lib/log';
import { runClosedLoop } from '../sim/closed-loop';
import { type SimCar, type SimChargerOptions, type SimMeterOptions, SiteSimulator } from '../sim/site';
import { machineLine } from './support/machine';
import { TINY_DAY_MS, tinyCap } from './support/options';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

interface Layout {
  name: string;
  site: SiteConfig;
  startOfDayMs: number;
  durationMs: number;
  otherLoads: Record<string, (timeOfDayMs: number) => Triple>;
  meters: Record<string, SimMeterOptions>;
  chargers: Record<string, SimChargerOptions>;
  cars: SimCar[];
  site_pv?: { source: string };
  /** A meter's stale notice (ms since the start): what ampflow-meter sends when its connection is lost. */
  staleNotice?: { source: string; atMs: number };
}

function run(layout: Layout) {
  const clock = new ManualClock(Date.UTC(2026, 5, 21) + layout.startOfDayMs);
  const manager = new LoadManager({ site: layout.site, clock, logger: silentLogger });
  const sim = new SiteSimulator({
    clock,
    site: manager.site,
    startOfDayMs: layout.startOfDayMs,
    otherLoads: layout.otherLoads,
    meters: layout.meters,
    chargers: layout.chargers,
    cars: layout.cars,
    ...(layout.site_pv ? { pv: { peakW: 10_000, profile: () => 0, source: layout.site_pv.source } } : {}),
  });
  const startMs = clock.now();
  let noticed = false;
  const raises: { key: string; atMs: number }[] = [];
  const last = new Map<string, number>();
  manager.on('setPoint', (setPoint: SetPoint) => {
    const key = `${setPoint.chargePointId}/${setPoint.connectorId}`;
    if (setPoint.limitA > (last.get(key) ?? 0)) raises.push({ key, atMs: clock.now() - startMs });
    last.set(key, setPoint.limitA);
  });
  let peakOverA = 0;
  const result = runClosedLoop(clock, sim, manager, {
    durationMs: tinyCap(layout.durationMs, TINY_DAY_MS),
    onStep: (s) => {
      const notice = layout.staleNotice;
      if (notice && !noticed && clock.now() - startMs >= notice.atMs) {
        noticed = true;
        manager.meterStale(notice.source, 'connection lost');
      }
      s.actualA().forEach((phases, c) => {
        const limit = manager.site.circuits[c]?.limitA ?? [0, 0, 0];
        phases.forEach((a, p) => {
          peakOverA = Math.max(peakOverA, Math.abs(a) - (limit[p] ?? 0));
        });
      });
    },
  });
  const kWh = sim.chargerStats().reduce((sum, c) => sum + c.energyWh, 0) / 1000;
  return { peakOverA: Math.max(0, peakOverA), overS: result.overloadedMs / 1000, kWh, raises };
}

/** 1. The 63 A zone; `silent`: the meter goes silent 14:00-14:10 while the common areas rise to 20 A. */
function zone(silent: boolean): Layout {
  const connectors = Array.from({ length: 10 }, (_, i) => ({
    chargePointId: `CK-${String(i + 1).padStart(2, '0')}`,
    circuit: 'zone',
    maxA: 32,
    phaseRotation: (['RST', 'STR', 'TRS'] as const)[i % 3],
  }));
  const commonAreas = (t: number): Triple => {
    const morningPeak = t >= 8 * HOUR && t < 8.5 * HOUR;
    const afternoonRise = t >= 14 * HOUR + 2 * MINUTE && t < 14 * HOUR + 10 * MINUTE;
    return morningPeak || afternoonRise ? [20, 20, 20] : [8, 8, 8];
  };
  return {
    name: '63 A zone, meter on the common areas only, 10 three-phase cars, the meter silent 10 min',
    site: {
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'common-areas', location: 'otherLoadsOnly' } }],
      connectors,
    },
    startOfDayMs: 7 * HOUR,
    durationMs: 9 * HOUR,
    otherLoads: { zone: commonAreas },
    meters: {
      zone: {
        intervalMs: 2 * SECOND,
        dropouts: silent ? [{ fromMs: 7 * HOUR, toMs: 7 * HOUR + 10 * MINUTE }] : [],
      },
    },
    chargers: {},
    cars: connectors.map((c, i) => ({
      connector: `${c.chargePointId}/1`,
      arriveMs: 6 * HOUR + i * 3 * MINUTE,
      ev: { phases: 3, maxCurrentA: 32, capacityKWh: 80, socPercent: 20 },
    })),
  };
}

/** 2. The 40 A line; CP-1 follows a decrease after `followS`, the others after 3 s. */
function line(followS: number): Layout {
  const connectors = ['CP-1', 'CP-2', 'CP-3'].map((id, i) => ({
    chargePointId: id,
    circuit: 'line',
    maxA: 32,
    phaseRotation: (['RST', 'STR', 'TRS'] as const)[i],
  }));
  return {
    name: '40 A line, meter on the other loads only, CP-1 follows a decrease after 30 s',
    site: {
      circuits: [{ id: 'line', limitA: 40, meter: { source: 'line-meter', location: 'otherLoadsOnly' } }],
      connectors,
    },
    startOfDayMs: 18 * HOUR,
    durationMs: 2 * HOUR,
    otherLoads: { line: () => [5, 5, 5] },
    meters: { line: { intervalMs: SECOND } },
    chargers: {
      'CP-1/1': { responseDelayMs: followS * SECOND, meterIntervalMs: 10 * SECOND },
      'CP-2/1': { responseDelayMs: 3 * SECOND, meterIntervalMs: 10 * SECOND },
      'CP-3/1': { responseDelayMs: 3 * SECOND, meterIntervalMs: 10 * SECOND },
    },
    cars: [0, 20, 40].map((atMin, i) => ({
      connector: `CP-${i + 1}/1`,
      arriveMs: atMin * MINUTE,
      ev: { phases: 3 as const, maxCurrentA: 32, capacityKWh: 80, socPercent: 20 },
    })),
  };
}

type Probe = 'zero' | 'frozen' | 'pvNight' | 'dead' | 'none';

/** 3-6. Three cars on a 63 A zone; the meter lies (or dies) 10 minutes from 18:10 while the other loads rise 8 -> 20 A. */
function evidence(probe: Probe, location: 'otherLoadsOnly' | 'includesChargers' = 'otherLoadsOnly'): Layout {
  const connectors = ['CP-1', 'CP-2', 'CP-3'].map((id, i) => ({
    chargePointId: id,
    circuit: 'zone',
    phaseRotation: (['RST', 'STR', 'TRS'] as const)[i],
    ...(probe === 'pvNight' && i === 0 ? { mode: 'minpv' as const } : {}),
  }));
  const lieFromMs = 10 * MINUTE;
  const rising = (t: number): Triple => {
    const e = t - 18 * HOUR - lieFromMs - MINUTE;
    const amps = e < 0 ? 8 : Math.min(20, 8 + (e / MINUTE) * 6);
    return [amps, amps, amps];
  };
  const names: Record<Probe, string> = {
    zero: '63 A zone, meter on the other loads only reads 0.00 A for 10 min (fresh timestamps) while they rise 8 -> 20 A',
    frozen:
      '63 A zone, meter on the other loads only repeats its last reading for 10 min while they rise 8 -> 20 A',
    pvNight:
      'PV site at night (inverter read at 0 W, a car on minpv), the grid meter counting the chargers reads 0.00 A for 10 min',
    dead: '63 A zone, the meter of the other loads only loses its Modbus connection (its stale notice) while they rise 8 -> 20 A',
    none: '',
  };
  return {
    name: names[probe],
    site: {
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'zone-meter', location } }],
      connectors,
      ...(probe === 'pvNight' ? { pv: { inverterSource: 'inverter' } } : {}),
    },
    startOfDayMs: 18 * HOUR,
    durationMs: 30 * MINUTE,
    otherLoads: { zone: rising },
    meters: {
      zone: {
        jitterA: 0.05,
        lies:
          probe === 'zero' || probe === 'pvNight' || probe === 'frozen'
            ? [
                {
                  fromMs: lieFromMs,
                  toMs: lieFromMs + 10 * MINUTE,
                  kind: probe === 'frozen' ? 'frozen' : 'zero',
                },
              ]
            : [],
        dropouts: probe === 'dead' ? [{ fromMs: lieFromMs, toMs: lieFromMs + 10 * MINUTE }] : [],
      },
    },
    chargers: Object.fromEntries(
      connectors.map((c) => [
        `${c.chargePointId}/1`,
        { meterIntervalMs: 10 * SECOND, responseDelayMs: 3 * SECOND },
      ]),
    ),
    cars: connectors.map((c) => ({
      connector: `${c.chargePointId}/1`,
      arriveMs: MINUTE,
      ev: { phases: 3 as const, maxCurrentA: 32, capacityKWh: 200, socPercent: 10 },
    })),
    ...(probe === 'pvNight' ? { site_pv: { source: 'inverter' } } : {}),
    ...(probe === 'dead' ? { staleNotice: { source: 'zone-meter', atMs: lieFromMs } } : {}),
  };
}

/** The oracle of an evidence probe: the same site and truth, the meter truthful. */
function truthful(probe: Probe): Layout {
  const layout = evidence(
    probe === 'pvNight' ? 'pvNight' : 'none',
    probe === 'pvNight' ? 'includesChargers' : 'otherLoadsOnly',
  );
  return { ...layout, meters: { zone: { jitterA: 0.05 } }, staleNotice: undefined };
}

/**
 * 7. The home layout: cars 45 s apart, chargers that follow a new limit at once and report every
 * `reportS` s; `location` of the one meter, polled every second, its reading a poll late (stamped
 * when measured, as a Modbus reading is).
 */
function homeLayout(location: 'includesChargers' | 'otherLoadsOnly', reportS: number): Layout {
  const layout = evidence('none', location);
  return {
    ...layout,
    name: `home layout: grid meter counts the wallboxes (polled 1 s, its reading 1 s late), chargers follow at once and report every ${reportS} s, 3 cars 45 s apart, constant house load; oracle: a meter of the other loads only`,
    otherLoads: { zone: () => [8, 8, 8] },
    meters: { zone: { jitterA: 0.05, delayMs: SECOND } },
    chargers: Object.fromEntries(
      Object.keys(layout.chargers).map((key) => [
        key,
        { meterIntervalMs: reportS * SECOND, responseDelayMs: 0 },
      ]),
    ),
    cars: layout.cars.map((car, i) => ({ ...car, arriveMs: MINUTE + i * 45 * SECOND })),
  };
}

/** 8. A 40 A line, CP-3 (the last car to arrive) accepts its limit and draws its 32 A anyway; its oracle obeys. */
function ignoring(rogue: boolean): Layout {
  const layout = line(1);
  return {
    ...layout,
    name: '40 A line, a charger that accepts its limit and ignores it (draws 32 A), beside two that obey',
    chargers: { ...layout.chargers, 'CP-3/1': { ...layout.chargers['CP-3/1'], rogue } },
  };
}

/** 9. Three cars on the 63 A zone; CP-3's car leaves after 15 min (`leaves`), or never comes. */
function departure(leaves: boolean): Layout {
  const layout = evidence('none');
  return {
    ...layout,
    name: '63 A zone, three cars charging, one leaves (1.6 StopTransaction, then Available): the others get its current after',
    otherLoads: { zone: () => [8, 8, 8] },
    cars: layout.cars.flatMap((car) =>
      car.connector !== 'CP-3/1' ? [car] : leaves ? [{ ...car, leaveMs: 15 * MINUTE }] : [],
    ),
  };
}

const rows = [
  { layout: zone(true), oracle: zone(false) },
  { layout: line(30), oracle: line(1) },
  ...(['zero', 'frozen', 'pvNight', 'dead'] as const).map((probe) => ({
    layout: evidence(probe, probe === 'pvNight' ? 'includesChargers' : 'otherLoadsOnly'),
    oracle: truthful(probe),
  })),
  ...[10, 30, 60].map((reportS) => ({
    layout: homeLayout('includesChargers', reportS),
    oracle: homeLayout('otherLoadsOnly', reportS),
  })),
  { layout: ignoring(true), oracle: ignoring(false) },
];
console.log(machineLine());
console.log(
  '| layout (no setting changed) | peak over the limit | seconds over | kWh delivered | kWh lost to the protection |',
);
console.log('| --- | --- | --- | --- | --- |');
for (const { layout, oracle } of rows) {
  const faulty = run(layout);
  const ideal = run(oracle);
  console.log(
    `| ${layout.name} | ${faulty.peakOverA.toFixed(1)} A | ${faulty.overS.toFixed(0)} s | ${faulty.kWh.toFixed(1)} | ${(ideal.kWh - faulty.kWh).toFixed(2)} (oracle ${ideal.kWh.toFixed(1)}) |`,
  );
}
{
  const layout = departure(true);
  const faulty = run(layout);
  const freed = faulty.raises.find((r) => r.key !== 'CP-3/1' && r.atMs >= 15 * MINUTE);
  const afterS = freed ? `${((freed.atMs - 15 * MINUTE) / 1000).toFixed(0)} s` : 'never';
  console.log(
    `| ${layout.name} ${afterS} | ${faulty.peakOverA.toFixed(1)} A | ${faulty.overS.toFixed(0)} s | ${faulty.kWh.toFixed(1)} | (the leaving car's 15 min of charge included) |`,
  );
}
