import { registerCount } from './decode';
import { ModbusRequestError } from './errors';
import type { DeviceProfile, RegisterDefinition } from './types';

/** "SunS" as two registers. */
export const SUNSPEC_MARKER = [0x5375, 0x6e53] as const;
const END_OF_MODELS = 0xffff;
/** Real devices carry a dozen models; a longer chain means the walk went astray. */
const MAX_MODELS = 64;

export interface SunSpecModel {
  id: number;
  /** Address of the model's ID register. */
  address: number;
  /** Registers after the ID and length registers. */
  length: number;
}

export interface SunSpecLayout {
  /** Address of the "SunS" marker. */
  base: number;
  models: SunSpecModel[];
}

/** Reads `quantity` holding registers from `address` on the device being discovered. */
export type HoldingReader = (address: number, quantity: number) => Promise<number[]>;

/**
 * Finds the SunSpec marker at the first of `baseAddresses` that has it and walks the model chain
 * (next model = address + 2 + length) to the end marker. Devices without an end marker (some
 * SMA) answer exception 2 past the last model: that ends the walk too.
 */
export async function walkSunSpec(
  read: HoldingReader,
  baseAddresses: readonly number[],
): Promise<SunSpecLayout> {
  const misses: string[] = [];
  let base: number | undefined;
  for (const candidate of baseAddresses) {
    try {
      const words = await read(candidate, 2);
      if (words[0] === SUNSPEC_MARKER[0] && words[1] === SUNSPEC_MARKER[1]) {
        base = candidate;
        break;
      }
      misses.push(`${candidate}: no "SunS"`);
    } catch (error) {
      const miss =
        error instanceof ModbusRequestError &&
        (error.failure === 'exception' || error.failure === 'timeout' || error.failure === 'unit-backed-off');
      if (!miss) throw error;
      misses.push(`${candidate}: ${error instanceof ModbusRequestError ? error.detail : String(error)}`);
    }
  }
  if (base === undefined) {
    throw new Error(`no SunSpec marker found (${misses.join('; ')}); check the unit id`);
  }
  const models: SunSpecModel[] = [];
  let address = base + 2;
  while (models.length < MAX_MODELS && address + 1 <= 0xffff) {
    let words: number[];
    try {
      words = await read(address, 2);
    } catch (error) {
      if (error instanceof ModbusRequestError && error.failure === 'exception' && error.exceptionCode === 2)
        break;
      throw error;
    }
    const [id = END_OF_MODELS, length = 0] = words;
    if (id === END_OF_MODELS || (id === 0 && length === 0)) break;
    models.push({ id, address, length });
    address += 2 + length;
  }
  return { base, models };
}

/**
 * The profile with concrete registers for the first preferred model the device has: values and
 * scale factors at absolute addresses, the model's registers marked readable so the planner reads
 * each value with its scale factor in one request.
 */
export function resolveSunSpecProfile(profile: DeviceProfile, layout: SunSpecLayout): DeviceProfile {
  const discovery = profile.sunspec;
  if (!discovery) return profile;
  const model = discovery.preferredModels
    .map((id) => layout.models.find((candidate) => candidate.id === id))
    .find((candidate) => candidate !== undefined && discovery.models[String(candidate.id)] !== undefined);
  if (!model) {
    const found = layout.models.map((candidate) => candidate.id).join(', ') || 'none';
    throw new Error(
      `the device has none of the SunSpec models ${discovery.preferredModels.join(', ')} (it has ${found})`,
    );
  }
  const map = discovery.models[String(model.id)];
  const last = model.address + 1 + model.length;
  const registers: RegisterDefinition[] = [];
  for (const point of map?.points ?? []) {
    const address = model.address + point.offset;
    const sfAddress =
      point.scaleFactorOffset === undefined ? undefined : model.address + point.scaleFactorOffset;
    // A point (any of its registers) beyond the model's length is not implemented on this device.
    const pointEnd = address + registerCount(point.type) - 1;
    if (pointEnd > last || (sfAddress !== undefined && sfAddress > last)) continue;
    registers.push({
      measurand: point.measurand,
      address,
      type: point.type,
      unit: point.unit,
      ...(sfAddress === undefined ? {} : { scaleFactorAddress: sfAddress }),
      ...(point.notAvailable ? { notAvailable: point.notAvailable } : {}),
      ...(point.direction ? { direction: point.direction } : {}),
    });
  }
  const { sunspec: _discovery, ...rest } = profile;
  return {
    ...rest,
    name: `${profile.name}: model ${model.id} at ${model.address}`,
    functionCode: 3,
    readable: [[model.address, last]],
    registers,
  };
}
