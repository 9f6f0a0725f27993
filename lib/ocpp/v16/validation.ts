import { createRPCError } from 'ocpp-rpc';
import { OCPP_ACTIONS, type OcppAction } from '../messages';
import { OCPP16_SCHEMAS, OCPP16_VALIDATOR } from './schemas';

/**
 * Validation of OCPP 1.6 payloads against the OCA 1.6 schemas plus the security-whitepaper messages
 * (schemas.ts), with ocpp-rpc's validator. The central system validates here
 * rather than through ocpp-rpc's strict mode because it must (a) serve chargers that offer no
 * sub-protocol as 1.6, where ocpp-rpc would not validate at all, (b) let individual chargers be
 * lenient (log and carry on), and (c) answer with the 1.6 error names.
 */

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * OCPP-J 1.6 CallError codes, spelt as 1.6 requires: the errata sheet (sections 5.1 and 5.2)
 * keeps `FormationViolation` and `OccurenceConstraintViolation` as they are on the wire.
 */
export type OcppErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

export interface Violation {
  action: string;
  kind: 'request' | 'response';
  errorCode: OcppErrorCode;
  /** What was wrong, naming the field, e.g. `chargeBoxSerialNumber: must NOT have more than 25 characters`. */
  summary: string;
}

const knownActions = new Set<string>(OCPP_ACTIONS);

export function isOcppAction(action: string): action is OcppAction {
  return knownActions.has(action);
}

/** A schema's compiled check: true when the payload is valid (Ajv's validate function). */
type SchemaCheck = (payload: unknown) => boolean;

/** A schema's id and, once looked up, its compiled check (null where the validator has none). */
interface SchemaEntry {
  id: string;
  check: SchemaCheck | null | undefined;
}

/**
 * The validator's Ajv, to look each schema's compiled check up once: ocpp-rpc's `validate` looks
 * it up by id on every call (Ajv normalises the id each time, about 1 µs per message in
 * bench:throughput's profile). ocpp-rpc keeps it in a field of its own; when a version has none,
 * every payload goes through `validate` as before.
 */
const compiledAjv = (
  OCPP16_VALIDATOR as unknown as { _ajv?: { getSchema?: (id: string) => SchemaCheck | undefined } }
)._ajv;

const schemaEntries = { request: new Map<string, SchemaEntry>(), response: new Map<string, SchemaEntry>() };

function schemaEntry(action: OcppAction, kind: 'request' | 'response'): SchemaEntry {
  const entries = schemaEntries[kind];
  let entry = entries.get(action);
  if (entry === undefined) {
    const id = `urn:${action}.${kind === 'request' ? 'req' : 'conf'}`;
    entry = { id, check: undefined };
    try {
      entry.check = compiledAjv?.getSchema?.(id) ?? null;
    } catch {
      entry.check = null;
    }
    entries.set(action, entry);
  }
  return entry;
}

/** Whether findViolation checks valid payloads of `action` with the compiled check, skipping the look-up by id. */
export function hasCompiledCheck(action: OcppAction, kind: 'request' | 'response'): boolean {
  return typeof schemaEntry(action, kind).check === 'function';
}

/** Checks `payload` against the schema of `action`'s request or response; undefined when valid. */
export function findViolation(
  action: OcppAction,
  kind: 'request' | 'response',
  payload: unknown,
): Violation | undefined {
  const entry = schemaEntry(action, kind);
  const schemaId = entry.id;
  // A valid payload (nearly all of them) passes the compiled check; any other goes through the
  // validator, which throws the errors read below, exactly as before.
  if (entry.check?.(payload) === true) return constraintViolation(action, kind, schemaId, payload);
  try {
    OCPP16_VALIDATOR.validate(schemaId, payload);
    return constraintViolation(action, kind, schemaId, payload);
  } catch (err) {
    return thrownViolation(action, kind, err);
  }
}

/** The violation an ocpp-rpc validator threw (its Ajv errors), for either version's schemas. */
export function thrownViolation(action: string, kind: 'request' | 'response', err: unknown): Violation {
  const errors = ((err as { details?: { errors?: AjvError[] } }).details?.errors ?? []) as AjvError[];
  const first = errors[0];
  return {
    action,
    kind,
    errorCode: first ? errorCodeFor(first) : 'FormationViolation',
    summary: errors.length > 0 ? errors.map(describe).join('; ') : String((err as Error).message),
  };
}

/**
 * What the schemas cannot say: OCPP 1.6 section 6 requires `connectorId > 0` in StartTransaction
 * and `>= 0` in StatusNotification and MeterValues, and an integer beyond 2^53 cannot be a
 * connector, transaction, meter reading or id at all (JSON numbers lose digits there, and
 * 1e300 passes the schemas' `integer`). Found by test/reliability/fuzz-ocpp_spec.ts: such values
 * opened transactions on connector -1 and recorded sessions of -1e300 Wh.
 */
function constraintViolation(
  action: OcppAction,
  kind: 'request' | 'response',
  schemaId: string,
  payload: unknown,
): Violation | undefined {
  const places = NUMBER_PLACES.get(schemaId);
  const suspect = places === undefined ? hasUnsafeInteger(payload) : holdsUnsafeInteger(payload, places);
  const unsafe = suspect ? unsafeInteger(payload, '') : undefined;
  if (unsafe) {
    return {
      action,
      kind,
      errorCode: 'PropertyConstraintViolation',
      summary: `${unsafe}: must be an integer between -2^53 and 2^53`,
    };
  }
  if (kind !== 'request') return undefined;
  const connectorId = (payload as { connectorId?: unknown }).connectorId;
  if (typeof connectorId !== 'number') return undefined;
  const least = MIN_CONNECTOR_ID[action];
  if (least === undefined || connectorId >= least) return undefined;
  return {
    action,
    kind,
    errorCode: 'PropertyConstraintViolation',
    summary: `connectorId: must be ${least === 1 ? '> 0' : '>= 0'}`,
  };
}

const MIN_CONNECTOR_ID: Partial<Record<OcppAction, number>> = {
  StartTransaction: 1,
  StatusNotification: 0,
  MeterValues: 0,
};

/**
 * Where a payload valid against a schema can hold a number: `number` (this value), `anything` (a
 * value the schema does not describe: every number in it), the fields or the items of a list
 * that can; `null` where none can. Read from the schemas once, so that the unsafe-integer check
 * of a MeterValues.req reads connectorId and transactionId rather than every sampled value.
 */
type NumberPlaces =
  | 'number'
  | 'anything'
  | { fields: [string, NumberPlaces][] }
  | { items: NumberPlaces }
  | null;

interface SchemaNode {
  type?: unknown;
  $ref?: unknown;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  items?: unknown;
  definitions?: Record<string, SchemaNode>;
}

function numberPlaces(schema: SchemaNode, root: SchemaNode): NumberPlaces {
  if (typeof schema.$ref === 'string') {
    const name = /^#\/definitions\/([^/]+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : root.definitions?.[name];
    return target === undefined ? 'anything' : numberPlaces(target, root);
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'string':
    case 'boolean':
      return null;
    case 'array': {
      if (typeof schema.items !== 'object' || schema.items === null || Array.isArray(schema.items))
        return 'anything';
      const items = numberPlaces(schema.items as SchemaNode, root);
      return items === null ? null : { items };
    }
    case 'object': {
      if (schema.additionalProperties !== false) return 'anything';
      const fields: [string, NumberPlaces][] = [];
      for (const [name, field] of Object.entries(schema.properties ?? {})) {
        const places = numberPlaces(field, root);
        if (places !== null) fields.push([name, places]);
      }
      return fields.length === 0 ? null : { fields };
    }
    default:
      return 'anything';
  }
}

/** Each schema's number places, by `$id`. */
const NUMBER_PLACES = new Map<string, NumberPlaces>(
  OCPP16_SCHEMAS.map((schema) => [String(schema.$id), numberPlaces(schema, schema)]),
);

/** hasUnsafeInteger for a schema-valid payload, reading only where its schema allows a number. */
function holdsUnsafeInteger(value: unknown, places: NumberPlaces): boolean {
  if (places === null || value === undefined) return false;
  if (places === 'number' || places === 'anything') return hasUnsafeInteger(value);
  if ('items' in places) {
    if (!Array.isArray(value)) return hasUnsafeInteger(value);
    for (const item of value) if (holdsUnsafeInteger(item, places.items)) return true;
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return hasUnsafeInteger(value);
  for (const [name, fieldPlaces] of places.fields) {
    if (!Object.hasOwn(value, name)) continue;
    if (holdsUnsafeInteger((value as Record<string, unknown>)[name], fieldPlaces)) return true;
  }
  return false;
}

/**
 * Whether a payload holds a number that is whole but not a safe integer: a walk that builds
 * nothing; unsafeInteger names the field once one is found.
 */
function hasUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (hasUnsafeInteger(value[index])) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && hasUnsafeInteger((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/**
 * A whole number beyond 2^53 anywhere in a schema-valid payload (no id, counter or reading is one):
 * the violation, or undefined. For schemas whose numbers may stand anywhere (OCPP 2.0.1's).
 */
export function unsafeIntegerViolation(
  action: string,
  kind: 'request' | 'response',
  payload: unknown,
): Violation | undefined {
  const unsafe = hasUnsafeInteger(payload) ? unsafeInteger(payload, '') : undefined;
  if (!unsafe) return undefined;
  return {
    action,
    kind,
    errorCode: 'PropertyConstraintViolation',
    summary: `${unsafe}: must be an integer between -2^53 and 2^53`,
  };
}

/** The path of the first number that is whole but not a safe integer, in a schema-valid payload. */
function unsafeInteger(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Number.isSafeInteger(value) ? path || '(message)' : undefined;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = unsafeInteger(value[index], `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = unsafeInteger(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return undefined;
}

/** The CallError a strict central system answers a violating request with. */
export function violationError(violation: Violation): Error {
  return ocppError(violation.errorCode, `${violation.action} ${violation.kind}: ${violation.summary}`);
}

/** An error ocpp-rpc sends back as a CallError with exactly this code. */
export function ocppError(code: OcppErrorCode, description: string): Error {
  const err = createRPCError('GenericError', description, {}) as Error & { rpcErrorCode: string };
  // createRPCError knows the corrected spellings only; set the 1.6 code directly.
  err.rpcErrorCode = code;
  return err;
}

/**
 * OCPP-J 1.6 section 4.2.3: type errors are TypeConstraintViolation; a field missing or repeated
 * too often is an occurrence violation; a field with a value outside its allowed set or length is
 * a PropertyConstraintViolation; anything that does not fit the PDU's structure (an unknown
 * property) is a FormationViolation.
 */
function errorCodeFor(error: AjvError): OcppErrorCode {
  switch (error.keyword) {
    case 'type':
      return 'TypeConstraintViolation';
    case 'required':
    case 'minItems':
    case 'maxItems':
      return 'OccurenceConstraintViolation';
    case 'additionalProperties':
      return 'FormationViolation';
    default:
      return 'PropertyConstraintViolation';
  }
}

function describe(error: AjvError): string {
  const path = fieldPath(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path ? `${path}.` : ''}${String(error.params.additionalProperty)}: is not a field of this message`;
    case 'required':
      return `${path ? `${path}.` : ''}${String(error.params.missingProperty)}: is required`;
    case 'enum':
      return `${path}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${path || '(message)'}: ${error.message ?? error.keyword}`;
  }
}

/** `/meterValue/0/sampledValue/2/unit` → `meterValue[0].sampledValue[2].unit` */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
}
