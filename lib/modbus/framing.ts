/**
 * Modbus framing for the only requests ampflow makes: FC3 (read holding registers) and FC4 (read
 * input registers). It writes the request bytes and says what the bytes received come to. No I/O
 * and no timers (the bus times every request on its own clock), so each rule is tested byte by
 * byte in test/unit/modbus/framing_spec.ts.
 *
 * Why our own and not modbus-serial's: its public API cannot clear what a connection has received
 * before a request is written, nor make a serial-framed port forget the request it is waiting
 * for. Both are needed (see `Framing`), and reaching into its private members for them broke
 * with any patch release. Two framings of a few dozen lines each, over public transports
 * (`node:net`, `serialport`: see links.ts), were less code than the workarounds.
 *
 * - Modbus TCP: MBAP header (transaction id, protocol id, length) before unit id and PDU. The
 *   answer is the frame that carries the request's transaction id; frames with another id are
 *   skipped.
 * - RTU (serial lines, and transparent gateways passing RTU frames over TCP): unit id, PDU,
 *   CRC-16/MODBUS. Nothing tells an answer from a late answer to an earlier request but unit id,
 *   function code and length, which the bus protects by draining the line after a failure.
 */

import { withFault } from './errors';

/** One read on the wire: what its answer must match. */
export interface ReadFrame {
  unitId: number;
  functionCode: 3 | 4;
  address: number;
  quantity: number;
}

/** What the bytes received for a read came to: its registers, or why they are unusable. */
export type Outcome = { registers: number[] } | { error: Error };

/**
 * The framing of one connection. It only knows the read written last: the bus sends one request
 * at a time, so nothing received before a request is written can be that request's answer.
 */
export interface Framing {
  /** Starts a read: forgets whatever was received before; returns the bytes to write. */
  start(read: ReadFrame): Buffer;
  /** Takes received bytes: the read's outcome once they complete a frame for it, else undefined. */
  receive(chunk: Buffer): Outcome | undefined;
  /**
   * Forgets what was received and which read it was for: until the next `start`, nothing
   * received is taken as an answer (a late answer after a timeout is dropped).
   */
  discard(): void;
}

/** CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The length of an RTU answer to `read` (unit, function code, byte count, data, CRC). */
function answerLength(read: ReadFrame): number {
  return 5 + 2 * read.quantity;
}

/** Unit id, function code, byte count and CRC: the shortest RTU answer (an exception). */
const SHORTEST_ANSWER = 5;

/** Writes the request PDU (function code, first register, count) at `offset`. */
function writeRequestPdu(frame: Buffer, offset: number, read: ReadFrame): void {
  frame[offset] = read.functionCode;
  frame.writeUInt16BE(read.address, offset + 1);
  frame.writeUInt16BE(read.quantity, offset + 3);
}

/**
 * Checks an answer (its unit id and PDU) against the read it must answer, in the order
 * modbus-serial did, whose messages the logs and tests know: length, exception, exact length,
 * unit id, function code, and the byte count (which can be wrong in a frame of the right length).
 * `length` counts the answer as an RTU frame would (unit id, PDU and CRC), on TCP as well.
 */
function interpret(read: ReadFrame, unitId: number, pdu: Buffer): Outcome {
  const expected = answerLength(read);
  const length = 1 + pdu.length + 2;
  const lengthError = () => ({
    error: withFault(new Error(`Data length error, expected ${expected} got ${length}`), {
      kind: 'badLength',
      got: length,
      expected,
    }),
  });
  if (length < SHORTEST_ANSWER) return lengthError();
  const functionCode = pdu[0] ?? 0;
  if (functionCode === (0x80 | read.functionCode)) {
    const code = pdu[1] ?? 0;
    return { error: Object.assign(new Error(`Modbus exception ${code}`), { modbusCode: code }) };
  }
  if (length !== expected) return lengthError();
  if (unitId !== read.unitId) {
    const error = new Error(`Unexpected data error, expected address ${read.unitId} got ${unitId}`);
    return { error: withFault(error, { kind: 'wrongUnit', got: unitId, expected: read.unitId }) };
  }
  if (functionCode !== read.functionCode) {
    const error = new Error(`Unexpected data error, expected code ${read.functionCode} got ${functionCode}`);
    return {
      error: withFault(error, { kind: 'wrongFunction', got: functionCode, expected: read.functionCode }),
    };
  }
  const byteCount = pdu[1] ?? 0;
  if (byteCount !== 2 * read.quantity) {
    const error = new Error(`byte count ${byteCount}, expected ${2 * read.quantity}`);
    return { error: withFault(error, { kind: 'byteCount', got: byteCount, expected: 2 * read.quantity }) };
  }
  const registers = new Array<number>(read.quantity);
  for (let index = 0; index < read.quantity; index++) registers[index] = pdu.readUInt16BE(2 + 2 * index);
  return { registers };
}

const EMPTY = Buffer.alloc(0);

/** What both framings share: the read written last and the bytes received for it. */
abstract class ReadFraming implements Framing {
  protected read: ReadFrame | undefined;
  protected buffer: Buffer = EMPTY;

  start(read: ReadFrame): Buffer {
    this.read = read;
    this.buffer = EMPTY;
    return this.encode(read);
  }

  receive(chunk: Buffer): Outcome | undefined {
    const read = this.read;
    // Nothing asked for: whatever comes is noise or a late answer.
    if (!read) return undefined;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const outcome = this.cut(read);
    if (outcome) this.discard();
    return outcome;
  }

  discard(): void {
    this.read = undefined;
    this.buffer = EMPTY;
  }

  protected abstract encode(read: ReadFrame): Buffer;
  /** The outcome once `buffer` holds the read's answer; may drop what cannot be it. */
  protected abstract cut(read: ReadFrame): Outcome | undefined;
}

/** MBAP header: transaction id, protocol id, length of what follows (unit id and PDU). */
const MBAP_HEADER = 6;

/**
 * Modbus TCP. The buffer starts empty at each request: one stray byte left from an earlier answer
 * (a truncated frame, noise from a gateway) would otherwise put every later frame out of step,
 * and a bogus length field would make the reader wait for up to 64 KiB on every request for as
 * long as the connection lasts (found by test/reliability/fuzz-modbus_spec.ts). An answer whose
 * frame never completes times out, and the next request starts afresh.
 */
export class TcpFraming extends ReadFraming {
  private transactionId = 0;

  protected encode(read: ReadFrame): Buffer {
    // 1 to 65535, then round again.
    this.transactionId = (this.transactionId % 0xffff) + 1;
    const frame = Buffer.alloc(MBAP_HEADER + 6);
    frame.writeUInt16BE(this.transactionId, 0);
    frame.writeUInt16BE(0, 2); // protocol id: Modbus
    frame.writeUInt16BE(6, 4); // unit id and the 5-byte PDU
    frame[MBAP_HEADER] = read.unitId;
    writeRequestPdu(frame, MBAP_HEADER + 1, read);
    return frame;
  }

  protected cut(read: ReadFrame): Outcome | undefined {
    let offset = 0;
    while (this.buffer.length - offset >= MBAP_HEADER) {
      const end = offset + MBAP_HEADER + this.buffer.readUInt16BE(offset + 4);
      // The frame is not complete yet.
      if (end > this.buffer.length) break;
      if (this.buffer.readUInt16BE(offset) === this.transactionId) {
        const body = this.buffer.subarray(offset + MBAP_HEADER, end);
        return interpret(read, body[0] ?? -1, body.subarray(1));
      }
      // Another transaction's frame (an answer that came after its request timed out): skipped.
      offset = end;
    }
    this.buffer = this.buffer.subarray(offset);
    return undefined;
  }
}

/** Longest RTU frame; a noisy line keeps no more than this in the buffer. */
const LONGEST_RTU_FRAME = 256;

/**
 * RTU framing. Bytes before the answer (noise, the rest of an earlier frame) are skipped: the
 * answer starts where the read's unit id is followed by its function code (then it is complete
 * at the length the read implies) or by that code with the exception bit (five bytes). The CRC
 * is checked before anything else is believed.
 */
export class RtuFraming extends ReadFraming {
  protected encode(read: ReadFrame): Buffer {
    const frame = Buffer.alloc(8);
    frame[0] = read.unitId;
    writeRequestPdu(frame, 1, read);
    frame.writeUInt16LE(crc16(frame.subarray(0, 6)), 6);
    return frame;
  }

  protected cut(read: ReadFrame): Outcome | undefined {
    if (this.buffer.length > LONGEST_RTU_FRAME) this.buffer = this.buffer.subarray(-LONGEST_RTU_FRAME);
    const buffer = this.buffer;
    const length = answerLength(read);
    for (let start = 0; start + SHORTEST_ANSWER <= buffer.length; start++) {
      if (buffer[start] !== read.unitId) continue;
      const functionCode = buffer[start + 1];
      if (functionCode === read.functionCode) {
        // The answer has begun; the rest is on its way.
        if (start + length > buffer.length) return undefined;
        return this.check(read, buffer.subarray(start, start + length));
      }
      if (functionCode === (0x80 | read.functionCode)) {
        return this.check(read, buffer.subarray(start, start + SHORTEST_ANSWER));
      }
    }
    return undefined;
  }

  private check(read: ReadFrame, frame: Buffer): Outcome {
    const crcAt = frame.length - 2;
    if (crc16(frame.subarray(0, crcAt)) !== frame.readUInt16LE(crcAt))
      return { error: withFault(new Error('CRC error'), { kind: 'crc' }) };
    return interpret(read, frame[0] ?? -1, frame.subarray(1, crcAt));
  }
}
