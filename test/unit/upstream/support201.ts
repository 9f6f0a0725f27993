import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { ServerClient } from '../../../lib/ocpp/rpc-types';
import { Charger201 } from '../../support/charger201';
import type { Call, TestBackend } from './support';

type Payload = Record<string, unknown>;

/** An answer of the backend to one action; `byDefault` is what it would have answered. */
export type Answer201 = (
  request: Payload,
  identity: string,
  byDefault: () => Payload,
) => Payload | Promise<Payload>;

const now = () => new Date().toISOString();

/** What a simple CSMS answers, per sub-protocol. */
const DEFAULTS: Record<string, Record<string, (request: Payload) => Payload>> = {
  'ocpp2.0.1': {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    MeterValues: () => ({}),
    Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
    TransactionEvent: (r) => (r.idToken ? { idTokenInfo: { status: 'Accepted' } } : {}),
    DataTransfer: () => ({ status: 'Accepted' }),
    NotifyReport: () => ({}),
    NotifyEvent: () => ({}),
    SecurityEventNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
    LogStatusNotification: () => ({}),
    NotifyEVChargingNeeds: () => ({ status: 'Accepted' }),
    SignCertificate: () => ({ status: 'Accepted' }),
  },
  'ocpp1.6': {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    MeterValues: () => ({}),
    Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
    StartTransaction: () => ({ transactionId: 7001, idTagInfo: { status: 'Accepted' } }),
    StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
    DataTransfer: () => ({ status: 'Accepted' }),
  },
};

/**
 * An operator's OCPP 2.0.1 backend that is not ampflow: a bare ocpp-rpc server in strict mode
 * (ocpp-rpc's own copy of the OCA 2.0.1 schemas judges every frame both ways), optionally speaking
 * ocpp1.6 too (then its answers follow each connection's sub-protocol). It accepts every charger,
 * records every CALL and the sub-protocol of each identity's link, and answers as a simple CSMS;
 * `answer` overrides one action. `stop` and `start` take it away and bring it back on the same port.
 *
 * Events: `call` ({ identity, action, params }) after each recorded CALL; `client` (identity).
 */
export class Backend201 extends EventEmitter implements TestBackend {
  readonly calls: Call[] = [];
  /** Frames the strict server refused (a schema violation): tests assert there are none. */
  readonly badMessages: string[] = [];
  /** The sub-protocol each identity's link spoke (its latest connection). */
  readonly protocols = new Map<string, string>();
  readonly clients = new Map<string, ServerClient>();
  private readonly answers = new Map<string, Answer201>();
  private server: RPCServer | undefined;
  private port = 0;

  constructor(private readonly offered: string[] = ['ocpp2.0.1']) {
    super();
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp/{identity}`;
  }

  async start(): Promise<void> {
    const server = new RPCServer({ protocols: this.offered, strictMode: true });
    server.auth((accept) => accept());
    server.on('client', (client: ServerClient) => this.serve(client));
    const http = await server.listen(this.port, '127.0.0.1');
    this.port = (http.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.clients.clear();
    await server?.close({ code: 1001, awaitPending: false, force: true });
  }

  /** Overrides the answer to `action` (undefined: the default again). */
  answer(action: string, answer: Answer201 | undefined): void {
    if (answer) this.answers.set(action, answer);
    else this.answers.delete(action);
  }

  /** Sends a command to a charger through its link. */
  call(identity: string, action: string, params: unknown): Promise<unknown> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`${identity} is not connected to the backend`);
    return client.call(action, params);
  }

  /** The CALLs of one action (of one identity, if given). */
  of(action: string, identity?: string): Call[] {
    return this.calls.filter(
      (c) => c.action === action && (identity === undefined || c.identity === identity),
    );
  }

  private serve(client: ServerClient): void {
    const identity = String(client.handshake.identity);
    const protocol = String(client.protocol);
    this.clients.set(identity, client);
    this.protocols.set(identity, protocol);
    client.on('badMessage', ({ error }: { error: Error }) =>
      this.badMessages.push(`${identity}: ${error.message}`),
    );
    client.on('close', () => {
      if (this.clients.get(identity) === client) this.clients.delete(identity);
    });
    const defaults = DEFAULTS[protocol] ?? {};
    for (const [action, byDefault] of Object.entries(defaults)) {
      client.handle(action, async ({ params }: { params?: unknown }) => {
        const request = (params ?? {}) as Payload;
        this.calls.push({ identity, action, params: request });
        this.emit('call', { identity, action, params: request });
        const answer = this.answers.get(action);
        return answer ? answer(request, identity, () => byDefault(request)) : byDefault(request);
      });
    }
    this.emit('client', identity);
  }
}

/** An independent 2.0.1 charger (test/support/charger201.ts) that dials `cs`, not yet connected. */
export function charger201(
  cs: CentralSystem,
  identity = 'CS201',
  track?: (c: Charger201) => void,
): Charger201 {
  const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity });
  track?.(charger);
  return charger;
}
