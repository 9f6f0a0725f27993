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
    // Field by field, in the order reports have always had, not spread together from objects
    // made per field (a report per set-point; see reportHead).
    const report = reportHead(charger, connector, waiter, target.limitA, target.phases);
    report.reason = waiter.reason;
    report.outcome = input.outcome;
    report.strategy = charger.strategy.name;
    const { attempt, command } = input;
    if (attempt) report.method = attempt.method;
    if (attempt?.unit) report.unit = attempt.unit;
    if (command) {
      report.action = command.action;
      report.request = command.request;
    }
    if (input.response !== undefined) report.response = input.response;
    report.attempts = input.attempts;
    if (input.fallback) report.fallback = input.fallback;
    this.tail(report, charger, connector, waiter, input.error);
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
    const report = reportHead(charger, connector, waiter, target.limitA, waiter.phases);
    report.reason = waiter.reason;
    report.outcome = outcome;
    report.strategy = charger.strategy.name;
    if (connector.lastMethod) report.method = connector.lastMethod;
    report.attempts = waiter.carried ?? [];
    this.tail(report, charger, connector, waiter, error);
    return report;
  }

  /** The fields every report ends with. */
  private tail(
    report: LimitReport,
    charger: ChargerEntry,
    connector: ConnectorEntry,
    waiter: Waiter,
    error: string | undefined,
  ): void {
    report.verification = { ...connector.verification };
    if (waiter.resent) report.resent = true;
    if (error) report.error = this.ctx.words(charger, error);
    report.at = this.ctx.nowIso();
  }
}

/**
 * A report's first fields; the rest are set one by one in their order. Not one literal with a
 * conditional spread per optional field: each spread makes an object of its own, and optimized
 * code gives the objects built so hidden classes of their own (slow to make and to read).
 */
function reportHead(
  charger: ChargerEntry,
  connector: ConnectorEntry,
  waiter: Waiter,
  limitA: number,
  phases: number | undefined,
): LimitReport {
  const report = {
    chargePointId: charger.chargePointId,
    connectorId: connector.connectorId,
    limitA,
    requestedLimitA: waiter.requestedLimitA,
  } as LimitReport;
  if (phases !== undefined) report.phases = phases;
  return report;
}
