import type { OcppRequest, OcppResponse } from '../../ocpp/messages';
import { type DeviceVariable, KEY_VARIABLES, valueTo16, valueTo201 } from '../../ocpp/v201/device-model';

/**
 * GetVariables and SetVariables on the simulator's configuration keys: each device-model variable
 * that holds a 1.6 key's setting (the central system's table, lib/ocpp/v201/device-model.ts, and
 * a few more from OCPP 2.0.1 part 2 appendix 3) reads and writes that key through the simulator's
 * GetConfiguration and ChangeConfiguration, so the same checks and side effects apply.
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

function knownComponent(component: string): boolean {
  const c = component.toLowerCase();
  return Object.values(VARIABLES).some((place) => place.component.toLowerCase() === c);
}

type Run = <A extends 'GetConfiguration' | 'ChangeConfiguration'>(
  action: A,
  request: OcppRequest<A>,
) => Promise<OcppResponse<A>>;

interface Addressed {
  attributeType?: string;
  component: { name: string };
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
  const report =
    wanted.length > 0 ? await run('GetConfiguration', { key: wanted }) : { configurationKey: [] };
  const values = new Map((report.configurationKey ?? []).map((entry) => [entry.key.toLowerCase(), entry]));
  const getVariableResult = items.map((item, index) => {
    const key = keys[index];
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
