import type { GetConfigurationResponse } from '../messages';
import { findViolation, type Violation } from './validation';

/**
 * A GetConfiguration answer judged one key at a time, so that the whole answer is never lost for
 * one field. OCPP 1.6 (9.1, the schema's `maxLength: 500`) bounds a configuration value at 500
 * characters, but a Bender CC613 with "Allow long get configuration keys" on reports longer ones
 * (a certificate, a long list), after every boot. Strict validation refused the whole answer, so
 * the charger's capabilities (stack levels, phase rotation, sampling) were never learned.
 *
 * - A value over 500 characters is kept as it came: the entry is valid otherwise (a breach of
 *   length only, which nothing in ampflow bounds), reported in `long`.
 * - An entry broken otherwise (a key over 50 characters, a missing `readonly`) is left out of the
 *   answer and reported in `dropped`; the other keys stay.
 * - What is left is checked as a whole; a breach there (an unknown field at the top, a list that is
 *   not a list) is the answer's `violation`, handled as any other breach (strict: refused).
 */
export interface ConfigurationAnswer {
  /** The answer to hand on: the input itself when nothing was left out. */
  response: unknown;
  /** Keys whose value was over 500 characters, kept, with the value's length. */
  long: { key: string; length: number }[];
  /** Entries left out for another breach: the key (as far as it can be read) and the breach. */
  dropped: { key: string; summary: string }[];
  /** What is still wrong with the answer as a whole (undefined when it is valid). */
  violation?: Violation;
}

/** The longest value OCPP 1.6's GetConfiguration.conf schema allows. */
export const CONFIGURATION_VALUE_MAX = 500;

type Entry = NonNullable<GetConfigurationResponse['configurationKey']>[number];

/** Reads a GetConfiguration answer key by key (see above). */
export function readConfigurationAnswer(response: unknown): ConfigurationAnswer {
  const whole = findViolation('GetConfiguration', 'response', response);
  if (whole === undefined) return { response, long: [], dropped: [] };
  const entries = (response as { configurationKey?: unknown } | null)?.configurationKey;
  if (!Array.isArray(entries)) return { response, long: [], dropped: [], violation: whole };
  const long: ConfigurationAnswer['long'] = [];
  const dropped: ConfigurationAnswer['dropped'] = [];
  const kept: unknown[] = [];
  for (const entry of entries) {
    const value = (entry as Partial<Entry> | null)?.value;
    const isLong = typeof value === 'string' && value.length > CONFIGURATION_VALUE_MAX;
    // Judged with its value cut to the bound: what is left to find is another breach.
    const judged = isLong ? { ...(entry as Entry), value: value.slice(0, CONFIGURATION_VALUE_MAX) } : entry;
    const breach = findViolation('GetConfiguration', 'response', { configurationKey: [judged] });
    const key = String((entry as Partial<Entry> | null)?.key ?? '(no key)');
    if (breach !== undefined) {
      dropped.push({
        key,
        summary: breach.summary.replaceAll('configurationKey[0]', `configurationKey "${key}"`),
      });
      continue;
    }
    if (isLong) long.push({ key, length: value.length });
    kept.push(entry);
  }
  const rest = { ...(response as object), configurationKey: kept };
  // Checked with the long values cut: a long value is not the whole answer's breach.
  const cut = {
    ...rest,
    configurationKey: kept.map((entry) => {
      const value = (entry as Entry).value;
      return value !== undefined && value.length > CONFIGURATION_VALUE_MAX
        ? { ...(entry as Entry), value: value.slice(0, CONFIGURATION_VALUE_MAX) }
        : entry;
    }),
  };
  const violation = findViolation('GetConfiguration', 'response', cut);
  return {
    response: dropped.length === 0 ? response : rest,
    long,
    dropped,
    ...(violation === undefined ? {} : { violation }),
  };
}

/**
 * A strict charger's GetConfiguration answer as the central system takes it: long values kept and
 * the entries broken otherwise left out, each said once on `warn` naming the charger and the key;
 * the violation left, if any, is the caller's to refuse.
 */
export function takeConfigurationAnswer(
  identity: string,
  response: unknown,
  warn: (message: string) => void,
): { response: unknown; violation?: Violation } {
  const answer = readConfigurationAnswer(response);
  for (const { key, length } of answer.long)
    warn(
      `charge point ${identity}: GetConfiguration answer has a value of ${length} characters for key ${key} (OCPP 1.6 allows ${CONFIGURATION_VALUE_MAX}; Bender "Allow long get configuration keys"), kept`,
    );
  for (const { key, summary } of answer.dropped)
    warn(
      `charge point ${identity}: GetConfiguration answer's key ${key} breaks the OCPP 1.6 schema, left out: ${summary}`,
    );
  return answer.violation === undefined
    ? { response: answer.response }
    : { response: answer.response, violation: answer.violation };
}
