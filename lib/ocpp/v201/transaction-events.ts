import type { StartTransactionResponse, StopTransactionResponse } from '../messages';
import { EvseStatus } from './evse-status';
import { type IdTagInfo16, idTagInfoOf, idTokenInfo } from './id-tokens';
import { energyRegisterWh, type MeterValue201, meterValuesTo16 } from './meter-values';
import type { SharedPath, Translation201 } from './shared-path';

interface IdToken201 {
  idToken: string;
  type: string;
}

export interface TransactionEventRequest {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string };
  evse?: { id: number; connectorId?: number };
  idToken?: IdToken201;
  meterValue?: MeterValue201[];
}

/** A transaction of the charger's, as the translation follows it. */
interface Followed {
  evseId: number;
  /** The ledger's id once the shared path started it (after the first idToken). */
  ledgerId?: number;
  /** The seqNo the next event should carry. */
  nextSeqNo: number;
  /** The newest energy register seen, for a stop that carries none. */
  energyWh?: number;
  startedAt: string;
}

/** OCPP 2.0.1 stoppedReason → the 1.6 reason the session record keeps (1.6 section 7.42). */
const STOP_REASONS: Record<string, string> = {
  DeAuthorized: 'DeAuthorized',
  EmergencyStop: 'EmergencyStop',
  EVDisconnected: 'EVDisconnected',
  ImmediateReset: 'HardReset',
  Local: 'Local',
  MasterPass: 'Local',
  PowerLoss: 'PowerLoss',
  Reboot: 'Reboot',
  Remote: 'Remote',
  StoppedByEV: 'EVDisconnected',
};

/**
 * OCPP 2.0.1 transactions in the shared model. The charger names its transactions (a string),
 * reports them in TransactionEvents numbered by seqNo, and may start one before anybody presented
 * a badge (on the cable). The shared model records a transaction from its authorization on: the
 * first event that carries an idToken starts it in the ledger (with the charger's id kept beside
 * the ledger's, durably, so events after a restart find it), its meter values are readings of the
 * EVSE, its end is the session record. Events that come out of order or with a gap in seqNo (a
 * queue the charger lost part of) are reported, never dropped.
 */
export class TransactionEvents {
  private readonly followed = new Map<string, Followed>();
  readonly evses = new Map<number, EvseStatus>();

  constructor(private readonly shared: SharedPath) {}

  evse(evseId: number): EvseStatus {
    let status = this.evses.get(evseId);
    if (!status) {
      status = new EvseStatus();
      this.evses.set(evseId, status);
    }
    return status;
  }

  /**
   * Records an event and answers it: the shared calls it becomes (StartTransaction, Authorize,
   * MeterValues, StopTransaction, StatusNotification), each yielded and its answer awaited by the
   * one who drives the translation (ChargerCalls). `decided`: the operator's backend's answer (its
   * idTokenInfo is what the transaction's start or authorization records, instead of ampflow's own decision).
   */
  *answer(
    request: TransactionEventRequest,
    decided?: Record<string, unknown>,
  ): Translation201<Record<string, unknown>> {
    const byBackend = decided?.idTokenInfo
      ? { idTagInfo: idTagInfoOf(decided.idTokenInfo as Record<string, unknown>) }
      : undefined;
    const { transactionId } = request.transactionInfo;
    if (!this.followed.has(transactionId)) {
      const ended = this.shared.ended(transactionId);
      if (ended) {
        // A transaction that ended and is recorded: the charger did not get our answer and sends an
        // event of it again (as a 1.6 charger repeats a StopTransaction). Answered, recorded once;
        // an Ended with other figures goes to the ledger, which keeps it as an anomaly.
        if (request.eventType === 'Ended') {
          const energyWh = energyRegisterWh(request.meterValue);
          const meterStop = energyWh ?? ended.meterStop;
          if (meterStop !== undefined && ended.timestamp !== undefined)
            yield {
              action: 'StopTransaction',
              request: this.stopOf(request, ended.transactionId, meterStop),
            };
        }
        return {};
      }
      if (request.eventType === 'Ended' && !this.shared.transactionOf(transactionId)) {
        // The end of a transaction neither followed nor in the ledger (another station's id, or
        // one never started here): the ledger keeps it as an anomaly, never starts it to end it.
        // Ledger ids start at 1: 0 names none.
        this.shared.report(
          `TransactionEvent Ended (seqNo ${request.seqNo}) of transaction ${transactionId}, which is not open here`,
        );
        yield {
          action: 'StopTransaction',
          request: this.stopOf(request, 0, energyRegisterWh(request.meterValue) ?? 0),
        };
        return {};
      }
    }
    const tx = this.follow(request);
    this.checkSequence(tx, request);
    const energyWh = energyRegisterWh(request.meterValue);
    let idTagInfo: IdTagInfo16 | undefined;

    if (tx.ledgerId === undefined && (request.idToken || request.eventType === 'Ended')) {
      // Authorized now (or ended without ever being): the shared model's transaction starts here.
      const started = (yield {
        action: 'StartTransaction',
        request: {
          connectorId: tx.evseId,
          idTag: request.idToken?.idToken ?? '',
          meterStart: tx.energyWh ?? energyWh ?? 0,
          timestamp: tx.startedAt,
          chargerTransactionId: transactionId,
        },
        decided: byBackend,
      }) as StartTransactionResponse;
      tx.ledgerId = started.transactionId;
      if (request.idToken) idTagInfo = started.idTagInfo;
    } else if (request.idToken && request.eventType !== 'Ended') {
      idTagInfo = (
        (yield { action: 'Authorize', request: { idTag: request.idToken.idToken }, decided: byBackend }) as {
          idTagInfo: IdTagInfo16;
        }
      ).idTagInfo;
    }
    if (energyWh !== undefined) tx.energyWh = energyWh;

    const ended = request.eventType === 'Ended';
    const evse = this.evse(tx.evseId);
    evse.transaction(!ended, request.transactionInfo.chargingState);
    if (!ended) {
      if (request.meterValue?.length && tx.ledgerId !== undefined)
        yield {
          action: 'MeterValues',
          request: {
            connectorId: tx.evseId,
            transactionId: tx.ledgerId,
            meterValue: meterValuesTo16(request.meterValue),
          },
        };
      yield* this.reportStatus(tx.evseId, request.timestamp);
    } else {
      // No register seen at all (the events before a restart of ampflow had them): the session's
      // start figure, so the true stop is recorded with no energy claimed rather than refused.
      const meterStop = tx.energyWh ?? this.shared.transactionOf(transactionId)?.meterStartWh ?? 0;
      const stop = this.stopOf(request, tx.ledgerId, meterStop);
      const stopped = (yield { action: 'StopTransaction', request: stop }) as StopTransactionResponse;
      if (request.idToken) idTagInfo = stopped.idTagInfo;
      this.followed.delete(transactionId);
      this.shared.carNeeds(tx.evseId, undefined);
      yield* this.reportStatus(tx.evseId, request.timestamp);
    }
    return idTagInfo ? { idTokenInfo: idTokenInfo(idTagInfo) } : {};
  }

  /** An Ended in the shared (1.6) StopTransaction's shape, with the charger's own transaction id. */
  private stopOf(
    request: TransactionEventRequest,
    ledgerId: number | undefined,
    meterStop: number,
  ): Record<string, unknown> {
    const stop: Record<string, unknown> = {
      transactionId: ledgerId,
      chargerTransactionId: request.transactionInfo.transactionId,
      meterStop,
      timestamp: request.timestamp,
      reason: STOP_REASONS[request.transactionInfo.stoppedReason ?? 'Local'] ?? 'Other',
    };
    if (request.idToken) stop.idTag = request.idToken.idToken;
    if (request.meterValue?.length) stop.transactionData = meterValuesTo16(request.meterValue);
    return stop;
  }

  /** The transaction an event is about: followed already, found in the ledger (a restart), or new. */
  private follow(request: TransactionEventRequest): Followed {
    const { transactionId } = request.transactionInfo;
    let tx = this.followed.get(transactionId);
    if (tx) {
      if (request.evse) tx.evseId = request.evse.id;
      return tx;
    }
    const known = this.shared.transactionOf(transactionId);
    tx = {
      evseId: request.evse?.id ?? known?.connectorId ?? 1,
      nextSeqNo: request.seqNo,
      startedAt: known?.startedAt ?? request.timestamp,
    };
    if (known) tx.ledgerId = known.transactionId;
    if (!known && request.eventType !== 'Started')
      this.shared.report(
        `TransactionEvent ${request.eventType} (seqNo ${request.seqNo}) of transaction ${transactionId}, whose start was never received`,
      );
    this.followed.set(transactionId, tx);
    return tx;
  }

  private checkSequence(tx: Followed, request: TransactionEventRequest): void {
    if (request.seqNo > tx.nextSeqNo) {
      const missing = request.seqNo - tx.nextSeqNo;
      this.shared.report(
        `transaction ${request.transactionInfo.transactionId}: ${missing} TransactionEvent${missing === 1 ? '' : 's'} missing before seqNo ${request.seqNo}${request.offline ? ' (sent from its offline queue)' : ''}`,
      );
    }
    tx.nextSeqNo = Math.max(tx.nextSeqNo, request.seqNo + 1);
  }

  /**
   * Tells the shared model the EVSE's status where it changed, or (`always`: the charger reported a
   * status, which the flows hear of as under 1.6) in any case.
   */
  *reportStatus(evseId: number, timestamp: string, always = false): Translation201<void> {
    const { status, changed } = this.evse(evseId).take();
    if (!changed && !always) return;
    yield {
      action: 'StatusNotification',
      request: {
        connectorId: evseId,
        status,
        errorCode: status === 'Faulted' ? 'OtherError' : 'NoError',
        timestamp,
      },
    };
  }
}
