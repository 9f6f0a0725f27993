/**
 * OCPP 1.6 meter values: turns the `meterValue` list of a MeterValues.req (or the `transactionData`
 * of a StopTransaction.req, which has the same shape) into Readings, one per point in time.
 *
 * Pure and deterministic: no clock, no I/O. Bad data from a charger never throws; the value is
 * skipped and a warning says why. Chargers on the lenient switch get here with fields outside the
 * schema, so every field is checked at run time even where the type says it cannot be wrong.
 */
import type { PerPhase, Reading } from '../contracts';
import { parseTimestamp } from '../time';
import type { MeterValuesRequest } from './messages';

/**
 * One point in time with its sampled values (spec 7.33 MeterValue); StopTransaction.req's
 * `transactionData` elements have the same shape.
 */
export type MeterValue = MeterValuesRequest['meterValue'][number];
/** One value with its optional measurand, phase, location, context, format and unit (spec 7.43). */
export type SampledValue = MeterValue['sampledValue'][number];
export type Measurand = NonNullable<SampledValue['measurand']>;
export type Phase = NonNullable<SampledValue['phase']>;
export type MeasurementLocation = NonNullable<SampledValue['location']>;
export type ReadingContext = NonNullable<SampledValue['context']>;

/**
 * The unit of a parsed value, without prefix. `Ratio` is dimensionless (power factor); `RPM` is fan
 * speed, which OCPP 1.6 gives no unit for.
 */
export type NormalisedUnit =
  | 'Wh'
  | 'varh'
  | 'W'
  | 'var'
  | 'VA'
  | 'A'
  | 'V'
  | 'Hz'
  | 'Percent'
  | 'Celsius'
  | 'RPM'
  | 'Ratio';

/** A numeric sampled value in its base unit (W, not kW; Celsius, not K). */
export interface ParsedSample {
  /** ISO 8601, UTC. */
  timestamp: string;
  measurand: Measurand;
  phase?: Phase;
  location?: MeasurementLocation;
  context?: ReadingContext;
  value: number;
  unit: NormalisedUnit;
}

/** A `format: 'SignedData'` value: an opaque signed data block, kept exactly as received. */
export interface SignedMeterValue {
  /** ISO 8601, UTC. */
  timestamp: string;
  measurand: Measurand;
  phase?: Phase;
  location?: MeasurementLocation;
  context?: ReadingContext;
  signedData: string;
}

export interface MeterValuesParseOptions {
  /** Goes into every Reading's `source`, e.g. `<chargePointId>/<connectorId>`. */
  source: string;
  /** When the message arrived (ISO 8601); stands in for a missing or unreadable timestamp. */
  receivedAt: string;
}

export interface MeterValuesParseResult {
  /** One per timestamp that has at least one value a Reading field takes, oldest first. */
  readings: Reading[];
  /** Every numeric value that could be read, oldest first, in the charger's order within a timestamp. */
  samples: ParsedSample[];
  /** Signed meter data, oldest first; never in `samples` or `readings`. */
  signedValues: SignedMeterValue[];
  /** What was wrong with the data and what was done about it; no duplicates. */
  warnings: string[];
}

/** The unit each measurand is reported in once prefixes are removed; also its unit when none is given. */
const MEASURAND_UNIT: Record<Measurand, NormalisedUnit> = {
  'Energy.Active.Export.Register': 'Wh',
  'Energy.Active.Import.Register': 'Wh',
  'Energy.Reactive.Export.Register': 'varh',
  'Energy.Reactive.Import.Register': 'varh',
  'Energy.Active.Export.Interval': 'Wh',
  'Energy.Active.Import.Interval': 'Wh',
  'Energy.Reactive.Export.Interval': 'varh',
  'Energy.Reactive.Import.Interval': 'varh',
  'Power.Active.Export': 'W',
  'Power.Active.Import': 'W',
  'Power.Offered': 'W',
  'Power.Reactive.Export': 'var',
  'Power.Reactive.Import': 'var',
  'Power.Factor': 'Ratio',
  'Current.Import': 'A',
  'Current.Export': 'A',
  'Current.Offered': 'A',
  Voltage: 'V',
  Frequency: 'Hz',
  Temperature: 'Celsius',
  SoC: 'Percent',
  RPM: 'RPM',
};

const DEFAULT_MEASURAND: Measurand = 'Energy.Active.Import.Register';

interface UnitConversion {
  unit: NormalisedUnit;
  toBaseUnit: (value: number) => number;
  /** False for units OCPP 1.6 does not define but chargers send anyway; accepted with a warning. */
  inOcppEnum: boolean;
}

const same = (value: number) => value;
const kilo = (value: number) => value * 1000;

const UNIT_CONVERSIONS = new Map<string, UnitConversion>([
  ['Wh', { unit: 'Wh', toBaseUnit: same, inOcppEnum: true }],
  ['kWh', { unit: 'Wh', toBaseUnit: kilo, inOcppEnum: true }],
  ['varh', { unit: 'varh', toBaseUnit: same, inOcppEnum: true }],
  ['kvarh', { unit: 'varh', toBaseUnit: kilo, inOcppEnum: true }],
  ['W', { unit: 'W', toBaseUnit: same, inOcppEnum: true }],
  ['kW', { unit: 'W', toBaseUnit: kilo, inOcppEnum: true }],
  ['VA', { unit: 'VA', toBaseUnit: same, inOcppEnum: true }],
  ['kVA', { unit: 'VA', toBaseUnit: kilo, inOcppEnum: true }],
  ['var', { unit: 'var', toBaseUnit: same, inOcppEnum: true }],
  ['kvar', { unit: 'var', toBaseUnit: kilo, inOcppEnum: true }],
  ['A', { unit: 'A', toBaseUnit: same, inOcppEnum: true }],
  ['V', { unit: 'V', toBaseUnit: same, inOcppEnum: true }],
  ['Celsius', { unit: 'Celsius', toBaseUnit: same, inOcppEnum: true }],
  // The OCPP-J 1.6 schemas misspell Celsius; the errata tells central systems to accept both.
  ['Celcius', { unit: 'Celsius', toBaseUnit: same, inOcppEnum: true }],
  [
    'Fahrenheit',
    { unit: 'Celsius', toBaseUnit: (fahrenheit) => ((fahrenheit - 32) * 5) / 9, inOcppEnum: true },
  ],
  ['K', { unit: 'Celsius', toBaseUnit: (kelvin) => kelvin - 273.15, inOcppEnum: true }],
  ['Percent', { unit: 'Percent', toBaseUnit: same, inOcppEnum: true }],
  // Frequency is in Hertz (errata 3.84) but the enum has no such unit, so some chargers add their own.
  ['Hz', { unit: 'Hz', toBaseUnit: same, inOcppEnum: false }],
  ['RPM', { unit: 'RPM', toBaseUnit: same, inOcppEnum: false }],
]);

const PHASE_INDEX: Record<Phase, 0 | 1 | 2 | undefined> = {
  L1: 0,
  L2: 1,
  L3: 2,
  'L1-N': 0,
  'L2-N': 1,
  'L3-N': 2,
  // Neutral current and line-to-line voltages have no place in a per-phase array.
  N: undefined,
  'L1-L2': undefined,
  'L2-L3': undefined,
  'L3-L1': undefined,
};

const LOCATIONS = new Set<string>(['Body', 'Cable', 'EV', 'Inlet', 'Outlet'] satisfies MeasurementLocation[]);
const CONTEXTS = new Set<string>([
  'Interruption.Begin',
  'Interruption.End',
  'Sample.Clock',
  'Sample.Periodic',
  'Transaction.Begin',
  'Transaction.End',
  'Trigger',
  'Other',
] satisfies ReadingContext[]);

/**
 * A sampled value as it may arrive from a charger on the lenient switch: any field, any type.
 * Some chargers send `null` for an absent optional field; it counts as absent.
 */
type UncheckedSampledValue = { [Field in keyof SampledValue]?: unknown };

/** Measurand, phase, timestamp and so on: what describes a value, numeric or signed. */
type SampleDetails = Pick<ParsedSample, 'timestamp' | 'measurand' | 'phase' | 'location' | 'context'>;

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_WITH_COMMA = /^[+-]?\d*,\d+$/;
/** ISO 8601 date and time; fractional seconds and an offset are optional (spec 3.15). */

/**
 * Reads the `meterValue` list of a MeterValues.req, or the `transactionData` of a
 * StopTransaction.req. Never throws for what a charger sent; throws only for an unreadable
 * `options.receivedAt`, which is the caller's mistake.
 */
export function parseMeterValues(
  meterValues: MeterValue[],
  options: MeterValuesParseOptions,
): MeterValuesParseResult {
  const receivedAt = new Date(options.receivedAt);
  if (Number.isNaN(receivedAt.getTime())) {
    throw new RangeError(`parseMeterValues: receivedAt '${options.receivedAt}' is not a date`);
  }
  const warnings: string[] = [];
  const samples: ParsedSample[] = [];
  const signedValues: SignedMeterValue[] = [];
  if (!Array.isArray(meterValues)) {
    warnings.push('meterValue is not a list; nothing to read');
    return { readings: [], samples, signedValues, warnings };
  }

  meterValues.forEach((entry: unknown, entryIndex) => {
    const where = `meterValue[${entryIndex}]`;
    if (typeof entry !== 'object' || entry === null) {
      warnings.push(`${where} is not an object; skipped`);
      return;
    }
    const { timestamp: rawTimestamp, sampledValue } = entry as {
      timestamp?: unknown;
      sampledValue?: unknown;
    };
    const timestamp = normaliseTimestamp(rawTimestamp, receivedAt.toISOString(), where, warnings);
    if (!Array.isArray(sampledValue)) {
      warnings.push(`${where} has no sampledValue list; skipped`);
      return;
    }
    for (const sampled of sampledValue) {
      if (typeof sampled !== 'object' || sampled === null) {
        warnings.push(`${where} has a sampledValue that is not an object; skipped`);
        continue;
      }
      parseSampledValue(sampled as UncheckedSampledValue, timestamp, samples, signedValues, warnings);
    }
  });

  samples.sort(byTimestamp);
  signedValues.sort(byTimestamp);
  return {
    readings: buildReadings(samples, options.source),
    samples,
    signedValues,
    warnings: [...new Set(warnings)],
  };
}

/** Returns the timestamp as ISO 8601 UTC, or `receivedAt` (with a warning) when it cannot be read. */
function normaliseTimestamp(
  rawTimestamp: unknown,
  receivedAt: string,
  where: string,
  warnings: string[],
): string {
  if (typeof rawTimestamp !== 'string' || rawTimestamp.trim() === '') {
    warnings.push(`${where} has no timestamp; used the receive time ${receivedAt}`);
    return receivedAt;
  }
  const time = parseTimestamp(rawTimestamp);
  if (!time) {
    warnings.push(
      `${where} timestamp '${rawTimestamp}' is not an ISO 8601 date and time; used the receive time ${receivedAt}`,
    );
    return receivedAt;
  }
  if (!time.hadOffset) warnings.push(`${where} timestamp '${rawTimestamp}' has no time zone; read as UTC`);
  return time.iso;
}

/** Checks one sampled value and adds it to `samples` or `signedValues`, or warns and skips it. */
function parseSampledValue(
  sampled: UncheckedSampledValue,
  timestamp: string,
  samples: ParsedSample[],
  signedValues: SignedMeterValue[],
  warnings: string[],
): void {
  const measurandField = sampled.measurand ?? undefined;
  if (measurandField !== undefined && !isMeasurand(measurandField)) {
    warnings.push(`unknown measurand '${String(measurandField)}'; value skipped`);
    return;
  }
  const measurand = measurandField ?? DEFAULT_MEASURAND;
  const phase = sampled.phase ?? undefined;
  if (phase !== undefined && !isPhase(phase)) {
    warnings.push(`${measurand}: unknown phase '${String(phase)}'; value skipped`);
    return;
  }
  const label = phase === undefined ? measurand : `${measurand} ${phase}`;

  // Location and context describe a value without changing it, so an unknown one only drops the field.
  const details: SampleDetails = { timestamp, measurand };
  if (phase !== undefined) details.phase = phase;
  const location = sampled.location ?? undefined;
  if (location !== undefined) {
    if (isLocation(location)) details.location = location;
    else warnings.push(`${label}: unknown location '${String(location)}'; ignored`);
  }
  const context = sampled.context ?? undefined;
  if (context !== undefined) {
    if (isContext(context)) details.context = context;
    else warnings.push(`${label}: unknown context '${String(context)}'; ignored`);
  }

  const format = sampled.format ?? 'Raw';
  if (format === 'SignedData') {
    if (typeof sampled.value === 'string') signedValues.push({ ...details, signedData: sampled.value });
    else warnings.push(`${label}: signed data is not a string; skipped`);
    return;
  }
  if (format !== 'Raw') warnings.push(`${label}: unknown format '${String(format)}'; read as Raw`);

  const conversion = unitConversion(sampled.unit ?? undefined, measurand, label, warnings);
  if (conversion === undefined) return;
  const value = parseDecimal(sampled.value, label, warnings);
  if (value === undefined) return;
  samples.push({ ...details, value: conversion.toBaseUnit(value), unit: conversion.unit });
}

/** The conversion for a value's unit, or undefined (with a warning) when it does not fit the measurand. */
function unitConversion(
  unit: unknown,
  measurand: Measurand,
  label: string,
  warnings: string[],
): UnitConversion | undefined {
  const expectedUnit = MEASURAND_UNIT[measurand];
  if (unit === undefined) return { unit: expectedUnit, toBaseUnit: same, inOcppEnum: true };
  const conversion = typeof unit === 'string' ? UNIT_CONVERSIONS.get(unit) : undefined;
  if (conversion === undefined) {
    warnings.push(`${label}: unknown unit '${String(unit)}'; value skipped`);
    return undefined;
  }
  if (conversion.unit !== expectedUnit) {
    warnings.push(
      `${label}: unit '${String(unit)}' does not fit the measurand (expected ${expectedUnit}); skipped`,
    );
    return undefined;
  }
  if (!conversion.inOcppEnum)
    warnings.push(`${label}: unit '${String(unit)}' is not an OCPP 1.6 unit; accepted`);
  return conversion;
}

/** Reads a "Raw" value: a decimal string, surrounding whitespace allowed. */
function parseDecimal(rawValue: unknown, label: string, warnings: string[]): number | undefined {
  if (typeof rawValue === 'number' && Number.isFinite(rawValue)) {
    warnings.push(`${label}: value ${rawValue} is a JSON number, not a string; accepted`);
    return rawValue;
  }
  if (typeof rawValue !== 'string') {
    warnings.push(`${label}: value is missing or not a string; skipped`);
    return undefined;
  }
  const text = rawValue.trim();
  if (DECIMAL_WITH_COMMA.test(text)) {
    warnings.push(`${label}: value '${rawValue}' has a decimal comma, OCPP requires a point; skipped`);
    return undefined;
  }
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) {
    warnings.push(`${label}: value '${rawValue}' is not a decimal number; skipped`);
    return undefined;
  }
  return value;
}

function isMeasurand(text: unknown): text is Measurand {
  return typeof text === 'string' && Object.hasOwn(MEASURAND_UNIT, text);
}

function isPhase(text: unknown): text is Phase {
  return typeof text === 'string' && Object.hasOwn(PHASE_INDEX, text);
}

function isLocation(text: unknown): text is MeasurementLocation {
  return typeof text === 'string' && LOCATIONS.has(text);
}

function isContext(text: unknown): text is ReadingContext {
  return typeof text === 'string' && CONTEXTS.has(text);
}

function byTimestamp(a: { timestamp: string }, b: { timestamp: string }): number {
  return Date.parse(a.timestamp) - Date.parse(b.timestamp);
}

/** Groups samples (already sorted) by timestamp and builds one Reading per group that says something. */
function buildReadings(samples: ParsedSample[], source: string): Reading[] {
  const samplesByTimestamp = new Map<string, ParsedSample[]>();
  for (const sample of samples) {
    const group = samplesByTimestamp.get(sample.timestamp);
    if (group === undefined) samplesByTimestamp.set(sample.timestamp, [sample]);
    else group.push(sample);
  }
  const readings: Reading[] = [];
  for (const [timestamp, group] of samplesByTimestamp) {
    const reading = buildReading(group, source, timestamp);
    if (hasMeasurement(reading)) readings.push(reading);
  }
  return readings;
}

/**
 * One Reading from the samples of one timestamp. Where a field could come from several samples
 * (two locations, L1 and L1-N), the first in the charger's order wins; the rest stay in `samples`.
 * Sign: import minus export, so a vehicle feeding back gives negative current and power.
 */
function buildReading(samples: ParsedSample[], source: string, timestamp: string): Reading {
  const reading: Reading = { source, timestamp };
  // A field is there only when the samples give it a value.
  const set = <F extends keyof Reading>(field: F, value: Reading[F] | undefined) => {
    if (value !== undefined) reading[field] = value;
  };
  const phases = (measurand: Measurand) => phaseValues(samples, measurand);
  const unphased = (measurand: Measurand) => unphasedValue(samples, measurand);
  const total = (measurand: Measurand) => totalValue(samples, measurand);
  const first = (measurand: Measurand) => firstValue(samples, measurand);

  set('currentA', importMinusExportPerPhase(phases('Current.Import'), phases('Current.Export')));
  set('currentUnphasedA', importMinusExport(unphased('Current.Import'), unphased('Current.Export')));
  set('voltageV', phases('Voltage'));
  set('powerW', importMinusExportPerPhase(phases('Power.Active.Import'), phases('Power.Active.Export')));
  set('totalPowerW', importMinusExport(total('Power.Active.Import'), total('Power.Active.Export')));
  set('importWh', total('Energy.Active.Import.Register'));
  set('exportWh', total('Energy.Active.Export.Register'));
  set('frequencyHz', first('Frequency'));
  set('socPercent', first('SoC'));
  // Offered current is per phase and the same on every phase the car uses; take the highest.
  set('offeredCurrentA', unphased('Current.Offered') ?? highestPhaseValue(samples, 'Current.Offered'));
  set('offeredPowerW', total('Power.Offered'));
  // Spec 7.31: "power factor of total energy flow"; a phase's power factor is not that.
  set('powerFactor', unphased('Power.Factor'));
  set('reactivePowerVar', importMinusExport(total('Power.Reactive.Import'), total('Power.Reactive.Export')));
  set('temperatureC', first('Temperature'));
  return reading;
}

/** False for a Reading with only `source` and `timestamp` (its samples fill no Reading field). */
function hasMeasurement(reading: Reading): boolean {
  return Object.keys(reading).some((field) => field !== 'source' && field !== 'timestamp');
}

/** The first value of the measurand, whatever its phase or location. */
function firstValue(samples: ParsedSample[], measurand: Measurand): number | undefined {
  return samples.find((sample) => sample.measurand === measurand)?.value;
}

/** The first value of the measurand reported without a phase (an overall value, spec 7.43). */
function unphasedValue(samples: ParsedSample[], measurand: Measurand): number | undefined {
  return samples.find((sample) => sample.measurand === measurand && sample.phase === undefined)?.value;
}

/** The values on L1, L2, L3 (or L1-N, L2-N, L3-N), or undefined when no phase was reported. */
function phaseValues(samples: ParsedSample[], measurand: Measurand): PerPhase | undefined {
  const values: PerPhase = [null, null, null];
  let anyPhase = false;
  for (const sample of samples) {
    if (sample.measurand !== measurand || sample.phase === undefined) continue;
    const index = PHASE_INDEX[sample.phase];
    if (index === undefined || values[index] !== null) continue;
    values[index] = sample.value;
    anyPhase = true;
  }
  return anyPhase ? values : undefined;
}

/** The overall value, or the sum of the phases when the charger reports only per phase. */
function totalValue(samples: ParsedSample[], measurand: Measurand): number | undefined {
  const unphased = unphasedValue(samples, measurand);
  if (unphased !== undefined) return unphased;
  const phases = phaseValues(samples, measurand);
  if (phases === undefined) return undefined;
  return phases.reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

function highestPhaseValue(samples: ParsedSample[], measurand: Measurand): number | undefined {
  const phases = phaseValues(samples, measurand);
  if (phases === undefined) return undefined;
  return Math.max(...phases.filter((value) => value !== null));
}

function importMinusExport(
  importValue: number | null | undefined,
  exportValue: number | null | undefined,
): number | undefined {
  if (importValue == null && exportValue == null) return undefined;
  return (importValue ?? 0) - (exportValue ?? 0);
}

function importMinusExportPerPhase(
  importValues: PerPhase | undefined,
  exportValues: PerPhase | undefined,
): PerPhase | undefined {
  if (importValues === undefined && exportValues === undefined) return undefined;
  const onPhase = (index: 0 | 1 | 2) =>
    importMinusExport(importValues?.[index], exportValues?.[index]) ?? null;
  return [onPhase(0), onPhase(1), onPhase(2)];
}
