import { ConfigError } from '../config-error';

/** What a billing portal needs to know of a connector that OCPP 1.6 never reports. */
export interface CdrConnector {
  /** The plug, as the portal names it: `Type 2`, `CCS`, `CHAdeMO`, `Schuko`. */
  type?: string;
  /** The kind of charging the connector gives. */
  current?: 'AC' | 'DC';
  /** Free text for the CDR's comment column (a parking space, a tenant, a cost centre). */
  comment?: string;
}

/**
 * The connector table as typed in the central system's *Records* tab, one line each:
 * `<identity>[/<connector>], <plug type>, <AC|DC>[, <comment>]` (an empty line or one starting
 * with `#` is skipped). A line without a connector number applies to every connector of the
 * charger; one with a number to that connector only (and wins). Throws a ConfigError naming the
 * line at fault.
 */
export function parseCdrConnectors(text: string, field = 'cdrConnectors'): Record<string, CdrConnector> {
  const table: Record<string, CdrConnector> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = `${field} line ${index + 1}`;
    const [rawKey = '', rawType = '', rawCurrent = '', ...rest] = line.split(',');
    const [key, type, current, comment] = [
      rawKey.trim(),
      rawType.trim(),
      rawCurrent.trim(),
      rest.join(',').trim(),
    ];
    if (!/^[^\s]+$/.test(key))
      throw new ConfigError(at, `"${key}" is not <identity> or <identity>/<connector>`);
    if (Object.hasOwn(table, key)) throw new ConfigError(at, `${key} is listed twice`);
    const upper = current.toUpperCase();
    if (upper !== '' && upper !== 'AC' && upper !== 'DC') {
      throw new ConfigError(
        at,
        `"${current}" is neither AC nor DC (expected <identity>[/<connector>], <plug type>, <AC|DC>[, <comment>])`,
      );
    }
    const entry: CdrConnector = {};
    if (type) entry.type = type;
    if (upper) entry.current = upper as 'AC' | 'DC';
    if (comment) entry.comment = comment;
    table[key] = entry;
  });
  return table;
}

/** The connector's entry: `<identity>/<connector>` over `<identity>`, field by field. */
export function cdrConnectorOf(
  table: Record<string, CdrConnector> | undefined,
  chargePointId: string,
  connectorId: number | undefined,
): CdrConnector {
  if (!table) return {};
  const charger = Object.hasOwn(table, chargePointId) ? table[chargePointId] : undefined;
  const key = `${chargePointId}/${connectorId}`;
  const connector = connectorId !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
  return { ...charger, ...connector };
}

/** Checks a connector table a flow sent (ExportSessions' `connectors`); throws a RangeError naming the entry. */
export function checkCdrConnectors(value: unknown): Record<string, CdrConnector> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError(
      'connectors must be an object { "<identity>[/<connector>]": { type, current, comment } }',
    );
  }
  const table: Record<string, CdrConnector> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'object' || entry === null)
      throw new RangeError(`connectors["${key}"] must be an object`);
    const { type, current, comment } = entry as Record<string, unknown>;
    for (const [name, text] of Object.entries({ type, comment })) {
      if (text !== undefined && typeof text !== 'string')
        throw new RangeError(`connectors["${key}"].${name} must be text`);
    }
    if (current !== undefined && current !== 'AC' && current !== 'DC') {
      throw new RangeError(
        `connectors["${key}"].current must be "AC" or "DC", not ${JSON.stringify(current)}`,
      );
    }
    table[key] = entry as CdrConnector;
  }
  return table;
}
