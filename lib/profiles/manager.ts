import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import type {
  ChargePointEvents,
  ChargePointMessage,
  ChargePointPort,
  ConnectorState,
  MeterValuesPayload,
  SessionRecord,
  SetPoint,
} from '../contracts';
import type { Logger } from '../log';
import type { OcppRequest } from '../ocpp/messages';
import { SetPointAnswers } from './answers';
import { AttemptRunner } from './attempts';
import { buildChargingProfile } from './build';
import { Commands } from './commands';
import { ConnectorLimits } from './connector-limits';
import { ProfileContext } from './context';
import { Learning } from './learning';
import type { Target } from './limits';
import { DEFAULTS, type ProfileManagerOptions } from './options';
import { planAttempts } from './plan';
import { ChargerRegistry } from './registry';
import {
  type ChargerProfileState,
  type CommandAttempt,
  checkSetPoint,
  type LimitReport,
  type RemoteStartReport,
  SetPointError,
  type SetPointInput,
} from './reports';
import { Resender } from './resend';
import { Scheduler } from './scheduler';
import { Sender } from './sender';
import {
  type ChargerEntry,
  type ConnectorEntry,
  isRefusal,
  type RemoteStartEntry,
  type Wanted,
} from './state';
import { type BootInfo, resolveStrategy } from './strategies';
import { Verifier } from './verifier';

export type { ProfileManagerOptions } from './options';

/** A transaction that starts within this long after an accepted RemoteStartTransaction (same id tag and connector) is the one it started. */
export const REMOTE_START_BIND_MS = 3 * 60 * 1000;

/**
 * Turns set-points into the commands each charger obeys, through a ChargePointPort (the central
 * system), and checks that
 * they took effect. Per connector it keeps what the load manager wants and what the charger was
 * given; per charger what it can do (read at boot), its strategy, what worked, and the
 * charger-wide limits (ChargePointMaxProfile, a vendor key) it holds.
 *
 * The rules that keep a breaker safe:
 * - a connector's limit is the lowest of its own set-point and connector 0's;
 * - decreases go at once (and first), increases wait for the rate limit;
 * - a limit counts as in force only when the charger accepted a command that applies it now; a
 *   command without an answer leaves the limit unknown, and anything not in force is sent again
 *   with backoff while the charger is connected;
 * - a profile is cleared only when what replaced it applies now; a charger-wide limit carries the
 *   lowest limit of every connector with one, and goes once nothing needs it;
 * - a composite schedule above the limit counts as a refusal: the next way is tried.
 *
 * Events: `limit` (LimitReport: a set-point that went out as a command, or failed);
 * `verification` (VerificationReport: the composite schedule or the meter said something new);
 * `learned` ({chargePointId, strategy, capabilities}); `fallback` ({chargePointId, connectorId,
 * from, to, reasons}). None after close().
 */
export class ChargingProfileManager extends EventEmitter {
  readonly clock: Clock;
  readonly log: Logger;
  readonly voltageV: number;
  private readonly ctx: ProfileContext;
  private readonly limits: ConnectorLimits;
  private readonly learning: Learning;
  private readonly registry: ChargerRegistry;
  private readonly answers: SetPointAnswers;
  private readonly commands: Commands;
  private readonly scheduler: Scheduler;
  private readonly sender: Sender;
  private readonly verifier: Verifier;
  private readonly resender: Resender;
  private readonly detach: (() => void)[] = [];

  constructor(
    readonly cs: ChargePointPort,
    options: ProfileManagerOptions = {},
  ) {
    super();
    this.ctx = new ProfileContext(cs, options, (event, payload) => this.emit(event, payload));
    this.clock = this.ctx.clock;
    this.log = this.ctx.log;
    this.voltageV = this.ctx.voltageV;
    this.limits = new ConnectorLimits(this.ctx);
    this.learning = new Learning(this.ctx);
    this.registry = new ChargerRegistry(this.ctx, this.learning, (charger) =>
      this.resender.retryNow(charger),
    );
    this.answers = new SetPointAnswers(this.ctx, this.limits);
    this.commands = new Commands(this.ctx, this.limits, this.learning);
    this.scheduler = new Scheduler(this.ctx, this.limits, this.answers, this.registry, (charger, connector) =>
      this.sender.enqueue(charger, connector),
    );
    const attempts = new AttemptRunner(this.ctx, this.limits, this.commands, this.learning);
    this.verifier = new Verifier(
      this.ctx,
      this.limits,
      this.learning,
      attempts,
      this.answers,
      this.scheduler,
      this.registry,
    );
    this.sender = new Sender(
      this.ctx,
      this.limits,
      this.learning,
      this.commands,
      attempts,
      this.answers,
      this.scheduler,
      this.verifier,
    );
    this.resender = new Resender(this.ctx, this.limits, this.scheduler, this.sender);
    // Settings errors show at once, not with the first set-point.
    resolveStrategy(options.strategy);
    for (const [id, choice] of Object.entries(options.chargers ?? {}))
      resolveStrategy(choice, undefined, `chargers.${id}`);
    this.listen('connect', ({ chargePointId }: { chargePointId: string }) => this.onConnect(chargePointId));
    this.listen('disconnect', ({ chargePointId }: { chargePointId: string }) =>
      this.onDisconnect(chargePointId),
    );
    this.listen('message', (message: ChargePointMessage) => this.onMessage(message));
    this.listen('session', (session: SessionRecord) => this.onSessionEnded(session));
    this.listen('connector', (state: ConnectorState) => this.onConnector(state));
    this.listen(
      'command',
      (event: { chargePointId: string; action: string; request: unknown; response?: unknown }) =>
        this.onCommand(event),
    );
  }

  // ---- public API ------------------------------------------------------------------------------

  /**
   * Applies set-points (one or a list); resolves with one report each, once the charger answered
   * (and its composite schedule was read, where asked). Throws SetPointError for an invalid one;
   * then none of the list is applied.
   */
  apply(input: SetPointInput | readonly SetPointInput[]): Promise<LimitReport[]> {
    const list = Array.isArray(input) ? (input as readonly SetPointInput[]) : [input as SetPointInput];
    const setPoints = list.map((setPoint, index) =>
      checkSetPoint(setPoint, list.length > 1 ? index : undefined),
    );
    return Promise.all(setPoints.map((setPoint) => this.submit(setPoint)));
  }

  /** Pauses a connector: limit 0 A. `resume` restores the limit it had. */
  async pause(chargePointId: string, connectorId: number, reason = 'pause'): Promise<LimitReport> {
    const resume = this.registry.get(chargePointId)?.connectors.get(connectorId)?.resume;
    const [report] = await this.apply({
      chargePointId,
      connectorId,
      limitA: 0,
      ...phasesOf(resume),
      reason,
    });
    return report as LimitReport;
  }

  /** Restores the last limit above 0 of a connector. */
  async resume(chargePointId: string, connectorId: number, reason = 'resume'): Promise<LimitReport> {
    const resume = this.registry.get(chargePointId)?.connectors.get(connectorId)?.resume;
    if (!resume) throw new SetPointError(`${chargePointId} connector ${connectorId} has no limit to resume`);
    const [report] = await this.apply({
      chargePointId,
      connectorId,
      limitA: resume.limitA,
      ...phasesOf(resume),
      reason,
    });
    return report as LimitReport;
  }

  /**
   * RemoteStartTransaction with the connector's current limit embedded as a TxProfile (5.16.2),
   * where the strategy allows it; a charger that refuses the embedded profile is asked again
   * without one, and is not sent one again. The embedded limit is bound only to the transaction
   * this start begins (same id tag and connector, within REMOTE_START_BIND_MS); a set-point that
   * arrives meanwhile is checked against it then.
   */
  async remoteStart(request: {
    chargePointId: string;
    connectorId?: number;
    idTag: string;
  }): Promise<RemoteStartReport> {
    const charger = this.registry.charger(request.chargePointId);
    await this.learning.learn(charger);
    const { connectorId, idTag } = request;
    const connector = connectorId === undefined ? undefined : this.registry.connector(charger, connectorId);
    const target = connector ? this.limits.limitOf(charger, connector) : undefined;
    const attempts: CommandAttempt[] = [];
    const report = (status: 'Accepted' | 'Rejected', embeddedLimitA?: number): RemoteStartReport => ({
      chargePointId: request.chargePointId,
      ...(connectorId === undefined ? {} : { connectorId }),
      idTag,
      status,
      ...(embeddedLimitA === undefined ? {} : { embeddedLimitA }),
      attempts,
    });
    const plain: OcppRequest<'RemoteStartTransaction'> = {
      ...(connectorId === undefined ? {} : { connectorId }),
      idTag,
    };
    const txAttempt =
      connector && target && charger.strategy.profileInRemoteStart && !charger.remoteStartProfileRefused
        ? planAttempts({
            strategy: charger.strategy,
            capabilities: charger.capabilities,
            session: true,
            pause: target.limitA === 0,
            connectorId: connector.connectorId,
            memory: charger.memory,
          }).find((attempt) => attempt.method === 'TxProfile')
        : undefined;
    let refusal: string | undefined;
    if (connector && target && txAttempt) {
      const profile = buildChargingProfile(
        this.commands.profileSpec(charger, connector, txAttempt, target, undefined),
      );
      const withProfile = { ...plain, chargingProfile: profile };
      const attempt: CommandAttempt = {
        action: 'RemoteStartTransaction',
        method: 'TxProfile',
        request: withProfile,
      };
      attempts.push(attempt);
      // Recorded before the call: the transaction may be reported before the answer.
      const pending: RemoteStartEntry = { idTag, atMs: this.ctx.clock.now(), target, answer: 'waiting' };
      connector.remoteStart = pending;
      try {
        const response = await this.ctx.call(charger, 'RemoteStartTransaction', withProfile);
        attempt.response = response;
        if (response.status === 'Accepted') {
          this.remoteStartAnswered(charger, connector, pending, 'accepted');
          return report('Accepted', target.limitA);
        }
        refusal = 'RemoteStartTransaction with a chargingProfile: Rejected';
      } catch (err) {
        if (!isRefusal(err)) {
          // No answer: the charger may start with the profile or not; a transaction that follows has an unknown limit.
          this.remoteStartAnswered(charger, connector, pending, 'unknown');
          throw err;
        }
        attempt.error = (err as Error).message;
        refusal = (err as Error).message;
      }
      this.remoteStartAnswered(charger, connector, pending, 'refused');
      attempt.refused = true;
    }
    const attempt: CommandAttempt = { action: 'RemoteStartTransaction', request: plain };
    attempts.push(attempt);
    const response = await this.ctx.call(charger, 'RemoteStartTransaction', plain);
    attempt.response = response;
    if (refusal && response.status === 'Accepted') {
      // Refused with the profile, accepted without: it is the profile the charger does not take.
      charger.remoteStartProfileRefused = refusal;
      this.learning.store(charger);
      this.ctx.log.warn(
        `charge point ${charger.chargePointId} refuses a charging profile in RemoteStartTransaction (${refusal}); starts go without one from now on`,
      );
    }
    return report(response.status);
  }

  /** The answer to a RemoteStartTransaction with a profile; the transaction may have been reported already. */
  private remoteStartAnswered(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    pending: RemoteStartEntry,
    answer: 'accepted' | 'unknown' | 'refused',
  ): void {
    if (connector.remoteStart !== pending) return;
    const transactionId = pending.transactionId;
    if (transactionId === undefined) {
      if (answer === 'refused') delete connector.remoteStart;
      else pending.answer = answer;
      return;
    }
    delete connector.remoteStart;
    if (this.limits.transactionOf(charger.chargePointId, connector.connectorId) !== transactionId) return;
    if (answer === 'accepted') this.bindRemoteStart(connector, pending, transactionId);
    else this.limitUnknown(connector);
    this.scheduler.schedule(charger, connector);
  }

  /** The TxProfile given in RemoteStartTransaction belongs to the transaction it started (5.16.2). */
  private bindRemoteStart(connector: ConnectorEntry, started: RemoteStartEntry, transactionId: number): void {
    connector.session = { ...started.target, transactionId };
    connector.sessionUnknown = false;
    connector.enforced = { method: 'TxProfile', target: started.target, transactionId };
    connector.lastChange = { atMs: started.atMs, target: started.target };
  }

  /** A TxProfile of unknown limit may hold the running transaction: the limit goes again. */
  private limitUnknown(connector: ConnectorEntry): void {
    connector.sessionUnknown = true;
    connector.enforced = undefined;
    connector.force = true;
  }

  /** What the manager knows about a charger; undefined before its first set-point. */
  charger(chargePointId: string): ChargerProfileState | undefined {
    const charger = this.registry.get(chargePointId);
    if (!charger) return undefined;
    return {
      chargePointId,
      strategy: charger.strategy.name,
      ...(charger.capabilities ? { capabilities: structuredClone(charger.capabilities) } : {}),
      memory: structuredClone(charger.memory),
      compositeSchedule: !charger.compositeUnsupported,
      connectors: [...charger.connectors.values()]
        .sort((a, b) => a.connectorId - b.connectorId)
        .map((connector) => {
          const target = this.limits.limitOf(charger, connector);
          const wanted = this.limits.wantedOf(charger, connector);
          return {
            connectorId: connector.connectorId,
            ...(wanted ? { requestedLimitA: wanted.requestedLimitA, reason: wanted.reason } : {}),
            ...(target ? { limitA: target.limitA } : {}),
            ...(target?.phases === undefined ? {} : { phases: target.phases }),
            ...(connector.lastMethod ? { method: connector.lastMethod } : {}),
            held: connector.holdTimer !== undefined,
            confirmed: target !== undefined && this.limits.inForce(charger, connector, target),
            verification: { ...connector.verification },
          };
        }),
    };
  }

  /** Every charger the manager has had a set-point for. */
  chargerIds(): string[] {
    return this.registry.ids().sort();
  }

  /**
   * Resolves once nothing is on its way to the charger: no command queued or waiting for an
   * answer, no composite schedule being read. Held increases and retries wait on the clock and do
   * not count.
   */
  whenSettled(chargePointId: string): Promise<void> {
    const charger = this.registry.get(chargePointId);
    if (!charger || this.scheduler.isSettled(charger)) return Promise.resolve();
    return new Promise((resolve) => charger.settled.push(resolve));
  }

  /** Stops listening and drops every timer; set-points still waiting resolve as deferred. */
  close(): void {
    if (!this.ctx.close()) return;
    for (const detach of this.detach.splice(0)) detach();
    for (const charger of this.registry.values()) {
      this.ctx.clock.clearTimeout(charger.settleTimer);
      charger.retry.cancel();
      for (const connector of charger.connectors.values()) {
        this.ctx.clock.clearTimeout(connector.holdTimer);
        connector.holdTimer = undefined;
        this.answers.settle(charger, connector, 'deferred', 'the profile manager was closed');
      }
      for (const resolve of charger.settled.splice(0)) resolve();
    }
  }

  // ---- set-points ------------------------------------------------------------------------------

  private submit(setPoint: SetPointInput): Promise<LimitReport> {
    const charger = this.registry.charger(setPoint.chargePointId);
    const connector = this.registry.connector(charger, setPoint.connectorId);
    const phases = setPoint.phases as number | undefined;
    connector.wanted = {
      requestedLimitA: setPoint.limitA,
      ...(phases === undefined ? {} : { phases }),
      reason: setPoint.reason ?? '',
    };
    if (this.limits.ownTarget(charger, connector.wanted).limitA > 0) {
      connector.resume = { limitA: setPoint.limitA, ...(phases === undefined ? {} : { phases }) };
    }
    return new Promise<LimitReport>((resolve) => {
      const previous = connector.waiter;
      connector.waiter = { ...(connector.wanted as Wanted), resolve };
      if (previous) previous.resolve(this.answers.report(charger, connector, previous, 'superseded'));
      if (this.ctx.closed) {
        this.answers.settle(charger, connector, 'deferred', 'the profile manager was closed');
        return;
      }
      this.scheduler.schedule(charger, connector);
      // Every connector's limit depends on connector 0's, whether or not its own command goes out now.
      if (connector.connectorId === 0) this.scheduler.fanOut(charger);
    });
  }

  // ---- commands ----------------------------------------------------------------------------------

  // ---- settling and retrying -----------------------------------------------------------------------

  // ---- learning ---------------------------------------------------------------------------------

  // ---- central-system events --------------------------------------------------------------------

  private onConnect(chargePointId: string): void {
    const charger = this.registry.get(chargePointId);
    if (!charger) return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    charger.retry.reset();
    // A charger that reconnects may have lost its profiles; one that boots right after is handled by onBoot.
    charger.settleTimer = this.ctx.clock.setTimeout(() => {
      charger.settleTimer = undefined;
      this.resender.resendAll(charger);
    }, this.ctx.options.reconnectSettleMs ?? DEFAULTS.reconnectSettleMs);
  }

  private onDisconnect(chargePointId: string): void {
    const charger = this.registry.get(chargePointId);
    if (!charger) return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    charger.settleTimer = undefined;
    charger.retry.cancel();
    for (const connector of charger.connectors.values()) {
      this.ctx.clock.clearTimeout(connector.holdTimer);
      connector.holdTimer = undefined;
      this.answers.settle(
        charger,
        connector,
        'deferred',
        `charge point ${chargePointId} disconnected; it gets the limit when it connects`,
      );
    }
  }

  private onMessage(message: ChargePointMessage): void {
    if (message.action === 'BootNotification') this.onBoot(message);
    else if (message.action === 'MeterValues')
      this.verifier.meterValues(message.payload as MeterValuesPayload);
  }

  /** A rebooted charger may have lost its profiles and changed firmware: learn it again and re-send. */
  private onBoot(message: ChargePointMessage): void {
    const charger = this.registry.get(message.chargePointId);
    const payload = message.payload as { registration?: string } & BootInfo;
    if (!charger || payload.registration !== 'Accepted') return;
    this.ctx.clock.clearTimeout(charger.settleTimer);
    this.learning.booted(charger, payload);
    // After the boot has been answered (a charger need not take calls before): a timer, not at once.
    charger.settleTimer = this.ctx.clock.setTimeout(() => {
      charger.settleTimer = undefined;
      this.resender.resendAll(charger);
    }, 0);
  }

  private onSessionEnded(session: SessionRecord): void {
    const charger = this.registry.get(session.chargePointId);
    const connector =
      session.connectorId === undefined ? undefined : charger?.connectors.get(session.connectorId);
    if (!charger || !connector) return;
    if (connector.session?.transactionId === session.transactionId || connector.sessionUnknown) {
      connector.session = undefined;
      connector.sessionUnknown = false;
      // 3.13.1: the charger SHOULD delete the TxProfile itself; where the strategy says so, it is cleared.
      if (charger.strategy.clearTxProfileAfterSession) connector.clearTxProfile = true;
    }
    // The limit for the next session goes to the standing profile.
    this.scheduler.schedule(charger, connector);
  }

  /**
   * A transaction started: a RemoteStart's embedded limit is bound to it (or its limit is unknown),
   * and a connector whose limit is not in force for it gets it. The send waits for a clock tick:
   * the charger learns the transaction id from the StartTransaction answer, which goes out after
   * this event, and a TxProfile for an id it does not know yet would be refused.
   */
  private onConnector(state: ConnectorState): void {
    const charger = this.registry.get(state.chargePointId);
    if (!charger || state.connectorId === 0) return;
    const transaction = state.transaction;
    const transactionId = transaction?.transactionId;
    const seen = charger.transactions.get(state.connectorId);
    if (seen && seen.transactionId === transactionId) return;
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
    const started = connector.remoteStart;
    if (started) {
      const ours = started.idTag === transaction.idTag && nowMs - started.atMs <= REMOTE_START_BIND_MS;
      if (ours && started.answer === 'waiting') {
        started.transactionId = transactionId;
        return;
      }
      delete connector.remoteStart;
      if (ours && started.answer === 'accepted') this.bindRemoteStart(connector, started, transactionId);
      // Not the transaction that start began, or too late to tell.
      else this.limitUnknown(connector);
    }
    const target = this.limits.limitOf(charger, connector);
    if (!target || this.limits.inForce(charger, connector, target) || connector.holdTimer !== undefined)
      return;
    connector.holdTimer = this.ctx.clock.setTimeout(() => {
      connector.holdTimer = undefined;
      this.scheduler.schedule(charger, connector);
    }, 0);
  }

  private onCommand(event: {
    chargePointId: string;
    action: string;
    request: unknown;
    response?: unknown;
  }): void {
    this.learning.commandSeen(this.registry.get(event.chargePointId), event);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private listen<E extends keyof ChargePointEvents>(
    event: E,
    listener: (payload: ChargePointEvents[E]) => void,
  ): void {
    this.ctx.cs.on(event, listener);
    this.detach.push(() => this.ctx.cs.off(event, listener));
  }
}

function phasesOf(target: Target | undefined): { phases?: SetPoint['phases'] } {
  return target?.phases === undefined ? {} : { phases: target.phases as SetPoint['phases'] };
}
