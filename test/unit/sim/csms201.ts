import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type RPCServerClient from 'ocpp-rpc/lib/server-client';
import { ManualClock } from '../../../lib/clock';
import { SimulatedChargePoint, type SimulatedChargePointOptions } from '../../../sim/charge-point';

/**
 * A bare OCPP 2.0.1 CSMS for the simulator's 2.0.1 tests: ocpp-rpc's RPCServer in strict mode with
 * the OCA 2.0.1 schemas the library ships (not the package's central system), answering each call
 * minimally and validly, recording every call of the charger in its 2.0.1 shapes and every
 * strict-mode violation either way.
 */

export interface Received201 {
  identity: string;
  action: string;
  params: Record<string, unknown>;
}

type Answer = (params: Record<string, unknown>, identity: string) => unknown;

export class TestCsms201 extends EventEmitter {
  readonly received: Received201[] = [];
  readonly violations: string[] = [];
  readonly clients = new Map<string, RPCServerClient>();
  /** Answers by action; override per test. */
  readonly answers: Record<string, Answer> = {};
  private closed = false;

  private constructor(
    readonly server: RPCServer,
    readonly port: number,
  ) {
    super();
  }

  static async start(protocols: string[] = ['ocpp2.0.1']): Promise<TestCsms201> {
    const server = new RPCServer({
      protocols,
      strictMode: true,
      pingIntervalMs: 0,
    } as ConstructorParameters<typeof RPCServer>[0]);
    const http = await server.listen(0, '127.0.0.1');
    const csms = new TestCsms201(server, (http.address() as AddressInfo).port);
    server.on('client', (client: RPCServerClient) => csms.onClient(client));
    return csms;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp`;
  }

  private onClient(client: RPCServerClient): void {
    const identity = client.identity as string;
    this.clients.set(identity, client);
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
      const message = { identity, action: String(method), params: params as Record<string, unknown> };
      this.received.push(message);
      this.emit('message', message);
      const answer = this.answers[message.action] ?? defaultAnswer(message.action);
      return answer(message.params, identity) as Promise<Record<string, unknown>>;
    });
    this.emit('client', identity);
  }

  /** Calls of `action` so far. */
  messages(action: string): Record<string, unknown>[] {
    return this.received.filter((m) => m.action === action).map((m) => m.params);
  }

  /** The next call of `action` that `accept` takes (registered now: set it up before the trigger). */
  next(
    action: string,
    accept: (params: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 4000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', listener);
        reject(
          new Error(
            `no ${action} within ${timeoutMs} ms; got: ${this.received.map((m) => m.action).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const listener = (message: Received201) => {
        if (message.action !== action || !accept(message.params)) return;
        clearTimeout(timer);
        this.off('message', listener);
        resolve(message.params);
      };
      this.on('message', listener);
    });
  }

  /** Sends a CSMS request and returns the answer (both checked by strict mode). */
  async call(
    identity: string,
    action: string,
    params: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`${identity} is not connected`);
    return (await client.call(action, params)) as Record<string, unknown>;
  }

  /** The CALLERROR code a request is answered with; fails when it is answered. */
  async callError(identity: string, action: string, params: Record<string, unknown>): Promise<string> {
    try {
      await this.call(identity, action, params);
    } catch (err) {
      return String((err as { rpcErrorCode?: string }).rpcErrorCode);
    }
    throw new Error(`${action} was answered, not refused`);
  }

  assertStrict(): void {
    assert.deepEqual(this.violations, [], 'schema violations');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close({ force: true });
  }
}

function defaultAnswer(action: string): Answer {
  const now = () => new Date().toISOString();
  switch (action) {
    case 'BootNotification':
      return () => ({ status: 'Accepted', currentTime: now(), interval: 300 });
    case 'Heartbeat':
      return () => ({ currentTime: now() });
    case 'Authorize':
      return () => ({ idTokenInfo: { status: 'Accepted' } });
    case 'TransactionEvent':
      return (params) => (params.idToken ? { idTokenInfo: { status: 'Accepted' } } : {});
    case 'SignCertificate':
      return () => ({ status: 'Accepted' });
    case 'DataTransfer':
      return () => ({ status: 'UnknownVendorId' });
    default:
      return () => ({});
  }
}

/**
 * Per test of the suite: a bare 2.0.1 CSMS (started before the test, closed after it) and the
 * 2.0.1 simulators `simulator()` makes against it on a ManualClock (closed after the test too).
 * `restart()` puts another CSMS in its place (a test of the handshake).
 */
export function useBareCsms201() {
  const state: { csms?: TestCsms201 } = {};
  const made: SimulatedChargePoint[] = [];
  beforeEach(async () => {
    state.csms = await TestCsms201.start();
  });
  afterEach(async () => {
    for (const cp of made.splice(0)) await cp.close();
    await state.csms?.close();
  });
  const server = () => state.csms as TestCsms201;
  return {
    server,
    restart: async (protocols?: string[]) => {
      await server().close();
      state.csms = await TestCsms201.start(protocols);
    },
    simulator: (options: Partial<SimulatedChargePointOptions> = {}) => {
      const clock = new ManualClock();
      const cp = new SimulatedChargePoint({
        ocppVersion: '2.0.1',
        centralSystemUrl: server().url,
        identity: 'SIM201-1',
        clock,
        ...options,
        configuration: { WebSocketPingInterval: 0, ...options.configuration },
      });
      made.push(cp);
      return { cp, clock };
    },
  };
}
