import { STATION_ACTIONS_201, type StationAction201 } from '../../../lib/ocpp/v201/schemas';

/**
 * Valid OCPP 2.0.1 requests of a charging station, each with most of its optional fields, for the
 * 2.0.1 fuzzer to break (ocpp201-frames.ts). Fresh objects on every call: the fuzzer edits them.
 */

/** A sampled energy register reading. */
export function sampled(value: number, extra: Record<string, unknown> = {}) {
  return {
    value,
    context: 'Sample.Periodic',
    measurand: 'Energy.Active.Import.Register',
    location: 'Outlet',
    unitOfMeasure: { unit: 'Wh', multiplier: 0 },
    ...extra,
  };
}

const idToken = () => ({
  idToken: 'FUZZ-TAG',
  type: 'ISO14443',
  additionalInfo: [{ additionalIdToken: 'extra', type: 'x' }],
});

const REQUESTS: Partial<Record<StationAction201, (now: string) => Record<string, unknown>>> = {
  Authorize: () => ({
    idToken: idToken(),
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
  }),
  BootNotification: () => ({
    reason: 'PowerUp',
    chargingStation: {
      serialNumber: 'S-1',
      model: 'fuzz',
      vendorName: 'ampflow',
      firmwareVersion: '1.0',
      modem: { iccid: '1', imsi: '2' },
    },
  }),
  ClearedChargingLimit: () => ({ chargingLimitSource: 'EMS', evseId: 1 }),
  DataTransfer: () => ({ vendorId: 'ampflow', messageId: 'fuzz', data: 'x' }),
  FirmwareStatusNotification: () => ({ status: 'Downloaded', requestId: 1 }),
  Heartbeat: () => ({}),
  LogStatusNotification: () => ({ status: 'Uploaded', requestId: 1 }),
  MeterValues: (now) => ({ evseId: 1, meterValue: [{ timestamp: now, sampledValue: [sampled(1200)] }] }),
  NotifyEvent: (now) => ({
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
  }),
  NotifyReport: (now) => ({
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
  }),
  ReservationStatusUpdate: () => ({ reservationId: 1, reservationUpdateStatus: 'Expired' }),
  SecurityEventNotification: (now) => ({ type: 'StartupOfTheDevice', timestamp: now, techInfo: 't' }),
  SignCertificate: () => ({ csr: 'x', certificateType: 'ChargingStationCertificate' }),
  StatusNotification: (now) => ({ timestamp: now, connectorStatus: 'Available', evseId: 1, connectorId: 1 }),
  TransactionEvent: (now) => ({
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
    idToken: idToken(),
    meterValue: [{ timestamp: now, sampledValue: [sampled(1200)] }],
  }),
};

/** The station actions the fuzzer breaks: those of lib/ocpp/v201/schemas.ts with a request here. */
export const FUZZED_ACTIONS_201 = STATION_ACTIONS_201.filter((action) => action in REQUESTS);
export type FuzzedAction201 = (typeof FUZZED_ACTIONS_201)[number];

export function validRequest201(action: FuzzedAction201, now: string): Record<string, unknown> {
  const make = REQUESTS[action];
  if (!make) throw new Error(`no valid ${action} request`);
  return make(now);
}
