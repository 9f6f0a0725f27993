import { type ParseArgsConfig, parseArgs } from 'node:util';

type Defaults = Record<string, number | readonly number[]>;
type Options<T extends Defaults> = { [K in keyof T]: T[K] extends number ? number : number[] };

/**
 * `AMPFLOW_BENCH_TINY=1`: the bench runs at a tiny size, seconds instead of minutes, so that CI can
 * run every documented command (test/benches/docs-commands_spec.ts) and a move that breaks one is
 * seen. The figures are then meaningless; without the variable nothing changes.
 */
export const TINY = process.env.AMPFLOW_BENCH_TINY === '1';

/** How much of a simulated day a tiny run simulates (the benches that simulate days: dlm, control, safety). */
export const TINY_DAY_MS = 20 * 60_000;

/** `value` capped at `cap` when the bench runs tiny (so a 0 that switches something off stays 0). */
export function tinyCap(value: number, cap: number): number {
  return TINY ? Math.min(value, cap) : value;
}

/**
 * The benchmark's command-line options, `--name value`: a number each, or a comma-separated list
 * of numbers where the default is a list; the defaults for those not given. `tiny` caps options
 * when the bench runs tiny (`TINY`), whether given or defaulted: each number, or each size of a list
 * (repeats dropped), at most its cap, so the documented command keeps its shape at a tiny size.
 */
export function benchOptions<T extends Defaults>(
  defaults: T,
  tiny: Partial<Record<keyof T, number>> = {},
): Options<T> {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, value] of Object.entries(defaults))
    options[name] = { type: 'string', default: String(value) };
  const { values } = parseArgs({ options });
  const parsed: Record<string, number | number[]> = {};
  for (const [name, value] of Object.entries(defaults)) {
    const given = String(values[name]);
    const cap = tiny[name as keyof T];
    const capped = (n: number) => (cap === undefined ? n : tinyCap(n, cap));
    if (!Array.isArray(value)) parsed[name] = capped(Number(given));
    else {
      const list = given.split(',').map(Number).map(capped);
      parsed[name] = TINY ? [...new Set(list)] : list;
    }
  }
  return parsed as Options<T>;
}
