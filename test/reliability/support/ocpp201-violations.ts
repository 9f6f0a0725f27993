import * as SCHEMAS_201 from 'typed-ocpp/dist/ocpp20/schemas.js';
import type { ErrorCode } from '../../support/charger201-wire';
import {
  BAD_DATES,
  fieldName,
  notAllowed,
  type Schema,
  type Site,
  setAt,
  sites,
  tooLong,
  UNSAFE_INTEGERS,
  WRONG_TYPES,
} from './ocpp-frames';
import { type FuzzedAction201, validRequest201 } from './ocpp201-requests';
import type { Random } from './random';

/**
 * Schema violations of valid OCPP 2.0.1 requests, each with the codes OCPP-J 2.0.1 allows for it,
 * read from typed-ocpp's copy of the OCA 2.0.1 schemas, never from the central system's validator
 * (ocpp-rpc's copy): a wrong type is a TypeConstraintViolation, a missing field or too few or many
 * items an OccurrenceConstraintViolation, an unknown field a FormatViolation (1.6's
 * FormationViolation), a value outside its set, length or range a PropertyConstraintViolation.
 * Where 2.0.1's words allow two codes (a date-time that is no date-time: "syntactically incorrect"
 * or "an invalid value"), both are taken.
 */

/** OCPP-J 2.0.1 section 4.3. */
const ERROR_CODES_201 = [
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
] as const satisfies readonly ErrorCode[];
export type Code201 = (typeof ERROR_CODES_201)[number];
export const KNOWN_CODES = new Set<string>(ERROR_CODES_201);
/** What 1.6 calls them: wrong on a 2.0.1 connection. */
export const SPELT_AS_16 = new Set(['FormationViolation', 'OccurenceConstraintViolation']);

function requestSchema(action: string): Schema {
  const schema = (SCHEMAS_201 as unknown as Record<string, Schema | undefined>)[`${action}Request`];
  if (!schema) throw new Error(`typed-ocpp has no schema for ${action}Request`);
  return schema;
}

function valueAt(target: unknown, path: Site['path']): unknown {
  let value = target;
  for (const part of path) value = (value as Record<string | number, unknown>)[part];
  return value;
}

/**
 * 1.6's lists, with booleans (the 1.6 requests have none); 'T' is left out of the dates so that a
 * seed draws the frames it drew before the lists were shared.
 */
const WRONG_TYPES_201: Record<string, unknown[]> = {
  ...WRONG_TYPES,
  boolean: ['true', 1, 0, null, {}, []],
};
const BAD_DATES_201 = BAD_DATES.filter((date) => date !== 'T');

/** Where the EVSE is named, and the least EVSE id there (part 1, 2.2: EVSEs are numbered from 1). */
const EVSE_FIELDS: Record<string, { path: string; least: number }> = {
  StatusNotification: { path: 'evseId', least: 1 },
  TransactionEvent: { path: 'evse.id', least: 1 },
  MeterValues: { path: 'evseId', least: 0 },
};

export interface Broken {
  payload: unknown;
  codes: readonly Code201[];
  names?: string;
  kind: string;
}

/** One schema violation of a valid request, with the 2.0.1 codes it may get. */
export function schemaViolation201(random: Random, action: FuzzedAction201, now: string): Broken {
  const root = requestSchema(action);
  const payload = validRequest201(action, now);
  const all = sites(payload, root, root, [], false);
  for (;;) {
    const site = random.pick(all);
    const name = fieldName(site.path);
    const replaced = (value: unknown, codes: readonly Code201[], kind: string): Broken => {
      setAt(payload, site.path, (parent, key) => {
        parent[key] = value;
      });
      return { payload, codes, names: name, kind };
    };
    const options: (() => Broken | undefined)[] = [
      () => {
        const choices = WRONG_TYPES_201[site.schema.type ?? ''];
        if (!choices) return undefined;
        const wrong = random.pick(choices);
        if (site.path.length === 0)
          // "The payload is not a JSON object": a type the PDU does not have, or syntactically wrong.
          return {
            payload: wrong,
            codes: ['TypeConstraintViolation', 'FormatViolation'],
            kind: 'wrong type',
          };
        return replaced(wrong, ['TypeConstraintViolation'], 'wrong type');
      },
      () => {
        if (!site.required || site.path.length === 0) return undefined;
        setAt(payload, site.path, (parent, key) => {
          delete parent[key];
        });
        return { payload, codes: ['OccurrenceConstraintViolation'], names: name, kind: 'missing field' };
      },
      () => {
        if (site.schema.type !== 'object' || site.schema.additionalProperties !== false) return undefined;
        const extra = random.pick([
          'vendorExtension',
          'foo',
          '__proto__',
          'constructor',
          'evseid',
          'connectorId',
          'x'.repeat(random.int(1, 300)),
        ]);
        const target = valueAt(payload, site.path) as Record<string, unknown>;
        if (Object.hasOwn(target, extra)) return undefined;
        Object.defineProperty(target, extra, {
          value: random.pick([1, 'x', null, { nested: true }, []]),
          enumerable: true,
          configurable: true,
          writable: true,
        });
        return {
          payload,
          codes: ['FormatViolation'],
          names: fieldName([...site.path, extra]),
          kind: 'unknown field',
        };
      },
      () => {
        if (!site.schema.enum) return undefined;
        const bad = notAllowed(random, site.schema.enum, 'Unknown!');
        return replaced(bad, ['PropertyConstraintViolation'], 'value not allowed');
      },
      () => {
        if (site.schema.maxLength === undefined) return undefined;
        return replaced(tooLong(random, site.schema.maxLength), ['PropertyConstraintViolation'], 'too long');
      },
      () => {
        if (site.schema.format !== 'date-time') return undefined;
        return replaced(
          random.pick(BAD_DATES_201),
          ['PropertyConstraintViolation', 'FormatViolation'],
          'not a date-time',
        );
      },
      () => {
        if (site.schema.type !== 'integer') return undefined;
        return replaced(
          random.pick(UNSAFE_INTEGERS),
          ['PropertyConstraintViolation', 'TypeConstraintViolation'],
          'huge number',
        );
      },
      () => {
        if (site.schema.type !== 'array' || !site.schema.minItems) return undefined;
        return replaced([], ['OccurrenceConstraintViolation'], 'too few items');
      },
      () => {
        const max = site.schema.maxItems;
        const items = valueAt(payload, site.path);
        if (site.schema.type !== 'array' || max === undefined || !Array.isArray(items)) return undefined;
        return replaced(
          Array.from({ length: max + random.pick([1, 2, 50]) }, () => items[0]),
          ['OccurrenceConstraintViolation'],
          'too many items',
        );
      },
      () => {
        // The EVSE of a status or a transaction is one of the station's, numbered from 1; meter
        // values may also be the station's own (EVSE 0).
        const evse = EVSE_FIELDS[action];
        if (!evse || name !== evse.path) return undefined;
        const bad = random.pick([evse.least - 1, evse.least - 2, -1000, -(2 ** 31)]);
        return replaced(bad, ['PropertyConstraintViolation'], 'EVSE id out of range');
      },
    ];
    const broken = random.pick(options)();
    if (broken) return broken;
  }
}
