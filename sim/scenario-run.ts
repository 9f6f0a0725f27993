/**
 * `runScenario`: runs one of the sites (site-scenarios.ts) closed-loop on a ManualClock and
 * collects the figures: breaker overloads, set-points, energy, PV use, grid import, starts/stops,
 * phase switches.
 */
import { ManualClock } from '../lib/clock';
import { LoadManager, type LoadManagerMemoryStore } from '../lib/dlm/load-manager';
import type { SiteConfig, Triple } from '../lib/dlm/site';
import type { Logger } from '../lib/log';
import { silentLogger } from '../lib/log';
import { type ClosedLoopResult, runClosedLoop } from './closed-loop';
import { PvDayAccount, type PvFigures } from './pv-figures';
import {
  type LoadProfile,
  type SimBattery,
  type SimCar,
  type SimChargerOptions,
  type SimMeterOptions,
  type SimPv,
  SiteSimulator,
} from './site';

export interface Scenario {
  name: string;
  site: SiteConfig;
  /** Time of day at the start. */
  startOfDayMs: number;
  durationMs: number;
  otherLoads?: Record<string, LoadProfile>;
  meters?: Record<string, SimMeterOptions>;
  chargers?: Record<string, SimChargerOptions>;
  cars: SimCar[];
  pv?: SimPv;
  battery?: SimBattery;
  /** Connectors whose set-point follows the PV surplus (for the PV figures). */
  pvConnectors?: string[];
}

export interface ScenarioResult extends ClosedLoopResult {
  scenario: string;
  sim: SiteSimulator;
  manager: LoadManager;
  /** Highest current each circuit carried per phase, A (magnitude). */
  peakA: Record<string, Triple>;
  energyWh: Record<string, number>;
  starts: Record<string, number>;
  stops: Record<string, number>;
  phaseSwitches: Record<string, number>;
  /** Of `phaseSwitches`, those before the car first drew current in its session. */
  phaseSwitchesBeforeCurrent: Record<string, number>;
  pv?: PvFigures;
  /** Samples taken by `sample` (every `sampleEveryMs`). */
  samples: { atMs: number; offeredA: Record<string, number>; drawW: Record<string, number> }[];
}

export interface RunOptions {
  logger?: Logger;
  sampleEveryMs?: number;
  /** Changes to the site before it is used (e.g. a different fallback). */
  site?: (site: SiteConfig) => SiteConfig;
  /** Run this long instead of the scenario's duration. */
  durationMs?: number;
  /** Called after every simulated second (for a test's own checks). */
  onStep?: (sim: SiteSimulator, manager: LoadManager) => void;
  /** What the load manager kept across restarts (lib/dlm/memory.ts): read at its start, written at its stop. */
  memory?: LoadManagerMemoryStore;
}

/** Runs a scenario closed-loop and collects its figures. */
export function runScenario(scenario: Scenario, options: RunOptions = {}): ScenarioResult {
  const clock = new ManualClock(Date.UTC(2026, 5, 21) + scenario.startOfDayMs);
  const site = options.site ? options.site(structuredClone(scenario.site)) : scenario.site;
  const manager = new LoadManager({
    site,
    clock,
    logger: options.logger ?? silentLogger,
    ...(options.memory ? { memory: options.memory } : {}),
  });
  const sim = new SiteSimulator({
    clock,
    site: manager.site,
    startOfDayMs: scenario.startOfDayMs,
    ...(scenario.otherLoads ? { otherLoads: scenario.otherLoads } : {}),
    ...(scenario.meters ? { meters: scenario.meters } : {}),
    ...(scenario.chargers ? { chargers: scenario.chargers } : {}),
    cars: scenario.cars,
    ...(scenario.pv ? { pv: scenario.pv } : {}),
    ...(scenario.battery ? { battery: scenario.battery } : {}),
  });
  const peakA: Record<string, Triple> = {};
  for (const circuit of manager.site.circuits) peakA[circuit.id] = [0, 0, 0];
  const pvKeys = new Set(scenario.pvConnectors ?? []);
  const pvModeKeys = new Set(
    manager.site.connectors.filter((c) => c.mode === 'pv' && pvKeys.has(c.key)).map((c) => c.key),
  );
  const maxA = (key: string) => manager.site.connectors.find((c) => c.key === key)?.maxA ?? 32;
  const account = scenario.pv
    ? new PvDayAccount(pvKeys, pvModeKeys, manager.site.pv.batteryPrioritySocPercent, maxA)
    : undefined;
  const samples: ScenarioResult['samples'] = [];
  const sampleEveryMs = options.sampleEveryMs ?? 0;
  const stepMs = 1000;
  const result = runClosedLoop(clock, sim, manager, {
    durationMs: options.durationMs ?? scenario.durationMs,
    stepMs,
    onStep: (s) => {
      options.onStep?.(s, manager);
      const actual = s.actualA();
      manager.site.circuits.forEach((circuit, c) => {
        const peak = peakA[circuit.id];
        const now = actual[c];
        if (!peak || !now) return;
        for (let p = 0; p < 3; p++) peak[p] = Math.max(peak[p] ?? 0, Math.abs(now[p] ?? 0));
      });
      account?.step(s, manager.setPoints(), stepMs);
      if (sampleEveryMs > 0 && s.elapsedMs % sampleEveryMs === 0) {
        const stats = s.chargerStats();
        samples.push({
          atMs: s.elapsedMs,
          offeredA: Object.fromEntries(stats.map((c) => [c.key, c.offeredA])),
          drawW: Object.fromEntries(stats.map((c) => [c.key, Math.round(c.drawW)])),
        });
      }
    },
  });
  const stats = sim.chargerStats();
  const figures = account?.finish(sim);
  return {
    ...result,
    scenario: scenario.name,
    sim,
    manager,
    peakA,
    energyWh: Object.fromEntries(stats.map((c) => [c.key, c.energyWh])),
    starts: Object.fromEntries(stats.map((c) => [c.key, c.starts])),
    stops: Object.fromEntries(stats.map((c) => [c.key, c.stops])),
    phaseSwitches: Object.fromEntries(stats.map((c) => [c.key, c.phaseSwitches])),
    phaseSwitchesBeforeCurrent: Object.fromEntries(stats.map((c) => [c.key, c.phaseSwitchesBeforeCurrent])),
    ...(figures ? { pv: figures } : {}),
    samples,
  };
}
