import type { ManualClock } from '../../../lib/clock';
import { type BusOptions, ModbusBus } from '../../../lib/modbus/bus';
import {
  type ConnectionEvents,
  type Connector,
  connectionLostError,
  type ModbusConnection,
} from '../../../lib/modbus/connection';
import { Meter, type MeterOptions } from '../../../lib/modbus/meter';
import { ModbusSimServer, type SimTransport } from '../../../sim/modbus-server';

/**
 * Resolves once `predicate` holds, checking after each turn of the event loop (real I/O on
 * loopback finishes within a few turns). Rejects after `timeoutMs` naming what it waited for.
 */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A read the fake connection has been asked for, waiting for the test to answer it. */
export interface PendingRead {
  unitId: number;
  functionCode: 3 | 4;
  address: number;
  quantity: number;
  answer(registers?: number[]): void;
  fail(error: Error): void;
}

/**
 * Connections the test drives by hand: every read waits in `pending` until answered, failed or
 * left to time out; `drop()` breaks the current connection; `refuse` makes connects fail;
 * `receive()` reports bytes arriving on the line; `discards` counts `discardInput` calls.
 */
export class FakeConnector implements Connector {
  readonly pending: PendingRead[] = [];
  connects = 0;
  refuse: Error | undefined;
  /** Connects wait for `allowConnect()` when true. */
  holdConnects = false;
  /** What `discardInput` answers; undefined leaves it out of the connection (Modbus TCP). */
  discardable: boolean | undefined = true;
  /** Calls of `discardInput`, with the clock's time if `clock` is set. */
  readonly discards: number[] = [];
  clock: { now(): number } | undefined;
  private events: ConnectionEvents | undefined;
  private held: (() => void)[] = [];
  /** The read sent last (earlier ones may still wait after their timeout). */
  get latest(): PendingRead | undefined {
    return this.pending[this.pending.length - 1];
  }

  async connect(events: ConnectionEvents, signal: AbortSignal): Promise<ModbusConnection> {
    if (this.holdConnects) await new Promise<void>((resolve) => this.held.push(resolve));
    if (signal.aborted) throw new Error('aborted');
    if (this.refuse) throw this.refuse;
    this.connects += 1;
    this.events = events;
    const pending = this.pending;
    const connection: ModbusConnection = {
      read(unitId, functionCode, address, quantity, done) {
        let settled = false;
        const settle = (error: Error | null, registers?: number[]) => {
          if (settled) return;
          settled = true;
          const index = pending.indexOf(read);
          if (index >= 0) pending.splice(index, 1);
          done(error, registers);
        };
        const read: PendingRead = {
          unitId,
          functionCode,
          address,
          quantity,
          answer: (registers) => settle(null, registers ?? new Array(quantity).fill(unitId)),
          fail: (error) => settle(error),
        };
        pending.push(read);
      },
      async close() {
        pending.splice(0);
      },
    };
    const discardable = this.discardable;
    if (discardable !== undefined) {
      connection.discardInput = () => {
        this.discards.push(this.clock?.now() ?? 0);
        return discardable;
      };
    }
    return connection;
  }

  allowConnect(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }

  /** Bytes arrive on the current connection (a late answer, noise). */
  receive(bytes = 9): void {
    this.events?.onReceive?.(bytes);
  }

  /** The connection breaks (socket closed by the other side). */
  drop(): void {
    const events = this.events;
    this.events = undefined;
    events?.onLost(connectionLostError('closed by the test'));
  }
}

const sends = new WeakMap<ModbusBus, { perUnit: Map<number, number>; lastUnit?: number }>();

/** Counts what a bus sends to each unit, for {@link drive}. */
export function countSends(bus: ModbusBus): void {
  if (sends.has(bus)) return;
  const record: { perUnit: Map<number, number>; lastUnit?: number } = { perUnit: new Map() };
  sends.set(bus, record);
  bus.on('sent', (request: { unitId: number }) => {
    record.lastUnit = request.unitId;
    record.perUnit.set(request.unitId, (record.perUnit.get(request.unitId) ?? 0) + 1);
  });
}

/** Lets promise callbacks run (no I/O involved). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A simulated bus on loopback (or a pty) plus buses and meters reading it; `close()` stops all.
 */
export class SimHarness {
  readonly buses: ModbusBus[] = [];
  readonly meters: Meter[] = [];
  readonly servers: ModbusSimServer[] = [];

  async server(transport: SimTransport = { kind: 'tcp' }, clock?: ManualClock): Promise<ModbusSimServer> {
    const server = new ModbusSimServer(transport, clock ? { clock } : {});
    await server.start();
    this.servers.push(server);
    return server;
  }

  bus(options: BusOptions): ModbusBus {
    const bus = new ModbusBus(options);
    countSends(bus);
    this.buses.push(bus);
    return bus;
  }

  meter(options: MeterOptions): Meter {
    const meter = new Meter(options);
    this.meters.push(meter);
    return meter;
  }

  async close(): Promise<void> {
    for (const meter of this.meters.splice(0)) meter.stop();
    await Promise.all(this.buses.splice(0).map((bus) => bus.close()));
    await Promise.all(this.servers.splice(0).map((server) => server.stop()));
  }
}

/** Registers a harness per test and closes it afterwards. */
export function useSimHarness(): () => SimHarness {
  let harness: SimHarness | undefined;
  beforeEach(() => {
    harness = new SimHarness();
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  return () => {
    if (!harness) throw new Error('no harness outside a test');
    return harness;
  };
}

/**
 * Runs virtual time on `clock` in steps while real sockets do their work: after each step it
 * waits until the bus has nothing on the wire that a server could still answer, so every answer
 * arrives "instantly" in virtual time and only timeouts, delays and intervals take virtual time.
 */
export async function drive(
  clock: ManualClock,
  buses: ModbusBus[],
  servers: ModbusSimServer[],
  totalMs: number,
  stepMs = 10,
): Promise<void> {
  for (const bus of buses) countSends(bus);
  // On the wire: time may move on only once the server got the request and holds its answer back
  // (a delay, silence); an answer already written must arrive first.
  const heldBack = (bus: ModbusBus, unitId: number) =>
    servers.every((server) => {
      if (!server.hasUnit(unitId)) return true;
      // Still travelling to the server?
      if ((server.requestCounts.get(unitId) ?? 0) < (sends.get(bus)?.perUnit.get(unitId) ?? 0)) return false;
      // An answer already written is on its way; a delayed or ignored one needs time to pass.
      return server.lastOutcomes.get(unitId) !== 'answered';
    });
  const quiet = (bus: ModbusBus) => {
    if (bus.state === 'connecting') return false;
    if (!bus.busy) return true;
    const unitId = sends.get(bus)?.lastUnit;
    return unitId !== undefined && heldBack(bus, unitId);
  };
  await waitUntil(() => buses.every(quiet), 'the buses are quiet');
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - elapsed));
    // Let I/O that is already under way (a closed socket, a written frame) be seen first.
    await flush();
    await waitUntil(() => buses.every(quiet), 'the buses are quiet');
  }
}

/**
 * Runs virtual time on `clock` for one bus and the one server it talks to, strictly in step with
 * the bytes on the line: after each step it waits until every request the bus sent has reached
 * the server and every byte the server wrote (late answers too) has reached the bus. So a late
 * answer arrives at the virtual time the server wrote it, however slow the machine is.
 */
export async function driveLine(
  clock: ManualClock,
  bus: ModbusBus,
  server: ModbusSimServer,
  totalMs: number,
  stepMs = 10,
): Promise<void> {
  const sentToServer = () => [...server.requestCounts.values()].reduce((sum, n) => sum + n, 0);
  const inStep = () =>
    bus.state !== 'connecting' &&
    sentToServer() >= bus.stats.sent &&
    bus.stats.bytesReceived >= server.bytesWritten;
  await waitUntil(inStep, 'the line is in step');
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - elapsed));
    await flush();
    await waitUntil(inStep, 'the line is in step');
  }
}
