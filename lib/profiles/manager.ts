import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import {
  type ChargePointEvents,
  type ChargePointMessage,
  type ChargePointPort,
  type ConnectorState,
  isCommandFailure,
  type MeterValuesPayload,
  type SessionRecord,
  type SetPoint,
} from '../contracts';
import type { Logger } from '../log';
import type { OcppRequest } from '../ocpp/messages';
import { SetPointAnswers } from './answers';
import { buildChargingProfile, compositeLimitNow, floorTo, limitInUnit } from './build';
import { type Command, Commands } from './commands';
import { CHARGER_WIDE, ConnectorLimits } from './connector-limits';
import { ProfileContext } from './context';
import { Learning } from './learning';
import { lowersAnyPhase, sameTarget, type Target } from './limits';
import { DEFAULTS, type ProfileManagerOptions } from './options';
import {
  type Attempt,
  expireRefusals,
  forgetRefusals,
  planAttempts,
  rememberRefusal,
  rememberSuccess,
  slotOf,
} from './plan';
import { ChargerRegistry } from './registry';
import {
  type ChargerProfileState,
  type CommandAttempt,
  checkSetPoint,
  type LimitOutcome,
  type LimitReport,
  type RemoteStartReport,
  SetPointError,
  type SetPointInput,
  type VerificationReport,
} from './reports';
import {
  type ChargerEntry,
  type ConnectorEntry,
  describe,
  isOffline,
  isRefusal,
  isVerified,
  type RemoteStartEntry,
  type Sending,
  type Waiter,
  type Wanted,
} from './state';
import { type BootInfo, type LimitMethod, resolveStrategy } from './strategies';
import { compareSchedule, LimitWatch, measuredCurrentA, type ScheduleVerdict } from './verification';

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
    this.registry = new ChargerRegistry(this.ctx, this.learning, (charger) => this.retryNow(charger));
    this.answers = new SetPointAnswers(this.ctx, this.limits);
    this.commands = new Commands(this.ctx, this.limits, this.learning);
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
    this.schedule(charger, connector);
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
    if (!charger || this.isSettled(charger)) return Promise.resolve();
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
      this.schedule(charger, connector);
      // Every connector's limit depends on connector 0's, whether or not its own command goes out now.
      if (connector.connectorId === 0) this.fanOut(charger);
    });
  }

  /** Decides what to do with a connector's limit now: nothing, later (an increase), or send. */
  private schedule(charger: ChargerEntry, connector: ConnectorEntry): void {
    this.ctx.clock.clearTimeout(connector.holdTimer);
    connector.holdTimer = undefined;
    if (this.ctx.closed) return;
    if (!this.ctx.cs.isConnected(charger.chargePointId)) {
      this.answers.settle(
        charger,
        connector,
        'deferred',
        `charge point ${charger.chargePointId} is not connected; it gets the limit when it connects`,
      );
      return;
    }
    const decision = this.limits.decide(charger, connector);
    if (decision.kind === 'hold') {
      connector.holdTimer = this.ctx.clock.setTimeout(() => {
        connector.holdTimer = undefined;
        this.schedule(charger, connector);
      }, decision.untilMs - this.ctx.clock.now());
    }
    if (decision.kind === 'send' || connector.clearTxProfile) this.enqueue(charger, connector);
    else if (decision.kind !== 'hold') this.answers.settle(charger, connector, 'duplicate');
    // After the connector itself is queued: connector 0's limit goes out before the connectors it reaches.
    if (decision.kind === 'send' || decision.kind === 'duplicate')
      this.release(charger, connector, decision.target);
  }

  /**
   * A connector's target was let through the rate limit. Charger-wide limits are made of these:
   * connectors held by one are looked at again, and connector 0's limit goes to every connector
   * that needs it on its own.
   */
  private release(charger: ChargerEntry, connector: ConnectorEntry, target: Target): void {
    const before = connector.released;
    connector.released = target;
    if (before && sameTarget(before, target)) return;
    if (connector.connectorId === 0) this.fanOut(charger);
    for (const other of charger.connectors.values()) {
      if (other === connector || !other.enforced || !CHARGER_WIDE.includes(other.enforced.method)) continue;
      this.schedule(charger, other);
    }
  }

  /** Connector 0's limit on every connector whose own profile (or running session) it would not reach. */
  private fanOut(charger: ChargerEntry): void {
    const ids = new Set<number>();
    for (const id of charger.connectors.keys()) if (id > 0) ids.add(id);
    for (const state of this.ctx.cs.connectorsOf(charger.chargePointId)) {
      if (state.connectorId > 0 && state.transaction) ids.add(state.connectorId);
    }
    for (const id of [...ids].sort((a, b) => a - b)) {
      const existing = charger.connectors.get(id);
      if (!existing && !this.limits.inherits(charger, id)) continue;
      this.schedule(charger, existing ?? this.registry.connector(charger, id));
    }
  }

  private enqueue(charger: ChargerEntry, connector: ConnectorEntry): void {
    charger.queued.add(connector.connectorId);
    void this.pump(charger);
  }

  /** One command at a time per charger (OCPP-J allows one outstanding CALL); decreases first. */
  private async pump(charger: ChargerEntry): Promise<void> {
    if (charger.pumping) return;
    charger.pumping = true;
    try {
      while (!this.ctx.closed && (charger.queued.size > 0 || charger.releasePending)) {
        const connector = this.nextQueued(charger);
        if (!connector) {
          charger.releasePending = false;
          await this.commands.releaseChargerWide(charger, []);
          continue;
        }
        try {
          await this.send(charger, connector);
        } catch (err) {
          const message = `charging profile for ${charger.chargePointId} connector ${connector.connectorId}: ${(err as Error).message}`;
          if (connector.lastWarning !== message) this.ctx.log.error(message);
          connector.lastWarning = message;
        }
      }
    } finally {
      charger.pumping = false;
    }
    for (const check of charger.checks.splice(0)) void check();
    this.afterWork(charger);
  }

  /** The next connector to send for: one whose limit goes down (or is unknown) first. */
  private nextQueued(charger: ChargerEntry): ConnectorEntry | undefined {
    let first: ConnectorEntry | undefined;
    for (const id of charger.queued) {
      const connector = charger.connectors.get(id);
      if (!connector) {
        charger.queued.delete(id);
        continue;
      }
      first ??= connector;
      const target = this.limits.limitOf(charger, connector);
      const enforced = connector.enforced?.target;
      if (target && (!enforced || lowersAnyPhase(target, enforced))) {
        first = connector;
        break;
      }
    }
    if (first) charger.queued.delete(first.connectorId);
    return first;
  }

  private async send(charger: ChargerEntry, connector: ConnectorEntry): Promise<void> {
    try {
      await this.learning.learn(charger);
    } catch (err) {
      this.answers.settle(charger, connector, isOffline(err) ? 'deferred' : 'failed', (err as Error).message);
      return;
    }
    if (connector.clearTxProfile) await this.commands.clearEndedTxProfile(charger, connector);
    const decision = this.limits.decide(charger, connector);
    if (decision.kind !== 'send') {
      this.schedule(charger, connector);
      return;
    }
    const target = decision.target;
    this.release(charger, connector, target);
    const taken = connector.waiter;
    connector.waiter = undefined;
    const wanted = this.limits.wantedOf(charger, connector) ?? { requestedLimitA: target.limitA, reason: '' };
    const waiter: Waiter = taken ?? { ...wanted, resolve: () => undefined, resent: true };
    // Whatever happens below, the set-point that was taken gets its answer.
    let answered = false;
    const resolve = waiter.resolve;
    waiter.resolve = (report) => {
      if (answered) return;
      answered = true;
      resolve(report);
    };
    try {
      await this.carryOut(charger, connector, target, waiter);
    } catch (err) {
      connector.enforced = undefined;
      if (!answered) {
        this.answers.finish({
          charger,
          connector,
          waiter,
          target,
          attempts: waiter.carried ?? [],
          outcome: 'failed',
          error: (err as Error).message,
        });
      }
      throw err;
    }
  }

  /** Tries the plan's ways in order until the charger takes one, and reports. */
  private async carryOut(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    target: Target,
    waiter: Waiter,
  ): Promise<void> {
    const transactionId = this.limits.transactionOf(charger.chargePointId, connector.connectorId);
    const send: Sending = {
      charger,
      connector,
      target,
      waiter,
      transactionId,
      slot: slotOf(transactionId !== undefined && connector.connectorId > 0, target.limitA === 0),
      attempts: [...(waiter.carried ?? [])],
      refusals: [],
    };
    delete waiter.carried;
    const plan = this.planFor(send);
    const result = await this.tryPlan(send, plan);
    if ('attempt' in result) await this.taken(send, result);
    else if ('ended' in result && transactionId !== undefined) {
      // The transaction ended while its TxProfile was on the way (a stop, a car unplugged): the
      // refusal is explained, not a failing way, and the limit goes as a connector without a
      // transaction takes it, with no warning of a fallback.
      waiter.carried = send.attempts;
      await this.carryOut(charger, connector, target, waiter);
    } else this.notTaken(send, plan, 'stop' in result ? result.stop : undefined);
  }

  /** The ways to try, refusals past their time forgotten (and all of them on a retry that has none left). */
  private planFor(send: Sending): Attempt[] {
    const { charger, connector, target, slot } = send;
    if (expireRefusals(charger.memory, charger.refusedAtMs, this.ctx.clock.now()))
      this.learning.store(charger);
    const input = {
      strategy: charger.strategy,
      capabilities: charger.capabilities,
      session: slot.startsWith('session'),
      pause: target.limitA === 0,
      connectorId: connector.connectorId,
      memory: charger.memory,
    };
    const plan = planAttempts(input);
    const retrying = connector.retrying;
    connector.retrying = false;
    if (plan.length > 0 || !retrying || charger.memory.refused[slot] === undefined) return plan;
    // A retry of a limit every way was refused for: the refusals may have been passing (a charger
    // busy with a load balancer of its own), and waiting RETRY_REFUSED_AFTER_MS would leave the car
    // at its old limit that long. Every way is asked again, at the retry's backoff.
    forgetRefusals(charger.memory, slot);
    return planAttempts(input);
  }

  private async tryPlan(
    send: Sending,
    plan: Attempt[],
  ): Promise<
    | { attempt: Attempt; command?: Command; response?: unknown }
    | { stop?: { outcome: LimitOutcome; error: string } }
    | { ended: true }
  > {
    const { charger, connector, target, transactionId, slot, attempts } = send;
    let profilesUnsupported = false;
    for (const attempt of plan) {
      // CALLERROR NotSupported to one profile means no smart charging at all (errata 3.39).
      if (profilesUnsupported && attempt.method !== 'ConfigurationKey') continue;
      // A charger-wide limit already carrying what is needed is not sent again.
      if (CHARGER_WIDE.includes(attempt.method) && this.limits.chargerWideInSync(charger, attempt.method))
        return { attempt };
      const { command, wide } = this.commands.commandFor(charger, connector, attempt, target, transactionId);
      const record: CommandAttempt = {
        action: command.action,
        method: attempt.method,
        request: command.request,
      };
      attempts.push(record);
      let response: { status?: string };
      try {
        response = (await this.ctx.call(charger, command.action, command.request as never)) as {
          status?: string;
        };
      } catch (err) {
        const message = (err as Error).message;
        record.error = message;
        if (!isRefusal(err)) {
          // No answer: the charger may or may not have it now.
          this.lose(charger, connector, attempt.method, transactionId);
          return { stop: { outcome: isOffline(err) ? 'deferred' : 'failed', error: message } };
        }
        record.refused = true;
        const notSupported = ['NotSupported', 'NotImplemented'].includes(
          (isCommandFailure(err) ? err.ocppErrorCode : undefined) ?? '',
        );
        const allProfiles = notSupported && attempt.method !== 'ConfigurationKey';
        if (allProfiles) profilesUnsupported = true;
        if (this.refuse(send, attempt, message, allProfiles)) return this.ended(record);
        continue;
      }
      record.response = response;
      if (response.status !== 'Accepted') {
        record.refused = true;
        if (this.refuse(send, attempt, `${command.action} answered ${response.status}`, false))
          return this.ended(record);
        continue;
      }
      this.installed(charger, connector, attempt, target, transactionId, wide);
      if (
        attempt.method === 'TxDefaultProfile' &&
        slot.startsWith('session') &&
        this.txProfileMayOverrule(connector)
      ) {
        // A TxProfile of ours overrules the TxDefaultProfile (3.13.1): it goes, or this way does not work.
        const cleared = await this.commands.clearTxProfile(
          charger,
          connector,
          attempts,
          transactionId as number,
        );
        if (cleared.kind === 'lost') return { stop: { outcome: 'failed', error: cleared.error } };
        if (cleared.kind === 'refused') {
          this.refuse(send, attempt, cleared.error, false);
          continue;
        }
      }
      return { attempt, command, response };
    }
    return {};
  }

  private ended(record: CommandAttempt): { ended: true } {
    record.transactionEnded = true;
    return { ended: true };
  }

  /** Nothing took the limit: the report says why, and it goes again with backoff. */
  private notTaken(
    send: Sending,
    plan: Attempt[],
    stop: { outcome: LimitOutcome; error: string } | undefined,
  ): void {
    const { charger, connector, target, refusals } = send;
    const error =
      stop?.error ??
      (plan.length === 0
        ? `no way to set a limit on ${charger.chargePointId} connector ${connector.connectorId} with strategy ${charger.strategy.name} (${charger.capabilities?.smartCharging === false ? 'no SmartCharging feature profile' : 'every method refused before'})`
        : `${charger.chargePointId} connector ${connector.connectorId} refused every way to set ${target.limitA} A: ${refusals.join('; ')}`);
    // Once per connector and cause: a load manager repeats its set-points every few seconds.
    if (!stop && connector.lastWarning !== error) this.ctx.log.warn(error);
    if (!stop) connector.lastWarning = error;
    // Sent again with backoff from now on, while the charger is connected.
    if (!this.ctx.closed && this.ctx.cs.isConnected(charger.chargePointId)) charger.retry.arm();
    this.answers.finish({ ...send, outcome: stop?.outcome ?? 'failed', error });
  }

  /** The charger took the limit one way: what holds the connector now, the report once the schedule is read. */
  private async taken(
    send: Sending,
    accepted: { attempt: Attempt; command?: Command; response?: unknown },
  ): Promise<void> {
    const { charger, connector, target, transactionId, slot, attempts, refusals } = send;
    const { attempt, command, response } = accepted;
    rememberSuccess(charger.memory, slot, attempt);
    this.learning.store(charger);
    const now = this.ctx.clock.now();
    connector.enforced = {
      method: attempt.method,
      target,
      ...(attempt.method === 'TxProfile' && transactionId !== undefined ? { transactionId } : {}),
    };
    connector.force = false;
    delete connector.lastWarning;
    connector.lastChange = { atMs: now, target };
    connector.lastMethod = attempt.method;
    const firstMethod = attempts.find(
      (item) => item.method && item.action !== 'ClearChargingProfile' && !item.transactionEnded,
    )?.method;
    const fallback =
      firstMethod && firstMethod !== attempt.method ? { from: firstMethod, to: attempt.method } : undefined;
    if (refusals.length > 0) {
      this.ctx.log.warn(
        `charge point ${charger.chargePointId} connector ${connector.connectorId}: ${refusals.join('; ')}; ${describe(attempt)} worked and is used from now on`,
      );
      this.ctx.publish('fallback', {
        chargePointId: charger.chargePointId,
        connectorId: connector.connectorId,
        from: firstMethod,
        to: attempt.method,
        reasons: refusals,
      });
    }
    if (command) {
      connector.watch = new LimitWatch(target.limitA, now, this.ctx.verification);
      if (transactionId === undefined) delete connector.watchTransactionId;
      else connector.watchTransactionId = transactionId;
      connector.verification = {
        schedule: 'notChecked',
        meter: 'waiting',
        ignoresLimit: connector.verification.ignoresLimit,
        verified: false,
      };
    }
    // A charger-wide limit that nothing needs any more would hold every connector down.
    await this.commands.releaseChargerWide(charger, attempts);
    // Connector 0's limit is in place now: running sessions it does not reach get it on their own.
    if (connector.connectorId === 0) {
      this.fanOut(charger);
      if (command && attempt.method === 'TxDefaultProfile') this.checkZeroReach(charger, target, attempt);
    }
    const done = () =>
      this.answers.finish({
        ...send,
        outcome: command ? 'applied' : 'duplicate',
        attempt,
        ...(command ? { command } : {}),
        ...(response === undefined ? {} : { response }),
        ...(fallback ? { fallback } : {}),
      });
    if (!command) {
      done();
      return;
    }
    // The composite schedule is read once no limit waits for this charger: checking never delays a limit.
    charger.checks.push(async () => {
      charger.checking += 1;
      let replanned = false;
      try {
        replanned = await this.checkSchedule(send, attempt);
      } catch (err) {
        this.ctx.log.error(
          `composite schedule of ${charger.chargePointId} connector ${connector.connectorId}: ${(err as Error).message}`,
        );
      } finally {
        charger.checking -= 1;
        if (!replanned) done();
        this.afterWork(charger);
      }
    });
  }

  /** The state after the charger accepted a command (`wide`: the charger-wide limit it carried). */
  private installed(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempt: Attempt,
    target: Target,
    transactionId: number | undefined,
    wide: { limitA: number; wattPhases: number } | undefined,
  ): void {
    switch (attempt.method) {
      case 'TxProfile':
        connector.session = { ...target, transactionId: transactionId as number };
        connector.sessionUnknown = false;
        break;
      case 'TxDefaultProfile':
        connector.standing = target;
        connector.standingAtMs = this.ctx.clock.now();
        break;
      case 'ChargePointMaxProfile': {
        const sent = wide ?? { limitA: target.limitA, wattPhases: 1 };
        charger.chargePointMax = { state: 'installed', limitA: sent.limitA, wattPhases: sent.wattPhases };
        this.learning.store(charger);
        break;
      }
      case 'ConfigurationKey':
        charger.key.valueA = this.limits.keyValueA(charger, wide?.limitA ?? target.limitA);
        break;
    }
  }

  /** The charger may have what was sent, or not: no answer came. */
  private lose(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    method: LimitMethod,
    transactionId: number | undefined,
  ): void {
    connector.enforced = undefined;
    charger.unanswered = true;
    switch (method) {
      case 'TxProfile':
        connector.session = undefined;
        connector.sessionUnknown = transactionId !== undefined;
        break;
      case 'TxDefaultProfile':
        connector.standing = undefined;
        break;
      case 'ChargePointMaxProfile':
        charger.chargePointMax = { state: 'unknown' };
        this.learning.store(charger);
        break;
      case 'ConfigurationKey':
        charger.key.valueA = undefined;
        break;
    }
  }

  private txProfileMayOverrule(connector: ConnectorEntry): boolean {
    return connector.session !== undefined || connector.sessionUnknown;
  }

  /**
   * A refusal: in the report, and remembered unless the transaction ended meanwhile, which
   * explains it (then true: the rest of the plan was made for a transaction that is gone).
   */
  private refuse(send: Sending, attempt: Attempt, reason: string, allProfiles: boolean): boolean {
    const { charger, connector, slot, transactionId } = send;
    if (
      attempt.method === 'TxProfile' &&
      this.limits.transactionOf(charger.chargePointId, connector.connectorId) !== transactionId
    ) {
      return true;
    }
    send.refusals.push(`${describe(attempt)}: ${reason}`);
    rememberRefusal(
      charger.memory,
      slot,
      attempt,
      reason,
      allProfiles,
      charger.refusedAtMs,
      this.ctx.clock.now(),
    );
    this.learning.store(charger);
    return false;
  }

  // ---- commands ----------------------------------------------------------------------------------

  /**
   * Reads the composite schedule after an accepted profile. One above the limit counts as a
   * refusal of the way that was used: the set-point goes again, the next way. Returns whether it did.
   */
  private async checkSchedule(sent: Sending, attempt: Attempt): Promise<boolean> {
    const { charger, connector, target } = sent;
    const wanted =
      !this.ctx.closed &&
      (this.ctx.options.verifySchedule ?? true) &&
      charger.strategy.compositeSchedule &&
      !charger.compositeUnsupported &&
      attempt.method !== 'ConfigurationKey' &&
      // Connector 0 would report the whole charge point (5.7), not one connector's limit.
      connector.connectorId > 0;
    if (!wanted) return false;
    const unit = attempt.unit ?? 'A';
    const phases = this.limits.profilePhases(charger, connector.connectorId, target, unit);
    const expected = limitInUnit(target.limitA, unit, this.ctx.voltageV, phases);
    let verdict: ScheduleVerdict;
    let scheduleLimit: number | undefined;
    try {
      const response = await this.ctx.call(charger, 'GetCompositeSchedule', {
        connectorId: connector.connectorId,
        duration: this.ctx.options.compositeDurationS ?? DEFAULTS.compositeDurationS,
        chargingRateUnit: unit,
      });
      scheduleLimit = compositeLimitNow(response, unit, this.ctx.voltageV, phases);
      verdict = compareSchedule(scheduleLimit, expected);
    } catch (err) {
      if (
        isRefusal(err) &&
        ['NotSupported', 'NotImplemented'].includes(
          (isCommandFailure(err) ? err.ocppErrorCode : undefined) ?? '',
        )
      ) {
        charger.compositeUnsupported = true;
        this.learning.store(charger);
      }
      verdict = 'unsupported';
    }
    if (this.ctx.closed || connector.lastChange?.target !== target) return false; // a newer limit went out meanwhile
    connector.verification = {
      ...connector.verification,
      schedule: verdict,
      ...(scheduleLimit === undefined ? {} : { scheduleLimit }),
    };
    connector.verification.verified = isVerified(connector.verification);
    if (verdict === 'lower') {
      this.ctx.log.info(
        `charge point ${charger.chargePointId} connector ${connector.connectorId} was given ${expected} ${unit} (${attempt.method}) but its composite schedule says ${scheduleLimit} ${unit}`,
      );
    }
    if (verdict !== 'differs') return false;
    const reason = `accepted ${expected} ${unit} but its composite schedule says ${scheduleLimit} ${unit}`;
    this.ctx.log.warn(
      `charge point ${charger.chargePointId} connector ${connector.connectorId} ${reason} (${attempt.method}); trying the next way`,
    );
    const record = [...sent.attempts]
      .reverse()
      .find((item) => item.method === attempt.method && item.action === 'SetChargingProfile');
    if (record) {
      record.refused = true;
      record.error = reason;
    }
    this.refuse(sent, attempt, reason, false);
    connector.enforced = undefined;
    if (attempt.method === 'TxDefaultProfile' && sent.transactionId !== undefined)
      connector.standingIgnoredBy = sent.transactionId;
    // The set-point goes again, with the commands sent so far; a newer one takes its place.
    const waiter = { ...sent.waiter, carried: sent.attempts };
    if (connector.waiter) waiter.resolve(this.answers.report(charger, connector, waiter, 'superseded'));
    else connector.waiter = waiter;
    this.schedule(charger, connector);
    return true;
  }

  /**
   * Where the strategy counts on connector 0's TxDefaultProfile reaching running sessions, the
   * composite schedule of each running connector without a limit of its own tells whether it did;
   * one that stayed above gets connector 0's limit on its own (a TxProfile).
   */
  private checkZeroReach(charger: ChargerEntry, target: Target, attempt: Attempt): void {
    const wanted =
      charger.strategy.txDefaultAppliesToRunningSession &&
      (this.ctx.options.verifySchedule ?? true) &&
      charger.strategy.compositeSchedule &&
      !charger.compositeUnsupported;
    if (!wanted) return;
    for (const state of this.ctx.cs.connectorsOf(charger.chargePointId)) {
      const connectorId = state.connectorId;
      const transactionId = state.transaction?.transactionId;
      if (connectorId === 0 || transactionId === undefined || charger.connectors.get(connectorId)?.wanted)
        continue;
      charger.checks.push(async () => {
        charger.checking += 1;
        try {
          const unit = attempt.unit ?? 'A';
          const phases = this.limits.profilePhases(charger, connectorId, target, unit);
          const response = await this.ctx.call(charger, 'GetCompositeSchedule', {
            connectorId,
            duration: this.ctx.options.compositeDurationS ?? DEFAULTS.compositeDurationS,
            chargingRateUnit: unit,
          });
          const scheduleLimit = compositeLimitNow(response, unit, this.ctx.voltageV, phases);
          const expected = limitInUnit(target.limitA, unit, this.ctx.voltageV, phases);
          const still = this.limits.transactionOf(charger.chargePointId, connectorId) === transactionId;
          if (!this.ctx.closed && still && compareSchedule(scheduleLimit, expected) === 'differs') {
            this.ctx.log.warn(
              `charge point ${charger.chargePointId}: connector 0's TxDefaultProfile of ${expected} ${unit} does not reach the session on connector ${connectorId} (its composite schedule says ${scheduleLimit} ${unit}); it gets a limit of its own`,
            );
            charger.zeroMisses.set(connectorId, transactionId);
            this.fanOut(charger);
          }
        } catch {
          // No schedule: nothing learned.
        } finally {
          charger.checking -= 1;
          this.afterWork(charger);
        }
      });
    }
  }

  // ---- settling and retrying -----------------------------------------------------------------------

  private isSettled(charger: ChargerEntry): boolean {
    return (
      !charger.pumping &&
      charger.queued.size === 0 &&
      !charger.releasePending &&
      charger.checks.length === 0 &&
      charger.checking === 0
    );
  }

  /** When nothing is on its way any more: tell who waits, and retry what the charger has not confirmed. */
  private afterWork(charger: ChargerEntry): void {
    if (!this.isSettled(charger)) return;
    for (const resolve of charger.settled.splice(0)) resolve();
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) {
      charger.retry.cancel();
      return;
    }
    if (this.needsRetry(charger)) charger.retry.arm();
    else charger.retry.reset();
  }

  private needsRetry(charger: ChargerEntry): boolean {
    if (charger.releasePending || charger.unanswered) return true;
    for (const connector of charger.connectors.values()) {
      if (connector.holdTimer !== undefined) continue;
      const target = this.limits.limitOf(charger, connector);
      if (target && !this.limits.inForce(charger, connector, target)) return true;
    }
    return false;
  }

  private retryNow(charger: ChargerEntry): void {
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) return;
    if (charger.unanswered) {
      charger.unanswered = false;
      for (const connector of charger.connectors.values()) connector.retrying = true;
      this.resendAll(charger);
      this.afterWork(charger);
      return;
    }
    if (charger.releasePending) void this.pump(charger);
    for (const connector of charger.connectors.values()) {
      if (connector.holdTimer !== undefined) continue;
      const target = this.limits.limitOf(charger, connector);
      if (!target || this.limits.inForce(charger, connector, target)) continue;
      connector.retrying = true;
      this.schedule(charger, connector);
    }
    this.afterWork(charger);
  }

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
      this.resendAll(charger);
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
    else if (message.action === 'MeterValues') this.onMeterValues(message.payload as MeterValuesPayload);
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
      this.resendAll(charger);
    }, 0);
  }

  private resendAll(charger: ChargerEntry): void {
    if (this.ctx.closed) return;
    charger.unanswered = false;
    // What the charger had may be gone, or still there: nothing counts as in force until sent again.
    if (charger.chargePointMax.state === 'installed') charger.chargePointMax = { state: 'unknown' };
    charger.key.valueA = undefined;
    for (const connector of charger.connectors.values()) {
      if (connector.session) connector.sessionUnknown = true;
      connector.session = undefined;
      connector.standing = undefined;
      connector.enforced = undefined;
      if (!this.limits.limitOf(charger, connector)) continue;
      connector.force = true;
      this.schedule(charger, connector);
    }
    if (charger.chargePointMax.state !== 'none') {
      charger.releasePending = true;
      void this.pump(charger);
    }
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
    this.schedule(charger, connector);
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
      this.schedule(charger, connector);
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

  private onMeterValues(payload: MeterValuesPayload): void {
    const charger = this.registry.get(payload.chargePointId);
    if (!charger || payload.outOfOrder) return;
    const atMs = this.ctx.clock.now();
    for (const connector of charger.connectors.values()) {
      const watch = connector.watch;
      if (!watch) continue;
      if (connector.connectorId !== 0 && connector.connectorId !== payload.connectorId) continue;
      if (
        connector.watchTransactionId !== undefined &&
        payload.transactionId !== undefined &&
        payload.transactionId !== connector.watchTransactionId
      ) {
        continue;
      }
      const phases =
        connector.wanted?.phases ??
        this.ctx.cs.connectorOf(payload.chargePointId, payload.connectorId)?.activePhases?.length ??
        3;
      const measuredA = measuredCurrentA(payload, this.ctx.voltageV, Math.max(1, phases));
      if (measuredA === undefined) continue;
      const changed = watch.observe(measuredA, atMs);
      if (watch.lastMeasuredA !== undefined) connector.verification.measuredA = watch.lastMeasuredA;
      if (!changed) continue;
      connector.verification.meter = changed;
      if (changed === 'ignoresLimit') connector.verification.ignoresLimit = true;
      if (changed === 'within') connector.verification.ignoresLimit = false;
      connector.verification.verified = isVerified(connector.verification);
      if (changed === 'ignoresLimit') {
        this.ctx.log.warn(
          `charge point ${charger.chargePointId} connector ${connector.connectorId} ignores its limit: ${floorTo(measuredA)} A measured, ${watch.limitA} A allowed`,
        );
      }
      const report: VerificationReport = {
        chargePointId: charger.chargePointId,
        connectorId: connector.connectorId,
        limitA: watch.limitA,
        ...(connector.lastMethod ? { method: connector.lastMethod } : {}),
        verification: { ...connector.verification },
        at: this.ctx.nowIso(),
      };
      this.ctx.publish('verification', report);
    }
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
