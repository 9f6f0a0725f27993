import { createValidator } from 'ocpp-rpc';
import { thrownViolation, unsafeIntegerViolation, type Violation } from '../v16/validation';
import { OCA_OCPP201_SCHEMAS } from './oca-schemas';

/** The OCPP-J sub-protocol of OCPP 2.0.1. */
export const OCPP201 = 'ocpp2.0.1';

/** Actions an OCPP 2.0.1 charging station sends to its CSMS (OCPP 2.0.1 part 2). */
export const STATION_ACTIONS_201 = [
  'Authorize',
  'BootNotification',
  'ClearedChargingLimit',
  'DataTransfer',
  'FirmwareStatusNotification',
  'Get15118EVCertificate',
  'GetCertificateStatus',
  'Heartbeat',
  'LogStatusNotification',
  'MeterValues',
  'NotifyChargingLimit',
  'NotifyCustomerInformation',
  'NotifyDisplayMessages',
  'NotifyEVChargingNeeds',
  'NotifyEVChargingSchedule',
  'NotifyEvent',
  'NotifyMonitoringReport',
  'NotifyReport',
  'PublishFirmwareStatusNotification',
  'ReportChargingProfiles',
  'ReservationStatusUpdate',
  'SecurityEventNotification',
  'SignCertificate',
  'StatusNotification',
  'TransactionEvent',
] as const;
export type StationAction201 = (typeof STATION_ACTIONS_201)[number];

/** Actions the CSMS sends to an OCPP 2.0.1 charging station. */
export const CSMS_ACTIONS_201 = [
  'CancelReservation',
  'CertificateSigned',
  'ChangeAvailability',
  'ClearCache',
  'ClearChargingProfile',
  'ClearDisplayMessage',
  'ClearVariableMonitoring',
  'CostUpdated',
  'CustomerInformation',
  'DataTransfer',
  'DeleteCertificate',
  'GetBaseReport',
  'GetChargingProfiles',
  'GetCompositeSchedule',
  'GetDisplayMessages',
  'GetInstalledCertificateIds',
  'GetLocalListVersion',
  'GetLog',
  'GetMonitoringReport',
  'GetReport',
  'GetTransactionStatus',
  'GetVariables',
  'InstallCertificate',
  'PublishFirmware',
  'RequestStartTransaction',
  'RequestStopTransaction',
  'ReserveNow',
  'Reset',
  'SendLocalList',
  'SetChargingProfile',
  'SetDisplayMessage',
  'SetMonitoringBase',
  'SetMonitoringLevel',
  'SetNetworkProfile',
  'SetVariableMonitoring',
  'SetVariables',
  'TriggerMessage',
  'UnlockConnector',
  'UnpublishFirmware',
  'UpdateFirmware',
] as const;
export type CsmsAction201 = (typeof CSMS_ACTIONS_201)[number];

const stationActions = new Set<string>(STATION_ACTIONS_201);
const csmsActions = new Set<string>(CSMS_ACTIONS_201);

export function isStationAction201(action: string): action is StationAction201 {
  return stationActions.has(action);
}

export function isCsmsAction201(action: string): action is CsmsAction201 {
  return csmsActions.has(action);
}

/**
 * The 2.0.1 validator: ocpp-rpc's public `createValidator` (the one its strict mode builds, with its
 * multipleOf that tolerates floating point) over the package's copy of the OCA schemas; Ajv compiles
 * a schema the first time an action is checked.
 */
const VALIDATOR_201 = createValidator(OCPP201, [...OCA_OCPP201_SCHEMAS]);

/**
 * Checks a 2.0.1 payload against its schema; undefined when valid. The violation's error code is
 * spelt as 1.6 spells it (the connection of a 2.0.1 charger puts the wire spelling right).
 */
export function findViolation201(
  action: string,
  kind: 'request' | 'response',
  payload: unknown,
): Violation | undefined {
  try {
    VALIDATOR_201.validate(`urn:${action}.${kind === 'request' ? 'req' : 'conf'}`, payload);
  } catch (err) {
    return thrownViolation(action, kind, err);
  }
  return (
    unsafeIntegerViolation(action, kind, payload) ??
    evseViolation(action, kind, payload) ??
    readingViolation(action, kind, payload)
  );
}

/**
 * What the schemas cannot say: the EVSE of a connector's status or of a transaction is one of the
 * charger's EVSEs, numbered from 1; meter values may also be the station's own (EVSE 0; OCPP 2.0.1
 * part 1, 2.2).
 */
const EVSE_PLACES: Record<string, { field: string; least: number; of(request: EvseRequest): unknown }> = {
  StatusNotification: { field: 'evseId', least: 1, of: (request) => request.evseId },
  TransactionEvent: { field: 'evse.id', least: 1, of: (request) => request.evse?.id },
  MeterValues: { field: 'evseId', least: 0, of: (request) => request.evseId },
};

interface EvseRequest {
  evseId?: unknown;
  evse?: { id?: unknown };
}

function evseViolation(
  action: string,
  kind: 'request' | 'response',
  payload: unknown,
): Violation | undefined {
  const place = kind === 'request' ? EVSE_PLACES[action] : undefined;
  const evseId = place?.of(payload as EvseRequest);
  if (!place || typeof evseId !== 'number' || evseId >= place.least) return undefined;
  const bound = place.least === 1 ? '> 0' : '>= 0';
  return {
    action,
    kind,
    errorCode: 'PropertyConstraintViolation',
    summary: `${place.field}: must be ${bound}`,
  };
}

/**
 * A sampled value is `value` × 10^`multiplier`: one that is no finite number (a multiplier of 400)
 * is no reading, and it would end as an infinite meter start or energy in a charge data record.
 */
function readingViolation(
  action: string,
  kind: 'request' | 'response',
  payload: unknown,
): Violation | undefined {
  if (kind !== 'request' || (action !== 'MeterValues' && action !== 'TransactionEvent')) return undefined;
  const values = (payload as { meterValue?: { sampledValue: SampledValue[] }[] }).meterValue ?? [];
  for (const [i, meterValue] of values.entries())
    for (const [j, sampled] of meterValue.sampledValue.entries()) {
      if (Number.isFinite(sampled.value * 10 ** (sampled.unitOfMeasure?.multiplier ?? 0))) continue;
      return {
        action,
        kind,
        errorCode: 'PropertyConstraintViolation',
        summary: `meterValue[${i}].sampledValue[${j}]: value × 10^multiplier is not a finite number`,
      };
    }
  return undefined;
}

interface SampledValue {
  value: number;
  unitOfMeasure?: { multiplier?: number };
}

/**
 * CallError codes as OCPP-J 2.0.1 spells them (section 4.3): the 1.6 names the central system
 * uses inside put right on the wire.
 */
export const OCPP201_ERROR_CODES: Record<string, string> = {
  FormationViolation: 'FormatViolation',
  OccurenceConstraintViolation: 'OccurrenceConstraintViolation',
};
