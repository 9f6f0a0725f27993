import { type EventEmitter, once } from 'node:events';
import { ChargePoint } from '@voltbras/ts-ocpp';
import { chargePointActions } from '@voltbras/ts-ocpp/dist/messages/cp';
import { centralSystemActions } from '@voltbras/ts-ocpp/dist/messages/cs';
import { validateMessageRequest, validateMessageResponse } from '@voltbras/ts-ocpp/dist/messages/validation';
import type { ChargePointAction } from '../../lib/ocpp/actions';
import type { OcppRequest, OcppResponse } from '../../lib/ocpp/messages';
import { PeerCharger, type PeerChargerOptions } from './peer-charger';

/**
 * A charger on @voltbras/ts-ocpp (pinned), a TypeScript OCPP 1.6-J implementation written
 * elsewhere: its own framing, its own copy of the OCPP 1.6 JSON schemas checked with `jsonschema`,
 * nothing shared with ocpp-rpc (on which the central system is built) or @evpower/ocpp-ts.
 *
 * The library checks every request the charger sends and every request the central system sends
 * against its schemas (an invalid one is answered with a CALLERROR and never reaches the charger).
 * It does not check the central system's answers; this charger does, with the library's own
 * `validateMessageResponse`, and records every request and answer of the central system that the
 * library's schemas refuse in `violations`, for the tests to assert there are none.
 *
 * The library logs a socket error to the console and never rejects `connect()`; this wrapper
 * takes the socket's events over so a failed connection fails the test instead of hanging it.
 */

/** What the library's socket (ws 7) offers that the wrapper uses. */
type LibrarySocket = EventEmitter & { readonly protocol: string; readonly readyState: number; close(): void };

export class VoltbrasCharger extends PeerCharger {
  /** Requests and answers of the central system that the library's schemas refuse. */
  readonly violations: string[] = [];
  private client: ChargePoint | undefined;
  private socket: LibrarySocket | undefined;
  /** Calls awaiting their answer: the library keeps a 30 s timer for each until it comes. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(identity: string, options: PeerChargerOptions = {}) {
    super(identity, options);
  }

  async connect(url: string): Promise<void> {
    // The library dials `${csUrl}/${identity}` with sub-protocol ocpp1.6.
    const client = new ChargePoint(
      this.identity,
      (request) => {
        const { action, ocppVersion, ...payload } = request as { action: string; ocppVersion: string };
        // Whatever the handler throws the library answers as a CALLERROR (GenericError).
        return { action, ocppVersion, ...this.answer(action, payload) } as never;
      },
      url.replace(/\/+$/, ''),
    );
    this.client = client;
    const opened = client.connect();
    const socket = (client as unknown as { connection: { socket: LibrarySocket } }).connection.socket;
    this.socket = socket;
    socket.removeListener('error', console.error);
    socket.on('error', () => undefined); // a failed handshake also closes the socket: see below
    socket.on('message', (data: unknown) => this.checkIncoming(String(data)));
    const closedEarly = once(socket, 'close').then(() => {
      throw new Error(`${this.identity}: the central system closed the connection during the handshake`);
    });
    await Promise.race([opened, closedEarly]);
    closedEarly.catch(() => undefined);
    if (socket.protocol !== 'ocpp1.6') throw new Error(`${this.identity}: sub-protocol "${socket.protocol}"`);
    await this.boot('PeerTest', 'voltbras-ts-ocpp');
  }

  protected async send<A extends ChargePointAction>(
    action: A,
    request: OcppRequest<A>,
  ): Promise<OcppResponse<A>> {
    const client = this.client;
    if (!client || this.closing) throw new Error(`${this.identity} is not connected (${action})`);
    const call = client.sendRequest({ action, ocppVersion: 'v1.6-json', payload: request } as never).run();
    this.inFlight.add(call);
    const result = await call.finally(() => this.inFlight.delete(call));
    // Left: the library refused the request (its schemas), the call timed out or the answer was a CALLERROR.
    if (result.isLeft()) throw result.extract();
    const response = result.extract() as object;
    const checked = validateMessageResponse(action, response, chargePointActions);
    if (checked.isLeft()) this.violations.push(`${action}.conf: ${checked.extract().message}`);
    return response as OcppResponse<A>;
  }

  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (!socket || socket.readyState === 3 /* CLOSED */) return;
    // Closing under a call would leave the library's timer for it running for 30 s.
    await Promise.allSettled([...this.inFlight]);
    const closed = once(socket, 'close');
    this.client?.close();
    await closed;
  }

  /** Records a CALL of the central system that the library's schemas refuse (the library answers it with an error). */
  private checkIncoming(raw: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch {
      this.violations.push(`not JSON: ${raw.slice(0, 80)}`);
      return;
    }
    if (!Array.isArray(frame) || frame[0] !== 2) return;
    const [, , action, payload] = frame as [number, string, string, object];
    const checked = validateMessageRequest(action, payload ?? {}, centralSystemActions);
    if (checked.isLeft()) this.violations.push(`${action}.req: ${checked.extract().message}`);
  }
}
