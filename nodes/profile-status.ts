import type { NodeStatus } from 'node-red';
import type { LimitReport, Verification, VerificationReport } from '../lib/profiles';

/**
 * The one place that turns the last limit and what is known about it into the node status of
 * `ampflow-charging-profile` (text under 20 characters). Worst first: a charger ignoring its limit
 * outranks everything else known about that limit.
 */
export function limitStatus(report: LimitReport | VerificationReport): NodeStatus {
  const limit = `${report.limitA} A`;
  const outcome = 'outcome' in report ? report.outcome : 'applied';
  switch (outcome) {
    case 'failed':
      return { fill: 'red', shape: 'ring', text: `${limit} refused` };
    case 'deferred':
      return { fill: 'grey', shape: 'ring', text: `${limit} offline` };
    default:
      return verificationStatus(limit, report.verification);
  }
}

function verificationStatus(limit: string, verification: Verification): NodeStatus {
  if (verification.ignoresLimit) return { fill: 'red', shape: 'dot', text: `${limit} ignored` };
  if (verification.schedule === 'differs') return { fill: 'red', shape: 'ring', text: `${limit} not taken` };
  // Something else holds the connector below its limit: safe, but the car gets less than allowed.
  if (verification.schedule === 'lower')
    return { fill: 'yellow', shape: 'ring', text: `${limit} held lower` };
  if (verification.verified) return { fill: 'green', shape: 'dot', text: `${limit} verified` };
  if (verification.meter === 'above') return { fill: 'yellow', shape: 'ring', text: `${limit} over` };
  return { fill: 'yellow', shape: 'dot', text: `${limit} sent` };
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
