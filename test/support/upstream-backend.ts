import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type { ServerClient } from '../../lib/ocpp/rpc-types';

/**
 * An operator's OCPP backend for the upstream-proxy tests: a bare ocpp-rpc server in strict mode
 * (ocpp-rpc's own OCPP 1.6 schemas), not ampflow's central system. It accepts every charger (or
 * checks a password), records every CALL it gets, answers them as a simple CSMS does and gives
 * transaction ids from 7001 on. Tests send it commands with `call`, and stop and start it to take
 * it away and bring it back (on the same port).
 *
 * Events: `call` ({ identity, action, params }) after each recorded CALL; `client` (identity).
 */
export class UpstreamBackend extends EventEmitter {
  readonly calls: { identity: string; action: string; params: Record<string, unknown> }[] = [];
  /** Requests the strict server refused (a schema violation): a test asserts there are none. */
  readonly badMessages: string[] = [];
  /** The identity and password of every handshake. */
  readonly handshakes: { identity: string; password?: string }[] = [];
  readonly clients = new Map<string, ServerClient>();
  private server: RPCServer | undefined;
  private port = 0;
  private nextTransactionId = 7001;

  constructor(private readonly options: { password?: string } = {}) {
    super();
  }

  /** Where the proxy dials, with the identity at the end. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp/{identity}`;
  }

  async start(): Promise<void> {
    const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    server.auth((accept, reject, handshake) => {
      const password = handshake.password?.toString('utf8');
      this.handshakes.push({
        identity: String(handshake.identity),
        ...(password === undefined ? {} : { password }),
      });
      if (this.options.password !== undefined && password !== this.options.password) {
        reject(401, 'Unauthorized');
        return;
      }
      accept();
    });
    server.on('client', (client: ServerClient) => this.serve(client));
    const http = await server.listen(this.port, '127.0.0.1');
    this.port = (http.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops the backend: every proxied charger's link drops. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.clients.clear();
    await server?.close({ code: 1001, awaitPending: false, force: true });
  }

  /** Sends a command to a charger through its link. */
  call(identity: string, action: string, params: unknown): Promise<unknown> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`${identity} is not connected to the backend`);
    return client.call(action, params);
  }

  /** The CALLs of one action (from one identity, if given). */
  of(action: string, identity?: string) {
    return this.calls.filter(
      (c) => c.action === action && (identity === undefined || c.identity === identity),
    );
  }

  private serve(client: ServerClient): void {
    const identity = String(client.handshake.identity);
    this.clients.set(identity, client);
    client.on('badMessage', ({ error }: { error: Error }) =>
      this.badMessages.push(`${identity}: ${error.message}`),
    );
    client.on('close', () => {
      if (this.clients.get(identity) === client) this.clients.delete(identity);
    });
    const record = (action: string, params: Record<string, unknown>) => {
      this.calls.push({ identity, action, params });
      this.emit('call', { identity, action, params });
    };
    const now = () => new Date().toISOString();
    const answers: Record<string, (params: Record<string, unknown>) => unknown> = {
      BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 3600 }),
      Heartbeat: () => ({ currentTime: now() }),
      StatusNotification: () => ({}),
      MeterValues: () => ({}),
      Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
      StartTransaction: () => ({
        transactionId: this.nextTransactionId++,
        idTagInfo: { status: 'Accepted' },
      }),
      StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
      DataTransfer: () => ({ status: 'Accepted', data: 'from the backend' }),
      FirmwareStatusNotification: () => ({}),
      DiagnosticsStatusNotification: () => ({}),
    };
    for (const [action, answer] of Object.entries(answers)) {
      client.handle(action, async ({ params }) => {
        const request = (params ?? {}) as Record<string, unknown>;
        record(action, request);
        return answer(request) as Record<string, unknown>;
      });
    }
    this.emit('client', identity);
  }
}
