import type { ClearChargingProfileRequest, SetChargingProfileRequest } from '../messages';

/**
 * The charging-profile model both OCPP versions share (1.6 section 3.13 and 5.16 with errata v4.0;
 * 2.0.1 functional block K): its shapes, and the arithmetic of one limit.
 *
 * A profile is written in the shared shapes of lib/ocpp, OCPP 1.6's csChargingProfiles; 2.0.1's
 * differ in names and in what 1.6 lacks, and lib/ocpp/v201/charging-profiles.ts converts them. The
 * one purpose 1.6 has no name for, 2.0.1's ChargingStationExternalConstraints (the limits of an
 * energy management system), keeps its 2.0.1 name.
 *
 * Internally every limit is a current per phase in A plus the phase count it applies to; a limit in
 * W becomes A through the nominal voltage: I = P / (U × numberPhases), numberPhases defaulting to 3
 * (7.12 as amended by errata 3.68; 2.0.1 the same).
 */

/** A charging profile as OCPP 1.6 writes it (csChargingProfiles). */
export type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];

/** 2.0.1's limits of an external system (an EMS): combined with the others by minimum. */
export const EXTERNAL_CONSTRAINTS = 'ChargingStationExternalConstraints';

/** The purposes of the model: 1.6's three by their 1.6 names, and 2.0.1's external constraints. */
export type ChargingProfilePurpose = ChargingProfile['chargingProfilePurpose'] | typeof EXTERNAL_CONSTRAINTS;

/** A profile of either version in the shared shape: a 1.6 one, or one whose purpose 1.6 lacks. */
export type ModelProfile = Omit<ChargingProfile, 'chargingProfilePurpose'> & {
  chargingProfilePurpose: ChargingProfilePurpose;
};

export type ChargingRateUnit = 'A' | 'W';
export type Period = ChargingProfile['chargingSchedule']['chargingSchedulePeriod'][number];

/** Whether a profile of the model is one OCPP 1.6 can carry (every purpose but the external constraints). */
export function isProfile16(profile: ModelProfile): profile is ChargingProfile {
  return profile.chargingProfilePurpose !== EXTERNAL_CONSTRAINTS;
}

export interface InstalledProfile {
  connectorId: number;
  profile: ModelProfile;
  /** When the charge point received it: the start of an Absolute schedule that has no startSchedule. */
  installedAtMs: number;
  /** The transaction a TxProfile belongs to (the keeper's own key, known before the central system's id). */
  transactionKey?: number;
}

/** ClearChargingProfile's criteria (1.6's request; 2.0.1's converted), any purpose of the model. */
export type ClearCriteria = Omit<ClearChargingProfileRequest, 'chargingProfilePurpose'> & {
  chargingProfilePurpose?: ChargingProfilePurpose;
};

/** A limit at one moment: current per phase and the phases it applies to. */
export interface Limit {
  currentA: number;
  /** Phases the limit allows; from numberPhases when the schedule gives it. */
  phases: number;
  /** numberPhases as the prevailing schedule period states it, if it does. */
  numberPhases?: number;
}

export interface ConnectorView {
  connectorId: number;
  /** Phases the connector is wired with. */
  phases: number;
  maxCurrentA: number;
  /** The running transaction, if any. */
  transaction?: { key: number; transactionId?: number; startMs: number };
}

export interface LimitContext {
  voltageV: number;
  connectors: readonly ConnectorView[];
}

export interface ProfileRules {
  numberOfConnectors: number;
  maxStackLevel: number;
  maxPeriods: number;
  maxInstalled: number;
  allowedUnits: ReadonlySet<ChargingRateUnit>;
}

export type ProfileVerdict = { status: 'Accepted' } | { status: 'Rejected'; reason: string };

export const DAY_MS = 24 * 3600 * 1000;

/**
 * The limit a schedule period sets, per phase. Errata 3.34: a limit in A applies as given to the
 * phases in use; W is the total over numberPhases (7.12), 3 when the period does not state them.
 */
export function limitOfPeriod(
  unit: ChargingRateUnit,
  period: Period,
  voltageV: number,
  numberPhases: number | undefined,
): Limit {
  const phases = numberPhases ?? 3;
  const currentA = unit === 'A' ? period.limit : period.limit / (voltageV * phases);
  return { currentA, phases, ...(numberPhases === undefined ? {} : { numberPhases }) };
}

/** The lower of two limits, per field (numberPhases the lower of those stated). */
export function minLimit(a: Limit, b: Limit): Limit {
  const numberPhases =
    a.numberPhases === undefined
      ? b.numberPhases
      : b.numberPhases === undefined
        ? a.numberPhases
        : Math.min(a.numberPhases, b.numberPhases);
  return {
    currentA: Math.min(a.currentA, b.currentA),
    phases: Math.min(a.phases, b.phases),
    ...(numberPhases === undefined ? {} : { numberPhases }),
  };
}

/** The lower of two limits where either may be absent (no limit). */
export function lowerOf(a: Limit | undefined, b: Limit | undefined): Limit | undefined {
  if (!a) return b;
  return b ? minLimit(a, b) : a;
}

/** Limits are decimals with at most one fraction digit (7.14). */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
