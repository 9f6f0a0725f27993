import type { Clock, TimerHandle } from '../clock';
import type { ModbusFault, StaleCause } from '../contracts';
import type { DeviceProfile, RegisterDefinition } from './types';

/** Identifies a value across polls and SunSpec rediscoveries: P+ and P- are two values. */
function registerKey(register: RegisterDefinition): string {
  return `${register.measurand}/${register.direction ?? 'import'}`;
}

/** Bad news for every value, including values not known yet (a SunSpec device before discovery). */
const EVERY_VALUE = '*';

/** Failed reads of a value in a row that are bad news, unless the failure itself is final. */
export const FAILURES_IN_A_ROW = 2;

export interface StalenessSettings {
  clock: Clock;
  /** A value older than this is stale; 0 = no timer (known bad news still makes it stale). */
  staleAfterMs: number;
  /** The profile whose values are watched; undefined before SunSpec discovery (none known). */
  profile(): DeviceProfile | undefined;
  /** Called once when the meter turns stale (again only after it was fresh in between). */
  turnedStale(): void;
}

/**
 * The staleness of one meter's values, kept per value (per register of the profile), not per
 * poll: a poll that brings only some of the values refreshes those, and the meter turns stale when
 * any value it should read is older than `staleAfterMs` (a meter whose current block fails every
 * time goes stale even though its energy block answers). It is fresh again once every value has
 * been read within `staleAfterMs`. A value that the device reports as "not available" still
 * counts as read.
 *
 * The timer is for "no news". Known bad news makes values stale at once, without waiting for it
 * (`markBad`): the connection is lost or cannot be made (every value), or a value's read failed
 * {@link FAILURES_IN_A_ROW} times in a row (`failed`; at the first when the failure is final: the
 * unit is backed off, the bus is down). One failed read is not bad news: a lost or garbled frame,
 * a gateway's "target did not respond" or a busy device happen now and then on a healthy RS-485
 * line, and the next poll, one interval later, settles it. A value under bad news is fresh again
 * once it has been read after it (strictly: an answer in the same millisecond may be from before).
 */
export class Staleness {
  /** When each value was last read (by register key). */
  private readonly readAtMs = new Map<string, number>();
  /** Known bad news per value (or {@link EVERY_VALUE}): since when, and why. */
  private readonly bad = new Map<string, { sinceMs: number; why: string; cause: StaleCause }>();
  /** Failed reads in a row per value (forgotten when it is read). */
  private readonly misses = new Map<string, number>();
  private startedAtMs = 0;
  private watching = false;
  private stale = false;
  private timer: TimerHandle | undefined;

  constructor(private readonly settings: StalenessSettings) {}

  /** Whether some value is older than `staleAfterMs`, or under known bad news. */
  get isStale(): boolean {
    return this.stale;
  }

  /** The values (measurand/direction) not read within `staleAfterMs` or under bad news; empty unless stale. */
  get staleValues(): string[] {
    if (!this.stale) return [];
    const now = this.settings.clock.now();
    const { staleAfterMs } = this.settings;
    return this.valueKeys().filter(
      (key) =>
        this.badNewsOf(key) !== undefined || (staleAfterMs > 0 && this.lastReadMs(key) + staleAfterMs <= now),
    );
  }

  /**
   * Why the meter is stale: the known bad news ("connection to … lost (…)"), else how long its
   * oldest value has not been read; undefined while fresh.
   */
  get staleReason(): string | undefined {
    return this.staleNews()?.why;
  }

  /** The same as data (the load manager words it in the user's language); undefined while fresh. */
  get staleCause(): StaleCause | undefined {
    return this.staleNews()?.cause;
  }

  private staleNews(): { why: string; cause: StaleCause } | undefined {
    if (!this.stale) return undefined;
    const news = this.bad.get(EVERY_VALUE) ?? [...this.bad.values()][0];
    if (news) return news;
    const keys = this.valueKeys();
    const oldestMs = keys.length
      ? Math.min(...keys.map((key) => this.lastReadMs(key)))
      : Math.max(this.startedAtMs, ...this.readAtMs.values());
    const seconds = Math.round((this.settings.clock.now() - oldestMs) / 1000);
    return { why: `nothing read for ${seconds} s`, cause: { nothingReadS: seconds } };
  }

  /** Starts watching afresh: every value counts from now. */
  start(): void {
    this.watching = true;
    this.startedAtMs = this.settings.clock.now();
    this.readAtMs.clear();
    this.bad.clear();
    this.misses.clear();
    this.check();
  }

  stop(): void {
    this.watching = false;
    this.settings.clock.clearTimeout(this.timer);
  }

  /** The values of these registers of `profile` were answered at `atMs`. */
  read(profile: DeviceProfile, registers: readonly number[], atMs: number): void {
    for (const index of registers) {
      const register = profile.registers[index];
      if (!register) continue;
      const key = registerKey(register);
      this.readAtMs.set(key, Math.max(atMs, this.readAtMs.get(key) ?? atMs));
      this.misses.delete(key);
      const news = this.bad.get(key);
      if (news && news.sinceMs < atMs) this.bad.delete(key);
    }
  }

  /**
   * Known bad news for every value (the connection is lost, or cannot be made): stale at once,
   * until every value has been read again. Call `check()` after.
   */
  markBad(why: string, cause: StaleCause): void {
    if (!this.watching) return;
    const sinceMs = this.settings.clock.now();
    const held = this.bad.get(EVERY_VALUE);
    // The first news counts from when it came; a later one only says why in newer words.
    this.bad.set(EVERY_VALUE, { sinceMs: held?.sinceMs ?? sinceMs, why, cause });
  }

  /**
   * A read of these registers of `profile` failed: bad news for their values at once when
   * `final`, else at the {@link FAILURES_IN_A_ROW}th failure in a row; `fault` is `why` as data.
   * Call `check()` after.
   */
  failed(
    profile: DeviceProfile,
    registers: readonly number[],
    why: string,
    final: boolean,
    fault?: ModbusFault,
  ): void {
    if (!this.watching) return;
    const sinceMs = this.settings.clock.now();
    for (const index of registers) {
      const register = profile.registers[index];
      if (!register) continue;
      const key = registerKey(register);
      const misses = (this.misses.get(key) ?? 0) + 1;
      this.misses.set(key, misses);
      if (!final && misses < FAILURES_IN_A_ROW) continue;
      const held = this.bad.get(key);
      this.bad.set(key, {
        sinceMs: held?.sinceMs ?? sinceMs,
        why: final ? why : `${misses} reads in a row failed: ${why}`,
        cause: { readsFailed: { times: final ? 1 : misses, error: why, ...(fault ? { fault } : {}) } },
      });
    }
  }

  /**
   * Stale under known bad news, or when the oldest value is older than `staleAfterMs`; otherwise
   * fresh, with a timer for when the oldest value will be. Before SunSpec discovery (no values
   * known) the newest read of anything counts, or the start.
   */
  check(): void {
    const { clock, staleAfterMs } = this.settings;
    clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.watching) return;
    const now = clock.now();
    const keys = this.valueKeys();
    const every = this.bad.get(EVERY_VALUE);
    // News for every value is over once every value (any, before discovery) was read after it.
    if (every) {
      const readAfter = keys.length
        ? keys.every((key) => (this.readAtMs.get(key) ?? Number.NEGATIVE_INFINITY) > every.sinceMs)
        : Math.max(Number.NEGATIVE_INFINITY, ...this.readAtMs.values()) > every.sinceMs;
      if (readAfter) this.bad.delete(EVERY_VALUE);
    }
    if (this.bad.size > 0) {
      this.turnStale();
      return;
    }
    if (staleAfterMs <= 0) {
      this.stale = false;
      return;
    }
    const oldestMs = keys.length
      ? Math.min(...keys.map((key) => this.lastReadMs(key)))
      : Math.max(this.startedAtMs, ...this.readAtMs.values());
    const dueMs = oldestMs + staleAfterMs;
    if (dueMs > now) {
      this.stale = false;
      this.timer = clock.setTimeout(() => this.check(), dueMs - now);
      return;
    }
    this.turnStale();
  }

  private turnStale(): void {
    if (this.stale) return;
    this.stale = true;
    this.settings.turnedStale();
  }

  /** The bad news a value is under, if any. */
  private badNewsOf(key: string): { sinceMs: number; why: string } | undefined {
    const own = this.bad.get(key);
    if (own) return own;
    const every = this.bad.get(EVERY_VALUE);
    return every && (this.readAtMs.get(key) ?? Number.NEGATIVE_INFINITY) <= every.sinceMs ? every : undefined;
  }

  private lastReadMs(key: string): number {
    return this.readAtMs.get(key) ?? this.startedAtMs;
  }

  /** `measurand/direction` of every value the meter reads (before SunSpec discovery: none known). */
  private valueKeys(): string[] {
    const profile = this.settings.profile();
    if (!profile) return [];
    return [...new Set(profile.registers.map(registerKey))];
  }
}
