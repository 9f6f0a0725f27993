import type { OCPP20 } from 'typed-ocpp';

/**
 * The charging profiles an OCPP 2.0.1 charging station keeps (functional block K), for the test
 * charger of charger201.ts: written from the specification alone, sharing nothing with ocpp-rpc,
 * the package's simulator or its profile manager.
 *
 * - SetChargingProfile (K01): a profile with the id of an installed one replaces it (K01.FR.05); a
 *   different one with the same purpose and stack level on the same EVSE and an overlapping validity
 *   is refused (K01.FR.06; for TxProfiles, with the same transaction, K01.FR.39).
 *   ChargingStationMaxProfile only on EVSE 0 and never Relative (K01.FR.38); TxProfile only on an
 *   EVSE, with the transactionId of the transaction running there (K01.FR.03, .09, .16): a lenient
 *   station (strict false) takes one for a transaction it does not know. The CSMS may not set
 *   ChargingStationExternalConstraints (K01.FR.22). Absolute and Recurring need startSchedule; the
 *   first period starts at 0. Stack level, periods, entries and rate units as the device model says.
 * - The limit in force (K08, composite schedule): the lowest of ChargingStationMaxProfile (EVSE 0)
 *   and, for an EVSE, its running transaction's TxProfile of highest stack level, else its
 *   TxDefaultProfile of highest stack level, else EVSE 0's. A profile counts only inside its
 *   validity and while a period of it is in force: Absolute from startSchedule, Relative from the
 *   transaction's start (from the request when none runs), Recurring from startSchedule repeated
 *   daily or weekly. Watts become amperes at 230 V per phase over numberPhases (3 when absent). No
 *   profile leaves the EVSE's rating; the composite schedule has a period at each change.
 */

type ChargingProfile = OCPP20.SetChargingProfileRequest['chargingProfile'];
type Schedule = ChargingProfile['chargingSchedule'][number];
type Period = Schedule['chargingSchedulePeriod'][number];

/** A transaction running on an EVSE, as the profiles see it. */
export interface RunningTransaction {
  transactionId: string;
  startedAtMs: number;
}

export interface InstalledProfile {
  evseId: number;
  profile: ChargingProfile;
}

export interface ProfileStackOptions {
  evses: number;
  /** What an EVSE gives per phase, A: the limit when no profile sets one. */
  ratedA: number;
  voltageV: number;
  /** false: a TxProfile for a transaction not running on the EVSE is accepted (a lenient station). */
  strict: boolean;
  running: (evseId: number) => RunningTransaction | undefined;
  /** The device model's SmartChargingCtrlr variables, read at each SetChargingProfile. */
  enabled: () => boolean;
  maxStackLevel: () => number;
  maxPeriods: () => number;
  maxEntries: () => number;
  rateUnits: () => string[];
}

const DAY_MS = 86_400_000;
const DEFAULT_PHASES = 3;

export class ProfileStack {
  readonly installed: InstalledProfile[] = [];

  constructor(private readonly options: ProfileStackOptions) {}

  /** SetChargingProfile: installs the profile, or says why not (statusInfo.reasonCode). */
  set({
    evseId,
    chargingProfile: profile,
  }: OCPP20.SetChargingProfileRequest): OCPP20.SetChargingProfileResponse {
    const refuse = (reasonCode: string) => ({ status: 'Rejected' as const, statusInfo: { reasonCode } });
    const purpose = profile.chargingProfilePurpose;
    if (!this.options.enabled()) return refuse('SmartChargingOff');
    if (evseId > this.options.evses) return refuse('UnknownEVSE');
    if (purpose === 'ChargingStationExternalConstraints') return refuse('NotByCSMS');
    if (purpose === 'ChargingStationMaxProfile' && evseId !== 0) return refuse('MaxProfileNotOnEVSE0');
    if (purpose === 'ChargingStationMaxProfile' && profile.chargingProfileKind === 'Relative')
      return refuse('MaxProfileRelative');
    if (purpose === 'TxProfile') {
      if (evseId === 0) return refuse('TxProfileOnEVSE0');
      if (profile.transactionId === undefined) return refuse('NoTransactionId');
      const running = this.options.running(evseId);
      if (this.options.strict && profile.transactionId !== running?.transactionId)
        return refuse('UnknownTransaction');
    }
    if (profile.stackLevel > this.options.maxStackLevel()) return refuse('StackLevelTooHigh');
    for (const schedule of profile.chargingSchedule) {
      if (profile.chargingProfileKind !== 'Relative' && schedule.startSchedule === undefined)
        return refuse('NoStartSchedule');
      if (!this.options.rateUnits().includes(schedule.chargingRateUnit)) return refuse('RateUnitUnsupported');
      if (schedule.chargingSchedulePeriod.length > this.options.maxPeriods()) return refuse('TooManyPeriods');
      const starts = schedule.chargingSchedulePeriod.map((p) => p.startPeriod);
      if (starts[0] !== 0 || starts.some((start, i) => i > 0 && start <= (starts[i - 1] ?? 0)))
        return refuse('BadStartPeriods');
    }
    const others = this.installed.filter((entry) => entry.profile.id !== profile.id);
    const clash = ({ evseId: on, profile: other }: InstalledProfile) =>
      on === evseId &&
      other.chargingProfilePurpose === purpose &&
      other.stackLevel === profile.stackLevel &&
      (purpose !== 'TxProfile' || other.transactionId === profile.transactionId) &&
      overlap(other, profile);
    if (others.some(clash)) return refuse('DuplicateStackLevel');
    if (others.length >= this.options.maxEntries()) return refuse('TooManyProfiles');
    this.installed.splice(0, this.installed.length, ...others, { evseId, profile: structuredClone(profile) });
    return { status: 'Accepted' };
  }

  /** ClearChargingProfile (K10): Accepted when it removed something. */
  clear(request: OCPP20.ClearChargingProfileRequest): OCPP20.ClearChargingProfileResponse {
    const criteria = request.chargingProfileCriteria;
    const matches = ({ evseId, profile }: InstalledProfile) =>
      request.chargingProfileId !== undefined
        ? profile.id === request.chargingProfileId
        : criteria !== undefined &&
          (criteria.evseId ?? evseId) === evseId &&
          (criteria.chargingProfilePurpose ?? profile.chargingProfilePurpose) ===
            profile.chargingProfilePurpose &&
          (criteria.stackLevel ?? profile.stackLevel) === profile.stackLevel;
    return { status: this.remove(matches) > 0 ? 'Accepted' : 'Unknown' };
  }

  /** A transaction ended: its TxProfiles go with it. */
  endTransaction(transactionId: string): void {
    this.remove(({ profile }) => profile.transactionId === transactionId);
  }

  /** GetChargingProfiles (K09): the ReportChargingProfiles to send, one per EVSE; none: NoProfiles. */
  reports(request: OCPP20.GetChargingProfilesRequest): OCPP20.ReportChargingProfilesRequest[] {
    const { chargingProfilePurpose, stackLevel, chargingProfileId, chargingLimitSource } =
      request.chargingProfile;
    const byEvse = new Map<number, ChargingProfile[]>();
    for (const { evseId, profile } of this.installed) {
      if (
        (request.evseId ?? evseId) === evseId &&
        (chargingProfilePurpose ?? profile.chargingProfilePurpose) === profile.chargingProfilePurpose &&
        (stackLevel ?? profile.stackLevel) === profile.stackLevel &&
        (chargingProfileId?.includes(profile.id) ?? true) &&
        (chargingLimitSource?.includes('CSO') ?? true)
      )
        byEvse.set(evseId, [...(byEvse.get(evseId) ?? []), profile]);
    }
    return [...byEvse].map(([evseId, chargingProfile], i) => ({
      requestId: request.requestId,
      chargingLimitSource: 'CSO',
      evseId,
      chargingProfile,
      tbc: i < byEvse.size - 1,
    }));
  }

  /** GetCompositeSchedule (K08) at `nowMs`. */
  compositeSchedule(
    request: OCPP20.GetCompositeScheduleRequest,
    nowMs: number,
  ): OCPP20.GetCompositeScheduleResponse {
    const { evseId, duration, chargingRateUnit = 'A' } = request;
    if (evseId > this.options.evses) return { status: 'Rejected', statusInfo: { reasonCode: 'UnknownEVSE' } };
    return { status: 'Accepted', schedule: this.composite(evseId, duration, nowMs, chargingRateUnit) };
  }

  /** The current per phase the EVSE may take at `atMs`, A, and the phases the profile in force names. */
  limitAt(evseId: number, atMs: number, requestMs = atMs): { limitA: number; numberPhases?: number } {
    const running = evseId === 0 ? undefined : this.options.running(evseId);
    const relativeStartMs = running?.startedAtMs ?? requestMs;
    const highest = (purpose: string, on: number, transactionId?: string) => {
      let best: { stackLevel: number; limitA: number; numberPhases?: number } | undefined;
      for (const { evseId: id, profile } of this.installed) {
        if (id !== on || profile.chargingProfilePurpose !== purpose) continue;
        if (purpose === 'TxProfile' && profile.transactionId !== transactionId) continue;
        const period = this.periodAt(profile, atMs, relativeStartMs);
        if (period && (!best || profile.stackLevel > best.stackLevel))
          best = { stackLevel: profile.stackLevel, ...period };
      }
      return best;
    };
    const stationMax = highest('ChargingStationMaxProfile', 0);
    const own =
      evseId === 0
        ? undefined
        : ((running && highest('TxProfile', evseId, running.transactionId)) ??
          highest('TxDefaultProfile', evseId) ??
          highest('TxDefaultProfile', 0));
    const limitA = Math.min(this.options.ratedA, stationMax?.limitA ?? Infinity, own?.limitA ?? Infinity);
    const numberPhases = own ? own.numberPhases : stationMax?.numberPhases;
    return { limitA: Math.floor(limitA * 10 + 1e-9) / 10, ...(numberPhases ? { numberPhases } : {}) };
  }

  /** The limits from `nowMs` for `durationS`, with a period wherever one of them changes. */
  private composite(evseId: number, durationS: number, nowMs: number, unit: 'A' | 'W') {
    const endMs = nowMs + durationS * 1000;
    const relativeStartMs = (evseId === 0 ? undefined : this.options.running(evseId))?.startedAtMs ?? nowMs;
    const changes = new Set<number>([nowMs]);
    for (const { profile } of this.installed) {
      for (const edge of [profile.validFrom, profile.validTo]) if (edge) changes.add(Date.parse(edge));
      const schedule = profile.chargingSchedule[0];
      if (!schedule) continue;
      const everyMs = recurrence(profile);
      let startMs = scheduleStartMs(profile, schedule, nowMs, relativeStartMs);
      for (let n = 0; n < 64 && startMs < endMs; n++, startMs += everyMs ?? Infinity) {
        for (const p of schedule.chargingSchedulePeriod) changes.add(startMs + p.startPeriod * 1000);
        if (schedule.duration !== undefined) changes.add(startMs + schedule.duration * 1000);
      }
    }
    const chargingSchedulePeriod: Period[] = [];
    for (const atMs of [...changes].filter((t) => t >= nowMs && t < endMs).sort((a, b) => a - b)) {
      const { limitA, numberPhases } = this.limitAt(evseId, atMs, nowMs);
      const phases = numberPhases ?? DEFAULT_PHASES;
      const limit = unit === 'A' ? limitA : Math.round(limitA * this.options.voltageV * phases);
      const last = chargingSchedulePeriod[chargingSchedulePeriod.length - 1];
      if (last && last.limit === limit && last.numberPhases === numberPhases) continue;
      const startPeriod = Math.round((atMs - nowMs) / 1000);
      chargingSchedulePeriod.push({ startPeriod, limit, ...(numberPhases ? { numberPhases } : {}) });
    }
    const scheduleStart = new Date(nowMs).toISOString();
    return { evseId, duration: durationS, scheduleStart, chargingRateUnit: unit, chargingSchedulePeriod };
  }

  /** The period of the profile in force at `atMs`, in amperes, if one is. */
  private periodAt(profile: ChargingProfile, atMs: number, relativeStartMs: number) {
    const schedule = profile.chargingSchedule[0];
    if (!schedule) return undefined;
    if (profile.validFrom && atMs < Date.parse(profile.validFrom)) return undefined;
    if (profile.validTo && atMs >= Date.parse(profile.validTo)) return undefined;
    const intoMs = atMs - scheduleStartMs(profile, schedule, atMs, relativeStartMs);
    if (intoMs < 0 || (schedule.duration !== undefined && intoMs >= schedule.duration * 1000))
      return undefined;
    const period = schedule.chargingSchedulePeriod.filter((p) => p.startPeriod * 1000 <= intoMs).pop();
    if (!period) return undefined;
    const phases = period.numberPhases ?? DEFAULT_PHASES;
    const limitA =
      schedule.chargingRateUnit === 'A' ? period.limit : period.limit / (this.options.voltageV * phases);
    return { limitA, numberPhases: period.numberPhases };
  }

  private remove(matches: (entry: InstalledProfile) => boolean): number {
    const kept = this.installed.filter((entry) => !matches(entry));
    const removed = this.installed.length - kept.length;
    this.installed.splice(0, this.installed.length, ...kept);
    return removed;
  }
}

function recurrence(profile: ChargingProfile): number | undefined {
  if (profile.chargingProfileKind !== 'Recurring') return undefined;
  return profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
}

/** When the schedule starts (its occurrence in force at `atMs`, for a recurring one). */
function scheduleStartMs(
  profile: ChargingProfile,
  schedule: Schedule,
  atMs: number,
  relativeStartMs: number,
) {
  if (profile.chargingProfileKind === 'Relative' || schedule.startSchedule === undefined)
    return relativeStartMs;
  const startMs = Date.parse(schedule.startSchedule);
  const everyMs = recurrence(profile);
  if (everyMs === undefined || atMs < startMs) return startMs;
  return startMs + Math.floor((atMs - startMs) / everyMs) * everyMs;
}

/** Whether two profiles' validity periods overlap (absent bounds are open). */
function overlap(a: ChargingProfile, b: ChargingProfile): boolean {
  const from = (p: ChargingProfile) => (p.validFrom ? Date.parse(p.validFrom) : -Infinity);
  const to = (p: ChargingProfile) => (p.validTo ? Date.parse(p.validTo) : Infinity);
  return from(a) < to(b) && from(b) < to(a);
}
