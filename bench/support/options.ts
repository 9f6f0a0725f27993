import { type ParseArgsConfig, parseArgs } from 'node:util';

type Defaults = Record<string, number | readonly number[]>;
type Options<T extends Defaults> = { [K in keyof T]: T[K] extends number ? number : number[] };

/**
 * The benchmark's command-line options, `--name value`: a number each, or a comma-separated list
 * of numbers where the default is a list; the defaults for those not given.
 */
export function benchOptions<T extends Defaults>(defaults: T): Options<T> {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, value] of Object.entries(defaults))
    options[name] = { type: 'string', default: String(value) };
  const { values } = parseArgs({ options });
  const parsed: Record<string, number | number[]> = {};
  for (const [name, value] of Object.entries(defaults)) {
    const given = String(values[name]);
    parsed[name] = Array.isArray(value) ? given.split(',').map(Number) : Number(given);
  }
  return parsed as Options<T>;
}
