import type { ModbusRequestError } from './errors';

/** How one unit is doing, for statuses and tests. */
export interface UnitHealth {
  consecutiveFailures: number;
  /** Epoch ms until which requests to the unit fail at once; 0 when not backed off. */
  backedOffUntilMs: number;
  lastError?: ModbusRequestError;
}

/**
 * The backoff of the units on one bus: a unit that keeps failing (timeouts, corrupt answers,
 * gateway exceptions) is left alone for a while, doubling, so that a dead meter does not hold up
 * the devices that answer. Units are backed off each on their own.
 */
export class UnitBackoff {
  private readonly units = new Map<number, UnitHealth>();

  constructor(private readonly settings: { afterFailures: number; initialMs: number; maxMs: number }) {}

  health(unitId: number): UnitHealth {
    const health = this.units.get(unitId);
    return health ? { ...health } : { consecutiveFailures: 0, backedOffUntilMs: 0 };
  }

  /** The unit's health when it is backed off at `nowMs`, else undefined. */
  backedOff(unitId: number, nowMs: number): UnitHealth | undefined {
    const health = this.units.get(unitId);
    return health && health.backedOffUntilMs > nowMs ? { ...health } : undefined;
  }

  /** The unit answered: its failures are forgotten. True when it had any (its health changed). */
  answered(unitId: number): boolean {
    const health = this.units.get(unitId);
    if (!health) return false;
    this.units.delete(unitId);
    return health.consecutiveFailures > 0;
  }

  /** Counts a failure against the unit; backs it off once it has failed often enough in a row. */
  failed(unitId: number, error: ModbusRequestError, nowMs: number): UnitHealth {
    const health = this.units.get(unitId) ?? { consecutiveFailures: 0, backedOffUntilMs: 0 };
    health.consecutiveFailures += 1;
    health.lastError = error;
    const beyond = health.consecutiveFailures - this.settings.afterFailures;
    if (beyond >= 0) {
      const backoffMs = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** beyond);
      health.backedOffUntilMs = nowMs + backoffMs;
    }
    this.units.set(unitId, health);
    return { ...health };
  }
}

/** Why a backed-off unit's request fails at once, and when it is tried again. */
export function describeBackoff(health: UnitHealth, nowMs: number): string {
  const seconds = backoffSeconds(health, nowMs);
  const cause = health.lastError ? `; last: ${health.lastError.detail}` : '';
  return `unit not answering (${health.consecutiveFailures} failures in a row${cause}); next try in ${seconds} s`;
}

/** Whole seconds until a backed-off unit is tried again. */
export function backoffSeconds(health: UnitHealth, nowMs: number): number {
  return Math.max(0, Math.ceil((health.backedOffUntilMs - nowMs) / 1000));
}
