import type { RPCClient } from 'ocpp-rpc';
import type { Logger } from '../lib/log';
import type { OcppRequest, OcppResponse } from '../lib/ocpp/messages';
import { markDeviation, validateOcpp16 } from './schema';
import { type CpAction, NotConnectedError, type RegistrationStatus, type ResultMessage } from './types';
import type { Link201 } from './v201/link';

const OPEN = 1;

/** What outgoing calls need from the link (sim/link.ts). */
export interface CallHost {
  readonly log: Logger;
  readonly identity: string;
  /** The link's OCPP 2.0.1 side; undefined under 1.6. */
  readonly v201: Link201 | undefined;
  client(): RPCClient | undefined;
  registration(): RegistrationStatus | undefined;
  result(message: ResultMessage): void;
  callError(message: { action: CpAction; request: unknown; error: Error }): void;
  /** A call ended (the link may have become idle). */
  ended(): void;
}

/** The charge point's requests to the central system: when they may go out, 1.6 validation, the events. */
export class LinkCalls {
  private pending = 0;

  constructor(private readonly host: CallHost) {}

  /** Calls sent and not answered yet. */
  get outstanding(): number {
    return this.pending;
  }

  /** See ChargePointLink.call. */
  async call<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { deviates?: boolean; triggered?: boolean; beforeAccepted?: boolean } = {},
  ): Promise<OcppResponse<A>> {
    const { host } = this;
    const client = host.client();
    if (!client || client.state !== OPEN) throw new NotConnectedError(action, 'offline');
    const registration = host.registration();
    const allowed =
      options.beforeAccepted ||
      registration === 'Accepted' ||
      (options.triggered && registration === 'Pending');
    if (!allowed) throw new NotConnectedError(action, `registration is ${registration ?? 'not done'}`);
    const selfValidate = client.protocol !== 'ocpp1.6';
    if (options.deviates) markDeviation(payload);
    else if (selfValidate) validateOcpp16(`urn:${action}.req`, payload);
    this.pending += 1;
    try {
      const answer =
        host.v201?.send(action, payload, client, options.triggered) ?? client.call(action, payload);
      const response = (await answer) as OcppResponse<A>;
      if (selfValidate) validateOcpp16(`urn:${action}.conf`, response);
      host.result({ action, request: payload, response } as ResultMessage);
      return response;
    } catch (err) {
      host.callError({ action, request: payload, error: err as Error });
      throw err;
    } finally {
      this.pending -= 1;
      host.ended();
    }
  }

  /** See ChargePointLink.notify. */
  notify<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { triggered?: boolean; deviates?: boolean } = {},
  ): void {
    if (this.host.client()?.state !== OPEN) return;
    this.call(action, payload, options).catch((err: Error) => {
      if (!(err instanceof NotConnectedError))
        this.host.log.warn(`${this.host.identity}: ${action} failed: ${err.message}`);
    });
  }
}
