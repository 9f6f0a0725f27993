import type { CentralSystem } from '../../ocpp/central-system';
import type { MaybePromise } from '../../ocpp/central-types';
import { energyRegisterWh, type MeterValue201 } from '../../ocpp/v201/meter-values';
import type { Charger } from '../charger';
import { endsTransaction } from '../forwarding';
import type { Queued } from '../queue';
import { RequestSteps } from '../request-steps';
import type { DecidedAction } from '../settings';

type Payload = Record<string, unknown>;

/** The 2.0.1 requests whose answer the settings give to the backend or to ampflow, by their 1.6 name. */
const DECIDED_AS: Readonly<Record<string, DecidedAction>> = {
  BootNotification: 'BootNotification',
  Authorize: 'Authorize',
  DataTransfer: 'DataTransfer',
};

/** Requests only the backend can answer (its certificates, Plug & Charge): ampflow only when it is away. */
const BACKEND_ONLY = new Set(['SignCertificate', 'Get15118EVCertificate', 'GetCertificateStatus']);

/**
 * An OCPP 2.0.1 charger's CALLs on their way past the proxy, as they came: the charger names its
 * transactions itself (TransactionEvent's transactionId), so they go up as they are, with the same
 * guarantees as a 1.6 charger's (ChargerRequests): what the backend decides waits for it, a
 * transaction's start and end are written before the charger has its answer and go up exactly
 * once, in order, also after a restart of ampflow.
 *
 * What the backend decides: the boot, Authorize and DataTransfer as the settings say; a
 * TransactionEvent with an idToken (its idTokenInfo) as the settings say of StartTransaction (of
 * StopTransaction for Ended); the certificate requests always, while it is reachable.
 */
export class Requests201 extends RequestSteps {
  async fromCharger(
    identity: string,
    action: string,
    request: Payload,
    local: (decided?: Payload) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const charger = this.host.charger(identity);
    // A new link tells the backend each connector's status as the charger last said it.
    if (action === 'StatusNotification') {
      charger.statuses201 ??= new Map();
      charger.statuses201.set(`${String(request.evseId)}/${String(request.connectorId)}`, request);
    }
    const { backend, cs } = this.host;
    const evseId = (request.evse as { id?: number } | undefined)?.id;
    const started = action === 'TransactionEvent' && request.eventType === 'Started';
    const txId = (request.transactionInfo as { transactionId?: string } | undefined)?.transactionId;
    // The ledger's id of a transaction that ends (its TxProfiles of the backend's go with it).
    const ending =
      action === 'TransactionEvent' && request.eventType === 'Ended'
        ? cs
            .openTransactions()
            .find((tx) => tx.chargePointId === identity && tx.chargerTransactionId === txId)
        : undefined;
    if (started && evseId !== undefined) backend.transactionStarting(charger, evseId);
    let answer: unknown;
    try {
      answer = await this.answerOrDecide(charger, action, request, local);
    } finally {
      if (action === 'BootNotification') charger.booting = false;
    }
    if (ending && !refusedEnded(cs, identity, request)) charger.operator.endTransaction(ending.transactionId);
    const status = (answer as { idTokenInfo?: { status?: string } }).idTokenInfo?.status;
    if (started && evseId !== undefined && (status === undefined || status === 'Accepted'))
      backend.transactionStarted(charger, evseId);
    // A transaction starts or ends: TxProfiles and Relative schedules of the backend change with it.
    if (action === 'TransactionEvent' && endsTransaction(action, request)) backend.applyOperator(charger);
    return answer;
  }

  private async answerOrDecide(
    charger: Charger,
    action: string,
    sent: Payload,
    local: (decided?: Payload) => MaybePromise<unknown>,
  ): Promise<unknown> {
    this.noteBoot(charger, action, sent);
    let item: Queued | undefined;
    // An Ended with an idToken goes to the backend to decide only when the ledger is sure it ends a
    // transaction as a record (requests.ts says why junk must not reach it). Any other ampflow
    // answers first; the translation then judges it (only it knows whether a Started without an
    // idToken began an unknown one) and, if it is a true stop after all, it is queued for the
    // backend like any request ampflow answered; if not, it is kept from the queue (below).
    if (this.deciderOf(action, sent) === 'upstream' && !unsureEnded(this.host.cs, charger.identity, sent)) {
      const decision = await this.decide(charger, action, sent);
      if (decision.answer) {
        const own = (await local(decision.answer)) as Payload;
        return action === 'BootNotification'
          ? this.bootDecided(charger, sent, own, decision.answer)
          : decision.answer;
      }
      item = decision.item;
    }
    const answer = await local();
    // An Ended ampflow kept as an anomaly (requests.ts says why) is not the backend's to bill from.
    if (action === 'TransactionEvent' && refusedEnded(this.host.cs, charger.identity, sent)) return answer;
    // A transaction's Updated event (its meter values) is answered once the backend has it or once
    // written, as 1.6's transaction meter values are.
    if (action === 'TransactionEvent' && item === undefined && !endsTransaction(action, sent)) {
      const quick = await this.quickly(charger, action, sent);
      if (quick === 'taken') return answer;
      item = quick;
    }
    await this.queueAnswered(charger, action, sent, item);
    return answer;
  }

  /** Who decides this request: undefined where nobody needs to (a status, a meter value). */
  private deciderOf(action: string, sent: Payload): 'upstream' | 'local' | undefined {
    const token = (sent.idToken as { idToken?: unknown } | undefined)?.idToken;
    const idToken = typeof token === 'string' ? token : undefined;
    if (BACKEND_ONLY.has(action)) return 'upstream';
    const setting = DECIDED_AS[action];
    if (setting) return this.decider(setting, idToken);
    if (action === 'TransactionEvent' && idToken !== undefined)
      return this.decider(sent.eventType === 'Ended' ? 'StopTransaction' : 'StartTransaction', idToken);
    return undefined;
  }
}

/**
 * Whether ampflow kept this TransactionEvent Ended as an anomaly, not a charge data record (its
 * translation ran: lib/ocpp/v201/transaction-events.ts), or as the repeat of one it kept so.
 */
function refusedEnded(cs: CentralSystem, identity: string, sent: Payload): boolean {
  if (sent.eventType !== 'Ended') return false;
  const txId = (sent.transactionInfo as { transactionId?: string } | undefined)?.transactionId;
  return cs
    .stopAnomalies()
    .recent.some(
      (anomaly) =>
        anomaly.chargePointId === identity &&
        anomaly.received.chargerTransactionId === txId &&
        anomaly.received.timestamp === sent.timestamp,
    );
}

/** An Ended the ledger is not sure is a true stop (lib/ocpp/stop-anomalies.ts judges them). */
function unsureEnded(cs: CentralSystem, identity: string, sent: Payload): boolean {
  if (sent.eventType !== 'Ended' || typeof sent.timestamp !== 'string') return false;
  const txId = (sent.transactionInfo as { transactionId?: string } | undefined)?.transactionId;
  const meterStop = energyRegisterWh(sent.meterValue as MeterValue201[] | undefined);
  return !cs.isTrueStop(identity, {
    chargerTransactionId: txId ?? '',
    timestamp: sent.timestamp,
    ...(meterStop === undefined ? {} : { meterStop }),
  });
}
