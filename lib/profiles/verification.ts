import type { Reading } from '../contracts';

/**
 * Whether a charger took a limit: its composite schedule (GetCompositeSchedule, 5.7) and what its
 * meter then measures. A car needs a moment to follow a new limit (IEC 61851-1 gives it a few
 * seconds, chargers add their own delay), so readings count only after `followDelayMs`; a
 * connector whose measured current stays above the limit plus a tolerance for `ignoreAfterMs`
 * (two readings at least) ignores the limit.
 */

export interface VerificationOptions {
  /** Readings from this long after the limit was accepted count. Default 30 s. */
  followDelayMs: number;
  /** Measured current may exceed the limit by this much (meter accuracy, rounding). Default 1 A. */
  toleranceA: number;
  /** Over the limit for this long (at least two readings) means the charger ignores it. Default 30 s. */
  ignoreAfterMs: number;
  /**
   * A way already read back twice in a row as matching (on this connector, connection and
   * transaction) is read again after this long, not after every limit (verifier.ts). 0: after
   * every limit. Default 60 s.
   */
  scheduleEveryMs: number;
}

export const DEFAULT_VERIFICATION: VerificationOptions = {
  followDelayMs: 30_000,
  toleranceA: 1,
  ignoreAfterMs: 30_000,
  scheduleEveryMs: 60_000,
};

/**
 * `waiting`: no reading after the follow delay yet; `within`: the last one is within the limit;
 * `above`: over the limit, not yet for long; `ignoresLimit`: over it for `ignoreAfterMs`.
 */
export type MeterVerdict = 'waiting' | 'within' | 'above' | 'ignoresLimit';

/**
 * What the charger's composite schedule (GetCompositeSchedule) says about the limit now:
 * `matches` (the limit, within rounding); `differs`: above it, the charger did not take the limit
 * (the manager then tries the next way, as for a refusal); `lower`: clearly below it, something else
 * holds the connector down (another profile, a charger-wide cap shared by its connectors), so a car
 * may be left with less than the load manager allowed; `unsupported`: no answer with a schedule.
 */
export type ScheduleVerdict = 'notChecked' | 'matches' | 'differs' | 'lower' | 'unsupported';

/**
 * Watches one connector's readings against the limits it was given in one session. A car may still
 * follow any limit of the last `followDelayMs`, so a reading counts against the highest of them: a
 * raise allows more at once, a decrease only after the follow delay. Readings count from
 * `followDelayMs` after the first limit; later limits keep the count going (`follow`), so a charger
 * whose limit changes every few seconds (a load manager on a fast meter) and whose car keeps
 * drawing more than all of them is still flagged after `ignoreAfterMs`.
 */
export class LimitWatch {
  private verdict: MeterVerdict = 'waiting';
  private overSinceMs: number | undefined;
  private overReadings = 0;
  lastMeasuredA: number | undefined;
  /** What the last counted reading was allowed (the highest limit of its follow window). */
  lastAllowedA: number | undefined;
  /** The limits given, oldest first, each in force from `sinceMs` until the next one's. */
  private readonly limits: { limitA: number; sinceMs: number }[];
  private readonly countsFromMs: number;

  constructor(
    limitA: number,
    sinceMs: number,
    private readonly options: VerificationOptions,
  ) {
    this.limits = [{ limitA, sinceMs }];
    this.countsFromMs = sinceMs + options.followDelayMs;
  }

  get state(): MeterVerdict {
    return this.verdict;
  }

  /** The latest limit given. */
  get limitA(): number {
    return (this.limits[this.limits.length - 1] as { limitA: number }).limitA;
  }

  /** A new limit in the same session, from `atMs`: the readings go on counting. */
  follow(limitA: number, atMs: number): void {
    this.limits.push({ limitA, sinceMs: atMs });
    this.forgetBefore(atMs - this.options.followDelayMs);
  }

  /** The most a reading measured at `atMs` may show: the highest limit in force in the follow window. */
  allowedA(atMs: number): number {
    const from = atMs - this.options.followDelayMs;
    let allowed = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.limits.length; i += 1) {
      const limit = this.limits[i] as { limitA: number; sinceMs: number };
      const until = this.limits[i + 1]?.sinceMs ?? Number.POSITIVE_INFINITY;
      if (until > from && limit.sinceMs <= atMs && limit.limitA > allowed) allowed = limit.limitA;
    }
    return allowed === Number.NEGATIVE_INFINITY ? this.limitA : allowed;
  }

  /** Takes a reading measured (received) at `atMs`; returns the verdict when it changed. */
  observe(measuredA: number, atMs: number): MeterVerdict | undefined {
    if (atMs < this.countsFromMs) return undefined;
    this.forgetBefore(atMs - this.options.followDelayMs);
    this.lastMeasuredA = measuredA;
    const allowedA = this.allowedA(atMs);
    this.lastAllowedA = allowedA;
    const before = this.verdict;
    if (measuredA <= allowedA + this.options.toleranceA) {
      this.overSinceMs = undefined;
      this.overReadings = 0;
      this.verdict = 'within';
    } else {
      this.overSinceMs ??= atMs;
      this.overReadings += 1;
      const confirmed = this.overReadings >= 2 && atMs - this.overSinceMs >= this.options.ignoreAfterMs;
      this.verdict = confirmed || this.verdict === 'ignoresLimit' ? 'ignoresLimit' : 'above';
    }
    return this.verdict === before ? undefined : this.verdict;
  }

  /** Drops the limits that ended before `ms`, keeping the one in force then. */
  private forgetBefore(ms: number): void {
    while (this.limits.length > 1 && (this.limits[1] as { sinceMs: number }).sinceMs <= ms)
      this.limits.shift();
  }
}

/**
 * The current a reading shows per phase, in A: the highest phase current, else the current
 * without a phase, else the power spread over the phases at the nominal voltage.
 */
export function measuredCurrentA(
  reading: Partial<Reading>,
  voltageV: number,
  phases: number,
): number | undefined {
  const perPhase = ((reading.currentA ?? []) as readonly (number | null)[]).filter(
    (value): value is number => typeof value === 'number',
  );
  if (perPhase.length > 0) return Math.max(...perPhase);
  if (reading.currentUnphasedA !== undefined) return reading.currentUnphasedA;
  const powerW = reading.totalPowerW ?? sumOf(reading.powerW);
  return powerW === undefined ? undefined : powerW / (voltageV * phases);
}

/**
 * Compares a composite limit with the expected one (both in the same unit). Above by more than
 * rounding (one step of the schema's 0.1, or a thousandth for large W values) `differs`; below by
 * more than `belowToleranceFraction` of the limit and at least one unit `lower`: a charger that
 * rounds 10.7 A down to 10 A is within, one held at 0 A by a stale profile is not.
 */
export function compareSchedule(
  compositeLimit: number | undefined,
  expectedLimit: number,
  belowToleranceFraction = 0.05,
): ScheduleVerdict {
  if (compositeLimit === undefined) return 'unsupported';
  const slack = Math.max(0.1, expectedLimit * 0.001);
  if (compositeLimit > expectedLimit + slack) return 'differs';
  const below = Math.max(1, expectedLimit * belowToleranceFraction);
  return compositeLimit < expectedLimit - below ? 'lower' : 'matches';
}

function sumOf(values: Reading['powerW']): number | undefined {
  const known = ((values ?? []) as readonly (number | null)[]).filter(
    (value): value is number => typeof value === 'number',
  );
  return known.length > 0 ? known.reduce((sum, value) => sum + value, 0) : undefined;
}
