import { ConfigError } from '../config-error';
import type { RateUnit } from './capabilities';

/**
 * How a charger model wants its limit: which profile purposes, in which order, with which stack
 * level, unit, kind and optional fields. Strategies are data: a named preset per charger model,
 * which a charger's own settings can override field by field. Nothing else in lib/profiles
 * knows a vendor.
 */

/**
 * The ways to put a limit on a connector. TxProfile binds it to the running transaction (3.13.1);
 * TxDefaultProfile sets it for the connector (or, on connector 0, for all); ChargePointMaxProfile
 * caps the charge point as a whole; ConfigurationKey sets the strategy's vendor key with
 * ChangeConfiguration, for chargers without smart charging.
 */
export const LIMIT_METHODS = [
  'TxProfile',
  'TxDefaultProfile',
  'ChargePointMaxProfile',
  'ConfigurationKey',
] as const;
export type LimitMethod = (typeof LIMIT_METHODS)[number];

export type ProfileKind = 'Absolute' | 'Relative' | 'Recurring';

export interface ChargingStrategy {
  /** The preset's name (or the preset an override started from). */
  name: string;
  /** What it is for, as the editor lists it. */
  label: string;
  /** Where the behaviour is documented. */
  source: string;
  /**
   * Which chargers take this preset when the strategy is `auto`: regular expressions (case
   * insensitive) over BootNotification's vendor, model and firmware version; all given must match.
   */
  match?: { vendor?: string; model?: string; firmware?: string };
  /** Methods to try, in order, while a transaction runs on the connector. */
  sessionMethods: LimitMethod[];
  /** Methods to try, in order, while none runs (the limit the next session starts with). */
  idleMethods: LimitMethod[];
  /**
   * Stack level: `max` is the charger's ChargeProfileMaxStackLevel (0 when unknown), falling back
   * to 0 when refused; a number is used as it is.
   */
  stackLevel: 'max' | number;
  /** `auto`: A when the charger allows it (ChargingScheduleAllowedChargingRateUnit), else W. */
  rateUnit: 'auto' | RateUnit;
  kind: ProfileKind;
  /**
   * When to state numberPhases: `whenSwitching` in W schedules (the watts depend on it, 7.12) and
   * in A schedules to a charger that can switch phases (ConnectorSwitch3to1PhaseSupported), so it
   * switches; `always`; `never` (chargers that reject it).
   */
  numberPhases: 'whenSwitching' | 'always' | 'never';
  /** minChargingRate to state, in A; undefined: never (several chargers reject the field). */
  minChargingRateA?: number;
  /** The only currents the charger offers (it rounds down to them); limits are rounded down to one. */
  limitStepsA?: number[];
  /**
   * The charger takes limits only in multiples of this current (A per phase; 1: whole amperes),
   * whichever method sets them; the load manager is told (`ConnectorState.limitStep`, limit-step.ts)
   * and allocates the connector in it. A strategy whose only method is a whole-ampere
   * `configurationKey` takes whole amperes without it.
   */
  limitStepA?: number;
  /** A new TxDefaultProfile also limits the running session, as errata 3.8 asks. */
  txDefaultAppliesToRunningSession: boolean;
  /** Clear the TxProfile when its transaction ends (the charger SHOULD delete it itself, 3.13.1). */
  clearTxProfileAfterSession: boolean;
  /** Embed the connector's limit as a TxProfile in RemoteStartTransaction (5.16.2). */
  profileInRemoteStart: boolean;
  /** Ask GetCompositeSchedule after a profile is accepted, to see that the charger took it. */
  compositeSchedule: boolean;
  /** The vendor key the ConfigurationKey method sets (A per phase), for chargers without smart charging. */
  configurationKey?: { key: string; wholeAmps: boolean };
  /**
   * The current measurands MeterValuesSampledData must list (sampling.ts); undefined:
   * `Current.Import`, which most chargers report per phase. A charger that reports that one
   * without a phase is asked for the phase forms (`Current.Import.L1` ...).
   */
  currentMeasurands?: string[];
}

/** The safe default: every step the spec offers, most specific first, each falling back to the next. */
const SAFE_DEFAULT: ChargingStrategy = {
  name: 'default',
  label: 'Unknown charger (safe default)',
  source:
    'OCPP 1.6 section 3.13 with errata 3.8 and 3.34; TxProfile while a session runs, because some chargers apply a new TxDefaultProfile only from the next session',
  sessionMethods: ['TxProfile', 'TxDefaultProfile', 'ChargePointMaxProfile'],
  idleMethods: ['TxDefaultProfile', 'ChargePointMaxProfile'],
  stackLevel: 'max',
  rateUnit: 'auto',
  kind: 'Absolute',
  numberPhases: 'whenSwitching',
  txDefaultAppliesToRunningSession: false,
  clearTxProfileAfterSession: true,
  profileInRemoteStart: true,
  compositeSchedule: true,
};

const preset = (fields: Partial<ChargingStrategy> & Pick<ChargingStrategy, 'name' | 'label' | 'source'>) => ({
  ...SAFE_DEFAULT,
  ...fields,
});

const EVLINK_KEY = { key: 'maxIntensitySocket', wholeAmps: true };
/**
 * EVlink reports Current.Import without a phase unless the phase forms are listed (vendor doc 003
 * §8, MeterValuesSampledData: "Phase can be configured (postfix: L1, L2, L3 ...)", its full example
 * lists Current.Import.L1, .L2 and .L3).
 */
const EVLINK_CURRENTS = ['Current.Import.L1', 'Current.Import.L2', 'Current.Import.L3'];

/** The named presets. Sources: the vendor manual in the shared docs, and peers' issue trackers. */
export const STRATEGY_PRESETS = {
  default: SAFE_DEFAULT,
  txdefault: preset({
    name: 'txdefault',
    label: 'OCPP 1.6 charger (TxDefaultProfile only)',
    source:
      'Errata 3.8: a new TxDefaultProfile applies to running transactions too, so one profile per connector carries every limit (evcc controls chargers this way)',
    sessionMethods: ['TxDefaultProfile', 'TxProfile', 'ChargePointMaxProfile'],
    txDefaultAppliesToRunningSession: true,
  }),
  'abb-terra-ac': preset({
    name: 'abb-terra-ac',
    label: 'ABB Terra AC (stack level 0)',
    source:
      'evcc #15493 and PR #15801: firmware 1.8 rejects SetChargingProfile unless stackLevel is 0 (evcc template option stacklevelzero)',
    match: { vendor: '^ABB', model: 'Terra ?AC' },
    stackLevel: 0,
  }),
  'wallbox-pulsar': preset({
    name: 'wallbox-pulsar',
    label: 'Wallbox Pulsar / Commander (Relative, stack level 0)',
    source:
      'evcc template Wallbox Pulsar/Commander: profilekindrelative; Wallbox rejects stack levels above 0 and profiles in RemoteStartTransaction (evcc #6882, #14040, #15114)',
    match: { vendor: 'wall ?box', model: 'pulsar|commander' },
    stackLevel: 0,
    kind: 'Relative',
    profileInRemoteStart: false,
  }),
  wallbox: preset({
    name: 'wallbox',
    label: 'Wallbox (stack level 0, no profile in RemoteStart)',
    source:
      'evcc template Wallbox FW 5.x: stacklevelzero and remotestart; evcc #6882, #14040, #15114 and ioBroker.ocpp #24: "validation of RemoteStartTransaction failed" with an embedded profile',
    match: { vendor: 'wall ?box' },
    stackLevel: 0,
    profileInRemoteStart: false,
  }),
  'schneider-evlink-r6-r7': preset({
    name: 'schneider-evlink-r6-r7',
    label: 'Schneider EVlink R6/R7 (A only, no numberPhases)',
    source:
      'Schneider EVlink OCPP guide (vendor doc 003) §4: limits in A only, minChargingRate and numberPhases not supported; §8: maxIntensitySocket, the fallback when profiles are refused (HA ocpp #877, #263: "Load balancer is disabled")',
    match: { vendor: 'schneider', firmware: '^v?3\\.[2-9]' },
    rateUnit: 'A',
    numberPhases: 'never',
    sessionMethods: ['TxProfile', 'TxDefaultProfile', 'ChargePointMaxProfile', 'ConfigurationKey'],
    idleMethods: ['TxDefaultProfile', 'ChargePointMaxProfile', 'ConfigurationKey'],
    configurationKey: EVLINK_KEY,
    currentMeasurands: EVLINK_CURRENTS,
  }),
  'schneider-evlink-r4-r5': preset({
    name: 'schneider-evlink-r4-r5',
    label: 'Schneider EVlink R4/R5 (maxIntensitySocket)',
    source:
      'Schneider EVlink OCPP guide (vendor doc 003) §3.1: no SetChargingProfile before R6; §8: maxIntensitySocket, "maximum intensity available/phase for the socket outlet", 0 to the card rating in A',
    match: { vendor: 'schneider', firmware: '^v?(2\\.|3\\.[01])' },
    sessionMethods: ['ConfigurationKey'],
    idleMethods: ['ConfigurationKey'],
    rateUnit: 'A',
    numberPhases: 'never',
    compositeSchedule: false,
    profileInRemoteStart: false,
    configurationKey: EVLINK_KEY,
    currentMeasurands: EVLINK_CURRENTS,
  }),
  huawei: preset({
    name: 'huawei',
    label: 'Huawei FusionCharge (W only)',
    source:
      'evcc template Huawei: forcepowerctrl (watts, 230 V × phases); HA ocpp: Huawei reports ChargingScheduleAllowedChargingRateUnit "Power"',
    match: { vendor: 'huawei' },
    rateUnit: 'W',
    numberPhases: 'always',
  }),
  necharge: preset({
    name: 'necharge',
    label: 'NEcharge (6/8/10/13/16 A)',
    source: 'evcc templates: NEcharge accepts only 6, 8, 10, 13 and 16 A and rounds other values down',
    limitStepsA: [6, 8, 10, 13, 16],
  }),
} as const satisfies Record<string, ChargingStrategy>;

export type PresetName = keyof typeof STRATEGY_PRESETS;
export const PRESET_NAMES = Object.keys(STRATEGY_PRESETS) as PresetName[];

/** `auto` picks a preset by the charger's BootNotification (their `match`), else the safe default. */
export const AUTO = 'auto';

/** A preset name, `auto`, or a preset with fields of its own (`preset` defaults to `default`). */
export type StrategyChoice = string | (Partial<Omit<ChargingStrategy, 'name'>> & { preset?: string });

export interface BootInfo {
  chargePointVendor?: string;
  chargePointModel?: string;
  firmwareVersion?: string;
}

/** The preset whose `match` fits the charger's BootNotification, in the order of STRATEGY_PRESETS. */
export function matchPreset(boot: BootInfo | undefined): ChargingStrategy | undefined {
  if (!boot) return undefined;
  const fits = (pattern: string | undefined, value: string | undefined) =>
    pattern === undefined || (value !== undefined && new RegExp(pattern, 'i').test(value));
  return Object.values(STRATEGY_PRESETS).find((candidate: ChargingStrategy) => {
    const match = candidate.match;
    return (
      match !== undefined &&
      fits(match.vendor, boot.chargePointVendor) &&
      fits(match.model, boot.chargePointModel) &&
      fits(match.firmware, boot.firmwareVersion)
    );
  });
}

/** The strategy a choice stands for; `boot` decides `auto`. Throws a ConfigError naming `field` for an unknown preset. */
export function resolveStrategy(
  choice: StrategyChoice | undefined,
  boot?: BootInfo,
  field = 'strategy',
): ChargingStrategy {
  if (choice === undefined || choice === '' || choice === AUTO) return matchPreset(boot) ?? SAFE_DEFAULT;
  if (typeof choice === 'string') return clone(presetNamed(choice, field));
  const { preset: base, ...fields } = choice;
  const start =
    base === undefined || base === AUTO ? (matchPreset(boot) ?? SAFE_DEFAULT) : presetNamed(base, field);
  const strategy = { ...clone(start), ...fields, name: start.name } as ChargingStrategy;
  checkStrategy(strategy, field);
  return strategy;
}

function presetNamed(name: string, field: string): ChargingStrategy {
  const found = (STRATEGY_PRESETS as Record<string, ChargingStrategy>)[name];
  if (!found)
    throw new ConfigError(
      field,
      `"${name}" is not a strategy; use auto or one of ${PRESET_NAMES.join(', ')}`,
    );
  return found;
}

function checkStrategy(strategy: ChargingStrategy, field: string): void {
  for (const list of ['sessionMethods', 'idleMethods'] as const) {
    const methods = strategy[list];
    if (!Array.isArray(methods) || methods.length === 0)
      throw new ConfigError(`${field}.${list}`, `a list of ${LIMIT_METHODS.join(', ')} is needed`);
    const unknown = methods.filter((method) => !(LIMIT_METHODS as readonly string[]).includes(method));
    if (unknown.length > 0)
      throw new ConfigError(
        `${field}.${list}`,
        `${unknown.join(', ')} is not one of ${LIMIT_METHODS.join(', ')}`,
      );
    if (methods.includes('ConfigurationKey') && !strategy.configurationKey?.key)
      throw new ConfigError(`${field}.configurationKey`, 'ConfigurationKey needs the key to set');
  }
  if (strategy.stackLevel !== 'max' && !(Number.isInteger(strategy.stackLevel) && strategy.stackLevel >= 0))
    throw new ConfigError(`${field}.stackLevel`, 'max or a whole number from 0');
  if (!['auto', 'A', 'W'].includes(strategy.rateUnit))
    throw new ConfigError(`${field}.rateUnit`, 'auto, A or W');
  if (!['Absolute', 'Relative', 'Recurring'].includes(strategy.kind))
    throw new ConfigError(`${field}.kind`, 'Absolute, Relative or Recurring');
  if (!['whenSwitching', 'always', 'never'].includes(strategy.numberPhases))
    throw new ConfigError(`${field}.numberPhases`, 'whenSwitching, always or never');
  const steps = strategy.limitStepsA;
  if (
    steps !== undefined &&
    !(
      Array.isArray(steps) &&
      steps.every((step) => typeof step === 'number' && Number.isFinite(step) && step > 0)
    )
  )
    throw new ConfigError(`${field}.limitStepsA`, 'a list of currents in A above 0');
  const stepA = strategy.limitStepA;
  if (
    stepA !== undefined &&
    !(typeof stepA === 'number' && Number.isFinite(stepA) && stepA >= 0.1 && stepA <= 10)
  )
    throw new ConfigError(`${field}.limitStepA`, 'a current from 0.1 to 10 A');
  const currents = strategy.currentMeasurands;
  if (
    currents !== undefined &&
    !(
      Array.isArray(currents) &&
      currents.length > 0 &&
      currents.every((item) => typeof item === 'string' && /^Current\.Import(\.L[123])?$/.test(item))
    )
  )
    throw new ConfigError(
      `${field}.currentMeasurands`,
      'a list of Current.Import, Current.Import.L1, Current.Import.L2, Current.Import.L3',
    );
  const minA = strategy.minChargingRateA;
  if (minA !== undefined) {
    // The charger may hold a car at its minChargingRate: it must never be above a limit it can be sent.
    const highestA = steps && steps.length > 0 ? Math.max(...steps) : MAX_CURRENT_A;
    if (typeof minA !== 'number' || !Number.isFinite(minA) || minA < 0 || minA > highestA)
      throw new ConfigError(`${field}.minChargingRateA`, `a current from 0 to ${highestA} A`);
  }
}

/** The highest AC current per phase a limit can sensibly have (IEC 61851-1: 80 A). */
const MAX_CURRENT_A = 80;

function clone(strategy: ChargingStrategy): ChargingStrategy {
  return structuredClone(strategy);
}
