import type { Logger } from '../log';

/**
 * A charger that booted before the central system started and connects again without booting (a
 * reconnect is not a reboot, OCPP-J 5.4: it sends no StatusNotification until something changes)
 * is asked for its connectors' states once, when none is known, so they do not stay unknown (`?`)
 * until a car comes or goes; one that boots sends them by itself. OCPP 1.6 §5.17: a TriggerMessage
 * StatusNotification without connectorId asks for the charger's and each connector's; OCPP 2.0.1
 * F06 asks per EVSE (ids run from 1 without gaps), so EVSE after EVSE until one is not Accepted.
 * A charger without TriggerMessage (NotImplemented, NotSupported, Rejected) is left as it is: its
 * states come with its next StatusNotification, as before. Asked once per start of the central
 * system, not on every reconnection.
 */
export class StatusRecall {
  /** Chargers asked, or that booted, since the central system started: not asked (again). */
  private readonly done = new Set<string>();

  constructor(
    private readonly deps: {
      log: Logger;
      /** The answer to its last BootNotification, kept across restarts. */
      registration(chargePointId: string): string | undefined;
      /** Whether any connector of the charger has a status since the central system started. */
      knowsStatus(chargePointId: string): boolean;
      /** The sub-protocol it speaks now; undefined when it is away. */
      protocol(chargePointId: string): string | undefined;
      /** Sends TriggerMessage StatusNotification (for `connectorId`, else all); its status. */
      trigger(chargePointId: string, connectorId?: number): Promise<{ status: string }>;
    },
  ) {}

  /** The charger sent a BootNotification: its states follow by themselves. */
  booted(chargePointId: string): void {
    this.done.add(chargePointId);
  }

  /** The charger just connected: asks for its states where it booted before and none is known. */
  connected(chargePointId: string): void {
    const { deps } = this;
    if (this.done.has(chargePointId) || deps.registration(chargePointId) !== 'Accepted') return;
    if (deps.knowsStatus(chargePointId)) return;
    this.done.add(chargePointId);
    void this.ask(chargePointId).catch((err: Error) => {
      // Gone before it answered: its next connection asks again.
      if (deps.protocol(chargePointId) === undefined) this.done.delete(chargePointId);
      this.said(chargePointId, err.message);
    });
  }

  private async ask(chargePointId: string): Promise<void> {
    const { deps } = this;
    if (deps.protocol(chargePointId) !== 'ocpp2.0.1') {
      const { status } = await deps.trigger(chargePointId);
      if (status !== 'Accepted') this.said(chargePointId, status);
      return;
    }
    // A station has at most a few dozen EVSEs; the bound keeps a station that accepts any id finite.
    for (let evse = 1; evse <= MAX_EVSES; evse++) {
      const { status } = await deps.trigger(chargePointId, evse);
      if (status === 'Accepted') continue;
      if (evse === 1) this.said(chargePointId, status);
      return;
    }
  }

  /** Why the charger was not asked (nothing to do about it: its states come when they change). */
  private said(chargePointId: string, why: string): void {
    this.deps.log.debug?.(
      `charge point ${chargePointId}: its connectors' states stay unknown until it sends them (TriggerMessage StatusNotification: ${why})`,
    );
  }
}

/** The most EVSEs of one 2.0.1 station asked for their state. */
const MAX_EVSES = 32;
