import type { Clock, TimerHandle } from '../lib/clock';
import type { OcppRequest } from '../lib/ocpp/messages';
import type { ConfigurationStore } from './configuration';
import type { Connector, Transaction } from './connectors';
import type { QueuedMessage } from './message-queue';
import type { MeasurandItem, ReadingContext } from './metering';
import {
  keepStopValue,
  measurandsOf,
  meterValuesPayload,
  nextAlignedMs,
  nextPeriodicMs,
  sampleValue,
} from './transaction-meter';
import type { Quirks, RegistrationStatus } from './types';

/** What the periodic and clock-aligned samples need from the charge point (sim/transactions.ts). */
export interface SessionMeterHost {
  readonly clock: Clock;
  readonly configuration: ConfigurationStore;
  readonly connectors: readonly Connector[];
  readonly voltageV: number;
  readonly quirks: Readonly<Quirks>;
  registration(): RegistrationStatus | undefined;
  /** Brings energy, currents and statuses up to now. */
  recompute(): void;
  /** Queues a transaction-related message (3.7). */
  queue(message: QueuedMessage): void;
  messageDropped(error: unknown): void;
  /** Sends MeterValues outside a transaction. */
  notifyMeterValues(payload: OcppRequest<'MeterValues'>, deviates: boolean): void;
}

/**
 * The meter values sampled during sessions (3.16): every MeterValueSampleInterval from a
 * transaction's start, and every ClockAlignedDataInterval from midnight, each queued as MeterValues
 * and kept for StopTransaction as the StopTxn keys ask.
 */
export class SessionMeters {
  private alignedTimer: TimerHandle | undefined;

  constructor(private readonly host: SessionMeterHost) {}

  /** Starts the periodic samples of a new transaction. */
  armPeriodic(c: Connector, tx: Transaction): void {
    const { clock, configuration } = this.host;
    const intervalS = configuration.int('MeterValueSampleInterval', 0);
    if (intervalS <= 0) return;
    // "Samples are acquired and transmitted periodically at this interval from the start of the charging transaction" (3.16.1).
    const dueMs = nextPeriodicMs(tx.startMs, clock.now(), intervalS);
    tx.meterTimer = clock.setTimeout(() => {
      tx.meterTimer = undefined;
      if (c.transaction !== tx) return;
      this.samplePeriodic(c, tx);
      this.armPeriodic(c, tx);
    }, dueMs - clock.now());
  }

  /** (Re)starts the clock-aligned samples from ClockAlignedDataInterval. */
  armAligned(): void {
    const { clock, configuration } = this.host;
    clock.clearTimeout(this.alignedTimer);
    this.alignedTimer = undefined;
    const intervalS = configuration.int('ClockAlignedDataInterval', 0);
    if (intervalS <= 0) return;
    const now = clock.now();
    const dueMs = nextAlignedMs(now, intervalS);
    this.alignedTimer = clock.setTimeout(() => {
      this.alignedTimer = undefined;
      this.sampleAligned();
      this.armAligned();
    }, dueMs - now);
  }

  stopAligned(): void {
    this.host.clock.clearTimeout(this.alignedTimer);
  }

  private samplePeriodic(c: Connector, tx: Transaction): void {
    const { configuration } = this.host;
    this.host.recompute();
    const stop = this.sample(c, measurandsOf(configuration, 'StopTxnSampledData'), 'Sample.Periodic');
    if (stop) keepStopValue(configuration, tx, stop);
    this.queueMeterValues(c, tx, measurandsOf(configuration, 'MeterValuesSampledData'), 'Sample.Periodic');
  }

  private sampleAligned(): void {
    const { configuration } = this.host;
    this.host.recompute();
    const items = measurandsOf(configuration, 'MeterValuesAlignedData');
    const stopItems = measurandsOf(configuration, 'StopTxnAlignedData');
    for (const c of this.host.connectors) {
      const tx = c.transaction;
      if (tx) {
        const stop = this.sample(c, stopItems, 'Sample.Clock');
        if (stop) keepStopValue(configuration, tx, stop);
        this.queueMeterValues(c, tx, items, 'Sample.Clock');
      } else {
        const built = this.payload(c, items, 'Sample.Clock');
        if (built && this.host.registration() === 'Accepted')
          this.host.notifyMeterValues(built.payload, built.deviates);
      }
    }
  }

  private queueMeterValues(
    c: Connector,
    tx: Transaction,
    items: MeasurandItem[],
    context: ReadingContext,
  ): void {
    const built = this.payload(c, items, context);
    if (!built) return;
    this.host.queue({
      action: 'MeterValues',
      build: () => {
        const payload = { ...built.payload, transactionId: tx.transactionId ?? -1 };
        return { payload, deviates: built.deviates };
      },
      onDropped: (error) => this.host.messageDropped(error),
    });
  }

  private payload(c: Connector, items: MeasurandItem[], context: ReadingContext) {
    const { clock, voltageV, quirks } = this.host;
    return meterValuesPayload(c, items, context, undefined, { now: clock.now(), voltageV, quirks });
  }

  private sample(c: Connector, items: MeasurandItem[], context: ReadingContext) {
    return sampleValue(c, items, context, this.host.clock.now(), this.host.voltageV);
  }
}
