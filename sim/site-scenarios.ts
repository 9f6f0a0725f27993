/**
 * The four sites the load manager is proven on (scenario tests and bench), each a SiteConfig plus
 * the physics around it; `runScenario` (scenario-run.ts, re-exported here) runs one closed loop on a
 * ManualClock and collects the figures: breaker overloads, set-points, energy, PV use, grid import,
 * starts/stops, phase switches.
 */
import type { ConnectorConfig, FallbackConfig, Triple } from '../lib/dlm/site';
import { NOMINAL_VOLTAGE_V } from '../lib/electrical';
import type { EvOptions } from './ev';
import { seededRandom } from './fleet';
import type { Scenario } from './scenario-run';
import type { LoadProfile, SimCar, SimChargerOptions } from './site';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export type { RunOptions, Scenario, ScenarioResult } from './scenario-run';
export { runScenario } from './scenario-run';

// -----------------------------------------------------------------------------------------------
// 1. Climkit: a 63 A zone, a DLM meter on the common areas, ten chargers.

export interface ClimkitOptions {
  fallback?: FallbackConfig;
  /** The meter goes silent from/to (ms since start). Default 3 h to 3 h 10 min. */
  dropout?: { fromMs: number; toMs: number };
  /** Connector keys of chargers that ignore their set-points. */
  rogue?: string[];
  /** How often the rogue chargers' own meters report (OCPP MeterValueSampleInterval). Default 10 s. */
  rogueMeterIntervalMs?: number;
  /** Common-area loads do not jump (no elevator). */
  steadyCommonAreas?: boolean;
  seed?: number;
}

export function climkitZone(options: ClimkitOptions = {}): Scenario {
  const random = seededRandom(options.seed ?? 63);
  const rotations = ['RST', 'STR', 'TRS'] as const;
  const connectors: ConnectorConfig[] = Array.from({ length: 10 }, (_, i) => ({
    chargePointId: `CK-${String(i + 1).padStart(2, '0')}`,
    circuit: 'zone',
    maxA: 32,
    phaseRotation: rotations[i % 3] ?? 'RST',
  }));
  const cars: SimCar[] = connectors.map((connector, i) => {
    const kind = random();
    const ev: EvOptions =
      kind < 0.55
        ? { phases: 3, maxCurrentA: 16 }
        : kind < 0.7
          ? { phases: 3, maxCurrentA: 32 }
          : kind < 0.85
            ? { phases: 1, maxCurrentA: 32 }
            : { phases: 1, maxCurrentA: 16 };
    return {
      connector: `${connector.chargePointId}/1`,
      arriveMs: Math.round((i * 9 + random() * 6) * MINUTE_MS),
      ev: { ...ev, capacityKWh: 50 + Math.round(random() * 30), socPercent: 15 + Math.round(random() * 40) },
    };
  });
  const elevator = (atMs: number) => {
    if (options.steadyCommonAreas) return 0;
    const minute = Math.floor(atMs / MINUTE_MS);
    return minute % 7 === 0 && atMs % MINUTE_MS < 40_000 ? 12 : 0;
  };
  const commonAreas: LoadProfile = (atMs) => {
    const evening = atMs >= 17 * HOUR_MS && atMs < 23 * HOUR_MS ? 4 : 0;
    const lift = elevator(atMs);
    return [8 + evening + lift, 5 + lift, 6 + lift];
  };
  const chargers: Record<string, SimChargerOptions> = {};
  for (const key of options.rogue ?? []) {
    chargers[key] = {
      rogue: true,
      ...(options.rogueMeterIntervalMs === undefined
        ? {}
        : { meterIntervalMs: options.rogueMeterIntervalMs }),
    };
  }
  return {
    name: 'Climkit zone: 63 A, DLM meter on the common areas, 10 chargers',
    site: {
      circuits: [
        {
          id: 'zone',
          name: 'zone 63 A',
          limitA: 63,
          meter: { source: 'common-areas', location: 'otherLoadsOnly', staleAfterMs: 30_000 },
          fallback: options.fallback ?? { connectorLimitA: 6 },
        },
      ],
      connectors,
    },
    startOfDayMs: 17 * HOUR_MS,
    durationMs: 6 * HOUR_MS,
    otherLoads: { zone: commonAreas },
    meters: {
      zone: {
        intervalMs: 2000,
        dropouts: [options.dropout ?? { fromMs: 3 * HOUR_MS, toMs: 3 * HOUR_MS + 10 * MINUTE_MS }],
      },
    },
    chargers,
    cars,
  };
}

// -----------------------------------------------------------------------------------------------
// 2. Bender-style DLM master: a main distribution with an external meter (including the EVSE
//    sub-distribution), a 32 A sub-distribution, rotated chargers, single-phase cars.

export interface BenderOptions {
  /** Put every charger on RST (no rotation): single-phase cars then all load L1. */
  noRotation?: boolean;
  unbalanceLimitA?: number | null;
  /** control.strictUnbalance: cars of unknown phases count as single-phase for the unbalance. */
  strictUnbalance?: boolean;
}

export function benderMaster(options: BenderOptions = {}): Scenario {
  const rotations = options.noRotation
    ? (['RST', 'RST', 'RST', 'RST', 'RST', 'RST', 'RST', 'RST'] as const)
    : (['RST', 'STR', 'TRS', 'RST', 'STR', 'TRS', 'RTS', 'SRT'] as const);
  const connectors: ConnectorConfig[] = rotations.map((rotation, i) => ({
    chargePointId: `+49*839*00000000${String(i + 1).padStart(2, '0')}`,
    circuit: 'evse-sub',
    maxA: 16,
    minA: 6,
    phaseRotation: rotation,
  }));
  const cars: SimCar[] = connectors.map((connector, i) => ({
    connector: `${connector.chargePointId}/1`,
    arriveMs: i < 6 ? i * 2 * MINUTE_MS : 60 * MINUTE_MS + (i - 6) * 5 * MINUTE_MS,
    ev:
      i < 6
        ? { phases: 1, maxCurrentA: 16, capacityKWh: 40, socPercent: 20 }
        : { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 30 },
  }));
  const building: LoadProfile = (atMs) => {
    const hour = atMs / HOUR_MS;
    const base = 14 + 6 * Math.sin(((hour - 8) / 10) * Math.PI);
    return [base + 3, base, base - 2];
  };
  return {
    name: 'Bender-style DLM master: main 63 A with meter, EVSE sub-distribution 32 A, rotated chargers',
    site: {
      unbalanceLimitA: options.unbalanceLimitA === undefined ? 20 : options.unbalanceLimitA,
      ...(options.strictUnbalance ? { control: { strictUnbalance: true } } : {}),
      circuits: [
        {
          id: 'main',
          name: 'main distribution',
          limitA: 63,
          headroomA: 2,
          meter: { source: 'main-meter', location: 'includesChargers' },
          fallback: { otherLoadA: 30 },
        },
        { id: 'evse-sub', name: 'EVSE sub-distribution', parent: 'main', limitA: 32 },
      ],
      connectors,
    },
    startOfDayMs: 8 * HOUR_MS,
    durationMs: 2 * HOUR_MS,
    otherLoads: { main: building },
    meters: { main: { intervalMs: 1000 } },
    cars,
  };
}

// -----------------------------------------------------------------------------------------------
// 3. A dual charger on one 32 A supply line (Bender "Maximum Combined Current").

export function dualCharger(): Scenario {
  return {
    name: 'Dual charger on one 32 A supply line',
    site: {
      circuits: [
        { id: 'main', name: 'main 63 A', limitA: 63 },
        { id: 'line', name: 'supply line 32 A', parent: 'main', limitA: 32 },
      ],
      connectors: [
        { chargePointId: 'DUAL', connectorId: 1, circuit: 'line', maxA: 32 },
        { chargePointId: 'DUAL', connectorId: 2, circuit: 'line', maxA: 32 },
      ],
    },
    startOfDayMs: 9 * HOUR_MS,
    durationMs: HOUR_MS,
    cars: [
      {
        connector: 'DUAL/1',
        arriveMs: 0,
        leaveMs: 40 * MINUTE_MS,
        ev: { phases: 3, maxCurrentA: 32, capacityKWh: 80 },
      },
      { connector: 'DUAL/2', arriveMs: 10 * MINUTE_MS, ev: { phases: 3, maxCurrentA: 32, capacityKWh: 80 } },
    ],
  };
}

// -----------------------------------------------------------------------------------------------
// 4. A home: 10 kWp PV, a 5 kWh battery, two cars, through a sunny-then-cloudy day.

export interface HomeOptions {
  /** Let the load manager switch WB-1 between 1 and 3 phases. Default true. */
  phaseSwitching?: boolean;
  seed?: number;
  /**
   * `afternoon` (default): sunny until 13:00, then clouds that change every 1-5 minutes;
   * `fast`: fast-moving clouds all day, the irradiance stepping every 30-120 s.
   */
  clouds?: 'afternoon' | 'fast';
  /** The home's pv.batteryBufferSocPercent (default: the load manager's, off). */
  batteryBufferSocPercent?: number;
}

export function pvHome(options: HomeOptions = {}): Scenario {
  const fast = options.clouds === 'fast';
  const seed = options.seed ?? (fast ? 11 : 10);
  const random = seededRandom(seed);
  // A cover factor that steps: after 13:00 every 1-5 minutes, or all day every 30-120 s.
  const clouds: { fromMs: number; factor: number }[] = [];
  for (let at = fast ? 5 * HOUR_MS : 13 * HOUR_MS; at < 22 * HOUR_MS; ) {
    clouds.push({ fromMs: at, factor: fast ? 0.1 + random() * 0.9 : 0.15 + random() * 0.75 });
    at += fast ? Math.round((30 + random() * 90) * 1000) : (1 + Math.floor(random() * 5)) * MINUTE_MS;
  }
  const cloudsFromMs = clouds[0]?.fromMs ?? Number.POSITIVE_INFINITY;
  const profile = (atMs: number) => {
    const hour = atMs / HOUR_MS;
    const clear = hour < 5.5 || hour > 21 ? 0 : Math.sin(((hour - 5.5) / 15.5) * Math.PI) ** 1.3;
    if (atMs < cloudsFromMs) return clear;
    let factor = 1;
    for (const cloud of clouds) if (cloud.fromMs <= atMs) factor = cloud.factor;
    return clear * factor;
  };
  const house: LoadProfile = (atMs) => {
    const hour = atMs / HOUR_MS;
    const w: Triple = [220, 120, 90];
    if (hour >= 7.5 && hour < 7.6) w[0] += 2000; // kettle
    if (hour >= 10 && hour < 11.5) w[2] += 1800; // washing machine
    if (hour >= 12 && hour < 12.7) w[1] += 2800; // oven
    if (hour >= 18 && hour < 21) w[0] += 600; // evening
    return w.map((watts) => watts / NOMINAL_VOLTAGE_V) as Triple;
  };
  return {
    name: `Home: 10 kWp PV, 5 kWh battery, two cars, ${fast ? 'fast-moving clouds all day' : 'sunny then cloudy'}`,
    site: {
      circuits: [
        {
          id: 'home',
          name: 'house connection 3x35 A',
          limitA: 35,
          meter: { source: 'grid', location: 'includesChargers', staleAfterMs: 30_000 },
          fallback: { otherLoadA: 10 },
        },
      ],
      connectors: [
        {
          chargePointId: 'WB-1',
          circuit: 'home',
          maxA: 16,
          mode: 'pv',
          canSwitchPhases: options.phaseSwitching ?? true,
        },
        { chargePointId: 'WB-2', circuit: 'home', maxA: 32, mode: 'minpv', phaseRotation: 'STR' },
      ],
      pv: {
        batterySource: 'battery',
        batteryPrioritySocPercent: 50,
        batteryMaxChargeW: 2500,
        ...(options.batteryBufferSocPercent === undefined
          ? {}
          : { batteryBufferSocPercent: options.batteryBufferSocPercent }),
      },
    },
    startOfDayMs: 5 * HOUR_MS,
    durationMs: 16.5 * HOUR_MS,
    otherLoads: { home: house },
    meters: { home: { intervalMs: 2000 } },
    cars: [
      {
        connector: 'WB-1/1',
        arriveMs: 1 * HOUR_MS,
        leaveMs: 16 * HOUR_MS,
        ev: { phases: 3, maxCurrentA: 16, capacityKWh: 64, socPercent: 20, targetSocPercent: 90 },
      },
      {
        connector: 'WB-2/1',
        arriveMs: 7 * HOUR_MS,
        leaveMs: 15 * HOUR_MS,
        ev: { phases: 1, maxCurrentA: 32, capacityKWh: 40, socPercent: 30, targetSocPercent: 90 },
      },
    ],
    pv: { peakW: 10_000, profile },
    battery: {
      source: 'battery',
      capacityWh: 5000,
      socPercent: 20,
      maxChargeW: 2500,
      maxDischargeW: 2500,
      intervalMs: 2000,
      // Its controller holds the grid within ±30 W of zero, 2 s late (a truthful grid meter moves).
      controlErrorW: 30,
      controlLagMs: 2000,
      seed,
    },
    pvConnectors: ['WB-1/1', 'WB-2/1'],
  };
}

// -----------------------------------------------------------------------------------------------
// 5. The home layout of issue #45: a grid meter that counts the wallboxes, three cars on 63 A.

/** The home layout's figures, for the tests that judge it (test/unit/dlm/home-layout_spec.ts). */
export const HOME_LAYOUT = {
  limitA: 63,
  /** The other loads, constant, A per phase. */
  otherA: 8,
  carMaxA: 32,
  /** The first car comes a minute in, the others 45 s apart. */
  firstArrivalMs: MINUTE_MS,
  arrivalGapMs: 45_000,
  connectors: ['CP-1', 'CP-2', 'CP-3'],
} as const;

export interface HomeLayoutOptions {
  /** Each charger's own meter interval, ms: one for all, or one per charger. Default 10, 30 and 60 s. */
  reportEveryMs?: number | readonly number[];
  /** Default 1 h. */
  durationMs?: number;
}

/**
 * Issue 45's home layout: a grid meter that counts the chargers, read every second and a poll late
 * (its reading stamped with when it was measured), other loads a constant 8 A, three cars that want
 * 32 A on a 63 A breaker, arriving 45 s apart; chargers that follow a limit at once and report their
 * current every 10, 30 or 60 s. Between their readings the grid meter shows a raise first.
 */
export function homeLayout(options: HomeLayoutOptions = {}): Scenario {
  const every = options.reportEveryMs ?? [10_000, 30_000, 60_000];
  const connectors: ConnectorConfig[] = HOME_LAYOUT.connectors.map((id, i) => ({
    chargePointId: id,
    circuit: 'home',
    phaseRotation: (['RST', 'STR', 'TRS'] as const)[i],
  }));
  const chargers: Record<string, SimChargerOptions> = Object.fromEntries(
    connectors.map((c, i) => [
      `${c.chargePointId}/1`,
      { responseDelayMs: 0, meterIntervalMs: typeof every === 'number' ? every : (every[i] ?? 10_000) },
    ]),
  );
  return {
    name: 'home layout: grid meter counting the chargers, 63 A, other loads 8 A, three cars',
    site: {
      circuits: [
        { id: 'home', limitA: HOME_LAYOUT.limitA, meter: { source: 'grid', location: 'includesChargers' } },
      ],
      connectors,
    },
    startOfDayMs: 18 * HOUR_MS,
    durationMs: options.durationMs ?? HOUR_MS,
    otherLoads: { home: (): Triple => [HOME_LAYOUT.otherA, HOME_LAYOUT.otherA, HOME_LAYOUT.otherA] },
    meters: { home: { intervalMs: 1000, delayMs: 1000 } },
    chargers,
    cars: connectors.map((c, i) => ({
      connector: `${c.chargePointId}/1`,
      arriveMs: HOME_LAYOUT.firstArrivalMs + i * HOME_LAYOUT.arrivalGapMs,
      ev: { phases: 3 as const, maxCurrentA: HOME_LAYOUT.carMaxA, capacityKWh: 200, socPercent: 10 },
    })),
  };
}
