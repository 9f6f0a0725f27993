import { ConfigError, parseChoice, parseNumber } from '../config-error';
import { IEC_61851_MINIMUM_A, NOMINAL_VOLTAGE_V } from '../electrical';
import { DEFAULTS, type ProfileManagerOptions } from './options';
import { AUTO, PRESET_NAMES, resolveStrategy, type StrategyChoice } from './strategies';

/** The settings of an `ampflow-charging-profile` node as the editor saves them (text fields). */
export interface ProfileSettings {
  /** `auto` (by the charger's BootNotification) or a preset name, for chargers without their own. */
  strategy?: string;
  /** JSON: strategies per charger, e.g. {"CP-1": "abb-terra-ac", "CP-2": {"preset": "default", "stackLevel": 0}}. */
  chargers?: string;
  voltageV?: string | number;
  increaseIntervalS?: string | number;
  verifySchedule?: boolean;
  followDelayS?: string | number;
  toleranceA?: string | number;
  /** The charger's offline fallback in A per phase; empty: 6 A; "off": none installed. */
  offlineFallbackA?: string | number;
  /** How long after ampflow lost the charger the fallback takes over, in s. */
  offlineFallbackAfterS?: string | number;
  /** Ask chargers for per-phase current readings (default true; false where a flow configures them). */
  configureSampling?: boolean;
  /** How often they are asked to send them, in s; empty: 10 s. */
  samplingIntervalS?: string | number;
  /** How often while a limit moves, in s; empty: 5 s; 0: not asked. */
  fastSamplingIntervalS?: string | number;
}

/** The manager's options from editor settings; a ConfigError names the field that is wrong. */
export function parseProfileSettings(
  settings: ProfileSettings,
): Omit<ProfileManagerOptions, 'log' | 'clock'> {
  const strategy = parseChoice('strategy', settings.strategy, [AUTO, ...PRESET_NAMES], AUTO);
  let chargers: Record<string, StrategyChoice> = {};
  if (settings.chargers?.trim()) {
    try {
      chargers = JSON.parse(settings.chargers);
    } catch (err) {
      throw new ConfigError('chargers', `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof chargers !== 'object' || chargers === null || Array.isArray(chargers))
      throw new ConfigError('chargers', 'an object of charger identities and strategies is needed');
    for (const [id, choice] of Object.entries(chargers)) resolveStrategy(choice, undefined, `chargers.${id}`);
  }
  const milliseconds = (field: string, value: unknown, fallbackS: number) =>
    parseNumber(field, value, { fallback: fallbackS, min: 0, max: 3600, unit: 's' }) * 1000;
  return {
    strategy,
    chargers,
    voltageV: parseNumber('voltageV', settings.voltageV, {
      fallback: NOMINAL_VOLTAGE_V,
      min: 100,
      max: 260,
      unit: 'V',
    }),
    increaseIntervalMs: milliseconds('increaseIntervalS', settings.increaseIntervalS, 10),
    verifySchedule: settings.verifySchedule !== false,
    offlineFallbackA:
      String(settings.offlineFallbackA ?? '')
        .trim()
        .toLowerCase() === 'off'
        ? null
        : parseNumber('offlineFallbackA', settings.offlineFallbackA, {
            fallback: DEFAULTS.offlineFallbackA ?? IEC_61851_MINIMUM_A,
            min: 0,
            max: 80,
            unit: 'A',
          }),
    offlineFallbackAfterS: parseNumber('offlineFallbackAfterS', settings.offlineFallbackAfterS, {
      fallback: DEFAULTS.offlineFallbackAfterS,
      min: 60,
      max: 86_400,
      unit: 's',
    }),
    configureSampling: settings.configureSampling !== false,
    samplingIntervalS: parseNumber('samplingIntervalS', settings.samplingIntervalS, {
      fallback: DEFAULTS.samplingIntervalS,
      min: 1,
      max: 900,
      unit: 's',
    }),
    fastSamplingIntervalS: parseNumber('fastSamplingIntervalS', settings.fastSamplingIntervalS, {
      fallback: DEFAULTS.fastSamplingIntervalS,
      min: 0,
      max: 900,
      unit: 's',
    }),
    verification: {
      followDelayMs: milliseconds('followDelayS', settings.followDelayS, 30),
      toleranceA: parseNumber('toleranceA', settings.toleranceA, { fallback: 1, min: 0, max: 32, unit: 'A' }),
    },
  };
}
