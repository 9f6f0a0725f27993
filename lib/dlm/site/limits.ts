/**
 * Site-limits stage: the limits a command sets on a circuit for a while (a §14a limit on the
 * chargers' power, a tariff's current or power limit), each kind set and expiring on its own, kept
 * by circuit id across a replaced site. Others ask it for the limits in force on a circuit; what
 * they make of a circuit's limits now is site/circuit.ts's.
 */
import type { Logger } from '../../log';
import type { DlmCommand } from '../commands';
import { commandNumber } from '../inputs';
import type { Triple } from '../phases';
import { describeValue, phaseLimitOf } from './fields';
import type { Site } from './model';

/** One limit a command set on a circuit, with its own end. */
export interface TimedLimit<T> {
  value: T;
  untilMs?: number;
  reason: string;
}

/** The site limits in force on a circuit (each set and expiring on its own). */
export interface SiteLimit {
  limitA?: TimedLimit<Triple>;
  powerLimitW?: TimedLimit<number>;
  chargersPowerLimitW?: TimedLimit<number>;
}

const KINDS = ['limitA', 'powerLimitW', 'chargersPowerLimitW'] as const;

export class SiteLimits {
  /** By circuit id (so they survive a replaced site). */
  private limits = new Map<string, SiteLimit>();

  /** The limits in force on the circuit, if any. */
  of(circuitId: string): SiteLimit | undefined {
    return this.limits.get(circuitId);
  }

  /** Drops the limits whose end has come. */
  expire(now: number): void {
    for (const [id, limit] of this.limits) {
      for (const key of KINDS) {
        const until = limit[key]?.untilMs;
        if (until !== undefined && until <= now) delete limit[key];
      }
      if (!limit.limitA && !limit.powerLimitW && !limit.chargersPowerLimitW) this.limits.delete(id);
    }
  }

  /** A replaced site: a limit whose circuit is gone is dropped, with a log line. */
  adopt(site: Site, logger: Logger): void {
    const old = this.limits;
    this.limits = new Map();
    for (const [id, limit] of old) {
      if (site.circuits.some((c) => c.id === id)) {
        this.limits.set(id, limit);
        continue;
      }
      const what = describeSiteLimits(limit)
        .map((l) => `${l.kind} ${Array.isArray(l.value) ? l.value.join('/') : l.value} (${l.reason})`)
        .join(', ');
      logger.warn(`site limit on circuit "${id}" dropped: the new site has no such circuit (${what})`);
    }
  }

  /** A siteLimit command; returns what it did. Every value is checked before anything is taken. */
  command(site: Site, command: Extract<DlmCommand, { type: 'siteLimit' }>, now: number): string {
    if (command.circuit !== undefined && typeof command.circuit !== 'string') {
      throw new Error(`siteLimit circuit: ${describeValue(command.circuit)} is not a circuit id`);
    }
    const circuits = command.circuit
      ? site.circuits.filter((c) => c.id === command.circuit)
      : site.rootIndexes.flatMap((i) => site.circuits[i] ?? []);
    if (circuits.length === 0) throw new Error(`no circuit "${command.circuit}" in the site model`);
    const names = circuits.map((c) => c.id).join(', ');
    if (command.clear) {
      for (const circuit of circuits) this.limits.delete(circuit.id);
      return `site limit of ${names} cleared`;
    }
    // Every value checked before anything is taken: a limit that is not a number (or a short
    // array) would remove the constraint instead of setting it.
    const limitA =
      command.limitA === undefined ? undefined : phaseLimitOf(command.limitA, 'siteLimit limitA');
    const optional = (value: unknown, field: string) =>
      value === undefined ? undefined : commandNumber(value, `siteLimit ${field}`, { min: 0 });
    const powerLimitW = optional(command.powerLimitW, 'powerLimitW');
    const chargersPowerLimitW = optional(command.chargersPowerLimitW, 'chargersPowerLimitW');
    const durationMs = optional(command.durationMs, 'durationMs');
    if (limitA === undefined && powerLimitW === undefined && chargersPowerLimitW === undefined) {
      throw new Error('site limit: give limitA, powerLimitW or chargersPowerLimitW (or clear: true)');
    }
    let untilMs: number | undefined;
    if (durationMs !== undefined) untilMs = now + durationMs;
    else if (command.until !== undefined) {
      untilMs = typeof command.until === 'string' ? Date.parse(command.until) : Number.NaN;
      if (!Number.isFinite(untilMs))
        throw new Error(`siteLimit until: ${describeValue(command.until)} is not a date-time`);
    }
    // Each kind of limit replaces the same kind only: a §14a limit on the chargers' power and a
    // tariff's current limit live side by side, each until its own end.
    const reason = typeof command.reason === 'string' && command.reason ? command.reason : 'site limit';
    const timed = <T>(value: T): TimedLimit<T> =>
      untilMs === undefined ? { value, reason } : { value, untilMs, reason };
    for (const circuit of circuits) {
      const entry = this.limits.get(circuit.id) ?? {};
      if (limitA) entry.limitA = timed(limitA);
      if (powerLimitW !== undefined) entry.powerLimitW = timed(powerLimitW);
      if (chargersPowerLimitW !== undefined) entry.chargersPowerLimitW = timed(chargersPowerLimitW);
      this.limits.set(circuit.id, entry);
    }
    return `site limit on ${names}${untilMs === undefined ? '' : ` until ${new Date(untilMs).toISOString()}`}`;
  }
}

/** A limit set by a command as the summary gives it (a circuit's `siteLimits`): its kind, value, reason and end. */
export interface SiteLimitSummary {
  kind: 'limitA' | 'powerLimitW' | 'chargersPowerLimitW';
  value: number | Triple;
  reason: string;
  until?: string;
}

/** The limits in force on a circuit as the summary lists them. */
export function describeSiteLimits(limit: SiteLimit): SiteLimitSummary[] {
  return KINDS.flatMap((kind) => {
    const entry = limit[kind];
    if (!entry) return [];
    return [
      {
        kind,
        value: entry.value,
        reason: entry.reason,
        ...(entry.untilMs === undefined ? {} : { until: new Date(entry.untilMs).toISOString() }),
      },
    ];
  });
}
