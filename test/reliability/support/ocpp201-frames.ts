import { OCPP20 } from 'typed-ocpp';
import type { CsmsAction201 } from '../../../lib/ocpp/v201/schemas';
import { malformed, nested, unanswered, VALID_BETWEEN, validRequest, weightedFrames } from './ocpp-frames';
import { typedOcppProblems } from './ocpp201-checks';
import { FUZZED_ACTIONS_201, sampled, validRequest201 } from './ocpp201-requests';
import { type Code201, schemaViolation201 } from './ocpp201-violations';
import type { Random } from './random';

/**
 * Frames for the OCPP fuzzer's 2.0.1 run (fuzz-ocpp_spec.ts), each with the answer OCPP-J 2.0.1
 * (part 4, sections 4.2-4.4) asks of a CSMS: a frame that is no RPC message an RpcFrameworkError, an
 * unknown message type MessageTypeNotSupported, an action 2.0.1 does not have NotImplemented, a
 * CSMS action NotSupported, a schema violation the codes of ocpp201-violations.ts. The frames that
 * are no message at all are drawn as for 1.6 (ocpp-frames.ts), answered as 2.0.1 answers them.
 */

export type Expectation201 =
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

export interface Frame201 {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  expect: Expectation201;
}

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
] satisfies CsmsAction201[];

/** 1.6 payloads under the 2.0.1 actions of the same name: several violations at once. */
const PAYLOADS_16 = ['Authorize', 'BootNotification', 'StatusNotification', 'MeterValues'] as const;

/** Multipliers (powers of ten) that no meter has and no double survives. */
const ABSURD_MULTIPLIERS = [308, 309, 400, -400, 2 ** 31 - 1, -(2 ** 31), 1000];

export function generator201(random: Random) {
  const now = new Date().toISOString();
  const text = (kind: string, data: string, expect: Expectation201): Frame201 => ({
    kind,
    data,
    binary: false,
    expect,
  });
  const error = (kind: string, data: string, codes: readonly Code201[], ids: readonly string[] = ['-1']) =>
    text(kind, data, { reply: 'callError', ids, codes });
  const call = (id: string, action: string, payload: unknown) => [2, id, action, payload];

  // The fixtures are valid, or the expectations built on them mean nothing.
  for (const action of FUZZED_ACTIONS_201) {
    const frame = call('self-check', action, validRequest201(action, now));
    const problems = typedOcppProblems(frame, OCPP20.validateCall, () => OCPP20.validateCall.errors);
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

  const bad = malformed(random);
  const RPC: readonly Code201[] = ['RpcFrameworkError'];
  const makers: [weight: number, make: (id: string) => Frame201][] = [
    // OCPP-J 2.0.1 4.2.3 / 4.3: what is not a valid RPC request is an RpcFrameworkError ("-1": no id read).
    [5, (id) => error('truncated JSON', bad.truncated(id), RPC)],
    [3, () => error('not JSON', bad.noise(), RPC)],
    [2, () => error('not an array', bad.notAnArray(), RPC)],
    [2, (id) => error('message type not a number', bad.typeNotANumber(id), RPC)],
    // 4.4: a message type it does not know is answered MessageTypeNotSupported (OCPP 2.1's 5 and 6 too).
    [3, (id) => error('unknown message type', bad.unknownType(id), ['MessageTypeNotSupported'], ['-1', id])],
    [2, () => error('message id not a string', bad.idNotAString(), RPC)],
    [2, (id) => error('action not a string', bad.actionNotAString(id), RPC, [id])],
    [2, (id) => error('too short', bad.tooShort(`[2,"${id}"]`), RPC, ['-1', id])],
    [1, () => error('nested arrays', bad.nestedArrays(), RPC)],
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
        const action = random.pick(FUZZED_ACTIONS_201);
        const broken = schemaViolation201(random, action, now);
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
    ...unanswered(random, 2, ['GenericError', 'FormatViolation', 'Bogus']),
    // Valid messages, so that the handlers run between the broken ones.
    [
      6,
      (id) => {
        const action = random.pick([
          ...VALID_BETWEEN,
          'NotifyEvent',
          'NotifyReport',
          'FirmwareStatusNotification',
        ] as const);
        const frame = call(id, action, validRequest201(action, now));
        return text(`valid ${action}`, JSON.stringify(frame), { reply: 'callResult', id, call: frame });
      },
    ],
  ];
  return { survivable: weightedFrames(random, makers) };
}
