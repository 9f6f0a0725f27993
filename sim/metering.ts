import type { Measurand, MeterValue, ReadingContext, SampledValue } from '../lib/ocpp/meter-values';

/**
 * The simulated connector meter: which measurands it can report, how configuration strings such as
 * `MeterValuesSampledData` name them, and how a reading becomes OCPP sampled values.
 */

export type { Measurand, MeterValue, ReadingContext, SampledValue };
export type GridPhase = 'L1' | 'L2' | 'L3';

export const GRID_PHASES: readonly GridPhase[] = ['L1', 'L2', 'L3'];

/** What this meter measures. Anything else in a measurand key is answered with Rejected (3.16.4). */
export const SUPPORTED_MEASURANDS: readonly Measurand[] = [
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'Current.Import',
  'Current.Offered',
  'Power.Offered',
  'Voltage',
  'SoC',
  'Temperature',
  'Frequency',
  'Power.Factor',
];

/** A measurand, optionally restricted to one phase ("Where applicable, the Measurand is combined with the optional phase; for instance: Voltage.L1", 9.1.17). */
export interface MeasurandItem {
  measurand: Measurand;
  phase?: GridPhase;
}

/**
 * Parses a measurand list as found in MeterValuesSampledData and friends. Surrounding quotes and
 * blanks are tolerated (chargers and central systems write both). Returns undefined when an item
 * is not a measurand this meter supports.
 */
export function parseMeasurandList(value: string): MeasurandItem[] | undefined {
  const items: MeasurandItem[] = [];
  for (const raw of value.split(',')) {
    const text = raw
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    if (text === '') continue;
    const match = /^(.+?)(?:\.(L1|L2|L3))?$/.exec(text);
    const measurand = SUPPORTED_MEASURANDS.find((m) => m.toLowerCase() === match?.[1]?.toLowerCase());
    if (!measurand) return undefined;
    const phase = match?.[2] as GridPhase | undefined;
    items.push(phase ? { measurand, phase } : { measurand });
  }
  return items;
}

/** The meter's view of a connector at one instant. */
export interface MeterReading {
  /** Active energy import register, Wh (monotonic, never re-based per transaction). */
  energyWh: number;
  /** Nominal phase-to-neutral voltage, V. */
  voltageV: number;
  /** Current drawn per grid phase [L1, L2, L3], A. */
  currentA: readonly [number, number, number];
  /** Grid phases the connector is wired to, in the order of its phase rotation. */
  wiredPhases: readonly GridPhase[];
  /** Current offered to the EV per phase, A. */
  offeredA: number;
  /** Phases the offer applies to, for Power.Offered. */
  offeredPhases: number;
  /** The EV's state of charge; undefined when no EV is plugged in. */
  socPercent?: number;
  temperatureC: number;
  frequencyHz: number;
}

export interface MeterQuirks {
  /** Temperature unit spelled `Celcius` as in the original 1.6 JSON schema (errata 2.1). */
  celciusSpelling?: boolean;
  /** Frequency with unit `Hz`, which is not in the 1.6 UnitOfMeasure enum (errata 3.84). */
  frequencyUnitHz?: boolean;
  /** Plain `Current.Import` as one value without a phase, the highest (Schneider EVlink, vendor doc 003 §8). */
  unphasedCurrent?: boolean;
}

export interface Sample {
  sampledValue: SampledValue[];
  /** True when a quirk made a value the 1.6 schema does not allow. */
  deviates: boolean;
}

/** Turns `reading` into sampled values for `items`, all with `context`. */
export function sampleMeter(
  items: readonly MeasurandItem[],
  reading: MeterReading,
  context: ReadingContext,
  quirks: MeterQuirks = {},
): Sample {
  const values: SampledValue[] = [];
  let deviates = false;
  const phaseCurrent = (phase: GridPhase) => reading.currentA[GRID_PHASES.indexOf(phase)] ?? 0;
  const phasesOf = (item: MeasurandItem) => (item.phase ? [item.phase] : reading.wiredPhases);

  for (const item of items) {
    const base = { context, measurand: item.measurand } as const;
    switch (item.measurand) {
      case 'Energy.Active.Import.Register':
        values.push({ ...base, value: String(Math.round(reading.energyWh)), location: 'Outlet', unit: 'Wh' });
        break;
      case 'Power.Active.Import':
        if (item.phase) {
          const powerW = reading.voltageV * phaseCurrent(item.phase);
          values.push({
            ...base,
            value: String(Math.round(powerW)),
            phase: item.phase,
            location: 'Outlet',
            unit: 'W',
          });
        } else {
          const powerW = reading.currentA.reduce((sum, currentA) => sum + currentA * reading.voltageV, 0);
          values.push({ ...base, value: String(Math.round(powerW)), location: 'Outlet', unit: 'W' });
        }
        break;
      case 'Current.Import':
        if (!item.phase && quirks.unphasedCurrent) {
          // One value, no phase: what a single-phase car draws on L1 does not tell which phase.
          const highestA = Math.max(0, ...reading.wiredPhases.map(phaseCurrent));
          values.push({ ...base, value: highestA.toFixed(1), location: 'Outlet', unit: 'A' });
          break;
        }
        // 3.16.3: a meter that measures several phases reports every one of them.
        for (const phase of phasesOf(item)) {
          values.push({
            ...base,
            value: phaseCurrent(phase).toFixed(1),
            phase,
            location: 'Outlet',
            unit: 'A',
          });
        }
        break;
      case 'Voltage':
        for (const phase of phasesOf(item)) {
          const phaseToNeutral = `${phase}-N` as const;
          values.push({
            ...base,
            value: reading.voltageV.toFixed(1),
            phase: phaseToNeutral,
            location: 'Outlet',
            unit: 'V',
          });
        }
        break;
      case 'Current.Offered':
        values.push({ ...base, value: reading.offeredA.toFixed(1), location: 'Outlet', unit: 'A' });
        break;
      case 'Power.Offered': {
        const powerW = reading.offeredA * reading.voltageV * reading.offeredPhases;
        values.push({ ...base, value: String(Math.round(powerW)), location: 'Outlet', unit: 'W' });
        break;
      }
      case 'SoC':
        if (reading.socPercent !== undefined) {
          values.push({
            ...base,
            value: String(Math.floor(reading.socPercent)),
            location: 'EV',
            unit: 'Percent',
          });
        }
        break;
      case 'Temperature':
        values.push({
          ...base,
          value: reading.temperatureC.toFixed(1),
          location: 'Body',
          unit: quirks.celciusSpelling ? 'Celcius' : 'Celsius',
        });
        break;
      case 'Frequency':
        if (quirks.frequencyUnitHz) {
          values.push({ ...base, value: reading.frequencyHz.toFixed(2), unit: 'Hz' as SampledValue['unit'] });
          deviates = true;
        } else {
          // 1.6 has no unit for frequency; the value is in Hertz by definition (7.31).
          values.push({ ...base, value: reading.frequencyHz.toFixed(2) });
        }
        break;
      default:
        values.push({ ...base, value: '1.00' });
    }
  }
  return { sampledValue: values, deviates };
}
