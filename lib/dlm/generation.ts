/**
 * What may generate below a circuit's meter, for the meter's plausibility rules
 * (meter-plausibility.ts): nothing; as measured; or possible but not measured. One owner of the
 * question "could generation explain this reading?":
 * - nothing where the meter says `noGenerationBelow`, or the site has no inverter it reads, no
 *   battery and no car on PV surplus;
 * - as measured where every inverter the site reads (`pv.inverterSource`) and its battery have a
 *   reading within the meter's `staleAfterMs`: per grid phase, what the inverters generate (the
 *   more of their two newest readings: the meter's reading may be older) plus what the battery
 *   feeds in;
 * - unmeasured otherwise (a car on PV surplus with no inverter read, or an inverter or battery
 *   whose reading is stale): a reading below the chargers or exporting cannot be judged.
 */

import type { Measurements } from './measurements';
import type { MeterJudgement } from './meter-plausibility';
import { GRID_PHASES, triple } from './phases';
import type { Circuit, Site } from './site-model';

/** Whether anything on the site may generate: a battery, an inverter it reads, a car on PV surplus. */
export function siteMayGenerate(site: Site): boolean {
  return site.pv.batterySource !== undefined || site.pv.inverterSources.length > 0 || pvCars(site);
}

/** Whether some car charges on PV surplus while the site reads no inverter (Check the site says so). */
export function generationUnmeasured(site: Site): boolean {
  return site.pv.inverterSources.length === 0 && pvCars(site);
}

function pvCars(site: Site): boolean {
  return site.connectors.some((c) => typeof c.mode === 'string' && c.mode !== 'fast' && c.mode !== 'off');
}

export function generationBelow(
  site: Site,
  circuit: Circuit,
  measurements: Measurements,
  mayGenerate: boolean,
  now: number,
): MeterJudgement['generation'] {
  if (!mayGenerate || circuit.meter?.noGenerationBelow) return 'none';
  const maxAgeMs = circuit.meter?.staleAfterMs ?? 0;
  const { inverterSources, batterySource } = site.pv;
  if (inverterSources.length === 0 && pvCars(site)) return 'unmeasured';
  const perPhaseA = triple(0);
  for (const source of inverterSources) {
    const reading = measurements.inverter(source);
    if (!reading || now - reading.atMs > maxAgeMs) return 'unmeasured';
    for (const p of GRID_PHASES) perPhaseA[p] += Math.max(reading.perPhaseA[p], reading.previousA?.[p] ?? 0);
  }
  if (batterySource !== undefined) {
    const battery = measurements.battery;
    if (!battery || battery.powerW === undefined || now - battery.atMs > maxAgeMs) return 'unmeasured';
    const feedsA = Math.max(0, -battery.powerW) / site.voltageV;
    for (const p of GRID_PHASES) perPhaseA[p] += feedsA;
  }
  return { perPhaseA };
}
