/**
 * The device profiles that ship (register maps of meters and inverters), found by id, and what the
 * editor shows about each. Profiles given as data are checked by lib/modbus/profile-input.ts,
 * whose parsers are exported from here too.
 */
import { abbB23B24 } from './profiles/abb-b23-b24';
import { bcontrolEm300Lr } from './profiles/bcontrol-em300-lr';
import { carloGavazziEm24 } from './profiles/carlo-gavazzi-em24';
import { carloGavazziEm340 } from './profiles/carlo-gavazzi-em340';
import { eastronSdm72dM } from './profiles/eastron-sdm72d-m';
import { eastronSdm120 } from './profiles/eastron-sdm120';
import { eastronSdm630 } from './profiles/eastron-sdm630';
import { huaweiSun2000Inverter, huaweiSun2000Meter } from './profiles/huawei-sun2000';
import { janitzaUmg604 } from './profiles/janitza-umg604';
import { phoenixEemMb371 } from './profiles/phoenix-eem-mb371';
import { schneiderIem3x5x } from './profiles/schneider-iem3x5x';
import { siemensPac2200 } from './profiles/siemens-pac2200';
import { smaInverter } from './profiles/sma-inverter';
import {
  froniusSunspecMeter,
  kostalSunspecInverter,
  smaSunspecInverter,
  solaredgeSunspecInverter,
  solaredgeSunspecMeter,
  sunspecInverter,
  sunspecMeter,
} from './profiles/sunspec';
import type { DeviceProfile, Measurand, RegisterType, WordOrder } from './types';

export {
  type CustomProfileSettings,
  parseCustomProfile,
  parseProfileJson,
  validateProfile,
} from './profile-input';

/** Every profile that ships, in the order the editor lists them. */
export const SHIPPED_PROFILES: readonly DeviceProfile[] = [
  eastronSdm630,
  eastronSdm72dM,
  eastronSdm120,
  siemensPac2200,
  schneiderIem3x5x,
  carloGavazziEm24,
  carloGavazziEm340,
  bcontrolEm300Lr,
  abbB23B24,
  janitzaUmg604,
  phoenixEemMb371,
  sunspecMeter,
  sunspecInverter,
  froniusSunspecMeter,
  solaredgeSunspecMeter,
  solaredgeSunspecInverter,
  smaSunspecInverter,
  kostalSunspecInverter,
  smaInverter,
  huaweiSun2000Meter,
  huaweiSun2000Inverter,
];

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
