import assert from 'node:assert/strict';
import { OCPP20 } from 'typed-ocpp';
import * as SCHEMAS_201 from 'typed-ocpp/dist/ocpp20/schemas.js';
import { WebSocket } from 'ws';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { Charger201 } from '../support/charger201';
import { useOcppHarness } from '../support/ocpp';
import { fieldName, frameGenerator, validRequest } from './support/ocpp-frames';
import { Random, seedFor } from './support/random';

/**
 * The OCPP 2.0.1 side of fuzz-ocpp_spec.ts: malformed and schema-violating frames from a seeded
 * generator over `ocpp2.0.1` WebSockets (AMPFLOW_FUZZ201_SEED repeats a run; AMPFLOW_FUZZ201_FRAMES,
 * or AMPFLOW_FUZZ_FRAMES, sets the count, short by default). Every frame must get the answer
 * OCPP-J 2.0.1 (part 4, sections 4.2-4.4) asks for, spelt as 2.0.1 spells it, never a 1.6
 * spelling (FormationViolation, OccurenceConstraintViolation); frames the connection cannot survive
 * close it as RFC 6455 says. Nothing may crash or log an error, nothing a broken frame said may
 * become a connector or a session with numbers no meter has, and a well-behaved 2.0.1 charger
 * (test/support/charger201.ts, judged by typed-ocpp's copy of the OCA schemas) on another
 * connection charges session after session meanwhile.
 *
 * The expected code follows from how the frame was broken, read from typed-ocpp's copy of the OCA
 * 2.0.1 schemas, never from the central system's validator (ocpp-rpc's copy): a wrong type is a
 * TypeConstraintViolation, a missing field or too few or many items an
 * OccurrenceConstraintViolation, an unknown field a FormatViolation (1.6's FormationViolation), a
 * value outside its set, length or range a PropertyConstraintViolation; a frame that is no RPC
 * message an RpcFrameworkError, an unknown message type MessageTypeNotSupported, an action 2.0.1
 * does not have NotImplemented, a CSMS action NotSupported. Where 2.0.1's words allow two codes
 * (a date-time that is no date-time: "syntactically incorrect" or "an invalid value"), both are
 * taken.
 */

const SEED = seedFor('FUZZ201', 20270201);
const FRAMES = Number(process.env.AMPFLOW_FUZZ201_FRAMES ?? process.env.AMPFLOW_FUZZ_FRAMES ?? 1000);
const LANES = 4;
const FATAL_FRAMES = 8;
const MAX_FRAME_BYTES = 32 * 1024;

// ---- 2.0.1 error codes -------------------------------------------------------------------------

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
] as const;
type Code201 = (typeof ERROR_CODES_201)[number];
const KNOWN_CODES = new Set<string>(ERROR_CODES_201);
/** What 1.6 calls them: wrong on a 2.0.1 connection. */
const SPELT_AS_16 = new Set(['FormationViolation', 'OccurenceConstraintViolation']);

// ---- expectations ------------------------------------------------------------------------------

type Expectation =
  /** A CALLERROR with this message id (one of `ids`) and one of `codes`; `names` must be in its description. */
  | { reply: 'callError'; ids: readonly string[]; codes: readonly Code201[]; names?: string }
  /** A CALLRESULT for `id` whose payload is a valid `<action>Response` (typed-ocpp). */
  | { reply: 'callResult'; id: string; call: unknown[] }
  /** Either: values no schema forbids but no meter can mean (the state is checked afterwards). */
  | { reply: 'callResultOrError'; id: string; call: unknown[]; codes: readonly Code201[] }
  /** No answer (a CALLRESULT or CALLERROR nobody asked for, logged; an empty frame, not logged). */
  | { reply: 'none'; logged: boolean }
  /** The WebSocket is closed with this code (RFC 6455: 1007 invalid UTF-8, 1009 too big). */
  | { reply: 'close'; code: number };

interface Frame201 {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  expect: Expectation;
}

// ---- the OCA 2.0.1 schemas, as typed-ocpp has them ---------------------------------------------

interface Schema {
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

function requestSchema(action: string): Schema {
  const schema = (SCHEMAS_201 as unknown as Record<string, Schema | undefined>)[`${action}Request`];
  if (!schema) throw new Error(`typed-ocpp has no schema for ${action}Request`);
  return schema;
}

function resolve(schema: Schema, root: Schema): Schema {
  if (!schema.$ref) return schema;
  const target = root.definitions?.[schema.$ref.replace('#/definitions/', '')];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return target;
}

/** The problems typed-ocpp finds in a frame; what its ajv strips silently (removeAdditional) counts. */
function problemsOf(frame: unknown, validate: (copy: never) => boolean, errors: () => string[]): string[] {
  const wire = JSON.stringify(frame);
  const copy = JSON.parse(wire);
  return validate(copy as never) ? stray(JSON.parse(wire), copy, '') : [...errors()];
}

function stray(original: unknown, kept: unknown, path: string): string[] {
  if (typeof original !== 'object' || original === null || typeof kept !== 'object' || kept === null)
    return [];
  return Object.entries(original).flatMap(([key, inner]) =>
    key in kept
      ? stray(inner, (kept as Record<string, unknown>)[key], `${path}/${key}`)
      : [`${path}/${key} must NOT have additional properties`],
  );
}

function callResultProblems(call: unknown[], result: unknown[]): string[] {
  const valid = (copy: never) =>
    OCPP20.validateCallResult(copy) && OCPP20.checkCallResult(copy, call as OCPP20.Call);
  return problemsOf(result, valid, () => [
    ...OCPP20.validateCallResult.errors,
    ...OCPP20.checkCallResult.errors,
  ]);
}

// ---- valid requests ----------------------------------------------------------------------------

/** Station actions the fuzzer breaks, each with a valid request holding most optional fields. */
const STATION_ACTIONS = [
  'Authorize',
  'BootNotification',
  'ClearedChargingLimit',
  'DataTransfer',
  'FirmwareStatusNotification',
  'Heartbeat',
  'LogStatusNotification',
  'MeterValues',
  'NotifyEvent',
  'NotifyReport',
  'ReservationStatusUpdate',
  'SecurityEventNotification',
  'SignCertificate',
  'StatusNotification',
  'TransactionEvent',
] as const;
type StationAction = (typeof STATION_ACTIONS)[number];

function sampled(value: number, extra: Record<string, unknown> = {}) {
  return {
    value,
    context: 'Sample.Periodic',
    measurand: 'Energy.Active.Import.Register',
    location: 'Outlet',
    unitOfMeasure: { unit: 'Wh', multiplier: 0 },
    ...extra,
  };
}

function validRequest201(action: StationAction, now: string): Record<string, unknown> {
  const idToken = {
    idToken: 'FUZZ-TAG',
    type: 'ISO14443',
    additionalInfo: [{ additionalIdToken: 'extra', type: 'x' }],
  };
  switch (action) {
    case 'Authorize':
      return {
        idToken,
        certificate: 'c',
        iso15118CertificateHashData: [
          {
            hashAlgorithm: 'SHA256',
            issuerNameHash: 'a',
            issuerKeyHash: 'b',
            serialNumber: 'c',
            responderURL: 'http://127.0.0.1/ocsp',
          },
        ],
      };
    case 'BootNotification':
      return {
        reason: 'PowerUp',
        chargingStation: {
          serialNumber: 'S-1',
          model: 'fuzz',
          vendorName: 'ampflow',
          firmwareVersion: '1.0',
          modem: { iccid: '1', imsi: '2' },
        },
      };
    case 'ClearedChargingLimit':
      return { chargingLimitSource: 'EMS', evseId: 1 };
    case 'DataTransfer':
      return { vendorId: 'ampflow', messageId: 'fuzz', data: 'x' };
    case 'FirmwareStatusNotification':
      return { status: 'Downloaded', requestId: 1 };
    case 'Heartbeat':
      return {};
    case 'LogStatusNotification':
      return { status: 'Uploaded', requestId: 1 };
    case 'MeterValues':
      return { evseId: 1, meterValue: [{ timestamp: now, sampledValue: [sampled(1200)] }] };
    case 'NotifyEvent':
      return {
        generatedAt: now,
        seqNo: 0,
        tbc: false,
        eventData: [
          {
            eventId: 1,
            timestamp: now,
            trigger: 'Delta',
            cause: 2,
            actualValue: '1',
            eventNotificationType: 'HardWiredNotification',
            component: { name: 'EVSE', evse: { id: 1, connectorId: 1 } },
            variable: { name: 'Power' },
          },
        ],
      };
    case 'NotifyReport':
      return {
        requestId: 1,
        generatedAt: now,
        seqNo: 0,
        tbc: false,
        reportData: [
          {
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'HeartbeatInterval' },
            variableAttribute: [{ type: 'Actual', value: '60', mutability: 'ReadWrite', persistent: true }],
            variableCharacteristics: { dataType: 'integer', supportsMonitoring: false, unit: 's' },
          },
        ],
      };
    case 'ReservationStatusUpdate':
      return { reservationId: 1, reservationUpdateStatus: 'Expired' };
    case 'SecurityEventNotification':
      return { type: 'StartupOfTheDevice', timestamp: now, techInfo: 't' };
    case 'SignCertificate':
      return { csr: 'x', certificateType: 'ChargingStationCertificate' };
    case 'StatusNotification':
      return { timestamp: now, connectorStatus: 'Available', evseId: 1, connectorId: 1 };
    case 'TransactionEvent':
      return {
        eventType: 'Updated',
        timestamp: now,
        triggerReason: 'MeterValuePeriodic',
        seqNo: 1,
        offline: false,
        numberOfPhasesUsed: 3,
        cableMaxCurrent: 32,
        reservationId: 1,
        transactionInfo: {
          transactionId: 'FUZZ-TX',
          chargingState: 'Charging',
          timeSpentCharging: 10,
          remoteStartId: 1,
        },
        evse: { id: 1, connectorId: 1 },
        idToken,
        meterValue: [{ timestamp: now, sampledValue: [sampled(1200)] }],
      };
  }
}

// ---- schema violations -------------------------------------------------------------------------

interface Site {
  path: (string | number)[];
  schema: Schema;
  /** Whether the parent object requires this field. */
  required: boolean;
}

function sites(value: unknown, schema: Schema, root: Schema, path: Site['path'], required: boolean): Site[] {
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

function setAt(
  target: Record<string, unknown>,
  path: Site['path'],
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): void {
  let parent = target as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
  change(parent, path[path.length - 1] as string | number);
}

function valueAt(target: unknown, path: Site['path']): unknown {
  let value = target;
  for (const part of path) value = (value as Record<string | number, unknown>)[part];
  return value;
}

const WRONG_TYPES: Record<string, unknown[]> = {
  string: [7, -1.5, true, false, null, {}, [], ['x'], { value: 'x' }],
  integer: ['7', '', 1.5, -0.25, true, null, {}, [], [7]],
  number: ['7', '1.5', true, null, {}, []],
  boolean: ['true', 1, 0, null, {}, []],
  array: [{}, 'x', 3, true, null],
  object: ['x', 3, [], [{}], true, null],
};

const BAD_DATES = [
  'yesterday',
  '',
  '2026-13-01T00:00:00Z',
  '2026-02-30T25:61:00Z',
  '2026-06-01 08:00',
  '1717228800',
];

/** Whole numbers no 32-bit OCPP 2.0.1 integer (part 2, primitive datatypes) and no double can hold exactly. */
const UNSAFE_INTEGERS = [2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e300, -1e300, Number.MAX_VALUE];

/** Where the EVSE is named, and the least EVSE id there (part 1, 2.2: EVSEs are numbered from 1). */
const EVSE_FIELDS: Record<string, { path: string; least: number }> = {
  StatusNotification: { path: 'evseId', least: 1 },
  TransactionEvent: { path: 'evse.id', least: 1 },
  MeterValues: { path: 'evseId', least: 0 },
};

interface Broken {
  payload: unknown;
  codes: readonly Code201[];
  names?: string;
  kind: string;
}

/** One schema violation of a valid request, with the 2.0.1 codes it may get. */
function schemaViolation(random: Random, action: StationAction, now: string): Broken {
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
        const choices = WRONG_TYPES[site.schema.type ?? ''];
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
        const allowed = site.schema.enum;
        let bad = random.pick([
          ...allowed.map((v) => v.toLowerCase()),
          ...allowed.map((v) => `${v} `),
          'Unknown!',
          '',
          random.ascii(random.int(1, 30)),
        ]);
        if (allowed.includes(bad)) bad = `${bad}!`;
        return replaced(bad, ['PropertyConstraintViolation'], 'value not allowed');
      },
      () => {
        if (site.schema.maxLength === undefined) return undefined;
        const long = 'x'.repeat(site.schema.maxLength + random.pick([1, 2, 100, 5000]));
        return replaced(long, ['PropertyConstraintViolation'], 'too long');
      },
      () => {
        if (site.schema.format !== 'date-time') return undefined;
        return replaced(
          random.pick(BAD_DATES),
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

// ---- frames ------------------------------------------------------------------------------------

const UNKNOWN_ACTIONS = [
  'FlyToTheMoon',
  'heartbeat',
  'TRANSACTIONEVENT',
  'TransactionEvent ',
  '',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  // OCPP 2.1's, not 2.0.1's
  'NotifyPeriodicEventStream',
  'NotifyDERAlarm',
  'x'.repeat(1000),
];

/** 1.6 actions 2.0.1 does not have (the charge point's, with their 1.6 payloads, and the central system's). */
const ONLY_16_CHARGE_POINT = [
  'StartTransaction',
  'StopTransaction',
  'DiagnosticsStatusNotification',
] as const;
const ONLY_16_CENTRAL_SYSTEM = [
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ChangeConfiguration',
  'GetConfiguration',
  'GetDiagnostics',
  'ExtendedTriggerMessage',
  'SignedUpdateFirmware',
];

/** Actions a CSMS sends: recognised, not served from a charger (NotSupported). */
const CSMS_ACTIONS = [
  'RequestStartTransaction',
  'RequestStopTransaction',
  'SetChargingProfile',
  'GetVariables',
  'SetVariables',
  'Reset',
  'TriggerMessage',
  'UnlockConnector',
  'GetBaseReport',
  'ChangeAvailability',
  'SendLocalList',
  'CostUpdated',
  'CertificateSigned',
];

/** 1.6 payloads under the 2.0.1 actions of the same name: several violations at once. */
const PAYLOADS_16 = ['Authorize', 'BootNotification', 'StatusNotification', 'MeterValues'] as const;

/** Multipliers (powers of ten) that no meter has and no double survives. */
const ABSURD_MULTIPLIERS = [308, 309, 400, -400, 2 ** 31 - 1, -(2 ** 31), 1000];

function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function generator201(random: Random) {
  const now = new Date().toISOString();
  const text = (kind: string, data: string, expect: Expectation): Frame201 => ({
    kind,
    data,
    binary: false,
    expect,
  });
  const error = (kind: string, data: string, codes: readonly Code201[], ids: readonly string[] = ['-1']) =>
    text(kind, data, { reply: 'callError', ids, codes });
  const call = (id: string, action: string, payload: unknown) => [2, id, action, payload];

  // The fixtures are valid, or the expectations built on them mean nothing.
  for (const action of STATION_ACTIONS) {
    const frame = call('self-check', action, validRequest201(action, now));
    const problems = problemsOf(frame, OCPP20.validateCall, () => OCPP20.validateCall.errors);
    if (problems.length > 0) throw new Error(`the test's own ${action} is invalid: ${problems.join('; ')}`);
  }

  /** A TransactionEvent valid by the schema that makes little sense: odd seqNo, ids, EVSEs, orders. */
  const oddTransactionEvent = (id: string): Frame201 => {
    const eventType = random.pick(['Started', 'Updated', 'Ended'] as const);
    const transactionId = random.pick([
      `FUZZ-${id}`,
      `FUZZ-${random.int(0, 5)}`,
      '',
      ' ',
      'x'.repeat(36),
      'ü€😀',
      '../../etc/passwd',
      '__proto__',
    ]);
    const request: Record<string, unknown> = {
      eventType,
      timestamp: random.pick([now, '1970-01-01T00:00:00Z', '2099-12-31T23:59:59.999Z']),
      triggerReason: random.pick(['Authorized', 'MeterValuePeriodic', 'StopAuthorized', 'EVDeparted']),
      seqNo: random.pick([0, 1, 0, 7, -1, -(2 ** 31), 2 ** 31 - 1, random.int(0, 100)]),
      transactionInfo: {
        transactionId,
        ...(eventType === 'Ended' ? { stoppedReason: random.pick(['Local', 'Remote', 'Other']) } : {}),
      },
    };
    if (random.chance(0.7)) request.evse = { id: random.pick([1, 2, 3, 1000, 2 ** 31 - 1]), connectorId: 1 };
    if (random.chance(0.6))
      request.idToken = { idToken: random.pick(['FUZZ-TAG', '', 'x'.repeat(36)]), type: 'ISO14443' };
    if (random.chance(0.6))
      request.meterValue = [
        {
          timestamp: now,
          sampledValue: [sampled(random.pick([0, 1, 1200.5, -5, 1e15]), { context: 'Sample.Periodic' })],
        },
      ];
    const frame = call(id, 'TransactionEvent', request);
    return text('TransactionEvent: odd but valid', JSON.stringify(frame), {
      reply: 'callResult',
      id,
      call: frame,
    });
  };

  /** Meter values with a multiplier that overflows (or underflows) every double. */
  const absurdMultiplier = (id: string): Frame201 => {
    const value = sampled(random.pick([1, 5, 1200, -3, 0.001]), {
      unitOfMeasure: {
        unit: random.pick(['Wh', 'kWh', 'W', 'A']),
        multiplier: random.pick(ABSURD_MULTIPLIERS),
      },
    });
    const meterValue = [{ timestamp: now, sampledValue: [value] }];
    const asTransaction = random.chance(0.5);
    const frame = asTransaction
      ? call(id, 'TransactionEvent', {
          eventType: random.pick(['Started', 'Updated', 'Ended'] as const),
          timestamp: now,
          triggerReason: 'MeterValuePeriodic',
          seqNo: 0,
          transactionInfo: { transactionId: `ABSURD-${id}` },
          evse: { id: 1, connectorId: 1 },
          idToken: { idToken: 'FUZZ-TAG', type: 'ISO14443' },
          meterValue,
        })
      : call(id, 'MeterValues', { evseId: random.pick([0, 1]), meterValue });
    return text(`${frame[2]}: absurd multiplier`, JSON.stringify(frame), {
      reply: 'callResultOrError',
      id,
      call: frame,
      codes: ['PropertyConstraintViolation'],
    });
  };

  const makers: [weight: number, make: (id: string) => Frame201][] = [
    // OCPP-J 2.0.1 4.2.3 / 4.3: what is not a valid RPC request is an RpcFrameworkError ("-1": no id read).
    [
      5,
      (id) => {
        const whole = JSON.stringify(call(id, 'Heartbeat', {}));
        for (;;) {
          const cut = whole.slice(0, random.int(1, whole.length - 1));
          if (!parses(cut)) return error('truncated JSON', cut, ['RpcFrameworkError']);
        }
      },
    ],
    [
      3,
      () => {
        for (;;) {
          const noise = random.chance(0.5)
            ? random.ascii(random.int(1, 200))
            : `[2,${random.ascii(random.int(1, 40))}]`;
          if (!parses(noise)) return error('not JSON', noise, ['RpcFrameworkError']);
        }
      },
    ],
    [
      2,
      () =>
        error(
          'not an array',
          random.pick([
            '{}',
            '{"2":"x"}',
            'null',
            'true',
            '42',
            '"[2,\\"1\\",\\"Heartbeat\\",{}]"',
            '-1e400',
          ]),
          ['RpcFrameworkError'],
        ),
    ],
    [
      2,
      (id) =>
        error(
          'message type not a number',
          JSON.stringify([random.pick(['2', null, true, [], {}, 'CALL']), id, 'Heartbeat', {}]),
          ['RpcFrameworkError'],
        ),
    ],
    // 4.4: a message type it does not know is answered MessageTypeNotSupported (OCPP 2.1's 5 and 6 too).
    [
      3,
      (id) =>
        error(
          'unknown message type',
          JSON.stringify([random.pick([0, 1, 5, 6, 99, -2, 2.5, 1e300]), id, 'Heartbeat', {}]),
          ['MessageTypeNotSupported'],
          ['-1', id],
        ),
    ],
    [
      2,
      () =>
        error(
          'message id not a string',
          JSON.stringify([2, random.pick([7, null, true, [], { id: 1 }, 1e300]), 'Heartbeat', {}]),
          ['RpcFrameworkError'],
        ),
    ],
    [
      2,
      (id) =>
        error(
          'action not a string',
          JSON.stringify([2, id, random.pick([7, null, true, [], {}]), {}]),
          ['RpcFrameworkError'],
          [id],
        ),
    ],
    [
      2,
      (id) =>
        error('too short', random.pick(['[]', '[2]', `[2,"${id}"]`]), ['RpcFrameworkError'], ['-1', id]),
    ],
    [1, () => error('nested arrays', nested(random.int(100, 3000), 'array'), ['RpcFrameworkError'])],
    [
      2,
      (id) =>
        error(
          'payload not an object',
          JSON.stringify(
            call(
              id,
              random.pick(['Heartbeat', 'StatusNotification']),
              random.pick(['x', 7, null, [], [{}], true]),
            ),
          ),
          ['TypeConstraintViolation', 'FormatViolation'],
          [id],
        ),
    ],
    // Calls the CSMS does not serve.
    [
      3,
      (id) =>
        error(
          'unknown action',
          JSON.stringify(call(id, random.pick(UNKNOWN_ACTIONS), {})),
          ['NotImplemented'],
          [id],
        ),
    ],
    [
      4,
      (id) => {
        const action = random.pick(ONLY_16_CHARGE_POINT);
        return error(
          '1.6-only action',
          JSON.stringify(call(id, action, validRequest(action, now))),
          ['NotImplemented'],
          [id],
        );
      },
    ],
    [
      1,
      (id) =>
        error(
          '1.6-only CSMS action',
          JSON.stringify(call(id, random.pick(ONLY_16_CENTRAL_SYSTEM), {})),
          ['NotImplemented'],
          [id],
        ),
    ],
    [
      2,
      (id) =>
        error('CSMS action', JSON.stringify(call(id, random.pick(CSMS_ACTIONS), {})), ['NotSupported'], [id]),
    ],
    [
      3,
      (id) => {
        const action = random.pick(PAYLOADS_16);
        return error(
          `${action}: a 1.6 payload`,
          JSON.stringify(call(id, action, validRequest(action, now))),
          ['OccurrenceConstraintViolation', 'FormatViolation', 'TypeConstraintViolation'],
          [id],
        );
      },
    ],
    // Schema violations of the station's messages.
    [
      36,
      (id) => {
        const action = random.pick(STATION_ACTIONS);
        const broken = schemaViolation(random, action, now);
        return text(`${action}: ${broken.kind}`, JSON.stringify(call(id, action, broken.payload)), {
          reply: 'callError',
          ids: [id],
          codes: broken.codes,
          ...(broken.names === undefined ? {} : { names: broken.names }),
        });
      },
    ],
    [
      2,
      (id) => {
        // Heartbeat has no fields (FormatViolation); DataTransfer's data is any JSON (valid, however deep).
        if (random.chance(0.5))
          return error(
            'Heartbeat: deep nesting',
            `[2,"${id}","Heartbeat",${nested(random.int(100, 2000), 'object')}]`,
            ['FormatViolation'],
            [id],
          );
        const data = nested(random.int(100, 2000), random.pick(['array', 'object'] as const));
        const frame = `[2,"${id}","DataTransfer",{"vendorId":"v","data":${data}}]`;
        return text('DataTransfer: deep data', frame, { reply: 'callResult', id, call: JSON.parse(frame) });
      },
    ],
    // Transactions that make little sense, and meter values no double can hold.
    [8, oddTransactionEvent],
    [4, absurdMultiplier],
    // Answers to calls never made: not answered (4.2.2), logged.
    [
      2,
      (id) =>
        text(
          'unsolicited CALLRESULT',
          JSON.stringify([3, `no-such-call-${id}`, random.pick([{}, { status: 'Accepted' }, null])]),
          {
            reply: 'none',
            logged: true,
          },
        ),
    ],
    [
      2,
      (id) =>
        text(
          'unsolicited CALLERROR',
          JSON.stringify([
            4,
            `no-such-call-${id}`,
            random.pick(['GenericError', 'FormatViolation', 'Bogus']),
            'x',
            {},
          ]),
          { reply: 'none', logged: true },
        ),
    ],
    [1, () => text('empty frame', '', { reply: 'none', logged: false })],
    // Valid messages, so that the handlers run between the broken ones.
    [
      6,
      (id) => {
        const action = random.pick([
          'Heartbeat',
          'Authorize',
          'StatusNotification',
          'DataTransfer',
          'MeterValues',
          'SecurityEventNotification',
          'NotifyEvent',
          'NotifyReport',
          'FirmwareStatusNotification',
        ] as const);
        const frame = call(id, action, validRequest201(action, now));
        return text(`valid ${action}`, JSON.stringify(frame), { reply: 'callResult', id, call: frame });
      },
    ],
  ];
  const total = makers.reduce((sum, [weight]) => sum + weight, 0);

  return {
    survivable(index: number): Frame201 {
      const id = `f${index}`;
      let roll = random.float() * total;
      let frame: Frame201 | undefined;
      for (const [weight, make] of makers) {
        roll -= weight;
        if (roll < 0) {
          frame = make(id);
          break;
        }
      }
      frame ??= (makers[0] as [number, (id: string) => Frame201])[1](id);
      // ocpp-rpc reads binary frames as UTF-8 text: the same answers are due.
      if (frame.data !== '' && random.chance(0.1))
        return {
          ...frame,
          data: Buffer.from(frame.data),
          binary: true,
          kind: `${frame.kind} (binary frame)`,
        };
      return frame;
    },
  };
}

// ---- a raw 2.0.1 socket ------------------------------------------------------------------------

/** A raw WebSocket offering only ocpp2.0.1, to send what no OCPP library would; frames queued. */
class RawStation {
  private readonly received: string[] = [];
  private waiting: ((message: string | undefined) => void) | undefined;
  closed: { code: number; reason: string } | undefined;
  readonly whenClosed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message = data.toString();
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(message);
      else this.received.push(message);
    });
    this.whenClosed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString() };
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.(undefined);
        resolve(this.closed);
      });
    });
    ws.on('error', () => undefined); // reported through 'close'
  }

  static async open(url: string, identity: string): Promise<RawStation> {
    const ws = new WebSocket(`${url}${encodeURIComponent(identity)}`, ['ocpp2.0.1']);
    const station = new RawStation(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error(`${identity}: the handshake was refused`)));
      ws.once('error', reject);
    });
    if (ws.protocol !== 'ocpp2.0.1') throw new Error(`${identity}: got sub-protocol "${ws.protocol}"`);
    return station;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  next(timeoutMs = 5000): Promise<string> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error(`connection closed (${this.closed.code})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (message) => {
        clearTimeout(timer);
        if (message === undefined) reject(new Error(`connection closed (${this.closed?.code})`));
        else resolve(message);
      };
    });
  }

  /** Sends `frame` and returns the next frame received. */
  async ask(frame: string): Promise<string> {
    this.send(frame);
    return this.next();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.terminate();
    await this.whenClosed;
  }
}

// ---- checks ------------------------------------------------------------------------------------

function excerpt(data: string | Buffer): string {
  const text = data.toString();
  return text.length > 160 ? `${text.slice(0, 160)}… (${text.length} characters)` : text;
}

/** What is wrong with a CALLERROR as an answer with one of `codes` to one of `ids`; undefined if nothing. */
function callErrorProblem(text: string, ids: readonly string[], codes: readonly string[], names?: string) {
  const answer = JSON.parse(text) as unknown[];
  const [type, id, code, description, details] = answer;
  if (type !== 4 || answer.length !== 5 || typeof description !== 'string')
    return `answered ${text.slice(0, 300)}, not a CALLERROR [4, id, code, description, details]`;
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return `answered ${text.slice(0, 300)}: errorDetails is not a JSON object`;
  if (SPELT_AS_16.has(String(code)))
    return `answered ${JSON.stringify([type, id, code, description])}: ${String(code)} is 1.6's spelling, not 2.0.1's`;
  if (!KNOWN_CODES.has(String(code))) return `answered ${String(code)}, which is no OCPP-J 2.0.1 error code`;
  if (!ids.includes(String(id)) || !codes.includes(String(code)))
    return `answered ${JSON.stringify([type, id, code, description])}, expected [4, ${ids.map((i) => JSON.stringify(i)).join(' or ')}, ${codes.join(' or ')}]`;
  if (names && !description.includes(names))
    return `the description ${JSON.stringify(description)} does not name ${JSON.stringify(names)}`;
  return undefined;
}

async function check(
  station: RawStation,
  frame: Frame201,
  index: number,
  unreadableLogged: () => number,
): Promise<string | undefined> {
  const { expect } = frame;
  if (expect.reply === 'close') throw new Error('fatal frames go through the fatal lane');
  const loggedBefore = unreadableLogged();
  station.send(frame.data, frame.binary);
  if (expect.reply === 'none') {
    const probe = `probe-${index}`;
    const answer = JSON.parse(await station.ask(JSON.stringify([2, probe, 'Heartbeat', {}]))) as unknown[];
    if (answer[0] !== 3 || answer[1] !== probe)
      return `answered ${JSON.stringify(answer)}, expected no answer`;
    const logged = unreadableLogged() - loggedBefore;
    if (expect.logged && logged !== 1) return `logged ${logged} rejections, expected 1`;
    if (!expect.logged && logged !== 0) return `logged ${logged} rejections, expected none`;
    return undefined;
  }
  const text = await station.next();
  if (expect.reply === 'callError') return callErrorProblem(text, expect.ids, expect.codes, expect.names);
  const answer = JSON.parse(text) as unknown[];
  if (answer[0] === 4 && expect.reply === 'callResultOrError')
    return callErrorProblem(text, [expect.id], expect.codes);
  if (answer[0] !== 3 || answer[1] !== expect.id || answer.length !== 3)
    return `answered ${text.slice(0, 300)}, expected a CALLRESULT for ${expect.id}`;
  const problems = callResultProblems(expect.call, answer);
  return problems.length > 0
    ? `answered an invalid ${String(expect.call[2])}Response: ${problems.join('; ')}`
    : undefined;
}

/** Numbers in the central system's view that no meter, connector or session can have. */
function nonsenseNumbers(what: string, value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${what} ${path}: ${value}`];
  if (value === null) return [`${what} ${path}: null`];
  if (typeof value !== 'object' || value === undefined) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    nonsenseNumbers(what, inner, path ? `${path}.${key}` : key),
  );
}

async function allSessions(cs: CentralSystem) {
  const found = [];
  for await (const session of cs.sessions()) found.push(session);
  return found;
}

/** Well-behaved: boots, then session after session until told to stop (at least `least`). */
async function wellBehaved(
  charger: Charger201,
  stop: () => boolean,
  least: number,
  finished: { transactionId: string; startWh: number; stopWh: number }[],
  problems: string[],
): Promise<void> {
  try {
    const boot = await charger.boot();
    if (boot.status !== 'Accepted') problems.push(`boot ${boot.status}`);
    await charger.status(1, 'Available');
    let meterWh = 1000;
    while (!stop() || finished.length < least) {
      await charger.status(1, 'Occupied');
      const startWh = meterWh;
      const { transactionId, response } = await charger.startTransaction(1, 'GOOD-201', { meterWh });
      if (response.idTokenInfo?.status !== 'Accepted')
        problems.push(`TransactionEvent Started: idTokenInfo ${JSON.stringify(response.idTokenInfo)}`);
      await charger.meterValues(transactionId, { currentA: [16, 16, 16], energyWh: meterWh + 250 });
      meterWh += 500;
      await charger.stopTransaction(transactionId, { energyWh: meterWh });
      await charger.status(1, 'Available');
      finished.push({ transactionId, startWh, stopWh: meterWh });
      await charger.heartbeat();
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
}

// ---- tests -------------------------------------------------------------------------------------

describe('fuzzing the central system with malformed OCPP-J 2.0.1 frames', function () {
  this.timeout(120_000);
  const harness = useOcppHarness();
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((socket) => socket.close()));
  });

  async function open(cs: CentralSystem, identity: string): Promise<RawStation> {
    const station = await RawStation.open(`ws://127.0.0.1:${cs.port}/`, identity);
    opened.push(station);
    return station;
  }

  it(`answers ${FRAMES} broken 2.0.1 frames as OCPP-J 2.0.1 asks (seed ${SEED}), closes ${FATAL_FRAMES} connections that must close, and a 2.0.1 charger on another connection charges on`, async () => {
    const cs = await harness().centralSystem({ maxFrameBytes: MAX_FRAME_BYTES });
    const random = new Random(SEED);
    const generator = generator201(random);
    // Drawn up front, so a seed gives the same frames however the lanes interleave.
    const frames = Array.from({ length: FRAMES }, (_, index) => generator.survivable(index));
    // The frames a connection cannot survive are the same for every version (RFC 6455).
    const fatalFrames = frameGenerator(new Random(SEED + 1));
    const fatal = Array.from({ length: FATAL_FRAMES }, (_, index) =>
      fatalFrames.fatal(index, MAX_FRAME_BYTES),
    );

    const good = new Charger201({ url: `ws://127.0.0.1:${cs.port}/`, identity: 'GOOD-201' });
    opened.push(good);
    await good.connect();
    assert.equal(good.protocol, 'ocpp2.0.1');
    let fuzzing = true;
    const finished: { transactionId: string; startWh: number; stopWh: number }[] = [];
    const goodProblems: string[] = [];
    const goodRun = wellBehaved(good, () => !fuzzing, 3, finished, goodProblems);

    const mismatches: { index: number; kind: string; frame: string; problem: string }[] = [];
    const startedAt = Date.now();
    const lanes = Array.from({ length: LANES }, async (_, lane) => {
      const identity = `FUZZ201-${lane}`;
      const station = await open(cs, identity);
      const unreadable = new RegExp(`^charge point ${identity}: unreadable frame`);
      const unreadableLogged = () => harness().log.matching(unreadable, 'warn').length;
      for (let index = lane; index < frames.length; index += LANES) {
        const frame = frames[index] as Frame201;
        let problem: string | undefined;
        try {
          problem = await check(station, frame, index, unreadableLogged);
        } catch (err) {
          problem = (err as Error).message;
        }
        if (problem) mismatches.push({ index, kind: frame.kind, frame: excerpt(frame.data), problem });
        if (station.closed) {
          const closed = `closed the connection (${station.closed.code} ${station.closed.reason})`;
          mismatches.push({ index, kind: frame.kind, frame: excerpt(frame.data), problem: closed });
          return;
        }
      }
      const last = JSON.parse(await station.ask(JSON.stringify([2, 'last', 'Heartbeat', {}]))) as unknown[];
      assert.deepEqual(last.slice(0, 2), [3, 'last'], `${identity} is still answered`);
    });
    const fatalLane = (async () => {
      for (const [index, frame] of fatal.entries()) {
        const station = await open(cs, `FATAL201-${index}`);
        station.send(frame.data, frame.binary);
        const closed = await Promise.race([
          station.whenClosed,
          station.next().then((answer) => ({ code: -1, reason: `answered ${answer}` })),
        ]);
        const expected = frame.expect.reply === 'close' ? frame.expect.code : 0;
        if (closed.code !== expected)
          mismatches.push({
            index,
            kind: frame.kind,
            frame: excerpt(frame.data),
            problem: `closed with ${closed.code} ${closed.reason}, expected ${expected}`,
          });
      }
    })();
    await Promise.all([...lanes, fatalLane]);
    const fuzzMs = Date.now() - startedAt;
    fuzzing = false;
    await goodRun;

    const kinds = new Map<string, number>();
    for (const frame of frames) {
      const kind = frame.kind.replace(' (binary frame)', '');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    if (process.env.AMPFLOW_TEST_VERBOSE || mismatches.length > 0) {
      console.log(
        `    seed ${SEED}: ${FRAMES} frames + ${FATAL_FRAMES} fatal in ${fuzzMs} ms; ${finished.length} good sessions meanwhile`,
      );
      console.log('    kinds:', Object.fromEntries([...kinds].sort(([a], [b]) => a.localeCompare(b))));
    }
    assert.deepEqual(
      mismatches
        .sort((a, b) => a.index - b.index)
        .slice(0, 12)
        .map((m) => `#${m.index} ${m.kind}: ${m.problem}\n      frame: ${m.frame}`),
      [],
      `seed ${SEED}: ${mismatches.length} frames were not answered as OCPP-J 2.0.1 asks`,
    );

    // The well-behaved charger: served throughout, every session recorded once as it happened.
    assert.deepEqual(goodProblems, [], 'the well-behaved 2.0.1 charger was served throughout');
    assert.deepEqual(
      good.violations,
      [],
      'nothing the central system sent the 2.0.1 charger broke OCPP-J 2.0.1',
    );
    assert.ok(finished.length >= 3, `only ${finished.length} sessions of the well-behaved charger`);
    const sessions = await allSessions(cs);
    assert.deepEqual(
      sessions
        .filter((s) => s.chargePointId === 'GOOD-201')
        .map((s) => [s.chargerTransactionId, s.idTag, s.meterStartWh, s.meterStopWh, s.energyWh, s.anomaly]),
      finished.map((tx) => [
        tx.transactionId,
        'GOOD-201',
        tx.startWh,
        tx.stopWh,
        tx.stopWh - tx.startWh,
        undefined,
      ]),
      'every session of the well-behaved charger recorded once, with its energy, without anomaly',
    );
    assert.ok(cs.isConnected('GOOD-201'));

    // Nothing crashed, and nothing a broken frame said became a number no meter or connector has.
    assert.equal(cs.state, 'listening');
    assert.deepEqual(
      harness()
        .log.matching(/./, 'error')
        .map((line) => line.message),
      [],
      'no internal errors',
    );
    assert.deepEqual(
      cs.connectors
        .all()
        .filter((state) => !(state.connectorId >= 0 && Number.isSafeInteger(state.connectorId)))
        .map((state) => `${state.chargePointId} connector ${state.connectorId}`),
      [],
      'no connector with an id no EVSE has',
    );
    assert.deepEqual(
      [
        ...cs.connectors
          .all()
          .flatMap((state) =>
            nonsenseNumbers(`${state.chargePointId} connector ${state.connectorId}`, state),
          ),
        ...sessions.flatMap((s) =>
          nonsenseNumbers(`${s.chargePointId} session ${s.chargerTransactionId ?? s.transactionId}`, s),
        ),
      ].slice(0, 12),
      [],
      'no connector or session holds a number that is not finite',
    );
  });

  it('answers the frames named in the brief one by one: 1.6 actions, nonsense transactions, absurd multipliers', async () => {
    const cs = await harness().centralSystem();
    const station = await open(cs, 'NAMED-201');
    const now = new Date().toISOString();
    const boot = JSON.parse(
      await station.ask(
        JSON.stringify([2, 'boot', 'BootNotification', validRequest201('BootNotification', now)]),
      ),
    ) as unknown[];
    assert.equal((boot[2] as { status?: string }).status, 'Accepted');
    const started = (transactionId: string, more: Record<string, unknown> = {}) => ({
      eventType: 'Started',
      timestamp: now,
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId },
      evse: { id: 1, connectorId: 1 },
      idToken: { idToken: 'NAMED', type: 'ISO14443' },
      ...more,
    });
    const register = (value: number, multiplier: number, unit = 'Wh') => [
      {
        timestamp: now,
        sampledValue: [
          { value, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit, multiplier } },
        ],
      },
    ];
    const errors: [what: string, frame: unknown[], codes: Code201[]][] = [
      [
        'StartTransaction (1.6 only)',
        [2, 'a1', 'StartTransaction', validRequest('StartTransaction', now)],
        ['NotImplemented'],
      ],
      [
        'StopTransaction (1.6 only)',
        [2, 'a2', 'StopTransaction', validRequest('StopTransaction', now)],
        ['NotImplemented'],
      ],
      ['an unknown action', [2, 'a3', 'FlyToTheMoon', {}], ['NotImplemented']],
      ['a CSMS action', [2, 'a4', 'RequestStartTransaction', {}], ['NotSupported']],
      [
        'Authorize with a 1.6 idTag',
        [2, 'a5', 'Authorize', { idTag: 'X' }],
        ['OccurrenceConstraintViolation', 'FormatViolation'],
      ],
      [
        'BootNotification without chargingStation',
        [2, 'a6', 'BootNotification', { reason: 'PowerUp' }],
        ['OccurrenceConstraintViolation'],
      ],
      ['an unknown field', [2, 'a7', 'Heartbeat', { foo: 1 }], ['FormatViolation']],
      [
        'seqNo a string',
        [2, 'a8', 'TransactionEvent', started('N-1', { seqNo: '0' })],
        ['TypeConstraintViolation'],
      ],
      [
        'seqNo 1e300',
        [2, 'a9', 'TransactionEvent', started('N-2', { seqNo: 1e300 })],
        ['PropertyConstraintViolation', 'TypeConstraintViolation'],
      ],
      [
        'transactionId of 37 characters',
        [2, 'a10', 'TransactionEvent', started('x'.repeat(37))],
        ['PropertyConstraintViolation'],
      ],
      [
        'transactionId a number',
        [2, 'a11', 'TransactionEvent', started('N-3', { transactionInfo: { transactionId: 7 } })],
        ['TypeConstraintViolation'],
      ],
      [
        'evse.id 0',
        [2, 'a12', 'TransactionEvent', started('N-4', { evse: { id: 0 } })],
        ['PropertyConstraintViolation'],
      ],
      [
        'evse.id -1',
        [2, 'a13', 'TransactionEvent', started('N-5', { evse: { id: -1 } })],
        ['PropertyConstraintViolation'],
      ],
      [
        'evse.id 1e300',
        [2, 'a14', 'TransactionEvent', started('N-6', { evse: { id: 1e300 } })],
        ['PropertyConstraintViolation', 'TypeConstraintViolation'],
      ],
      [
        'evse without id',
        [2, 'a15', 'TransactionEvent', started('N-7', { evse: { connectorId: 1 } })],
        ['OccurrenceConstraintViolation'],
      ],
      [
        'StatusNotification on EVSE 0',
        [
          2,
          'a16',
          'StatusNotification',
          { timestamp: now, connectorStatus: 'Available', evseId: 0, connectorId: 1 },
        ],
        ['PropertyConstraintViolation'],
      ],
      [
        'MeterValues on EVSE -1',
        [2, 'a17', 'MeterValues', { evseId: -1, meterValue: register(5, 0) }],
        ['PropertyConstraintViolation'],
      ],
      [
        'multiplier 1.5',
        [2, 'a18', 'MeterValues', { evseId: 1, meterValue: register(5, 1.5) }],
        ['TypeConstraintViolation'],
      ],
      [
        'multiplier 1e300',
        [2, 'a19', 'MeterValues', { evseId: 1, meterValue: register(5, 1e300) }],
        ['PropertyConstraintViolation', 'TypeConstraintViolation'],
      ],
      [
        'no sampled value',
        [2, 'a20', 'MeterValues', { evseId: 1, meterValue: [{ timestamp: now, sampledValue: [] }] }],
        ['OccurrenceConstraintViolation'],
      ],
    ];
    const problems: string[] = [];
    for (const [what, frame, codes] of errors) {
      const text = await station.ask(JSON.stringify(frame));
      const problem = callErrorProblem(text, [String(frame[1])], codes);
      if (problem) problems.push(`${what}: ${JSON.stringify(frame).slice(0, 200)}\n      ${problem}`);
    }
    // Valid by the schema, odd: answered, and recorded as well as it can be (no number no meter has).
    const odd: [what: string, frame: unknown[], codes: Code201[]][] = [
      [
        'Updated of a transaction never started',
        [2, 'b1', 'TransactionEvent', { ...started('N-8'), eventType: 'Updated', seqNo: 5 }],
        [],
      ],
      [
        'a seqNo going back',
        [2, 'b2', 'TransactionEvent', { ...started('N-8'), eventType: 'Updated', seqNo: 2 }],
        [],
      ],
      ['a negative seqNo', [2, 'b3', 'TransactionEvent', { ...started('N-9'), seqNo: -7 }], []],
      ['an empty transactionId', [2, 'b4', 'TransactionEvent', started('')], []],
      [
        'Ended of a transaction never started',
        [2, 'b5', 'TransactionEvent', { ...started('N-10'), eventType: 'Ended', idToken: undefined }],
        [],
      ],
      [
        'a start register 5 x 10^400 Wh',
        [2, 'b6', 'TransactionEvent', started('N-11', { evse: { id: 2 }, meterValue: register(5, 400) })],
        ['PropertyConstraintViolation'],
      ],
      [
        'its end register 9 Wh',
        [
          2,
          'b7',
          'TransactionEvent',
          {
            ...started('N-11', { evse: { id: 2 }, meterValue: register(9, 0) }),
            eventType: 'Ended',
            seqNo: 1,
          },
        ],
        ['PropertyConstraintViolation'],
      ],
      [
        'a start register 5 Wh',
        [2, 'b8', 'TransactionEvent', started('N-12', { evse: { id: 3 }, meterValue: register(5, 0) })],
        [],
      ],
      [
        'its end register 1 x 10^400 kWh',
        [
          2,
          'b9',
          'TransactionEvent',
          {
            ...started('N-12', { evse: { id: 3 }, meterValue: register(1, 400, 'kWh') }),
            eventType: 'Ended',
            seqNo: 1,
          },
        ],
        ['PropertyConstraintViolation'],
      ],
      [
        'a register 1 x 10^-400 kWh',
        [2, 'b10', 'MeterValues', { evseId: 1, meterValue: register(1, -400, 'kWh') }],
        ['PropertyConstraintViolation'],
      ],
      [
        'a register 1 x 10^(2^31-1) Wh',
        [2, 'b11', 'MeterValues', { evseId: 1, meterValue: register(1, 2 ** 31 - 1) }],
        ['PropertyConstraintViolation'],
      ],
    ];
    for (const [what, frame, codes] of odd) {
      const text = await station.ask(JSON.stringify(frame));
      const answer = JSON.parse(text) as unknown[];
      const problem =
        answer[0] === 4 && codes.length > 0
          ? callErrorProblem(text, [String(frame[1])], codes)
          : answer[0] !== 3 || answer[1] !== frame[1]
            ? `answered ${text.slice(0, 300)}, expected a CALLRESULT`
            : callResultProblems(JSON.parse(JSON.stringify(frame)), answer).join('; ') || undefined;
      if (problem) problems.push(`${what}: ${JSON.stringify(frame).slice(0, 200)}\n      ${problem}`);
    }
    const sessions = (await allSessions(cs)).filter((s) => s.chargePointId === 'NAMED-201');
    const state = [
      ...cs.connectors
        .all()
        .filter((c) => c.chargePointId === 'NAMED-201')
        .flatMap((c) => [
          ...(c.connectorId >= 0 && Number.isSafeInteger(c.connectorId)
            ? []
            : [`connector ${c.connectorId} exists`]),
          ...nonsenseNumbers(`connector ${c.connectorId}`, c),
        ]),
      ...sessions.flatMap((s) => nonsenseNumbers(`session ${JSON.stringify(s.chargerTransactionId)}`, s)),
    ];
    assert.deepEqual([...problems, ...state], [], 'answered as OCPP-J 2.0.1 asks, and no nonsense kept');
    assert.deepEqual(
      harness()
        .log.matching(/./, 'error')
        .map((line) => line.message),
      [],
      'no internal errors',
    );
    const last = JSON.parse(await station.ask(JSON.stringify([2, 'last', 'Heartbeat', {}]))) as unknown[];
    assert.deepEqual(last.slice(0, 2), [3, 'last'], 'still served');
  });
});
