import { IEC_61851_MINIMUM_A } from '../lib/electrical';
import type { OcppRequest } from '../lib/ocpp/messages';
import { type ChargePointErrorCode, type Connector, iso, type StationOptions } from './connectors';
import type { Quirks, StatusEvent } from './types';

/**
 * What the simulated charge point reports about itself (sim/station.ts): its BootNotification,
 * the status of the charge point and of each connector (4.9), and the StatusNotification payload.
 */

export const EXTRA_PROPERTY = { customData: { vendorId: 'com.ampflow.sim' } };

/** BootNotification payload, and whether a quirk made it deviate from the schema. */
export function bootNotification(
  o: StationOptions,
  quirks: Readonly<Quirks>,
  identity: string,
  firmwareVersion: string,
): { payload: OcppRequest<'BootNotification'>; deviates: boolean } {
  let deviates = false;
  let chargeBoxSerialNumber = o.chargeBoxSerialNumber;
  if (quirks.longSerialNumber) {
    // 35 characters where CiString25 allows 25 (Schneider EVlink; mobilityhouse/ocpp #122).
    chargeBoxSerialNumber = `${o.chargeBoxSerialNumber ?? o.chargePointSerialNumber ?? identity}-`
      .padEnd(35, '0')
      .slice(0, 35);
    deviates = true;
  }
  const payload: OcppRequest<'BootNotification'> = {
    chargePointVendor: o.chargePointVendor ?? 'ampflow',
    chargePointModel: o.chargePointModel ?? 'SimCharger',
    ...(o.chargePointSerialNumber ? { chargePointSerialNumber: o.chargePointSerialNumber } : {}),
    ...(chargeBoxSerialNumber ? { chargeBoxSerialNumber } : {}),
    firmwareVersion,
    ...(o.iccid ? { iccid: o.iccid } : {}),
    ...(o.imsi ? { imsi: o.imsi } : {}),
    ...(o.meterType ? { meterType: o.meterType } : {}),
    ...(o.meterSerialNumber ? { meterSerialNumber: o.meterSerialNumber } : {}),
  };
  if (quirks.extraProperties) {
    Object.assign(payload, EXTRA_PROPERTY);
    deviates = true;
  }
  return { payload, deviates };
}

/** The status of connector 0: Faulted with a charge point fault, else as available as the charge point is. */
export function chargePointStatus(
  fault: { errorCode: ChargePointErrorCode; info?: string } | undefined,
  availability: 'Operative' | 'Inoperative',
): StatusEvent {
  return fault
    ? {
        connectorId: 0,
        status: 'Faulted',
        errorCode: fault.errorCode,
        ...(fault.info ? { info: fault.info } : {}),
      }
    : {
        connectorId: 0,
        status: availability === 'Inoperative' ? 'Unavailable' : 'Available',
        errorCode: 'NoError',
      };
}

/** The status of a connector from its state (4.9). */
export function connectorStatus(
  c: Connector,
  state: { inoperative: boolean; reserved: boolean; powerW: number },
): StatusEvent {
  const base = { connectorId: c.id, errorCode: 'NoError' as ChargePointErrorCode };
  if (c.fault) {
    return {
      ...base,
      status: 'Faulted',
      errorCode: c.fault.errorCode,
      ...(c.fault.info ? { info: c.fault.info } : {}),
    };
  }
  const tx = c.transaction;
  if (tx) {
    if (!c.ev) return { ...base, status: 'SuspendedEV', info: 'EV side disconnected' };
    // "If charging is suspended both by the EV and the EVSE, status SuspendedEVSE SHALL have precedence" (4.9).
    if (tx.deauthorized || c.offeredA < IEC_61851_MINIMUM_A) return { ...base, status: 'SuspendedEVSE' };
    if (state.powerW <= 0) return { ...base, status: 'SuspendedEV' };
    return { ...base, status: 'Charging' };
  }
  if (c.finishing) return { ...base, status: 'Finishing' };
  if (state.inoperative) return { ...base, status: 'Unavailable' };
  if (state.reserved && !c.pendingStart) return { ...base, status: 'Reserved' };
  if (c.ev || c.pendingStart) return { ...base, status: 'Preparing' };
  return { ...base, status: 'Available' };
}

export function statusNotificationPayload(
  status: StatusEvent,
  now: number,
): OcppRequest<'StatusNotification'> {
  return {
    connectorId: status.connectorId,
    errorCode: status.errorCode,
    status: status.status,
    timestamp: iso(now),
    ...(status.info ? { info: status.info } : {}),
  };
}

export function sameStatus(a: StatusEvent, b: StatusEvent | undefined): boolean {
  return !!b && a.status === b.status && a.errorCode === b.errorCode && a.info === b.info;
}
