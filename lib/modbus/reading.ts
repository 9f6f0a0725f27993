import type { PerPhase, Reading } from '../contracts';
import { DEFAULT_NOT_AVAILABLE, decodeRaw, normaliseHex, registerCount, tidy, unitFactor } from './decode';
import type { ReadBlock } from './plan';
import { type DeviceProfile, type Measurand, type RegisterDefinition, SIGNED_MEASURANDS } from './types';

/** A measurand's value after decoding: a number, or null when unknown (sentinel, NaN, not read). */
export type MeasuredValues = Partial<Record<Measurand, number | null>>;

/** Largest scale-factor exponent taken seriously; beyond it the device sent garbage. */
const MAX_SCALE_FACTOR = 10;

function sentinelSet(profile: DeviceProfile, definition: RegisterDefinition): Set<string> {
  const type = definition.type;
  return new Set(
    [
      ...DEFAULT_NOT_AVAILABLE[type],
      ...(profile.notAvailable?.[type] ?? []),
      ...(definition.notAvailable ?? []),
    ].map((hex) => normaliseHex(hex, type)),
  );
}

/** The value of one register definition, in its measurand's canonical unit, or null. */
export function decodeRegister(
  profile: DeviceProfile,
  definition: RegisterDefinition,
  wordAt: (address: number) => number | undefined,
): number | null {
  const words: number[] = [];
  for (let offset = 0; offset < registerCount(definition.type); offset++) {
    const word = wordAt(definition.address + offset);
    if (word === undefined) return null;
    words.push(word);
  }
  const raw = decodeRaw(words, definition.type, definition.wordOrder ?? profile.wordOrder);
  if (raw.value === null || sentinelSet(profile, definition).has(raw.hex)) return null;
  let value = raw.value * (definition.scale ?? 1);
  if (definition.scaleFactorAddress !== undefined) {
    const sfWord = wordAt(definition.scaleFactorAddress);
    if (sfWord === undefined || sfWord === 0x8000) return null;
    const sf = sfWord >= 0x8000 ? sfWord - 0x10000 : sfWord;
    if (Math.abs(sf) > MAX_SCALE_FACTOR) return null;
    value *= 10 ** sf;
  }
  return tidy(value * unitFactor(definition.unit));
}

/**
 * Decodes what a poll's requests brought back. `answers` holds the registers of each block that
 * succeeded (by block index); measurands of failed blocks come out null. Registers of the same
 * measurand are added, `export` ones subtracted (P+ / P- pairs); one unknown part makes the sum
 * unknown.
 */
export function decodeBlocks(
  profile: DeviceProfile,
  blocks: readonly ReadBlock[],
  answers: ReadonlyMap<number, readonly number[]>,
): MeasuredValues {
  const words = new Map<number, number>();
  blocks.forEach((block, index) => {
    const registers = answers.get(index);
    if (!registers) return;
    registers.forEach((word, offset) => {
      words.set(block.address + offset, word);
    });
  });
  const values: MeasuredValues = {};
  for (const definition of profile.registers) {
    const value = decodeRegister(profile, definition, (address) => words.get(address));
    const sign = definition.direction === 'export' ? -1 : 1;
    const previous = values[definition.measurand];
    if (previous === null) continue;
    if (value === null) values[definition.measurand] = null;
    else values[definition.measurand] = tidy((previous ?? 0) + sign * value);
  }
  return values;
}

export interface ReadingOptions {
  source: string;
  timestampMs: number;
  /** Single-phase meters: the grid phase (1-3) the meter is wired to. */
  phase?: 1 | 2 | 3;
}

/**
 * Turns decoded values into a Reading: import-positive power and current, W, Wh, A, V, Hz.
 * Unknown values are left out (or null in a per-phase triple), never zero.
 */
export function toReading(
  profile: DeviceProfile,
  measured: MeasuredValues,
  options: ReadingOptions,
): Reading {
  const present = new Set(profile.registers.map((register) => register.measurand));
  const value = (measurand: Measurand): number | null => {
    const raw = measured[measurand];
    if (raw === undefined || raw === null) return null;
    const flip = profile.powerSign === 'export-positive' && SIGNED_MEASURANDS.has(measurand) ? -1 : 1;
    return tidy(raw * flip) + 0;
  };
  const onPhases = (l1: Measurand, l2: Measurand, l3: Measurand): PerPhase | undefined => {
    if (!present.has(l1) && !present.has(l2) && !present.has(l3)) return undefined;
    const triple: PerPhase = [value(l1), value(l2), value(l3)];
    if (profile.phases === 1 && options.phase && options.phase !== 1) {
      const single = triple[0];
      const moved: PerPhase = [null, null, null];
      moved[options.phase - 1] = single;
      return moved;
    }
    return triple;
  };

  const reading: Reading = { source: options.source, timestamp: new Date(options.timestampMs).toISOString() };
  const voltageV = onPhases('voltageL1', 'voltageL2', 'voltageL3');
  const powerW = onPhases('powerL1', 'powerL2', 'powerL3');
  let currentA = onPhases('currentL1', 'currentL2', 'currentL3');
  let totalPowerW = value('powerTotal');
  if (totalPowerW === null && !present.has('powerTotal') && powerW?.every((p) => p !== null)) {
    totalPowerW = tidy(powerW.reduce<number>((sum, p) => sum + (p ?? 0), 0));
  }
  if (currentA && (profile.currentSign ?? 'from-power') === 'from-power') {
    // Most meters report the current's magnitude: it takes the sign of its phase's power, or of
    // the total when the device has no per-phase power (inverters).
    const phaseKnown = present.has('powerL1') || present.has('powerL2') || present.has('powerL3');
    currentA = currentA.map((current, index) => {
      if (current === null) return null;
      const power = phaseKnown ? (powerW?.[index] ?? null) : totalPowerW;
      if (power === null || power === 0) return current;
      return Math.sign(power) * Math.abs(current);
    }) as PerPhase;
  }
  if (voltageV) reading.voltageV = voltageV;
  if (currentA) reading.currentA = currentA;
  if (powerW) reading.powerW = powerW;
  if (totalPowerW !== null) reading.totalPowerW = totalPowerW;
  const importWh = value('importEnergy');
  if (importWh !== null) reading.importWh = importWh;
  const exportWh = value('exportEnergy');
  if (exportWh !== null) reading.exportWh = exportWh;
  const frequencyHz = value('frequency');
  if (frequencyHz !== null) reading.frequencyHz = frequencyHz;
  const powerFactor = value('powerFactor');
  if (powerFactor !== null) reading.powerFactor = powerFactor;
  const reactivePowerVar = value('reactivePowerTotal');
  if (reactivePowerVar !== null) reading.reactivePowerVar = reactivePowerVar;
  return reading;
}
