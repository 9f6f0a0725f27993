/**
 * The device profiles that ship (register maps of meters and inverters), found by id, and what the
 * editor shows about each. Each is data, lib/modbus/profiles/<id>.json, transcribed from its
 * device's manual (the sources it names; alike on purpose: one map per device, checked against its
 * manual, not derived from another), and loaded through the same check as the users' own profiles
 * (lib/modbus/profile-input.ts, whose parsers are exported from here too): a broken shipped file
 * fails at load naming the profile and the field. A key "//<field>" is a comment on <field>.
 */
import { ConfigError } from '../config-error';
import { isObject } from '../objects';
import { validateProfile } from './profile-input';
import abbB23B24 from './profiles/abb-b23-b24.json';
import bcontrolEm300Lr from './profiles/bcontrol-em300-lr.json';
import carloGavazziEm24 from './profiles/carlo-gavazzi-em24.json';
import carloGavazziEm340 from './profiles/carlo-gavazzi-em340.json';
import eastronSdm72dM from './profiles/eastron-sdm72d-m.json';
import eastronSdm120 from './profiles/eastron-sdm120.json';
import eastronSdm630 from './profiles/eastron-sdm630.json';
import froniusSunspecMeter from './profiles/fronius-sunspec-meter.json';
import huaweiSun2000Inverter from './profiles/huawei-sun2000-inverter.json';
import huaweiSun2000Meter from './profiles/huawei-sun2000-meter.json';
import janitzaUmg604 from './profiles/janitza-umg604.json';
import kostalSunspecInverter from './profiles/kostal-sunspec-inverter.json';
import phoenixEemMb371 from './profiles/phoenix-eem-mb371.json';
import schneiderIem3x5x from './profiles/schneider-iem3x5x.json';
import siemensPac2200 from './profiles/siemens-pac2200.json';
import smaInverter from './profiles/sma-inverter.json';
import smaSunspecInverter from './profiles/sma-sunspec-inverter.json';
import solaredgeSunspecInverter from './profiles/solaredge-sunspec-inverter.json';
import solaredgeSunspecMeter from './profiles/solaredge-sunspec-meter.json';
import sunspecInverter from './profiles/sunspec-inverter.json';
import sunspecMeter from './profiles/sunspec-meter.json';
import { SUNSPEC_DISCOVERY } from './profiles/sunspec-models';
import type { DeviceProfile, Measurand, RegisterType, WordOrder } from './types';

export {
  type CustomProfileSettings,
  parseCustomProfile,
  parseProfileJson,
  validateProfile,
} from './profile-input';

/**
 * A shipped profile's data checked and typed. `"sunspec": "meter"` or `"inverter"` names the
 * standard SunSpec discovery (sunspec-models.ts), which the check then sees whole; the id must be
 * the file's name, so a profile is found where its id says.
 */
export function loadShippedProfile(name: string, data: unknown): DeviceProfile {
  const field = `shipped profile ${name}`;
  if (!isObject(data)) throw new ConfigError(field, 'must be an object');
  const standard = typeof data.sunspec === 'string' ? SUNSPEC_DISCOVERY[data.sunspec] : undefined;
  if (typeof data.sunspec === 'string' && !standard) {
    throw new ConfigError(`${field}.sunspec`, `"${data.sunspec}" is not one of meter, inverter`);
  }
  const profile = validateProfile(standard ? { ...data, sunspec: standard } : data, field);
  if (profile.id !== name) throw new ConfigError(`${field}.id`, `"${profile.id}" is not the file's name`);
  return profile;
}

/** Every profile that ships, in the order the editor lists them. */
export const SHIPPED_PROFILES: readonly DeviceProfile[] = (
  [
    ['eastron-sdm630', eastronSdm630],
    ['eastron-sdm72d-m', eastronSdm72dM],
    ['eastron-sdm120', eastronSdm120],
    ['siemens-pac2200', siemensPac2200],
    ['schneider-iem3x5x', schneiderIem3x5x],
    ['carlo-gavazzi-em24', carloGavazziEm24],
    ['carlo-gavazzi-em340', carloGavazziEm340],
    ['bcontrol-em300-lr', bcontrolEm300Lr],
    ['abb-b23-b24', abbB23B24],
    ['janitza-umg604', janitzaUmg604],
    ['phoenix-eem-mb371', phoenixEemMb371],
    ['sunspec-meter', sunspecMeter],
    ['sunspec-inverter', sunspecInverter],
    ['fronius-sunspec-meter', froniusSunspecMeter],
    ['solaredge-sunspec-meter', solaredgeSunspecMeter],
    ['solaredge-sunspec-inverter', solaredgeSunspecInverter],
    ['sma-sunspec-inverter', smaSunspecInverter],
    ['kostal-sunspec-inverter', kostalSunspecInverter],
    ['sma-inverter', smaInverter],
    ['huawei-sun2000-meter', huaweiSun2000Meter],
    ['huawei-sun2000-inverter', huaweiSun2000Inverter],
  ] as const
).map(([name, data]) => loadShippedProfile(name, data));

export function findProfile(id: string): DeviceProfile | undefined {
  return SHIPPED_PROFILES.find((profile) => profile.id === id);
}

/** What the editor shows about a profile before the user picks it. */
export interface ProfileSummary {
  id: string;
  name: string;
  manufacturer: string;
  models: string[];
  kind: DeviceProfile['kind'];
  phases: 1 | 3;
  verified: boolean;
  sunspec: boolean;
  functionCode: 3 | 4;
  wordOrder: WordOrder;
  powerSign: DeviceProfile['powerSign'];
  defaults: NonNullable<DeviceProfile['defaults']>;
  notes: string[];
  /** Registers whose values the sources disagree on, with why. */
  uncertain: { measurand: Measurand; address: number; note: string }[];
  registers: {
    measurand: Measurand;
    address: number;
    documented?: string;
    type: RegisterType;
    unit: string;
  }[];
}

export function summariseProfile(profile: DeviceProfile): ProfileSummary {
  return {
    id: profile.id,
    name: profile.name,
    manufacturer: profile.manufacturer,
    models: [...profile.models],
    kind: profile.kind,
    phases: profile.phases,
    verified: profile.verified,
    sunspec: profile.sunspec !== undefined,
    functionCode: profile.functionCode,
    wordOrder: profile.wordOrder,
    powerSign: profile.powerSign,
    defaults: { ...(profile.defaults ?? {}) },
    notes: [...(profile.notes ?? [])],
    uncertain: profile.registers
      .filter((register) => register.uncertain)
      .map((register) => ({
        measurand: register.measurand,
        address: register.address,
        note: register.uncertain ?? '',
      })),
    registers: profile.registers.map((register) => ({
      measurand: register.measurand,
      address: register.address,
      ...(register.documented ? { documented: register.documented } : {}),
      type: register.type,
      unit: register.unit,
    })),
  };
}
