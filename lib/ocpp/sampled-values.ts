/**
 * One sampled value of an OCPP 1.6 MeterValue (spec 7.43) and how it is read: which measurands,
 * phases, locations and contexts exist, the unit each measurand is reported in and how the units
 * chargers send convert to it, and the checks that file a value for the Readings or skip it with
 * a warning. The message-level reading (entries, timestamps, sorting) is lib/ocpp/meter-values.ts.
 */
import { decimalValue } from './decimal';
import type { MeterValuesRequest } from './messages';
import {
  ELSEWHERE,
  type Instant,
  type PhaseSlot,
  type ReadingsBuilder,
  slotOf,
  UNPHASED,
} from './meter-readings';

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

/** Where the Readings file a value of each phase (meter-readings.ts). */
const PHASE_SLOTS = new Map<string, PhaseSlot>([
  ['L1', 0],
  ['L2', 1],
  ['L3', 2],
  ['L1-N', 0],
  ['L2-N', 1],
  ['L3-N', 2],
  // Neutral current and line-to-line voltages have no place in a per-phase array.
  ['N', ELSEWHERE],
  ['L1-L2', ELSEWHERE],
  ['L2-L3', ELSEWHERE],
  ['L3-L1', ELSEWHERE],
] satisfies [Phase, PhaseSlot][]);

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
export type UncheckedSampledValue = { [Field in keyof SampledValue]?: unknown };

const DECIMAL_WITH_COMMA = /^[+-]?\d*,\d+$/;

/** What reading a value asks of its measurand, looked up once per value. */
interface MeasurandFacts {
  measurand: Measurand;
  /** The unit the measurand is reported in. */
  unit: NormalisedUnit;
  /** The conversion of a value given without a unit: the measurand's own unit. */
  implied: UnitConversion;
  /** Where the Readings file its values (meter-readings.ts); undefined where no Reading field is made of it. */
  slot: number | undefined;
}

const MEASURANDS = new Map<string, MeasurandFacts>(
  (Object.entries(MEASURAND_UNIT) as [Measurand, NormalisedUnit][]).map(([measurand, unit]) => [
    measurand,
    { measurand, unit, implied: { unit, toBaseUnit: same, inOcppEnum: true }, slot: slotOf(measurand) },
  ]),
);
/** A value without a measurand is the energy register (spec 7.43). */
const DEFAULT_MEASURAND = MEASURANDS.get('Energy.Active.Import.Register') as MeasurandFacts;

/** Where the numeric values and signed data blocks go, besides the Readings (parseMeterValues). */
export interface Kept {
  samples: ParsedSample[];
  signedValues: SignedMeterValue[];
}

/** How warnings name a value: its measurand and phase. */
function labelOf(measurand: Measurand, phase: Phase | undefined): string {
  return phase === undefined ? measurand : `${measurand} ${phase}`;
}

/**
 * Checks one sampled value and files it for the Readings (and in `kept`), or warns and skips it.
 * Builds nothing for a value that is in order: a warning's words only when there is one.
 */
export function readSampledValue(
  sampled: UncheckedSampledValue,
  at: Instant,
  builder: ReadingsBuilder,
  kept: Kept | undefined,
  warnings: string[],
): void {
  const measurandField = sampled.measurand ?? undefined;
  const facts =
    measurandField === undefined
      ? DEFAULT_MEASURAND
      : typeof measurandField === 'string'
        ? MEASURANDS.get(measurandField)
        : undefined;
  if (facts === undefined) {
    warnings.push(`unknown measurand '${String(measurandField)}'; value skipped`);
    return;
  }
  const measurand = facts.measurand;
  const phaseField = sampled.phase ?? undefined;
  const phaseSlot =
    phaseField === undefined
      ? UNPHASED
      : typeof phaseField === 'string'
        ? PHASE_SLOTS.get(phaseField)
        : undefined;
  if (phaseSlot === undefined) {
    warnings.push(`${measurand}: unknown phase '${String(phaseField)}'; value skipped`);
    return;
  }
  const phase = phaseField as Phase | undefined;

  // Location and context describe a value without changing it, so an unknown one only drops the field.
  let location = sampled.location ?? undefined;
  if (location !== undefined && !isLocation(location)) {
    warnings.push(`${labelOf(measurand, phase)}: unknown location '${String(location)}'; ignored`);
    location = undefined;
  }
  let context = sampled.context ?? undefined;
  if (context !== undefined && !isContext(context)) {
    warnings.push(`${labelOf(measurand, phase)}: unknown context '${String(context)}'; ignored`);
    context = undefined;
  }

  const format = sampled.format ?? 'Raw';
  if (format === 'SignedData') {
    if (typeof sampled.value !== 'string')
      warnings.push(`${labelOf(measurand, phase)}: signed data is not a string; skipped`);
    else if (kept)
      kept.signedValues.push({
        ...details(at, measurand, phase, location as MeasurementLocation, context as ReadingContext),
        signedData: sampled.value,
      });
    return;
  }
  if (format !== 'Raw')
    warnings.push(`${labelOf(measurand, phase)}: unknown format '${String(format)}'; read as Raw`);

  const conversion = unitConversion(sampled.unit ?? undefined, facts, phase, warnings);
  if (conversion === undefined) return;
  const raw = parseDecimal(sampled.value, measurand, phase, warnings);
  if (raw === undefined) return;
  const value = conversion.toBaseUnit(raw);
  if (facts.slot !== undefined) builder.add(at, facts.slot, phaseSlot, value);
  if (kept)
    kept.samples.push({
      ...details(at, measurand, phase, location as MeasurementLocation, context as ReadingContext),
      value,
      unit: conversion.unit,
    });
}

/** Measurand, phase, timestamp and so on: what describes a value, numeric or signed. */
function details(
  at: Instant,
  measurand: Measurand,
  phase: Phase | undefined,
  location: MeasurementLocation | undefined,
  context: ReadingContext | undefined,
): Pick<ParsedSample, 'timestamp' | 'measurand' | 'phase' | 'location' | 'context'> {
  const described: Pick<ParsedSample, 'timestamp' | 'measurand' | 'phase' | 'location' | 'context'> = {
    timestamp: at.iso,
    measurand,
  };
  if (phase !== undefined) described.phase = phase;
  if (location !== undefined) described.location = location;
  if (context !== undefined) described.context = context;
  return described;
}

/** The conversion for a value's unit, or undefined (with a warning) when it does not fit the measurand. */
function unitConversion(
  unit: unknown,
  { measurand, unit: expectedUnit, implied }: MeasurandFacts,
  phase: Phase | undefined,
  warnings: string[],
): UnitConversion | undefined {
  if (unit === undefined) return implied;
  const conversion = typeof unit === 'string' ? UNIT_CONVERSIONS.get(unit) : undefined;
  if (conversion === undefined) {
    warnings.push(`${labelOf(measurand, phase)}: unknown unit '${String(unit)}'; value skipped`);
    return undefined;
  }
  if (conversion.unit !== expectedUnit) {
    warnings.push(
      `${labelOf(measurand, phase)}: unit '${String(unit)}' does not fit the measurand (expected ${expectedUnit}); skipped`,
    );
    return undefined;
  }
  if (!conversion.inOcppEnum)
    warnings.push(`${labelOf(measurand, phase)}: unit '${String(unit)}' is not an OCPP 1.6 unit; accepted`);
  return conversion;
}

/** Reads a "Raw" value: a decimal string, surrounding whitespace allowed. */
function parseDecimal(
  rawValue: unknown,
  measurand: Measurand,
  phase: Phase | undefined,
  warnings: string[],
): number | undefined {
  if (typeof rawValue === 'number' && Number.isFinite(rawValue)) {
    warnings.push(`${labelOf(measurand, phase)}: value ${rawValue} is a JSON number, not a string; accepted`);
    return rawValue;
  }
  if (typeof rawValue !== 'string') {
    warnings.push(`${labelOf(measurand, phase)}: value is missing or not a string; skipped`);
    return undefined;
  }
  const value = decimalValue(rawValue);
  if (!Number.isNaN(value)) return value;
  if (DECIMAL_WITH_COMMA.test(rawValue.trim())) {
    warnings.push(
      `${labelOf(measurand, phase)}: value '${rawValue}' has a decimal comma, OCPP requires a point; skipped`,
    );
    return undefined;
  }
  warnings.push(`${labelOf(measurand, phase)}: value '${rawValue}' is not a decimal number; skipped`);
  return undefined;
}

function isLocation(text: unknown): text is MeasurementLocation {
  return typeof text === 'string' && LOCATIONS.has(text);
}

function isContext(text: unknown): text is ReadingContext {
  return typeof text === 'string' && CONTEXTS.has(text);
}
