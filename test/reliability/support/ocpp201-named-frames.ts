import { validRequest } from './ocpp-frames';
import type { Code201 } from './ocpp201-violations';

/**
 * The frames the 2.0.1 fuzzer's brief named, sent one by one on a booted connection: `errors` must
 * each get a CALLERROR with one of its codes; `odd` are valid by the schema but make little sense,
 * answered with a CALLRESULT (or, where its codes allow, a CALLERROR) and recorded without a number
 * no meter has.
 */
export type NamedFrame = [what: string, frame: unknown[], codes: Code201[]];

export function namedFrames(now: string): { errors: NamedFrame[]; odd: NamedFrame[] } {
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
  const errors: NamedFrame[] = [
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
  const odd: NamedFrame[] = [
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
  return { errors, odd };
}
