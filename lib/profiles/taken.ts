import type { SetPointAnswers } from './answers';
import type { Taken } from './attempts';
import type { Commands } from './commands';
import type { Confirmations } from './confirmations';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import type { LimitFailures } from './limit-failures';
import { tellLimitStep } from './limit-step';
import { sameTarget } from './limits';
import type { OfflineFallback } from './offline-fallback';
import { rememberSuccess } from './plan';
import type { Scheduler } from './scheduler';
import { describe, type Sending } from './state';
import { LimitWatch } from './verification';
import type { Verifier } from './verifier';

/**
 * What follows when a charger took a limit one way (sender.ts hands it over): what holds the
 * connector now, the fallback reported, the meter's watch, a charger-wide limit released, and
 * the report once the composite schedule is read (where it is).
 */
export class TakenLimit {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly learning: Learning,
    private readonly commands: Commands,
    private readonly answers: SetPointAnswers,
    private readonly scheduler: Scheduler,
    private readonly verifier: Verifier,
    private readonly fallback: OfflineFallback,
    private readonly confirmations: Confirmations,
    private readonly failures: LimitFailures,
  ) {}

  /** The charger took the limit one way: what holds the connector now, the report once the schedule is read. */
  async taken(send: Sending, accepted: Taken): Promise<void> {
    const { charger, connector, target, transactionId, slot, attempts, refusals } = send;
    const { attempt, command, response, validToMs } = accepted;
    // Kept when it changed (every other change is kept where it is made) or is not kept yet (a
    // write that failed): not a JSON text of the charger's memory per limit.
    if (rememberSuccess(charger.memory, slot, attempt) || charger.stored === undefined)
      this.learning.store(charger);
    const now = this.ctx.clock.now();
    // The same limit again before its profile ends: no change (pacing, verification go on as they were).
    const refresh =
      send.waiter.refresh === true &&
      connector.enforced?.method === attempt.method &&
      connector.lastChange !== undefined &&
      sameTarget(connector.lastChange.target, target);
    connector.enforced = {
      method: attempt.method,
      target,
      ...(attempt.method === 'TxProfile' && transactionId !== undefined ? { transactionId } : {}),
      ...(validToMs === undefined ? {} : { validToMs }),
    };
    connector.force = false;
    delete connector.lastWarning;
    this.failures.taken(connector);
    tellLimitStep(this.ctx, charger, connector);
    if (!refresh) connector.lastChange = { atMs: now, target };
    connector.lastMethod = attempt.method;
    // Told once nothing is queued for the charger (confirmations.ts).
    this.confirmations.later(charger, connector, target.limitA);
    const firstMethod = attempts.find(
      (item) =>
        item.method && item.action !== 'ClearChargingProfile' && !item.transactionEnded && !item.explained,
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
    // Decided before the connector's verification starts over: the meter's verdict counts.
    const read = command !== undefined && !refresh && this.verifier.wanted(send, attempt);
    // Awaited only when there is something to wait for (as in sender.ts send()).
    const removing = this.fallback.taken(charger, connector, attempt);
    if (removing) await removing;
    if (command && !refresh) {
      // In the same session the meter's watch goes on (a car may still follow an earlier limit;
      // one over all of them for long ignores them); a new session starts it over.
      const previous = connector.watch;
      const sameSession = previous !== undefined && connector.watchTransactionId === transactionId;
      const watch = sameSession ? previous : new LimitWatch(target.limitA, now, this.ctx.verification);
      if (sameSession) watch.follow(target.limitA, now);
      connector.watch = watch;
      if (transactionId === undefined) delete connector.watchTransactionId;
      else connector.watchTransactionId = transactionId;
      connector.verification = {
        schedule: 'notChecked',
        meter: watch.state,
        ignoresLimit: connector.verification.ignoresLimit,
        verified: false,
      };
    }
    // A charger-wide limit that nothing needs any more would hold every connector down.
    const releasing = this.commands.releaseChargerWide(charger, attempts);
    if (releasing) await releasing;
    // Connector 0's limit is in place now: running sessions it does not reach get it on their own.
    if (connector.connectorId === 0) {
      this.scheduler.fanOut(charger);
      if (command && attempt.method === 'TxDefaultProfile')
        this.verifier.checkZeroReach(charger, target, attempt);
    }
    // The report's parts named, not the sending spread in and more fields after it (see sender.ts send()).
    const done = () =>
      this.answers.finish({
        charger,
        connector,
        waiter: send.waiter,
        target,
        attempts,
        outcome: command ? 'applied' : 'duplicate',
        attempt,
        command,
        response,
        fallback,
      });
    // The report goes, and the composite schedule is read (where it is), once no limit waits for
    // this charger, after its confirmation: neither delays the limits of its other connectors.
    charger.checks.push(async () => {
      if (!read) {
        done();
        return;
      }
      charger.checking += 1;
      let replanned = false;
      try {
        replanned = await this.verifier.checkSchedule(send, attempt);
      } catch (err) {
        this.ctx.log.error(
          `composite schedule of ${charger.chargePointId} connector ${connector.connectorId}: ${(err as Error).message}`,
        );
      } finally {
        charger.checking -= 1;
        if (!replanned) done();
        this.scheduler.afterWork(charger);
      }
    });
  }
}
