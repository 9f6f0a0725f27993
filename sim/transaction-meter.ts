import type { OcppRequest } from '../lib/ocpp/messages';
import type { ConfigurationStore } from './configuration';
import { type Connector, FREQUENCY_HZ, iso, TEMPERATURE_C, type Transaction } from './connectors';
import {
  type MeasurandItem,
  type MeterReading,
  type MeterValue,
  parseMeasurandList,
  type ReadingContext,
  sampleMeter,
} from './metering';
import { EXTRA_PROPERTY } from './station-status';
import type { Quirks } from './types';

/**
 * The meter values of the simulated charge point's sessions (sim/transactions.ts, 3.16): which
 * measurands the configuration asks for, the connector's meter reading, MeterValues payloads and
 * the values StopTransaction carries, and when periodic and clock-aligned samples are due.
 */

/** The measurands a configuration key lists (none when unset or invalid). */
export function measurandsOf(configuration: ConfigurationStore, key: string): MeasurandItem[] {
  return parseMeasurandList(configuration.get(key) ?? '') ?? [];
}

/** StopTxnSampledData, or StopTxnAlignedData when only that one is set. */
export function stopTransactionMeasurands(configuration: ConfigurationStore): MeasurandItem[] {
  const sampled = measurandsOf(configuration, 'StopTxnSampledData');
  return sampled.length > 0 ? sampled : measurandsOf(configuration, 'StopTxnAlignedData');
}

/** What the connector's meter reads now. */
export function meterReading(c: Connector, voltageV: number): MeterReading {
  const offeredPhases = c.ev ? Math.min(c.ev.phases, c.phases) : c.phases;
  return {
    energyWh: c.energyWh,
    voltageV,
    currentA: c.currentA,
    wiredPhases: c.gridPhases,
    offeredA: c.offeredA,
    offeredPhases,
    ...(c.ev ? { socPercent: c.ev.socPercent } : {}),
    temperatureC: TEMPERATURE_C,
    frequencyHz: FREQUENCY_HZ,
  };
}

/** A MeterValues payload of `items` (with this charger's quirks), undefined when nothing is sampled. */
export function meterValuesPayload(
  c: Connector,
  items: MeasurandItem[],
  context: ReadingContext,
  transactionId: number | undefined,
  meter: { now: number; voltageV: number; quirks: Readonly<Quirks> },
): { payload: OcppRequest<'MeterValues'>; deviates: boolean } | undefined {
  const { quirks } = meter;
  const sample = sampleMeter(items, meterReading(c, meter.voltageV), context, quirks);
  if (sample.sampledValue.length === 0) return undefined;
  let deviates = sample.deviates;
  const meterValue: MeterValue = { timestamp: iso(meter.now), sampledValue: sample.sampledValue };
  if (quirks.missingMeterTimestamp) {
    delete (meterValue as Partial<MeterValue>).timestamp;
    deviates = true;
  }
  const payload: OcppRequest<'MeterValues'> = {
    connectorId: c.id,
    ...(transactionId === undefined ? {} : { transactionId }),
    meterValue: [meterValue],
  };
  if (quirks.extraProperties) {
    Object.assign(payload, EXTRA_PROPERTY);
    deviates = true;
  }
  return { payload, deviates };
}

/** One meter value of `items` for StopTransaction.transactionData, undefined when nothing is sampled. */
export function sampleValue(
  c: Connector,
  items: MeasurandItem[],
  context: ReadingContext,
  now: number,
  voltageV: number,
): MeterValue | undefined {
  if (items.length === 0) return undefined;
  // transactionData carries no quirks: the quirk is about MeterValues.
  const sample = sampleMeter(items, meterReading(c, voltageV), context);
  return sample.sampledValue.length > 0
    ? { timestamp: iso(now), sampledValue: sample.sampledValue }
    : undefined;
}

/** Errata 3.89: beyond StopTransactionMaxMeterValues, drop every other intermediate value. */
export function keepStopValue(configuration: ConfigurationStore, tx: Transaction, value: MeterValue): void {
  tx.stopTxnValues.push(value);
  const max = Math.max(2, configuration.int('StopTransactionMaxMeterValues', 100) - 2);
  if (tx.stopTxnValues.length > max) tx.stopTxnValues = tx.stopTxnValues.filter((_, i) => i % 2 === 1);
}

/** The next periodic sample of a transaction: every interval from its start (3.16.1). */
export function nextPeriodicMs(startMs: number, now: number, intervalS: number): number {
  const intervalMs = intervalS * 1000;
  const elapsed = now - startMs;
  return startMs + (Math.floor(elapsed / intervalMs) + 1) * intervalMs;
}

/** The next clock-aligned sample: intervals count from midnight (UTC here, 3.14 recommends UTC). */
export function nextAlignedMs(now: number, intervalS: number): number {
  const midnight = Math.floor(now / 86_400_000) * 86_400_000;
  return Math.min(
    midnight + (Math.floor((now - midnight) / (intervalS * 1000)) + 1) * intervalS * 1000,
    midnight + 86_400_000,
  );
}
