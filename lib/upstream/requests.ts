import type { ChargePointAction } from '../ocpp/actions';
import type { MaybePromise } from '../ocpp/central-types';
import type { StopTransactionRequest } from '../ocpp/messages';
import type { Charger } from './charger';
import { endsTransaction } from './forwarding';
import type { Queued } from './queue';
import { RequestSteps } from './request-steps';
import { DECIDED_ACTIONS, type DecidedAction } from './settings';

/**
 * An OCPP 1.6 charger's CALLs on their way past the proxy (lib/upstream), in the shared shapes
 * with ampflow's transaction ids: the backend's ids map to them (tx-ids.ts).
 */
export class ChargerRequests extends RequestSteps {
  /** A 1.6 charger's CALL (the central system's interposition). */
  async fromCharger(
    identity: string,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const { backend } = this.host;
    const charger = this.host.charger(identity);
    if (action === 'StopTransaction') {
      // A stop ampflow keeps as an anomaly (another charger's transaction, a second stop with other
      // figures, one never started through ampflow, an impossible meter value; lib/ocpp/
      // stop-anomalies.ts) is answered and journalled by ampflow alone: the backend is not told of
      // it, so its billing cannot take it for the true stop. Every transaction the backend gave an
      // id to through ampflow is mapped (tx-ids.ts), so an id ampflow does not know was never the
      // backend's through it; a stop queued from before ampflow stood between is in the anomalies.
      const forLocal = this.toLedger(charger, request as Record<string, unknown>);
      if (!this.host.cs.isTrueStop(identity, forLocal as unknown as StopTransactionRequest))
        return local(forLocal);
    }
    const connectorId = Number((request as { connectorId?: unknown }).connectorId);
    if (action === 'StartTransaction') backend.transactionStarting(charger, connectorId);
    let answer: unknown;
    try {
      answer = await this.answerOrDecide(charger, action, request as Record<string, unknown>, local);
    } finally {
      if (action === 'BootNotification') charger.booting = false;
    }
    if (action === 'StopTransaction')
      charger.operator.endTransaction(Number((request as { transactionId?: unknown }).transactionId));
    if (
      action === 'StartTransaction' &&
      (answer as { idTagInfo?: { status?: string } }).idTagInfo?.status === 'Accepted'
    )
      backend.transactionStarted(charger, connectorId);
    // A transaction starts or ends: TxProfiles and Relative schedules of the backend change with it.
    if (action === 'StartTransaction' || action === 'StopTransaction') backend.applyOperator(charger);
    return answer;
  }

  private async answerOrDecide(
    charger: Charger,
    action: ChargePointAction,
    sent: Record<string, unknown>,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const forLocal = this.toLedger(charger, sent);
    this.noteBoot(charger, action, sent);
    const decided = (DECIDED_ACTIONS as readonly string[]).includes(action)
      ? this.decider(action as DecidedAction, typeof sent.idTag === 'string' ? sent.idTag : undefined)
      : undefined;
    let item: Queued | undefined;
    if (decided === 'upstream') {
      const decision = await this.decide(charger, action, sent);
      if (decision.answer) return this.recordDecided(charger, action, sent, forLocal, decision.answer, local);
      item = decision.item;
    }
    const answer = (await local(forLocal)) as Record<string, unknown>;
    // A transaction's meter values (OCPP 1.6 §4.7: the charger keeps them until they are answered)
    // are answered once the backend has them, or once written if it has not taken them within
    // METER_VALUES_ACK_MS: a present backend costs no write per meter value (a site's SD card), a
    // hung or slow one never holds the charger longer than that and a write.
    if (action === 'MeterValues' && typeof sent.transactionId === 'number') {
      const quick = await this.quickly(charger, action, sent);
      if (quick === 'taken') return answer;
      item = quick;
    }
    // A StartTransaction ampflow answered is queued with ampflow's id: the charger uses it, and
    // the upstream's id maps to it once the upstream has the start.
    let forQueue = sent;
    if (action === 'StartTransaction' && typeof answer.transactionId === 'number') {
      charger.ids.add({ chargerId: answer.transactionId, ledgerId: answer.transactionId });
      forQueue = { ...sent, transactionId: answer.transactionId };
    }
    if (action === 'StopTransaction') charger.ids.end(Number(sent.transactionId));
    // The ids first: a start written without its ids would come back after a crash unmapped.
    const ids = endsTransaction(action, sent) ? this.host.keep(charger) : undefined;
    await this.queueAnswered(charger, action, forQueue, item, ids);
    return answer;
  }

  /** Records in ampflow what the upstream decided and gives the charger the upstream's answer. */
  private async recordDecided(
    charger: Charger,
    action: ChargePointAction,
    sent: Record<string, unknown>,
    forLocal: Record<string, unknown>,
    answer: Record<string, unknown>,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const own = (await local(forLocal, answer)) as Record<string, unknown>;
    if (action === 'StartTransaction') {
      const upstreamId = answer.transactionId as number;
      charger.ids.add({ chargerId: upstreamId, ledgerId: own.transactionId as number, upstreamId });
      await this.host.keep(charger);
      return answer;
    }
    if (action === 'StopTransaction') {
      charger.ids.end(Number(sent.transactionId));
      await this.host.keep(charger);
    }
    if (action === 'BootNotification') return this.bootDecided(charger, sent, own, answer);
    return answer;
  }

  /** A charger request as ampflow's own handling must see it: its transaction by the ledger's id. */
  private toLedger(charger: Charger, sent: Record<string, unknown>): Record<string, unknown> {
    if (typeof sent.transactionId !== 'number') return sent;
    const ledgerId = charger.ids.toLedger(sent.transactionId);
    return ledgerId === sent.transactionId ? sent : { ...sent, transactionId: ledgerId };
  }
}
