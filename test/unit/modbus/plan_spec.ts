import assert from 'node:assert/strict';
import fc from 'fast-check';
import { registerCount } from '../../../lib/modbus/decode';
import { planReads, registerSpan } from '../../../lib/modbus/plan';
import { findProfile, SHIPPED_PROFILES } from '../../../lib/modbus/profiles';
import { type DeviceProfile, MEASURANDS, type RegisterDefinition } from '../../../lib/modbus/types';

function profileWith(
  registers: RegisterDefinition[],
  maxRegistersPerRequest: number,
  readable?: [number, number][],
): DeviceProfile {
  return {
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
    maxRegistersPerRequest,
    ...(readable ? { readable } : {}),
    registers,
    sources: [],
  };
}

/** The fewest requests possible, by dynamic programming over the sorted values. */
function fewestRequests(profile: DeviceProfile): number {
  const items = profile.registers.map(registerSpan).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const readable = profile.readable ?? [];
  const feasible = (from: number, to: number) => {
    let end = items[from]?.[1] ?? 0;
    const start = items[from]?.[0] ?? 0;
    for (let k = from + 1; k <= to; k++) {
      const [s, e] = items[k] as [number, number];
      const gapOk = s <= end + 1 || readable.some(([lo, hi]) => lo <= end + 1 && s - 1 <= hi);
      if (!gapOk) return false;
      end = Math.max(end, e);
    }
    return end - start + 1 <= profile.maxRegistersPerRequest;
  };
  const best: number[] = [0];
  for (let j = 1; j <= items.length; j++) {
    best[j] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < j; i++) {
      if (feasible(i, j - 1)) best[j] = Math.min(best[j] as number, (best[i] as number) + 1);
    }
  }
  return best[items.length] as number;
}

describe('Modbus read planning', () => {
  it('reads the SDM630 in two requests (the manual allows 30 values per request)', () => {
    const profile = findProfile('eastron-sdm630');
    assert.ok(profile);
    assert.deepEqual(
      planReads(profile).map((block) => [block.functionCode, block.address, block.quantity]),
      [
        [4, 0, 54],
        [4, 70, 6],
      ],
    );
  });

  it('keeps the Carlo Gavazzi EM24 within 11 registers and its export counter in a request of its own', () => {
    const profile = findProfile('carlo-gavazzi-em24');
    assert.ok(profile);
    const blocks = planReads(profile);
    assert.ok(blocks.every((block) => block.quantity <= 11));
    const exportBlock = blocks.find((block) => block.address === 0x5c);
    assert.deepEqual(exportBlock?.quantity, 2);
  });

  it('never reads unused registers outside a readable range, and joins adjacent values', () => {
    const registers: RegisterDefinition[] = [
      { measurand: 'voltageL1', address: 10, type: 'float32', unit: 'V' },
      { measurand: 'voltageL2', address: 12, type: 'float32', unit: 'V' },
      { measurand: 'voltageL3', address: 20, type: 'float32', unit: 'V' },
    ];
    assert.deepEqual(
      planReads(profileWith(registers, 125)).map((b) => [b.address, b.quantity]),
      [
        [10, 4],
        [20, 2],
      ],
    );
    assert.deepEqual(
      planReads(profileWith(registers, 125, [[0, 30]])).map((b) => [b.address, b.quantity]),
      [[10, 12]],
    );
  });

  it('reads a value and its scale factor in the same request, even when the SF sits far after it', () => {
    const registers: RegisterDefinition[] = [
      { measurand: 'powerTotal', address: 100, type: 'int16', unit: 'W', scaleFactorAddress: 104 },
      { measurand: 'importEnergy', address: 120, type: 'uint32', unit: 'Wh', scaleFactorAddress: 130 },
    ];
    const blocks = planReads(profileWith(registers, 8));
    for (const register of registers) {
      const [start, end] = registerSpan(register);
      assert.ok(blocks.some((b) => b.address <= start && end <= b.address + b.quantity - 1));
    }
  });

  it('finds the fewest requests the constraints allow, never splits a value, never exceeds the limit', () => {
    const register = fc.record({
      address: fc.integer({ min: 0, max: 300 }),
      type: fc.constantFrom('uint16', 'int32', 'float32', 'uint64' as const),
      sfOffset: fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(register, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 8, max: 125 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 60 })), {
          maxLength: 3,
        }),
        (entries, max, ranges) => {
          const registers: RegisterDefinition[] = entries.map((entry, index) => ({
            measurand: MEASURANDS[index] ?? 'exportEnergy',
            address: entry.address,
            type: entry.type,
            unit: 'W',
            ...(entry.sfOffset === undefined
              ? {}
              : {
                  scaleFactorAddress: Math.max(
                    0,
                    entry.address +
                      (entry.sfOffset < 0 ? entry.sfOffset : registerCount(entry.type) + entry.sfOffset),
                  ),
                }),
          }));
          // validateProfile refuses a value whose scale factor is further away than one request reaches.
          fc.pre(registers.every((r) => registerSpan(r)[1] - registerSpan(r)[0] < max));
          const readable = ranges.map(([start, length]): [number, number] => [start, start + length]);
          const profile = profileWith(registers, max, readable);
          const blocks = planReads(profile);
          const covered = new Set<number>();
          for (const block of blocks) {
            assert.ok(block.quantity <= max);
            for (const index of block.registers) {
              const [start, end] = registerSpan(registers[index] as RegisterDefinition);
              assert.ok(
                block.address <= start && end < block.address + block.quantity,
                'value split from its block',
              );
              covered.add(index);
            }
          }
          assert.equal(covered.size, registers.length);
          assert.equal(blocks.length, fewestRequests(profile));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('plans every shipped profile within its own limits', () => {
    for (const profile of SHIPPED_PROFILES.filter((p) => !p.sunspec)) {
      const blocks = planReads(profile);
      assert.ok(blocks.length > 0, profile.id);
      assert.ok(
        blocks.every((b) => b.quantity <= profile.maxRegistersPerRequest),
        profile.id,
      );
      assert.equal(blocks.length, fewestRequests(profile), profile.id);
    }
  });
});
