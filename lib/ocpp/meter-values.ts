/**
 * OCPP 1.6 meter values: turns the `meterValue` list of a MeterValues.req (or the `transactionData`
 * of a StopTransaction.req, which has the same shape) into Readings, one per point in time.
 *
 * Pure and deterministic: no clock, no I/O. Bad data from a charger never throws; the value is
 * skipped and a warning says why. Chargers on the lenient switch get here with fields outside the
 * schema, so every field is checked at run time even where the type says it cannot be wrong.
 */
import type { Reading } from '../contracts';
import { isoMs, parseTimestamp } from '../time';
import { type Instant, ReadingsBuilder } from './meter-readings';
import {
  type Kept,
  type MeterValue,
  type ParsedSample,
  readSampledValue,
  type SignedMeterValue,
  type UncheckedSampledValue,
} from './sampled-values';

export type { Measurand, MeterValue, ParsedSample, ReadingContext, SampledValue } from './sampled-values';

export interface MeterValuesParseOptions {
  /** Goes into every Reading's `source`, e.g. `<chargePointId>/<connectorId>`. */
  source: string;
  /** When the message arrived (ISO 8601); stands in for a missing or unreadable timestamp. */
  receivedAt: string;
  /** The same instant in ms, where the caller has it: spares reading `receivedAt` again. */
  receivedMs?: number;
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

/**
 * Reads the `meterValue` list of a MeterValues.req, or the `transactionData` of a
 * StopTransaction.req, into Readings, every sample and the signed data. Never throws for what a
 * charger sent; throws only for an unreadable `options.receivedAt`, which is the caller's mistake.
 */
export function parseMeterValues(
  meterValues: MeterValue[],
  options: MeterValuesParseOptions,
): MeterValuesParseResult {
  const kept: Kept = { samples: [], signedValues: [] };
  const { readings, warnings } = read(meterValues, options, kept);
  kept.samples.sort(byTimestamp);
  kept.signedValues.sort(byTimestamp);
  return { readings, samples: kept.samples, signedValues: kept.signedValues, warnings };
}

/** What the message path reads of a MeterValues.req (readMeterValues). */
export interface MeterValuesRead extends Pick<MeterValuesParseResult, 'readings' | 'warnings'> {
  /** The time of the newest Reading in ms (its `timestamp`, already read); undefined without Readings. */
  newestMs: number | undefined;
}

/**
 * The Readings and warnings of parseMeterValues, the same values checked the same way, without
 * the list of samples and signed data nobody on the message path reads.
 */
export function readMeterValues(
  meterValues: MeterValue[],
  options: MeterValuesParseOptions,
): MeterValuesRead {
  return read(meterValues, options, undefined);
}

function read(
  meterValues: MeterValue[],
  options: MeterValuesParseOptions,
  kept: Kept | undefined,
): MeterValuesRead {
  const receivedMs = options.receivedMs ?? isoMs(options.receivedAt);
  if (Number.isNaN(receivedMs)) {
    throw new RangeError(`parseMeterValues: receivedAt '${options.receivedAt}' is not a date`);
  }
  const warnings: string[] = [];
  if (!Array.isArray(meterValues)) {
    warnings.push('meterValue is not a list; nothing to read');
    return { readings: [], warnings, newestMs: undefined };
  }
  const builder = new ReadingsBuilder(options.source);
  for (let entryIndex = 0; entryIndex < meterValues.length; entryIndex++) {
    const entry: unknown = meterValues[entryIndex];
    if (typeof entry !== 'object' || entry === null) {
      warnings.push(`meterValue[${entryIndex}] is not an object; skipped`);
      continue;
    }
    const { timestamp: rawTimestamp, sampledValue } = entry as {
      timestamp?: unknown;
      sampledValue?: unknown;
    };
    const at = instantOf(rawTimestamp, receivedMs, entryIndex, warnings);
    if (!Array.isArray(sampledValue)) {
      warnings.push(`meterValue[${entryIndex}] has no sampledValue list; skipped`);
      continue;
    }
    for (const sampled of sampledValue) {
      if (typeof sampled !== 'object' || sampled === null) {
        warnings.push(`meterValue[${entryIndex}] has a sampledValue that is not an object; skipped`);
        continue;
      }
      readSampledValue(sampled as UncheckedSampledValue, at, builder, kept, warnings);
    }
  }
  const readings = builder.readings();
  return {
    readings,
    warnings: warnings.length > 1 ? [...new Set(warnings)] : warnings,
    newestMs: builder.newestMs,
  };
}

/** The entry's timestamp as ISO 8601 UTC, or the receive time (with a warning) when it cannot be read. */
function instantOf(
  rawTimestamp: unknown,
  receivedMs: number,
  entryIndex: number,
  warnings: string[],
): Instant {
  const received = () => {
    const iso = new Date(receivedMs).toISOString();
    return { iso, at: { iso, ms: receivedMs } };
  };
  if (typeof rawTimestamp !== 'string' || rawTimestamp.trim() === '') {
    const { iso, at } = received();
    warnings.push(`meterValue[${entryIndex}] has no timestamp; used the receive time ${iso}`);
    return at;
  }
  const time = parseTimestamp(rawTimestamp);
  if (!time) {
    const { iso, at } = received();
    warnings.push(
      `meterValue[${entryIndex}] timestamp '${rawTimestamp}' is not an ISO 8601 date and time; used the receive time ${iso}`,
    );
    return at;
  }
  if (!time.hadOffset)
    warnings.push(`meterValue[${entryIndex}] timestamp '${rawTimestamp}' has no time zone; read as UTC`);
  return { iso: time.iso, ms: time.ms };
}

function byTimestamp(a: { timestamp: string }, b: { timestamp: string }): number {
  return isoMs(a.timestamp) - isoMs(b.timestamp);
}
