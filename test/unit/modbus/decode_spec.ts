import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeRaw,
  encodeHex,
  encodeRaw,
  fromBigEndianBytes,
  registerCount,
  toBigEndianBytes,
} from '../../../lib/modbus/decode';
import { decodeRegister } from '../../../lib/modbus/reading';
import {
  type DeviceProfile,
  REGISTER_TYPES,
  type RegisterDefinition,
  WORD_ORDERS,
} from '../../../lib/modbus/types';

const profile = (overrides: Partial<DeviceProfile> = {}): DeviceProfile => ({
  id: 'test',
  name: 'test',
  manufacturer: '',
  models: [],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  registers: [],
  sources: [],
  ...overrides,
});

function decodeWith(definition: RegisterDefinition, words: number[], options: Partial<DeviceProfile> = {}) {
  const map = new Map(words.map((word, offset) => [definition.address + offset, word]));
  return decodeRegister(profile(options), definition, (address) => map.get(address));
}

describe('Modbus decoding', () => {
  it('reads a float32 in each word order (230.1 V = 0x4366199A)', () => {
    assert.equal(decodeRaw([0x4366, 0x199a], 'float32', 'ABCD').value, 230.1);
    assert.equal(decodeRaw([0x199a, 0x4366], 'float32', 'CDAB').value, 230.1);
    assert.equal(decodeRaw([0x6643, 0x9a19], 'float32', 'BADC').value, 230.1);
    assert.equal(decodeRaw([0x9a19, 0x6643], 'float32', 'DCBA').value, 230.1);
  });

  it('reads Carlo Gavazzi int32 with the low word first (2301 = 0x000008FD)', () => {
    assert.equal(decodeRaw([0x08fd, 0x0000], 'int32', 'CDAB').value, 2301);
    assert.equal(decodeRaw([0xfffb, 0xffff], 'int32', 'CDAB').value, -5);
  });

  it('reads 64-bit integers and doubles word by word', () => {
    assert.equal(decodeRaw([0x0000, 0x011f, 0x71fb, 0x04cb], 'uint64', 'ABCD').value, 1234567890123);
    assert.equal(decodeRaw([0x04cb, 0x71fb, 0x011f, 0x0000], 'uint64', 'CDAB').value, 1234567890123);
    assert.equal(decodeRaw([0xffff, 0xffff, 0xffff, 0xfffb], 'int64', 'ABCD').value, -5);
    assert.equal(decodeRaw([0x4132, 0xd687, 0x8000, 0x0000], 'float64', 'ABCD').value, 1234567.5);
  });

  it('keeps 16-bit registers big-endian whatever the word order', () => {
    assert.equal(decodeRaw([0x1234], 'uint16', 'DCBA').value, 0x1234);
    assert.equal(decodeRaw([0xff9c], 'int16', 'CDAB').value, -100);
  });

  it('gives float32 values as the meter meant them, not with binary noise', () => {
    assert.equal(decodeRaw(encodeRaw(49.9, 'float32', 'ABCD'), 'float32', 'ABCD').value, 49.9);
    assert.equal(decodeRaw(encodeRaw(12345678, 'float32', 'ABCD'), 'float32', 'ABCD').value, 12345678);
  });

  it('turns sentinels into unknown, never zero', () => {
    const at = (type: RegisterDefinition['type']): RegisterDefinition => ({
      measurand: 'powerTotal',
      address: 10,
      type,
      unit: 'W',
    });
    assert.equal(decodeWith(at('int16'), [0x8000]), null);
    assert.equal(decodeWith(at('uint16'), [0xffff]), null);
    assert.equal(decodeWith(at('int32'), [0x8000, 0x0000]), null);
    assert.equal(decodeWith(at('uint32'), [0xffff, 0xffff]), null);
    assert.equal(decodeWith(at('uint64'), [0xffff, 0xffff, 0xffff, 0xffff]), null);
    assert.equal(decodeWith(at('int64'), [0x8000, 0, 0, 0]), null);
    assert.equal(decodeWith(at('float32'), [0x7fc0, 0x0000]), null, 'NaN');
    assert.equal(decodeWith(at('float32'), [0x7f80, 0x0000]), null, 'infinity');
    // A device's own sentinel (ABB 0x7FFFFFFF) only where its profile says so.
    assert.equal(decodeWith(at('int32'), [0x7fff, 0xffff]), 2147483647);
    assert.equal(
      decodeWith(at('int32'), [0x7fff, 0xffff], { notAvailable: { int32: ['0x7fffffff'] } }),
      null,
    );
    // SunSpec accumulators: 0 = not accumulated.
    assert.equal(decodeWith({ ...at('uint32'), notAvailable: ['0x00000000'] }, [0, 0]), null);
  });

  it('applies scale, scale factor and unit: kW to W, kWh to Wh, mV to V', () => {
    assert.equal(
      decodeWith(
        { measurand: 'powerTotal', address: 0, type: 'float32', unit: 'kW' },
        encodeRaw(1.15, 'float32', 'ABCD'),
      ),
      1150,
    );
    assert.equal(
      decodeWith(
        { measurand: 'importEnergy', address: 0, type: 'int32', unit: 'kWh', scale: 0.1 },
        [0, 12345],
      ),
      1234500,
    );
    assert.equal(
      decodeWith({ measurand: 'voltageL1', address: 0, type: 'uint32', unit: 'mV' }, [0x0003, 0x82d4]),
      230.1,
    );
    const withSf: RegisterDefinition = {
      measurand: 'voltageL1',
      address: 0,
      type: 'int16',
      unit: 'V',
      scaleFactorAddress: 1,
    };
    assert.equal(decodeWith(withSf, [2301, 0xffff]), 230.1, 'SF -1');
    assert.equal(decodeWith(withSf, [2301, 0x8000]), null, 'SF not implemented');
    assert.equal(decodeWith(withSf, [2301, 50]), null, 'SF out of range');
  });

  it('round-trips every type in every word order (encode then decode)', () => {
    const ranges: Record<string, fc.Arbitrary<number>> = {
      int16: fc.integer({ min: -0x7fff, max: 0x7fff }),
      uint16: fc.integer({ min: 0, max: 0xfffe }),
      int32: fc.integer({ min: -0x7fffffff, max: 0x7fffffff }),
      uint32: fc.integer({ min: 0, max: 0xfffffffe }),
      int64: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
      uint64: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
      float32: fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => Math.fround(f)),
      float64: fc.double({ noNaN: true, noDefaultInfinity: true }),
    };
    for (const type of REGISTER_TYPES) {
      fc.assert(
        fc.property(ranges[type] as fc.Arbitrary<number>, fc.constantFrom(...WORD_ORDERS), (value, order) => {
          const words = encodeRaw(value, type, order);
          assert.equal(words.length, registerCount(type));
          const decoded = decodeRaw(words, type, order).value;
          // -0 and 0 are the same reading.
          if (type === 'float32') assert.equal(Math.fround(decoded ?? Number.NaN) + 0, value + 0);
          else assert.equal((decoded ?? Number.NaN) + 0, value + 0);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('places bytes so that word orders are permutations of one another', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 2, maxLength: 4 }),
        fc.constantFrom(...WORD_ORDERS),
        (words, order) => {
          if (words.length === 3) return;
          assert.deepEqual(fromBigEndianBytes(toBigEndianBytes(words, order), order), words);
        },
      ),
    );
    assert.deepEqual(encodeHex('0x8000', 'int16', 'ABCD'), [0x8000]);
    assert.deepEqual(encodeHex('0xFFFFFFFF', 'uint32', 'CDAB'), [0xffff, 0xffff]);
  });
});
