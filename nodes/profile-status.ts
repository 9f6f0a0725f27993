import type { NodeStatus } from 'node-red';
import type { LimitReport, Verification, VerificationReport } from '../lib/profiles';
import { type StateOf, statusOf, statusOfCounts } from './shared/status-table';

/**
 * Which state of the last limit and what is known about it `ampflow-charging-profile` shows (the
 * look and text are the status table's). Worst first: a charger ignoring its limit outranks
 * everything else known about that limit.
 */
export function limitStatus(report: LimitReport | VerificationReport): NodeStatus {
  return statusOf('ampflow-charging-profile', stateOf(report), { amps: report.limitA });
}

function stateOf(report: LimitReport | VerificationReport): StateOf<'ampflow-charging-profile'> {
  const outcome = 'outcome' in report ? report.outcome : 'applied';
  return outcome === 'failed'
    ? 'refused'
    : outcome === 'deferred'
      ? 'offline'
      : verified(report.verification);
}

/** The order in which a summary names the states: what works first, then what does not. */
const SUMMARY_ORDER: readonly StateOf<'ampflow-charging-profile'>[] = [
  'verified',
  'sent',
  'over',
  'heldLower',
  'notTaken',
  'offline',
  'refused',
  'ignored',
];

/**
 * The status of every connector's last limit at once (`9 verified, 1 refused`), coloured by the
 * worst; with a single connector, its limit as `limitStatus` shows it (`16 A verified`).
 */
export function limitsStatus(reports: readonly (LimitReport | VerificationReport)[]): NodeStatus {
  const [only] = reports;
  if (reports.length === 1 && only) return limitStatus(only);
  const counts = new Map<StateOf<'ampflow-charging-profile'>, number>();
  for (const each of reports) {
    const state = stateOf(each);
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return statusOfCounts(
    'ampflow-charging-profile',
    SUMMARY_ORDER.filter((state) => counts.has(state)).map((state) => ({
      state,
      count: counts.get(state) ?? 0,
    })),
  );
}

/** The last limit of each connector (`<chargePointId>/<connectorId>`), for `limitsStatus`. */
export class LastLimits {
  private readonly last = new Map<string, LimitReport | VerificationReport>();

  note(report: LimitReport | VerificationReport): void {
    this.last.set(`${report.chargePointId}/${report.connectorId}`, report);
  }

  get all(): (LimitReport | VerificationReport)[] {
    return [...this.last.values()];
  }
}

function verified(verification: Verification): StateOf<'ampflow-charging-profile'> {
  if (verification.ignoresLimit) return 'ignored';
  if (verification.schedule === 'differs') return 'notTaken';
  // Something else holds the connector below its limit: safe, but the car gets less than allowed.
  if (verification.schedule === 'lower') return 'heldLower';
  if (verification.verified) return 'verified';
  if (verification.meter === 'above') return 'over';
  return 'sent';
}

/**
 * Which failures of limits the manager sent on its own (retries, re-sends) to warn about: once per
 * connector and cause, again only after the connector had a limit go through. A charger that keeps
 * refusing is retried every minute; the log should say so once.
 */
export class RepeatedFailures {
  private readonly last = new Map<string, string>();

  /** Whether to warn about this report (and remember it). */
  shouldWarn(report: LimitReport): boolean {
    const key = `${report.chargePointId}/${report.connectorId}`;
    if (report.outcome !== 'failed') {
      this.last.delete(key);
      return false;
    }
    const cause = report.error ?? 'limit refused';
    if (this.last.get(key) === cause) return false;
    this.last.set(key, cause);
    return true;
  }
}
