import { isCommandFailure } from '../contracts';
import type { Command, Commands } from './commands';
import { CHARGER_WIDE, type ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import type { Target } from './limits';
import { type Attempt, rememberRefusal } from './plan';
import type { CommandAttempt, LimitOutcome } from './reports';
import {
  type ChargerEntry,
  type ConnectorEntry,
  describe,
  isOffline,
  isRefusal,
  type Sending,
} from './state';
import type { LimitMethod } from './strategies';

/** A way the charger took, with the command that carried it (none: a charger-wide limit had it already). */
export interface Taken {
  attempt: Attempt;
  command?: Command;
  response?: unknown;
  /** The command's validTo, ms (undefined: none), read from it once for what holds the connector now. */
  validToMs?: number;
}

/**
 * What came of a plan: a way the charger took, a reason to stop, the transaction ended meanwhile,
 * or its TxProfile was refused for a reason the protocol explains (`waiting`: the charger did not
 * know the transaction yet, or it was deauthorized), so the limit waits for the charger to know it.
 */
export type PlanResult =
  | Taken
  | { stop?: { outcome: LimitOutcome; error: string } }
  | { ended: true }
  | { waiting: { transactionId: number; why: string } };

/**
 * Why a refused TxProfile is no evidence against the way (OCPP 1.6 §3.13.2, §5.16, §5.18): its
 * transaction is not (or no longer) the one running on the connector (`ended`), the charger had
 * not been answered its StartTransaction when the profile went (`unanswered`), or the answer
 * deauthorized it (`deauthorized`: an idTagInfo status other than Accepted; the charger stops it).
 */
export type ExplainedRefusal = 'ended' | 'unanswered' | 'deauthorized';

/**
 * Tries the plan's ways one command at a time until the charger takes one, and keeps what each
 * answer means: what the charger holds now (or may hold, without an answer), and what it refused.
 */
export class AttemptRunner {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly commands: Commands,
    private readonly learning: Learning,
  ) {}

  /** Tries the plan's ways in order until the charger takes one. */
  async tryPlan(send: Sending, plan: Attempt[]): Promise<PlanResult> {
    const { charger, connector, target, transactionId, slot, attempts } = send;
    let profilesUnsupported = false;
    for (const attempt of plan) {
      // CALLERROR NotSupported to one profile means no smart charging at all (errata 3.39).
      if (profilesUnsupported && attempt.method !== 'ConfigurationKey') continue;
      // A charger-wide limit already carrying what is needed is not sent again.
      if (CHARGER_WIDE.includes(attempt.method) && this.limits.chargerWideInSync(charger, attempt.method))
        return { attempt };
      const { command, wide, validToMs } = this.commands.commandFor(
        charger,
        connector,
        attempt,
        target,
        transactionId,
      );
      const record: CommandAttempt = {
        action: command.action,
        method: attempt.method,
        request: command.request,
      };
      attempts.push(record);
      // Whether the charger knew the transaction when the TxProfile went (its StartTransaction answered).
      const startAnswered = this.startAnswered(charger, attempt, transactionId);
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
        const explained = this.refuse(send, attempt, message, allProfiles, startAnswered);
        if (explained) return this.explainedResult(send, record, explained);
        continue;
      }
      record.response = response;
      if (response.status !== 'Accepted') {
        record.refused = true;
        const explained = this.refuse(
          send,
          attempt,
          `${command.action} answered ${response.status}`,
          false,
          startAnswered,
        );
        if (explained) return this.explainedResult(send, record, explained);
        continue;
      }
      this.installed(charger, connector, attempt, target, transactionId, wide, validToMs);
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
      return { attempt, command, response, validToMs };
    }
    return {};
  }

  private explainedResult(send: Sending, record: CommandAttempt, explained: ExplainedRefusal): PlanResult {
    const transactionId = send.transactionId;
    if (explained === 'ended' || transactionId === undefined) {
      record.transactionEnded = true;
      return { ended: true };
    }
    const status = send.charger.starts.get(transactionId)?.status;
    const why =
      explained === 'unanswered'
        ? `the charger had not been answered the StartTransaction of transaction ${transactionId} yet`
        : `transaction ${transactionId} was answered ${status} (not Accepted) and the charger stops it`;
    record.explained = why;
    return { waiting: { transactionId, why } };
  }

  /** Whether a TxProfile goes for a transaction the charger was answered (any other command: true). */
  private startAnswered(charger: ChargerEntry, attempt: Attempt, transactionId: number | undefined): boolean {
    if (attempt.method !== 'TxProfile' || transactionId === undefined) return true;
    return charger.starts.get(transactionId)?.answered !== false;
  }

  /**
   * A refusal: in the report, and remembered unless the protocol explains it (then why: the rest
   * of the plan was made for a transaction that is gone, or that the charger does not run yet).
   * `startAnswered`: the charger had been answered the transaction's StartTransaction when the
   * refused command went.
   */
  refuse(
    send: Sending,
    attempt: Attempt,
    reason: string,
    allProfiles: boolean,
    startAnswered = true,
  ): ExplainedRefusal | undefined {
    const { charger, connector, slot, transactionId } = send;
    const explained = this.explain(send, attempt, startAnswered);
    if (explained) return explained;
    send.refusals.push(`${describe(attempt)}: ${reason}`);
    const now = this.ctx.clock.now();
    rememberRefusal(charger.memory, slot, attempt, reason, allProfiles, charger.refusedAtMs, now);
    // Its transaction may have ended on the charger before its stop reached us (events.ts).
    if (attempt.method === 'TxProfile' && transactionId !== undefined && !allProfiles) {
      const kept = connector.txRefusal;
      if (kept?.transactionId === transactionId && kept.slot === slot) {
        kept.keys.push(attempt.key);
        kept.atMs = now;
      } else connector.txRefusal = { transactionId, slot, keys: [attempt.key], atMs: now };
    }
    this.learning.store(charger);
    return undefined;
  }

  /** Why the protocol explains a refusal of this attempt, if it does (see ExplainedRefusal). */
  private explain(send: Sending, attempt: Attempt, startAnswered: boolean): ExplainedRefusal | undefined {
    if (attempt.method !== 'TxProfile') return undefined;
    const { charger, connector, transactionId } = send;
    if (this.limits.transactionOf(charger.chargePointId, connector.connectorId) !== transactionId)
      return 'ended';
    if (transactionId === undefined) return undefined;
    if (!startAnswered) return 'unanswered';
    const status = charger.starts.get(transactionId)?.status;
    if (status !== undefined && status !== 'Accepted') return 'deauthorized';
    return undefined;
  }

  /** The state after the charger accepted a command (`wide`: the charger-wide limit it carried). */
  private installed(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempt: Attempt,
    target: Target,
    transactionId: number | undefined,
    wide: { limitA: number; wattPhases: number } | undefined,
    validToMs: number | undefined,
  ): void {
    switch (attempt.method) {
      case 'TxProfile':
        // Not a spread followed by a field: optimized, that gives every object a hidden class of its own.
        connector.session = Object.assign({}, target, { transactionId: transactionId as number });
        connector.sessionUnknown = false;
        break;
      case 'TxDefaultProfile':
        connector.standing = target;
        connector.standingAtMs = this.ctx.clock.now();
        if (validToMs === undefined) delete connector.standingValidToMs;
        else connector.standingValidToMs = validToMs;
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
}
