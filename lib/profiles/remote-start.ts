import type { OcppRequest } from '../ocpp/messages';
import { buildChargingProfile } from './build';
import type { Commands } from './commands';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import { planAttempts } from './plan';
import type { ChargerRegistry } from './registry';
import type { CommandAttempt, RemoteStartReport } from './reports';
import type { Scheduler } from './scheduler';
import { type ChargerEntry, type ConnectorEntry, isRefusal, type RemoteStartEntry } from './state';

/** A transaction that starts within this long after an accepted RemoteStartTransaction (same id tag and connector) is the one it started. */
export const REMOTE_START_BIND_MS = 3 * 60 * 1000;

/**
 * RemoteStartTransaction with the connector's limit embedded as a TxProfile (5.16.2), and the
 * binding of that limit to the transaction the start begins.
 */
export class RemoteStarts {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly learning: Learning,
    private readonly commands: Commands,
    private readonly scheduler: Scheduler,
    private readonly registry: ChargerRegistry,
  ) {}

  /** ChargingProfileManager.remoteStart: with the limit embedded where the strategy allows, else without. */
  async start(request: {
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
      // Without a validTo: bound to this session alone, whose limit the load manager counts while
      // the charger is offline anyway (OCPP 1.6 §3.13.6); the next limit replaces it with one.
      const profile = buildChargingProfile({
        ...this.commands.profileSpec(charger, connector, txAttempt, target, undefined),
        validToMs: undefined,
      });
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
          this.answered(charger, connector, pending, 'accepted');
          return report('Accepted', target.limitA);
        }
        refusal = 'RemoteStartTransaction with a chargingProfile: Rejected';
      } catch (err) {
        if (!isRefusal(err)) {
          // No answer: the charger may start with the profile or not; a transaction that follows has an unknown limit.
          this.answered(charger, connector, pending, 'unknown');
          throw err;
        }
        attempt.error = (err as Error).message;
        refusal = (err as Error).message;
      }
      this.answered(charger, connector, pending, 'refused');
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
  private answered(
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
    if (answer === 'accepted') this.bind(connector, pending, transactionId);
    else this.limitUnknown(connector);
    this.scheduler.schedule(charger, connector);
  }

  /** The TxProfile given in RemoteStartTransaction belongs to the transaction it started (5.16.2). */
  private bind(connector: ConnectorEntry, started: RemoteStartEntry, transactionId: number): void {
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

  /**
   * A transaction started on a connector with a RemoteStartTransaction of ours: the start's
   * embedded limit is bound to it (or its limit is unknown). True while the start's answer is
   * still awaited: the answer binds it then.
   */
  transactionStarted(
    connector: ConnectorEntry,
    idTag: string,
    transactionId: number,
    nowMs: number,
  ): boolean {
    const started = connector.remoteStart;
    if (!started) return false;
    const ours = started.idTag === idTag && nowMs - started.atMs <= REMOTE_START_BIND_MS;
    if (ours && started.answer === 'waiting') {
      started.transactionId = transactionId;
      return true;
    }
    delete connector.remoteStart;
    if (ours && started.answer === 'accepted') this.bind(connector, started, transactionId);
    // Not the transaction that start began, or too late to tell.
    else this.limitUnknown(connector);
    return false;
  }
}
