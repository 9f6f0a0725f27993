/**
 * Validation of the site's settings sections: control (timers and thresholds), PV, and the mode
 * and priority settings that may be JSONata expressions.
 */
import jsonata from 'jsonata';
import { isObject } from '../../objects';
import { CHARGING_MODES, type ChargingMode, type ControlConfig, DEFAULT_CONTROL } from './config';
import { choice, optionalNumber, type ProblemSink, type Range } from './fields';
import type { Circuit, ExpressionSetting, PvSettings } from './model';

export function pvSettings(
  raw: unknown,
  circuitIndex: Map<string, number>,
  circuits: Circuit[],
  rootIndexes: number[],
  problem: ProblemSink,
): PvSettings {
  const pv = isObject(raw) ? raw : {};
  if (raw !== undefined && raw !== null && !isObject(raw)) problem('pv', 'expected an object');
  let gridCircuitIndex: number | undefined;
  if (typeof pv.gridCircuit === 'string' && pv.gridCircuit.trim()) {
    gridCircuitIndex = circuitIndex.get(pv.gridCircuit.trim());
    if (gridCircuitIndex === undefined)
      problem('pv.gridCircuit', `no circuit has the id "${pv.gridCircuit}"`);
    else if (!circuits[gridCircuitIndex]?.meter) {
      problem('pv.gridCircuit', `circuit "${pv.gridCircuit}" has no meter to compute the surplus from`);
    }
  } else if (rootIndexes.length === 1 && circuits[rootIndexes[0] ?? -1]?.meter) {
    gridCircuitIndex = rootIndexes[0];
  }
  const number = (key: string, fallback: number, range: Range) =>
    optionalNumber(pv[key], `pv.${key}`, fallback, range, problem);
  const batterySource =
    typeof pv.batterySource === 'string' && pv.batterySource.trim() ? pv.batterySource.trim() : undefined;
  return {
    gridCircuitIndex,
    residualPowerW: number('residualPowerW', 100, { min: 0 }),
    batterySource,
    inverterSources: sourceList(pv.inverterSource, 'pv.inverterSource', problem),
    batteryPrioritySocPercent: number('batteryPrioritySocPercent', 0, { min: 0, max: 100 }),
    batteryMaxChargeW: number('batteryMaxChargeW', 0, { min: 0 }),
    batteryBufferSocPercent: number('batteryBufferSocPercent', 100, { min: 0, max: 100 }),
    enableDelayMs: number('enableDelayMs', 60_000, { min: 0 }),
    disableDelayMs: number('disableDelayMs', 180_000, { min: 0 }),
    phaseSwitchDownDelayMs: number('phaseSwitchDownDelayMs', 180_000, { min: 0 }),
    phaseSwitchUpDelayMs: number('phaseSwitchUpDelayMs', 600_000, { min: 0 }),
    phaseSwitchUpMarginA: number('phaseSwitchUpMarginA', 1, { min: 0 }),
    phaseSwitchSettleMs: number('phaseSwitchSettleMs', 60_000, { min: 0 }),
    maxPhaseSwitchesPerSession: number('maxPhaseSwitchesPerSession', 4, { min: 0, integer: true }),
  };
}

/** A reading source or a list of them: names, not empty, none twice. */
function sourceList(raw: unknown, field: string, problem: ProblemSink): string[] {
  if (raw === undefined || raw === null || raw === '') return [];
  const list = Array.isArray(raw) ? raw : [raw];
  const sources: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string' || !item.trim()) {
      problem(field, `${JSON.stringify(item)} is not a reading source's name`);
      continue;
    }
    if (!sources.includes(item.trim())) sources.push(item.trim());
  }
  return sources;
}

export function controlSettings(raw: unknown, problem: ProblemSink): ControlConfig {
  const control: ControlConfig = { ...DEFAULT_CONTROL };
  if (raw === undefined || raw === null) return control;
  if (!isObject(raw)) {
    problem('control', 'expected an object');
    return control;
  }
  for (const key of Object.keys(raw)) {
    if (!(key in DEFAULT_CONTROL)) {
      problem(`control.${key}`, `unknown setting (known: ${Object.keys(DEFAULT_CONTROL).join(', ')})`);
      continue;
    }
    if (key === 'strictUnbalance' || key === 'holdKeptLimits' || key === 'softStart') {
      if (typeof raw[key] === 'boolean') control[key] = raw[key];
      else problem(`control.${key}`, `${JSON.stringify(raw[key])} is not true or false`);
      continue;
    }
    const name = key as Exclude<keyof ControlConfig, 'strictUnbalance' | 'holdKeptLimits' | 'softStart'>;
    const min = name === 'stepA' || name === 'tickMs' ? Number.MIN_VALUE : 0;
    control[name] = optionalNumber(raw[key], `control.${key}`, DEFAULT_CONTROL[name], { min }, problem);
  }
  return control;
}

export function modeSetting(
  value: unknown,
  field: string,
  problem: ProblemSink,
): ChargingMode | ExpressionSetting | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.trim().startsWith('=')) return expression(value, field, problem);
  return choice(value, field, CHARGING_MODES, undefined, problem);
}

export function expression(text: string, field: string, problem: ProblemSink): ExpressionSetting | undefined {
  const source = text.trim().slice(1).trim();
  try {
    jsonata(source);
    return { expression: source };
  } catch (err) {
    problem(field, `the JSONata expression does not parse: ${(err as Error).message}`);
    return undefined;
  }
}
