import type { ProfileContext } from './context';
import type { ChargerEntry, ConnectorEntry } from './state';

/**
 * What the central system is told a charger confirmed (`cs.confirmLimit`, published with the
 * connector's state, which the load manager reads as `limitInForce`).
 *
 * A limit the charger accepted in answer to a command is told once nothing more is queued for the
 * charger (`later`, then `flush` from the sender's step after its queue), not on the way from that
 * answer to the charger's next command: each confirmation republishes the connector's state to
 * every listener (the load manager's input among them), and with 100 connectors that work stood
 * between the chargers' answers and the last limits of a change (bench:latency). A confirmation
 * can only let the load manager count a decrease as followed sooner, never lower a limit, so
 * telling it later is on the safe side. Only the latest accepted limit of a connector is told,
 * and only while the charger still holds it (a later command without an answer, a composite
 * schedule read as a refusal or a reconnect make it unknown: then nothing is told).
 */
export class Confirmations {
  constructor(private readonly ctx: ProfileContext) {}

  /** The charger accepted `limitA` for the connector: told at the next flush. */
  later(charger: ChargerEntry, connector: ConnectorEntry, limitA: number): void {
    charger.confirming.set(connector.connectorId, limitA);
  }

  /** A limit known to be in force (a set-point it already has): told now, in place of one waiting. */
  now(charger: ChargerEntry, connector: ConnectorEntry, limitA: number): void {
    charger.confirming.delete(connector.connectorId);
    this.ctx.cs.confirmLimit(charger.chargePointId, connector.connectorId, limitA);
  }

  /** Tells every confirmation waiting for the charger whose limit it still holds. */
  flush(charger: ChargerEntry): void {
    if (charger.confirming.size === 0) return;
    const waiting = [...charger.confirming];
    charger.confirming.clear();
    for (const [connectorId, limitA] of waiting) {
      if (charger.connectors.get(connectorId)?.enforced?.target.limitA !== limitA) continue;
      this.ctx.cs.confirmLimit(charger.chargePointId, connectorId, limitA);
    }
  }
}
