import { timestampOr } from '../time';
import {
  type CentralEvent,
  type CentralState,
  type OpenTransaction,
  type SessionRecord,
  type StateLog,
  type StopAnomaly,
  stopFingerprint,
} from './central-state';
import type { StartTransactionRequest, StopTransactionRequest } from './messages';
import { judgeStop, type StopVerdict, stopAnomaly } from './stop-anomalies';

export interface StartResult {
  transaction: OpenTransaction;
  /** The same StartTransaction seen again (the charger never got the first answer). */
  duplicate: boolean;
  /** A transaction left open on this connector, closed because a new one started there. */
  superseded?: SessionRecord;
}

/** An OCPP 2.0.1 charger's transaction that ended, as recorded. */
export interface EndedStop {
  transactionId: number;
  meterStop?: number;
  timestamp?: string;
}

export interface StopResult {
  /** Undefined when the stop was a repeat of one already recorded, or refused as a record. */
  session?: SessionRecord;
  duplicate: boolean;
  /** The stop is no record (stop-anomalies.ts): journalled as this anomaly instead. */
  refused?: StopAnomaly;
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
    request: StopTransactionRequest & { chargerTransactionId?: string },
    receivedAt: string,
  ): Promise<StopResult> {
    const fingerprint = stopFingerprint(chargePointId, request);
    const verdict = this.judge(chargePointId, request, receivedAt);
    if (verdict.kind === 'repeat') {
      // The charger lost our answer and sends the same stop again (OCPP-J retries): answered as the
      // first, recorded once, whether the first was a record or refused.
      await this.log.whenDurable();
      return { duplicate: true };
    }
    if (verdict.kind === 'anomaly') {
      // A StopTransaction cannot be refused (OCPP 1.6 section 4.10): the charger is answered, and
      // what it said is kept, but as an anomaly, not as a charge data record.
      const anomaly = stopAnomaly(chargePointId, request, receivedAt, verdict);
      await this.log.append({ type: 'stopRefused', anomaly, fingerprint });
      return { duplicate: false, refused: anomaly };
    }
    const { open } = verdict;
    const session: SessionRecord = {
      ...sessionFields(open),
      stoppedAt: timestampOr(request.timestamp, receivedAt),
      meterStopWh: request.meterStop,
      energyWh: request.meterStop - open.meterStartWh,
      stopReason: request.reason ?? 'Local',
    };
    if (request.idTag !== undefined) session.stopIdTag = request.idTag;
    await this.log.append({ type: 'transactionStopped', session, fingerprint });
    return { session, duplicate: false };
  }

  /**
   * What a stop would be, without recording it: the same stop again (`refused` when the first was
   * kept as an anomaly), the record of an open transaction, or an anomaly (stop-anomalies.ts).
   */
  judge(
    chargePointId: string,
    request: StopTransactionRequest & { chargerTransactionId?: string },
    receivedAt: string,
  ): StopVerdict | { kind: 'repeat'; refused: boolean } {
    const fingerprint = stopFingerprint(chargePointId, request);
    const seen = this.log.state.recentStops.find((stop) => stop.fingerprint === fingerprint);
    if (seen) return { kind: 'repeat', refused: seen.refused === true };
    return judgeStop(this.log.state, chargePointId, request, receivedAt);
  }

  /**
   * Whether a stop is sure to end a transaction as a record (or to be the repeat of one that did).
   * An OCPP 2.0.1 Ended is named by the charger's own id (`transactionId` undefined) and may carry
   * no meter value: one the ledger has neither open nor ended for this charger is not sure (false;
   * the translation judges it when it runs: a Started without an id token may have begun it), one
   * open without a meter value is (the translation takes the last register it saw).
   */
  isTrueStop(
    chargePointId: string,
    stop: { transactionId?: number; chargerTransactionId?: string; meterStop?: number; timestamp: string },
    receivedAt: string,
  ): boolean {
    let { transactionId, meterStop } = stop;
    if (transactionId === undefined && stop.chargerTransactionId !== undefined) {
      const open = this.ofCharger(chargePointId, stop.chargerTransactionId);
      const ended = open ? undefined : this.endedOfCharger(chargePointId, stop.chargerTransactionId);
      transactionId = open?.transactionId ?? ended?.transactionId;
      meterStop ??= ended?.meterStop;
    }
    if (transactionId === undefined) return false;
    if (meterStop === undefined) return true;
    const verdict = this.judge(
      chargePointId,
      { ...stop, transactionId, meterStop, timestamp: stop.timestamp },
      receivedAt,
    );
    return verdict.kind === 'stop' || (verdict.kind === 'repeat' && !verdict.refused);
  }

  /** Stops refused as records: how many ever, and the latest, oldest first. */
  anomalies(): { count: number; recent: StopAnomaly[] } {
    const kept = this.log.state.stopAnomalies;
    return { count: kept?.count ?? 0, recent: [...(kept?.recent ?? [])] };
  }

  /**
   * The recorded stop of an OCPP 2.0.1 charger's transaction that ended lately: its ledger id and,
   * from the fingerprint, its figures, so that the same Ended again is told from other figures.
   */
  endedOfCharger(chargePointId: string, chargerTransactionId: string): EndedStop | undefined {
    const charger = `${chargePointId}|${chargerTransactionId}`;
    const stop = this.log.state.recentStops.find((entry) => entry.charger === charger);
    if (!stop) return undefined;
    try {
      const [, , meterStop, timestamp] = JSON.parse(stop.fingerprint) as [string, number, number, string];
      return { transactionId: stop.transactionId, meterStop, timestamp };
    } catch {
      // A superseded transaction's fingerprint names no figures.
      return { transactionId: stop.transactionId };
    }
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
