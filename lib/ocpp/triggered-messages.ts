import type { Clock } from '../clock';

/**
 * What a charger that is not accepted yet may send all the same: the messages the central system
 * asked for. OCPP 1.6 section 4.2: such a charger "SHALL NOT send request messages ... unless it
 * has been instructed by the Central System to do so with a TriggerMessage.req". Those messages
 * are answered for a while after the trigger; every other one gets the SecurityError of OCPP-J
 * errata 3.8 (connection.ts).
 */

/** How long a charger has to send a message the central system triggered. */
export const TRIGGERED_MESSAGE_WINDOW_MS = 60_000;

/** The charge-point action a (Extended)TriggerMessage asks for. */
export function triggeredAction(action: string, request: unknown): string | undefined {
  if (action !== 'TriggerMessage' && action !== 'ExtendedTriggerMessage') return undefined;
  const requested = (request as { requestedMessage?: string }).requestedMessage;
  return requested === 'SignChargePointCertificate' ? 'SignCertificate' : requested;
}

/** One connection's triggered messages and until when each may come. */
export class TriggeredMessages {
  /** Messages the central system asked for with (Extended)TriggerMessage, allowed until this time. */
  private readonly untilMs = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /**
   * A command is about to go out: a trigger allows the message it asks for from now on (before the
   * call goes out: the answer and the triggered message may arrive together). Returns that message.
   */
  asked(action: string, request: unknown): string | undefined {
    const triggered = triggeredAction(action, request);
    if (triggered) this.untilMs.set(triggered, this.clock.now() + TRIGGERED_MESSAGE_WINDOW_MS);
    return triggered;
  }

  /** The trigger for `triggered` failed or was not Accepted: the message is not expected. */
  refused(triggered: string): void {
    this.untilMs.delete(triggered);
  }

  /** Whether the charger was asked for `action` and may still send it. */
  allows(action: string): boolean {
    const untilMs = this.untilMs.get(action);
    return untilMs !== undefined && this.clock.now() <= untilMs;
  }
}
