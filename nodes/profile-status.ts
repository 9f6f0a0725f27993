import type { NodeStatus } from 'node-red';
import type { LimitReport, Verification, VerificationReport } from '../lib/profiles';
import { type StateOf, statusOf } from './shared/status-table';

/**
 * Which state of the last limit and what is known about it `ampflow-charging-profile` shows (the
 * look and text are the status table's). Worst first: a charger ignoring its limit outranks
 * everything else known about that limit.
 */
export function limitStatus(report: LimitReport | VerificationReport): NodeStatus {
  const outcome = 'outcome' in report ? report.outcome : 'applied';
  const state =
    outcome === 'failed' ? 'refused' : outcome === 'deferred' ? 'offline' : verified(report.verification);
  return statusOf('ampflow-charging-profile', state, { amps: report.limitA });
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
