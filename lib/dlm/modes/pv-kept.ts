/**
 * The PV stage's part of what the load manager keeps across a restart (modes/pv.ts composes it;
 * lib/dlm/memory.ts writes it): each car's PV timers and budgets, kept by connector and session,
 * and put back into the same car's session once it is seen again, their times moved on by the
 * time nothing saw it. It writes the PvSession part only there, for the PV stage.
 */
import type { Logger } from '../../log';
import type { PvSession } from '../parts';
import type { ConnectorRuntimes } from '../runtime';
import type { Site } from '../site/model';
import type { PvContext } from './pv-surplus';

/** The PV timers and budgets of a session that are kept across a restart (the rest is worked out anew each update). */
const KEPT_SESSION_FIELDS = [
  'pvEnabled',
  'pvEnableSinceMs',
  'pvShortfallWms',
  'pvShortSinceMs',
  'pvDipCreditWms',
  'pvStartWms',
  'pvStartW',
  'pvStartAtMs',
  'pvStops',
  'pvEnabledAtMs',
  'pvShortfallW',
  'pvShortfallAtMs',
] as const satisfies readonly (keyof PvSession)[];
/** Of those, the times: moved on by the time the load manager was away (that time does not count). */
const KEPT_SESSION_TIMES: ReadonlySet<string> = new Set([
  'pvEnableSinceMs',
  'pvShortSinceMs',
  'pvStartAtMs',
  'pvEnabledAtMs',
  'pvShortfallAtMs',
]);
/**
 * A car without a transaction (free charging: its session is known by when it began to want
 * current, which a restart sees anew) is taken for the same car only across a gap this short.
 */
const PLUG_GAP_MAX_MS = 300_000;
/** Kept timers wait this long after the start for their connector's state, then are dropped. */
const KEPT_WAIT_MS = 300_000;

/** By connector key: its session's key (`tx:<id>`, `plug:<ms>`) and its PV timers and budgets. */
export type KeptPvSessions = Record<string, { session: string; pv: Record<string, unknown> }>;

export class KeptPvTimers {
  /** Timers kept from before a restart, by connector key, until their connector's session is seen. */
  private readonly pending = new Map<
    string,
    { session: string; pv: Record<string, unknown>; keptAtMs: number; awayMs: number; sinceMs: number }
  >();

  /** Every car's PV timers (with those not seen again yet: they are kept for the next restart too). */
  kept(site: Site, runtimes: ConnectorRuntimes): KeptPvSessions {
    const sessions: KeptPvSessions = {};
    for (const connector of site.connectors) {
      const session = runtimes.of(connector).session;
      if (!hasPvTimers(session)) continue;
      const pv: Record<string, unknown> = {};
      for (const field of KEPT_SESSION_FIELDS) if (session[field] !== undefined) pv[field] = session[field];
      sessions[connector.key] = { session: session.key, pv };
    }
    for (const [key, kept] of this.pending) sessions[key] ??= { session: kept.session, pv: kept.pv };
    return sessions;
  }

  /** Whether a car has PV timers or budgets to keep (then they are written once a minute). */
  timing(site: Site, runtimes: ConnectorRuntimes): boolean {
    return this.pending.size > 0 || site.connectors.some((c) => hasPvTimers(runtimes.of(c).session));
  }

  /** Takes the kept sessions (see KeptPvSessions) `awayMs` after they were kept; a malformed one is dropped with a line. */
  restore(sessions: unknown, awayMs: number, now: number, logger: Logger): void {
    if (typeof sessions !== 'object' || sessions === null) return;
    for (const [key, value] of Object.entries(sessions as Record<string, unknown>)) {
      const { session, pv } = (typeof value === 'object' && value !== null ? value : {}) as Record<
        string,
        unknown
      >;
      const problem =
        typeof session !== 'string' || typeof pv !== 'object' || pv === null
          ? `not kept PV timers: ${JSON.stringify(value)}`
          : Object.entries(pv).find(
              ([field, v]) =>
                !(KEPT_SESSION_FIELDS as readonly string[]).includes(field) ||
                (field === 'pvEnabled'
                  ? typeof v !== 'boolean'
                  : !(typeof v === 'number' && Number.isFinite(v))),
            );
      if (problem || typeof session !== 'string') {
        logger.warn(
          `PV timers of ${key} kept from before the restart dropped: ${Array.isArray(problem) ? `${problem[0]} ${JSON.stringify(problem[1])} is not what is kept` : problem}`,
        );
        continue;
      }
      const away = Math.max(0, awayMs);
      this.pending.set(key, {
        session,
        pv: pv as Record<string, unknown>,
        keptAtMs: now - away,
        awayMs: away,
        sinceMs: now,
      });
    }
  }

  /** Puts the kept timers into the sessions they belong to, once their connectors' states are seen (see `restore`). */
  takeBack(context: Pick<PvContext, 'site' | 'runtimes' | 'logger'>, now: number): void {
    if (this.pending.size === 0) return;
    const { site, runtimes, logger } = context;
    for (const [key, kept] of this.pending) {
      const connector = runtimes.connectorOf(site, key);
      const runtime = connector && runtimes.of(connector);
      const drop = (why: string) => {
        this.pending.delete(key);
        logger.warn(`PV timers of ${key} kept from before the restart dropped: ${why}`);
      };
      if (!connector || !runtime) {
        drop('no such connector in the site any more');
        continue;
      }
      if (!runtime.state) {
        if (now - kept.sinceMs >= KEPT_WAIT_MS)
          drop(`no state of the connector came in ${KEPT_WAIT_MS / 1000} s`);
        continue;
      }
      const current = runtime.session.key;
      const plug = (k: string) => k.startsWith('plug:');
      const same =
        current === kept.session || (plug(current) && plug(kept.session) && kept.awayMs <= PLUG_GAP_MAX_MS);
      if (!same) {
        drop(
          current === 'none'
            ? `its car (${kept.session}) has gone`
            : `another car now (${current}; kept for ${kept.session})`,
        );
        continue;
      }
      this.pending.delete(key);
      // Until now nothing saw the car and the surplus: that time does not count.
      const unseenMs = now - kept.keptAtMs;
      const session = runtime.session as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(kept.pv))
        session[field] = KEPT_SESSION_TIMES.has(field) ? (value as number) + unseenMs : value;
      logger.info(
        `PV timers of ${key} (${kept.session}) kept from before the restart taken back, moved on by the ${Math.round(unseenMs / 1000)} s the load manager did not see it`,
      );
    }
  }
}

function hasPvTimers(session: PvSession & { key: string }): boolean {
  return (
    session.key !== 'none' &&
    (session.pvEnabled ||
      session.pvStops !== undefined ||
      session.pvEnableSinceMs !== undefined ||
      session.pvStartWms !== undefined)
  );
}
