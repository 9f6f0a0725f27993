import type { SetPointAnswers } from './answers';
import type { AttemptRunner } from './attempts';
import type { Commands } from './commands';
import type { Confirmations } from './confirmations';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import { type LimitFailures, refusedWays, unanswered } from './limit-failures';
import type { Target } from './limits';
import type { OfflineFallback } from './offline-fallback';
import { type Attempt, expireRefusals, forgetRefusals, planAttempts, profilesRefused, slotOf } from './plan';
import type { LimitOutcome } from './reports';
import type { Sampling } from './sampling';
import type { Scheduler } from './scheduler';
import { type ChargerEntry, type ConnectorEntry, isOffline, type Sending, type Waiter } from './state';
import { TakenLimit } from './taken';
import type { Verifier } from './verifier';

/**
 * One command in flight per charger (OCPP-J allows one outstanding CALL): the queue, decreases
 * first; for each connector taken from it, the plan of ways tried in order, and what follows when
 * the charger took one (the report, the composite schedule read once nothing waits) or none.
 */
export class Sender {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly learning: Learning,
    private readonly commands: Commands,
    private readonly attempts: AttemptRunner,
    private readonly answers: SetPointAnswers,
    private readonly scheduler: Scheduler,
    readonly verifier: Verifier,
    private readonly fallback: OfflineFallback,
    private readonly confirmations: Confirmations,
    private readonly failures: LimitFailures,
    private readonly sampling: Sampling,
  ) {
    this.taking = new TakenLimit(
      ctx,
      learning,
      commands,
      answers,
      scheduler,
      verifier,
      fallback,
      confirmations,
      failures,
    );
  }

  /** What follows when the charger took a limit (taken.ts). */
  private readonly taking: TakenLimit;

  /** One command at a time per charger (OCPP-J allows one outstanding CALL); decreases first. */
  async pump(charger: ChargerEntry): Promise<void> {
    // The sampling's command on its way hands the queue back when it is answered.
    if (charger.pumping || charger.configuring) return;
    charger.pumping = true;
    try {
      // A removal that failed waits for the retry's backoff, not for this loop.
      while (
        !this.ctx.closed &&
        (charger.queued.size > 0 || (charger.releasePending && !charger.releaseWaits))
      ) {
        const connector = this.nextQueued(charger);
        if (!connector) {
          charger.releasePending = false;
          const releasing = this.commands.releaseChargerWide(charger, []);
          if (releasing) await releasing;
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
    this.afterQueue(charger);
  }

  /**
   * Once nothing is queued for the charger: the confirmations of the limits it accepted, then the
   * reports and composite-schedule reads (`checks`). On a later turn (setImmediate), after the
   * answers that arrived together were handled and every command they let go was written: none of
   * it stands between a charger's answer and its next command, nor another charger's.
   */
  private afterQueue(charger: ChargerEntry): void {
    if (charger.afterQueueDue) return;
    charger.afterQueueDue = true;
    setImmediate(() => {
      charger.afterQueueDue = false;
      // The queue filled again meanwhile: the end of its pump comes back here.
      if (charger.pumping) return;
      // Closed meanwhile: nothing more is told (every other deferred step checks the same).
      if (this.ctx.closed) charger.confirming.clear();
      else this.confirmations.flush(charger);
      for (const check of charger.checks.splice(0)) void check();
      // Meter samples are asked for once no limit waits (it holds the queue one command at a time).
      this.sampling.kick(charger);
      this.scheduler.afterWork(charger);
    });
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
      if (this.limits.lowers(charger, connector)) {
        first = connector;
        break;
      }
    }
    if (first) charger.queued.delete(first.connectorId);
    return first;
  }

  private async send(charger: ChargerEntry, connector: ConnectorEntry): Promise<void> {
    // Awaited only when there is something to wait for: a set-point for a charger that needs
    // neither goes out in the turn it arrived in, not after every other one of that turn.
    const learning = this.learning.learn(charger);
    if (learning) {
      try {
        await learning;
      } catch (err) {
        // Its capabilities unread for want of an answer: no limit can go (a lost connection is no failure).
        const limit = this.limits.limitOf(charger, connector);
        if (limit && !isOffline(err))
          this.failures.failed(charger, connector, limit.limitA, unanswered((err as Error).message));
        this.answers.settle(
          charger,
          connector,
          isOffline(err) ? 'deferred' : 'failed',
          (err as Error).message,
        );
        return;
      }
    }
    // The offline fallback goes before the limits it is to lie under (once per connection).
    const installing = this.fallback.ensure(charger);
    if (installing) await installing;
    if (connector.clearTxProfile) await this.commands.clearEndedTxProfile(charger, connector);
    const decision = this.limits.decide(charger, connector);
    if (decision.kind !== 'send') {
      this.scheduler.schedule(charger, connector);
      return;
    }
    const target = decision.target;
    this.scheduler.release(charger, connector, target);
    const taken = connector.waiter;
    connector.waiter = undefined;
    const wanted = this.limits.wantedOf(charger, connector) ?? { requestedLimitA: target.limitA, reason: '' };
    // Object.assign, not a spread followed by fields: optimized, such a spread gives every object a
    // hidden class of its own (~1 µs each on Node 20, and every read of a waiter goes slow then).
    const waiter: Waiter =
      taken ??
      Object.assign(
        { resolve: () => undefined, resent: true as const },
        wanted,
        decision.refresh ? { refresh: true as const } : {},
      );
    // Whatever happens below, the set-point that was taken gets its answer.
    let answered = false;
    const resolve = waiter.resolve;
    waiter.resolve = (report) => {
      if (answered) return;
      answered = true;
      resolve(report);
    };
    connector.inFlight = target;
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
    } finally {
      connector.inFlight = undefined;
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
    const result = await this.attempts.tryPlan(send, plan);
    if ('attempt' in result) await this.taking.taken(send, result);
    else if ('ended' in result && transactionId !== undefined) {
      // The transaction ended while its TxProfile was on the way (a stop, a car unplugged): the
      // refusal is explained, not a failing way, and the limit goes as a connector without a
      // transaction takes it, with no warning of a fallback.
      waiter.carried = send.attempts;
      await this.carryOut(charger, connector, target, waiter);
    } else if ('waiting' in result) this.waitForStart(send, result.waiting);
    else this.notTaken(send, plan, 'stop' in result ? result.stop : undefined);
  }

  /**
   * The TxProfile was refused for a reason the protocol explains (the charger did not know the
   * transaction yet, or it was deauthorized): nothing was learned from it, and no other way is
   * tried for a transaction the charger does not run. The set-point waits, with the commands sent
   * so far, until the charger knows the transaction (events.ts sends it again) or it ended (the
   * connector's limit then goes as for the next session); the retry's backoff covers a charger
   * that never says either.
   */
  private waitForStart(send: Sending, waiting: { transactionId: number; why: string }): void {
    const { charger, connector, waiter } = send;
    connector.awaitingStart = waiting.transactionId;
    const message = `charge point ${charger.chargePointId} connector ${connector.connectorId} refused the TxProfile for transaction ${waiting.transactionId}: ${waiting.why}; nothing is learned from it, the limit goes again once the charger knows the transaction`;
    if (connector.lastWarning !== message) this.ctx.log.info(message);
    connector.lastWarning = message;
    // Not a spread followed by a field (see send()).
    const kept = Object.assign({}, waiter, { carried: send.attempts });
    if (connector.waiter) kept.resolve(this.answers.report(charger, connector, kept, 'superseded'));
    else connector.waiter = kept;
    // Answered (Accepted) while the refused profile was on its way: it goes again now, and a
    // refusal from now on is the charger's own.
    const start = charger.starts.get(waiting.transactionId);
    if (start?.answered && (start.status === undefined || start.status === 'Accepted')) {
      delete connector.awaitingStart;
      this.scheduler.schedule(charger, connector);
    }
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
    // CALLERROR NotSupported/NotImplemented to a profile is the charger's word that it has no
    // smart charging (errata 3.39; a 2.0.1 station without SetChargingProfile): no passing state,
    // asked again only after RETRY_NOT_SUPPORTED_AFTER_MS (expireRefusals). Asked every minute,
    // each attempt was one more command for a station that stays uncontrolled (issue 45).
    if (profilesRefused(charger.memory, slot)) return plan;
    // A retry of a limit every way was refused for: the refusals may have been passing (a charger
    // busy with a load balancer of its own), and waiting RETRY_REFUSED_AFTER_MS would leave the car
    // at its old limit that long. Every way is asked again, at the retry's backoff.
    forgetRefusals(charger.memory, slot);
    this.learning.store(charger);
    return planAttempts(input);
  }

  /** Nothing took the limit: the report says why, and it goes again with backoff. */
  private notTaken(
    send: Sending,
    plan: Attempt[],
    stop: { outcome: LimitOutcome; error: string } | undefined,
  ): void {
    const { charger, connector, target, refusals } = send;
    const noSmartCharging = charger.capabilities?.smartCharging === false;
    const error =
      stop?.error ??
      (plan.length === 0
        ? `no way to set a limit on ${charger.chargePointId} connector ${connector.connectorId} with strategy ${charger.strategy.name} (${noSmartCharging ? 'no SmartCharging feature profile' : 'every method refused before'})`
        : `${charger.chargePointId} connector ${connector.connectorId} refused every way to set ${target.limitA} A: ${refusals.join('; ')}`);
    const noWay =
      !stop && plan.length === 0
        ? { noWay: { strategy: charger.strategy.name, noSmartCharging } }
        : undefined;
    // Once per connector and cause: a load manager repeats its set-points every few seconds.
    if (!stop && connector.lastWarning !== error) this.ctx.log.warn(error);
    if (!stop) connector.lastWarning = error;
    // Sent again with backoff from now on, while the charger is connected.
    if (!this.ctx.closed && this.ctx.cs.isConnected(charger.chargePointId)) charger.retry.arm();
    // The plan's ways are used up (or it got no answer): the load manager is told now, not after the retries.
    if (!stop)
      this.failures.failed(
        charger,
        connector,
        target.limitA,
        refusedWays(send.attempts, { why: error, ...(noWay ? { cause: noWay } : {}) }),
      );
    else if (stop.outcome === 'failed')
      this.failures.failed(charger, connector, target.limitA, unanswered(stop.error));
    // The report's parts named, not the sending spread in and more fields after it (see send()).
    this.answers.finish({
      charger,
      connector,
      waiter: send.waiter,
      target,
      attempts: send.attempts,
      outcome: stop?.outcome ?? 'failed',
      error,
    });
  }
}
