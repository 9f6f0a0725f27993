import type { Command } from './commands';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Target } from './limits';
import type { Attempt } from './plan';
import type { CommandAttempt, LimitOutcome, LimitReport } from './reports';
import type { ChargerEntry, ConnectorEntry, Waiter } from './state';
import type { LimitMethod } from './strategies';

/** How a set-point ended, for its report. */
export interface Finished {
  charger: ChargerEntry;
  connector: ConnectorEntry;
  waiter: Waiter;
  target: Target;
  attempts: CommandAttempt[];
  outcome: LimitOutcome;
  attempt?: Attempt;
  command?: Command;
  response?: unknown;
  fallback?: { from: LimitMethod; to: LimitMethod };
  error?: string;
}

/**
 * Every set-point gets one answer, a LimitReport: after its commands (`finish`, also published as
 * a `limit` event when a command went out), or without one (`settle`: deferred, a duplicate,
 * superseded by a newer set-point, closed).
 */
export class SetPointAnswers {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
  ) {}

  /** Answers the set-point whose commands went out (or failed); a `limit` event where a command went out. */
  finish(input: Finished): void {
    const { charger, connector, waiter, target } = input;
    const report: LimitReport = {
      chargePointId: charger.chargePointId,
      connectorId: connector.connectorId,
      limitA: target.limitA,
      requestedLimitA: waiter.requestedLimitA,
      ...(target.phases === undefined ? {} : { phases: target.phases }),
      reason: waiter.reason,
      outcome: input.outcome,
      strategy: charger.strategy.name,
      ...(input.attempt ? { method: input.attempt.method } : {}),
      ...(input.attempt?.unit ? { unit: input.attempt.unit } : {}),
      ...(input.command ? { action: input.command.action, request: input.command.request } : {}),
      ...(input.response === undefined ? {} : { response: input.response }),
      attempts: input.attempts,
      ...(input.fallback ? { fallback: input.fallback } : {}),
      verification: { ...connector.verification },
      ...(waiter.resent ? { resent: true as const } : {}),
      ...(input.error ? { error: input.error } : {}),
      at: this.ctx.nowIso(),
    };
    // A profile re-sent before its validTo is no news unless it failed.
    const quiet = waiter.refresh === true && input.outcome === 'applied';
    if (input.attempts.length > 0 && !quiet) this.ctx.publish('limit', report);
    waiter.resolve(report);
  }

  /** Resolves a connector's waiting set-point without a command. */
  settle(charger: ChargerEntry, connector: ConnectorEntry, outcome: LimitOutcome, error?: string): void {
    const waiter = connector.waiter;
    if (!waiter) return;
    connector.waiter = undefined;
    waiter.resolve(this.report(charger, connector, waiter, outcome, error));
  }

  /** The answer to a waiting set-point that no command carried. */
  report(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    waiter: Waiter,
    outcome: LimitOutcome,
    error?: string,
  ): LimitReport {
    const target = this.limits.limitOf(charger, connector) ?? this.limits.ownTarget(charger, waiter);
    return {
      chargePointId: charger.chargePointId,
      connectorId: connector.connectorId,
      limitA: target.limitA,
      requestedLimitA: waiter.requestedLimitA,
      ...(waiter.phases === undefined ? {} : { phases: waiter.phases }),
      reason: waiter.reason,
      outcome,
      strategy: charger.strategy.name,
      ...(connector.lastMethod ? { method: connector.lastMethod } : {}),
      attempts: waiter.carried ?? [],
      verification: { ...connector.verification },
      ...(waiter.resent ? { resent: true as const } : {}),
      ...(error ? { error } : {}),
      at: this.ctx.nowIso(),
    };
  }
}
