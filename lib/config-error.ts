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
