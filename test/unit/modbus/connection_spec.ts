import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../../lib/clock';
import {
  type BusTransport,
  type ConnectionEvents,
  type ModbusConnection,
  modbusConnector,
} from '../../../lib/modbus/connection';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../sim/modbus-meter';
import { crc16 } from '../../../sim/modbus-server';
import { openPtyPair, type PtyPair } from '../../support/pty';
import { drive, useSimHarness, waitUntil } from './harness';

/** A read request for unit 1, FC3, address 0, as the RTU framing writes it (with CRC). */
function request(quantity: number): Buffer {
  const frame = Buffer.from([1, 3, 0, 0, 0, quantity, 0, 0]);
  frame.writeUInt16LE(crc16(frame.subarray(0, 6)), 6);
  return frame;
}

/** An RTU answer to `request(quantity)` with these registers and byte count. */
function answer(words: number[], byteCount = words.length * 2): Buffer {
  const frame = Buffer.alloc(3 + words.length * 2 + 2);
  frame[0] = 1;
  frame[1] = 3;
  frame[2] = byteCount;
  words.forEach((word, index) => {
    frame.writeUInt16BE(word, 3 + index * 2);
  });
  frame.writeUInt16LE(crc16(frame.subarray(0, frame.length - 2)), frame.length - 2);
  return frame;
}

/** What one read on a connection came to. */
interface ReadResult {
  error: Error | null;
  registers?: number[];
}

/** Reads unit 1, FC3, address 0 on `connection`; the result lands in the returned array. */
function readOn(connection: ModbusConnection, quantity: number): ReadResult[] {
  const results: ReadResult[] = [];
  connection.read(1, 3, 0, quantity, (error, registers) => results.push({ error, registers }));
  return results;
}

const quiet: ConnectionEvents = { onLost: () => undefined };

/**
 * The other end of an RTU line for one test: a TCP server (RTU over TCP) or a pseudo-terminal
 * (serial RTU). `requests` fills with what the connection wrote; `send` writes to it.
 */
interface RtuLine {
  transport: BusTransport;
  requests: Buffer[];
  send(bytes: Buffer): void;
  close(): Promise<void>;
}

async function tcpLine(): Promise<RtuLine> {
  const requests: Buffer[] = [];
  let peer: Socket | undefined;
  const server = createServer((socket) => {
    peer = socket;
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => requests.push(data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    transport: { kind: 'rtu-over-tcp', host: '127.0.0.1', port },
    requests,
    send: (bytes) => peer?.write(bytes),
    close: () =>
      new Promise<void>((resolve) => {
        peer?.destroy();
        server.close(() => resolve());
      }),
  };
}

async function serialLine(pty: PtyPair): Promise<RtuLine> {
  const { SerialPort } = await import('serialport');
  const requests: Buffer[] = [];
  const port = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  port.on('data', (data: Buffer) => requests.push(data));
  return {
    transport: { kind: 'rtu', path: pty.a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
    requests,
    send: (bytes) => port.write(bytes),
    close: () => new Promise<void>((resolve) => port.close(() => resolve())),
  };
}

describe('RTU framing on a real line: a late answer is never taken for the next request', function () {
  this.timeout(20000);
  let pty: PtyPair | undefined;
  let line: RtuLine | undefined;
  let connection: ModbusConnection | undefined;

  afterEach(async () => {
    await connection?.close();
    await line?.close();
    await pty?.close();
    connection = undefined;
    line = undefined;
    pty = undefined;
  });

  for (const kind of ['rtu', 'rtu-over-tcp'] as const) {
    it(`${kind}: discarding drops bytes received and the read they were for; a late frame after it is no answer`, async () => {
      if (kind === 'rtu') pty = await openPtyPair();
      line = pty ? await serialLine(pty) : await tcpLine();
      const received: number[] = [];
      connection = await modbusConnector(line.transport).connect(
        { onLost: () => undefined, onReceive: (bytes) => received.push(bytes) },
        new AbortController().signal,
      );
      // Sanity: the answer to the read written is taken.
      const first = readOn(connection, 2);
      await waitUntil(() => line?.requests.length === 1, 'the request reaches the line');
      assert.deepEqual(line.requests[0], request(2));
      line.send(answer([7, 8]));
      await waitUntil(() => first.length === 1, 'the answer is read');
      assert.deepEqual(first, [{ error: null, registers: [7, 8] }]);

      // Half a late frame has come: discarding forgets it and the read it belonged to.
      const second = readOn(connection, 2);
      line.send(answer([1, 2]).subarray(0, 4));
      await waitUntil(() => received.reduce((sum, n) => sum + n, 0) >= 13, 'the half frame arrives');
      assert.equal(connection.discardInput?.(), true);
      line.send(answer([1, 2]));
      await waitUntil(() => received.reduce((sum, n) => sum + n, 0) >= 22, 'the late frame arrives');
      assert.deepEqual(second, [], 'a late frame after the discard is not taken for an answer');
    });
  }

  it('tcp: no discardInput (transaction ids tell answers apart); bytes received before a request are not its answer', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      // Unasked: a whole frame for transaction 1, before any request is written.
      socket.write(Buffer.from([0, 1, 0, 0, 0, 7, 1, 3, 4, 0, 9, 0, 9]));
      socket.on('data', (data: Buffer) => {
        const frame = Buffer.from([0, 0, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0x56, 0x78]);
        data.copy(frame, 0, 0, 2);
        setTimeout(() => socket.write(frame), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    let bytes = 0;
    connection = await modbusConnector({ kind: 'tcp', host: '127.0.0.1', port }).connect(
      { ...quiet, onReceive: (n) => (bytes += n) },
      new AbortController().signal,
    );
    try {
      assert.equal(connection.discardInput, undefined);
      await waitUntil(() => bytes === 13, 'the unasked frame arrives');
      const results = readOn(connection, 2);
      await waitUntil(() => results.length === 1, 'the answer is read');
      assert.deepEqual(results, [{ error: null, registers: [0x1234, 0x5678] }]);
    } finally {
      await connection.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('Modbus connections with our own framing (through the bus)', function () {
  this.timeout(20000);
  const harness = useSimHarness();
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  });

  for (const kind of ['tcp', 'rtu-over-tcp'] as const) {
    it(`${kind}: a connection reset while a request is on the wire is seen at once; the request goes again on the next connection`, async () => {
      const clock = new ManualClock();
      const h = harness();
      const server = await h.server({ kind }, clock);
      server.addUnit(1, new SimulatedMeter(findProfile('janitza-umg604') as DeviceProfile));
      server.faults(1).resetConnectionOnRequests = 1;
      const bus = h.bus({
        name: 'gateway',
        transport: { kind, host: '127.0.0.1', port: server.port },
        clock,
        timeoutMs: 1000,
      });
      const result = bus.read({ unitId: 1, functionCode: 3, address: 19000, quantity: 2 });
      // No virtual time passes: the reset alone must tell the bus, not the request's timeout.
      await waitUntil(() => bus.stats.connectionsLost === 1, 'the bus sees the reset');
      assert.equal(bus.state, 'waiting');
      await drive(clock, [bus], [server], 500, 10);
      assert.equal((await result).length, 2);
      assert.equal(bus.stats.timeouts, 0);
      assert.deepEqual(bus.unitHealth(1), { consecutiveFailures: 0, backedOffUntilMs: 0 });
      assert.equal(bus.stats.connects, 2);
    });
  }

  for (const [what, stray] of [
    ['a stray byte', Buffer.from([0xe3])],
    ['a truncated answer', Buffer.from([0, 1, 0, 0, 0, 7, 1, 3, 4, 0x12])],
    ['a bogus MBAP length', Buffer.from([0, 1, 0, 0, 0xff, 0xff, 1])],
  ] as const) {
    it(`tcp: ${what} in place of an answer fails that request only; the next answers are read (found by the reliability fuzzing)`, async () => {
      let requests = 0;
      const server = createServer((socket: Socket) => {
        socket.on('error', () => undefined);
        socket.on('data', (data: Buffer) => {
          requests += 1;
          if (requests === 1) {
            socket.write(stray);
            return;
          }
          // The right answer: the request's transaction id, unit 1, FC3, two registers.
          const frame = Buffer.from([0, 0, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0x56, 0x78]);
          data.copy(frame, 0, 0, 2);
          socket.write(frame);
        });
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const port = (server.address() as { port: number }).port;
      const bus = harness().bus({
        name: 'meter',
        transport: { kind: 'tcp', host: '127.0.0.1', port },
        timeoutMs: 150,
        unitBackoff: { afterFailures: 100 },
      });
      await assert.rejects(
        bus.read({ unitId: 1, functionCode: 3, address: 0, quantity: 2 }),
        /FC3 0-1: no answer within 150 ms/,
      );
      for (let n = 0; n < 3; n++) {
        assert.deepEqual(
          await bus.read({ unitId: 1, functionCode: 3, address: 0, quantity: 2 }),
          [0x1234, 0x5678],
        );
      }
      assert.equal(bus.stats.connects, 1, 'without reconnecting');
    });
  }

  it('rtu-over-tcp: an answer whose byte count does not match the request is corrupt, even with the right length and CRC', async () => {
    // Two registers asked for: 9 bytes expected. The answer is 9 bytes with a valid CRC, but its
    // byte count says 3, so its registers are not what the device meant.
    const server = createServer((socket: Socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.write(answer([0x1234, 0x5678], 3)));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const bus = harness().bus({
      name: 'gateway',
      transport: { kind: 'rtu-over-tcp', host: '127.0.0.1', port },
      timeoutMs: 2000,
    });
    await assert.rejects(
      bus.read({ unitId: 1, functionCode: 3, address: 0, quantity: 2 }),
      /FC3 0-1: unusable answer: byte count 3, expected 4/,
    );
  });
});
