import type { CentralSystemAction } from '../actions';
import type { ModelProfile } from '../charging-profiles';
import { profileTo201, purposeTo201 } from './charging-profiles';
import {
  addressId,
  addressOf,
  type DeviceVariable,
  isSynthesised,
  KEY_VARIABLES,
  probesOf,
  readableKeys,
  synthesise,
  type VariableAddress,
  type VariableResult,
  valueTo16,
  valueTo201,
} from './device-model';
import { translateMaintenance } from './maintenance-commands';
import { UNSEEN_TOKEN_TYPE } from './token-types';
import type { Translated } from './translated';

export type { Translated } from './translated';

type Request = Record<string, unknown>;
type Profile16 = ModelProfile;

const same = (response: Record<string, unknown>) => response;

/** Messages a (Extended)TriggerMessage asks for, as 2.0.1 names them. */
const TRIGGERED_201: Record<string, string> = {
  DiagnosticsStatusNotification: 'LogStatusNotification',
  SignChargePointCertificate: 'SignChargingStationCertificate',
};

/** Thrown for a shared command this version has no counterpart of. */
export class NoCounterpart extends Error {}

/**
 * The central system's commands (in the shared shapes, OCPP 1.6's) as an OCPP 2.0.1 charger takes
 * them: the EVSE where 1.6 says connector, the charger's own transaction ids, the device model where
 * 1.6 has configuration keys, and each answer read back into the shape the rooms expect.
 * `transactionId` gives the charger's id of a ledger transaction; `tokenType` the type an id token
 * goes with (the one a station reported it with, token-types.ts).
 */
export function translateCommand(
  action: CentralSystemAction,
  request: Request,
  transactionId: (ledgerId: number) => string | undefined,
  nextRequestId: () => number,
  tokenType: (idToken: string) => string = () => UNSEEN_TOKEN_TYPE,
): Translated {
  const wire = translateOne(action, request, transactionId, nextRequestId, tokenType);
  return { ...wire, read: (response) => keepingRefusal(wire.read(response), response) };
}

/**
 * The answer as read back, with the station's own status (and its statusInfo) where the 1.6 shape
 * has no status of its own: 1.6's UpdateFirmware and GetDiagnostics are answered without one, but
 * 2.0.1's UpdateFirmware and GetLog say Rejected, and a refusal must reach the flow as one (Catch
 * nodes, commands.ts). A status the read already gives (its 1.6 counterpart) is left as it is.
 */
function keepingRefusal(read: unknown, response: Record<string, unknown>): unknown {
  const { status, statusInfo } = response;
  if (typeof status !== 'string' || status === 'Accepted') return read;
  if (typeof read !== 'object' || read === null || 'status' in read) return read;
  return { ...read, status, ...(statusInfo === undefined ? {} : { statusInfo }) };
}

function translateOne(
  action: CentralSystemAction,
  request: Request,
  transactionId: (ledgerId: number) => string | undefined,
  nextRequestId: () => number,
  tokenType: (idToken: string) => string,
): Translated {
  const token = (idToken: unknown) => ({ idToken, type: tokenType(String(idToken)) });
  switch (action) {
    case 'SetChargingProfile': {
      const profile = profileFor(request.csChargingProfiles as Profile16, transactionId);
      return { action, request: { evseId: request.connectorId, chargingProfile: profile }, read: status };
    }
    case 'ClearChargingProfile': {
      const criteria: Request = {};
      if (request.connectorId !== undefined) criteria.evseId = request.connectorId;
      if (request.chargingProfilePurpose !== undefined)
        criteria.chargingProfilePurpose = purposeTo201(
          request.chargingProfilePurpose as Profile16['chargingProfilePurpose'],
        );
      if (request.stackLevel !== undefined) criteria.stackLevel = request.stackLevel;
      const out: Request = {};
      if (request.id !== undefined) out.chargingProfileId = request.id;
      if (Object.keys(criteria).length > 0) out.chargingProfileCriteria = criteria;
      return { action, request: out, read: status };
    }
    case 'GetCompositeSchedule': {
      const out: Request = { evseId: request.connectorId, duration: request.duration };
      if (request.chargingRateUnit !== undefined) out.chargingRateUnit = request.chargingRateUnit;
      return { action, request: out, read: compositeTo16 };
    }
    case 'RemoteStartTransaction': {
      const out: Request = {
        remoteStartId: nextRequestId(),
        idToken: token(request.idTag),
      };
      if (request.connectorId !== undefined) out.evseId = request.connectorId;
      if (request.chargingProfile !== undefined)
        out.chargingProfile = profileFor(request.chargingProfile as Profile16, transactionId);
      return { action: 'RequestStartTransaction', request: out, read: status };
    }
    case 'RemoteStopTransaction': {
      const id = transactionId(Number(request.transactionId));
      if (id === undefined)
        throw new NoCounterpart(`transaction ${String(request.transactionId)} is not one this charger runs`);
      return { action: 'RequestStopTransaction', request: { transactionId: id }, read: status };
    }
    case 'Reset':
      return {
        action,
        request: { type: request.type === 'Hard' ? 'Immediate' : 'OnIdle' },
        read: (response) => ({ status: response.status === 'Rejected' ? 'Rejected' : 'Accepted' }),
      };
    case 'UnlockConnector':
      return {
        action,
        request: { evseId: request.connectorId, connectorId: 1 },
        read: (response) => ({
          status:
            response.status === 'Unlocked'
              ? 'Unlocked'
              : response.status === 'UnknownConnector'
                ? 'NotSupported'
                : 'UnlockFailed',
        }),
      };
    case 'ChangeAvailability': {
      const out: Request = { operationalStatus: request.type };
      if (Number(request.connectorId) > 0) out.evse = { id: request.connectorId };
      return { action, request: out, read: status };
    }
    case 'TriggerMessage':
    case 'ExtendedTriggerMessage': {
      const requested = String(request.requestedMessage);
      const out: Request = { requestedMessage: TRIGGERED_201[requested] ?? requested };
      if (Number(request.connectorId) > 0)
        out.evse =
          requested === 'StatusNotification'
            ? { id: request.connectorId, connectorId: 1 }
            : { id: request.connectorId };
      return { action: 'TriggerMessage', request: out, read: status };
    }
    case 'GetConfiguration':
      return getConfiguration(request);
    case 'ChangeConfiguration':
      return changeConfiguration(request);
    case 'DataTransfer':
    case 'ClearCache':
    case 'CancelReservation':
      return { action, request, read: same };
    case 'GetLocalListVersion':
      return { action, request, read: (response) => ({ listVersion: response.versionNumber }) };
    case 'SendLocalList': {
      const out: Request = { versionNumber: request.listVersion, updateType: request.updateType };
      const list = request.localAuthorizationList as
        | { idTag: string; idTagInfo?: { status: string; expiryDate?: string } }[]
        | undefined;
      if (list)
        out.localAuthorizationList = list.map((entry) => {
          const item: Request = { idToken: token(entry.idTag) };
          if (entry.idTagInfo) {
            const info: Request = { status: entry.idTagInfo.status };
            if (entry.idTagInfo.expiryDate) info.cacheExpiryDateTime = entry.idTagInfo.expiryDate;
            item.idTokenInfo = info;
          }
          return item;
        });
      return { action, request: out, read: status };
    }
    case 'ReserveNow': {
      const out: Request = {
        id: request.reservationId,
        expiryDateTime: request.expiryDate,
        idToken: token(request.idTag),
      };
      if (Number(request.connectorId) > 0) out.evseId = request.connectorId;
      if (request.parentIdTag !== undefined) out.groupIdToken = token(request.parentIdTag);
      return { action, request: out, read: status };
    }
    default: {
      const maintenance = translateMaintenance(action, request, nextRequestId);
      if (maintenance) return maintenance;
      throw new NoCounterpart(`${action} has no OCPP 2.0.1 translation`);
    }
  }
}

function status(response: Record<string, unknown>): { status: unknown } {
  return { status: response.status };
}

/** A profile of ampflow's (shared shape) as this charger takes it: its transaction by the charger's id. */
function profileFor(profile: Profile16, transactionId: (ledgerId: number) => string | undefined): Request {
  const id = profile.transactionId === undefined ? undefined : transactionId(profile.transactionId);
  if (profile.transactionId !== undefined && id === undefined)
    throw new NoCounterpart(`transaction ${profile.transactionId} is not one this charger runs`);
  return profileTo201(profile, id) as unknown as Request;
}

function compositeTo16(response: Record<string, unknown>): unknown {
  const schedule = response.schedule as Request | undefined;
  if (response.status !== 'Accepted' || !schedule) return { status: response.status };
  return {
    status: 'Accepted',
    connectorId: schedule.evseId,
    scheduleStart: schedule.scheduleStart,
    chargingSchedule: {
      duration: schedule.duration,
      startSchedule: schedule.scheduleStart,
      chargingRateUnit: schedule.chargingRateUnit,
      chargingSchedulePeriod: schedule.chargingSchedulePeriod,
    },
  };
}

/**
 * GetConfiguration as one GetVariables: a mapped key's variable, and the probes a synthesised key
 * (SupportedFeatureProfiles, ConnectorPhaseRotation, NumberOfConnectors) is made from; each item
 * once. A key is readonly where its variable is ReadOnly by the standard (device-model.ts); a key
 * the charger has no value for (UnknownComponent, UnknownVariable, Rejected) is an unknownKey.
 */
function getConfiguration(request: Request): Translated {
  const asked = [
    ...new Set((request.key as string[] | undefined)?.length ? (request.key as string[]) : readableKeys()),
  ];
  const mapped = asked.filter((key) => KEY_VARIABLES[key] !== undefined);
  const items = new Map<string, VariableAddress>();
  for (const address of [
    ...mapped.map((key) => addressOf(KEY_VARIABLES[key] as DeviceVariable)),
    ...probesOf(asked.filter(isSynthesised)),
  ])
    items.set(addressId(address), address);
  if (items.size === 0)
    return {
      action: 'GetVariables',
      request: {},
      read: same,
      answer: { configurationKey: [], unknownKey: asked },
    };
  return {
    action: 'GetVariables',
    request: { getVariableData: [...items.values()] },
    read: (response) => {
      const results = new Map<string, VariableResult>();
      for (const result of (response.getVariableResult ?? []) as (VariableResult & VariableAddress)[])
        results.set(addressId(result), result);
      const lookup = (address: VariableAddress) => results.get(addressId(address));
      const configurationKey: { key: string; readonly: boolean; value?: string }[] = [];
      const unknownKey: string[] = [];
      for (const key of asked) {
        const place = KEY_VARIABLES[key];
        if (place) {
          const result = lookup(addressOf(place));
          if (result?.attributeStatus !== 'Accepted') unknownKey.push(key);
          else
            configurationKey.push({
              key,
              readonly: place.readOnly === true,
              ...(result.attributeValue === undefined
                ? {}
                : { value: valueTo16(key, result.attributeValue) }),
            });
          continue;
        }
        const value = isSynthesised(key) ? synthesise(key, lookup) : undefined;
        if (value === undefined) unknownKey.push(key);
        else configurationKey.push({ key, readonly: true, value });
      }
      return { configurationKey, unknownKey };
    },
  };
}

/**
 * ChangeConfiguration as SetVariables; the answer in 1.6's words: Accepted, RebootRequired and
 * Rejected as they are, UnknownComponent, UnknownVariable and NotSupportedAttributeType as
 * NotSupported (1.6's answer for a key it does not have), no result as Rejected. A synthesised key
 * is read-only (device-model.ts): Rejected without asking, as a 1.6 charger answers for one. A key
 * with no 2.0.1 variable is refused with a CallError NotSupported that names it.
 */
function changeConfiguration(request: Request): Translated {
  const key = String(request.key);
  if (isSynthesised(key))
    return { action: 'SetVariables', request: {}, read: same, answer: { status: 'Rejected' } };
  const place = KEY_VARIABLES[key];
  if (!place) throw new NoCounterpart(`configuration key ${key} has no OCPP 2.0.1 device-model variable`);
  return {
    action: 'SetVariables',
    request: {
      setVariableData: [{ attributeValue: valueTo201(key, String(request.value)), ...addressOf(place) }],
    },
    read: (response) => {
      const result = ((response.setVariableResult ?? []) as { attributeStatus: string }[])[0];
      const outcome = result?.attributeStatus ?? 'Rejected';
      return {
        status:
          outcome === 'Accepted' || outcome === 'Rejected' || outcome === 'RebootRequired'
            ? outcome
            : 'NotSupported',
      };
    },
  };
}
