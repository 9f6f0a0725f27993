import type { PerPhase } from '../lib/contracts';
import { DEFAULT_NOT_AVAILABLE, encodeHex, encodeRaw, registerCount, unitFactor } from '../lib/modbus/decode';
import { resolveSunSpecProfile, SUNSPEC_MARKER, type SunSpecLayout } from '../lib/modbus/sunspec';
import {
  type DeviceProfile,
  type Measurand,
  type RegisterDefinition,
  SIGNED_MEASURANDS,
} from '../lib/modbus/types';
import type { SimAnswer, SimulatedUnit } from './modbus-server';

/**
 * What a simulated meter measures, in the Reading's units and sign (import positive). `null`
 * makes the device serve its "not available" value; a field left out keeps its value.
 */
export interface SimulatedValues {
  voltageV?: PerPhase;
  currentA?: PerPhase;
  powerW?: PerPhase;
  totalPowerW?: number | null;
  importWh?: number | null;
  exportWh?: number | null;
  frequencyHz?: number | null;
  powerFactor?: number | null;
  reactivePowerVar?: number | null;
}

/** Plausible values of a site drawing about 3.7 kW: what a fresh simulator serves. */
export const DEFAULT_SIMULATED_VALUES: Required<SimulatedValues> = {
  voltageV: [230.1, 231.2, 229.8],
  currentA: [5.2, 6.4, 4.5],
  powerW: [1150, 1400, 1000],
  totalPowerW: 3550,
  importWh: 1234567,
  exportWh: 89012,
  frequencyHz: 50.01,
  powerFactor: 0.97,
  reactivePowerVar: 120,
};

/** Registers (after ID and length) of the SunSpec models the simulator can serve. */
export const SUNSPEC_MODEL_LENGTHS: Record<number, number> = {
  1: 66,
  101: 50,
  102: 50,
  103: 50,
  111: 60,
  112: 60,
  113: 60,
  201: 105,
  202: 105,
  203: 105,
  204: 105,
  211: 124,
  212: 124,
  213: 124,
  214: 124,
  701: 153,
};

export interface SunSpecServing {
  /** Where "SunS" sits (default 40000). */
  base?: number;
  /** The model holding the values (default: the profile's first preference). */
  model?: number;
  /** Models placed before it that the reader must walk past (e.g. 120 nameplate, 26 long). */
  before?: { id: number; length: number }[];
  /** Some SMA inverters have no end marker (default true). */
  endMarker?: boolean;
}

export interface SimulatedMeterOptions {
  values?: SimulatedValues;
  sunspec?: SunSpecServing;
}

/**
 * A meter that serves any device profile as the device would: the profile's function code, word
 * order, types, scale factors, units and sign convention, unsigned P+/P- pairs, SunSpec models
 * and scale factors. Reads outside what the profile calls readable answer exception 2, longer
 * requests than it allows exception 3, the other function code exception 1, as strict devices do.
 */
export class SimulatedMeter implements SimulatedUnit {
  readonly profile: DeviceProfile;
  private readonly served: DeviceProfile;
  private readonly memory = new Map<number, number>();
  private readonly readableRanges: [number, number][];
  private readonly values: Required<SimulatedValues> = structuredClone(DEFAULT_SIMULATED_VALUES);

  constructor(profile: DeviceProfile, options: SimulatedMeterOptions = {}) {
    this.profile = profile;
    if (profile.sunspec) {
      const { layout, end } = this.layOutSunSpec(profile, options.sunspec ?? {});
      this.served = resolveSunSpecProfile(profile, layout);
      this.readableRanges = [[layout.base, end]];
    } else {
      this.served = profile;
      this.readableRanges = [
        ...(profile.readable ?? []),
        ...profile.registers.flatMap((register): [number, number][] => {
          const own: [number, number] = [
            register.address,
            register.address + registerCount(register.type) - 1,
          ];
          return register.scaleFactorAddress === undefined
            ? [own]
            : [own, [register.scaleFactorAddress, register.scaleFactorAddress]];
        }),
      ];
    }
    this.set(options.values ?? {});
  }

  /** The profile with the absolute registers the simulator serves (SunSpec: resolved). */
  get servedProfile(): DeviceProfile {
    return this.served;
  }

  /** Changes what the meter measures; fields left out keep their values. */
  set(values: SimulatedValues): void {
    Object.assign(this.values, structuredClone(values));
    this.encode();
  }

  /** Writes raw registers (a device quirk, a night value) until the next `set`. */
  setRaw(address: number, words: number[]): void {
    words.forEach((word, offset) => {
      this.memory.set(address + offset, word & 0xffff);
    });
  }

  read(functionCode: number, address: number, quantity: number): SimAnswer {
    if (functionCode !== this.served.functionCode) return { exception: 1 };
    if (quantity < 1 || quantity > this.served.maxRegistersPerRequest) return { exception: 3 };
    const last = address + quantity - 1;
    for (let at = address; at <= last; at++) {
      if (!this.readableRanges.some(([low, high]) => low <= at && at <= high)) return { exception: 2 };
    }
    const words: number[] = [];
    for (let at = address; at <= last; at++) words.push(this.memory.get(at) ?? 0);
    return words;
  }

  private valueOf(measurand: Measurand): number | null | undefined {
    const v = this.values;
    switch (measurand) {
      case 'voltageL1':
      case 'voltageL2':
      case 'voltageL3':
        return v.voltageV[Number(measurand.slice(-1)) - 1];
      case 'currentL1':
      case 'currentL2':
      case 'currentL3':
        return v.currentA[Number(measurand.slice(-1)) - 1];
      case 'powerL1':
      case 'powerL2':
      case 'powerL3':
        return v.powerW[Number(measurand.slice(-1)) - 1];
      case 'powerTotal':
        return v.totalPowerW;
      case 'importEnergy':
        return v.importWh;
      case 'exportEnergy':
        return v.exportWh;
      case 'frequency':
        return v.frequencyHz;
      case 'powerFactor':
        return v.powerFactor;
      case 'reactivePowerTotal':
        return v.reactivePowerVar;
    }
  }

  /** The value a register holds on the device, before its scale: sign, direction and unit applied. */
  private deviceValue(register: RegisterDefinition): number | null {
    const value = this.valueOf(register.measurand);
    if (value === null || value === undefined) return null;
    let device = value;
    if (this.served.powerSign === 'export-positive' && SIGNED_MEASURANDS.has(register.measurand))
      device = -device;
    const pair = this.served.registers.some(
      (other) =>
        other !== register &&
        other.measurand === register.measurand &&
        other.direction !== register.direction,
    );
    if (pair) device = register.direction === 'export' ? Math.max(0, -device) : Math.max(0, device);
    // Unsigned current registers hold the magnitude; the reader signs it by the power.
    if (register.type.startsWith('uint') && device < 0) device = -device;
    return device / unitFactor(register.unit) / (register.scale ?? 1);
  }

  private encode(): void {
    const profile = this.served;
    // Scale factors: the smallest exponent from -3 up at which every value sharing it fits.
    const scaleFactors = new Map<number, number>();
    for (const register of profile.registers) {
      if (register.scaleFactorAddress === undefined) continue;
      const value = this.deviceValue(register);
      let sf = Math.max(-3, scaleFactors.get(register.scaleFactorAddress) ?? -3);
      while (value !== null && sf < 10 && !fits(value / 10 ** sf, register)) sf += 1;
      scaleFactors.set(register.scaleFactorAddress, sf);
    }
    for (const [address, sf] of scaleFactors) this.memory.set(address, sf & 0xffff);
    for (const register of profile.registers) {
      const order = register.wordOrder ?? profile.wordOrder;
      const value = this.deviceValue(register);
      const sf =
        register.scaleFactorAddress === undefined ? 0 : (scaleFactors.get(register.scaleFactorAddress) ?? 0);
      const words =
        value === null
          ? notAvailableWords(register, order)
          : encodeRaw(value / 10 ** sf, register.type, order);
      words.forEach((word, offset) => {
        this.memory.set(register.address + offset, word);
      });
    }
  }

  private layOutSunSpec(
    profile: DeviceProfile,
    serving: SunSpecServing,
  ): { layout: SunSpecLayout; end: number } {
    const base = serving.base ?? 40000;
    const discovery = profile.sunspec;
    const modelId = serving.model ?? discovery?.preferredModels[0] ?? 203;
    const models = [
      { id: 1, length: SUNSPEC_MODEL_LENGTHS[1] ?? 66 },
      ...(serving.before ?? []),
      { id: modelId, length: SUNSPEC_MODEL_LENGTHS[modelId] ?? 124 },
    ];
    this.memory.set(base, SUNSPEC_MARKER[0]);
    this.memory.set(base + 1, SUNSPEC_MARKER[1]);
    const layout: SunSpecLayout = { base, models: [] };
    let address = base + 2;
    for (const model of models) {
      this.memory.set(address, model.id);
      this.memory.set(address + 1, model.length);
      layout.models.push({ id: model.id, address, length: model.length });
      address += 2 + model.length;
    }
    // Common model: the manufacturer string, two characters per register.
    const manufacturer = 'ampflow sim';
    for (let index = 0; index < manufacturer.length; index += 2) {
      const high = manufacturer.charCodeAt(index);
      const low = index + 1 < manufacturer.length ? manufacturer.charCodeAt(index + 1) : 0;
      this.memory.set(base + 4 + index / 2, (high << 8) | low);
    }
    if (serving.endMarker === false) return { layout, end: address - 1 };
    this.memory.set(address, 0xffff);
    this.memory.set(address + 1, 0);
    return { layout, end: address + 1 };
  }
}

function fits(value: number, register: RegisterDefinition): boolean {
  const whole = Math.round(value);
  switch (register.type) {
    case 'int16':
      return whole > -0x8000 && whole <= 0x7fff;
    case 'uint16':
      return whole >= 0 && whole < 0xffff;
    case 'int32':
      return whole > -0x80000000 && whole <= 0x7fffffff;
    case 'uint32':
      return whole >= 0 && whole < 0xffffffff;
    default:
      return Number.isSafeInteger(whole);
  }
}

/** What the device stores for "not available": the register's own sentinel first (SunSpec acc = 0). */
function notAvailableWords(register: RegisterDefinition, order: DeviceProfile['wordOrder']): number[] {
  const own = register.notAvailable?.[0];
  if (own !== undefined) return encodeHex(own, register.type, order);
  if (register.type === 'float32' || register.type === 'float64')
    return encodeRaw(Number.NaN, register.type, order);
  const hex = DEFAULT_NOT_AVAILABLE[register.type][0] ?? '0x0';
  return encodeHex(hex, register.type, order);
}
