/**
 * What the simulated site reports of its chargers (site.ts): the connector states a charger sends
 * (with its faults, sim/site-faults.ts) and the per-connector figures the bench and the tests
 * read. Pure functions of the chargers' state; the small sums site.ts shares with them.
 */
import type { ConnectorState, ConnectorStatus } from '../lib/contracts';
import type { Site } from '../lib/dlm/site';
import { wattsPerA } from './conductors';
import { type ChargerSim, connectorState } from './site-charger';
import { withFaults } from './site-faults';

/** What the charging-profile manager says of a charger whose limit is EVlink's maxIntensitySocket. */
const WHOLE_AMPERES = {
  stepA: 1,
  why: 'schneider-evlink-r4-r5: maxIntensitySocket takes whole amperes',
} as const;

/** Per connector: what it draws (W), how often it started/stopped and switched phases, its car. */
export interface ChargerStats {
  key: string;
  drawW: number;
  offeredA: number;
  phases: number;
  status: ConnectorStatus;
  energyWh: number;
  starts: number;
  stops: number;
  phaseSwitches: number;
  phaseSwitchesBeforeCurrent: number;
  /** Switches that stopped the car drawing for the charger's pause (the car started again after). */
  phaseSwitchesUnderLoad: number;
  carSocPercent?: number;
  carMaxW: number;
}

/** Connector states whose status changed or whose meter interval elapsed (marks them reported). */
export function takeConnectorStates(
  chargers: readonly ChargerSim[],
  startMs: number,
  now: number,
): ConnectorState[] {
  const states: ConnectorState[] = [];
  for (const charger of chargers) {
    if (!charger.dirty && now - charger.lastReportMs < charger.options.meterIntervalMs) continue;
    charger.dirty = false;
    charger.lastReportMs = now;
    const state = withFaults(
      charger.faults,
      charger.answers,
      connectorState(charger, startMs),
      now - startMs,
    );
    // Its step, as the charging-profile manager reports it for an EVlink preset (lib/profiles/limit-step.ts).
    if (charger.options.wholeAmps) state.limitStep = WHOLE_AMPERES;
    // When its energy register was read (as the central system stamps it, lib/ocpp/connectors.ts):
    // now. A charger that reports energy only is measured by the register's deltas over these times.
    state.energyAt = new Date(now).toISOString();
    states.push(state);
  }
  return states;
}

export function chargerStats(site: Site, chargers: readonly ChargerSim[]): ChargerStats[] {
  return chargers.map((charger) => {
    const connector = site.connectors[charger.index];
    const ev = charger.car?.ev;
    const carPhases = ev ? Math.min(ev.phases, connector?.phases ?? 3) : 0;
    return {
      key: charger.key,
      drawW:
        site.network === 'IT' && charger.chargerA.filter((a) => a > 0).length === 1
          ? maxOf(charger.chargerA) * wattsPerA(site, 1)
          : sumTriple(charger.chargerA) * site.voltageV,
      offeredA: charger.offeredA,
      phases: charger.phases,
      status: charger.status,
      energyWh: charger.energyWh,
      starts: charger.starts,
      stops: charger.stops,
      phaseSwitches: charger.phaseSwitches,
      phaseSwitchesBeforeCurrent: charger.phaseSwitchesBeforeCurrent,
      phaseSwitchesUnderLoad: charger.phaseSwitchesUnderLoad,
      ...(ev ? { carSocPercent: ev.socPercent } : {}),
      carMaxW:
        ev && !ev.full ? Math.min(ev.maxCurrentA, connector?.maxA ?? 32) * wattsPerA(site, carPhases) : 0,
    };
  });
}

function maxOf(values: readonly number[]): number {
  return values.reduce((high, value) => Math.max(high, value), 0);
}

export function sumTriple(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
