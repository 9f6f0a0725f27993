import { registerCount } from './decode';
import type { DeviceProfile, FunctionCode, RegisterDefinition } from './types';

/** One Modbus read request of a poll, and the registers of the profile it carries. */
export interface ReadBlock {
  functionCode: FunctionCode;
  /** First register (0-based wire address). */
  address: number;
  /** Number of registers. */
  quantity: number;
  /** Indexes into the profile's `registers` that this block fully contains. */
  registers: number[];
}

/** Registers a definition needs in one request: its value and, if any, its scale factor. */
export function registerSpan(definition: RegisterDefinition): [number, number] {
  const end = definition.address + registerCount(definition.type) - 1;
  const sf = definition.scaleFactorAddress;
  if (sf === undefined) return [definition.address, end];
  return [Math.min(definition.address, sf), Math.max(end, sf)];
}

/**
 * How many registers a value and its scale factor span when one request of
 * `maxRegistersPerRequest` cannot read them (undefined when it can). They are never split: the
 * device may change the factor between two requests, so a cap below their span cannot be kept.
 */
export function spanBeyond(
  definition: RegisterDefinition,
  maxRegistersPerRequest: number,
): number | undefined {
  const [start, end] = registerSpan(definition);
  const span = end - start + 1;
  return span > maxRegistersPerRequest ? span : undefined;
}

/**
 * Groups a profile's registers into as few read requests as the device allows. A request never
 * exceeds `maxRegistersPerRequest`, never splits a value from its scale factor, and reads unused
 * registers between two wanted ones only inside a `readable` range. Greedy from the lowest
 * address is optimal here: any run of values that fits one request still fits after dropping
 * its first value.
 */
export function planReads(profile: DeviceProfile): ReadBlock[] {
  const functionCode = profile.functionCode;
  const readable = profile.readable ?? [];
  const gapReadable = (from: number, to: number) => readable.some(([low, high]) => low <= from && to <= high);
  const items = profile.registers
    .map((definition, index) => {
      const [start, end] = registerSpan(definition);
      return { index, start, end };
    })
    .sort((a, b) => a.start - b.start || a.end - b.end);

  const blocks: ReadBlock[] = [];
  let current: { start: number; end: number; registers: number[] } | undefined;
  const close = (block: { start: number; end: number; registers: number[] }) =>
    blocks.push({
      functionCode,
      address: block.start,
      quantity: block.end - block.start + 1,
      registers: block.registers,
    });
  for (const item of items) {
    if (current) {
      const end = Math.max(current.end, item.end);
      const fits = end - current.start + 1 <= profile.maxRegistersPerRequest;
      const joined = item.start <= current.end + 1 || gapReadable(current.end + 1, item.start - 1);
      if (fits && joined) {
        current.end = end;
        current.registers.push(item.index);
        continue;
      }
      close(current);
    }
    current = { start: item.start, end: item.end, registers: [item.index] };
  }
  if (current) close(current);
  return blocks;
}
