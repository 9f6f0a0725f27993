import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { type Clock, systemClock } from '../lib/clock';

/**
 * A Modbus server for simulators and tests: Modbus TCP, RTU frames over TCP, or RTU on a serial
 * port (a pseudo-terminal in tests). Several units share one server, as devices share a bus.
 * Faults can be switched on per unit at run time: silence, late answers, exceptions, corrupt
 * frames, dropped connections.
 */

export type SimTransport =
  | { kind: 'tcp'; host?: string; port?: number }
  | { kind: 'rtu-over-tcp'; host?: string; port?: number }
  | {
      kind: 'rtu';
      path: string;
      baudRate?: number;
      dataBits?: 7 | 8;
      parity?: 'none' | 'even' | 'odd';
      stopBits?: 1 | 2;
    };

/** What a device answers to a read: registers, or a Modbus exception code. */
export type SimAnswer = number[] | { exception: number };

/** One device on the simulated bus. */
export interface SimulatedUnit {
  read(functionCode: number, address: number, quantity: number): SimAnswer;
}

/** Misbehaviour of one unit, changeable at run time. */
export interface UnitFaults {
  /** Never answers (a dead or misaddressed device). */
  silent?: boolean;
  /** Answers this late, on the server's clock (a slow gateway). */
  delayMs?: number;
  /** Answers this exception to reads touching [from, to] (all reads when no range). */
  exception?: { code: number; from?: number; to?: number };
  /** Corrupts the next N answers: a wrong CRC on RTU, a short frame on TCP. */
  corruptAnswers?: number;
  /** The next N requests close the connection instead of being answered (TCP transports). */
  dropConnectionOnRequests?: number;
  /**
   * The next N requests reset the connection (TCP RST, as a gateway that reboots or a firewall
   * does) instead of being answered (TCP transports).
   */
  resetConnectionOnRequests?: number;
}

export interface SimRequest {
  unitId: number;
  functionCode: number;
  address: number;
  quantity: number;
}

// The simulator's own CRC, kept apart from lib/modbus/framing's on purpose: the framing and
// connection tests check one against the other (and framing_spec pins both to the standard check value).
export function crc16(buffer: Buffer): number {
  let crc = 0xffff;
  for (const byte of buffer) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}

function withCrc(frame: Buffer): Buffer {
  const out = Buffer.alloc(frame.length + 2);
  frame.copy(out);
  out.writeUInt16LE(crc16(frame), frame.length);
  return out;
}

interface Link {
  write(frame: Buffer): void;
  drop(): void;
  reset(): void;
}

/**
 * Events: `request` (SimRequest) for every well-formed request to a unit it hosts, `answered`
 * (SimRequest), `connection` (TCP client connected), `dropped`.
 */
export class ModbusSimServer extends EventEmitter {
  private readonly clock: Clock;
  private readonly units = new Map<number, SimulatedUnit>();
  private readonly unitFaults = new Map<number, UnitFaults>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private serial: SerialPort | undefined;
  private listeningPort = 0;
  /** Requests received per unit id. */
  readonly requestCounts = new Map<number, number>();
  /**
   * What became of the last request to each unit: answered (or exception) already, an answer
   * held back by `delayMs`, or none coming (silent, connection dropped). Tests that drive a
   * virtual clock use it to tell "answer on its way" from "time must pass".
   */
  readonly lastOutcomes = new Map<number, 'answered' | 'delayed' | 'ignored'>();
  /** Bytes of every answer written so far (late ones included), to tell when a reader has all. */
  bytesWritten = 0;

  constructor(
    readonly transport: SimTransport,
    options: { clock?: Clock } = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  get port(): number {
    return this.listeningPort;
  }

  addUnit(unitId: number, unit: SimulatedUnit): void {
    this.units.set(unitId, unit);
  }

  hasUnit(unitId: number): boolean {
    return this.units.has(unitId);
  }

  removeUnit(unitId: number): void {
    this.units.delete(unitId);
  }

  /** The unit's faults; change the returned object's fields to switch faults on and off. */
  faults(unitId: number): UnitFaults {
    let faults = this.unitFaults.get(unitId);
    if (!faults) {
      faults = {};
      this.unitFaults.set(unitId, faults);
    }
    return faults;
  }

  /** Number of TCP clients connected right now. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Closes every client connection now (a gateway restarting). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async start(): Promise<void> {
    if (this.transport.kind === 'rtu') {
      const { path, baudRate = 9600, dataBits = 8, parity = 'none', stopBits = 1 } = this.transport;
      const port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
      port.on('error', (error) => this.emit('serialError', error));
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
      this.serial = port;
      const link: Link = {
        write: (frame) => {
          this.bytesWritten += frame.length;
          port.write(frame);
        },
        drop: () => undefined,
        reset: () => undefined,
      };
      let buffer: Buffer = Buffer.alloc(0);
      port.on('data', (data: Buffer) => {
        buffer = this.consumeRtu(Buffer.concat([buffer, data]), link);
      });
      return;
    }
    const kind = this.transport.kind;
    const server = createServer((socket) => this.accept(socket, kind));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const { host = '127.0.0.1', port = 0 } = this.transport as { host?: string; port?: number };
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        this.listeningPort = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
    server.on('error', (error) => this.emit('serverError', error));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const serial = this.serial;
    this.serial = undefined;
    if (serial?.isOpen) await new Promise<void>((resolve) => serial.close(() => resolve()));
  }

  private accept(socket: Socket, kind: 'tcp' | 'rtu-over-tcp'): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    this.emit('connection');
    const link: Link = {
      write: (frame) => {
        if (socket.destroyed) return;
        this.bytesWritten += frame.length;
        socket.write(frame);
      },
      drop: () => {
        socket.destroy();
        this.emit('dropped');
      },
      reset: () => {
        socket.resetAndDestroy();
        this.emit('dropped');
      },
    };
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      buffer = kind === 'tcp' ? this.consumeTcp(buffer, link) : this.consumeRtu(buffer, link);
    });
  }

  /** Modbus TCP: MBAP header (transaction, protocol, length, unit) then the PDU. */
  private consumeTcp(buffer: Buffer, link: Link): Buffer {
    let rest = buffer;
    while (rest.length >= 8) {
      const length = rest.readUInt16BE(4);
      if (rest.length < 6 + length) break;
      const transactionId = rest.readUInt16BE(0);
      const unitId = rest[6] ?? 0;
      const pdu = rest.subarray(7, 6 + length);
      rest = rest.subarray(6 + length);
      this.handle(unitId, pdu, link, (answer, corrupt) => {
        let body = answer;
        // A short frame: the byte count promises more than follows.
        if (corrupt && body.length > 3) body = body.subarray(0, body.length - 1);
        const frame = Buffer.alloc(7 + body.length);
        frame.writeUInt16BE(transactionId, 0);
        frame.writeUInt16BE(0, 2);
        frame.writeUInt16BE(body.length + 1, 4);
        frame[6] = unitId;
        body.copy(frame, 7);
        return frame;
      });
    }
    return rest;
  }

  /** RTU: unit, PDU, CRC. Request lengths follow from the function code. */
  private consumeRtu(buffer: Buffer, link: Link): Buffer {
    let rest = buffer;
    while (rest.length >= 4) {
      const functionCode = rest[1] ?? 0;
      let length: number;
      if (functionCode >= 1 && functionCode <= 6) length = 8;
      else if (functionCode === 15 || functionCode === 16) {
        if (rest.length < 7) break;
        length = 9 + (rest[6] ?? 0);
      } else {
        // Not a request this server understands: resynchronise by dropping a byte.
        rest = rest.subarray(1);
        continue;
      }
      if (rest.length < length) break;
      const frame = rest.subarray(0, length);
      if (crc16(frame.subarray(0, length - 2)) !== frame.readUInt16LE(length - 2)) {
        // A device ignores frames with a bad CRC; skip a byte and look for the next frame.
        rest = rest.subarray(1);
        continue;
      }
      rest = rest.subarray(length);
      const unitId = frame[0] ?? 0;
      this.handle(unitId, frame.subarray(1, length - 2), link, (answer, corrupt) => {
        const out = withCrc(Buffer.concat([Buffer.from([unitId]), answer]));
        if (corrupt) out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
        return out;
      });
    }
    return rest;
  }

  private handle(
    unitId: number,
    pdu: Buffer,
    link: Link,
    frame: (answer: Buffer, corrupt: boolean) => Buffer,
  ): void {
    const unit = this.units.get(unitId);
    const functionCode = pdu[0] ?? 0;
    const address = pdu.length >= 3 ? pdu.readUInt16BE(1) : 0;
    const quantity = pdu.length >= 5 ? pdu.readUInt16BE(3) : 0;
    const request: SimRequest = { unitId, functionCode, address, quantity };
    // Nobody at this address on the bus: silence, as on a real RS485 line.
    if (!unit) return;
    this.requestCounts.set(unitId, (this.requestCounts.get(unitId) ?? 0) + 1);
    this.emit('request', request);
    const faults = this.unitFaults.get(unitId) ?? {};
    if (faults.dropConnectionOnRequests && faults.dropConnectionOnRequests > 0) {
      faults.dropConnectionOnRequests -= 1;
      this.lastOutcomes.set(unitId, 'ignored');
      link.drop();
      return;
    }
    if (faults.resetConnectionOnRequests && faults.resetConnectionOnRequests > 0) {
      faults.resetConnectionOnRequests -= 1;
      this.lastOutcomes.set(unitId, 'ignored');
      link.reset();
      return;
    }
    if (faults.silent) {
      this.lastOutcomes.set(unitId, 'ignored');
      return;
    }
    let answer: Buffer;
    const exception = faults.exception;
    const touches =
      exception &&
      (exception.from === undefined || address + quantity - 1 >= exception.from) &&
      (exception.to === undefined || address <= exception.to);
    if (exception && touches) {
      answer = Buffer.from([functionCode | 0x80, exception.code]);
    } else if (functionCode !== 3 && functionCode !== 4) {
      answer = Buffer.from([functionCode | 0x80, 1]);
    } else {
      const result = unit.read(functionCode, address, quantity);
      if (Array.isArray(result)) {
        answer = Buffer.alloc(2 + result.length * 2);
        answer[0] = functionCode;
        answer[1] = result.length * 2;
        result.forEach((word, index) => {
          answer.writeUInt16BE(word & 0xffff, 2 + index * 2);
        });
      } else {
        answer = Buffer.from([functionCode | 0x80, result.exception]);
      }
    }
    const corrupt = (faults.corruptAnswers ?? 0) > 0;
    if (corrupt) faults.corruptAnswers = (faults.corruptAnswers ?? 1) - 1;
    const out = frame(answer, corrupt);
    const serial = this.requestCounts.get(unitId) ?? 0;
    const send = () => {
      link.write(out);
      if (this.requestCounts.get(unitId) === serial) this.lastOutcomes.set(unitId, 'answered');
      this.emit('answered', request);
    };
    if (faults.delayMs && faults.delayMs > 0) {
      this.lastOutcomes.set(unitId, 'delayed');
      this.clock.setTimeout(send, faults.delayMs);
    } else send();
  }
}
