/**
 * Profiles given as data, checked and typed: a profile object (a shipped one, JSON from the
 * editor, a file), the meter node editor's custom-register table and a whole profile pasted as
 * JSON. Every error is a ConfigError naming the exact field. The shipped profiles are
 * lib/modbus/profiles.ts's.
 */
import { ConfigError } from '../config-error';
import { isObject } from '../objects';
import { normaliseHex, REGISTER_UNITS, registerCount, unitFits } from './decode';
import { spanBeyond } from './plan';
import {
  type DeviceProfile,
  MEASURANDS,
  REGISTER_TYPES,
  type RegisterDefinition,
  type RegisterType,
  type RegisterUnit,
  type SunSpecDiscovery,
  WORD_ORDERS,
} from './types';

const ID = /^[a-z0-9][a-z0-9-]*$/;
const HEX = /^0x[0-9a-f]+$/i;

function wholeNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function choice<T extends string | number>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new ConfigError(field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(field, 'must be a text');
  return value;
}

function hexList(field: string, value: unknown, type: RegisterType): string[] {
  if (!Array.isArray(value)) throw new ConfigError(field, 'must be a list of hex values such as "0x8000"');
  return value.map((entry, index) => {
    if (typeof entry !== 'string' || !HEX.test(entry.trim())) {
      throw new ConfigError(
        `${field}[${index}]`,
        `${JSON.stringify(entry)} is not a hex value such as "0x8000"`,
      );
    }
    const normalised = normaliseHex(entry, type);
    if (normalised.length - 2 > registerCount(type) * 4) {
      throw new ConfigError(`${field}[${index}]`, `${entry} does not fit a ${type}`);
    }
    return normalised;
  });
}

function validateRegister(field: string, value: unknown): RegisterDefinition {
  if (!isObject(value)) throw new ConfigError(field, 'must be an object');
  const measurand = choice(`${field}.measurand`, value.measurand, MEASURANDS);
  const type = choice(`${field}.type`, value.type, REGISTER_TYPES);
  const address = wholeNumber(`${field}.address`, value.address, 0, 65536 - registerCount(type));
  const unit = choice<RegisterUnit>(`${field}.unit`, value.unit, REGISTER_UNITS);
  if (!unitFits(measurand, unit)) {
    throw new ConfigError(`${field}.unit`, `${unit} is not a unit of ${measurand}`);
  }
  const register: RegisterDefinition = { measurand, address, type, unit };
  if (value.scale !== undefined) {
    if (typeof value.scale !== 'number' || !Number.isFinite(value.scale) || value.scale === 0) {
      throw new ConfigError(`${field}.scale`, `${JSON.stringify(value.scale)} is not a number other than 0`);
    }
    register.scale = value.scale;
  }
  if (value.scaleFactorAddress !== undefined) {
    register.scaleFactorAddress = wholeNumber(
      `${field}.scaleFactorAddress`,
      value.scaleFactorAddress,
      0,
      65535,
    );
  }
  if (value.wordOrder !== undefined) {
    register.wordOrder = choice(`${field}.wordOrder`, value.wordOrder, WORD_ORDERS);
  }
  if (value.direction !== undefined) {
    register.direction = choice(`${field}.direction`, value.direction, ['import', 'export'] as const);
  }
  if (value.notAvailable !== undefined) {
    register.notAvailable = hexList(`${field}.notAvailable`, value.notAvailable, type);
  }
  if (value.documented !== undefined) register.documented = String(value.documented);
  if (value.uncertain !== undefined) register.uncertain = String(value.uncertain);
  return register;
}

/**
 * Checks a profile given as data (a shipped one, JSON from the editor, a file) and returns it
 * typed. Errors are {@link ConfigError}s whose field names the exact place (`registers[3].unit`).
 */
export function validateProfile(value: unknown, field = 'profile'): DeviceProfile {
  if (!isObject(value)) throw new ConfigError(field, 'must be an object');
  const id = text(`${field}.id`, value.id);
  if (!ID.test(id))
    throw new ConfigError(`${field}.id`, `"${id}" must be lower case letters, digits and dashes`);
  const wordOrder = choice(`${field}.wordOrder`, value.wordOrder, WORD_ORDERS);
  const maxRegistersPerRequest = wholeNumber(
    `${field}.maxRegistersPerRequest`,
    value.maxRegistersPerRequest ?? 125,
    1,
    125,
  );
  const profile: DeviceProfile = {
    id,
    name: text(`${field}.name`, value.name),
    manufacturer: typeof value.manufacturer === 'string' ? value.manufacturer : '',
    models: Array.isArray(value.models) ? value.models.map(String) : [],
    kind: choice(`${field}.kind`, value.kind ?? 'meter', ['meter', 'inverter'] as const),
    phases: choice(`${field}.phases`, value.phases ?? 3, [1, 3] as const),
    verified: value.verified !== false,
    functionCode: choice(`${field}.functionCode`, value.functionCode, [3, 4] as const),
    wordOrder,
    powerSign: choice(`${field}.powerSign`, value.powerSign ?? 'import-positive', [
      'import-positive',
      'export-positive',
    ] as const),
    maxRegistersPerRequest,
    registers: [],
    sources: Array.isArray(value.sources) ? value.sources.map(String) : [],
  };
  if (value.currentSign !== undefined) {
    profile.currentSign = choice(`${field}.currentSign`, value.currentSign, [
      'from-power',
      'as-read',
    ] as const);
  }
  if (value.readable !== undefined) {
    if (!Array.isArray(value.readable))
      throw new ConfigError(`${field}.readable`, 'must be a list of [from, to]');
    profile.readable = value.readable.map((range, index) => {
      const at = `${field}.readable[${index}]`;
      if (!Array.isArray(range) || range.length !== 2) throw new ConfigError(at, 'must be [from, to]');
      const low = wholeNumber(at, range[0], 0, 65535);
      const high = wholeNumber(at, range[1], low, 65535);
      return [low, high];
    });
  }
  if (value.notAvailable !== undefined) {
    if (!isObject(value.notAvailable))
      throw new ConfigError(`${field}.notAvailable`, 'must map types to lists');
    const notAvailable: NonNullable<DeviceProfile['notAvailable']> = {};
    for (const [type, list] of Object.entries(value.notAvailable)) {
      const registerType = choice(`${field}.notAvailable`, type, REGISTER_TYPES);
      notAvailable[registerType] = hexList(`${field}.notAvailable.${type}`, list, registerType);
    }
    profile.notAvailable = notAvailable;
  }
  if (Array.isArray(value.notes)) profile.notes = value.notes.map(String);
  if (isObject(value.defaults)) profile.defaults = value.defaults as DeviceProfile['defaults'] & object;
  if (value.sunspec !== undefined) profile.sunspec = validateSunSpec(`${field}.sunspec`, value.sunspec);

  if (!Array.isArray(value.registers)) throw new ConfigError(`${field}.registers`, 'must be a list');
  if (value.registers.length === 0 && !profile.sunspec) {
    throw new ConfigError(`${field}.registers`, 'needs at least one register');
  }
  const seen = new Set<string>();
  profile.registers = value.registers.map((entry, index) => {
    const at = `${field}.registers[${index}]`;
    const register = validateRegister(at, entry);
    const key = `${register.measurand}/${register.direction ?? 'import'}`;
    if (seen.has(key)) {
      throw new ConfigError(at, `${register.measurand} is defined twice`);
    }
    seen.add(key);
    const span = spanBeyond(register, maxRegistersPerRequest);
    if (span !== undefined) {
      throw new ConfigError(
        at,
        `the value and its scale factor span ${span} registers, more than one request may read (${maxRegistersPerRequest})`,
      );
    }
    return register;
  });
  return profile;
}

function validateSunSpec(field: string, value: unknown): SunSpecDiscovery {
  if (!isObject(value)) throw new ConfigError(field, 'must be an object');
  const numbers = (at: string, list: unknown) => {
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(at, 'must be a list of numbers');
    return list.map((entry, index) => wholeNumber(`${at}[${index}]`, entry, 0, 65535));
  };
  if (!isObject(value.models)) throw new ConfigError(`${field}.models`, 'must map model ids to point lists');
  const models: SunSpecDiscovery['models'] = {};
  for (const [id, model] of Object.entries(value.models)) {
    const at = `${field}.models.${id}`;
    if (!isObject(model) || !Array.isArray(model.points)) throw new ConfigError(at, 'needs a list of points');
    models[id] = {
      name: typeof model.name === 'string' ? model.name : `model ${id}`,
      points: model.points.map((point, index) => {
        if (!isObject(point)) throw new ConfigError(`${at}.points[${index}]`, 'must be an object');
        const register = validateRegister(`${at}.points[${index}]`, { ...point, address: point.offset });
        return {
          measurand: register.measurand,
          offset: register.address,
          type: register.type,
          unit: register.unit,
          ...(point.scaleFactorOffset === undefined
            ? {}
            : {
                scaleFactorOffset: wholeNumber(
                  `${at}.points[${index}].scaleFactorOffset`,
                  point.scaleFactorOffset,
                  0,
                  65535,
                ),
              }),
          ...(register.notAvailable ? { notAvailable: register.notAvailable } : {}),
          ...(register.direction ? { direction: register.direction } : {}),
        };
      }),
    };
  }
  return {
    baseAddresses: numbers(`${field}.baseAddresses`, value.baseAddresses),
    preferredModels: numbers(`${field}.preferredModels`, value.preferredModels),
    models,
  };
}

/** A custom profile as the meter node's editor saves it. */
export interface CustomProfileSettings {
  functionCode?: unknown;
  wordOrder?: unknown;
  powerSign?: unknown;
  phases?: unknown;
  maxRegistersPerRequest?: unknown;
  /** "0-79, 3000-3100": ranges in which unused registers may be read. */
  readable?: unknown;
  registers?: unknown;
}

/** Builds a profile from the editor's custom-register table; field names match the editor. */
export function parseCustomProfile(settings: CustomProfileSettings): DeviceProfile {
  const readableText = typeof settings.readable === 'string' ? settings.readable.trim() : '';
  const readable: [number, number][] = [];
  if (readableText) {
    for (const part of readableText.split(/[,;\s]+/).filter(Boolean)) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(part);
      const low = Number(match?.[1]);
      const high = Number(match?.[2] ?? match?.[1]);
      if (!match || low > high || high > 65535) {
        throw new ConfigError('readable', `"${part}" is not a range such as 0-79`);
      }
      readable.push([low, high]);
    }
  }
  const number = (value: unknown) =>
    typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
      ? Number(value)
      : value;
  const registers = Array.isArray(settings.registers)
    ? settings.registers.map((row: unknown) => {
        if (!isObject(row)) return row;
        const register: Record<string, unknown> = { ...row, address: number(row.address) };
        if (row.scale === '' || row.scale === undefined) delete register.scale;
        else register.scale = number(row.scale);
        if (row.direction === '' || row.direction === 'import') delete register.direction;
        return register;
      })
    : settings.registers;
  try {
    return validateProfile({
      id: 'custom',
      name: 'Custom registers',
      kind: 'meter',
      phases: number(settings.phases) ?? 3,
      functionCode: number(settings.functionCode) ?? 3,
      wordOrder: settings.wordOrder || 'ABCD',
      powerSign: settings.powerSign || 'import-positive',
      maxRegistersPerRequest: number(settings.maxRegistersPerRequest) || 125,
      ...(readable.length ? { readable } : {}),
      registers: registers ?? [],
      sources: ['entered in the editor'],
    });
  } catch (err) {
    // The editor knows the table as "registers": drop the internal "profile." prefix.
    if (err instanceof ConfigError)
      throw new ConfigError(err.field.replace(/^profile\./, ''), err.message.replace(/^[^:]*: /, ''));
    throw err;
  }
}

/** A whole profile pasted into the editor as JSON. */
export function parseProfileJson(json: string): DeviceProfile {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ConfigError('profileJson', `is not valid JSON: ${(err as Error).message}`);
  }
  return validateProfile(value, 'profileJson');
}
