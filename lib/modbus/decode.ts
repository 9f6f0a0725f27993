import type { Measurand, RegisterType, RegisterUnit, WordOrder } from './types';

/** Registers a value of each type occupies. */
export function registerCount(type: RegisterType): 1 | 2 | 4 {
  switch (type) {
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
  }
}

/**
 * Raw values that mean "not available" whatever the device: the SunSpec, SMA and Huawei
 * conventions (the most negative signed value, all ones unsigned). Floats: NaN and infinities.
 * A device's own (ABB's 0x7FFF…) come from its profile.
 */
export const DEFAULT_NOT_AVAILABLE: Record<RegisterType, readonly string[]> = {
  int16: ['0x8000'],
  uint16: ['0xFFFF'],
  int32: ['0x80000000'],
  uint32: ['0xFFFFFFFF'],
  int64: ['0x8000000000000000'],
  uint64: ['0xFFFFFFFFFFFFFFFF'],
  float32: [],
  float64: [],
};

/**
 * The value's bytes most significant first, from registers as received. 16-bit values are
 * big-endian by the Modbus specification, so the word order applies to 32/64-bit values only.
 */
export function toBigEndianBytes(words: readonly number[], order: WordOrder): Buffer {
  const bytes = Buffer.alloc(words.length * 2);
  const single = words.length === 1;
  const wordOrder = single ? 'ABCD' : order;
  const reversed = wordOrder === 'CDAB' || wordOrder === 'DCBA';
  const swapped = wordOrder === 'BADC' || wordOrder === 'DCBA';
  words.forEach((word, index) => {
    const at = (reversed ? words.length - 1 - index : index) * 2;
    const high = (word >> 8) & 0xff;
    const low = word & 0xff;
    bytes[at] = swapped ? low : high;
    bytes[at + 1] = swapped ? high : low;
  });
  return bytes;
}

/** Inverse of {@link toBigEndianBytes}: the registers a device sends for these value bytes. */
export function fromBigEndianBytes(bytes: Buffer, order: WordOrder): number[] {
  const count = bytes.length / 2;
  const single = count === 1;
  const wordOrder = single ? 'ABCD' : order;
  const reversed = wordOrder === 'CDAB' || wordOrder === 'DCBA';
  const swapped = wordOrder === 'BADC' || wordOrder === 'DCBA';
  const words: number[] = [];
  for (let index = 0; index < count; index++) {
    const at = (reversed ? count - 1 - index : index) * 2;
    const first = bytes[at] ?? 0;
    const second = bytes[at + 1] ?? 0;
    words.push(swapped ? (second << 8) | first : (first << 8) | second);
  }
  return words;
}

export interface RawValue {
  /** The number as stored (before scale), or null for NaN / infinity. */
  value: number | null;
  /** The stored bytes as upper-case hex, `0x` + 2 digits per byte, to compare with sentinels. */
  hex: string;
}

/**
 * The shortest decimal that is the same float32: a meter's 230.1 V arrives as 230.100006103515625
 * and should read 230.1, while 12345678 (exact in float32) must stay 12345678.
 */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** Each type in its big-endian bytes: read by the decoder, written by the simulator (integers rounded). */
const CODECS: Record<
  RegisterType,
  { read(bytes: Buffer): number; write(bytes: Buffer, value: number): void }
> = {
  int16: { read: (b) => b.readInt16BE(0), write: (b, v) => b.writeInt16BE(v, 0) },
  uint16: { read: (b) => b.readUInt16BE(0), write: (b, v) => b.writeUInt16BE(v, 0) },
  int32: { read: (b) => b.readInt32BE(0), write: (b, v) => b.writeInt32BE(v, 0) },
  uint32: { read: (b) => b.readUInt32BE(0), write: (b, v) => b.writeUInt32BE(v, 0) },
  int64: { read: (b) => Number(b.readBigInt64BE(0)), write: (b, v) => b.writeBigInt64BE(BigInt(v), 0) },
  uint64: { read: (b) => Number(b.readBigUInt64BE(0)), write: (b, v) => b.writeBigUInt64BE(BigInt(v), 0) },
  float32: { read: (b) => shortestFloat32(b.readFloatBE(0)), write: (b, v) => b.writeFloatBE(v, 0) },
  float64: { read: (b) => b.readDoubleBE(0), write: (b, v) => b.writeDoubleBE(v, 0) },
};

/** Decodes one value from its registers. 64-bit integers beyond 2^53 lose precision (fine for Wh). */
export function decodeRaw(words: readonly number[], type: RegisterType, order: WordOrder): RawValue {
  const expected = registerCount(type);
  if (words.length !== expected) {
    throw new Error(`a ${type} needs ${expected} registers, got ${words.length}`);
  }
  const bytes = toBigEndianBytes(words, order);
  const hex = `0x${bytes.toString('hex').toUpperCase()}`;
  const value = CODECS[type].read(bytes);
  return { value: Number.isFinite(value) ? value : null, hex };
}

/**
 * Encodes a number as a device stores it (the simulator's side). Integers are rounded; values
 * outside the type's range throw, so a simulator never serves a wrapped number silently.
 */
export function encodeRaw(value: number, type: RegisterType, order: WordOrder): number[] {
  const bytes = Buffer.alloc(registerCount(type) * 2);
  const float = type === 'float32' || type === 'float64';
  CODECS[type].write(bytes, float ? value : Math.round(value));
  return fromBigEndianBytes(bytes, order);
}

/** The registers of a sentinel given as hex (`0x8000`), for the simulator to serve "unknown". */
export function encodeHex(hex: string, type: RegisterType, order: WordOrder): number[] {
  const digits = hex.replace(/^0x/i, '').padStart(registerCount(type) * 4, '0');
  return fromBigEndianBytes(Buffer.from(digits, 'hex'), order);
}

/** Upper-case, zero-padded form of a sentinel so `0x7fff` and `0x7FFF` compare equal. */
export function normaliseHex(hex: string, type: RegisterType): string {
  const digits = hex
    .trim()
    .replace(/^0x/i, '')
    .toUpperCase()
    .padStart(registerCount(type) * 4, '0');
  return `0x${digits}`;
}

/** The Reading's unit for each measurand. */
export const CANONICAL_UNIT: Record<Measurand, RegisterUnit> = {
  voltageL1: 'V',
  voltageL2: 'V',
  voltageL3: 'V',
  currentL1: 'A',
  currentL2: 'A',
  currentL3: 'A',
  powerL1: 'W',
  powerL2: 'W',
  powerL3: 'W',
  powerTotal: 'W',
  importEnergy: 'Wh',
  exportEnergy: 'Wh',
  frequency: 'Hz',
  powerFactor: '1',
  reactivePowerTotal: 'var',
};

/** Each unit as a multiple of its canonical unit. */
const UNIT_FACTORS: Record<RegisterUnit, { canonical: RegisterUnit; factor: number }> = {
  V: { canonical: 'V', factor: 1 },
  mV: { canonical: 'V', factor: 1e-3 },
  kV: { canonical: 'V', factor: 1e3 },
  A: { canonical: 'A', factor: 1 },
  mA: { canonical: 'A', factor: 1e-3 },
  W: { canonical: 'W', factor: 1 },
  kW: { canonical: 'W', factor: 1e3 },
  MW: { canonical: 'W', factor: 1e6 },
  Wh: { canonical: 'Wh', factor: 1 },
  kWh: { canonical: 'Wh', factor: 1e3 },
  MWh: { canonical: 'Wh', factor: 1e6 },
  Hz: { canonical: 'Hz', factor: 1 },
  mHz: { canonical: 'Hz', factor: 1e-3 },
  var: { canonical: 'var', factor: 1 },
  kvar: { canonical: 'var', factor: 1e3 },
  '1': { canonical: '1', factor: 1 },
  '%': { canonical: '1', factor: 1e-2 },
};

export const REGISTER_UNITS = Object.keys(UNIT_FACTORS) as RegisterUnit[];

/** Whether a register in `unit` can feed `measurand` (volts for voltages, and so on). */
export function unitFits(measurand: Measurand, unit: RegisterUnit): boolean {
  return UNIT_FACTORS[unit]?.canonical === CANONICAL_UNIT[measurand];
}

/** Factor from `unit` to the canonical unit of the same quantity (kW → W: 1000). */
export function unitFactor(unit: RegisterUnit): number {
  return UNIT_FACTORS[unit].factor;
}

/**
 * Rounds away binary noise from scaling (0.1 * 2301 = 230.10000000000002) without losing the
 * device's own resolution: 12 significant digits are more than any meter has.
 */
export function tidy(value: number): number {
  if (value === 0) return 0;
  return Number(value.toPrecision(12));
}
