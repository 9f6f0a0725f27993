import { NOMINAL_VOLTAGE_V } from '../electrical';
import type { GetCompositeScheduleResponse, SetChargingProfileRequest } from '../ocpp/messages';
import type { RateUnit } from './capabilities';
import type { ProfileKind } from './strategies';

/**
 * Building charging profiles (OCPP 1.6 sections 5.16, 7.8-7.14) from a limit in A per phase.
 * Pure functions: the caller decides purpose, unit, kind and stack level (lib/profiles/plan.ts).
 */

export type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];
export type ProfilePurpose = ChargingProfile['chargingProfilePurpose'];
type SchedulePeriod = ChargingProfile['chargingSchedule']['chargingSchedulePeriod'][number];

/** The voltage for W = A × V × phases where no setting names one: lib/electrical owns it. */
export const DEFAULT_VOLTAGE_V = NOMINAL_VOLTAGE_V;

/**
 * Profile ids are stable per purpose and connector, so a new limit replaces the one before it
 * (5.16.3: same chargingProfileId) instead of piling up against MaxChargingProfilesInstalled.
 * The range sits high to stay clear of ids an operator's own tools hand out from 1.
 */
export const DEFAULT_PROFILE_ID_BASE = 7000;
const PURPOSE_OFFSET: Record<ProfilePurpose, number> = {
  ChargePointMaxProfile: 100,
  TxDefaultProfile: 200,
  TxProfile: 300,
};

/** The offline fallback's id offset (a TxDefaultProfile of its own, lib/profiles/offline-fallback.ts). */
const FALLBACK_OFFSET = 400;

/** The id of the offline fallback (a TxDefaultProfile on connector 0 at stack level 0). */
export function fallbackProfileId(base = DEFAULT_PROFILE_ID_BASE): number {
  return base + FALLBACK_OFFSET;
}

/** Whether a profile id is one of this manager's (a purpose's range or the fallback's). */
export function isOwnProfileId(id: number, base = DEFAULT_PROFILE_ID_BASE): boolean {
  return id >= base + PURPOSE_OFFSET.ChargePointMaxProfile && id <= base + FALLBACK_OFFSET;
}

export function profileIdFor(
  purpose: ProfilePurpose,
  connectorId: number,
  base = DEFAULT_PROFILE_ID_BASE,
): number {
  return base + PURPOSE_OFFSET[purpose] + connectorId;
}

/**
 * Rounds down to a tenth (the schema's multipleOf 0.1 for limits, 7.14): a limit must never round
 * up past what the load manager allowed. The tiny epsilon keeps 8.1 from becoming 8.0 through
 * binary floating point. The result is a clean decimal: a whole number of tenths divided by 10 is
 * the number that decimal's text parses to, without writing and parsing it (a limit is rounded
 * several times per set-point).
 */
export function floorTo(value: number): number {
  return Math.floor(value / 0.1 + 1e-9) / 10;
}

/**
 * Rounds down to a tenth that a charger's naive `multipleOf: 0.1` check accepts. The schema's
 * multipleOf 0.1 (7.14) is often checked as `value / 0.1` being a whole number, which binary
 * floating point breaks for about a third of the tenths (10.6 / 0.1 = 105.99999999999999): a
 * charger built on such a validator (ajv 6 with default options, as @evpower/ocpp-ts ships)
 * answers FormationViolation to 10.6 A and keeps its old, higher limit. The next tenth down that
 * passes is at most 0.2 below, and never above what was allowed.
 */
export function floorToSchemaTenth(value: number): number {
  let tenths = Math.floor(value / 0.1 + 1e-9);
  while (tenths > 0 && !Number.isInteger(tenths / 10 / 0.1)) tenths -= 1;
  return Math.max(0, tenths / 10);
}

/** A limit rounded down to the charger's steps (0 below the first), or to a tenth of an A without steps. */
export function limitForCharger(limitA: number, stepsA?: readonly number[]): number {
  const rounded = floorToSchemaTenth(Math.max(0, limitA));
  if (!stepsA || stepsA.length === 0 || rounded === 0) return rounded;
  // The highest step within the limit: no copy of the steps sorted per set-point.
  let highest: number | undefined;
  for (const step of stepsA)
    if (step <= rounded + 1e-9 && (highest === undefined || step > highest)) highest = step;
  return highest ?? 0;
}

/** A limit in A per phase in the schedule's unit: W is the total over the phases (7.12, errata 3.68). */
export function limitInUnit(limitA: number, unit: RateUnit, voltageV: number, phases: number): number {
  return floorToSchemaTenth(unit === 'A' ? limitA : limitA * voltageV * phases);
}

/**
 * An Absolute or Recurring schedule starts this long before now: a charger whose clock runs a
 * little behind must already be inside it ("It is RECOMMENDED to provide a start time in the past
 * to prevent gaps", 3.13.2). With one open-ended period the start decides nothing else.
 */
export const SCHEDULE_START_MARGIN_MS = 60 * 60 * 1000;

export interface ProfileSpec {
  purpose: ProfilePurpose;
  /** The connector the profile is sent to (0 for ChargePointMaxProfile or an all-connector TxDefaultProfile). */
  connectorId: number;
  /** The connector the id belongs to (defaults to connectorId). */
  idConnectorId?: number;
  stackLevel: number;
  kind: ProfileKind;
  unit: RateUnit;
  /** A per phase, already rounded for the charger. */
  limitA: number;
  /**
   * Phases the limit is for: the W conversion uses it (7.12). When undefined, W is converted for 1
   * phase, the lowest watts (A × V × 1 never exceeds the allocation however many phases the car
   * uses), and a stated numberPhases in A is 3.
   */
  phases?: number;
  /** State numberPhases in the period. */
  statePhases: boolean;
  voltageV: number;
  /** The transaction a TxProfile is for (5.16: "SHALL include the transactionId"); absent in RemoteStartTransaction (errata 3.41). */
  transactionId?: number;
  minChargingRateA?: number;
  nowMs: number;
  profileIdBase?: number;
  /** The profile ends then (7.8 validTo): a lower stack level applies afterwards. Absent: until replaced. */
  validToMs?: number;
  /** The id, where it is not the purpose's own (the offline fallback). */
  profileId?: number;
  /**
   * The charger's clock minus ampflow's, ms (lib/ocpp/charger-clocks.ts): `startSchedule` and
   * `validTo` are written in the charger's time, so a charger running ahead does not find the
   * profile over at once, nor one running behind find it not yet begun. `nowMs` and `validToMs`
   * stay in ampflow's time.
   */
  clockOffsetMs?: number;
}

/**
 * One charging profile with a single open-ended period: the limit holds until replaced (or
 * `validToMs`). Its fields are set one by one, in the order the frame has always had, not spread
 * in from objects made for the purpose (two of these per SetChargingProfile, and none of them used).
 */
export function buildChargingProfile(spec: ProfileSpec): ChargingProfile {
  const { unit, voltageV } = spec;
  const shiftMs = spec.clockOffsetMs ?? 0;
  const phases = spec.phases ?? (unit === 'W' ? 1 : 3);
  // Errata 3.45: the first period starts at 0.
  const period: SchedulePeriod = { startPeriod: 0, limit: limitInUnit(spec.limitA, unit, voltageV, phases) };
  if (spec.statePhases) period.numberPhases = phases;
  const schedule = {} as ChargingProfile['chargingSchedule'];
  // Relative: from the start of the transaction (7.9), so no startSchedule.
  if (spec.kind !== 'Relative')
    schedule.startSchedule = new Date(spec.nowMs + shiftMs - SCHEDULE_START_MARGIN_MS).toISOString();
  schedule.chargingRateUnit = unit;
  schedule.chargingSchedulePeriod = [period];
  // A minimum above the limit would ask the charger for more than the limit: left out.
  if (spec.minChargingRateA !== undefined && !(spec.minChargingRateA > spec.limitA))
    schedule.minChargingRate = limitInUnit(spec.minChargingRateA, unit, voltageV, phases);
  const profile = {
    chargingProfileId:
      spec.profileId ??
      profileIdFor(spec.purpose, spec.idConnectorId ?? spec.connectorId, spec.profileIdBase),
  } as ChargingProfile;
  if (spec.transactionId !== undefined) profile.transactionId = spec.transactionId;
  profile.stackLevel = spec.stackLevel;
  profile.chargingProfilePurpose = spec.purpose;
  profile.chargingProfileKind = spec.kind;
  // Errata 3.56: recurrencyKind only with Recurring; 7.8: Recurring needs startSchedule.
  if (spec.kind === 'Recurring') profile.recurrencyKind = 'Daily';
  if (spec.validToMs !== undefined)
    profile.validTo = new Date(wholeSecondsMs(spec.validToMs + shiftMs)).toISOString();
  profile.chargingSchedule = schedule;
  return profile;
}

/** A profile's validTo falls on a whole second: a charger's date-time parser need not take fractions. */
export function wholeSecondsMs(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function buildSetChargingProfile(spec: ProfileSpec): SetChargingProfileRequest {
  return { connectorId: spec.connectorId, csChargingProfiles: buildChargingProfile(spec) };
}

/**
 * The limit a composite schedule gives now (its period at startPeriod 0), in `unit`; converted
 * when the charger answered in the other unit. Undefined when the answer has no schedule.
 */
export function compositeLimitNow(
  response: GetCompositeScheduleResponse,
  unit: RateUnit,
  voltageV: number,
  phases: number,
): number | undefined {
  const schedule = response.chargingSchedule;
  if (response.status !== 'Accepted' || !schedule) return undefined;
  const first = [...schedule.chargingSchedulePeriod]
    .filter((period) => period.startPeriod <= 0)
    .sort((a, b) => b.startPeriod - a.startPeriod)[0];
  if (!first) return undefined;
  if (schedule.chargingRateUnit === unit) return first.limit;
  const periodPhases = first.numberPhases ?? phases;
  return unit === 'A' ? first.limit / (voltageV * periodPhases) : first.limit * voltageV * periodPhases;
}
