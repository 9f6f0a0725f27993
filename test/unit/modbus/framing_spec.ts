import assert from 'node:assert/strict';
import { crc16, type Outcome, type ReadFrame, RtuFraming, TcpFraming } from '../../../lib/modbus/framing';
import { crc16 as simCrc16 } from '../../../sim/modbus-server';

const read: ReadFrame = { unitId: 1, functionCode: 3, address: 0x10, quantity: 2 };

/** An RTU frame: unit id and PDU bytes, CRC appended (by the simulator's CRC, an independent one). */
function rtu(...bytes: number[]): Buffer {
  const frame = Buffer.alloc(bytes.length + 2);
  Buffer.from(bytes).copy(frame);
  frame.writeUInt16LE(simCrc16(frame.subarray(0, bytes.length)), bytes.length);
  return frame;
}

/** A Modbus TCP frame: MBAP header for `transactionId`, then unit id and PDU bytes. */
function mbap(transactionId: number, ...bytes: number[]): Buffer {
  const frame = Buffer.alloc(6 + bytes.length);
  frame.writeUInt16BE(transactionId, 0);
  frame.writeUInt16BE(bytes.length, 4);
  Buffer.from(bytes).copy(frame, 6);
  return frame;
}

function message(outcome: Outcome | undefined): string | undefined {
  return outcome && 'error' in outcome ? outcome.error.message : undefined;
}

describe('Modbus framing (our own, FC3/FC4 reads)', () => {
  it('computes CRC-16/MODBUS (check value of "123456789" is 0x4B37)', () => {
    assert.equal(crc16(Buffer.from('123456789')), 0x4b37);
  });

  describe('RTU', () => {
    it('writes unit id, function code, address, count and the CRC low byte first', () => {
      const framing = new RtuFraming();
      assert.deepEqual(
        [...framing.start({ unitId: 1, functionCode: 3, address: 0, quantity: 10 })],
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd],
      );
    });

    it('takes the answer once complete, in pieces, after noise before it', () => {
      const framing = new RtuFraming();
      framing.start(read);
      const answer = rtu(1, 3, 4, 0x12, 0x34, 0x56, 0x78);
      assert.equal(framing.receive(Buffer.from([0xff, 0x00])), undefined);
      assert.equal(framing.receive(answer.subarray(0, 5)), undefined);
      assert.deepEqual(framing.receive(answer.subarray(5)), { registers: [0x1234, 0x5678] });
    });

    it('refuses a bad CRC, an exception names its code, and the byte count must match', () => {
      const framing = new RtuFraming();
      framing.start(read);
      const corrupt = rtu(1, 3, 4, 0, 1, 0, 2);
      corrupt[3] = 9;
      assert.equal(message(framing.receive(corrupt)), 'CRC error');
      framing.start(read);
      const exception = framing.receive(rtu(1, 0x83, 2));
      assert.equal((exception as { error: { modbusCode?: number } }).error.modbusCode, 2);
      framing.start(read);
      assert.equal(message(framing.receive(rtu(1, 3, 3, 0, 1, 0, 2))), 'byte count 3, expected 4');
    });

    it('skips frames of other units: the answer is found by unit id, function code and length', () => {
      const framing = new RtuFraming();
      framing.start(read);
      assert.equal(framing.receive(rtu(2, 3, 4, 9, 9, 9, 9)), undefined);
      assert.deepEqual(framing.receive(rtu(1, 3, 4, 0, 1, 0, 2)), { registers: [1, 2] });
    });

    it('after a discard nothing is an answer, not even a whole frame for the read, until the next read starts', () => {
      const framing = new RtuFraming();
      framing.start(read);
      const late = rtu(1, 3, 4, 0, 7, 0, 8);
      assert.equal(framing.receive(late.subarray(0, 4)), undefined);
      framing.discard();
      assert.equal(framing.receive(late.subarray(4)), undefined);
      assert.equal(framing.receive(late), undefined, 'a late frame after the discard is not an answer');
      // The next read starts with an empty buffer: the half frame before it is forgotten.
      framing.start(read);
      assert.deepEqual(framing.receive(rtu(1, 3, 4, 0, 1, 0, 2)), { registers: [1, 2] });
    });
  });

  describe('Modbus TCP', () => {
    it('writes an MBAP header with a new transaction id per request, protocol 0 and length 6', () => {
      const framing = new TcpFraming();
      const first = framing.start({ unitId: 7, functionCode: 4, address: 0x1234, quantity: 3 });
      assert.deepEqual([...first], [0, 1, 0, 0, 0, 6, 7, 4, 0x12, 0x34, 0, 3]);
      assert.equal(framing.start(read).readUInt16BE(0), 2);
    });

    it('takes the frame with the request’s transaction id, skipping frames of other transactions', () => {
      const framing = new TcpFraming();
      const id = framing.start(read).readUInt16BE(0);
      const other = mbap(id + 1, 1, 3, 4, 9, 9, 9, 9);
      const answer = mbap(id, 1, 3, 4, 0x12, 0x34, 0x56, 0x78);
      assert.equal(framing.receive(other), undefined);
      assert.equal(framing.receive(answer.subarray(0, 8)), undefined);
      assert.deepEqual(framing.receive(answer.subarray(8)), { registers: [0x1234, 0x5678] });
    });

    it('starts each request with an empty buffer: a stray byte or a bogus length before it is forgotten', () => {
      const framing = new TcpFraming();
      framing.start(read);
      assert.equal(framing.receive(Buffer.from([0, 1, 0, 0, 0xff, 0xff, 1])), undefined);
      const id = framing.start(read).readUInt16BE(0);
      assert.deepEqual(framing.receive(mbap(id, 1, 3, 4, 0, 1, 0, 2)), { registers: [1, 2] });
    });

    it('refuses a short frame, another unit, another function code and a wrong byte count', () => {
      const framing = new TcpFraming();
      const cases: [number[], string][] = [
        [[1, 3, 4, 0, 1, 0], 'Data length error, expected 9 got 8'],
        [[2, 3, 4, 0, 1, 0, 2], 'Unexpected data error, expected address 1 got 2'],
        [[1, 4, 4, 0, 1, 0, 2], 'Unexpected data error, expected code 3 got 4'],
        [[1, 3, 3, 0, 1, 0, 2], 'byte count 3, expected 4'],
      ];
      for (const [bytes, expected] of cases) {
        const id = framing.start(read).readUInt16BE(0);
        assert.equal(message(framing.receive(mbap(id, ...bytes))), expected);
      }
      const id = framing.start(read).readUInt16BE(0);
      const exception = framing.receive(mbap(id, 1, 0x83, 11));
      assert.equal((exception as { error: { modbusCode?: number } }).error.modbusCode, 11);
    });
  });
});
