/**
 * A setting that cannot be used. `field` names the setting as the editor and the command-line
 * tools call it, so the message tells the user exactly what to change.
 */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Parses a TCP port as typed into an editor field or a command line (string or number). */
export function parsePort(field: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const text = String(value).trim();
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(field, `"${String(value)}" is not a TCP port (a whole number from 1 to 65535)`);
  }
  return port;
}

/**
 * Parses a number as typed into an editor field or a command line, within `[min, max]`; empty
 * means `fallback`. The error names the field and the allowed range.
 */
export function parseNumber(
  field: string,
  value: unknown,
  options: { fallback: number; min: number; max: number; integer?: boolean; unit?: string },
): number {
  if (value === undefined || value === null || value === '') return options.fallback;
  const text = String(value).trim();
  const number = Number(text);
  const unit = options.unit ? ` ${options.unit}` : '';
  const kind = options.integer ? 'a whole number' : 'a number';
  if (text === '' || !Number.isFinite(number) || (options.integer && !Number.isInteger(number))) {
    throw new ConfigError(field, `"${String(value)}" is not ${kind}`);
  }
  if (number < options.min || number > options.max) {
    throw new ConfigError(field, `${text}${unit} is outside ${options.min} to ${options.max}${unit}`);
  }
  return number;
}

/** Checks that `value` is one of `allowed`; empty means `fallback`. */
export function parseChoice<T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(field, `"${String(value)}" is not one of ${allowed.join(', ')}`);
}
