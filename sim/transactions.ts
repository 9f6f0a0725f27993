import type { OcppRequest, StartTransactionResponse } from '../lib/ocpp/messages';
import { AuthorizationError, type AuthorizeHost, authorizeIdTag } from './authorize';
import { type EvOptions, SimulatedEv } from './ev';
import type { TransactionEvent } from './link';
import type { MeasurandItem, MeterValue, ReadingContext } from './metering';
import { reservationFor } from './reservations';
import { SessionMeters } from './session-meters';
import {
  ChargePointStation,
  type ChargingProfile,
  type Connector,
  type IdTagInfo,
  type Reservation,
  type StopReason,
  type Transaction,
} from './station';
import { newTransaction, startTransactionPayload, stopTransactionPayload } from './transaction-messages';
import {
  measurandsOf,
  meterValuesPayload,
  sampleValue,
  stopTransactionMeasurands,
} from './transaction-meter';

/**
 * Sessions on the simulated charge point: EVs plugging in and leaving, authorization, transactions
 * with their StartTransaction/StopTransaction, and the meter values sampled during them (3.16).
 * Whether an id tag may charge is decided in authorize.ts.
 */

export { AuthorizationError } from './authorize';

export interface StartOptions {
  /** Ask the central system (or the local list/cache) first. Default true. */
  authorize?: boolean;
  /** The transaction ends this reservation. */
  reservationId?: number;
  /** A TxProfile from RemoteStartTransaction, applied once the transaction starts (5.16.2). */
  chargingProfile?: ChargingProfile;
}

export abstract class ChargePointSessions extends ChargePointStation {
  private transactionSeq = 0;
  private readonly authorizeHost: AuthorizeHost = {
    configuration: this.configuration,
    isOnline: () => this.isOnline,
    isAccepted: () => this.registration === 'Accepted',
    everAccepted: () => this.everAccepted,
    localAuthorization: (idTag) => this.localAuthorization(idTag),
    callAuthorize: (idTag) => this.call('Authorize', { idTag }),
    remember: (idTag, info) => this.remember(idTag, info),
  };
  private readonly meters = new SessionMeters({
    clock: this.clock,
    configuration: this.configuration,
    connectors: this.connectors,
    voltageV: this.voltageV,
    quirks: this.quirks,
    registration: () => this.registration,
    recompute: () => this.recompute(),
    queue: (message) => this.queues.transactions.push(message),
    messageDropped: (error) => this.emit('messageDropped', { action: 'MeterValues', error }),
    notifyMeterValues: (payload, deviates) => this.notify('MeterValues', payload, { deviates }),
  });

  // ---- Public session API ------------------------------------------------------------------

  /**
   * An EV is plugged into `connectorId`. Starts the transaction an earlier authorization or
   * RemoteStartTransaction waits for; else the connector goes Preparing until an id tag is
   * presented or ConnectionTimeOut passes.
   */
  plugIn(connectorId: number, ev: SimulatedEv | EvOptions = {}): SimulatedEv {
    const c = this.connectorById(connectorId);
    if (c.ev) throw new Error(`connector ${connectorId} already has an EV plugged in`);
    if (c.finishing) throw new Error(`connector ${connectorId} is Finishing: unplug first`);
    this.integrate(c);
    const car = ev instanceof SimulatedEv ? ev : new SimulatedEv(ev);
    c.ev = car;
    if (c.transaction) {
      // The EV is back on a transaction that survived an EV-side disconnect (9.1.23 false).
      this.recompute();
      return car;
    }
    if (c.pendingStart) {
      const pending = c.pendingStart;
      c.pendingStart = undefined;
      this.clock.clearTimeout(pending.timer);
      pending.resolve(this.beginTransaction(c, pending.idTag, pending));
      return car;
    }
    this.armPreparingTimeout(c);
    this.recompute();
    return car;
  }

  /** The EV leaves `connectorId`; a running transaction stops or suspends per StopTransactionOnEVSideDisconnect. */
  unplug(connectorId: number): void {
    const c = this.connectorById(connectorId);
    if (!c.ev) throw new Error(`no EV is plugged into connector ${connectorId}`);
    this.integrate(c);
    this.clock.clearTimeout(c.preparingTimer);
    c.preparingTimer = undefined;
    const tx = c.transaction;
    c.ev = undefined;
    c.finishing = false;
    if (tx && this.configuration.bool('StopTransactionOnEVSideDisconnect', true)) {
      // "a StatusNotification.req with the state: 'Finishing' SHOULD be send ... 'EV side disconnected'" (4.9).
      c.status = { connectorId, status: 'Finishing', errorCode: 'NoError', info: 'EV side disconnected' };
      this.statusChanged(c.status);
      this.finishTransaction(c, 'EVDisconnected');
      c.finishing = false;
    }
    this.recompute();
  }

  /** Whether `idTag` may charge here now (authorize.ts, 3.5). */
  authorize(idTag: string): Promise<IdTagInfo> {
    return authorizeIdTag(this.authorizeHost, idTag);
  }

  /**
   * Starts a transaction: authorizes `idTag` (unless told not to), then starts at once when an EV
   * is plugged in, else waits up to ConnectionTimeOut for one. Resolves when the transaction has
   * started (StartTransaction queued); the central system's id arrives with the `transactionId` event.
   */
  async startTransaction(
    connectorId: number,
    idTag: string,
    options: StartOptions = {},
  ): Promise<TransactionEvent> {
    const c = this.connectorById(connectorId);
    this.assertCanStart(c);
    let parentIdTag: string | undefined;
    if (options.authorize ?? true) {
      const info = await this.authorize(idTag);
      if (info.status !== 'Accepted') throw new AuthorizationError(idTag, info.status);
      parentIdTag = info.parentIdTag;
    }
    this.assertCanStart(c);
    const reservation = this.reservationBlocking(c, idTag, parentIdTag);
    if (reservation === 'blocked') throw new Error(`connector ${connectorId} is reserved for another id tag`);
    const start = {
      idTag,
      ...(parentIdTag ? { parentIdTag } : {}),
      ...(reservation ? { reservationId: reservation.reservationId } : {}),
      ...(options.reservationId !== undefined ? { reservationId: options.reservationId } : {}),
      ...(options.chargingProfile ? { chargingProfile: options.chargingProfile } : {}),
    };
    if (c.ev) return this.beginTransaction(c, idTag, start);
    return await new Promise<TransactionEvent>((resolve, reject) => {
      const timeoutS = this.configuration.int('ConnectionTimeOut', 120);
      const timer = this.clock.setTimeout(() => {
        if (c.pendingStart?.timer !== timer) return;
        c.pendingStart = undefined;
        this.recompute();
        reject(
          new Error(`no EV plugged into connector ${connectorId} within ConnectionTimeOut (${timeoutS} s)`),
        );
      }, timeoutS * 1000);
      c.pendingStart = { ...start, timer, resolve, reject };
      this.recompute();
    });
  }

  /**
   * Stops the transaction on `connectorId`. A different id tag than the one that started it is
   * authorized first and must belong to the same group (4.1, 3.10).
   */
  async stopTransaction(
    connectorId: number,
    reason: StopReason = 'Local',
    options: { idTag?: string } = {},
  ): Promise<TransactionEvent> {
    const c = this.connectorById(connectorId);
    const tx = c.transaction;
    if (!tx) throw new Error(`no transaction on connector ${connectorId}`);
    if (options.idTag !== undefined && options.idTag !== tx.idTag) {
      const info = await this.authorize(options.idTag);
      const sameGroup = info.parentIdTag !== undefined && info.parentIdTag === tx.parentIdTag;
      if (info.status !== 'Accepted' || !sameGroup) throw new AuthorizationError(options.idTag, info.status);
    }
    if (c.transaction !== tx) throw new Error(`the transaction on connector ${connectorId} already ended`);
    const event = this.finishTransaction(
      c,
      reason,
      options.idTag ?? (reason === 'Local' ? tx.idTag : undefined),
    );
    this.recompute();
    return event;
  }

  // ---- Hooks -------------------------------------------------------------------------------

  protected override onAccepted(): void {
    super.onAccepted();
    this.meters.armAligned();
  }

  protected override onRestart(): void {
    for (const c of this.connectors) {
      if (c.pendingStart) {
        const pending = c.pendingStart;
        c.pendingStart = undefined;
        this.clock.clearTimeout(pending.timer);
        pending.reject(new Error('the charge point restarted'));
      }
      if (c.transaction) this.finishTransaction(c, 'Reboot');
    }
    super.onRestart();
    for (const c of this.connectors) if (c.ev) this.armPreparingTimeout(c);
  }

  protected override powerDown(): void {
    super.powerDown();
    this.meters.stopAligned();
    for (const c of this.connectors) {
      this.clock.clearTimeout(c.transaction?.meterTimer);
      if (c.pendingStart) this.clock.clearTimeout(c.pendingStart.timer);
    }
  }

  /** Stops every transaction (Reset, firmware); returns how many there were. */
  protected stopAll(reason: StopReason): number {
    let count = 0;
    for (const c of this.connectors) {
      if (!c.transaction) continue;
      this.finishTransaction(c, reason);
      count += 1;
    }
    this.recompute();
    return count;
  }

  /** The latest readings of `c` as a MeterValues payload (TriggerMessage, 5.17). */
  protected meterValuesNow(
    c: Connector,
    context: ReadingContext,
  ): { payload: OcppRequest<'MeterValues'>; deviates: boolean } | undefined {
    this.integrate(c);
    const items = this.measurands('MeterValuesSampledData');
    const meter = { now: this.clock.now(), voltageV: this.voltageV, quirks: this.quirks };
    return meterValuesPayload(c, items, context, c.transaction?.transactionId, meter);
  }

  // ---- Transactions ------------------------------------------------------------------------

  private assertCanStart(c: Connector): void {
    if (c.transaction) throw new Error(`connector ${c.id} already has a transaction`);
    if (c.fault) throw new Error(`connector ${c.id} is Faulted`);
    if (this.isInoperative(c)) throw new Error(`connector ${c.id} is Unavailable`);
    if (c.finishing) throw new Error(`connector ${c.id} is Finishing: unplug first`);
    if (c.pendingStart) throw new Error(`connector ${c.id} already waits for an EV`);
  }

  /**
   * The reservation a start of `idTag` on `c` fulfils, 'blocked' when a reservation keeps the tag
   * out (5.13), or undefined when no reservation is involved.
   */
  protected reservationBlocking(
    c: Connector,
    idTag: string,
    parentIdTag: string | undefined,
  ): Reservation | 'blocked' | undefined {
    return reservationFor(this.reservations, c, idTag, parentIdTag, () =>
      this.connectors.filter((other) => other !== c && this.canStartOn(other) && !other.ev),
    );
  }

  private beginTransaction(
    c: Connector,
    idTag: string,
    start: { parentIdTag?: string; reservationId?: number; chargingProfile?: ChargingProfile },
  ): TransactionEvent {
    const now = this.clock.now();
    this.integrate(c);
    this.clock.clearTimeout(c.preparingTimer);
    c.preparingTimer = undefined;
    const tx = newTransaction(++this.transactionSeq, c, idTag, start, now);
    if (start.reservationId !== undefined) this.endReservation(start.reservationId);
    c.transaction = tx;
    c.finishing = false;
    // 5.16.2: the RemoteStartTransaction profile applies to the new transaction.
    if (start.chargingProfile) this.profiles.install(c.id, start.chargingProfile, now, tx.key);
    // Errata 3.14 (3.16.6): the start and stop values of what StopTransaction is to carry.
    const begin = this.sampleValue(c, stopTransactionMeasurands(this.configuration), 'Transaction.Begin');
    if (begin) tx.beginValues.push(begin);

    this.queues.transactions.push({
      action: 'StartTransaction',
      build: () => ({ payload: startTransactionPayload(tx) }),
      onAnswered: (response) => this.onStartAnswered(c, tx, response as StartTransactionResponse),
      onDropped: (error) => this.emit('messageDropped', { action: 'StartTransaction', error }),
    });
    this.meters.armPeriodic(c, tx);
    const event: TransactionEvent = { connectorId: c.id, idTag };
    this.emit('transactionStarted', event);
    this.recompute();
    return event;
  }

  private onStartAnswered(c: Connector, tx: Transaction, response: StartTransactionResponse): void {
    tx.transactionId = response.transactionId;
    this.remember(tx.idTag, response.idTagInfo);
    if (response.idTagInfo.parentIdTag) tx.parentIdTag = response.idTagInfo.parentIdTag;
    this.emit('transactionId', {
      connectorId: tx.connectorId,
      transactionId: tx.transactionId,
      idTag: tx.idTag,
    });
    if (response.idTagInfo.status === 'Accepted' || c.transaction !== tx) return;
    // Errata 3.17: a transaction whose id tag the central system does not accept.
    if (this.configuration.bool('StopTransactionOnInvalidId', true)) {
      this.finishTransaction(c, 'DeAuthorized');
    } else {
      tx.deauthorized = true;
    }
    this.recompute();
  }

  /** Ends `c`'s transaction and queues its StopTransaction. */
  protected finishTransaction(c: Connector, reason: StopReason, idTag?: string): TransactionEvent {
    const tx = c.transaction;
    if (!tx) throw new Error(`no transaction on connector ${c.id}`);
    this.integrate(c);
    this.clock.clearTimeout(tx.meterTimer);
    const now = this.clock.now();
    const items = stopTransactionMeasurands(this.configuration);
    const end = this.sampleValue(c, items, 'Transaction.End');
    // 3.16.5: with both StopTxn keys empty, no meter values in StopTransaction.
    const withData = items.length > 0;
    const transactionData = withData ? [...tx.beginValues, ...tx.stopTxnValues, ...(end ? [end] : [])] : [];
    const meterStop = Math.round(c.energyWh);
    this.queues.transactions.push({
      action: 'StopTransaction',
      build: () => ({
        payload: stopTransactionPayload(tx, { meterStop, now, reason, idTag, transactionData }),
      }),
      onAnswered: (response) => {
        const info = (response as OcppRequest<'StopTransaction'> & { idTagInfo?: IdTagInfo }).idTagInfo;
        if (idTag && info) this.remember(idTag, info);
      },
      onDropped: (error) => this.emit('messageDropped', { action: 'StopTransaction', error }),
    });
    c.transaction = undefined;
    this.profiles.removeTransactionProfiles(tx.key);
    c.finishing = !!c.ev;
    if (c.scheduledAvailability) {
      c.availability = c.scheduledAvailability;
      c.scheduledAvailability = undefined;
    }
    const event: TransactionEvent = {
      connectorId: c.id,
      idTag: tx.idTag,
      reason,
      ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }),
    };
    this.emit('transactionStopped', event);
    this.afterTransaction();
    return event;
  }

  /** Called when a transaction has ended (firmware installation waits for this). */
  protected afterTransaction(): void {}

  /** Re-reads ClockAlignedDataInterval after a change. */
  protected restartAlignedTimer(): void {
    if (this.everAccepted) this.meters.armAligned();
  }

  private sampleValue(c: Connector, items: MeasurandItem[], context: ReadingContext): MeterValue | undefined {
    return sampleValue(c, items, context, this.clock.now(), this.voltageV);
  }

  protected measurands(key: string): MeasurandItem[] {
    return measurandsOf(this.configuration, key);
  }

  private armPreparingTimeout(c: Connector): void {
    this.clock.clearTimeout(c.preparingTimer);
    const timeoutS = this.configuration.int('ConnectionTimeOut', 120);
    c.preparingTimer = this.clock.setTimeout(() => {
      c.preparingTimer = undefined;
      if (c.transaction || !c.ev) return;
      // Errata 3.20 (B6): plugged in but no id tag within the timeout: Finishing, not Available,
      // so that the next id tag does not start a transaction on this cable.
      c.finishing = true;
      this.recompute();
    }, timeoutS * 1000);
  }
}
