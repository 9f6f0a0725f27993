/**
 * The load manager's boundary: every number that comes in (a reading, a connector state, a command)
 * is checked here, so that nothing that is not a number reaches the allocator, where a NaN would
 * silently remove a constraint (`x > NaN` is false). A value that is not usable is taken as "not
 * measured" (for readings and states) with a problem naming the input and field, or refused (for
 * commands, which throw).
 */
import type { CarNeeds, ConnectorState, PerPhase } from '../contracts';
import { parseTimestamp } from '../time';
import { describeValue } from './site/fields';

/**
 * Three values per phase, as the contracts carry them: a finite number, or null where not
 * measured. Anything else (a NaN, a string, a short or long array) is taken as not measured, with
 * a problem naming `field`. Undefined when the value is absent.
 */
export function perPhase(value: unknown, field: string, problems: string[]): PerPhase | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length !== 3) {
    problems.push(
      `${field}: expected three values [L1, L2, L3] (null where not measured), got ${describeValue(value)}; taken as not measured`,
    );
    return [null, null, null];
  }
  return value.map((item, p) => {
    if (item === null) return null;
    if (typeof item === 'number' && Number.isFinite(item)) return item;
    problems.push(`${field}: L${p + 1} ${describeValue(item)} is not a number; taken as not measured`);
    return null;
  }) as PerPhase;
}

/** A finite number, or undefined (with a problem naming `field` when something else was there). */
export function finiteOrUndefined(value: unknown, field: string, problems: string[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  problems.push(`${field}: ${describeValue(value)} is not a number; ignored`);
  return undefined;
}

/** A number ≥ `min` (and ≤ `max`) for a command, or an Error naming the field. */
export function commandNumber(
  value: unknown,
  field: string,
  range: { min?: number; max?: number } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${field}: ${describeValue(value)} is not a number`);
  }
  if (range.min !== undefined && value < range.min)
    throw new Error(`${field}: ${value} is below ${range.min}`);
  if (range.max !== undefined && value > range.max)
    throw new Error(`${field}: ${value} is above ${range.max}`);
  return value;
}

/**
 * A connector state with every number checked: measured currents as in `perPhase`; energy, power,
 * state of charge and offered current dropped when they are not numbers; a transaction's priority
 * likewise, its meter start taken as 0. Throws when the state does not name its connector.
 */
export function sanitizeConnectorState(input: ConnectorState, problems: string[]): ConnectorState {
  const raw = input as unknown as Record<string, unknown>;
  if (
    typeof raw !== 'object' ||
    raw === null ||
    typeof raw.chargePointId !== 'string' ||
    typeof raw.connectorId !== 'number' ||
    !Number.isInteger(raw.connectorId)
  ) {
    throw new Error(
      `connector state: expected { chargePointId, connectorId, ... }, got ${describeValue(input)}`,
    );
  }
  const state = copyData(input);
  const key = `connector state ${state.chargePointId}/${state.connectorId}`;
  const currentA = perPhase(state.currentA, `${key} currentA`, problems);
  if (currentA) state.currentA = currentA;
  else delete state.currentA;
  for (const field of [
    'energyWh',
    'powerW',
    'socPercent',
    'offeredCurrentA',
    'operatorLimitA',
    'currentUnphasedA',
  ] as const) {
    const value = finiteOrUndefined(state[field], `${key} ${field}`, problems);
    if (value === undefined) delete state[field];
    else state[field] = value;
  }
  const inForce = state.limitInForce;
  if (inForce !== undefined) {
    const limitA = finiteOrUndefined(inForce?.limitA, `${key} limitInForce.limitA`, problems);
    if (limitA === undefined || typeof inForce.since !== 'string' || typeof inForce.confirmedAt !== 'string')
      delete state.limitInForce;
    else state.limitInForce = { limitA, since: inForce.since, confirmedAt: inForce.confirmedAt };
  }
  const fallback = state.offlineFallback;
  if (fallback !== undefined) {
    const limitA = finiteOrUndefined(fallback?.limitA, `${key} offlineFallback.limitA`, problems);
    const afterS = finiteOrUndefined(fallback?.afterS, `${key} offlineFallback.afterS`, problems);
    if (limitA === undefined || limitA < 0 || afterS === undefined || typeof fallback.since !== 'string')
      delete state.offlineFallback;
    else state.offlineFallback = { limitA, afterS, since: fallback.since };
  }
  const step = state.limitStep;
  if (step !== undefined) {
    // A step is only ever a rounding down: one that is no current, or finer than 0.1 A, is ignored.
    const stepA = finiteOrUndefined(step?.stepA, `${key} limitStep.stepA`, problems);
    if (stepA === undefined || stepA < 0.1 || stepA > 10 || typeof step.why !== 'string') {
      if (stepA !== undefined)
        problems.push(`${key} limitStep.stepA: ${stepA} A is not a step from 0.1 to 10 A; ignored`);
      delete state.limitStep;
    } else state.limitStep = { stepA, why: step.why };
  }
  const stop = state.lastStop;
  // A stop is evidence that the car left only where it says what and when (a departure, evidence/car-left.ts).
  if (
    stop !== undefined &&
    (typeof stop !== 'object' ||
      stop === null ||
      typeof stop.reason !== 'string' ||
      typeof stop.at !== 'string' ||
      !Number.isFinite(Date.parse(stop.at)))
  ) {
    problems.push(`${key} lastStop: ${describeValue(stop)} is not { transactionId, reason, at }; ignored`);
    delete state.lastStop;
  }
  const needs = state.carNeeds;
  if (needs !== undefined) {
    if (typeof needs !== 'object' || needs === null || typeof needs.at !== 'string') delete state.carNeeds;
    else checkCarNeeds(needs, `${key} carNeeds`, problems);
  }
  state.online = state.online === true;
  // Only a charger that is not connected can be one that never connected.
  if (state.neverConnected !== true || state.online) delete state.neverConnected;
  const tx = state.transaction;
  if (tx) {
    const priority = finiteOrUndefined(tx.priority, `${key} transaction.priority`, problems);
    if (priority === undefined) delete tx.priority;
    else tx.priority = priority;
    tx.meterStartWh = finiteOrUndefined(tx.meterStartWh, `${key} transaction.meterStartWh`, problems) ?? 0;
  }
  return state;
}

/**
 * A car's needs with every value checked, in place: a value that is not what it says (a current
 * that is no current, a minimum above the maximum, a negative energy, a departure that is no
 * date-time, phases other than 1, 2 or 3) is dropped, not believed; the load manager then does
 * without it (no cap, the connector's minimum, no departure plan).
 */
function checkCarNeeds(needs: CarNeeds, field: string, problems: string[]): void {
  const maxA = finiteOrUndefined(needs.maxA, `${field}.maxA`, problems);
  if (maxA === undefined || maxA <= 0) delete needs.maxA;
  else needs.maxA = maxA;
  const minA = finiteOrUndefined(needs.minA, `${field}.minA`, problems);
  const aboveMax = minA !== undefined && needs.maxA !== undefined && minA > needs.maxA;
  if (aboveMax) problems.push(`${field}.minA: ${minA} A is above the car's maximum ${needs.maxA} A; ignored`);
  if (minA === undefined || minA <= 0 || aboveMax) delete needs.minA;
  else needs.minA = minA;
  if (needs.phases !== undefined && needs.phases !== 1 && needs.phases !== 2 && needs.phases !== 3) {
    problems.push(`${field}.phases: ${describeValue(needs.phases)} is not 1, 2 or 3; ignored`);
    delete needs.phases;
  }
  const energyWh = finiteOrUndefined(needs.energyWh, `${field}.energyWh`, problems);
  if (energyWh !== undefined && energyWh < 0)
    problems.push(`${field}.energyWh: ${energyWh} Wh is no energy to take; ignored`);
  if (energyWh === undefined || energyWh < 0) delete needs.energyWh;
  else needs.energyWh = energyWh;
  const departure = needs.departureTime;
  if (departure !== undefined && parseTimestamp(departure) === undefined) {
    problems.push(`${field}.departureTime: ${describeValue(departure)} is not a date-time; ignored`);
    delete needs.departureTime;
  }
}

/**
 * A copy of plain data (a state its sender keeps changing): arrays and plain objects are copied,
 * anything else (a Date a flow put in) is kept as it is; nothing here changes those. Not
 * structuredClone, which costs about ten times as much, and every limit a charger confirms
 * brings a state.
 */
function copyData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyData) as T;
  if (!isPlain(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyData((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** Whether two values of plain data (as copyData copies) are the same, arrays and objects by content. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameData(item, b[i]));
  }
  // Anything but plain data (a Date a flow put in) is the same only as itself.
  if (!isPlain(a) || !isPlain(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((key) => Object.hasOwn(y, key) && sameData(x[key], y[key]));
}

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Whether two connector states (checked ones) differ in nothing but the limit the charger confirmed. */
export function sameButConfirmation(before: ConnectorState | undefined, after: ConnectorState): boolean {
  if (!before) return false;
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  for (const key in b) if (key !== 'limitInForce' && !sameData(a[key], b[key])) return false;
  for (const key in a) if (key !== 'limitInForce' && !(key in b)) return false;
  return true;
}
