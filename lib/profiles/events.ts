import type {
  ChargePointEvents,
  ChargePointMessage,
  ConnectorState,
  MeterValuesPayload,
  SessionRecord,
} from '../contracts';
import type { SetPointAnswers } from './answers';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import type { LimitFailures } from './limit-failures';
import type { OfflineFallback } from './offline-fallback';
import { DEFAULTS } from './options';
import { forgetTxRefusals, TX_END_EXPLAINS_MS } from './plan';
import type { ChargerRegistry } from './registry';
import type { RemoteStarts } from './remote-start';
import type { Resender } from './resend';
import type { Sampling } from './sampling';
import type { Scheduler } from './scheduler';
import type { ChargerEntry, ConnectorEntry } from './state';
import type { BootInfo } from './strategies';
import type { Verifier } from './verifier';

/** The parts of the profile manager the central system's events reach. */
export interface EventParts {
  limits: ConnectorLimits;
  registry: ChargerRegistry;
  learning: Learning;
  answers: SetPointAnswers;
  scheduler: Scheduler;
  resender: Resender;
  remoteStarts: RemoteStarts;
  verifier: Verifier;
  fallback: OfflineFallback;
  failures: LimitFailures;
  sampling: Sampling;
}

/**
 * What the central system tells the profile manager: a charger connected, disconnected or booted
 * (limits go again), a transaction started or a session ended, meter values, and commands anyone
 * sent (a configuration read). Only chargers the manager has had a set-point for count.
 */
export class CentralSystemEvents {
  private readonly detachers: (() => void)[] = [];

  constructor(
    private readonly ctx: ProfileContext,
    private readonly parts: EventParts,
  ) {}

  /** Starts listening to the central system. */
  attach(): void {
    this.listen('connect', ({ chargePointId }: { chargePointId: string }) => this.onConnect(chargePointId));
    this.listen('disconnect', ({ chargePointId }: { chargePointId: string }) =>
      this.onDisconnect(chargePointId),
    );
    this.listen('message', (message: ChargePointMessage) => this.onMessage(message));
    this.listen('session', (session: SessionRecord) => this.onSessionEnded(session));
    this.detachers.push(this.ctx.cs.onConnectorState((state) => this.onConnector(state)));
    this.listen(
      'command',
      (event: { chargePointId: string; action: string; request: unknown; response?: unknown }) =>
        this.onCommand(event),
    );
  }

  /** Stops listening. */
  detach(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  private onConnect(chargePointId: string): void {
    const charger = this.parts.registry.get(chargePointId);
    if (!charger) return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    charger.retry.reset();
    // A charger that reconnects may have lost its profiles; one that boots right after is handled by onBoot.
    charger.settleTimer = this.ctx.clock.setTimeout(() => {
      charger.settleTimer = undefined;
      this.parts.resender.resendAll(charger);
      // Asked again only if it booted since (its facts say for which boot it was asked).
      this.parts.sampling.connected(charger);
    }, this.ctx.options.reconnectSettleMs ?? DEFAULTS.reconnectSettleMs);
  }

  private onDisconnect(chargePointId: string): void {
    const charger = this.parts.registry.get(chargePointId);
    if (!charger) return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    charger.settleTimer = undefined;
    charger.retry.cancel();
    // Its profiles end on their own now: that is what the offline fallback is for.
    this.parts.fallback.stop(charger);
    // Offline now, not refusing: the load manager's offline rules count from here.
    this.parts.failures.withdraw(charger);
    for (const connector of charger.connectors.values()) {
      this.ctx.clock.clearTimeout(connector.holdTimer);
      connector.holdTimer = undefined;
      this.parts.answers.settle(
        charger,
        connector,
        'deferred',
        `charge point ${chargePointId} disconnected; it gets the limit when it connects`,
      );
    }
  }

  private onMessage(message: ChargePointMessage): void {
    if (message.action === 'BootNotification') this.onBoot(message);
    else if (message.action === 'StartTransaction') this.onStartAnswered(message);
    else if (message.action === 'MeterValues') {
      this.parts.verifier.meterValues(message.payload as MeterValuesPayload);
      // A reading may show a decrease followed: the interval is looked at again (fast-sampling.ts).
      const charger = this.parts.registry.get(message.chargePointId);
      if (charger?.sampleRate) this.parts.sampling.kick(charger);
    }
  }

  /** A rebooted charger may have lost its profiles and changed firmware: learn it again and re-send. */
  private onBoot(message: ChargePointMessage): void {
    const charger = this.parts.registry.get(message.chargePointId);
    const payload = message.payload as { registration?: string } & BootInfo;
    if (!charger || payload.registration !== 'Accepted') return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    this.parts.learning.booted(charger, payload);
    this.parts.fallback.booted(charger);
    this.parts.sampling.booted(charger);
    // After the boot has been answered (a charger need not take calls before): a timer, not at once.
    charger.settleTimer = this.ctx.clock.setTimeout(() => {
      charger.settleTimer = undefined;
      this.parts.resender.resendAll(charger);
      this.parts.sampling.kick(charger);
    }, 0);
  }

  /**
   * A StartTransaction was answered: the charger knows the transaction once the answer is out (the
   * central system tells the message as it answers; the answer is written on a later turn), and
   * its idTagInfo says whether the charger runs it (§5.18: one not Accepted is stopped). A limit
   * that waited for it goes again; one for a deauthorized transaction waits for its end.
   */
  private onStartAnswered(message: ChargePointMessage): void {
    const charger = this.parts.registry.get(message.chargePointId);
    const payload = message.payload as
      | { transactionId?: number; connectorId?: number; idTagInfo?: { status?: string } }
      | undefined;
    const transactionId = payload?.transactionId;
    const connectorId = payload?.connectorId;
    if (!charger || transactionId === undefined || connectorId === undefined) return;
    const status = payload?.idTagInfo?.status;
    const start = { connectorId, answered: false, ...(status === undefined ? {} : { status }) };
    charger.starts.set(transactionId, start);
    setImmediate(() => this.startKnown(charger, transactionId));
  }

  /** The charger has been answered a transaction's StartTransaction: a limit that waited for it goes. */
  private startKnown(charger: ChargerEntry, transactionId: number): void {
    const start = charger.starts.get(transactionId);
    if (!start || start.answered) return;
    start.answered = true;
    const connector = charger.connectors.get(start.connectorId);
    if (this.ctx.closed || !connector || connector.awaitingStart !== transactionId) return;
    // Deauthorized: the charger stops it, and its end sends the limit for the next session.
    if (start.status !== undefined && start.status !== 'Accepted') return;
    delete connector.awaitingStart;
    this.parts.scheduler.schedule(charger, connector);
  }

  /**
   * A TxProfile refused for this transaction just before its stop arrived: the charger had ended
   * it (its car unplugged) and its StopTransaction was queued behind the answer. The ending
   * explains the refusal (as attempts.ts explains one whose stop came first): forgotten, so that
   * the next session's limit goes as a TxProfile again, not by the way that worked instead for the
   * 15 minutes a refusal is kept (seen in CI: a session's end demoted a charger's limits).
   */
  private forgetEndedRefusal(charger: ChargerEntry, connector: ConnectorEntry, transactionId: number): void {
    const refusal = connector.txRefusal;
    if (refusal?.transactionId !== transactionId) return;
    connector.txRefusal = undefined;
    if (this.ctx.clock.now() - refusal.atMs > TX_END_EXPLAINS_MS) return;
    if (!forgetTxRefusals(charger.memory, charger.refusedAtMs, refusal.slot, refusal.keys)) return;
    this.parts.learning.store(charger);
    // The way that worked instead may have made the offline fallback go (offline-fallback.ts taken).
    this.parts.fallback.reconsider(charger);
    this.ctx.log.info(
      `charge point ${charger.chargePointId} connector ${connector.connectorId}: its TxProfile was refused as transaction ${transactionId} ended (the stop came next): not held against it, the TxProfile goes first again (and the offline fallback, where it went for the way that worked instead)`,
    );
  }

  private onSessionEnded(session: SessionRecord): void {
    const charger = this.parts.registry.get(session.chargePointId);
    charger?.starts.delete(session.transactionId);
    const connector =
      session.connectorId === undefined ? undefined : charger?.connectors.get(session.connectorId);
    if (!charger || !connector) return;
    if (connector.awaitingStart === session.transactionId) delete connector.awaitingStart;
    this.forgetEndedRefusal(charger, connector, session.transactionId);
    if (connector.session?.transactionId === session.transactionId || connector.sessionUnknown) {
      connector.session = undefined;
      connector.sessionUnknown = false;
      // 3.13.1: the charger SHOULD delete the TxProfile itself; where the strategy says so, it is cleared.
      if (charger.strategy.clearTxProfileAfterSession) connector.clearTxProfile = true;
    }
    // The limit for the next session goes to the standing profile, after a moment: the load
    // manager answers the same stop with a set-point of its own, and the connector gets one
    // instruction, the later decision (a set-point meanwhile goes at once and clears this timer).
    this.ctx.clock.clearTimeout(connector.holdTimer);
    connector.holdTimer = this.ctx.clock.setTimeout(() => {
      connector.holdTimer = undefined;
      this.parts.scheduler.schedule(charger, connector);
    }, this.ctx.options.sessionEndSettleMs ?? DEFAULTS.sessionEndSettleMs);
  }

  /**
   * A transaction started: a RemoteStart's embedded limit is bound to it (or its limit is unknown),
   * and a connector whose limit is not in force for it gets it. The send waits for a clock tick:
   * the charger learns the transaction id from the StartTransaction answer, which goes out after
   * this event, and a TxProfile for an id it does not know yet would be refused.
   */
  private onConnector(state: ConnectorState): void {
    const charger = this.parts.registry.get(state.chargePointId);
    if (!charger || state.connectorId === 0) return;
    const transaction = state.transaction;
    const transactionId = transaction?.transactionId;
    const seen = charger.transactions.get(state.connectorId);
    if (seen && seen.transactionId === transactionId) return;
    // The connector's earlier transaction is over: what it was answered no longer matters.
    if (seen?.transactionId !== undefined) charger.starts.delete(seen.transactionId);
    if (transactionId !== undefined && !charger.starts.has(transactionId)) {
      // New to the manager: a StartTransaction being answered right now (its message follows within
      // this turn), or a transaction that ran before the manager watched (then known to the charger).
      charger.starts.set(transactionId, { connectorId: state.connectorId, answered: false });
      setImmediate(() => this.startKnown(charger, transactionId));
    }
    const nowMs = this.ctx.clock.now();
    const startedMs = transaction ? Date.parse(transaction.startedAt) : Number.NaN;
    charger.transactions.set(state.connectorId, {
      ...(transactionId === undefined ? {} : { transactionId }),
      sinceMs: Number.isFinite(startedMs) ? Math.min(nowMs, startedMs) : nowMs,
      seenMs: nowMs,
    });
    if (!transaction || transactionId === undefined) return;
    const connector = charger.connectors.get(state.connectorId);
    if (!connector) return;
    if (this.parts.remoteStarts.transactionStarted(connector, transaction.idTag, transactionId, nowMs))
      return;
    const target = this.parts.limits.limitOf(charger, connector);
    if (!target || this.parts.limits.inForce(charger, connector, target) || connector.holdTimer !== undefined)
      return;
    connector.holdTimer = this.ctx.clock.setTimeout(() => {
      connector.holdTimer = undefined;
      this.parts.scheduler.schedule(charger, connector);
    }, 0);
  }

  private onCommand(event: {
    chargePointId: string;
    action: string;
    request: unknown;
    response?: unknown;
  }): void {
    const charger = this.parts.registry.get(event.chargePointId);
    this.parts.learning.commandSeen(charger, event);
    this.parts.verifier.commandSeen(charger, event);
  }

  private listen<E extends keyof ChargePointEvents>(
    event: E,
    listener: (payload: ChargePointEvents[E]) => void,
  ): void {
    this.ctx.cs.on(event, listener);
    this.detachers.push(() => this.ctx.cs.off(event, listener));
  }
}
