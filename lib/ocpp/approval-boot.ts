import type { Logger } from '../log';

/**
 * A charger approved while it is Pending is asked to boot again (TriggerMessage BootNotification,
 * OCPP 1.6 §5.17), so that it is accepted at once. Not every charger does: a Schneider EVlink's
 * TriggerMessage takes only StatusNotification, Heartbeat and MeterValues (vendor doc 003 §3.1) and
 * answers the rest Rejected or NotImplemented. Such a charger stays Pending until it sends its next
 * BootNotification by itself; this module says so, in the log and in the charger's info
 * (`ChargePointInfo.waitingForBoot`, shown in the Chargers sidebar), until that boot is answered
 * Accepted. The one owner of that word.
 */
export class ApprovalBoots {
  /** Why an approved charger is not accepted yet, by identity. */
  private readonly waiting = new Map<string, string>();

  constructor(
    private readonly deps: {
      call(chargePointId: string): Promise<{ status: string }>;
      log: Logger;
      /** The interval a Pending charger was told to send BootNotification again in, s. */
      retryIntervalS(): number;
    },
  ) {}

  /** Asks the approved, still Pending charger to boot again; a refusal or failure is said, not thrown. */
  ask(chargePointId: string): void {
    this.waiting.delete(chargePointId);
    this.deps
      .call(chargePointId)
      .then(({ status }) => {
        if (status === 'Accepted') return;
        this.waitFor(chargePointId, `it refused TriggerMessage BootNotification (${status})`);
      })
      .catch((err: Error) => {
        this.waitFor(
          chargePointId,
          `asking it to boot again (TriggerMessage BootNotification) failed: ${err.message}`,
        );
      });
  }

  /** The word for the charger while it is not accepted yet; forgotten once it is. */
  noteOf(chargePointId: string, registration: string | undefined): string | undefined {
    if (registration === 'Accepted') {
      this.waiting.delete(chargePointId);
      return undefined;
    }
    return this.waiting.get(chargePointId);
  }

  private waitFor(chargePointId: string, why: string): void {
    const note = `approved; ${why}, so it stays Pending until it sends its next BootNotification: a Pending charger sends one again after the interval it was given (${this.deps.retryIntervalS()} s, OCPP 1.6 §4.2); if it does not, restart it`;
    this.waiting.set(chargePointId, note);
    this.deps.log.warn(`charge point ${chargePointId} ${note}`);
  }
}
