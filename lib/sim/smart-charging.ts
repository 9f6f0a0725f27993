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

export class ChargingProfileStore {
  private profiles: InstalledProfile[] = [];

  all(): readonly InstalledProfile[] {
    return this.profiles;
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
        if (profile.transactionId !== undefined && profile.transactionId !== transaction.transactionId) {
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
  clear(request: ClearChargingProfileRequest): boolean {
    const before = this.profiles.length;
    this.profiles = this.profiles.filter((installed) => {
      if (request.id !== undefined) return installed.profile.chargingProfileId !== request.id;
      const matches =
        (request.connectorId === undefined || installed.connectorId === request.connectorId) &&
        (request.chargingProfilePurpose === undefined ||
          installed.profile.chargingProfilePurpose === request.chargingProfilePurpose) &&
        (request.stackLevel === undefined || installed.profile.stackLevel === request.stackLevel);
      return !matches;
    });
    return this.profiles.length < before;
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

  /** The limit a transaction on `connector` gets at `atMs` from TxProfile or TxDefaultProfile. */
  transactionLimitAt(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    return this.limitOf(this.prevailingTx(connector, atMs, nowMs), atMs, voltageV, connector, nowMs);
  }

  /** The ChargePointMaxProfile limit at `atMs` (for all connectors together). */
  chargePointLimitAt(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    const prevailing = this.prevailing(
      this.profiles.filter((p) => p.profile.chargingProfilePurpose === 'ChargePointMaxProfile'),
      atMs,
      undefined,
      nowMs,
    );
    return this.limitOf(prevailing, atMs, voltageV, undefined, nowMs);
  }

  /**
   * The composite limit for one connector: the minimum of the ChargePointMaxProfile and the
   * transaction's profile (3.13.3), capped by the connector's rating. Connector 0 reports what the
   * whole charge point may draw: the sum over its connectors, capped by the ChargePointMaxProfile.
   */
  compositeAt(connectorId: number, atMs: number, context: LimitContext, nowMs: number): Limit {
    const cpMax = this.chargePointLimitAt(atMs, context.voltageV, nowMs);
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
    for (const installed of this.relevant(connectorId)) {
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
    for (const installed of this.profiles) {
      for (const point of this.breakpoints(installed, afterMs, afterMs + LOOKAHEAD_MS, context, afterMs)) {
        if (next === undefined || point < next) next = point;
      }
    }
    return next;
  }

  private connectorLimit(connector: ConnectorView, atMs: number, voltageV: number, nowMs: number): Limit {
    const hardware: Limit = { currentA: connector.maxCurrentA, phases: connector.phases };
    const tx = this.transactionLimitAt(connector, atMs, voltageV, nowMs);
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
    const defaults = (connectorId: number) =>
      this.profiles.filter(
        (p) => p.profile.chargingProfilePurpose === 'TxDefaultProfile' && p.connectorId === connectorId,
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
    const phases = period.numberPhases ?? 3;
    // Errata 3.34: a limit in A applies as given to the phases in use; W is the total over numberPhases (7.12).
    const currentA =
      installed.profile.chargingSchedule.chargingRateUnit === 'A'
        ? period.limit
        : period.limit / (voltageV * phases);
    return {
      currentA,
      phases,
      ...(period.numberPhases === undefined ? {} : { numberPhases: period.numberPhases }),
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
