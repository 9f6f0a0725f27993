import type {
  ClearChargingProfileRequest,
  GetCompositeScheduleResponse,
  SetChargingProfileRequest,
} from '../ocpp/messages';

/**
 * Charging profiles on the simulated charge point (OCPP 1.6 section 3.13 and 5.16, with errata
 * v4.0): where they are kept, which one prevails when, and the composite schedule that follows.
 *
 * Internally every limit is a current per phase in A plus the phase count it applies to; a limit in
 * W becomes A through the nominal voltage: I = P / (U × numberPhases), numberPhases defaulting to 3
 * (7.12 as amended by errata 3.68).
 */

export type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];
export type ChargingProfilePurpose = ChargingProfile['chargingProfilePurpose'];
export type ChargingRateUnit = 'A' | 'W';
type Period = ChargingProfile['chargingSchedule']['chargingSchedulePeriod'][number];

const DAY_MS = 24 * 3600 * 1000;
/** How far ahead the charge point looks for the next change of its limit. */
const LOOKAHEAD_MS = 8 * DAY_MS;

export interface InstalledProfile {
  connectorId: number;
  profile: ChargingProfile;
  /** When the charge point received it: the start of an Absolute schedule that has no startSchedule. */
  installedAtMs: number;
  /** The transaction a TxProfile belongs to (the simulator's own key, known before the central system's id). */
  transactionKey?: number;
}

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

/** How the store deviates from OCPP 1.6, as some charger models do (see VendorBehaviour in types.ts). */
export interface StoreBehaviour {
  /** numberPhases is read as absent: W over 3 phases, no switch to one phase. */
  ignoreNumberPhases: boolean;
  /** A TxDefaultProfile applies to transactions that start after it was installed only. */
  txDefaultFromNextSession: boolean;
  /** Profiles are kept and reported (GetCompositeSchedule) but do not limit the current offered. */
  ignoreLimits: boolean;
  /** The only currents offered; a scheduled limit is rounded down to one of them (0 below the first). */
  currentStepsA: readonly number[];
}

const OCPP_BEHAVIOUR: StoreBehaviour = {
  ignoreNumberPhases: false,
  txDefaultFromNextSession: false,
  ignoreLimits: false,
  currentStepsA: [],
};

/** A TxDefaultProfile that was replaced or cleared while transactions that started with it may run on. */
interface RetiredProfile extends InstalledProfile {
  retiredAtMs: number;
}

/** Retired TxDefaultProfiles kept for running transactions (txDefaultFromNextSession); older ones go. */
const RETIRED_KEPT = 50;

export class ChargingProfileStore {
  private profiles: InstalledProfile[] = [];
  private retired: RetiredProfile[] = [];
  private behaviour: StoreBehaviour = OCPP_BEHAVIOUR;
  /** A local limit per connector and phase, in A, outside OCPP smart charging (a vendor key). */
  private localCapA: number | undefined;

  all(): readonly InstalledProfile[] {
    return this.profiles;
  }

  /** Switches vendor deviations on (the default is OCPP 1.6 with the errata). */
  configure(behaviour: Partial<StoreBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /**
   * A local current limit per connector and phase (such as an EVlink's maxIntensitySocket), applied
   * on top of the profiles and reported in the composite schedule ("local limits", 5.7).
   */
  setLocalCapA(capA: number | undefined): void {
    this.localCapA = capA;
  }

  /**
   * Checks a SetChargingProfile (or a RemoteStartTransaction profile) against the charge point's
   * capabilities and state. `transaction` is the one running on the connector.
   */
  check(
    connectorId: number,
    profile: ChargingProfile,
    rules: ProfileRules,
    transaction?: { key: number; transactionId?: number },
  ): ProfileVerdict {
    const reject = (reason: string): ProfileVerdict => ({ status: 'Rejected', reason });
    const schedule = profile.chargingSchedule;
    const periods = schedule.chargingSchedulePeriod;
    switch (profile.chargingProfilePurpose) {
      case 'ChargePointMaxProfile':
        // "ChargePointMaxProfile can only be set at Charge Point ConnectorId 0" (3.13.1).
        if (connectorId !== 0) return reject('ChargePointMaxProfile is only allowed on connector 0');
        break;
      case 'TxProfile':
        // "TxProfile SHALL only be set at Charge Point ConnectorId >0" and only with a transaction (3.13.1).
        if (connectorId === 0) return reject('TxProfile is not allowed on connector 0');
        if (!transaction) return reject(`no transaction on connector ${connectorId}`);
        // A transaction whose id has not been read yet is the one the profile names: a charger reads
        // its StartTransaction answer before the next frame, this simulator a moment after.
        if (
          profile.transactionId !== undefined &&
          transaction.transactionId !== undefined &&
          profile.transactionId !== transaction.transactionId
        ) {
          return reject(`transaction ${profile.transactionId} is not the one on connector ${connectorId}`);
        }
        break;
      default:
    }
    if (profile.stackLevel < 0 || profile.stackLevel > rules.maxStackLevel) {
      return reject(
        `stackLevel ${profile.stackLevel} is above ChargeProfileMaxStackLevel ${rules.maxStackLevel}`,
      );
    }
    if (!rules.allowedUnits.has(schedule.chargingRateUnit)) {
      return reject(`chargingRateUnit ${schedule.chargingRateUnit} is not allowed here`);
    }
    if (periods.length === 0 || periods.length > rules.maxPeriods) {
      return reject(`${periods.length} periods; ChargingScheduleMaxPeriods is ${rules.maxPeriods}`);
    }
    // "The startPeriod of the first ChargingSchedulePeriod in a ChargingSchedule SHALL always be 0" (errata 3.45).
    if (periods[0]?.startPeriod !== 0) return reject('the first period must start at 0');
    for (let i = 1; i < periods.length; i++) {
      if ((periods[i]?.startPeriod ?? 0) <= (periods[i - 1]?.startPeriod ?? 0)) {
        return reject('startPeriod values must increase');
      }
    }
    if (periods.some((period) => period.limit < 0)) return reject('a limit is negative');
    if (profile.chargingProfileKind === 'Recurring') {
      if (!profile.recurrencyKind) return reject('a Recurring profile needs recurrencyKind');
      if (!schedule.startSchedule) return reject('a Recurring profile needs startSchedule');
    } else if (profile.recurrencyKind) {
      // Errata 3.56: recurrencyKind "SHALL only be used when ... Recurring".
      return reject('recurrencyKind is only for Recurring profiles');
    }
    if (
      profile.validFrom &&
      profile.validTo &&
      Date.parse(profile.validTo) <= Date.parse(profile.validFrom)
    ) {
      return reject('validTo is not after validFrom');
    }
    const remaining = this.profiles.filter((installed) => !replaces(connectorId, profile, installed));
    if (remaining.length + 1 > rules.maxInstalled) {
      return reject(`MaxChargingProfilesInstalled (${rules.maxInstalled}) reached`);
    }
    return { status: 'Accepted' };
  }

  /**
   * Installs a profile. It replaces a profile with the same chargingProfileId, and one with the same
   * purpose and stackLevel on the same connector (5.16.3; keyed per connector so that a connector's
   * own TxDefaultProfile leaves connector 0's in place, 3.13.1).
   */
  install(connectorId: number, profile: ChargingProfile, nowMs: number, transactionKey?: number): void {
    this.retire(
      this.profiles.filter((installed) => replaces(connectorId, profile, installed)),
      nowMs,
    );
    this.profiles = this.profiles.filter((installed) => !replaces(connectorId, profile, installed));
    this.profiles.push({
      connectorId,
      profile: structuredClone(profile),
      installedAtMs: nowMs,
      ...(transactionKey === undefined ? {} : { transactionKey }),
    });
  }

  /**
   * ClearChargingProfile with errata 3.25/3.26 semantics: an id clears that profile only; otherwise
   * every profile that matches all given fields; no field at all clears everything.
   * Returns whether anything was removed.
   */
  clear(request: ClearChargingProfileRequest, nowMs = 0): boolean {
    const matches = (installed: InstalledProfile) => {
      if (request.id !== undefined) return installed.profile.chargingProfileId === request.id;
      return (
        (request.connectorId === undefined || installed.connectorId === request.connectorId) &&
        (request.chargingProfilePurpose === undefined ||
          installed.profile.chargingProfilePurpose === request.chargingProfilePurpose) &&
        (request.stackLevel === undefined || installed.profile.stackLevel === request.stackLevel)
      );
    };
    const removed = this.profiles.filter(matches);
    this.retire(removed, nowMs);
    this.profiles = this.profiles.filter((installed) => !matches(installed));
    return removed.length > 0;
  }

  /**
   * A charger that applies a TxDefaultProfile from the next transaction on keeps the one a running
   * transaction started with, even after it was replaced or cleared.
   */
  private retire(removed: InstalledProfile[], nowMs: number): void {
    if (!this.behaviour.txDefaultFromNextSession) return;
    for (const installed of removed) {
      if (installed.profile.chargingProfilePurpose !== 'TxDefaultProfile') continue;
      this.retired.push({ ...installed, retiredAtMs: nowMs });
    }
    if (this.retired.length > RETIRED_KEPT) this.retired.splice(0, this.retired.length - RETIRED_KEPT);
  }

  /** "After the transaction is stopped, the profile SHOULD be deleted" (3.13.1). */
  removeTransactionProfiles(transactionKey: number): void {
    this.profiles = this.profiles.filter(
      (installed) =>
        !(
          installed.profile.chargingProfilePurpose === 'TxProfile' &&
          installed.transactionKey === transactionKey
        ),
    );
  }

  /**
   * The limit the charge point enforces on a transaction on `connector` at `atMs`: the TxProfile
   * or TxDefaultProfile limit, rounded down to the currents the charger can offer, and the local cap.
   */
  transactionLimitAt(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    const scheduled = this.behaviour.ignoreLimits
      ? undefined
      : this.scheduledTxLimit(connector, atMs, voltageV, nowMs);
    const steps = this.behaviour.currentStepsA;
    if (!scheduled || steps.length === 0) return this.withLocalCap(scheduled, connector.phases);
    const stepA = [...steps].sort((a, b) => b - a).find((step) => step <= scheduled.currentA + 1e-9) ?? 0;
    return this.withLocalCap({ ...scheduled, currentA: stepA }, connector.phases);
  }

  /** The ChargePointMaxProfile limit the charge point enforces at `atMs` (for all connectors together). */
  chargePointLimitAt(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    return this.behaviour.ignoreLimits ? undefined : this.scheduledChargePointLimit(atMs, voltageV, nowMs);
  }

  /** The TxProfile or TxDefaultProfile limit of a transaction on `connector`, as the profiles say. */
  private scheduledTxLimit(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    return this.limitOf(this.prevailingTx(connector, atMs, nowMs), atMs, voltageV, connector, nowMs);
  }

  private scheduledChargePointLimit(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    const prevailing = this.prevailing(
      this.profiles.filter((p) => p.profile.chargingProfilePurpose === 'ChargePointMaxProfile'),
      atMs,
      undefined,
      nowMs,
    );
    return this.limitOf(prevailing, atMs, voltageV, undefined, nowMs);
  }

  private withLocalCap(limit: Limit | undefined, phases: number): Limit | undefined {
    if (this.localCapA === undefined) return limit;
    const cap: Limit = { currentA: this.localCapA, phases };
    return limit ? minLimit(limit, cap) : cap;
  }

  /**
   * The composite limit for one connector: the minimum of the ChargePointMaxProfile and the
   * transaction's profile (3.13.3), capped by the connector's rating. Connector 0 reports what the
   * whole charge point may draw: the sum over its connectors, capped by the ChargePointMaxProfile.
   */
  compositeAt(connectorId: number, atMs: number, context: LimitContext, nowMs: number): Limit {
    // What the profiles say, even on a charger that does not enforce them (ignoreLimits).
    const cpMax = this.scheduledChargePointLimit(atMs, context.voltageV, nowMs);
    if (connectorId === 0) {
      let sumA = 0;
      let phases = 1;
      for (const connector of context.connectors) {
        const limit = this.connectorLimit(connector, atMs, context.voltageV, nowMs);
        sumA += limit.currentA;
        phases = Math.max(phases, limit.phases);
      }
      const total: Limit = { currentA: sumA, phases };
      return cpMax ? minLimit(total, cpMax) : total;
    }
    const connector = context.connectors.find((c) => c.connectorId === connectorId);
    if (!connector) throw new RangeError(`no connector ${connectorId}`);
    const limit = this.connectorLimit(connector, atMs, context.voltageV, nowMs);
    return cpMax ? minLimit(limit, cpMax) : limit;
  }

  /** GetCompositeSchedule (5.7): the composite from `fromMs` for `durationS` seconds. */
  compositeSchedule(
    connectorId: number,
    fromMs: number,
    durationS: number,
    unit: ChargingRateUnit,
    context: LimitContext,
  ): GetCompositeScheduleResponse {
    const toMs = fromMs + durationS * 1000;
    const points = new Set<number>([fromMs]);
    for (const installed of [...this.relevant(connectorId), ...this.retired]) {
      for (const point of this.breakpoints(installed, fromMs, toMs, context, fromMs)) points.add(point);
    }
    const periods: { startPeriod: number; limit: number; numberPhases?: number }[] = [];
    for (const atMs of [...points].sort((a, b) => a - b)) {
      const limit = this.compositeAt(connectorId, atMs, context, fromMs);
      const value = round1(unit === 'A' ? limit.currentA : limit.currentA * context.voltageV * limit.phases);
      const last = periods[periods.length - 1];
      if (last && last.limit === value && last.numberPhases === limit.numberPhases) continue;
      periods.push({
        startPeriod: Math.round((atMs - fromMs) / 1000),
        limit: value,
        ...(limit.numberPhases === undefined ? {} : { numberPhases: limit.numberPhases }),
      });
    }
    return {
      status: 'Accepted',
      connectorId,
      scheduleStart: new Date(fromMs).toISOString(),
      // Errata 3.57: startSchedule is omitted in a composite schedule; periods are relative to scheduleStart.
      chargingSchedule: { duration: durationS, chargingRateUnit: unit, chargingSchedulePeriod: periods },
    };
  }

  /** The next moment after `afterMs` at which some connector's limit may change, if any within 8 days. */
  nextChangeAfter(afterMs: number, context: LimitContext): number | undefined {
    let next: number | undefined;
    for (const installed of [...this.profiles, ...this.retired]) {
      for (const point of this.breakpoints(installed, afterMs, afterMs + LOOKAHEAD_MS, context, afterMs)) {
        if (next === undefined || point < next) next = point;
      }
    }
    return next;
  }

  private connectorLimit(connector: ConnectorView, atMs: number, voltageV: number, nowMs: number): Limit {
    const hardware: Limit = { currentA: connector.maxCurrentA, phases: connector.phases };
    const tx = this.withLocalCap(this.scheduledTxLimit(connector, atMs, voltageV, nowMs), connector.phases);
    return tx ? minLimit(hardware, { ...tx, phases: Math.min(tx.phases, connector.phases) }) : hardware;
  }

  private relevant(connectorId: number): InstalledProfile[] {
    return connectorId === 0
      ? this.profiles
      : this.profiles.filter((p) => p.connectorId === 0 || p.connectorId === connectorId);
  }

  /**
   * A TxProfile of the running transaction overrules TxDefaultProfile (3.13.1). Among
   * TxDefaultProfiles, the connector's own replace those of connector 0 for that connector; when
   * none of its own is in force (validity, schedule not started or ended) connector 0's apply.
   */
  private prevailingTx(connector: ConnectorView, atMs: number, nowMs: number): InstalledProfile | undefined {
    const tx = connector.transaction;
    if (tx) {
      const txProfiles = this.profiles.filter(
        (p) =>
          p.profile.chargingProfilePurpose === 'TxProfile' &&
          p.connectorId === connector.connectorId &&
          p.transactionKey === tx.key,
      );
      const txProfile = this.prevailing(txProfiles, atMs, connector, nowMs);
      if (txProfile) return txProfile;
    }
    // A charger that takes a TxDefaultProfile from the next transaction on gives a running one
    // the profiles that were in place when it started.
    const startMs = this.behaviour.txDefaultFromNextSession ? tx?.startMs : undefined;
    const defaults = (connectorId: number) =>
      startMs === undefined
        ? this.profiles.filter(
            (p) => p.profile.chargingProfilePurpose === 'TxDefaultProfile' && p.connectorId === connectorId,
          )
        : [...this.profiles, ...this.retired].filter(
            (p) =>
              p.profile.chargingProfilePurpose === 'TxDefaultProfile' &&
              p.connectorId === connectorId &&
              p.installedAtMs <= startMs &&
              (!('retiredAtMs' in p) || (p as RetiredProfile).retiredAtMs > startMs),
          );
    return (
      this.prevailing(defaults(connector.connectorId), atMs, connector, nowMs) ??
      this.prevailing(defaults(0), atMs, connector, nowMs)
    );
  }

  /** "The prevailing charging profile SHALL be the charging profile with the highest stackLevel among the profiles that are valid at that point in time" (3.13.2). */
  private prevailing(
    candidates: InstalledProfile[],
    atMs: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): InstalledProfile | undefined {
    let best: InstalledProfile | undefined;
    for (const candidate of candidates) {
      if (!this.periodAt(candidate, atMs, connector, nowMs)) continue;
      if (!best || candidate.profile.stackLevel > best.profile.stackLevel) best = candidate;
    }
    return best;
  }

  private limitOf(
    installed: InstalledProfile | undefined,
    atMs: number,
    voltageV: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): Limit | undefined {
    if (!installed) return undefined;
    const period = this.periodAt(installed, atMs, connector, nowMs);
    if (!period) return undefined;
    const numberPhases = this.behaviour.ignoreNumberPhases ? undefined : period.numberPhases;
    const phases = numberPhases ?? 3;
    // Errata 3.34: a limit in A applies as given to the phases in use; W is the total over numberPhases (7.12).
    const currentA =
      installed.profile.chargingSchedule.chargingRateUnit === 'A'
        ? period.limit
        : period.limit / (voltageV * phases);
    return {
      currentA,
      phases,
      ...(numberPhases === undefined ? {} : { numberPhases }),
    };
  }

  /** Start of the schedule (of the current recurrence) in force at `atMs`, if it has started. */
  private scheduleStartMs(
    installed: InstalledProfile,
    atMs: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): number | undefined {
    const { profile } = installed;
    const startSchedule = profile.chargingSchedule.startSchedule;
    switch (profile.chargingProfileKind) {
      case 'Absolute':
        return startSchedule ? Date.parse(startSchedule) : installed.installedAtMs;
      case 'Relative':
        return relativeStartMs(installed, connector, nowMs);
      default: {
        const baseMs = Date.parse(startSchedule ?? new Date(installed.installedAtMs).toISOString());
        if (atMs < baseMs) return undefined;
        const periodMs = recurrenceMs(profile);
        return baseMs + Math.floor((atMs - baseMs) / periodMs) * periodMs;
      }
    }
  }

  /** The schedule period in force at `atMs`, or undefined when the profile does not apply then. */
  private periodAt(
    installed: InstalledProfile,
    atMs: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): Period | undefined {
    const { profile } = installed;
    if (profile.validFrom && atMs < Date.parse(profile.validFrom)) return undefined;
    if (profile.validTo && atMs >= Date.parse(profile.validTo)) return undefined;
    const startMs = this.scheduleStartMs(installed, atMs, connector, nowMs);
    if (startMs === undefined || atMs < startMs) return undefined;
    const offsetS = (atMs - startMs) / 1000;
    const { duration, chargingSchedulePeriod } = profile.chargingSchedule;
    // After the duration the profile stops; a lower stack level (or no limit) applies (5.16.4, errata 3.43).
    if (duration !== undefined && offsetS >= duration) return undefined;
    let current: Period | undefined;
    for (const period of chargingSchedulePeriod) {
      if (period.startPeriod <= offsetS) current = period;
    }
    return current;
  }

  /** Moments within (fromMs, toMs) at which `installed` may start, stop or change its limit. */
  private breakpoints(
    installed: InstalledProfile,
    fromMs: number,
    toMs: number,
    context: LimitContext,
    nowMs: number,
  ): number[] {
    const { profile } = installed;
    const points: number[] = [];
    if (profile.validFrom) points.push(Date.parse(profile.validFrom));
    if (profile.validTo) points.push(Date.parse(profile.validTo));
    const { duration, chargingSchedulePeriod, startSchedule } = profile.chargingSchedule;
    const addSchedule = (startMs: number, endMs: number) => {
      points.push(startMs, endMs);
      for (const period of chargingSchedulePeriod) {
        const atMs = startMs + period.startPeriod * 1000;
        if (atMs < endMs) points.push(atMs);
      }
    };
    if (profile.chargingProfileKind === 'Recurring') {
      const baseMs = Date.parse(startSchedule ?? new Date(installed.installedAtMs).toISOString());
      const periodMs = recurrenceMs(profile);
      const first = Math.max(0, Math.floor((fromMs - baseMs) / periodMs));
      for (let k = first; baseMs + k * periodMs < toMs; k++) {
        const cycleMs = baseMs + k * periodMs;
        // Periods and duration past the recurrence period are not executed (5.16.4).
        const endMs = cycleMs + Math.min(periodMs, duration === undefined ? periodMs : duration * 1000);
        addSchedule(cycleMs, endMs);
        points.push(cycleMs + periodMs);
      }
    } else {
      const connectors =
        installed.connectorId === 0
          ? context.connectors
          : context.connectors.filter((c) => c.connectorId === installed.connectorId);
      const starts = new Set<number>();
      if (profile.chargingProfileKind === 'Relative') {
        for (const connector of connectors) starts.add(relativeStartMs(installed, connector, nowMs));
        if (connectors.length === 0) starts.add(relativeStartMs(installed, undefined, nowMs));
      } else {
        starts.add(startSchedule ? Date.parse(startSchedule) : installed.installedAtMs);
      }
      for (const startMs of starts) {
        addSchedule(startMs, duration === undefined ? Number.POSITIVE_INFINITY : startMs + duration * 1000);
      }
    }
    return points.filter((point) => point > fromMs && point < toMs);
  }
}

function replaces(connectorId: number, incoming: ChargingProfile, installed: InstalledProfile): boolean {
  if (installed.profile.chargingProfileId === incoming.chargingProfileId) return true;
  return (
    installed.connectorId === connectorId &&
    installed.profile.chargingProfilePurpose === incoming.chargingProfilePurpose &&
    installed.profile.stackLevel === incoming.stackLevel
  );
}

/**
 * The "situation-specific start point" of a Relative profile (7.9): the start of the transaction;
 * without one, the moment one would start (now); for a ChargePointMaxProfile, which belongs to no
 * transaction, the moment it was installed.
 */
function relativeStartMs(
  installed: InstalledProfile,
  connector: ConnectorView | undefined,
  nowMs: number,
): number {
  if (installed.profile.chargingProfilePurpose === 'ChargePointMaxProfile') return installed.installedAtMs;
  return connector?.transaction?.startMs ?? nowMs;
}

function recurrenceMs(profile: ChargingProfile): number {
  return profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
}

function minLimit(a: Limit, b: Limit): Limit {
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

/** Limits are decimals with at most one fraction digit (7.14). */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
