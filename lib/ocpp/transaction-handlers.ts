import type { ConnectorState, Reading } from '../contracts';
import type { Authorizer } from './authorization';
import type { ChargePointConnection } from './connection';
import type { Decided, HandlerParts } from './handlers-host';
import type { IdTagInfo } from './id-tags';
import type { OcppRequest } from './messages';
import { readMeterValues } from './meter-values';
import type { TransactionLedger } from './transactions';

/**
 * A charger's StartTransaction and StopTransaction, answered and recorded in the ledger and on the
 * connector, and a transaction a charger names again after a restart bound back to its connector.
 * The charge point handlers (handlers.ts) hand these over; `say` logs as they do.
 */
export class TransactionHandlers {
  constructor(
    private readonly cs: HandlerParts,
    private readonly ledger: TransactionLedger,
    private readonly authorizer: Authorizer,
    private readonly say: {
      /** A badge not accepted: a warn line naming badge and charger. */
      warnRefused(chargePointId: string, idTag: string, status: string, action: string): void;
      /** Meter-value warnings, each logged once per charger. */
      logWarnings(chargePointId: string, warnings: string[]): void;
    },
  ) {}

  async start(
    connection: ChargePointConnection,
    request: OcppRequest<'StartTransaction'>,
    receivedAt: string,
    decided: Decided | undefined,
  ) {
    const chargePointId = connection.identity;
    const decision: { idTagInfo: IdTagInfo; priority?: number } = decided?.idTagInfo
      ? { idTagInfo: decided.idTagInfo }
      : await this.authorizer.authorizeStart(chargePointId, request.connectorId, request.idTag);
    this.say.warnRefused(chargePointId, request.idTag, decision.idTagInfo.status, 'StartTransaction');
    const result = await this.ledger.start(
      chargePointId,
      request,
      decision.priority === undefined
        ? { idTagStatus: decision.idTagInfo.status }
        : { idTagStatus: decision.idTagInfo.status, priority: decision.priority },
      receivedAt,
    );
    if (result.superseded) {
      this.cs.log.warn(
        `charge point ${chargePointId} started a transaction on connector ${request.connectorId} while transaction ${result.superseded.transactionId} was open there; that one is closed as superseded`,
      );
      this.cs.charges.connectors.unbindTransaction(
        chargePointId,
        request.connectorId,
        result.superseded.transactionId,
      );
      this.cs.events.emit('session', result.superseded);
    }
    const tx = result.transaction;
    // From here the load manager and the flows may name the transaction: not to the charger before
    // it has this answer.
    connection.holdCommandsUntilStartAnswered();
    const state = this.cs.charges.connectors.bindTransaction(chargePointId, tx.connectorId, {
      transactionId: tx.transactionId,
      idTag: tx.idTag,
      startedAt: tx.startedAt,
      meterStartWh: tx.meterStartWh,
      ...(tx.priority === undefined ? {} : { priority: tx.priority }),
    });
    this.cs.port.changed(state);
    return {
      response: { transactionId: tx.transactionId, idTagInfo: decision.idTagInfo },
      payload: { ...tx, idTagInfo: decision.idTagInfo, ...(result.duplicate ? { duplicate: true } : {}) },
    };
  }

  async stop(
    chargePointId: string,
    request: OcppRequest<'StopTransaction'> & { chargerTransactionId?: string },
    receivedAt: string,
    decided: Decided | undefined,
  ) {
    let readings: Reading[] = [];
    if (request.transactionData) {
      const connector = this.cs.charges.connectors.findTransaction(request.transactionId);
      const source = `${chargePointId}/${connector?.connectorId ?? this.ledger.get(request.transactionId)?.connectorId ?? 0}`;
      const parsed = readMeterValues(request.transactionData, { source, receivedAt });
      this.say.logWarnings(chargePointId, parsed.warnings);
      readings = parsed.readings;
    }
    const result = await this.ledger.stop(chargePointId, request, receivedAt);
    if (result.refused)
      this.cs.log.warn(
        `charge point ${chargePointId}: StopTransaction of transaction ${request.transactionId} (meterStop ${request.meterStop} Wh, ${request.timestamp}) kept as an anomaly, not a charge data record: ${result.refused.detail}`,
      );
    let state: ConnectorState | undefined;
    if (result.session?.connectorId !== undefined) {
      if (readings.length > 0)
        this.cs.charges.connectors.applyReadings(
          chargePointId,
          result.session.connectorId,
          readings,
          receivedAt,
        );
      state = this.cs.charges.connectors.unbindTransaction(
        chargePointId,
        result.session.connectorId,
        request.transactionId,
        { reason: result.session.stopReason, at: result.session.stoppedAt },
      );
    }
    if (state) this.cs.port.changed(state);
    if (result.session) this.cs.events.emit('session', result.session);
    const response =
      decided ??
      (request.idTag === undefined
        ? {}
        : { idTagInfo: await this.authorizer.stopIdTagInfo(chargePointId, request.idTag) });
    // A refused stop reaches the flows without the session's figures: nothing there to bill.
    const payload = result.session
      ? { ...result.session, readings }
      : result.refused
        ? { chargePointId, transactionId: request.transactionId, anomaly: result.refused }
        : { chargePointId, transactionId: request.transactionId, duplicate: true };
    return { response, payload };
  }

  /** A charger that reports a transaction the connector does not show (after a restart) gets it back. */
  rebind(chargePointId: string, connectorId: number, transactionId: number): void {
    const state = this.cs.charges.connectors.find(chargePointId, connectorId);
    if (state?.transaction?.transactionId === transactionId) return;
    const tx = this.ledger.get(transactionId);
    if (!tx || tx.chargePointId !== chargePointId) return;
    this.cs.charges.connectors.bindTransaction(chargePointId, connectorId, {
      transactionId: tx.transactionId,
      idTag: tx.idTag,
      startedAt: tx.startedAt,
      meterStartWh: tx.meterStartWh,
      ...(tx.priority === undefined ? {} : { priority: tx.priority }),
    });
  }
}
