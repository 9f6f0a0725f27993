import type { Logger } from '../../lib/log';
import type {
  BootNotificationRequest,
  MeterValuesRequest,
  StartTransactionRequest,
  StatusNotificationRequest,
  StopTransactionRequest,
} from '../../lib/ocpp/messages';
import type { CpAction } from '../types';
import {
  chargingState201,
  connectorStatus201,
  contextOf,
  idTagInfo16,
  lastRegister201,
  meterTrigger201,
  meterValuesTo201,
  registerValue201,
  stopReason201,
} from './convert';
import type { Transaction201, Transactions201 } from './transactions';

/**
 * The simulator's requests (OCPP 1.6 shapes) as an OCPP 2.0.1 charging station sends them, and
 * the answers read back into 1.6 shapes: BootNotification, Heartbeat, StatusNotification (with a
 * TransactionEvent ChargingStateChanged when a running transaction's state changes), Authorize,
 * StartTransaction/MeterValues/StopTransaction as TransactionEvent Started/Updated/Ended, meter
 * values of no transaction as MeterValues, DataTransfer, and the notifications of firmware, logs,
 * security events and certificates. Skipped (answered here, nothing sent): StatusNotification of
 * connector 0 (2.0.1 reports the station as a whole with NotifyEvent) and
 * DiagnosticsStatusNotification (GetDiagnostics does not exist in 2.0.1).
 */

type Json = Record<string, unknown>;
type Status16 = StatusNotificationRequest['status'];

/** What the translation asks of the charge point. */
export interface Host201 {
  readonly identity: string;
  readonly log: Logger;
  now(): number;
  /** A connector as it is now; undefined when there is no such connector. */
  evse(connectorId: number): EvseState | undefined;
  connectorIds(): number[];
  /** Whether transaction-related messages wait to go out. */
  transactionMessagesQueued(): boolean;
  /** How long after a RequestStartTransaction its transaction may start (ConnectionTimeOut and some). */
  remoteStartWindowMs(): number;
  /** Resolves once no transaction runs (at once if none does). */
  whenNoTransactions(): Promise<void>;
}

export interface EvseState {
  status: Status16;
  /** A cable is in (an EV is plugged in). */
  plugged: boolean;
  /** A transaction runs on it. */
  transaction: boolean;
}

/** Sends one 2.0.1 request on the connection and resolves with the answer. */
export type Wire = (action: string, payload: Json) => Promise<Json>;

export class Outgoing201 {
  /** The BootNotification reason of the next boot. */
  bootReason = 'PowerUp';
  /** The requestId of the unsigned firmware update running, for its FirmwareStatusNotifications. */
  firmwareRequestId: number | undefined;
  /** EVSEs whose next triggered meter values answer a TriggerMessage for TransactionEvent. */
  readonly triggerAsEvent = new Set<number>();
  private connectedAtMs = 0;
  /** The connectorStatus last sent per EVSE on this connection. */
  private readonly reported = new Map<number, string>();
  private readonly origins = new WeakMap<object, { action: CpAction; request: unknown }>();

  constructor(
    private readonly host: Host201,
    private readonly transactions: Transactions201,
  ) {}

  /** A new connection: every status is news to it; events from before it were queued offline. */
  connected(): void {
    this.connectedAtMs = this.host.now();
    this.reported.clear();
  }

  /** The simulator's request a 2.0.1 payload on its way carries. */
  originOf(payload: unknown): { action: CpAction; request: unknown } | undefined {
    return typeof payload === 'object' && payload !== null ? this.origins.get(payload) : undefined;
  }

  /**
   * Sends the simulator's `action` as 2.0.1 and resolves with the answer in 1.6 shapes. Everything
   * up to the first wire call runs at once, so messages go out in the order the simulator sends them.
   */
  async send(action: CpAction, request: unknown, wire: Wire, triggered: boolean): Promise<unknown> {
    // The first 2.0.1 request a message becomes carries it (for the `sent` event).
    let carried = false;
    const out = (action201: string, payload: Json) => {
      if (!carried) this.origins.set(payload, { action, request });
      carried = true;
      return wire(action201, payload);
    };
    switch (action) {
      case 'BootNotification':
        return await this.boot(request as BootNotificationRequest, out);
      case 'Heartbeat':
        return { currentTime: (await out('Heartbeat', {})).currentTime };
      case 'StatusNotification':
        return await this.status(request as StatusNotificationRequest, out, triggered);
      case 'Authorize': {
        const { idTag } = request as { idTag: string };
        const response = await out('Authorize', { idToken: this.transactions.token(idTag) });
        return { idTagInfo: idTagInfo16(response.idTokenInfo as Json) ?? { status: 'Invalid' } };
      }
      case 'StartTransaction':
        return await this.started(request as StartTransactionRequest, out);
      case 'MeterValues':
        return await this.meterValues(request as MeterValuesRequest, out);
      case 'StopTransaction':
        return await this.ended(request as StopTransactionRequest, out);
      case 'DataTransfer': {
        const response = await out('DataTransfer', { ...(request as Json) });
        const { status, data } = response;
        if (data === undefined) return { status };
        return { status, data: typeof data === 'string' ? data : JSON.stringify(data) };
      }
      case 'FirmwareStatusNotification': {
        const { status } = request as { status: string };
        const requestId = status === 'Idle' ? undefined : this.firmwareRequestId;
        await out('FirmwareStatusNotification', {
          status,
          ...(requestId === undefined ? {} : { requestId }),
        });
        return {};
      }
      case 'SignedFirmwareStatusNotification':
        await out('FirmwareStatusNotification', { ...(request as Json) });
        return {};
      case 'LogStatusNotification':
      case 'SecurityEventNotification':
        await out(action, { ...(request as Json) });
        return {};
      case 'SignCertificate': {
        const { csr } = request as { csr: string };
        const response = await out('SignCertificate', { csr, certificateType: 'ChargingStationCertificate' });
        return { status: response.status };
      }
      default:
        // DiagnosticsStatusNotification: no GetDiagnostics in 2.0.1 starts an upload it would report.
        return {};
    }
  }

  private async boot(request: BootNotificationRequest, out: Wire): Promise<unknown> {
    const chargingStation: Json = { vendorName: request.chargePointVendor, model: request.chargePointModel };
    const serialNumber = request.chargePointSerialNumber ?? request.chargeBoxSerialNumber;
    if (serialNumber !== undefined) chargingStation.serialNumber = serialNumber;
    if (request.firmwareVersion !== undefined) chargingStation.firmwareVersion = request.firmwareVersion;
    if (request.iccid !== undefined || request.imsi !== undefined) {
      chargingStation.modem = {
        ...(request.iccid === undefined ? {} : { iccid: request.iccid }),
        ...(request.imsi === undefined ? {} : { imsi: request.imsi }),
      };
    }
    const response = await out('BootNotification', { chargingStation, reason: this.bootReason });
    const { status, currentTime, interval } = response;
    return { status, currentTime, interval };
  }

  /**
   * A connector's status: the connector's own (sent when it changed on this connection, or when
   * the central system asked) and, while a transaction runs on it, the transaction's chargingState.
   */
  private async status(request: StatusNotificationRequest, out: Wire, triggered: boolean): Promise<unknown> {
    const evseId = request.connectorId;
    if (evseId === 0) return {};
    const plugged = this.host.evse(evseId)?.plugged ?? false;
    const timestamp = request.timestamp ?? new Date(this.host.now()).toISOString();
    const sends: Promise<unknown>[] = [];
    const connectorStatus = connectorStatus201(request.status, plugged);
    if (triggered || this.reported.get(evseId) !== connectorStatus) {
      this.reported.set(evseId, connectorStatus);
      const sent = out('StatusNotification', { timestamp, connectorStatus, evseId, connectorId: 1 });
      sends.push(
        sent.catch((err: unknown) => {
          // Not told after all: the next status goes out whatever it is.
          if (this.reported.get(evseId) === connectorStatus) this.reported.delete(evseId);
          throw err;
        }),
      );
    }
    const tx = this.transactions.activeOn(evseId);
    const chargingState = chargingState201(request.status, plugged);
    if (tx && chargingState !== tx.chargingState) {
      tx.chargingState = chargingState;
      const transactionInfo = { transactionId: tx.id, chargingState };
      sends.push(
        out(
          'TransactionEvent',
          this.event(tx, 'Updated', timestamp, 'ChargingStateChanged', transactionInfo),
        ),
      );
    }
    await Promise.all(sends);
    return {};
  }

  /** StartTransaction: TransactionEvent Started; the simulator gets the transaction's number back. */
  private async started(request: StartTransactionRequest, out: Wire): Promise<unknown> {
    const evseId = request.connectorId;
    const startKey = `${evseId}|${request.timestamp}|${request.idTag}`;
    let tx = this.transactions.activeOn(evseId);
    if (tx?.startKey !== startKey) {
      // Measured from when the transaction began: a Started held back offline still finds its remote start.
      const remote = this.transactions.takeRemoteStart(
        request.idTag,
        evseId,
        Date.parse(request.timestamp),
        this.host.remoteStartWindowMs(),
      );
      const idToken = remote ? { ...remote.idToken } : this.transactions.token(request.idTag);
      tx = this.transactions.begin(evseId, startKey, idToken, remote);
      const evse = this.host.evse(evseId);
      tx.chargingState = chargingState201(evse?.status ?? 'Preparing', evse?.plugged ?? true);
    }
    const transactionInfo: Json = { transactionId: tx.id };
    if (tx.chargingState !== undefined) transactionInfo.chargingState = tx.chargingState;
    if (tx.remote) transactionInfo.remoteStartId = tx.remote.remoteStartId;
    const payload = this.event(
      tx,
      'Started',
      request.timestamp,
      tx.remote ? 'RemoteStart' : 'Authorized',
      transactionInfo,
    );
    payload.evse = { id: evseId, connectorId: 1 };
    payload.idToken = tx.idToken;
    payload.meterValue = [registerValue201(request.timestamp, request.meterStart, 'Transaction.Begin')];
    if (request.reservationId !== undefined) payload.reservationId = request.reservationId;
    try {
      const response = await out('TransactionEvent', payload);
      return {
        transactionId: tx.numeric,
        idTagInfo: idTagInfo16(response.idTokenInfo as Json | undefined) ?? { status: 'Accepted' },
      };
    } finally {
      tx.markSettled();
    }
  }

  /**
   * MeterValues: of a running transaction, a TransactionEvent Updated (MeterValuePeriodic,
   * MeterValueClock, or Trigger when a TriggerMessage asked for TransactionEvent); else MeterValues.
   */
  private async meterValues(request: MeterValuesRequest, out: Wire): Promise<unknown> {
    const context = contextOf(request.meterValue);
    const tx =
      request.transactionId === undefined ? undefined : this.transactions.ofNumeric(request.transactionId);
    const meterValue = meterValuesTo201(request.meterValue);
    const timestamp = request.meterValue[0]?.timestamp ?? new Date(this.host.now()).toISOString();
    if (tx?.active && (context !== 'Trigger' || this.triggerAsEvent.has(request.connectorId))) {
      const payload = this.event(
        tx,
        'Updated',
        timestamp,
        meterTrigger201(context),
        { transactionId: tx.id },
        `meter|${timestamp}|${context}`,
      );
      if (meterValue.length > 0) payload.meterValue = meterValue;
      await out('TransactionEvent', payload);
      return {};
    }
    if (meterValue.length === 0) return {};
    await out('MeterValues', { evseId: request.connectorId, meterValue });
    return {};
  }

  /** StopTransaction: TransactionEvent Ended with the end register and the values 1.6 puts in transactionData. */
  private async ended(request: StopTransactionRequest, out: Wire): Promise<unknown> {
    // Errata 3.18: -1 when the StartTransaction was dropped; the central system never heard of it.
    const tx = this.transactions.ofNumeric(request.transactionId) ?? this.transactions.orphan();
    const { stoppedReason, triggerReason } = stopReason201(request.reason);
    const transactionInfo: Json = { transactionId: tx.id, stoppedReason };
    const evse = tx.evseId > 0 ? this.host.evse(tx.evseId) : undefined;
    if (evse) {
      const chargingState = evse.plugged ? 'EVConnected' : 'Idle';
      if (chargingState !== tx.chargingState) transactionInfo.chargingState = chargingState;
      tx.chargingState = chargingState;
    }
    this.transactions.end(tx);
    const payload = this.event(tx, 'Ended', request.timestamp, triggerReason, transactionInfo, 'end');
    if (tx.evseId > 0) payload.evse = { id: tx.evseId, connectorId: 1 };
    if (request.idTag !== undefined)
      payload.idToken =
        request.idTag === tx.idToken.idToken ? tx.idToken : this.transactions.token(request.idTag);
    const meterValue = meterValuesTo201(request.transactionData ?? []);
    if (lastRegister201(meterValue) !== request.meterStop)
      meterValue.push(registerValue201(request.timestamp, request.meterStop, 'Transaction.End'));
    payload.meterValue = meterValue;
    const response = await out('TransactionEvent', payload);
    const idTagInfo = idTagInfo16(response.idTokenInfo as Json | undefined);
    return idTagInfo ? { idTagInfo } : {};
  }

  /** A TransactionEvent's common fields; `offline` when it happened before this connection. */
  private event(
    tx: Transaction201,
    eventType: 'Started' | 'Updated' | 'Ended',
    timestamp: string,
    triggerReason: string,
    transactionInfo: Json,
    key: string = eventType === 'Started'
      ? 'start'
      : `${triggerReason}|${timestamp}|${transactionInfo.chargingState}`,
  ): Json {
    const payload: Json = {
      eventType,
      timestamp,
      triggerReason,
      seqNo: tx.seqNo(key),
      transactionInfo,
    };
    if (Date.parse(timestamp) < this.connectedAtMs) payload.offline = true;
    return payload;
  }
}
