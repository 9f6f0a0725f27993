import { timestampOr } from '../time';
import {
  type CentralEvent,
  type CentralState,
  type OpenTransaction,
  type SessionRecord,
  type StateLog,
  stopFingerprint,
} from './central-state';
import type { StartTransactionRequest, StopTransactionRequest } from './messages';

export interface StartResult {
  transaction: OpenTransaction;
  /** The same StartTransaction seen again (the charger never got the first answer). */
  duplicate: boolean;
  /** A transaction left open on this connector, closed because a new one started there. */
  superseded?: SessionRecord;
}

export interface StopResult {
  /** Undefined when the stop was a repeat of one already recorded. */
  session?: SessionRecord;
  duplicate: boolean;
}

/**
 * Transactions as the central system records them. Ids come from the durable state and are
 * written to the journal before the charger hears them, so they are unique and increasing across
 * restarts. Chargers resend transaction messages whose answer they lost; both directions are
 * recognised and answered the same way again without a second record.
 */
export class TransactionLedger {
  constructor(private readonly log: StateLog<CentralState, CentralEvent>) {}

  open(): OpenTransaction[] {
    return Object.values(this.log.state.openTransactions).sort((a, b) => a.transactionId - b.transactionId);
  }

  get(transactionId: number): OpenTransaction | undefined {
    return this.log.state.openTransactions[String(transactionId)];
  }

  openOn(chargePointId: string, connectorId: number): OpenTransaction | undefined {
    return this.open().find((tx) => tx.chargePointId === chargePointId && tx.connectorId === connectorId);
  }

  /** The open transaction an OCPP 2.0.1 charger names `chargerTransactionId`. */
  ofCharger(chargePointId: string, chargerTransactionId: string): OpenTransaction | undefined {
    for (const tx of Object.values(this.log.state.openTransactions))
      if (tx.chargePointId === chargePointId && tx.chargerTransactionId === chargerTransactionId) return tx;
    return undefined;
  }

  /** Whether an OCPP 2.0.1 charger's transaction `chargerTransactionId` ended lately (it is recorded). */
  endedOfCharger(chargePointId: string, chargerTransactionId: string): boolean {
    const charger = `${chargePointId}|${chargerTransactionId}`;
    return this.log.state.recentStops.some((stop) => stop.charger === charger);
  }

  async start(
    chargePointId: string,
    request: StartTransactionRequest & { chargerTransactionId?: string },
    decision: { idTagStatus: string; priority?: number },
    receivedAt: string,
  ): Promise<StartResult> {
    const existing = this.openOn(chargePointId, request.connectorId);
    if (
      existing &&
      existing.idTag === request.idTag &&
      existing.meterStartWh === request.meterStart &&
      existing.startedAt === timestampOr(request.timestamp, '')
    ) {
      // The first answer may not be durable yet; never repeat an id a crash could take back.
      await this.log.whenDurable();
      return { transaction: existing, duplicate: true };
    }

    let superseded: SessionRecord | undefined;
    if (existing) {
      superseded = {
        ...sessionFields(existing),
        stoppedAt: timestampOr(request.timestamp, receivedAt),
        meterStopWh: request.meterStart,
        stopReason: 'Other',
        anomaly: 'superseded',
      };
      const energyWh = request.meterStart - existing.meterStartWh;
      if (energyWh >= 0) superseded.energyWh = energyWh;
      await this.log.append({
        type: 'transactionStopped',
        session: superseded,
        fingerprint: `superseded|${existing.transactionId}`,
      });
    }

    const transaction: OpenTransaction = {
      transactionId: this.log.state.nextTransactionId,
      chargePointId,
      connectorId: request.connectorId,
      idTag: request.idTag,
      idTagStatus: decision.idTagStatus,
      meterStartWh: request.meterStart,
      startedAt: timestampOr(request.timestamp, receivedAt),
      receivedAt,
    };
    if (request.reservationId !== undefined) transaction.reservationId = request.reservationId;
    if (request.chargerTransactionId !== undefined)
      transaction.chargerTransactionId = request.chargerTransactionId;
    if (decision.priority !== undefined) transaction.priority = decision.priority;
    // append() applies the event synchronously, so concurrent starts never share an id.
    await this.log.append({ type: 'transactionStarted', transaction });
    return superseded ? { transaction, duplicate: false, superseded } : { transaction, duplicate: false };
  }

  async stop(
    chargePointId: string,
    request: StopTransactionRequest,
    receivedAt: string,
  ): Promise<StopResult> {
    const fingerprint = stopFingerprint(chargePointId, request);
    if (this.log.state.recentStops.some((stop) => stop.fingerprint === fingerprint)) {
      await this.log.whenDurable();
      return { duplicate: true };
    }
    const open = this.get(request.transactionId);
    const stoppedAt = timestampOr(request.timestamp, receivedAt);
    let session: SessionRecord;
    if (open && open.chargePointId === chargePointId) {
      session = {
        ...sessionFields(open),
        stoppedAt,
        meterStopWh: request.meterStop,
        stopReason: request.reason ?? 'Local',
      };
      const energyWh = request.meterStop - open.meterStartWh;
      if (energyWh >= 0) session.energyWh = energyWh;
    } else {
      // A StopTransaction cannot be refused (OCPP 1.6 section 4.10); keep what the charger says.
      session = {
        transactionId: request.transactionId,
        chargePointId,
        stoppedAt,
        meterStopWh: request.meterStop,
        stopReason: request.reason ?? 'Local',
        anomaly: 'unknownTransaction',
      };
    }
    if (request.idTag !== undefined) session.stopIdTag = request.idTag;
    await this.log.append({ type: 'transactionStopped', session, fingerprint });
    return { session, duplicate: false };
  }
}

function sessionFields(tx: OpenTransaction) {
  return {
    transactionId: tx.transactionId,
    ...(tx.chargerTransactionId === undefined ? {} : { chargerTransactionId: tx.chargerTransactionId }),
    chargePointId: tx.chargePointId,
    connectorId: tx.connectorId,
    idTag: tx.idTag,
    startedAt: tx.startedAt,
    meterStartWh: tx.meterStartWh,
  };
}
