/**
 * Observer stage, the "ignores its limit" judgement: whether a charger draws more than its
 * set-point allows (overdraw), and whether a decrease has taken effect. One owner for the
 * tolerance and the timing of both; the defaults below are the site's control defaults, and any
 * other room that judges a charger against its limit should ask here.
 */
import type { PerPhase } from '../contracts';
import type { Logger } from '../log';
import type { DrawSample } from './measurements';
import type { ConnectorRuntime } from './parts';
import { fillUnknown, maxKnown, THREE_PHASES, toGrid, wiredPhases } from './phases';
import type { Connector, Site } from './site-model';

/** A confirmed limit this close above the set-point is the set-point (the profile manager floors to tenths). */
const CONFIRMED_EPS_A = 0.05;

/** What the observer stage needs to judge: the site's settings and where to log. */
export interface ObserverContext {
  site: Site;
  logger: Logger;
}

/**
 * The current charger phase `i` may carry by the set-point in force at `atMs`: the set-point
 * (0 on a phase a one-phase set-point does not use), or, while the charger may still be following
 * a change (decreaseSettleMs; a phase switch's settle time), the higher of the old and the new.
 */
export function allowedAt(
  site: Site,
  runtime: ConnectorRuntime,
  i: number,
  atMs: number,
  lenient: boolean,
): number {
  const sent = runtime.sent;
  if (!sent) return Number.POSITIVE_INFINITY;
  const on = (s: { limitA: number; phases: 1 | 2 | 3 }) => (s.phases === 1 && i !== 0 ? 0 : s.limitA);
  let allowed = on(sent);
  if (!lenient) return allowed;
  const previous = runtime.previousSent;
  const changedAt = runtime.lastChangeAtMs;
  if (previous && changedAt !== undefined && atMs < changedAt + site.control.decreaseSettleMs) {
    allowed = Math.max(allowed, on(previous));
  }
  const session = runtime.session;
  if (
    session.switchedAtMs !== undefined &&
    atMs < session.switchedAtMs + site.pv.phaseSwitchSettleMs &&
    session.previousChargerPhases?.includes(i)
  ) {
    allowed = Math.max(allowed, sent.limitA, previous?.limitA ?? 0);
  }
  return allowed;
}

/**
 * Overdraw: a charger above its set-point (after the grace, or at once for one that did it before)
 * is counted at what it draws, and its set-point is not raised, until its readings show it
 * following for overdrawClearMs. Its last draw is kept when its readings stop.
 */
export function observeOverdraw(
  context: ObserverContext,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample | undefined,
  now: number,
): void {
  const { control } = context.site;
  const session = runtime.session;
  const sentLimit = runtime.sent?.limitA ?? 0;
  if (runtime.state?.online === true && runtime.sent) {
    if (sample) judgeOverdraw(context, connector, runtime, sample);
    const over = session.lastOver;
    if (!session.overdrawing && over && session.overdrawSinceMs !== undefined) {
      const grace = session.overdrawEpisodes > 0 ? 0 : control.overdrawGraceMs;
      if (now - session.overdrawSinceMs >= grace) flagOverdraw(context, connector, runtime, undefined, false);
    }
  }
  if (session.overdrawing) session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);
}

/** Compares one sample of the charger's currents with its set-point. */
function judgeOverdraw(
  context: ObserverContext,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample,
): void {
  const { control } = context.site;
  const session = runtime.session;
  let over = false;
  let unknown = false;
  let maxA = 0;
  for (const i of wiredPhases(connector)) {
    const value = sample.chargerA[i];
    if (value === null || value === undefined) {
      unknown = true;
      continue;
    }
    maxA = Math.max(maxA, value);
    // While counted at its draw, only the set-point in force shows that it follows.
    const allowed = allowedAt(context.site, runtime, i, sample.atMs, !session.overdrawing);
    if (value > allowed + control.overdrawToleranceA) over = true;
  }
  if (over) {
    // A phase it does not report is taken at the highest it reports (the worst case).
    const chargerA = sample.chargerA.map((v) => v ?? maxA) as PerPhase;
    session.lastOver = { gridA: toGrid(connector, chargerA), maxA };
    session.compliantSinceMs = undefined;
    if (session.overdrawing) session.overdrawFloorA = session.lastOver.gridA;
    else session.overdrawSinceMs ??= sample.atMs;
    return;
  }
  if (unknown) return;
  session.lastOver = undefined;
  session.overdrawSinceMs = undefined;
  if (!session.overdrawing || sample.atMs < (runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY)) return;
  session.compliantSinceMs ??= sample.atMs;
  if (sample.atMs - session.compliantSinceMs >= control.overdrawClearMs) {
    session.overdrawing = false;
    session.overdrawFloorA = undefined;
    session.overdrawCapA = undefined;
    session.compliantSinceMs = undefined;
    context.logger.info(
      `charger ${connector.key} follows its set-point again: counted at its set-point, may be raised again`,
    );
  }
}

/** Counts the connector at what it draws (`sample`, else its newest sample above the set-point). */
export function flagOverdraw(
  context: ObserverContext,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample | undefined,
  quiet: boolean,
): void {
  const session = runtime.session;
  const gridA = sample ? toGrid(connector, fillUnknown(sample.chargerA)) : session.lastOver?.gridA;
  const maxA = sample ? (maxKnown(sample.chargerA, THREE_PHASES) ?? 0) : (session.lastOver?.maxA ?? 0);
  const sentLimit = runtime.sent?.limitA ?? 0;
  if (!session.overdrawing && !quiet) {
    context.logger.warn(
      `charger ${connector.key} draws ${maxA.toFixed(1)} A, above its set-point ${sentLimit} A: counted at what it draws and not raised until it follows for ${Math.round(context.site.control.overdrawClearMs / 1000)} s, the others are reduced`,
    );
  }
  if (!session.overdrawing) session.overdrawEpisodes += 1;
  session.overdrawing = true;
  session.overdrawFloorA = gridA ? [...gridA] : session.overdrawFloorA;
  session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);
  session.overdrawSinceMs = undefined;
  session.compliantSinceMs = undefined;
}

/**
 * A decrease just went out: until the charger shows it followed, it is counted at `fromA` (the
 * higher of this and a decrease still pending) for the increases of the others.
 */
export function expectDecrease(runtime: ConnectorRuntime, fromA: number, now: number): void {
  const pending = runtime.pendingDecrease;
  runtime.pendingDecrease = { fromA: Math.max(fromA, pending?.fromA ?? 0), atMs: now };
}

/**
 * A decrease has taken effect once a sample measured at or after it shows the charger within
 * its new set-point on every phase, or decreaseSettleMs after it went out. Where the charger's
 * limits are confirmed (`runtime.confirmed`), a confirmation of a limit within the new set-point
 * must have come after the decrease went out, and the sample must have arrived after the charger's
 * answer: until then an increase sent before the decrease may still land, and a low reading taken
 * before it proves nothing (the car would ramp up to it while the others already got the current).
 */
export function settleDecrease(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
): void {
  const pending = runtime.pendingDecrease;
  if (!pending) return;
  const { control } = site;
  if (now - pending.atMs >= control.decreaseSettleMs) {
    runtime.pendingDecrease = undefined;
    return;
  }
  const draw = runtime.draw;
  if (!draw || !runtime.sent || draw.atMs < pending.atMs) return;
  const confirmed = runtime.confirmed;
  if (
    confirmed &&
    (confirmed.atMs < pending.atMs ||
      confirmed.limitA > runtime.sent.limitA + CONFIRMED_EPS_A ||
      !(draw.receivedMs >= confirmed.sinceMs))
  )
    return;
  for (const i of wiredPhases(connector)) {
    const value = draw.chargerA[i];
    if (value === null || value === undefined) return;
    const allowed = allowedAt(site, runtime, i, draw.atMs, false);
    // The measurement tolerance must not reach the old value: after a decrease smaller than the
    // tolerance (9.5 -> 8.6 A), a reading of the old 9.5 A is not a charger that followed.
    const tolerance = Math.min(control.overdrawToleranceA, Math.max(0, (pending.fromA - allowed) / 2));
    if (!(value <= allowed + tolerance)) return;
  }
  // It followed on every phase.
  runtime.pendingDecrease = undefined;
}
