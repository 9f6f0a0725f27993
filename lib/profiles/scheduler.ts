import type { SetPointAnswers } from './answers';
import type { Confirmations } from './confirmations';
import { CHARGER_WIDE, type ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import { sameTarget, type Target } from './limits';
import type { ChargerRegistry } from './registry';
import type { ChargerEntry, ConnectorEntry } from './state';

/**
 * When a connector's limit goes: now (queued for the sender), later (a held increase), or not at
 * all (a duplicate, a charger not connected); which other connectors a change reaches (connector
 * 0's limit, charger-wide limits); and, once nothing is on its way, whether the charger's retry
 * timer is armed.
 */
export class Scheduler {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly answers: SetPointAnswers,
    private readonly registry: ChargerRegistry,
    private readonly confirmations: Confirmations,
    /** Queues the connector for the one command in flight per charger. */
    private readonly enqueue: (charger: ChargerEntry, connector: ConnectorEntry) => void,
  ) {}

  /** Acts on the decision for a connector's limit now: queued, held (an increase), or answered without a command. */
  schedule(charger: ChargerEntry, connector: ConnectorEntry): void {
    this.ctx.clock.clearTimeout(connector.holdTimer);
    connector.holdTimer = undefined;
    if (this.ctx.closed) return;
    if (!this.ctx.cs.isConnected(charger.chargePointId)) {
      this.answers.settle(
        charger,
        connector,
        'deferred',
        `charge point ${charger.chargePointId} is not connected; it gets the limit when it connects`,
      );
      return;
    }
    const decision = this.limits.decide(charger, connector);
    if (decision.kind === 'hold') {
      connector.holdTimer = this.ctx.clock.setTimeout(() => {
        connector.holdTimer = undefined;
        this.schedule(charger, connector);
      }, decision.untilMs - this.ctx.clock.now());
    }
    if (decision.kind === 'send' && decision.refresh && connector.waiter) {
      // In force: the set-point waiting is answered now; the refresh (a new validTo) goes on its own.
      this.confirmations.now(charger, connector, decision.target.limitA);
      this.answers.settle(charger, connector, 'duplicate');
    }
    // Another offline fallback was chosen (offline-fallback.ts `planned`): it goes with the limit in force.
    const replacing = charger.fallback.state === 'wanted' && charger.fallback.replace === true;
    if (decision.kind === 'send' || connector.clearTxProfile || (replacing && decision.kind === 'duplicate'))
      this.enqueue(charger, connector);
    else if (decision.kind === 'duplicate') {
      // In force already: confirmed again from now on (a decrease the load manager just sent may be this limit).
      this.confirmations.now(charger, connector, decision.target.limitA);
      this.answers.settle(charger, connector, 'duplicate');
    } else if (decision.kind !== 'hold') this.answers.settle(charger, connector, 'duplicate');
    // After the connector itself is queued: connector 0's limit goes out before the connectors it reaches.
    if (decision.kind === 'send' || decision.kind === 'duplicate')
      this.release(charger, connector, decision.target);
  }

  /**
   * A connector's target was let through the rate limit. Charger-wide limits are made of these:
   * connectors held by one are looked at again, and connector 0's limit goes to every connector
   * that needs it on its own.
   */
  release(charger: ChargerEntry, connector: ConnectorEntry, target: Target): void {
    const before = connector.released;
    connector.released = target;
    if (before && sameTarget(before, target)) return;
    if (connector.connectorId === 0) this.fanOut(charger);
    for (const other of charger.connectors.values()) {
      if (other === connector || !other.enforced || !CHARGER_WIDE.includes(other.enforced.method)) continue;
      this.schedule(charger, other);
    }
  }

  /** Connector 0's limit on every connector whose own profile (or running session) it would not reach. */
  fanOut(charger: ChargerEntry): void {
    const ids = new Set<number>();
    for (const id of charger.connectors.keys()) if (id > 0) ids.add(id);
    for (const state of this.ctx.cs.connectorsOf(charger.chargePointId)) {
      if (state.connectorId > 0 && state.transaction) ids.add(state.connectorId);
    }
    for (const id of [...ids].sort((a, b) => a - b)) {
      const existing = charger.connectors.get(id);
      if (!existing && !this.limits.inherits(charger, id)) continue;
      this.schedule(charger, existing ?? this.registry.connector(charger, id));
    }
  }

  /**
   * Nothing on its way: no command queued or in flight, no composite schedule waiting or being
   * read (a limit the charger refused to lift waits for the retry timer).
   */
  isSettled(charger: ChargerEntry): boolean {
    return (
      !charger.pumping &&
      !charger.configuring &&
      charger.queued.size === 0 &&
      (!charger.releasePending || charger.releaseWaits) &&
      charger.checks.length === 0 &&
      !charger.afterQueueDue &&
      charger.checking === 0
    );
  }

  /** When nothing is on its way any more: tell who waits, and retry what the charger has not confirmed. */
  afterWork(charger: ChargerEntry): void {
    if (!this.isSettled(charger)) return;
    for (const resolve of charger.settled.splice(0)) resolve();
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) {
      charger.retry.cancel();
      return;
    }
    if (this.needsRetry(charger)) charger.retry.arm();
    else charger.retry.reset();
  }

  private needsRetry(charger: ChargerEntry): boolean {
    if (charger.releasePending || charger.unanswered) return true;
    for (const connector of charger.connectors.values()) {
      if (connector.holdTimer !== undefined) continue;
      const target = this.limits.limitOf(charger, connector);
      if (target && !this.limits.inForce(charger, connector, target)) return true;
    }
    return false;
  }
}
