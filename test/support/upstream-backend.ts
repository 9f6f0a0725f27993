import { EventEmitter, once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RPCServer } from 'ocpp-rpc';
import type { ServerClient } from '../../lib/ocpp/rpc-types';
import type { UpstreamProxy } from '../../lib/upstream/proxy';

/** One WebSocket handshake as the backend saw it. */
export interface Handshake {
  identity: string;
  password?: string;
  /** wss:// only: the client certificate's CN, and whether the backend's client CA signed it. */
  certificateCn?: string;
  certificateTrusted?: boolean;
  /** Why the backend refused it (HTTP 401). */
  refused?: string;
}

export interface UpstreamBackendOptions {
  /** Basic auth: the one password every charger must send. */
  password?: string;
  /** Basic auth: each charger's own password (a backend that registers each charger on its own). */
  passwords?: Record<string, string>;
  /**
   * wss://: its certificate and key (PEM); `clientCa`: it wants client certificates this CA signed,
   * refused with HTTP 401, or in the TLS handshake itself with `refuseAtTls`.
   */
  tls?: { cert: string; key: string; clientCa?: string; refuseAtTls?: boolean };
}

/**
 * An operator's OCPP backend for the upstream-proxy tests: a bare ocpp-rpc server in strict mode
 * (ocpp-rpc's own OCPP 1.6 schemas), not ampflow's central system. It accepts every charger (or
 * checks a password), records every CALL it gets, answers them as a simple CSMS does and gives
 * transaction ids from 7001 on. Tests send it commands with `call`, and stop and start it to take
 * it away and bring it back (on the same port).
 *
 * With `tls` it listens on wss:// (an https.Server of its own, ocpp-rpc's handleUpgrade), security
 * profile 2; with `tls.clientCa` too it asks for a client certificate and accepts a charger only
 * with one its CA signed for that very identity (CN = identity), security profile 3.
 *
 * Events: `call` ({ identity, action, params }) after each recorded CALL; `client` (identity);
 * `handshake` (the entry of `handshakes`, after the backend decided).
 */
export class UpstreamBackend extends EventEmitter {
  readonly calls: { identity: string; action: string; params: Record<string, unknown> }[] = [];
  /** Calls this returns true for are never answered (a hung backend). */
  hang: ((action: string, request: Record<string, unknown>) => boolean) | undefined;
  /** Requests the strict server refused (a schema violation): a test asserts there are none. */
  readonly badMessages: string[] = [];
  /** The identity and password of every handshake. */
  readonly handshakes: Handshake[] = [];
  readonly clients = new Map<string, ServerClient>();
  private server: RPCServer | undefined;
  private https: HttpsServer | undefined;
  private port = 0;
  private nextTransactionId = 7001;

  constructor(private readonly options: UpstreamBackendOptions = {}) {
    super();
  }

  /** Where the proxy dials, with the identity at the end. */
  get url(): string {
    return `${this.options.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ocpp/{identity}`;
  }

  async start(): Promise<void> {
    const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    server.auth((accept, reject, handshake) => {
      const password = handshake.password?.toString('utf8');
      const identity = String(handshake.identity);
      const entry: Handshake = { identity, ...(password === undefined ? {} : { password }) };
      const socket = handshake.request.socket as TLSSocket;
      if (this.options.tls) {
        const subject = socket.getPeerCertificate?.()?.subject as { CN?: string } | undefined;
        if (subject?.CN) entry.certificateCn = subject.CN;
        entry.certificateTrusted = socket.authorized === true;
      }
      const refusal = this.refusal(entry);
      if (refusal) entry.refused = refusal;
      this.handshakes.push(entry);
      this.emit('handshake', entry);
      if (refusal) reject(401, 'Unauthorized');
      else accept();
    });
    server.on('client', (client: ServerClient) => this.serve(client));
    const tls = this.options.tls;
    if (tls) {
      const https = createHttpsServer({
        cert: tls.cert,
        key: tls.key,
        ...(tls.clientCa
          ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: tls.refuseAtTls === true }
          : {}),
      });
      https.on('upgrade', server.handleUpgrade);
      https.listen(this.port, '127.0.0.1');
      await once(https, 'listening');
      this.port = (https.address() as AddressInfo).port;
      this.https = https;
    } else {
      const http = await server.listen(this.port, '127.0.0.1');
      this.port = (http.address() as AddressInfo).port;
    }
    this.server = server;
  }

  /** Stops the backend: every proxied charger's link drops. */
  async stop(): Promise<void> {
    const server = this.server;
    const https = this.https;
    this.server = undefined;
    this.https = undefined;
    this.clients.clear();
    await server?.close({ code: 1001, awaitPending: false, force: true });
    if (https) {
      const closed = once(https, 'close');
      https.close();
      https.closeAllConnections();
      await closed;
    }
  }

  /** Why the backend refuses a handshake (HTTP 401), or undefined when it accepts it. */
  private refusal(handshake: Handshake): string | undefined {
    const { password, passwords, tls } = this.options;
    if (password !== undefined && handshake.password !== password) return 'wrong password';
    if (passwords !== undefined && handshake.password !== passwords[handshake.identity])
      return 'wrong password';
    if (tls?.clientCa) {
      if (!handshake.certificateTrusted) return 'no client certificate of its CA';
      if (handshake.certificateCn !== handshake.identity) return 'a certificate of another identity';
    }
    return undefined;
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
        // A hung backend: the call is never answered (the connection's end ends the handler).
        if (this.hang?.(action, request)) await new Promise<never>(() => undefined);
        return answer(request) as Record<string, unknown>;
      });
    }
    this.emit('client', identity);
  }
}

/**
 * The backends and proxies a test starts, stopped after each test: `backendWith` starts a
 * backend; a test pushes each proxy it makes onto `proxies`.
 */
export function useUpstreamRig(): {
  proxies: UpstreamProxy[];
  backendWith: (options: UpstreamBackendOptions) => Promise<UpstreamBackend>;
} {
  const backends: UpstreamBackend[] = [];
  const proxies: UpstreamProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await Promise.all(backends.splice(0).map((backend) => backend.stop()));
  });
  async function backendWith(options: UpstreamBackendOptions): Promise<UpstreamBackend> {
    const backend = new UpstreamBackend(options);
    backends.push(backend);
    await backend.start();
    return backend;
  }
  return { proxies, backendWith };
}
