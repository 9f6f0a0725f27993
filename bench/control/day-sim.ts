/**
 * The simulated day the ideal (ideal.ts) and the oracle's replay (oracle.ts) run on: the
 * scenario's truth (its site, other loads, cars, PV and battery) on a ManualClock that starts
 * where the closed loop's does (sim/scenario-run.ts `runScenario`), with chargers that take a
 * set-point at once and to the tenth (the scenario's slow, whole-ampere and faulty chargers are the
 * closed loop's alone) and hold a car `pauseMs` without current when they switch its phases. A
 * charger that ignores its limits (rogue, no SmartCharging) ignores them here too: that is the
 * truth, not a delay.
 */
import { ManualClock } from '../../lib/clock';
import { parseSite, type Site } from '../../lib/dlm/site';
import { type SimChargerOptions, SiteSimulator } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';

/** The same start of the day as `runScenario`. */
export const DAY_EPOCH_MS = Date.UTC(2026, 5, 21);

export interface DaySimulator {
  clock: ManualClock;
  site: Site;
  sim: SiteSimulator;
}

/** The scenario's day with chargers that follow at once, each pausing `pauseMs` for a phase switch. */
export function daySimulator(scenario: Scenario, pauseMs: number): DaySimulator {
  const clock = new ManualClock(DAY_EPOCH_MS + scenario.startOfDayMs);
  const site = parseSite(scenario.site);
  const chargers: Record<string, SimChargerOptions> = {};
  for (const connector of site.connectors) {
    const given = scenario.chargers?.[connector.key];
    chargers[connector.key] = {
      responseDelayMs: 0,
      phaseSwitchPauseMs: pauseMs,
      ...(given?.rogue ? { rogue: true } : {}),
      ...(given?.refusesLimits ? { refusesLimits: given.refusesLimits } : {}),
    };
  }
  const sim = new SiteSimulator({
    clock,
    site,
    startOfDayMs: scenario.startOfDayMs,
    ...(scenario.otherLoads ? { otherLoads: scenario.otherLoads } : {}),
    chargers,
    cars: scenario.cars,
    ...(scenario.pv ? { pv: scenario.pv } : {}),
    ...(scenario.battery ? { battery: scenario.battery } : {}),
  });
  return { clock, site, sim };
}
