/**
 * What may generate below a circuit's meter, for the meter's plausibility rules
 * (evidence/meter-plausibility.ts): nothing; as measured; or possible but not measured. One owner of the
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

import { GRID_PHASES, triple } from '../phases';
import type { Circuit, Site } from '../site/model';
import { pvCars } from '../site/warnings';
import type { Measurements } from './measurements';
import type { MeterJudgement } from './meter-plausibility';

/**
 * What the site may generate, decided once per site (not per update): `none` (no battery, no
 * inverter read, no car on PV surplus); `unmeasured` (a car on PV surplus and no inverter read);
 * else `measured` (what its inverters and battery read says, while fresh).
 */
export type SiteGeneration = 'none' | 'unmeasured' | 'measured';

export function siteGeneration(site: Site): SiteGeneration {
  const cars = pvCars(site);
  if (site.pv.inverterSources.length === 0 && cars) return 'unmeasured';
  return site.pv.batterySource !== undefined || site.pv.inverterSources.length > 0 ? 'measured' : 'none';
}

/**
 * What may be generated below a circuit's meter now, per grid phase: `most` (the default) the more
 * of each inverter's two newest readings (what a meter's older reading may reflect: the plausibility
 * rules' tolerance), `least` the less of them (what is surely generated: a blind meter's count).
 */
export function generationBelow(
  site: Site,
  circuit: Circuit,
  measurements: Measurements,
  generation: SiteGeneration,
  now: number,
  bound: 'most' | 'least' = 'most',
): MeterJudgement['generation'] {
  const pick = bound === 'most' ? Math.max : Math.min;
  if (generation === 'none' || circuit.meter?.noGenerationBelow) return 'none';
  if (generation === 'unmeasured') return 'unmeasured';
  const maxAgeMs = circuit.meter?.staleAfterMs ?? 0;
  const { inverterSources, batterySource } = site.pv;
  const perPhaseA = triple(0);
  for (const source of inverterSources) {
    const reading = measurements.inverter(source);
    if (!reading || now - reading.atMs > maxAgeMs) return 'unmeasured';
    for (const p of GRID_PHASES)
      perPhaseA[p] += pick(reading.perPhaseA[p], reading.previousA?.[p] ?? reading.perPhaseA[p]);
  }
  if (batterySource !== undefined) {
    const battery = measurements.battery;
    if (!battery || battery.powerW === undefined || now - battery.atMs > maxAgeMs) return 'unmeasured';
    const feedsA = Math.max(0, -battery.powerW) / site.voltageV;
    for (const p of GRID_PHASES) perPhaseA[p] += feedsA;
  }
  return { perPhaseA };
}
