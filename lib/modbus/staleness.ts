import type { Clock, TimerHandle } from '../clock';
import type { DeviceProfile, RegisterDefinition } from './types';

/** Identifies a value across polls and SunSpec rediscoveries: P+ and P- are two values. */
function registerKey(register: RegisterDefinition): string {
  return `${register.measurand}/${register.direction ?? 'import'}`;
}

export interface StalenessSettings {
  clock: Clock;
  /** A value older than this is stale; 0 = never. */
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
 */
export class Staleness {
  /** When each value was last read (by register key). */
  private readonly readAtMs = new Map<string, number>();
  private startedAtMs = 0;
  private watching = false;
  private stale = false;
  private timer: TimerHandle | undefined;

  constructor(private readonly settings: StalenessSettings) {}

  /** Whether some value is older than `staleAfterMs`. */
  get isStale(): boolean {
    return this.stale;
  }

  /** The values (measurand/direction) not read within `staleAfterMs`; empty unless stale. */
  get staleValues(): string[] {
    if (!this.stale) return [];
    const now = this.settings.clock.now();
    return this.valueKeys().filter(
      (key) => (this.readAtMs.get(key) ?? this.startedAtMs) + this.settings.staleAfterMs <= now,
    );
  }

  /** Starts watching afresh: every value counts from now. */
  start(): void {
    this.watching = true;
    this.startedAtMs = this.settings.clock.now();
    this.readAtMs.clear();
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
    }
  }

  /**
   * Stale when the oldest value is older than `staleAfterMs`; otherwise fresh, with a timer for
   * when the oldest value will be. Before SunSpec discovery (no values known) the newest read of
   * anything counts, or the start.
   */
  check(): void {
    const { clock, staleAfterMs } = this.settings;
    clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (staleAfterMs <= 0 || !this.watching) return;
    const now = clock.now();
    const keys = this.valueKeys();
    const oldestMs = keys.length
      ? Math.min(...keys.map((key) => this.readAtMs.get(key) ?? this.startedAtMs))
      : Math.max(this.startedAtMs, ...this.readAtMs.values());
    const dueMs = oldestMs + staleAfterMs;
    if (dueMs > now) {
      this.stale = false;
      this.timer = clock.setTimeout(() => this.check(), dueMs - now);
      return;
    }
    if (this.stale) return;
    this.stale = true;
    this.settings.turnedStale();
  }

  /** `measurand/direction` of every value the meter reads (before SunSpec discovery: none known). */
  private valueKeys(): string[] {
    const profile = this.settings.profile();
    if (!profile) return [];
    return [...new Set(profile.registers.map(registerKey))];
  }
}
