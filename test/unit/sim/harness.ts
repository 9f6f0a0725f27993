import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type RPCServerClient from 'ocpp-rpc/lib/server-client';
import type { IHandshakeInterface } from 'ocpp-rpc/lib/server-client';
import { ManualClock } from '../../../lib/clock';
import type { OcppAction, OcppRequest, OcppResponse } from '../../../lib/ocpp/messages';
import { SimulatedChargePoint, type SimulatedChargePointOptions } from '../../../sim/charge-point';

/**
 * A central system for the simulator's tests: a real ocpp-rpc RPCServer in strict mode on
 * 127.0.0.1, answering as a central system would, recording every message and every strict-mode
 * violation (so a test can assert that both directions kept to the schemas).
 */

export interface Received {
  identity: string;
  action: OcppAction;
  params: Record<string, unknown>;
}

type Answer = (params: never, identity: string) => unknown;

export class TestCentralSystem extends EventEmitter {
  readonly received: Received[] = [];
  readonly violations: string[] = [];
  readonly handshakes: IHandshakeInterface[] = [];
  readonly clients = new Map<string, RPCServerClient>();
  /** Answers by action; override per test. */
  readonly answers: Partial<Record<OcppAction, Answer>> = {};
  private nextTransactionId = 1000;

  private constructor(
    readonly server: RPCServer,
    readonly port: number,
  ) {
    super();
  }

  private tlsServer: Server | undefined;

  static async start(
    options: {
      strict?: boolean;
      auth?: Parameters<RPCServer['auth']>[0];
      /** Serve wss:// with this certificate; with `ca`, ask for client certificates (profile 3) issued by it. */
      tls?: { cert: string; key: string; ca?: string };
    } = {},
  ): Promise<TestCentralSystem> {
    const server = new RPCServer({
      protocols: ['ocpp1.6'],
      strictMode: options.strict ?? true,
      // Real timers here would outlive a test; the simulator's own pings are off in tests too.
      pingIntervalMs: 0,
    } as ConstructorParameters<typeof RPCServer>[0]);
    let port: number;
    let tlsServer: Server | undefined;
    if (options.tls) {
      // Client certificates are asked for but not required, so a test can see who presents one.
      const requestCert = options.tls.ca !== undefined;
      tlsServer = createServer({
        ...options.tls,
        requestCert,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      });
      tlsServer.on('upgrade', server.handleUpgrade);
      await new Promise<void>((resolve) => tlsServer?.listen(0, '127.0.0.1', resolve));
      port = (tlsServer.address() as AddressInfo).port;
    } else {
      const http = await server.listen(0, '127.0.0.1');
      port = (http.address() as AddressInfo).port;
    }
    const cs = new TestCentralSystem(server, port);
    cs.tlsServer = tlsServer;
    if (options.auth) server.auth(options.auth);
    server.on('client', (client: RPCServerClient) => cs.onClient(client));
    return cs;
  }

  get url(): string {
    return `${this.tlsServer ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ocpp`;
  }

  private onClient(client: RPCServerClient): void {
    const identity = client.identity as string;
    this.clients.set(identity, client);
    this.handshakes.push(client.handshake);
    client.on('strictValidationFailure', (event: { method: string; outbound: boolean; error: Error }) => {
      this.violations.push(
        `${identity} ${event.outbound ? 'sent' : 'got'} ${event.method}: ${event.error.message}`,
      );
    });
    client.once('close', () => {
      if (this.clients.get(identity) === client) this.clients.delete(identity);
      this.emit('closed', identity);
    });
    client.handle(({ method, params }) => {
      const action = method as OcppAction;
      const message = { identity, action, params: params as Record<string, unknown> };
      this.received.push(message);
      this.emit('message', message);
      const answer = this.answers[action] ?? this.defaultAnswer(action);
      return answer(params as never, identity) as Promise<Record<string, unknown>>;
    });
    this.emit('client', identity);
  }

  private defaultAnswer(action: OcppAction): Answer {
    const now = () => new Date().toISOString();
    switch (action) {
      case 'BootNotification':
        return () => ({ status: 'Accepted', currentTime: now(), interval: 300 });
      case 'Heartbeat':
        return () => ({ currentTime: now() });
      case 'Authorize':
        return () => ({ idTagInfo: { status: 'Accepted' } });
      case 'StartTransaction':
        return () => ({ transactionId: this.nextTransactionId++, idTagInfo: { status: 'Accepted' } });
      case 'StopTransaction':
        return () => ({ idTagInfo: { status: 'Accepted' } });
      case 'SignCertificate':
        return () => ({ status: 'Accepted' });
      case 'DataTransfer':
        return () => ({ status: 'UnknownVendorId' });
      default:
        return () => ({});
    }
  }

  /**
   * Answers BootNotification with `first` in turn, then Accepted, each with heartbeat `interval` (s).
   */
  answerBoots(first: ('Accepted' | 'Pending' | 'Rejected')[], interval: number): void {
    const statuses = [...first];
    this.answers.BootNotification = () => ({
      status: statuses.shift() ?? 'Accepted',
      currentTime: new Date().toISOString(),
      interval,
    });
  }

  /** Messages of `action` received so far (from `identity` if given). */
  messages<A extends OcppAction>(action: A, identity?: string): OcppRequest<A>[] {
    return this.received
      .filter((m) => m.action === action && (identity === undefined || m.identity === identity))
      .map((m) => m.params as unknown as OcppRequest<A>);
  }

  /** Resolves with the next `action` message that satisfies `accept` (registered now: set it up before the trigger). */
  next<A extends OcppAction>(
    action: A,
    accept: (params: OcppRequest<A>, identity: string) => boolean = () => true,
    timeoutMs = 4000,
  ): Promise<OcppRequest<A>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', listener);
        reject(
          new Error(
            `no ${action} within ${timeoutMs} ms; got: ${this.received.map((m) => m.action).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const listener = (message: Received) => {
        if (
          message.action !== action ||
          !accept(message.params as unknown as OcppRequest<A>, message.identity)
        )
          return;
        clearTimeout(timer);
        this.off('message', listener);
        resolve(message.params as unknown as OcppRequest<A>);
      };
      this.on('message', listener);
    });
  }

  /** Resolves when `identity` is connected (at once if it is). */
  connected(identity: string, timeoutMs = 4000): Promise<RPCServerClient> {
    const existing = this.clients.get(identity);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('client', listener);
        reject(new Error(`${identity} did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (who: string) => {
        if (who !== identity) return;
        clearTimeout(timer);
        this.off('client', listener);
        resolve(this.clients.get(identity) as RPCServerClient);
      };
      this.on('client', listener);
    });
  }

  /** Sends a central-system request and returns the answer (validated by the server's strict mode). */
  async call<A extends OcppAction>(
    identity: string,
    action: A,
    params: OcppRequest<A>,
  ): Promise<OcppResponse<A>> {
    const client = await this.connected(identity);
    return (await client.call(action, params)) as OcppResponse<A>;
  }

  /** Drops the connection of `identity` without a close handshake, as a network failure would. */
  async drop(identity: string): Promise<void> {
    const client = this.clients.get(identity);
    if (!client) return;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await client.close({ force: true });
    await closed;
  }

  assertStrict(): void {
    assert.deepEqual(this.violations, [], 'schema violations');
  }

  private closed = false;

  /** Stops serving; once (a test may close it before its afterEach does). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close({ force: true });
    const tls = this.tlsServer;
    if (tls) {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  }
}

/** A charge point on a ManualClock against `cs`, with test-friendly defaults (no WebSocket pings). */
export function simulator(
  cs: TestCentralSystem,
  options: Partial<SimulatedChargePointOptions> = {},
): { cp: SimulatedChargePoint; clock: ManualClock } {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const cp = new SimulatedChargePoint({
    centralSystemUrl: cs.url,
    identity: 'CP1',
    clock,
    ...options,
    configuration: { WebSocketPingInterval: 0, ...options.configuration },
  });
  return { cp, clock };
}

export interface Simulated {
  cs: TestCentralSystem;
  cp: SimulatedChargePoint;
  clock: ManualClock;
}

type StartOptions = Parameters<typeof TestCentralSystem.start>[0];

/**
 * Per test: a TestCentralSystem, started before it, and the simulators made against it; after the
 * test the simulators close, then the central system. With `assertStrict`, no message either way
 * may then have broken the schemas.
 */
export function useSimulators(options: { assertStrict?: boolean } = {}) {
  let cs: TestCentralSystem | undefined;
  const made: SimulatedChargePoint[] = [];
  beforeEach(async () => {
    cs = await TestCentralSystem.start();
  });
  afterEach(async () => {
    for (const cp of made.splice(0)) await cp.close();
    await cs?.close();
    if (options.assertStrict) cs?.assertStrict();
  });
  const centralSystem = (): TestCentralSystem => {
    if (!cs) throw new Error('no central system outside a test');
    return cs;
  };
  const make = (simulatorOptions: Partial<SimulatedChargePointOptions> = {}): Simulated => {
    const sim = simulator(centralSystem(), simulatorOptions);
    made.push(sim.cp);
    return { cs: centralSystem(), ...sim };
  };
  return {
    centralSystem,
    /** Closes the test's central system and starts another in its place (with other options). */
    async replaceCentralSystem(startOptions?: StartOptions): Promise<TestCentralSystem> {
      await cs?.close();
      cs = await TestCentralSystem.start(startOptions);
      return cs;
    },
    /** A simulator against the test's central system, not yet connected. */
    simulator: make,
    /** A simulator against the test's central system, connected. */
    async connected(simulatorOptions: Partial<SimulatedChargePointOptions> = {}): Promise<Simulated> {
      const sim = make(simulatorOptions);
      await sim.cp.connect();
      return sim;
    },
  };
}

export { type ChargingProfile, chargingProfile, type ProfileFields } from '../../support/charging-profiles';
export { advance } from '../../support/clock';
