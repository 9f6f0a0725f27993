import { createServer, type Server, type Socket } from 'node:net';
import { crc16 } from '../../../lib/modbus/framing';
import type { Random } from './random';

/**
 * A Modbus server on loopback that answers each read with what its plan says: the right answer,
 * or one broken in a known way. Modbus TCP (MBAP framing) or RTU over TCP (CRC framing, as a
 * transparent serial gateway passes it on). Every request carries its own address, and the right
 * answer's registers are a function of that address, so an answer taken for the wrong request
 * can never pass for the right one.
 */

export type Fault =
  | 'correct'
  /** The right answer in several TCP segments. */
  | 'split'
  | 'exception'
  | 'wrongFunctionCode'
  | 'wrongUnitId'
  /** Modbus TCP: another transaction id. */
  | 'wrongTransactionId'
  /** Byte count (and MBAP length) not matching the data. */
  | 'wrongLength'
  /** Fewer or more registers than asked, consistently framed. */
  | 'wrongQuantity'
  /** RTU: a bad CRC. */
  | 'badCrc'
  | 'truncated'
  | 'garbage'
  | 'silence'
  /** The right answer followed by bytes nobody asked for. */
  | 'trailingBytes';

export const TCP_FAULTS: Fault[] = [
  'correct',
  'split',
  'exception',
  'wrongFunctionCode',
  'wrongUnitId',
  'wrongTransactionId',
  'wrongLength',
  'wrongQuantity',
  'truncated',
  'garbage',
  'silence',
  'trailingBytes',
];

export const RTU_FAULTS: Fault[] = [
  'correct',
  'split',
  'exception',
  'wrongFunctionCode',
  'wrongUnitId',
  'wrongLength',
  'wrongQuantity',
  'badCrc',
  'truncated',
  'garbage',
  'silence',
  'trailingBytes',
];

/** The registers of the right answer to a read at `address`. */
export function rightRegisters(address: number, quantity: number): number[] {
  return Array.from({ length: quantity }, (_, i) => (address * 7 + i * 13 + 1) & 0xffff);
}

/** Registers of a broken answer: never the right ones. */
function otherRegisters(address: number, quantity: number): number[] {
  return rightRegisters(address, quantity).map((value) => value ^ 0x5a5a);
}

function withCrc(body: Buffer): Buffer {
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc16(body));
  return Buffer.concat([body, crc]);
}

function registerBytes(registers: number[]): Buffer {
  const data = Buffer.alloc(registers.length * 2);
  registers.forEach((value, index) => {
    data.writeUInt16BE(value, index * 2);
  });
  return data;
}

interface Request {
  transactionId: number;
  unitId: number;
  functionCode: number;
  address: number;
  quantity: number;
}

export class ModbusFuzzServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Fault given to each address on its first request; repeats (retries) are answered right. */
  readonly plan = new Map<number, Fault>();
  /** Exception code per address, for 'exception'. */
  readonly exceptionCodes = new Map<number, number>();
  /**
   * When the right answer to a read (by address) was written in full (performance.now()): the
   * reader shares this process's event loop, so an answer written after the reader's deadline came
   * late because the loop stalled, not because the reader missed it.
   */
  readonly answeredAtMs = new Map<number, number>();
  readonly seen = new Map<number, number>();
  requests = 0;
  port = 0;

  constructor(
    readonly framing: 'tcp' | 'rtu',
    private readonly random: Random,
  ) {
    this.server = createServer((socket) => this.serve(socket));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const size = this.framing === 'tcp' ? 12 : 8;
      while (pending.length >= size) {
        const frame = pending.subarray(0, size);
        pending = pending.subarray(size);
        const request: Request =
          this.framing === 'tcp'
            ? {
                transactionId: frame.readUInt16BE(0),
                unitId: frame[6] as number,
                functionCode: frame[7] as number,
                address: frame.readUInt16BE(8),
                quantity: frame.readUInt16BE(10),
              }
            : {
                transactionId: 0,
                unitId: frame[0] as number,
                functionCode: frame[1] as number,
                address: frame.readUInt16BE(2),
                quantity: frame.readUInt16BE(4),
              };
        this.requests += 1;
        const times = (this.seen.get(request.address) ?? 0) + 1;
        this.seen.set(request.address, times);
        const fault = times === 1 ? (this.plan.get(request.address) ?? 'correct') : 'correct';
        this.answer(socket, request, fault);
      }
    });
  }

  private answer(socket: Socket, request: Request, fault: Fault): void {
    const { unitId, functionCode, address, quantity } = request;
    const random = this.random;
    const pdu = (fc: number, registers: number[], byteCount = registers.length * 2) =>
      Buffer.concat([Buffer.from([fc, byteCount & 0xff]), registerBytes(registers)]);
    const frame = (
      unit: number,
      body: Buffer,
      transactionId = request.transactionId,
      length = body.length + 1,
    ) => {
      if (this.framing === 'rtu') return withCrc(Buffer.concat([Buffer.from([unit]), body]));
      const header = Buffer.alloc(7);
      header.writeUInt16BE(transactionId, 0);
      header.writeUInt16BE(0, 2);
      header.writeUInt16BE(length & 0xffff, 4);
      header[6] = unit;
      return Buffer.concat([header, body]);
    };
    const right = frame(unitId, pdu(functionCode, rightRegisters(address, quantity)));
    let bytes: Buffer;
    switch (fault) {
      case 'correct':
        bytes = right;
        break;
      case 'split': {
        const cut = random.int(1, right.length - 1);
        socket.write(right.subarray(0, cut));
        setImmediate(() => {
          socket.write(right.subarray(cut));
          this.answeredAtMs.set(address, performance.now());
        });
        return;
      }
      case 'exception':
        bytes = frame(unitId, Buffer.from([functionCode | 0x80, this.exceptionCodes.get(address) ?? 2]));
        break;
      case 'wrongFunctionCode':
        bytes = frame(
          unitId,
          pdu(random.pick([1, 2, 6, 16, 43, functionCode === 3 ? 4 : 3]), otherRegisters(address, quantity)),
        );
        break;
      case 'wrongUnitId':
        bytes = frame(
          (unitId + random.int(1, 254)) % 256,
          pdu(functionCode, otherRegisters(address, quantity)),
        );
        break;
      case 'wrongTransactionId':
        bytes = frame(
          unitId,
          pdu(functionCode, otherRegisters(address, quantity)),
          (request.transactionId + random.int(1, 65535)) % 65536,
        );
        break;
      case 'wrongLength': {
        const registers = otherRegisters(address, quantity);
        const byteCount = registers.length * 2 + random.pick([-4, -2, -1, 1, 2, 100]);
        const body = pdu(functionCode, registers, byteCount);
        bytes =
          this.framing === 'tcp' && random.chance(0.5)
            ? frame(unitId, body, request.transactionId, random.int(0, 300))
            : frame(unitId, body);
        break;
      }
      case 'wrongQuantity': {
        const count = random.chance(0.5)
          ? Math.max(0, quantity - random.int(1, quantity))
          : quantity + random.int(1, 5);
        bytes = frame(unitId, pdu(functionCode, otherRegisters(address, count)));
        break;
      }
      case 'badCrc': {
        bytes = Buffer.from(frame(unitId, pdu(functionCode, otherRegisters(address, quantity))));
        const at = random.int(0, bytes.length - 1);
        bytes[at] = ((bytes[at] as number) ^ (1 << random.int(0, 7))) & 0xff;
        break;
      }
      case 'truncated':
        bytes = frame(unitId, pdu(functionCode, otherRegisters(address, quantity))).subarray(
          0,
          random.int(1, right.length - 1),
        );
        break;
      case 'garbage':
        bytes = random.bytes(random.int(1, 300));
        break;
      case 'silence':
        return;
      case 'trailingBytes':
        bytes = Buffer.concat([right, random.bytes(random.int(1, 20))]);
        break;
    }
    socket.write(bytes);
    if (fault === 'correct') this.answeredAtMs.set(address, performance.now());
  }
}
