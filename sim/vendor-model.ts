import type { ChargingProfile, ChargingRateUnit, ProfileRules } from '../lib/ocpp/charging-profiles';
import type { ConfigurationOverride, ConfigurationStore } from './configuration';
import { DEFAULT_FEATURE_PROFILES } from './configuration';
import type { StationOptions } from './station';
import {
  STANDARD_BEHAVIOUR,
  VENDOR_BEHAVIOURS,
  type VendorBehaviour,
  type VendorBehaviourName,
} from './types';

/**
 * What a simulated charger model changes in smart charging (sim/charge-point.ts): the
 * behaviour it resolves to, the configuration keys it announces, the profiles it refuses and the
 * profile rules its configuration allows.
 */

export function resolveBehaviour(
  choice: VendorBehaviourName | Partial<VendorBehaviour> | undefined,
): Readonly<VendorBehaviour> {
  if (choice === undefined) return STANDARD_BEHAVIOUR;
  if (typeof choice === 'string') {
    const named = VENDOR_BEHAVIOURS[choice] as Partial<VendorBehaviour> | undefined;
    if (!named) throw new RangeError(`unknown vendor behaviour ${choice}`);
    return { ...STANDARD_BEHAVIOUR, ...named };
  }
  return { ...STANDARD_BEHAVIOUR, ...choice };
}

/** Smart-charging keys the OCPP 1.6 discovery (3.13.5) reads; a charger without SmartCharging has none. */
const SMART_CHARGING_KEYS = [
  'ChargeProfileMaxStackLevel',
  'ChargingScheduleAllowedChargingRateUnit',
  'ChargingScheduleMaxPeriods',
  'ConnectorSwitch3to1PhaseSupported',
  'MaxChargingProfilesInstalled',
];

/** The configuration keys a charger model announces, under what the caller configured. */
export function vendorConfiguration(
  behaviour: Readonly<VendorBehaviour>,
  options: StationOptions,
): Record<string, ConfigurationOverride> {
  const model: Record<string, ConfigurationOverride> = {};
  if (behaviour.refuseWatts)
    model.ChargingScheduleAllowedChargingRateUnit = { value: 'Current', readonly: true };
  if (behaviour.refuseAmps)
    model.ChargingScheduleAllowedChargingRateUnit = { value: 'Power', readonly: true };
  if (behaviour.noSmartCharging) {
    model.SupportedFeatureProfiles = {
      value: DEFAULT_FEATURE_PROFILES.split(',')
        .filter((profile) => profile !== 'SmartCharging')
        .join(','),
      readonly: true,
    };
    for (const key of SMART_CHARGING_KEYS) model[key] = null;
  }
  if (behaviour.maxIntensitySocket) {
    const ratingA = Math.floor(Math.min(...connectorRatingsA(options)));
    // 003 §8: 0 up to the rating of the socket's card, in A per phase.
    model.maxIntensitySocket = { value: ratingA, integer: { min: 0, max: ratingA } };
  }
  const configured = new Set(Object.keys(options.configuration ?? {}).map((key) => key.toLowerCase()));
  const kept = Object.entries(model).filter(([key]) => !configured.has(key.toLowerCase()));
  return { ...Object.fromEntries(kept), ...options.configuration };
}

function connectorRatingsA(options: StationOptions): number[] {
  const fallbackA = options.maxCurrentA ?? 32;
  if (Array.isArray(options.connectors)) return options.connectors.map((c) => c.maxCurrentA ?? fallbackA);
  return [fallbackA];
}

/** Why this charger model refuses a profile the spec would allow, if it does. */
export function vendorRefusal(
  behaviour: Readonly<VendorBehaviour>,
  profile: ChargingProfile,
): string | undefined {
  const schedule = profile.chargingSchedule;
  if (behaviour.stackLevelZeroOnly && profile.stackLevel > 0) return 'only stackLevel 0 is supported';
  if (behaviour.refuseWatts && schedule.chargingRateUnit === 'W') return 'limits in W are not supported';
  if (behaviour.refuseAmps && schedule.chargingRateUnit === 'A') return 'limits in A are not supported';
  if (behaviour.onlyRelativeProfiles && profile.chargingProfileKind !== 'Relative')
    return 'only Relative profiles are supported';
  if (
    behaviour.rejectNumberPhases &&
    schedule.chargingSchedulePeriod.some((p) => p.numberPhases !== undefined)
  )
    return 'numberPhases is not supported';
  if (behaviour.rejectMinChargingRate && schedule.minChargingRate !== undefined)
    return 'minChargingRate is not supported';
  return undefined;
}

/** The limits of SetChargingProfile (3.13.5) this charger's configuration sets. */
export function profileRules(configuration: ConfigurationStore, numberOfConnectors: number): ProfileRules {
  const units = new Set<ChargingRateUnit>();
  for (const item of configuration.csl('ChargingScheduleAllowedChargingRateUnit')) {
    // Errata 3.86: 'Current' allows A, 'Power' allows W (some chargers write A and W).
    if (/^(current|a)$/i.test(item)) units.add('A');
    if (/^(power|w)$/i.test(item)) units.add('W');
  }
  return {
    numberOfConnectors,
    maxStackLevel: configuration.int('ChargeProfileMaxStackLevel', 0),
    maxPeriods: configuration.int('ChargingScheduleMaxPeriods', 1),
    maxInstalled: configuration.int('MaxChargingProfilesInstalled', 1),
    allowedUnits: units,
  };
}
