/**
 * Readers of single configuration and command fields: numbers with ranges, per-phase values,
 * choices from a list. Each reports a problem naming the field instead of taking a value that is
 * not one; a leaf module (no other module of the load manager).
 */
import type { Triple } from '../phases';

/** Collects a problem with a field (validation lists every problem at once). */
export type ProblemSink = (field: string, message: string) => void;

export interface Range {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function optionalNumber(
  value: unknown,
  field: string,
  fallback: number,
  range: Range,
  problem: ProblemSink,
): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(number)) {
    problem(field, `${JSON.stringify(value)} is not a number`);
    return fallback;
  }
  if (range.integer && !Number.isInteger(number)) {
    problem(field, `${number} is not a whole number`);
    return fallback;
  }
  if (range.min !== undefined && number < range.min) {
    problem(
      field,
      number < 0 && range.min >= 0 ? `${number} is negative` : `${number} is below ${range.min}`,
    );
    return fallback;
  }
  if (range.max !== undefined && number > range.max) {
    problem(field, `${number} is above ${range.max}`);
    return fallback;
  }
  return number;
}

/**
 * A current limit per phase given by a command: one number for all three phases, or exactly three
 * numbers [L1, L2, L3], each finite and ≥ 0. Throws an Error naming `field` otherwise.
 */
export function phaseLimitOf(value: unknown, field: string): Triple {
  const list = Array.isArray(value) ? value : [value, value, value];
  if (list.length !== 3) {
    throw new Error(`${field}: expected one number or three [L1, L2, L3], got ${JSON.stringify(value)}`);
  }
  return list.map((item, p) => {
    if (typeof item !== 'number' || !Number.isFinite(item) || item < 0) {
      throw new Error(
        `${field}: L${p + 1} ${describeValue(item)} is not a number ≥ 0 (a limit that is not a number would remove the constraint)`,
      );
    }
    return item;
  }) as Triple;
}

/** A value as an error message shows it (NaN and Infinity as such, not as JSON's null). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function phaseValues(
  value: unknown,
  field: string,
  problem: ProblemSink,
  options: { required?: boolean } = {},
): Triple | undefined {
  if (value === undefined || value === null || value === '') {
    if (options.required) problem(field, 'is required (A per phase: one number or [L1, L2, L3])');
    return undefined;
  }
  const list = Array.isArray(value) ? value : [value, value, value];
  if (list.length !== 3) {
    problem(field, 'expected one number or three, [L1, L2, L3]');
    return undefined;
  }
  const numbers = list.map((item) =>
    typeof item === 'number' ? item : typeof item === 'string' ? Number(item) : NaN,
  );
  const bad = numbers.findIndex((n) => !Number.isFinite(n));
  if (bad >= 0) {
    problem(field, `L${bad + 1} ${JSON.stringify(list[bad])} is not a number`);
    return undefined;
  }
  const negative = numbers.findIndex((n) => n < 0);
  if (negative >= 0) {
    problem(field, `L${negative + 1} ${numbers[negative]} A is negative`);
    return undefined;
  }
  return [numbers[0] ?? 0, numbers[1] ?? 0, numbers[2] ?? 0];
}

export function choice<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  fallback: T | undefined,
  problem: ProblemSink,
): T | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problem(field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return fallback;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
