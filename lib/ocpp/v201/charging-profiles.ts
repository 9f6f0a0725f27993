import {
  type ChargingProfilePurpose,
  type ChargingRateUnit,
  type ClearCriteria,
  EXTERNAL_CONSTRAINTS,
  type ModelProfile,
} from '../charging-profiles';
import type { GetCompositeScheduleResponse } from '../messages';

/**
 * OCPP 2.0.1's charging profiles (functional block K) and the shared model of
 * lib/ocpp/charging-profiles: the conversion both ways, and what 2.0.1 does differently.
 *
 * What is the same in both versions is in the model: stack levels, validity, Absolute, Relative and
 * Recurring schedules, W per phase through numberPhases (3 when absent), a TxProfile of the
 * running transaction over TxDefaultProfile, an EVSE's own TxDefaultProfile over EVSE 0's, the
 * composite as the minimum over the purposes, EVSE 0's composite the whole station (K08).
 *
 * What differs, and where it is handled:
 * - Names: EVSE where 1.6 says connector (EVSE 0 is the station, 1.6's connector 0);
 *   ChargingStationMaxProfile for ChargePointMaxProfile; `id` for chargingProfileId.
 * - ChargingStationExternalConstraints, the limits of an energy management system, which 1.6 lacks:
 *   the model keeps them by their 2.0.1 name and combines them by minimum, like the station's
 *   maximum: on EVSE 0 they cap the station as a whole, on an EVSE that EVSE. The CSMS may not set
 *   them (K01.FR.22): `refusal201`.
 * - The transaction is the station's string id, the model's a number: the caller gives it.
 * - A profile has up to three schedules (ISO 15118 offers the EV a choice); without an EV that
 *   chose, the first applies. Each has its own id, which the model has no place for: the profile's
 *   id serves when converting back.
 * - A period may name the phase a single-phase limit uses (phaseToUse, with phase switching): it
 *   changes which phase draws, not the limit, and the model leaves it out.
 * - Limits are any decimal; the shared shape has at most one fraction digit (1.6 7.14), so a limit
 *   is rounded down to a tenth: never above what the profile allows.
 */

export type ChargingProfilePurpose201 =
  | 'ChargingStationMaxProfile'
  | 'TxDefaultProfile'
  | 'TxProfile'
  | 'ChargingStationExternalConstraints';

export interface ChargingSchedulePeriod201 {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
  phaseToUse?: number;
}

export interface ChargingSchedule201 {
  id: number;
  startSchedule?: string;
  duration?: number;
  chargingRateUnit: ChargingRateUnit;
  chargingSchedulePeriod: ChargingSchedulePeriod201[];
  minChargingRate?: number;
}

/** A 2.0.1 ChargingProfileType (the fields of smart charging; salesTariff and customData are not read). */
export interface ChargingProfile201 {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: ChargingProfilePurpose201;
  chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  transactionId?: string;
  chargingSchedule: ChargingSchedule201[];
}

/** A 2.0.1 ClearChargingProfileRequest. */
export interface ClearChargingProfile201 {
  chargingProfileId?: number;
  chargingProfileCriteria?: {
    evseId?: number;
    chargingProfilePurpose?: ChargingProfilePurpose201;
    stackLevel?: number;
  };
}

const PURPOSES_FROM_201: Readonly<Record<ChargingProfilePurpose201, ChargingProfilePurpose>> = {
  ChargingStationMaxProfile: 'ChargePointMaxProfile',
  TxDefaultProfile: 'TxDefaultProfile',
  TxProfile: 'TxProfile',
  ChargingStationExternalConstraints: EXTERNAL_CONSTRAINTS,
};

/**
 * A 2.0.1 purpose by the model's name. One 2.0.1 does not have (a message its schema would not
 * pass) throws a RangeError: read as no purpose, a clear would remove more than it names.
 */
export function purposeFrom201(purpose: ChargingProfilePurpose201): ChargingProfilePurpose {
  const named = PURPOSES_FROM_201[purpose] as ChargingProfilePurpose | undefined;
  if (named === undefined)
    throw new RangeError(`${String(purpose)} is not an OCPP 2.0.1 chargingProfilePurpose`);
  return named;
}

/** A purpose of the model by its 2.0.1 name. */
export function purposeTo201(purpose: ChargingProfilePurpose): ChargingProfilePurpose201 {
  return purpose === 'ChargePointMaxProfile' ? 'ChargingStationMaxProfile' : purpose;
}

/** 2.0.1 limits are any number; the shared shape wants multiples of 0.1 (rounded down, never above the limit). */
function tenths(value: number): number {
  return Math.floor(value * 10 + 1e-9) / 10;
}

/**
 * A 2.0.1 chargingProfile in the model's shape: its first schedule, without schedule id and
 * phaseToUse; the transaction as `transactionId`, the keeper's number for the station's id.
 * Undefined when it cannot be one: no schedule, or a transaction named that the keeper does not
 * know (`transactionId` undefined).
 */
export function profileFrom201(
  profile: ChargingProfile201,
  transactionId: number | undefined,
): ModelProfile | undefined {
  const purpose = purposeFrom201(profile.chargingProfilePurpose);
  const schedule = profile.chargingSchedule[0];
  if (!schedule) return undefined;
  if (profile.transactionId !== undefined && transactionId === undefined) return undefined;
  const chargingSchedule: ModelProfile['chargingSchedule'] = {
    chargingRateUnit: schedule.chargingRateUnit,
    chargingSchedulePeriod: schedule.chargingSchedulePeriod.map((period) => ({
      startPeriod: period.startPeriod,
      limit: tenths(period.limit),
      ...(period.numberPhases === undefined ? {} : { numberPhases: period.numberPhases }),
    })),
  };
  if (schedule.duration !== undefined) chargingSchedule.duration = schedule.duration;
  if (schedule.startSchedule !== undefined) chargingSchedule.startSchedule = schedule.startSchedule;
  if (schedule.minChargingRate !== undefined)
    chargingSchedule.minChargingRate = tenths(schedule.minChargingRate);
  const out: ModelProfile = {
    chargingProfileId: profile.id,
    stackLevel: profile.stackLevel,
    chargingProfilePurpose: purpose,
    chargingProfileKind: profile.chargingProfileKind,
    chargingSchedule,
  };
  if (transactionId !== undefined) out.transactionId = transactionId;
  if (profile.recurrencyKind !== undefined) out.recurrencyKind = profile.recurrencyKind;
  if (profile.validFrom !== undefined) out.validFrom = profile.validFrom;
  if (profile.validTo !== undefined) out.validTo = profile.validTo;
  return out;
}

/**
 * A profile of the model as 2.0.1 writes it: one schedule, whose id is the profile's; the
 * transaction as `transactionId`, the station's id for the model's number. Undefined when the
 * profile names a transaction and no station id is given.
 */
export function profileTo201(
  profile: ModelProfile,
  transactionId: string | undefined,
): ChargingProfile201 | undefined {
  if (profile.transactionId !== undefined && transactionId === undefined) return undefined;
  const { chargingSchedule } = profile;
  const schedule: ChargingSchedule201 = {
    id: profile.chargingProfileId,
    chargingRateUnit: chargingSchedule.chargingRateUnit,
    chargingSchedulePeriod: chargingSchedule.chargingSchedulePeriod.map((period) => ({ ...period })),
  };
  if (chargingSchedule.startSchedule !== undefined) schedule.startSchedule = chargingSchedule.startSchedule;
  if (chargingSchedule.duration !== undefined) schedule.duration = chargingSchedule.duration;
  if (chargingSchedule.minChargingRate !== undefined)
    schedule.minChargingRate = chargingSchedule.minChargingRate;
  const out: ChargingProfile201 = {
    id: profile.chargingProfileId,
    stackLevel: profile.stackLevel,
    chargingProfilePurpose: purposeTo201(profile.chargingProfilePurpose),
    chargingProfileKind: profile.chargingProfileKind,
    chargingSchedule: [schedule],
  };
  if (profile.recurrencyKind !== undefined) out.recurrencyKind = profile.recurrencyKind;
  if (profile.validFrom !== undefined) out.validFrom = profile.validFrom;
  if (profile.validTo !== undefined) out.validTo = profile.validTo;
  if (profile.transactionId !== undefined && transactionId !== undefined) out.transactionId = transactionId;
  return out;
}

/**
 * Why a charging station refuses a CSMS's SetChargingProfile where 1.6 has no such rule, if it
 * does: ChargingStationExternalConstraints come from the station's own energy management, never
 * from the CSMS (K01.FR.22). The rules both versions share are the model's (check.ts).
 */
export function refusal201(profile: ChargingProfile201): string | undefined {
  if (profile.chargingProfilePurpose === EXTERNAL_CONSTRAINTS)
    return 'ChargingStationExternalConstraints are not set by the CSMS';
  return undefined;
}

/** A 2.0.1 ClearChargingProfile as the model's criteria (EVSE as connector, purposes renamed). */
export function clearFrom201(request: ClearChargingProfile201): ClearCriteria {
  const criteria = request.chargingProfileCriteria ?? {};
  const out: ClearCriteria = {};
  if (request.chargingProfileId !== undefined) out.id = request.chargingProfileId;
  if (criteria.evseId !== undefined) out.connectorId = criteria.evseId;
  if (criteria.chargingProfilePurpose !== undefined)
    out.chargingProfilePurpose = purposeFrom201(criteria.chargingProfilePurpose);
  if (criteria.stackLevel !== undefined) out.stackLevel = criteria.stackLevel;
  return out;
}

/**
 * A composite schedule of the model (in the shared shape, 1.6's answer) as 2.0.1's answer: its
 * `schedule` with evseId, duration and scheduleStart required. EVSE 0's is the whole station's.
 * An answer without periods is Rejected.
 */
export function compositeTo201(
  response: GetCompositeScheduleResponse,
  evseId: number,
  durationS: number,
  nowIso: string,
): Record<string, unknown> {
  const schedule = response.chargingSchedule;
  if (response.status !== 'Accepted' || !schedule || schedule.chargingSchedulePeriod.length === 0)
    return { status: 'Rejected' };
  return {
    status: 'Accepted',
    schedule: {
      evseId,
      duration: schedule.duration ?? durationS,
      scheduleStart: response.scheduleStart ?? schedule.startSchedule ?? nowIso,
      chargingRateUnit: schedule.chargingRateUnit,
      chargingSchedulePeriod: schedule.chargingSchedulePeriod.map((period) => ({ ...period })),
    },
  };
}
