import type {
  ClearChargingProfileRequest,
  GetCompositeScheduleResponse,
  SetChargingProfileRequest,
} from '../../lib/ocpp/messages';

/**
 * The charging profiles a charge point keeps, as OCPP 1.6 says a compliant one keeps them, written
 * from the specification (sections 3.13, 5.5, 5.16, 7.8-7.14, errata 3.8, 3.45) and not from this
 * package's profile manager: the test chargers built on other libraries and on plain `ws` share it,
 * so that what they offer a car follows the profiles the central system sent, whatever sent them.
 *
 * - A profile with the same chargingProfileId, or the same purpose and stack level on the same
 *   connector, replaces the one installed (5.16.3, 5.16.4).
 * - ChargePointMaxProfile only on connector 0, TxProfile only on a connector > 0 with a running
 *   transaction (and its transactionId when one is given): otherwise Rejected (3.13.1).
 * - At any time the prevailing profile of a purpose is the one with the highest stack level that is
 *   valid (validFrom/validTo) and whose schedule runs (startSchedule, duration, recurrence) (3.13.2).
 * - The limit on a connector is the lowest of the ChargePointMaxProfile and the TxProfile, or the
 *   TxDefaultProfile when no TxProfile prevails; a TxDefaultProfile of the connector replaces the one
 *   of connector 0 for it (3.13.1); a new TxDefaultProfile applies to a running transaction (errata 3.8).
 * - A TxProfile ceases when its transaction ends (7.10).
 * - W is the total over the phases: A per phase = W / (230 V × numberPhases, 3 when absent) (7.12).
 */

export type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];
type Purpose = ChargingProfile['chargingProfilePurpose'];

/** The transaction running on a connector, as far as the profiles care. */
export interface RunningTransaction {
  /** Undefined between StartTransaction.req and its answer (a TxProfile may come in between). */
  transactionId?: number;
  startedAtMs: number;
}

export interface ProfileStoreOptions {
  connectors: number;
  /** ChargeProfileMaxStackLevel. */
  maxStackLevel: number;
  /** MaxChargingProfilesInstalled. */
  maxInstalled: number;
  /** ChargingScheduleMaxPeriods. */
  maxPeriods: number;
  /** The charger's own rating per phase, A: what the composite schedule shows where no profile limits. */
  ratedA: number;
  voltageV?: number;
}

interface Installed {
  connectorId: number;
  profile: ChargingProfile;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class ProfileStore {
  private installed: Installed[] = [];
  private readonly voltageV: number;

  constructor(private readonly options: ProfileStoreOptions) {
    this.voltageV = options.voltageV ?? 230;
  }

  /** Every profile installed now, per connector. */
  all(): readonly Installed[] {
    return this.installed;
  }

  /**
   * SetChargingProfile.req: installs the profile or says why not. `running` is the transaction on
   * the request's connector, if any.
   */
  set(request: SetChargingProfileRequest, running: RunningTransaction | undefined): 'Accepted' | 'Rejected' {
    const { connectorId } = request;
    const profile = request.csChargingProfiles;
    const schedule = profile.chargingSchedule;
    const periods = schedule.chargingSchedulePeriod;
    if (connectorId < 0 || connectorId > this.options.connectors) return 'Rejected';
    if (profile.stackLevel < 0 || profile.stackLevel > this.options.maxStackLevel) return 'Rejected';
    if (profile.chargingProfilePurpose === 'ChargePointMaxProfile' && connectorId !== 0) return 'Rejected';
    if (profile.chargingProfilePurpose === 'TxProfile') {
      if (connectorId === 0 || !running) return 'Rejected';
      if (
        profile.transactionId !== undefined &&
        running.transactionId !== undefined &&
        profile.transactionId !== running.transactionId
      )
        return 'Rejected';
    } else if (profile.transactionId !== undefined) return 'Rejected'; // 7.8: only with TxProfile
    // Errata 3.45: the first period starts at 0; periods in order; at most ChargingScheduleMaxPeriods.
    if (periods.length === 0 || periods.length > this.options.maxPeriods || periods[0]?.startPeriod !== 0)
      return 'Rejected';
    if (periods.some((p, i) => i > 0 && p.startPeriod <= (periods[i - 1]?.startPeriod ?? 0)))
      return 'Rejected';
    if (periods.some((p) => p.limit < 0)) return 'Rejected';
    if (profile.chargingProfileKind === 'Recurring' && (!profile.recurrencyKind || !schedule.startSchedule))
      return 'Rejected';
    const kept = this.installed.filter(
      (entry) =>
        entry.profile.chargingProfileId !== profile.chargingProfileId &&
        !(
          entry.connectorId === connectorId &&
          entry.profile.chargingProfilePurpose === profile.chargingProfilePurpose &&
          entry.profile.stackLevel === profile.stackLevel
        ),
    );
    if (kept.length >= this.options.maxInstalled) return 'Rejected';
    // A TxProfile given before the StartTransaction answer is for the transaction being started.
    const bound =
      profile.chargingProfilePurpose === 'TxProfile' &&
      profile.transactionId === undefined &&
      running?.transactionId !== undefined
        ? { ...profile, transactionId: running.transactionId }
        : profile;
    this.installed = [...kept, { connectorId, profile: structuredClone(bound) }];
    return 'Accepted';
  }

  /** ClearChargingProfile.req: every criterion given must match (5.5, 6.13); Unknown when none did. */
  clear(request: ClearChargingProfileRequest): 'Accepted' | 'Unknown' {
    const before = this.installed.length;
    this.installed = this.installed.filter(({ connectorId, profile }) => {
      if (request.id !== undefined && profile.chargingProfileId !== request.id) return true;
      if (request.connectorId !== undefined && connectorId !== request.connectorId) return true;
      if (
        request.chargingProfilePurpose !== undefined &&
        profile.chargingProfilePurpose !== request.chargingProfilePurpose
      )
        return true;
      if (request.stackLevel !== undefined && profile.stackLevel !== request.stackLevel) return true;
      return false;
    });
    return this.installed.length < before ? 'Accepted' : 'Unknown';
  }

  /** The transaction ended: its TxProfiles cease (7.10). */
  transactionEnded(connectorId: number): void {
    this.installed = this.installed.filter(
      (entry) => !(entry.connectorId === connectorId && entry.profile.chargingProfilePurpose === 'TxProfile'),
    );
  }

  /** A per phase the profiles allow the connector at `atMs` (Infinity: none limits it). */
  connectorLimitA(connectorId: number, running: RunningTransaction | undefined, atMs: number): number {
    const tx =
      (running ? this.prevailing('TxProfile', connectorId, running, atMs) : undefined) ??
      this.prevailing('TxDefaultProfile', connectorId, running, atMs) ??
      this.prevailing('TxDefaultProfile', 0, running, atMs);
    return Math.min(tx ?? Number.POSITIVE_INFINITY, this.chargePointLimitA(atMs));
  }

  /** A per phase the ChargePointMaxProfile allows all connectors together at `atMs`. */
  chargePointLimitA(atMs: number): number {
    return this.prevailing('ChargePointMaxProfile', 0, undefined, atMs) ?? Number.POSITIVE_INFINITY;
  }

  /**
   * GetCompositeSchedule.conf: the limits the connector (0: the charge point) will keep from now
   * for `durationS`, merged where they change, in `unit` (default A); the rating where nothing limits.
   */
  composite(
    connectorId: number,
    durationS: number,
    unit: 'A' | 'W' | undefined,
    running: RunningTransaction | undefined,
    nowMs: number,
  ): GetCompositeScheduleResponse {
    if (connectorId < 0 || connectorId > this.options.connectors) return { status: 'Rejected' };
    const endMs = nowMs + durationS * 1000;
    const at = (ms: number) => {
      const limit =
        connectorId === 0 ? this.chargePointLimitA(ms) : this.connectorLimitA(connectorId, running, ms);
      return Math.min(limit, this.options.ratedA);
    };
    const changes = [...new Set([nowMs, ...this.boundaries(running, nowMs, endMs)])].sort((a, b) => a - b);
    const periods: { startPeriod: number; limit: number }[] = [];
    for (const ms of changes) {
      const a = at(ms);
      const limit = tenthDown(unit === 'W' ? a * this.voltageV * 3 : a);
      if (periods[periods.length - 1]?.limit === limit) continue;
      periods.push({ startPeriod: Math.round((ms - nowMs) / 1000), limit });
    }
    return {
      status: 'Accepted',
      connectorId,
      scheduleStart: new Date(nowMs).toISOString(),
      chargingSchedule: {
        duration: durationS,
        startSchedule: new Date(nowMs).toISOString(),
        chargingRateUnit: unit ?? 'A',
        chargingSchedulePeriod: periods,
      },
    };
  }

  /** The limit of the prevailing profile of `purpose` on `connectorId` at `atMs`, A per phase. */
  private prevailing(
    purpose: Purpose,
    connectorId: number,
    running: RunningTransaction | undefined,
    atMs: number,
  ): number | undefined {
    let best: { stackLevel: number; limitA: number } | undefined;
    for (const { connectorId: on, profile } of this.installed) {
      if (on !== connectorId || profile.chargingProfilePurpose !== purpose) continue;
      if (
        purpose === 'TxProfile' &&
        profile.transactionId !== undefined &&
        running?.transactionId !== undefined &&
        profile.transactionId !== running.transactionId
      )
        continue;
      const limitA = this.limitAt(profile, running, atMs);
      if (limitA === undefined) continue;
      if (!best || profile.stackLevel > best.stackLevel) best = { stackLevel: profile.stackLevel, limitA };
    }
    return best?.limitA;
  }

  /** A per phase of the period in force at `atMs`; undefined when the profile does not apply then. */
  private limitAt(profile: ChargingProfile, running: RunningTransaction | undefined, atMs: number) {
    if (profile.validFrom && Date.parse(profile.validFrom) > atMs) return undefined;
    if (profile.validTo && Date.parse(profile.validTo) <= atMs) return undefined;
    const elapsedS = this.elapsedS(profile, running, atMs);
    if (elapsedS === undefined || elapsedS < 0) return undefined;
    const schedule = profile.chargingSchedule;
    if (schedule.duration !== undefined && elapsedS >= schedule.duration) return undefined;
    let period = schedule.chargingSchedulePeriod[0];
    for (const candidate of schedule.chargingSchedulePeriod)
      if (candidate.startPeriod <= elapsedS) period = candidate;
    if (!period) return undefined;
    return schedule.chargingRateUnit === 'A'
      ? period.limit
      : period.limit / (this.voltageV * (period.numberPhases ?? 3));
  }

  /** Seconds since the schedule started (7.9), within the current recurrence for a Recurring one. */
  private elapsedS(profile: ChargingProfile, running: RunningTransaction | undefined, atMs: number) {
    const start = profile.chargingSchedule.startSchedule;
    // Relative, or Absolute without a startSchedule: from the start of the transaction; before one
    // starts, the limit a transaction starting now would begin with.
    const fromTx = running?.startedAtMs ?? atMs;
    if (profile.chargingProfileKind === 'Relative' || start === undefined) return (atMs - fromTx) / 1000;
    const startMs = Date.parse(start);
    if (profile.chargingProfileKind === 'Absolute') return (atMs - startMs) / 1000;
    if (atMs < startMs) return undefined;
    const cycleMs = profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
    return ((atMs - startMs) % cycleMs) / 1000;
  }

  /** When some profile's limit may change between the two times (period starts, ends, validity). */
  private boundaries(running: RunningTransaction | undefined, fromMs: number, toMs: number): number[] {
    const times: number[] = [];
    for (const { profile } of this.installed) {
      if (profile.validFrom) times.push(Date.parse(profile.validFrom));
      if (profile.validTo) times.push(Date.parse(profile.validTo));
      const schedule = profile.chargingSchedule;
      const starts: number[] = [];
      if (profile.chargingProfileKind === 'Recurring' && schedule.startSchedule) {
        const cycleMs = profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
        const first = Date.parse(schedule.startSchedule);
        const k = Math.max(0, Math.floor((fromMs - first) / cycleMs));
        starts.push(first + k * cycleMs, first + (k + 1) * cycleMs);
      } else if (profile.chargingProfileKind === 'Relative' || !schedule.startSchedule) {
        starts.push(running?.startedAtMs ?? fromMs);
      } else starts.push(Date.parse(schedule.startSchedule));
      for (const startMs of starts) {
        for (const period of schedule.chargingSchedulePeriod) times.push(startMs + period.startPeriod * 1000);
        if (schedule.duration !== undefined) times.push(startMs + schedule.duration * 1000);
      }
    }
    return times.filter((ms) => ms > fromMs && ms < toMs);
  }
}

/** Down to a tenth (the schemas' multipleOf 0.1): never above what applies. */
export function tenthDown(value: number): number {
  return Number((Math.floor(value * 10 + 1e-9) / 10).toFixed(1));
}
