import type { LimitFailureCause } from '../contracts';
import { unansweredIn } from '../ocpp/command-error';
import type { ProfileContext } from './context';
import type { CommandAttempt } from './reports';
import type { ChargerEntry, ConnectorEntry } from './state';

/**
 * What the central system is told when a connector could not be given its limit
 * (`ConnectorState.limitFailed`, through `reportLimitFailure`): the charger refused every way the
 * plan knows, or did not answer in time. Told at once, when the plan's ways are used up, not after
 * the retry's backoff: the load manager counts the connector as uncontrolled from then on. Told
 * once per limit (a retry that fails again keeps the first `since`); a limit the charger takes
 * later clears it with its confirmation (the central system's rule), and a charger that
 * disconnects has it withdrawn (its offline rules count from then on).
 */
export class LimitFailures {
  constructor(private readonly ctx: ProfileContext) {}

  /** The connector's limit `limitA` could not be set: `why` in plain words, its `cause` as data. */
  failed(charger: ChargerEntry, connector: ConnectorEntry, limitA: number, failure: Failure): void {
    if (this.ctx.closed || connector.failedLimitA === limitA) return;
    connector.failedLimitA = limitA;
    const words = (name: string) => this.ctx.words(charger, name);
    const cause = failure.cause;
    this.ctx.cs.reportLimitFailure(charger.chargePointId, connector.connectorId, {
      limitA,
      why: words(failure.why),
      ...(cause === undefined
        ? {}
        : {
            cause:
              'refused' in cause
                ? {
                    refused: cause.refused.map(({ action, ways }) => ({
                      action: words(action),
                      ways: ways.map(words),
                    })),
                  }
                : 'unanswered' in cause
                  ? { unanswered: { ...cause.unanswered, action: words(cause.unanswered.action) } }
                  : cause,
          }),
    });
  }

  /** The charger took a limit: its confirmation clears the failure (confirmLimit), a new one is told again. */
  taken(connector: ConnectorEntry): void {
    delete connector.failedLimitA;
  }

  /** The charger disconnected: what failed is withdrawn (it is offline now, not refusing). */
  withdraw(charger: ChargerEntry): void {
    for (const connector of charger.connectors.values()) {
      if (connector.failedLimitA === undefined) continue;
      delete connector.failedLimitA;
      this.ctx.cs.reportLimitFailure(charger.chargePointId, connector.connectorId, undefined);
    }
  }
}

/** Why a limit failed: in words (the log's), and as data where it is known (the load manager words it). */
export interface Failure {
  why: string;
  cause?: LimitFailureCause;
}

/**
 * Why a plan's ways were all refused, from its commands: `refused SetChargingProfile (TxProfile,
 * TxDefaultProfile)`, per action, each way named once; `fallback` when no command was refused.
 */
export function refusedWays(attempts: readonly CommandAttempt[], fallback: Failure): Failure {
  const byAction = new Map<string, string[]>();
  for (const attempt of attempts) {
    if (!attempt.refused || attempt.transactionEnded || attempt.explained) continue;
    const ways = byAction.get(attempt.action) ?? [];
    if (attempt.method && !ways.includes(attempt.method)) ways.push(attempt.method);
    byAction.set(attempt.action, ways);
  }
  if (byAction.size === 0) return fallback;
  const refused = [...byAction].map(([action, ways]) => ({ action, ways }));
  const parts = refused.map(({ action, ways }) =>
    ways.length > 0 ? `${action} (${ways.map(wayWords).join(', ')})` : action,
  );
  return { why: `refused ${parts.join(' and ')}`, cause: { refused } };
}

/** A way of setting a limit in words: a profile purpose by its name, the configuration key as such. */
function wayWords(way: string): string {
  return way === 'ConfigurationKey' ? 'the configuration key' : way;
}

/** A command failure in the charger's words: "did not answer SetChargingProfile within 30 s". */
export function unanswered(error: string): Failure {
  const why = error.replace(/^charge point \S+ /, '');
  const missed = unansweredIn(error);
  return missed ? { why, cause: { unanswered: missed } } : { why };
}
