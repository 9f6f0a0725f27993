/**
 * OCPP 1.6 configuration keys and the OCPP 2.0.1 device-model variables that hold the same setting
 * (OCPP 2.0.1 part 2, appendix 3 "Standardized Components and Variables"; the migration table in
 * part 0). The central system reads and changes a 2.0.1 charger's settings through these, so the
 * rooms that ask for `MeterValueSampleInterval` or `ChargingScheduleAllowedChargingRateUnit` get the
 * same answer from either version.
 */
export interface DeviceVariable {
  component: string;
  variable: string;
}

export const KEY_VARIABLES: Readonly<Record<string, DeviceVariable>> = {
  HeartbeatInterval: { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval' },
  MeterValueSampleInterval: { component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval' },
  MeterValuesSampledData: { component: 'SampledDataCtrlr', variable: 'TxUpdatedMeasurands' },
  StopTxnSampledData: { component: 'SampledDataCtrlr', variable: 'TxEndedMeasurands' },
  ClockAlignedDataInterval: { component: 'AlignedDataCtrlr', variable: 'Interval' },
  MeterValuesAlignedData: { component: 'AlignedDataCtrlr', variable: 'Measurands' },
  ConnectionTimeOut: { component: 'TxCtrlr', variable: 'EVConnectionTimeOut' },
  StopTransactionOnEVSideDisconnect: { component: 'TxCtrlr', variable: 'StopTxOnEVSideDisconnect' },
  LocalAuthorizeOffline: { component: 'AuthCtrlr', variable: 'LocalAuthorizeOffline' },
  LocalPreAuthorize: { component: 'AuthCtrlr', variable: 'LocalPreAuthorize' },
  AuthorizeRemoteTxRequests: { component: 'AuthCtrlr', variable: 'AuthorizeRemoteStart' },
  LocalAuthListEnabled: { component: 'LocalAuthListCtrlr', variable: 'Enabled' },
  SendLocalListMaxLength: { component: 'LocalAuthListCtrlr', variable: 'ItemsPerMessage' },
  LocalAuthListMaxLength: { component: 'LocalAuthListCtrlr', variable: 'Entries' },
  ChargeProfileMaxStackLevel: { component: 'SmartChargingCtrlr', variable: 'ProfileStackLevel' },
  ChargingScheduleAllowedChargingRateUnit: { component: 'SmartChargingCtrlr', variable: 'RateUnit' },
  ChargingScheduleMaxPeriods: { component: 'SmartChargingCtrlr', variable: 'PeriodsPerSchedule' },
  MaxChargingProfilesInstalled: { component: 'SmartChargingCtrlr', variable: 'Entries' },
  ConnectorSwitch3to1PhaseSupported: { component: 'SmartChargingCtrlr', variable: 'Phases3to1' },
  TransactionMessageAttempts: { component: 'OCPPCommCtrlr', variable: 'MessageAttempts' },
  TransactionMessageRetryInterval: { component: 'OCPPCommCtrlr', variable: 'MessageAttemptInterval' },
  WebSocketPingInterval: { component: 'OCPPCommCtrlr', variable: 'WebSocketPingInterval' },
  ResetRetries: { component: 'OCPPCommCtrlr', variable: 'ResetRetries' },
  AuthorizationKey: { component: 'SecurityCtrlr', variable: 'BasicAuthPassword' },
  SecurityProfile: { component: 'SecurityCtrlr', variable: 'SecurityProfile' },
  CpoName: { component: 'SecurityCtrlr', variable: 'OrganizationName' },
};

const READ_KEYS = Object.keys(KEY_VARIABLES).filter((key) => key !== 'AuthorizationKey');

/** The keys a GetConfiguration without keys reads (every mapped one but the write-only password). */
export function readableKeys(): string[] {
  return READ_KEYS;
}

/** The key of a device variable, for a reply to report it by. */
export function keyOf(component: string, variable: string): string | undefined {
  for (const [key, place] of Object.entries(KEY_VARIABLES))
    if (place.component === component && place.variable === variable) return key;
  return undefined;
}

/** RateUnit's values: 2.0.1 says `A,W` where 1.6 says `Current,Power`. */
const UNITS_16: Record<string, string> = { A: 'Current', W: 'Power' };
const UNITS_201: Record<string, string> = { Current: 'A', Power: 'W' };

/** A 2.0.1 value in the 1.6 form the rooms read (both separate list items with commas). */
export function valueTo16(key: string, value: string): string {
  return renameUnits(key, value, UNITS_16);
}

/** A 1.6 value as 2.0.1 writes it (the reverse of valueTo16). */
export function valueTo201(key: string, value: string): string {
  return renameUnits(key, value, UNITS_201);
}

function renameUnits(key: string, value: string, names: Record<string, string>): string {
  if (key !== 'ChargingScheduleAllowedChargingRateUnit') return value;
  return value
    .split(',')
    .map((unit) => names[unit.trim()] ?? unit.trim())
    .join(',');
}
