import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../../lib/clock';
import { discardRtuInput, discardTcpInput, type PortInternals } from '../../../lib/modbus/connection';
import { findProfile } from '../../../lib/modbus/profiles';
import type { DeviceProfile } from '../../../lib/modbus/types';
import { SimulatedMeter } from '../../../lib/sim/modbus-meter';
import { crc16 } from '../../../lib/sim/modbus-server';
import { drive, useSimHarness, waitUntil } from './harness';

const load = createRequire(__filename);
type PortConstructor = new (
  ...args: unknown[]
) => PortInternals & { emit(event: string, ...args: unknown[]): void };
const RTUBufferedPort = load('modbus-serial/ports/rtubufferedport') as PortConstructor;
const TelnetPort = load('modbus-serial/ports/telnetport') as PortConstructor;
const TcpPort = load('modbus-serial/ports/tcpport') as PortConstructor;

/** A read request for unit 1, FC3, address 0, as modbus-serial writes it (with CRC). */
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

describe('modbus-serial internals the bus relies on (fails loudly after an upgrade that changes them)', () => {
  for (const [name, make] of [
    ['RTUBufferedPort', () => new RTUBufferedPort('/dev/null-ampflow-test', { baudRate: 9600 })],
    ['TelnetPort', () => new TelnetPort('127.0.0.1', { port: 1 })],
  ] as const) {
    it(`${name}: discarding drops buffered bytes and keeps a late frame from being matched`, () => {
      const port = make();
      const frames: Buffer[] = [];
      port.on('data', (frame: unknown) => frames.push(frame as Buffer));
      // The port's own write (which sets what it matches answers against); nothing goes out.
      const client = port._client as unknown as {
        emit(event: string, data: Buffer): void;
        write(data: Buffer): boolean;
      };
      client.write = () => true;
      const write = (data: Buffer) => (port as unknown as { write(data: Buffer): void }).write(data);
      // Sanity: a frame for the request written is emitted as an answer.
      write(request(2));
      client.emit('data', answer([7, 8]));
      assert.equal(frames.length, 1);

      // Half a late frame is in the buffer: discarding forgets it and the request it belonged to.
      write(request(2));
      client.emit('data', answer([1, 2]).subarray(0, 4));
      assert.ok((port._buffer?.length ?? 0) > 0);
      assert.equal(discardRtuInput(port), true);
      assert.equal(port._buffer?.length, 0);
      client.emit('data', answer([1, 2]));
      assert.equal(frames.length, 1, 'a late frame after the discard is not taken for an answer');
    });
  }

  it('TcpPort: discarding drops bytes not yet cut into a frame', () => {
    const port = new TcpPort('127.0.0.1', { port: 1 });
    const client = port._client as unknown as { emit(event: string, data: Buffer): void; destroy(): void };
    client.emit('data', Buffer.from([0xe3, 0x00, 0x01]));
    assert.equal(port._clientRcvData?.length, 3);
    assert.equal(discardTcpInput(port), true);
    assert.equal(port._clientRcvData?.length, 0);
    client.destroy();
  });

  it('says when a port does not look as expected, so the bus reopens the connection instead', () => {
    assert.equal(discardTcpInput(undefined), false);
    assert.equal(discardRtuInput(undefined), false);
    assert.equal(discardRtuInput({ on: () => undefined } as PortInternals), false);
  });
});

describe('Modbus connections through modbus-serial', function () {
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
