import {
  CENTRAL_SYSTEM_ACTIONS,
  CHARGE_POINT_ACTIONS,
  type ChargePointAction,
} from '../../../lib/ocpp/connection';
import { OCPP16_SCHEMAS } from '../../../lib/ocpp/v16/schemas';
import type { OcppErrorCode } from '../../../lib/ocpp/v16/validation';
import type { Random } from './random';

/**
 * Malformed and schema-violating OCPP-J frames, each with the answer OCPP-J 1.6 section 4.2.3 (and
 * its errata) asks of a central system. The expectation is derived from how the frame was broken,
 * never from the central system's own validator: a wrong type is a TypeConstraintViolation, a
 * missing field an OccurenceConstraintViolation (errata 5.1 spelling), an unknown field or a
 * frame that is no OCPP-J message a FormationViolation, a value outside its allowed set, length,
 * format or range a PropertyConstraintViolation, an unknown action NotImplemented, a central-system
 * action NotSupported.
 */

export type Expectation =
  /** A CALLERROR with this message id and code; `names` must appear in its description. */
  | { reply: 'callError'; id: string; code: OcppErrorCode; names?: string }
  /** A CALLRESULT with this id whose payload is a valid `<action>.conf`. */
  | { reply: 'callResult'; id: string; action: ChargePointAction }
  /** No answer (a CALLRESULT or CALLERROR nobody asked for); a line naming it is logged instead. */
  | { reply: 'none'; logged: true }
  /** No answer and nothing logged: ocpp-rpc skips empty frames (some chargers send them). */
  | { reply: 'none'; logged: false }
  /** The WebSocket is closed with this code (RFC 6455: 1007 invalid UTF-8, 1009 too big). */
  | { reply: 'close'; code: number };

export interface FuzzFrame {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  expect: Expectation;
}

// ---- schemas ----------------------------------------------------------------------------------

/** The parts of an OCPP JSON schema (1.6 or 2.0.1) the fuzzers read. */
export interface Schema {
  type?: string;
  enum?: string[];
  maxLength?: number;
  format?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  definitions?: Record<string, Schema>;
}

const schemas = OCPP16_SCHEMAS as unknown as readonly (Schema & { $id: string })[];

function requestSchema(action: ChargePointAction): Schema {
  const schema = schemas.find((s) => s.$id === `urn:${action}.req`);
  if (!schema) throw new Error(`no schema for ${action}`);
  return schema;
}

export function resolve(schema: Schema, root: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/definitions/', '');
  const target = root.definitions?.[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return target;
}

/** Valid requests with every optional field the fuzzer can break. */
export function validRequest(action: ChargePointAction, now: string): Record<string, unknown> {
  const sampled = [
    {
      value: '1200',
      context: 'Sample.Periodic',
      format: 'Raw',
      measurand: 'Energy.Active.Import.Register',
      phase: 'L1',
      location: 'Outlet',
      unit: 'Wh',
    },
  ];
  switch (action) {
    case 'Authorize':
      return { idTag: 'FUZZ-TAG' };
    case 'BootNotification':
      return {
        chargePointVendor: 'ampflow',
        chargePointModel: 'fuzz',
        chargePointSerialNumber: 'S-1',
        chargeBoxSerialNumber: 'B-1',
        firmwareVersion: '1.0',
        iccid: '1',
        imsi: '2',
        meterType: 'M',
        meterSerialNumber: 'MS-1',
      };
    case 'DataTransfer':
      return { vendorId: 'ampflow', messageId: 'fuzz', data: 'x' };
    case 'DiagnosticsStatusNotification':
    case 'FirmwareStatusNotification':
      return { status: 'Idle' };
    case 'Heartbeat':
      return {};
    case 'MeterValues':
      return { connectorId: 1, transactionId: 1, meterValue: [{ timestamp: now, sampledValue: sampled }] };
    case 'StartTransaction':
      return { connectorId: 1, idTag: 'FUZZ-TAG', meterStart: 0, reservationId: 1, timestamp: now };
    case 'StatusNotification':
      return {
        connectorId: 1,
        errorCode: 'NoError',
        info: 'i',
        status: 'Available',
        timestamp: now,
        vendorId: 'v',
        vendorErrorCode: 'e',
      };
    case 'StopTransaction':
      return {
        idTag: 'FUZZ-TAG',
        meterStop: 10,
        timestamp: now,
        transactionId: 1,
        reason: 'Local',
        transactionData: [{ timestamp: now, sampledValue: sampled }],
      };
    case 'SecurityEventNotification':
      return { type: 'StartupOfTheDevice', timestamp: now, techInfo: 't' };
    case 'SignCertificate':
      return { csr: 'x' };
    case 'LogStatusNotification':
    case 'SignedFirmwareStatusNotification':
      return { status: 'Idle', requestId: 1 };
  }
}

export interface Site {
  /** Path segments from the payload root. */
  path: (string | number)[];
  schema: Schema;
  /** Whether the parent object requires this field. */
  required: boolean;
}

/** Every value of a valid payload with the schema it must satisfy. */
export function sites(
  value: unknown,
  schema: Schema,
  root: Schema,
  path: (string | number)[],
  required: boolean,
): Site[] {
  const here = resolve(schema, root);
  const found: Site[] = [{ path, schema: here, required }];
  if (Array.isArray(value) && here.items) {
    value.forEach((item, index) => {
      found.push(...sites(item, here.items as Schema, root, [...path, index], false));
    });
  } else if (value && typeof value === 'object' && here.properties) {
    for (const [key, item] of Object.entries(value)) {
      const child = here.properties[key];
      if (child)
        found.push(...sites(item, child, root, [...path, key], here.required?.includes(key) ?? false));
    }
  }
  return found;
}

/** `meterValue[0].sampledValue[0].unit`, as the central system names fields. */
export function fieldName(path: (string | number)[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

export function setAt(
  target: Record<string, unknown>,
  path: (string | number)[],
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): void {
  let parent = target as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
  change(parent, path[path.length - 1] as string | number);
}

/** Values of other JSON types, by the type a schema asks for. */
export const WRONG_TYPES: Record<string, unknown[]> = {
  string: [7, -1.5, true, false, null, {}, [], ['x'], { value: 'x' }],
  integer: ['7', '', 1.5, -0.25, true, null, {}, [], [7]],
  number: ['7', '1.5', true, null, {}, []],
  array: [{}, 'x', 3, true, null],
  object: ['x', 3, [], [{}], true, null],
};

export const BAD_DATES = [
  'yesterday',
  '',
  '2026-13-01T00:00:00Z',
  '2026-02-30T25:61:00Z',
  '2026-06-01 08:00',
  '1717228800',
  'T',
];

/** Whole numbers no 32-bit integer and no double holds exactly. */
export const UNSAFE_INTEGERS = [2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e300, -1e300, Number.MAX_VALUE];

/** A value outside `allowed`: another case, a trailing space, `unknown`, empty, or noise. */
export function notAllowed(random: Random, allowed: readonly string[], unknown: string): string {
  const bad = random.pick([
    ...allowed.map((v) => v.toLowerCase()),
    ...allowed.map((v) => `${v} `),
    unknown,
    '',
    random.ascii(random.int(1, 30)),
  ]);
  return allowed.includes(bad) ? `${bad}!` : bad;
}

/** A string longer than `maxLength`, by a little or by far. */
export function tooLong(random: Random, maxLength: number): string {
  return 'x'.repeat(maxLength + random.pick([1, 2, 100, 5000]));
}

/** One schema violation of a valid request, with the 1.6 error code it must get. */
function schemaViolation(
  random: Random,
  action: ChargePointAction,
  now: string,
): { payload: unknown; code: OcppErrorCode; names: string; kind: string } {
  const root = requestSchema(action);
  const payload = validRequest(action, now);
  const all = sites(payload, root, root, [], false);
  for (;;) {
    const site = random.pick(all);
    const name = fieldName(site.path);
    /** The payload with `value` at the site, and what the charger must be answered. */
    const replaced = (value: unknown, code: OcppErrorCode, names: string, kind: string) => {
      setAt(payload, site.path, (parent, key) => {
        parent[key] = value;
      });
      return { payload, code, names, kind };
    };
    const options: (() =>
      | { payload: unknown; code: OcppErrorCode; names: string; kind: string }
      | undefined)[] = [
      () => {
        const choices = WRONG_TYPES[site.schema.type ?? ''];
        if (!choices) return undefined;
        const wrong = random.pick(choices);
        if (site.path.length === 0)
          return { payload: wrong, code: 'TypeConstraintViolation', names: '(message)', kind: 'wrong type' };
        return replaced(wrong, 'TypeConstraintViolation', name, 'wrong type');
      },
      () => {
        if (!site.required || site.path.length === 0) return undefined;
        setAt(payload, site.path, (parent, key) => {
          delete parent[key];
        });
        return {
          payload,
          code: 'OccurenceConstraintViolation',
          names: `${name}: is required`,
          kind: 'missing field',
        };
      },
      () => {
        if (site.schema.type !== 'object') return undefined;
        const extra = random.pick([
          'vendorExtension',
          'foo',
          '__proto__',
          'constructor',
          'connectorid',
          'x'.repeat(random.int(1, 300)),
        ]);
        const value = random.pick([1, 'x', null, { nested: true }, []]);
        const addTo = (object: Record<string, unknown>) =>
          Object.defineProperty(object, extra, {
            value,
            enumerable: true,
            configurable: true,
            writable: true,
          });
        if (site.path.length === 0) addTo(payload);
        else setAt(payload, site.path, (parent, key) => addTo(parent[key] as Record<string, unknown>));
        return {
          payload,
          code: 'FormationViolation',
          names: `${extra}: is not a field`,
          kind: 'unknown field',
        };
      },
      () => {
        if (!site.schema.enum) return undefined;
        const bad = notAllowed(random, site.schema.enum, 'Unknown');
        return replaced(bad, 'PropertyConstraintViolation', `${name}: must be one of`, 'value not allowed');
      },
      () => {
        if (site.schema.maxLength === undefined) return undefined;
        const long = tooLong(random, site.schema.maxLength);
        return replaced(long, 'PropertyConstraintViolation', name, 'too long');
      },
      () => {
        if (site.schema.format !== 'date-time') return undefined;
        return replaced(random.pick(BAD_DATES), 'PropertyConstraintViolation', name, 'not a date-time');
      },
      () => {
        if (site.schema.type !== 'integer') return undefined;
        return replaced(random.pick(UNSAFE_INTEGERS), 'PropertyConstraintViolation', name, 'huge number');
      },
      () => {
        // OCPP 1.6 section 6: StartTransaction connectorId > 0; StatusNotification, MeterValues >= 0.
        if (name !== 'connectorId') return undefined;
        const least = action === 'StartTransaction' ? 1 : 0;
        const bad = random.pick([least - 1, least - 2, -1000, -(2 ** 31)]);
        return replaced(bad, 'PropertyConstraintViolation', 'connectorId', 'connector id out of range');
      },
    ];
    const broken = random.pick(options)();
    if (broken) return broken;
  }
}

// ---- frames ------------------------------------------------------------------------------------

const UNKNOWN_ACTIONS = [
  'FlyToTheMoon',
  'heartbeat',
  'HEARTBEAT',
  'Heartbeat ',
  '',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'GetVariables',
  'TransactionEvent',
  'NotifyReport',
  'x'.repeat(1000),
];

/** Actions sent valid between the broken frames (in 1.6 and 2.0.1), so that the handlers run. */
export const VALID_BETWEEN = [
  'Heartbeat',
  'Authorize',
  'StatusNotification',
  'DataTransfer',
  'MeterValues',
  'SecurityEventNotification',
] as const;

/** Deeply nested arrays or objects, `depth` levels. */
export function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export interface FrameGenerator {
  /** A frame a connection can survive: it gets an answer or a logged rejection, never a close. */
  survivable(index: number): FuzzFrame;
  /** A frame after which the connection must close with `expect.code`. */
  fatal(index: number, maxFrameBytes: number): FuzzFrame;
}

export function frameGenerator(random: Random): FrameGenerator {
  const now = new Date().toISOString();
  const text = (kind: string, data: string, expect: Expectation): FuzzFrame => ({
    kind,
    data,
    binary: false,
    expect,
  });
  const formation = (kind: string, data: string, id = '-1'): FuzzFrame =>
    text(kind, data, { reply: 'callError', id, code: 'FormationViolation' });

  const bad = malformed(random);
  const makers: [weight: number, make: (id: string) => FuzzFrame][] = [
    // Broken JSON: a valid frame cut short, or noise.
    [6, (id) => formation('truncated JSON', bad.truncated(id))],
    [4, () => formation('not JSON', bad.noise())],
    // JSON that is no OCPP-J message.
    [3, () => formation('not an array', bad.notAnArray())],
    [3, (id) => formation('message type not a number', bad.typeNotANumber(id))],
    [3, (id) => formation('unknown message type', bad.unknownType(id))],
    [3, () => formation('message id not a string', bad.idNotAString())],
    [3, (id) => formation('action not a string', bad.actionNotAString(id), id)],
    [2, () => formation('too short', bad.tooShort())],
    [2, () => formation('nested arrays', bad.nestedArrays())],
    // Well-formed calls the central system does not serve.
    [
      4,
      (id) =>
        text('unknown action', JSON.stringify([2, id, random.pick(UNKNOWN_ACTIONS), {}]), {
          reply: 'callError',
          id,
          code: 'NotImplemented',
        }),
    ],
    [
      3,
      (id) =>
        text(
          'central-system action',
          JSON.stringify([
            2,
            id,
            random.pick(CENTRAL_SYSTEM_ACTIONS.filter((action) => action !== 'DataTransfer')),
            {},
          ]),
          { reply: 'callError', id, code: 'NotSupported' },
        ),
    ],
    // Schema violations of every charge-point message.
    [
      40,
      (id) => {
        const action = random.pick(CHARGE_POINT_ACTIONS);
        const broken = schemaViolation(random, action, now);
        return text(`${action}: ${broken.kind}`, JSON.stringify([2, id, action, broken.payload]), {
          reply: 'callError',
          id,
          code: broken.code,
          names: broken.names,
        });
      },
    ],
    [
      3,
      (id) => {
        const action = random.pick(['Heartbeat', 'StatusNotification', 'DataTransfer'] as const);
        const payload =
          action === 'Heartbeat'
            ? nested(random.int(100, 2000), random.pick(['array', 'object'] as const))
            : action === 'DataTransfer'
              ? `{"vendorId":"v","data":${nested(random.int(100, 2000), 'array')}}`
              : `{"connectorId":1,"errorCode":"NoError","status":"Available","info":${nested(random.int(100, 2000), 'object')}}`;
        const code: OcppErrorCode =
          action === 'Heartbeat' && payload.startsWith('{')
            ? 'FormationViolation'
            : 'TypeConstraintViolation';
        return text(`${action}: deep nesting`, `[2,"${id}","${action}",${payload}]`, {
          reply: 'callError',
          id,
          code,
        });
      },
    ],
    // Answers to calls never made: logged, not answered (OCPP-J 4.2: no reply to a CALLRESULT/CALLERROR).
    ...unanswered(random, 3, ['GenericError', 'NotImplemented', 'Bogus']),
    // Valid messages, so the handlers run between the broken ones.
    [
      5,
      (id) => {
        const action = random.pick(VALID_BETWEEN);
        return text(`valid ${action}`, JSON.stringify([2, id, action, validRequest(action, now)]), {
          reply: 'callResult',
          id,
          action,
        });
      },
    ],
  ];
  return {
    survivable: weightedFrames(random, makers),
    fatal(index, maxFrameBytes) {
      if (index % 2 === 0) {
        // A text frame that is not UTF-8: RFC 6455 section 8.1 fails the connection with 1007.
        const valid = Buffer.from(JSON.stringify([2, `u${index}`, 'Authorize', { idTag: 'TAG' }]));
        const bad = random.pick([
          [0xff],
          [0xc3, 0x28],
          [0xe2, 0x28, 0xa1],
          [0xf0, 0x28, 0x8c, 0xbc],
          [0xed, 0xa0, 0x80],
          [0x80],
        ]);
        const at = random.int(0, valid.length);
        return {
          kind: 'invalid UTF-8 in a text frame',
          data: Buffer.concat([valid.subarray(0, at), Buffer.from(bad), valid.subarray(at)]),
          binary: false,
          expect: { reply: 'close', code: 1007 },
        };
      }
      // Larger than the limit: closed with 1009 before it is read.
      const size = maxFrameBytes + random.pick([1, 100, maxFrameBytes]);
      const data = JSON.stringify([
        2,
        `o${index}`,
        'DataTransfer',
        { vendorId: 'v', data: 'y'.repeat(size) },
      ]);
      return {
        kind: 'oversized frame',
        data,
        binary: random.chance(0.3),
        expect: { reply: 'close', code: 1009 },
      };
    },
  };
}

/**
 * Frame `index` from makers drawn by weight (its message id `f<index>`); ocpp-rpc reads binary
 * frames as UTF-8 text, so one frame in ten goes as a binary frame with the same answer due.
 */
export function weightedFrames<F extends { kind: string; data: string | Buffer; binary: boolean }>(
  random: Random,
  makers: readonly [weight: number, make: (id: string) => F][],
): (index: number) => F {
  const total = makers.reduce((sum, [weight]) => sum + weight, 0);
  return (index) => {
    const id = `f${index}`;
    let roll = random.float() * total;
    let frame: F | undefined;
    for (const [weight, make] of makers) {
      roll -= weight;
      if (roll < 0) {
        frame = make(id);
        break;
      }
    }
    frame ??= (makers[0] as [number, (id: string) => F])[1](id);
    if (frame.data !== '' && random.chance(0.1))
      return { ...frame, data: Buffer.from(frame.data), binary: true, kind: `${frame.kind} (binary frame)` };
    return frame;
  };
}

/**
 * The text of frames that are no OCPP-J message a central system can read, and of answers to calls
 * never made, the same for every OCPP version (which answers them, and how, is the caller's).
 */
export function malformed(random: Random) {
  return {
    /** A Heartbeat CALL cut short. */
    truncated(id: string): string {
      const whole = JSON.stringify([2, id, 'Heartbeat', {}]);
      for (;;) {
        const cut = whole.slice(0, random.int(1, whole.length - 1));
        if (!parses(cut)) return cut;
      }
    },
    noise(): string {
      for (;;) {
        const noise = random.chance(0.5)
          ? random.ascii(random.int(1, 200))
          : `[2,${random.ascii(random.int(1, 40))}]`;
        if (!parses(noise)) return noise;
      }
    },
    notAnArray: () =>
      random.pick(['{}', '{"2":"x"}', 'null', 'true', '42', '"[2,\\"1\\",\\"Heartbeat\\",{}]"', '-1e400']),
    typeNotANumber: (id: string) =>
      JSON.stringify([random.pick(['2', null, true, [], {}, 'CALL']), id, 'Heartbeat', {}]),
    unknownType: (id: string) =>
      JSON.stringify([random.pick([0, 1, 5, 6, 99, -2, 2.5, 1e300]), id, 'Heartbeat', {}]),
    idNotAString: () =>
      JSON.stringify([2, random.pick([7, null, true, [], { id: 1 }, 1e300]), 'Heartbeat', {}]),
    actionNotAString: (id: string) => JSON.stringify([2, id, random.pick([7, null, true, [], {}]), {}]),
    tooShort: (...more: string[]) => random.pick(['[]', '[2]', ...more]),
    nestedArrays: () => nested(random.int(100, 3000), 'array'),
  };
}

type Unanswered = { kind: string; data: string; binary: false; expect: { reply: 'none'; logged: boolean } };

/**
 * Makers of frames no central system answers: a CALLRESULT and a CALLERROR (one of `codes`) to
 * calls never made, each of `weight` and logged, and an empty frame (weight 1), which ocpp-rpc
 * skips without a word (some chargers send them).
 */
export function unanswered(
  random: Random,
  weight: number,
  codes: readonly string[],
): [weight: number, make: (id: string) => Unanswered][] {
  const none = (kind: string, data: string, logged: boolean): Unanswered => ({
    kind,
    data,
    binary: false,
    expect: { reply: 'none', logged },
  });
  return [
    [
      weight,
      (id) =>
        none(
          'unsolicited CALLRESULT',
          JSON.stringify([3, `no-such-call-${id}`, random.pick([{}, { status: 'Accepted' }, null])]),
          true,
        ),
    ],
    [
      weight,
      (id) =>
        none(
          'unsolicited CALLERROR',
          JSON.stringify([4, `no-such-call-${id}`, random.pick(codes), 'x', {}]),
          true,
        ),
    ],
    [1, () => none('empty frame', '', false)],
  ];
}

export function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
