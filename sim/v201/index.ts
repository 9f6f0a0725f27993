import {
  isCsmsAction201,
  isStationAction201,
  OCPP201,
  OCPP201_ERROR_CODES,
} from '../../lib/ocpp/v201/schemas';
import type { CpAction } from '../types';
import { Incoming201, type IncomingContext } from './incoming';
import { type Host201, Outgoing201, type Wire } from './outgoing';
import { Transactions201 } from './transactions';

export type { IncomingContext, Run } from './incoming';
export type { EvseState, Host201, Wire } from './outgoing';
export { OCPP201 };

/**
 * The simulator speaking OCPP 2.0.1: its behaviour stays OCPP 1.6's (sim/), translated at the
 * link, as the central system translates 2.0.1 chargers the other way (lib/ocpp/v201). The link
 * hands every request of the simulator to {@link send} and every CSMS command to {@link receive}.
 */
export class Ocpp201 {
  readonly transactions = new Transactions201();
  readonly outgoing: Outgoing201;
  private readonly incoming: Incoming201;

  constructor(host: Host201) {
    this.outgoing = new Outgoing201(host, this.transactions);
    this.incoming = new Incoming201(host, this.transactions, this.outgoing);
  }

  /** A connection opened. */
  connected(): void {
    this.outgoing.connected();
  }

  /** The simulator's request, sent as 2.0.1; the answer in 1.6 shapes. */
  send(action: CpAction, request: unknown, wire: Wire, triggered: boolean): Promise<unknown> {
    return this.outgoing.send(action, request, wire, triggered);
  }

  /** A CSMS command, answered through the simulator's 1.6 handlers; the answer in 2.0.1 shapes. */
  receive(action: string, request: Record<string, unknown>, ctx: IncomingContext): Promise<unknown> {
    // customData (a vendor's extension, anywhere in 2.0.1) means nothing to the simulator.
    return this.incoming.answer(action, withoutCustomData(request) as Record<string, unknown>, ctx);
  }

  /** The simulator's request a 2.0.1 payload on its way carries. */
  originOf(payload: unknown): { action: CpAction; request: unknown } | undefined {
    return this.outgoing.originOf(payload);
  }

  /** The 2.0.1 transactionId of the transaction the simulator knows by `transactionId`. */
  transactionId(transactionId: number): string | undefined {
    return this.transactions.ofNumeric(transactionId)?.id;
  }

  /** Why the simulator restarts, for the BootNotification that follows. */
  rebooting(reason: string): void {
    this.outgoing.bootReason = /reset/i.test(reason)
      ? 'RemoteReset'
      : /firmware/i.test(reason)
        ? 'FirmwareUpdate'
        : 'Unknown';
  }

  static isCsmsAction(action: string): boolean {
    return isCsmsAction201(action);
  }

  static isStationAction(action: string): boolean {
    return isStationAction201(action);
  }
}

/**
 * A CALLERROR frame with its code in 2.0.1's spelling (ocpp-rpc writes the 1.6 spelling of
 * OccurenceConstraintViolation on every protocol but 1.6, and the simulator's 1.6 checks name
 * FormationViolation); other frames as they are.
 */
export function errorFrame201(message: string): string {
  if (!message.startsWith('[4,')) return message;
  const frame = JSON.parse(message) as [number, string, string, string, object];
  const code = OCPP201_ERROR_CODES[frame[2]];
  if (!code) return message;
  frame[2] = code;
  return JSON.stringify(frame);
}

/** `value` without customData, except in DataTransfer's data (whatever the vendor puts there). */
function withoutCustomData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCustomData);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'customData')
      .map(([key, inner]) => [key, key === 'data' ? inner : withoutCustomData(inner)]),
  );
}
