import type { GetConfigurationResponse } from '../ocpp/messages';
import { PHASE_ROTATIONS, type PhaseRotation } from '../ocpp/phase-rotation';

/**
 * What a charger says about its smart charging, read from its configuration keys (OCPP 1.6
 * section 3.13.5 and chapter 9). Real chargers spell the values loosely, so every parser here
 * accepts the variants seen in the field and the spelling of the spec.
 */

export type RateUnit = 'A' | 'W';

export { PHASE_ROTATIONS, type PhaseRotation } from '../ocpp/phase-rotation';

/** The keys read to learn a charger: the smart-charging discovery keys (3.13.5) and three core keys. */
export const CAPABILITY_KEYS = [
  'SupportedFeatureProfiles',
  'ChargingScheduleAllowedChargingRateUnit',
  'ChargeProfileMaxStackLevel',
  'ChargingScheduleMaxPeriods',
  'MaxChargingProfilesInstalled',
  'ConnectorPhaseRotation',
  'ConnectorSwitch3to1PhaseSupported',
  'NumberOfConnectors',
] as const;

export interface ChargerCapabilities {
  /** Feature profiles as listed, with spaces removed ("Firmware Management" is FirmwareManagement). */
  featureProfiles?: string[];
  /** Whether it has the SmartCharging feature profile; undefined when it did not say. */
  smartCharging?: boolean;
  /** Units its charging schedules may use; undefined when it did not say. */
  allowedUnits?: RateUnit[];
  maxStackLevel?: number;
  maxPeriods?: number;
  maxProfilesInstalled?: number;
  /** ConnectorPhaseRotation per connector id (0 is the grid connection). */
  phaseRotation?: Record<number, PhaseRotation>;
  /** ConnectorSwitch3to1PhaseSupported: it can move a session from three phases to one. */
  switch3to1?: boolean;
  numberOfConnectors?: number;
  /** Other keys read for the strategy (a vendor key such as maxIntensitySocket), by the name asked for. */
  vendorKeys: Record<string, string>;
  /** Keys the charger answered as unknown. */
  unknownKeys: string[];
  /** When this was read (ISO 8601). */
  learnedAt?: string;
}

type ConfigurationKey = NonNullable<GetConfigurationResponse['configurationKey']>[number];

/**
 * Capabilities from configuration keys (a GetConfiguration answer or the charger record). Keys are
 * CiString50, case insensitive (7.17); `extraKeys` are vendor keys a strategy needs.
 */
export function parseCapabilities(
  keys: readonly ConfigurationKey[],
  options: { unknownKeys?: readonly string[]; extraKeys?: readonly string[]; at?: string } = {},
): ChargerCapabilities {
  const byName = new Map(keys.map((key) => [key.key.trim().toLowerCase(), key.value]));
  const value = (name: string) => byName.get(name.toLowerCase());
  const capabilities: ChargerCapabilities = {
    vendorKeys: {},
    unknownKeys: [...(options.unknownKeys ?? [])],
  };
  const profiles = value('SupportedFeatureProfiles');
  if (profiles !== undefined) {
    capabilities.featureProfiles = parseFeatureProfiles(profiles);
    capabilities.smartCharging = capabilities.featureProfiles.some(
      (profile) => profile.toLowerCase() === 'smartcharging',
    );
  }
  const units = parseRateUnits(value('ChargingScheduleAllowedChargingRateUnit'));
  if (units) capabilities.allowedUnits = units;
  setInteger(capabilities, 'maxStackLevel', value('ChargeProfileMaxStackLevel'));
  setInteger(capabilities, 'maxPeriods', value('ChargingScheduleMaxPeriods'));
  setInteger(capabilities, 'maxProfilesInstalled', value('MaxChargingProfilesInstalled'));
  setInteger(capabilities, 'numberOfConnectors', value('NumberOfConnectors'));
  const rotation = parsePhaseRotation(value('ConnectorPhaseRotation'));
  if (rotation) capabilities.phaseRotation = rotation;
  const switching = parseBoolean(value('ConnectorSwitch3to1PhaseSupported'));
  if (switching !== undefined) capabilities.switch3to1 = switching;
  for (const name of options.extraKeys ?? []) {
    const found = value(name);
    if (found !== undefined) capabilities.vendorKeys[name] = found;
  }
  if (options.at) capabilities.learnedAt = options.at;
  return capabilities;
}

/**
 * ChargingScheduleAllowedChargingRateUnit: errata 3.86 spells the items Current and Power; chargers
 * also write A and W (evcc: "not allowed by spec but used by some CPs"), Amps and Watts, in any
 * case, with spaces or semicolons. Undefined when nothing readable is listed.
 */
export function parseRateUnits(value: string | undefined): RateUnit[] | undefined {
  if (value === undefined) return undefined;
  const units = new Set<RateUnit>();
  for (const item of value.split(/[,;\s]+/)) {
    if (/^(current|a|amps?|amperes?)$/i.test(item)) units.add('A');
    if (/^(power|w|watts?)$/i.test(item)) units.add('W');
  }
  return units.size > 0 ? [...units].sort() : undefined;
}

/** SupportedFeatureProfiles with the spaces some chargers put in and around items removed (EVlink: "Firmware Management"). */
export function parseFeatureProfiles(value: string): string[] {
  return value
    .split(/[,;]/)
    .map((item) => item.replace(/\s+/g, ''))
    .filter((item) => item !== '');
}

/** ConnectorPhaseRotation ("0.RST, 1.RST, 2.RTS"); items it cannot read are left out. */
export function parsePhaseRotation(value: string | undefined): Record<number, PhaseRotation> | undefined {
  if (value === undefined) return undefined;
  const rotation: Record<number, PhaseRotation> = {};
  for (const item of value.split(',')) {
    const match = /^\s*(\d+)\s*\.\s*(\w+)\s*$/.exec(item);
    if (!match) continue;
    const known = PHASE_ROTATIONS.find((name) => name.toLowerCase() === (match[2] ?? '').toLowerCase());
    if (known) rotation[Number(match[1])] = known;
  }
  return Object.keys(rotation).length > 0 ? rotation : undefined;
}

/**
 * Phases a connector is wired with, as far as its rotation tells: NotApplicable is "for Single
 * phase or DC Charge Points" (9.1.10), a rotation such as RST means three. Undefined when unknown.
 */
export function connectorPhases(
  capabilities: ChargerCapabilities | undefined,
  connectorId: number,
): 1 | 3 | undefined {
  const rotation = capabilities?.phaseRotation?.[connectorId];
  if (rotation === undefined || rotation === 'Unknown') return undefined;
  return rotation === 'NotApplicable' ? 1 : 3;
}

function parseBoolean(value: string | undefined): boolean | undefined {
  const text = value?.trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return undefined;
}

function setInteger(
  capabilities: ChargerCapabilities,
  field: 'maxStackLevel' | 'maxPeriods' | 'maxProfilesInstalled' | 'numberOfConnectors',
  value: string | undefined,
): void {
  const text = value?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return;
  capabilities[field] = Number(text);
}
