import { PHASE_ROTATIONS } from '../phase-rotation';

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
  /** The variable's instance, where appendix 3 names one (MessageAttempts of TransactionEvent). */
  instance?: string;
  /**
   * ReadOnly in appendix 3: GetConfiguration reports the key readonly, as 1.6 does. GetVariables
   * does not say a variable's mutability (only a NotifyReport does, which the central system does
   * not keep), so the standard's is taken.
   */
  readOnly?: true;
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
  SendLocalListMaxLength: { component: 'LocalAuthListCtrlr', variable: 'ItemsPerMessage', readOnly: true },
  LocalAuthListMaxLength: { component: 'LocalAuthListCtrlr', variable: 'Entries', readOnly: true },
  ChargeProfileMaxStackLevel: {
    component: 'SmartChargingCtrlr',
    variable: 'ProfileStackLevel',
    readOnly: true,
  },
  ChargingScheduleAllowedChargingRateUnit: {
    component: 'SmartChargingCtrlr',
    variable: 'RateUnit',
    readOnly: true,
  },
  ChargingScheduleMaxPeriods: {
    component: 'SmartChargingCtrlr',
    variable: 'PeriodsPerSchedule',
    readOnly: true,
  },
  MaxChargingProfilesInstalled: { component: 'SmartChargingCtrlr', variable: 'Entries', readOnly: true },
  ConnectorSwitch3to1PhaseSupported: {
    component: 'SmartChargingCtrlr',
    variable: 'Phases3to1',
    readOnly: true,
  },
  TransactionMessageAttempts: {
    component: 'OCPPCommCtrlr',
    variable: 'MessageAttempts',
    instance: 'TransactionEvent',
  },
  TransactionMessageRetryInterval: {
    component: 'OCPPCommCtrlr',
    variable: 'MessageAttemptInterval',
    instance: 'TransactionEvent',
  },
  WebSocketPingInterval: { component: 'OCPPCommCtrlr', variable: 'WebSocketPingInterval' },
  ResetRetries: { component: 'OCPPCommCtrlr', variable: 'ResetRetries' },
  AuthorizationKey: { component: 'SecurityCtrlr', variable: 'BasicAuthPassword' },
  // 2.0.1 changes the security profile with SetNetworkProfile (A05), not with the variable.
  SecurityProfile: { component: 'SecurityCtrlr', variable: 'SecurityProfile', readOnly: true },
  CpoName: { component: 'SecurityCtrlr', variable: 'OrganizationName' },
};

/**
 * 1.6 keys no one 2.0.1 variable holds, answered from several (see `synthesise`): what a
 * capability discovery reads of every 1.6 charger. Read-only, as 1.6 has the first and the last;
 * ConnectorPhaseRotation, writable in 1.6, is made of one variable per component, each relative to
 * its parent, so it is read here and written, if ever, in 2.0.1's own words (SetVariables).
 */
const SYNTHESISED_KEYS = ['SupportedFeatureProfiles', 'ConnectorPhaseRotation', 'NumberOfConnectors'];

/**
 * The EVSEs probed for ConnectorPhaseRotation and NumberOfConnectors: 1 to 8. 2.0.1 numbers EVSEs
 * from 1 without gaps and has no variable with their count, so the count is the EVSEs the charger
 * knows (any answer but UnknownComponent) before the first it does not; a station with more than 8
 * reads as 8. Bounded because the probe goes with the rest of a configuration read (split by the
 * station's DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage[GetVariables], variable-reads.ts).
 */
export const MAX_EVSES = 8;

const READ_KEYS = [
  ...Object.keys(KEY_VARIABLES).filter((key) => key !== 'AuthorizationKey'),
  ...SYNTHESISED_KEYS,
];

/**
 * The keys a GetConfiguration without keys reads: every mapped one but the write-only password, and
 * the synthesised ones (a full read tells the charging-profile manager what the charger can do).
 */
export function readableKeys(): string[] {
  return READ_KEYS;
}

/** The 1.6 key a device variable holds, if any; names in any letter case (CiString50). */
export function keyOf(component: string, variable: string): string | undefined {
  const [wantedComponent, wantedVariable] = [component.toLowerCase(), variable.toLowerCase()];
  for (const [key, place] of Object.entries(KEY_VARIABLES))
    if (place.component.toLowerCase() === wantedComponent && place.variable.toLowerCase() === wantedVariable)
      return key;
  return undefined;
}

export function isSynthesised(key: string): boolean {
  return SYNTHESISED_KEYS.includes(key);
}

/** A GetVariables item: a component (an EVSE's with its id) and a variable. */
export interface VariableAddress {
  component: { name: string; evse?: { id: number } };
  variable: { name: string; instance?: string };
}

/** What the charger answered for one item. */
export interface VariableResult {
  attributeStatus: string;
  attributeValue?: string;
}

export type Lookup = (address: VariableAddress) => VariableResult | undefined;

/** The GetVariables item of a mapped key's variable. */
export function addressOf(place: DeviceVariable): VariableAddress {
  return {
    component: { name: place.component },
    variable: { name: place.variable, ...(place.instance === undefined ? {} : { instance: place.instance }) },
  };
}

/** An item's identity, for matching results with what was asked (names are case-insensitive). */
export function addressId(address: VariableAddress): string {
  const { component, variable } = address;
  const evse = component.evse === undefined ? '' : `#${component.evse.id}`;
  const instance = variable.instance === undefined ? '' : `[${variable.instance}]`;
  return `${component.name}${evse}.${variable.name}${instance}`.toLowerCase();
}

const controller = (component: string, variable: string): VariableAddress => ({
  component: { name: component },
  variable: { name: variable },
});
const evseVariable = (id: number, variable: string): VariableAddress => ({
  component: { name: 'EVSE', evse: { id } },
  variable: { name: variable },
});
const STATION_ROTATION = controller('ChargingStation', 'PhaseRotation');

/**
 * The 1.6 feature profiles and the 2.0.1 controller that says whether the station has each.
 * Without one, the profile is every 2.0.1 station's: Core; FirmwareManagement (UpdateFirmware,
 * block L) and RemoteTrigger (TriggerMessage, F06) are part of 2.0.1's Core. `enabled`: the
 * controller's Enabled counts too (1.6 has no switch for SmartCharging or Reservation: a charger
 * that lists them takes their messages); LocalAuthListCtrlr.Enabled is 1.6's LocalAuthListEnabled,
 * a key of its own, and says nothing about the profile.
 */
const FEATURE_PROFILES: readonly { profile: string; component?: string; enabled?: boolean }[] = [
  { profile: 'Core' },
  { profile: 'FirmwareManagement' },
  { profile: 'LocalAuthListManagement', component: 'LocalAuthListCtrlr' },
  { profile: 'Reservation', component: 'ReservationCtrlr', enabled: true },
  { profile: 'SmartCharging', component: 'SmartChargingCtrlr', enabled: true },
  { profile: 'RemoteTrigger' },
];

/** The GetVariables items a synthesised key is read from (`keys`: the synthesised keys asked). */
export function probesOf(keys: readonly string[]): VariableAddress[] {
  const probes: VariableAddress[] = [];
  if (keys.includes('SupportedFeatureProfiles'))
    for (const { component } of FEATURE_PROFILES)
      if (component) probes.push(controller(component, 'Enabled'), controller(component, 'Available'));
  const rotation = keys.includes('ConnectorPhaseRotation');
  if (rotation) probes.push(STATION_ROTATION);
  // One item per EVSE: its rotation where that is asked (an EVSE without one still answers
  // UnknownVariable, not UnknownComponent), else AvailabilityState, which every EVSE has.
  if (rotation || keys.includes('NumberOfConnectors'))
    for (let id = 1; id <= MAX_EVSES; id++)
      probes.push(evseVariable(id, rotation ? 'PhaseRotation' : 'AvailabilityState'));
  return probes;
}

/**
 * A synthesised key's 1.6 value from what the charger answered to its probes; undefined when the
 * answers say nothing of it (the key is then reported unknown).
 */
export function synthesise(key: string, lookup: Lookup): string | undefined {
  switch (key) {
    case 'SupportedFeatureProfiles':
      return featureProfiles(lookup);
    case 'ConnectorPhaseRotation':
      return connectorPhaseRotation(lookup);
    case 'NumberOfConnectors': {
      const count = evseCount(lookup);
      return count === 0 ? undefined : String(count);
    }
    default:
      return undefined;
  }
}

/**
 * SupportedFeatureProfiles: a profile with a controller is listed unless the charger does not know
 * the controller (UnknownComponent: it does not have the feature, not an error) or says it is not
 * Available (or, where it counts, not Enabled). An item it did not answer takes nothing away.
 */
function featureProfiles(lookup: Lookup): string {
  const listed = FEATURE_PROFILES.filter(({ component, enabled }) => {
    if (!component) return true;
    const answers = ['Enabled', 'Available'].map((variable) => lookup(controller(component, variable)));
    if (answers.some((answer) => answer?.attributeStatus === 'UnknownComponent')) return false;
    const [enabledAnswer, available] = answers;
    if (isFalse(available)) return false;
    return !(enabled && isFalse(enabledAnswer));
  });
  return listed.map(({ profile }) => profile).join(',');
}

function isFalse(answer: VariableResult | undefined): boolean {
  return answer?.attributeStatus === 'Accepted' && answer.attributeValue?.trim().toLowerCase() === 'false';
}

/** EVSEs the charger knows, counted from 1 up to the first it does not (or MAX_EVSES). */
function evseCount(lookup: Lookup): number {
  let count = 0;
  for (let id = 1; id <= MAX_EVSES; id++) {
    const answers = ['PhaseRotation', 'AvailabilityState'].flatMap(
      (name) => lookup(evseVariable(id, name)) ?? [],
    );
    if (answers.length === 0 || answers.some((answer) => answer.attributeStatus === 'UnknownComponent'))
      break;
    count = id;
  }
  return count;
}

/**
 * ConnectorPhaseRotation ("0.RST, 1.RST, 2.NotApplicable"): 0 is ChargingStation.PhaseRotation
 * (the station's to the grid), n is EVSE n's, which 2.0.1 gives relative to the station (its parent)
 * and 1.6 relative to the grid: the two are composed when the station's is known. An EVSE without a
 * rotation reads Unknown. Undefined when neither the station nor any EVSE answered.
 */
function connectorPhaseRotation(lookup: Lookup): string | undefined {
  const items: string[] = [];
  const stationAnswer = lookup(STATION_ROTATION);
  const station = stationAnswer?.attributeStatus === 'Accepted' ? stationAnswer.attributeValue : undefined;
  if (station !== undefined) items.push(`0.${rotationTo16(station)}`);
  const evses = evseCount(lookup);
  for (let id = 1; id <= evses; id++) {
    const answer = lookup(evseVariable(id, 'PhaseRotation'));
    const own = answer?.attributeStatus === 'Accepted' ? answer.attributeValue : undefined;
    items.push(`${id}.${own === undefined ? 'Unknown' : rotationTo16(relativeToGrid(station, own))}`);
  }
  return items.length === 0 ? undefined : items.join(', ');
}

const LETTERS = 'RST';

/**
 * A 2.0.1 PhaseRotation (three letters of R, S, T and x for a phase not connected, appendix 3) as
 * 1.6 says it: RST to TSR as they are, one phase connected is NotApplicable (1.6: "for Single
 * phase"), anything else (two phases, a value it cannot read) Unknown. 1.6's own words pass.
 */
export function rotationTo16(value: string): string {
  const text = value.trim();
  const named = PHASE_ROTATIONS.find((name) => name.toLowerCase() === text.toLowerCase());
  if (named) return named;
  if (/^[RSTx]{3}$/i.test(text)) {
    const letters = text.toUpperCase();
    const connected = [...letters].filter((letter) => letter !== 'X');
    if (connected.length === 1) return 'NotApplicable';
    if (connected.length === 3 && new Set(connected).size === 3) return letters;
  }
  return 'Unknown';
}

/**
 * An EVSE's rotation relative to the grid: EVSE phase i is on the station's phase `evse[i]`, which
 * is on the grid's phase `station[that]`. The EVSE's own when the station's is unknown or not a
 * plain permutation of R, S and T.
 */
export function relativeToGrid(station: string | undefined, evse: string): string {
  const parent = station?.trim().toUpperCase();
  if (!parent || !/^[RST]{3}$/.test(parent) || new Set(parent).size !== 3) return evse;
  const own = evse.trim();
  if (!/^[RSTx]{3}$/i.test(own)) return evse;
  return [...own]
    .map((letter) => {
      const index = LETTERS.indexOf(letter.toUpperCase());
      return index < 0 ? 'x' : (parent[index] as string);
    })
    .join('');
}

/** RateUnit's values: 2.0.1 says `A,W` where 1.6 says `Current,Power`. */
const UNITS_16: Record<string, string> = { A: 'Current', W: 'Power' };
const UNITS_201: Record<string, string> = { Current: 'A', Power: 'W' };

/** Keys whose values are measurand lists (2.0.1 MemberLists: no spaces around the commas). */
const MEASURAND_LISTS = new Set(['MeterValuesSampledData', 'StopTxnSampledData', 'MeterValuesAlignedData']);

/** A 2.0.1 value in the 1.6 form the rooms read (both separate list items with commas). */
export function valueTo16(key: string, value: string): string {
  return renameUnits(key, value, UNITS_16);
}

/**
 * A 1.6 value as 2.0.1 writes it (the reverse of valueTo16). A measurand list goes without the
 * spaces a 1.6 list may have ("Energy.Active.Import.Register, Current.Import"): 2.0.1 names the
 * measurands as 1.6 does (MeasurandEnumType), less Temperature and RPM, which a charger refuses.
 */
export function valueTo201(key: string, value: string): string {
  if (MEASURAND_LISTS.has(key))
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .join(',');
  return renameUnits(key, value, UNITS_201);
}

function renameUnits(key: string, value: string, names: Record<string, string>): string {
  if (key !== 'ChargingScheduleAllowedChargingRateUnit') return value;
  return value
    .split(',')
    .map((unit) => names[unit.trim()] ?? unit.trim())
    .join(',');
}
