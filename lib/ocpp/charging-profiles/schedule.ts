import {
  type ConnectorView,
  DAY_MS,
  EXTERNAL_CONSTRAINTS,
  type InstalledProfile,
  type ModelProfile,
  type Period,
} from './model';

/**
 * When a profile applies and which one prevails: validity (validFrom/validTo), the start of its
 * schedule (Absolute, Relative, Recurring Daily or Weekly), its duration, the period in force at a
 * moment, the stack levels (3.13.2; 2.0.1 K08 the same), and the moments at which any of that
 * changes. Pure functions of an installed profile; the store (store.ts) picks the candidates.
 */

/**
 * "The prevailing charging profile SHALL be the charging profile with the highest stackLevel among
 * the profiles that are valid at that point in time" (3.13.2).
 */
export function prevailing(
  candidates: readonly InstalledProfile[],
  atMs: number,
  connector: ConnectorView | undefined,
  nowMs: number,
): InstalledProfile | undefined {
  let best: InstalledProfile | undefined;
  for (const candidate of candidates) {
    if (!periodAt(candidate, atMs, connector, nowMs)) continue;
    if (!best || candidate.profile.stackLevel > best.profile.stackLevel) best = candidate;
  }
  return best;
}

/** The schedule period in force at `atMs`, or undefined when the profile does not apply then. */
export function periodAt(
  installed: InstalledProfile,
  atMs: number,
  connector: ConnectorView | undefined,
  nowMs: number,
): Period | undefined {
  const { profile } = installed;
  if (profile.validFrom && atMs < Date.parse(profile.validFrom)) return undefined;
  if (profile.validTo && atMs >= Date.parse(profile.validTo)) return undefined;
  const startMs = scheduleStartMs(installed, atMs, connector, nowMs);
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

/** Start of the schedule (of the current recurrence) in force at `atMs`, if it has started. */
function scheduleStartMs(
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

/** Moments within (fromMs, toMs) at which `installed` may start, stop or change its limit. */
export function breakpoints(
  installed: InstalledProfile,
  fromMs: number,
  toMs: number,
  connectors: readonly ConnectorView[],
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
    const mine =
      installed.connectorId === 0
        ? connectors
        : connectors.filter((c) => c.connectorId === installed.connectorId);
    const starts = new Set<number>();
    if (profile.chargingProfileKind === 'Relative') {
      for (const connector of mine) starts.add(relativeStartMs(installed, connector, nowMs));
      if (mine.length === 0) starts.add(relativeStartMs(installed, undefined, nowMs));
    } else {
      starts.add(startSchedule ? Date.parse(startSchedule) : installed.installedAtMs);
    }
    for (const startMs of starts) {
      addSchedule(startMs, duration === undefined ? Number.POSITIVE_INFINITY : startMs + duration * 1000);
    }
  }
  return points.filter((point) => point > fromMs && point < toMs);
}

/**
 * The "situation-specific start point" of a Relative profile (7.9): the start of the transaction;
 * without one, the moment one would start (now). A ChargePointMaxProfile and external constraints
 * belong to no transaction: theirs is the moment they were installed.
 */
function relativeStartMs(
  installed: InstalledProfile,
  connector: ConnectorView | undefined,
  nowMs: number,
): number {
  const purpose = installed.profile.chargingProfilePurpose;
  if (purpose === 'ChargePointMaxProfile' || purpose === EXTERNAL_CONSTRAINTS) return installed.installedAtMs;
  return connector?.transaction?.startMs ?? nowMs;
}

function recurrenceMs(profile: ModelProfile): number {
  return profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
}
