import type { OcppRequest, OcppResponse } from '../../lib/ocpp/messages';
import { type DeviceVariable, KEY_VARIABLES, valueTo16, valueTo201 } from '../../lib/ocpp/v201/device-model';

/**
 * GetVariables and SetVariables on the simulator's configuration keys: each device-model variable
 * that holds a 1.6 key's setting (the central system's table, lib/ocpp/v201/device-model.ts, and
 * a few more from OCPP 2.0.1 part 2 appendix 3) reads and writes that key through the simulator's
 * GetConfiguration and ChangeConfiguration, so the same checks and side effects apply. Variables
 * that 1.6 keeps several in one key are read from it (`derived`): the controllers' Enabled and
 * Available from SupportedFeatureProfiles, the phase rotation of the station and of each EVSE
 * (component EVSE with its id, one per connector) from ConnectorPhaseRotation; read-only here.
 */

type Json = Record<string, unknown>;

/** More keys with a standard 2.0.1 variable, beyond those the central system reads. */
const MORE_VARIABLES: Readonly<Record<string, DeviceVariable>> = {
  AuthorizationCacheEnabled: { component: 'AuthCacheCtrlr', variable: 'Enabled' },
  AllowOfflineTxForUnknownId: { component: 'AuthCtrlr', variable: 'OfflineTxForUnknownIdEnabled' },
  StopTransactionOnInvalidId: { component: 'TxCtrlr', variable: 'StopTxOnInvalidId' },
  StopTxnAlignedData: { component: 'AlignedDataCtrlr', variable: 'TxEndedMeasurands' },
  MessageTimeout: { component: 'OCPPCommCtrlr', variable: 'MessageTimeout' },
  ReserveConnectorZeroSupported: { component: 'ReservationCtrlr', variable: 'NonEvseSpecific' },
};

const VARIABLES: Readonly<Record<string, DeviceVariable>> = { ...KEY_VARIABLES, ...MORE_VARIABLES };

/** The key a variable holds (names compared without regard to case); undefined when none. */
export function keyOfVariable(component: string, variable: string): string | undefined {
  const c = component.toLowerCase();
  const v = variable.toLowerCase();
  for (const [key, place] of Object.entries(VARIABLES))
    if (place.component.toLowerCase() === c && place.variable.toLowerCase() === v) return key;
  return undefined;
}

/** 1.6 feature profiles and the 2.0.1 controller variables that say whether the charger has each. */
const FEATURE_VARIABLES: Readonly<Record<string, { profile: string; variables: readonly string[] }>> = {
  smartchargingctrlr: { profile: 'SmartCharging', variables: ['enabled', 'available'] },
  reservationctrlr: { profile: 'Reservation', variables: ['enabled', 'available'] },
  // Its Enabled is LocalAuthListEnabled (KEY_VARIABLES).
  localauthlistctrlr: { profile: 'LocalAuthListManagement', variables: ['available'] },
};

/** The keys the derived variables are read from. */
const DERIVED_FROM = ['SupportedFeatureProfiles', 'ConnectorPhaseRotation', 'NumberOfConnectors'];

function knownComponent(component: string): boolean {
  const c = component.toLowerCase();
  return (
    c === 'chargingstation' ||
    c in FEATURE_VARIABLES ||
    Object.values(VARIABLES).some((place) => place.component.toLowerCase() === c)
  );
}

/** A derived variable's answer from the keys it is read from; undefined for any other variable. */
function derived(
  item: Addressed,
  keys: ReadonlyMap<string, string>,
): { attributeStatus: string; attributeValue?: string } | undefined {
  const component = item.component.name.toLowerCase();
  const variable = item.variable.name.toLowerCase();
  const feature = FEATURE_VARIABLES[component];
  if (feature?.variables.includes(variable)) {
    const profiles = keys.get('supportedfeatureprofiles');
    if (profiles === undefined) return { attributeStatus: 'UnknownVariable' };
    const listed = profiles.split(',').some((item) => item.trim() === feature.profile);
    return { attributeStatus: 'Accepted', attributeValue: String(listed) };
  }
  if (component === 'evse') {
    const id = item.component.evse?.id ?? 0;
    if (id < 1 || id > Number(keys.get('numberofconnectors') ?? 0))
      return { attributeStatus: 'UnknownComponent' };
    if (variable !== 'phaserotation') return { attributeStatus: 'UnknownVariable' };
    const rotations = rotationsOf(keys.get('connectorphaserotation'));
    const value = rotationTo201(rotations.get(id), rotations.get(0));
    return value === undefined
      ? { attributeStatus: 'UnknownVariable' }
      : { attributeStatus: 'Accepted', attributeValue: value };
  }
  if (component === 'chargingstation' && variable === 'phaserotation') {
    const value = rotationTo201(rotationsOf(keys.get('connectorphaserotation')).get(0), undefined);
    return value === undefined
      ? { attributeStatus: 'UnknownVariable' }
      : { attributeStatus: 'Accepted', attributeValue: value };
  }
  return undefined;
}

function rotationsOf(value: string | undefined): Map<number, string> {
  const rotations = new Map<number, string>();
  for (const item of (value ?? '').split(',')) {
    const match = /^\s*(\d+)\.(\w+)\s*$/.exec(item);
    if (match) rotations.set(Number(match[1]), match[2] ?? '');
  }
  return rotations;
}

const LETTERS = 'RST';

/**
 * A 1.6 rotation (to the grid) as 2.0.1 says it, relative to the parent: the station's to the
 * grid, an EVSE's to the station (`station`: the station's to the grid, the inverse taken).
 * NotApplicable (single phase) is Rxx; Unknown has no 2.0.1 value.
 */
function rotationTo201(rotation: string | undefined, station: string | undefined): string | undefined {
  if (rotation === 'NotApplicable') return 'Rxx';
  if (rotation === undefined || !/^[RST]{3}$/.test(rotation)) return undefined;
  if (station === undefined || !/^[RST]{3}$/.test(station) || new Set(station).size !== 3) return rotation;
  return [...rotation].map((letter) => LETTERS[station.indexOf(letter)] ?? letter).join('');
}

type Run = <A extends 'GetConfiguration' | 'ChangeConfiguration'>(
  action: A,
  request: OcppRequest<A>,
) => Promise<OcppResponse<A>>;

interface Addressed {
  attributeType?: string;
  component: { name: string; evse?: { id: number } };
  variable: { name: string };
}

/** The parts of a result that repeat the request: component, variable, attribute type. */
function echo(item: Addressed): Json {
  const out: Json = { component: item.component, variable: item.variable };
  if (item.attributeType !== undefined) out.attributeType = item.attributeType;
  return out;
}

/** Why a variable cannot be read or written as asked; undefined when it can. */
function refusal(item: Addressed, key: string | undefined): string | undefined {
  if ((item.attributeType ?? 'Actual') !== 'Actual') return 'NotSupportedAttributeType';
  if (!key) return knownComponent(item.component.name) ? 'UnknownVariable' : 'UnknownComponent';
  return undefined;
}

export async function getVariables(request: Json, run: Run): Promise<Json> {
  const items = request.getVariableData as Addressed[];
  const keys = items.map((item) => keyOfVariable(item.component.name, item.variable.name));
  // The password is write-only (SecurityCtrlr.BasicAuthPassword): never read back.
  const wanted = [...new Set(keys.filter((key): key is string => !!key && key !== 'AuthorizationKey'))];
  if (items.some(isDerived)) wanted.push(...DERIVED_FROM);
  const report =
    wanted.length > 0 ? await run('GetConfiguration', { key: wanted }) : { configurationKey: [] };
  const values = new Map((report.configurationKey ?? []).map((entry) => [entry.key.toLowerCase(), entry]));
  const derivedFrom = new Map([...values].map(([key, entry]) => [key, entry.value ?? '']));
  const getVariableResult = items.map((item, index) => {
    const key = keys[index];
    const made = (item.attributeType ?? 'Actual') === 'Actual' ? derived(item, derivedFrom) : undefined;
    if (made) return { ...echo(item), ...made };
    const refused = refusal(item, key);
    if (refused || !key) return { ...echo(item), attributeStatus: refused };
    if (key === 'AuthorizationKey') return { ...echo(item), attributeStatus: 'Rejected' };
    const value = values.get(key.toLowerCase())?.value;
    if (value === undefined) return { ...echo(item), attributeStatus: 'UnknownVariable' };
    return { ...echo(item), attributeStatus: 'Accepted', attributeValue: valueTo201(key, value) };
  });
  return { getVariableResult };
}

const SET_STATUS: Record<string, string> = {
  Accepted: 'Accepted',
  RebootRequired: 'RebootRequired',
  Rejected: 'Rejected',
  NotSupported: 'UnknownVariable',
};

export async function setVariables(request: Json, run: Run): Promise<Json> {
  const items = request.setVariableData as (Addressed & { attributeValue: string })[];
  const setVariableResult: Json[] = [];
  // One at a time, in order, as ChangeConfiguration would come.
  for (const item of items) {
    const key = keyOfVariable(item.component.name, item.variable.name);
    if (isDerived(item)) {
      // Read-only here: Rejected where it exists, else what the charger does not have.
      const made = derived(item, await derivedKeys(run));
      const status = made?.attributeStatus === 'Accepted' ? 'Rejected' : made?.attributeStatus;
      setVariableResult.push({ ...echo(item), attributeStatus: status ?? 'Rejected' });
      continue;
    }
    const refused = refusal(item, key);
    if (refused || !key) {
      setVariableResult.push({ ...echo(item), attributeStatus: refused });
      continue;
    }
    const value = valueTo16(key, item.attributeValue);
    // A 1.6 value has at most 500 characters.
    if (value.length > 500) {
      setVariableResult.push({ ...echo(item), attributeStatus: 'Rejected' });
      continue;
    }
    const { status } = await run('ChangeConfiguration', { key, value });
    setVariableResult.push({ ...echo(item), attributeStatus: SET_STATUS[status] ?? 'Rejected' });
  }
  return { setVariableResult };
}

/** Whether a variable is one of the derived ones (whatever the keys say). */
function isDerived(item: Addressed): boolean {
  return derived(item, new Map()) !== undefined;
}

async function derivedKeys(run: Run): Promise<Map<string, string>> {
  const report = await run('GetConfiguration', { key: DERIVED_FROM });
  return new Map(
    (report.configurationKey ?? []).map((entry) => [entry.key.toLowerCase(), entry.value ?? '']),
  );
}
