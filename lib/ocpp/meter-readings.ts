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

/** The measurands a Reading field is made of; the values of the others are not filed. */
const FILED = [
  'Current.Import',
  'Current.Export',
  'Voltage',
  'Power.Active.Import',
  'Power.Active.Export',
  'Energy.Active.Import.Register',
  'Energy.Active.Export.Register',
  'Frequency',
  'SoC',
  'Current.Offered',
  'Power.Offered',
  'Power.Factor',
  'Power.Reactive.Import',
  'Power.Reactive.Export',
  'Temperature',
] as const;
type Filed = (typeof FILED)[number];
const SLOT = new Map<string, number>(FILED.map((measurand, index) => [measurand, index]));

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

  constructor(private readonly source: string) {}

  /** Files one value (in its base unit) of `measurand` at `at`. */
  add(at: Instant, measurand: string, phase: PhaseSlot, value: number): void {
    const slot = SLOT.get(measurand);
    if (slot === undefined) return;
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
      if (reading) readings.push(reading);
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
  const { values } = point;
  const of = (measurand: Filed) => values[SLOT.get(measurand) as number];
  const reading: Reading = { source, timestamp: point.iso };
  let filled = false;
  // A field is there only when the values give it one.
  const set = <F extends keyof Reading>(field: F, value: Reading[F] | undefined) => {
    if (value === undefined) return;
    reading[field] = value;
    filled = true;
  };
  set('currentA', minusPerPhase(of('Current.Import')?.phases, of('Current.Export')?.phases));
  set('currentUnphasedA', minus(of('Current.Import')?.unphased, of('Current.Export')?.unphased));
  set('voltageV', of('Voltage')?.phases);
  set('powerW', minusPerPhase(of('Power.Active.Import')?.phases, of('Power.Active.Export')?.phases));
  set('totalPowerW', minus(total(of('Power.Active.Import')), total(of('Power.Active.Export'))));
  set('importWh', total(of('Energy.Active.Import.Register')));
  set('exportWh', total(of('Energy.Active.Export.Register')));
  set('frequencyHz', of('Frequency')?.first);
  set('socPercent', of('SoC')?.first);
  // Offered current is per phase and the same on every phase the car uses; take the highest.
  const offered = of('Current.Offered');
  set('offeredCurrentA', offered?.unphased ?? highest(offered?.phases));
  set('offeredPowerW', total(of('Power.Offered')));
  // Spec 7.31: "power factor of total energy flow"; a phase's power factor is not that.
  set('powerFactor', of('Power.Factor')?.unphased);
  set('reactivePowerVar', minus(total(of('Power.Reactive.Import')), total(of('Power.Reactive.Export'))));
  set('temperatureC', of('Temperature')?.first);
  return filled ? reading : undefined;
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
  if (importValues === undefined && exportValues === undefined) return undefined;
  const onPhase = (index: 0 | 1 | 2) => minus(importValues?.[index], exportValues?.[index]) ?? null;
  return [onPhase(0), onPhase(1), onPhase(2)] as PerPhase;
}
