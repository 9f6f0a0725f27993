import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { OfflineFallback } from './offline-fallback';
import type { Scheduler } from './scheduler';
import type { Sender } from './sender';
import type { ChargerEntry } from './state';

/**
 * Sending limits again: after a reconnect or a boot (the charger may have lost what it had), and
 * when the retry timer fires for what the charger has not confirmed.
 */
export class Resender {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly scheduler: Scheduler,
    private readonly sender: Sender,
    private readonly fallback: OfflineFallback,
  ) {}

  /** The retry timer fired: after a command without an answer every limit goes again once, else what is not in force. */
  retryNow(charger: ChargerEntry): void {
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) return;
    if (charger.unanswered) {
      charger.unanswered = false;
      for (const connector of charger.connectors.values()) connector.retrying = true;
      this.resendAll(charger);
      this.scheduler.afterWork(charger);
      return;
    }
    if (charger.releasePending) {
      charger.releaseWaits = false;
      void this.sender.pump(charger);
    }
    for (const connector of charger.connectors.values()) {
      if (connector.holdTimer !== undefined) continue;
      const target = this.limits.limitOf(charger, connector);
      if (!target || this.limits.inForce(charger, connector, target)) continue;
      connector.retrying = true;
      this.scheduler.schedule(charger, connector);
    }
    this.scheduler.afterWork(charger);
  }

  /** The charger may have lost what it had (a reconnect, a boot): nothing counts as in force until sent again. */
  resendAll(charger: ChargerEntry): void {
    if (this.ctx.closed) return;
    charger.unanswered = false;
    // What the charger had may be gone, or still there: nothing counts as in force until sent again.
    if (charger.chargePointMax.state === 'installed') charger.chargePointMax = { state: 'unknown' };
    charger.key.valueA = undefined;
    // The offline fallback goes again before the limits (and is not confirmed until it did).
    this.fallback.lost(charger);
    for (const connector of charger.connectors.values()) {
      if (connector.session) connector.sessionUnknown = true;
      connector.session = undefined;
      connector.standing = undefined;
      connector.standingValidToMs = undefined;
      connector.enforced = undefined;
      // What it applies is read back again (verifier.ts).
      connector.scheduleRead = undefined;
      if (!this.limits.limitOf(charger, connector)) continue;
      connector.force = true;
      this.scheduler.schedule(charger, connector);
    }
    if (charger.chargePointMax.state !== 'none') {
      charger.releasePending = true;
      charger.releaseWaits = false;
      void this.sender.pump(charger);
    }
  }
}
