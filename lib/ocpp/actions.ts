import type { OcppAction } from './messages';

// Which OCPP actions go which way (OCPP 1.6 edition 2 plus the security whitepaper): lists of the
// spec's names, alike in shape with each other and with other such lists on purpose.

/** Actions a charge point sends to the central system (OCPP 1.6 plus the security extension). */
export const CHARGE_POINT_ACTIONS = [
  'Authorize',
  'BootNotification',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StartTransaction',
  'StatusNotification',
  'StopTransaction',
  'SecurityEventNotification',
  'SignCertificate',
  'LogStatusNotification',
  'SignedFirmwareStatusNotification',
] as const satisfies readonly OcppAction[];
export type ChargePointAction = (typeof CHARGE_POINT_ACTIONS)[number];

/** Actions the central system sends to a charge point. */
export const CENTRAL_SYSTEM_ACTIONS = [
  'CancelReservation',
  'ChangeAvailability',
  'ChangeConfiguration',
  'ClearCache',
  'ClearChargingProfile',
  'DataTransfer',
  'GetCompositeSchedule',
  'GetConfiguration',
  'GetDiagnostics',
  'GetLocalListVersion',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ReserveNow',
  'Reset',
  'SendLocalList',
  'SetChargingProfile',
  'TriggerMessage',
  'UnlockConnector',
  'UpdateFirmware',
  'ExtendedTriggerMessage',
  'CertificateSigned',
  'InstallCertificate',
  'DeleteCertificate',
  'GetInstalledCertificateIds',
  'GetLog',
  'SignedUpdateFirmware',
] as const satisfies readonly OcppAction[];
export type CentralSystemAction = (typeof CENTRAL_SYSTEM_ACTIONS)[number];

const centralSystemActions = new Set<string>(CENTRAL_SYSTEM_ACTIONS);

export function isCentralSystemAction(action: string): action is CentralSystemAction {
  return centralSystemActions.has(action);
}
