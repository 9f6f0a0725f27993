/**
 * Readings from the numeric sampled values of a MeterValues.req (or a StopTransaction.req's
 * `transactionData`), as meter-values.ts reads them: one Reading per point in time that gives a
 * Reading field a value, oldest first.
 *
 * Each value is filed once as it is read (per point in time and measurand: the first value, the
 * first one without a phase, the first one per phase), so building a Reading looks nothing up
 * twice and keeps no list of samples. Pure, no clock.
 */
import type { PerPhase, Reading } from '../contracts';

/** Where a value's phase puts it: L1, L2, L3 (0..2), no phase, or a phase with no place (N, L1-L2). */
export type PhaseSlot = 0 | 1 | 2 | typeof UNPHASED | typeof ELSEWHERE;
export const UNPHASED = -1;
export const ELSEWHERE = -2;

/** A point in time: ISO 8601 UTC as Readings carry it, and in ms. */
export interface Instant {
  iso: string;
  ms: number;
}

// Where the values of each measurand a Reading field is made of are filed; the others are not.
const CURRENT_IMPORT = 0;
const CURRENT_EXPORT = 1;
const VOLTAGE = 2;
const POWER_IMPORT = 3;
const POWER_EXPORT = 4;
const ENERGY_IMPORT = 5;
const ENERGY_EXPORT = 6;
const FREQUENCY = 7;
const SOC = 8;
const CURRENT_OFFERED = 9;
const POWER_OFFERED = 10;
const POWER_FACTOR = 11;
const REACTIVE_IMPORT = 12;
const REACTIVE_EXPORT = 13;
const TEMPERATURE = 14;
const SLOT = new Map<string, number>([
  ['Current.Import', CURRENT_IMPORT],
  ['Current.Export', CURRENT_EXPORT],
  ['Voltage', VOLTAGE],
  ['Power.Active.Import', POWER_IMPORT],
  ['Power.Active.Export', POWER_EXPORT],
  ['Energy.Active.Import.Register', ENERGY_IMPORT],
  ['Energy.Active.Export.Register', ENERGY_EXPORT],
  ['Frequency', FREQUENCY],
  ['SoC', SOC],
  ['Current.Offered', CURRENT_OFFERED],
  ['Power.Offered', POWER_OFFERED],
  ['Power.Factor', POWER_FACTOR],
  ['Power.Reactive.Import', REACTIVE_IMPORT],
  ['Power.Reactive.Export', REACTIVE_EXPORT],
  ['Temperature', TEMPERATURE],
]);

/** Where the values of `measurand` are filed; undefined for one no Reading field is made of. */
export function slotOf(measurand: string): number | undefined {
  return SLOT.get(measurand);
}

/** The values of one measurand at one point in time, first in the charger's order winning. */
interface Values {
  /** The first value, whatever its phase or location. */
  first: number;
  /** The first value reported without a phase (an overall value, spec 7.43). */
  unphased: number | undefined;
  /** The first value on L1, L2, L3 (or L1-N, L2-N, L3-N); undefined when no phase was reported. */
  phases: PerPhase | undefined;
}

interface PointInTime extends Instant {
  values: (Values | undefined)[];
}

/** Files values as they are read and builds the Readings at the end. */
export class ReadingsBuilder {
  private readonly points: PointInTime[] = [];
  private last: PointInTime | undefined;
  /** The time of the newest Reading `readings()` built, in ms. */
  newestMs: number | undefined;

  constructor(private readonly source: string) {}

  /** Files one value (in its base unit) at `at`, in the slot of its measurand (slotOf). */
  add(at: Instant, slot: number, phase: PhaseSlot, value: number): void {
    const point = this.pointAt(at);
    const values = point.values[slot];
    if (values === undefined) {
      point.values[slot] = {
        first: value,
        unphased: phase === UNPHASED ? value : undefined,
        phases: phase >= 0 ? onePhase(phase as 0 | 1 | 2, value) : undefined,
      };
      return;
    }
    if (phase === UNPHASED) values.unphased ??= value;
    else if (phase >= 0) {
      if (values.phases === undefined) values.phases = onePhase(phase as 0 | 1 | 2, value);
      else values.phases[phase as 0 | 1 | 2] ??= value;
    }
  }

  /** One Reading per point in time that fills a Reading field, oldest first. */
  readings(): Reading[] {
    const points = this.points;
    if (points.length > 1) points.sort((a, b) => a.ms - b.ms);
    const readings: Reading[] = [];
    for (const point of points) {
      const reading = buildReading(point, this.source);
      if (reading) {
        readings.push(reading);
        this.newestMs = point.ms;
      }
    }
    return readings;
  }

  private pointAt(at: Instant): PointInTime {
    const last = this.last;
    if (last !== undefined && last.ms === at.ms) return last;
    // Entries with the same instant (spelt alike once normalised) share their point in time.
    let point = this.points.find((p) => p.ms === at.ms);
    if (point === undefined) {
      point = { iso: at.iso, ms: at.ms, values: [] };
      this.points.push(point);
    }
    this.last = point;
    return point;
  }
}

function onePhase(phase: 0 | 1 | 2, value: number): PerPhase {
  const phases: PerPhase = [null, null, null];
  phases[phase] = value;
  return phases;
}

/**
 * The Reading of one point in time, or undefined when its values fill no Reading field. Where a
 * field could come from several values (two locations, L1 and L1-N), the first in the charger's
 * order wins. Sign: import minus export, so a vehicle feeding back gives negative current and power.
 */
function buildReading(point: PointInTime, source: string): Reading | undefined {
  const v = point.values;
  const reading: Reading = { source, timestamp: point.iso };
  const currentA = minusPerPhase(v[CURRENT_IMPORT]?.phases, v[CURRENT_EXPORT]?.phases);
  if (currentA !== undefined) reading.currentA = currentA;
  const currentUnphasedA = minus(v[CURRENT_IMPORT]?.unphased, v[CURRENT_EXPORT]?.unphased);
  if (currentUnphasedA !== undefined) reading.currentUnphasedA = currentUnphasedA;
  const voltageV = v[VOLTAGE]?.phases;
  if (voltageV !== undefined) reading.voltageV = voltageV;
  const powerW = minusPerPhase(v[POWER_IMPORT]?.phases, v[POWER_EXPORT]?.phases);
  if (powerW !== undefined) reading.powerW = powerW;
  const totalPowerW = minus(total(v[POWER_IMPORT]), total(v[POWER_EXPORT]));
  if (totalPowerW !== undefined) reading.totalPowerW = totalPowerW;
  const importWh = total(v[ENERGY_IMPORT]);
  if (importWh !== undefined) reading.importWh = importWh;
  const exportWh = total(v[ENERGY_EXPORT]);
  if (exportWh !== undefined) reading.exportWh = exportWh;
  const frequencyHz = v[FREQUENCY]?.first;
  if (frequencyHz !== undefined) reading.frequencyHz = frequencyHz;
  const socPercent = v[SOC]?.first;
  if (socPercent !== undefined) reading.socPercent = socPercent;
  // Offered current is per phase and the same on every phase the car uses; take the highest.
  const offeredCurrentA = v[CURRENT_OFFERED]?.unphased ?? highest(v[CURRENT_OFFERED]?.phases);
  if (offeredCurrentA !== undefined) reading.offeredCurrentA = offeredCurrentA;
  const offeredPowerW = total(v[POWER_OFFERED]);
  if (offeredPowerW !== undefined) reading.offeredPowerW = offeredPowerW;
  // Spec 7.31: "power factor of total energy flow"; a phase's power factor is not that.
  const powerFactor = v[POWER_FACTOR]?.unphased;
  if (powerFactor !== undefined) reading.powerFactor = powerFactor;
  const reactivePowerVar = minus(total(v[REACTIVE_IMPORT]), total(v[REACTIVE_EXPORT]));
  if (reactivePowerVar !== undefined) reading.reactivePowerVar = reactivePowerVar;
  const temperatureC = v[TEMPERATURE]?.first;
  if (temperatureC !== undefined) reading.temperatureC = temperatureC;
  // Only `source` and `timestamp`: the values fill no Reading field.
  return Object.keys(reading).length > 2 ? reading : undefined;
}

/** The overall value, or the sum of the phases when the charger reports only per phase. */
function total(values: Values | undefined): number | undefined {
  if (values === undefined) return undefined;
  if (values.unphased !== undefined) return values.unphased;
  const phases = values.phases;
  if (phases === undefined) return undefined;
  return 0 + (phases[0] ?? 0) + (phases[1] ?? 0) + (phases[2] ?? 0);
}

function highest(phases: PerPhase | undefined): number | undefined {
  if (phases === undefined) return undefined;
  return Math.max(...phases.filter((value) => value !== null));
}

function minus(importValue: number | null | undefined, exportValue: number | null | undefined) {
  if (importValue == null && exportValue == null) return undefined;
  return (importValue ?? 0) - (exportValue ?? 0);
}

function minusPerPhase(importValues: PerPhase | undefined, exportValues: PerPhase | undefined) {
  // Nothing exported (the usual case): the import values as they are, x - 0 being x.
  if (exportValues === undefined) return importValues;
  const onPhase = (index: 0 | 1 | 2) => minus(importValues?.[index], exportValues?.[index]) ?? null;
  return [onPhase(0), onPhase(1), onPhase(2)] as PerPhase;
}
