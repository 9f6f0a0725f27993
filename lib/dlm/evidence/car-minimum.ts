/**
 * A car's own minimum, learned for its session (the observer calls `noteCarMinimum` for every
 * connector on every update; everyone else asks `carMinimum`). IEC 61851 lets a car refuse a
 * current it cannot charge at: some cars need 7, 8 or 10 A and sit in SuspendedEV when offered
 * less. The rule, owned here:
 *
 * - **It stopped below it.** A car that charged and went SuspendedEV within its charger's follow
 *   time after its limit was lowered to `Y` (more than 0 A) needs more than `Y`: its minimum is the
 *   next whole ampere above `Y` (car minimums are whole amperes: 6, 7, 8, 10 A), at most the lowest
 *   limit it was seen charging at this session. A second stop lower or higher keeps the highest.
 * - **It charges at it.** A car seen charging at a limit in force below what was learned needs no
 *   more than that: the learned minimum comes down to it.
 * - **It never started.** A car that has not charged this session and sits in SuspendedEV (it
 *   does not take what is offered) for its charger's follow time after a limit of `Y` (at least
 *   the minimum in force) may need more: its minimum becomes the second whole ampere above `Y`,
 *   two amperes per follow time (the last step one), up to CAR_MINIMUM_PROBE_MAX_A. Each try
 *   keeps its minimum from the others for a follow time while it takes nothing and is paused
 *   after it where the zone is full, so two amperes a try halve those costs (a car that needs
 *   7 A, 9 A or 12 A is taken at 8, 10 or 13 A: one ampere more than it needs). Where that one
 *   ampere keeps it waiting (paused with the minimum the step learned, for
 *   CAR_MINIMUM_SKIPPED_AFTER_MS) it is offered the ampere the step passed over: its minimum
 *   comes down to it, and a car that does not start at it either is asked the step's minimum
 *   again, now known to the ampere. A car that does not start even then is
 *   full or waits for its own timer: it is asked no more this session and counts at the
 *   connector's minimum again (what it was offered before). Only in `fast` mode: a pv or minpv
 *   car is offered what the sun gives, never more to see whether it starts.
 *   A car that stopped below its minimum and does not start again at the minimum learned from
 *   that stop (it stopped at 6.5 A, needs 8 A: offered 7 A it stays in SuspendedEV) is asked one
 *   ampere more in the same way.
 * - **It rests on its own.** A car that charged and went SuspendedEV at a limit that was not just
 *   lowered (not within its charger's follow time after a decrease) stopped for its own reasons:
 *   full, or waiting for its own timer. Once it has rested so for CAR_REST_YIELD_MS it yields
 *   (`carYields`): offered its minimum only from what the charging cars leave (allocation
 *   `yields`), not with its minimum kept for it ahead of their share. Every 30 min it is offered
 *   its minimum again for two minutes (offered nothing, a car cannot show that it wants current
 *   again). Seen charging, it is an ordinary car again. Only in `fast` mode (a pv car resting is
 *   modes/pv.ts's).
 * - **For its session.** It lives in the session record: a new car starts without one.
 *
 * The minimum in force (`carMinimum`) is the higher of the session's minimum
 * (evidence/departure.ts: the connector's, or the car's own over ISO 15118) and the learned one;
 * the PV decisions (start and stop thresholds), the allocation and the reasons use it.
 */
import type { ConnectorState } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import type { CarMinimumSession, ConnectorRuntime } from '../parts';
import { EPS } from '../phases';
import type { Connector, Site } from '../site/model';
import { type Reason, say } from '../words';
import { connectorMinimumA, sessionMinimumA } from './departure';
import { followMsOf } from './overdraw';
import { effectiveMode } from './preference-in-force';

/**
 * The highest minimum a car that never started is offered in steps (A): cars' own minimums are
 * 6 to 10 A (a few need 13 A); a car that takes nothing even then is full or waits.
 */
export const CAR_MINIMUM_PROBE_MAX_A = 13;

/**
 * How long a car that never charged waits, paused with a minimum a two-ampere step learned, before
 * it is offered the ampere the step passed over (ms). Where the zone is full, the ampere the step
 * adds can keep a car out all afternoon: offered 7 A, a car that needs 8 A is asked 9 A, and a
 * keeper's hold or the zone left it 8 A (issue 45's car park, seed 2: CP-02, 0 of the ideal's
 * 10.7 kWh). Five minutes: longer than a pause's minimum off time and the follow time of the
 * slowest charger, so that a zone that frees room soon gives the step's minimum as before.
 */
export const CAR_MINIMUM_SKIPPED_AFTER_MS = 300_000;

/**
 * How long a car rests on its own before it yields (ms): a car that pauses for a moment (its
 * battery's temperature, a balancing pause) takes its current again within a minute or two; one
 * that rests for five is full or waits for its own timer.
 */
export const CAR_REST_YIELD_MS = 300_000;

/**
 * How often a car that yields is offered its minimum again as an ordinary car (ms), and for how
 * long (CAR_REST_RETRY_MS, at least its charger's follow time and a minute more): offered nothing,
 * a car cannot show that it wants current again (its own timer, a departure in the morning), so on
 * a zone that stays full it would wait all night. Each try costs the others its minimum for that
 * window; a car that then charges is an ordinary car again.
 */
export const CAR_REST_REOFFER_MS = 1_800_000;
export const CAR_REST_RETRY_MS = 120_000;

/** The minimum in force this session, A, and where it comes from (said in the reasons). */
export interface CarMinimum {
  minA: number;
  /** Undefined: the connector's own; else the words for where the car's comes from. */
  why: Reason | undefined;
}

/** The minimum in force for the car on this connector (see the module comment). */
export function carMinimum(connector: Connector, runtime: ConnectorRuntime): CarMinimum {
  const state = runtime.state;
  const sessionA = sessionMinimumA(connector, state, runtime.session);
  const learnedA = runtime.session.learnedMinA;
  if (learnedA !== undefined && learnedA > sessionA + EPS) {
    const notStartedA = runtime.session.notStartedAtA;
    return {
      minA: learnedA,
      why:
        notStartedA === undefined
          ? [say('learnedStopped', { amps: runtime.session.stoppedAtA ?? 0 })]
          : [say('learnedNotStarted', { amps: notStartedA })],
    };
  }
  return {
    minA: sessionA,
    why: sessionA > connectorMinimumA(connector, runtime.session) + EPS ? [say('iso15118')] : undefined,
  };
}

/** Learns from this update's status and limit (see the module comment). */
export function noteCarMinimum(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  state: ConnectorState | undefined,
  drawnA: number | undefined,
  now: number,
): void {
  const session = runtime.session;
  const status = state?.status;
  const lastStatus = session.minLastStatus;
  session.minLastStatus = status;
  if (status === 'Charging' && drawnA !== undefined && drawnA > ACTIVE_PHASE_A)
    session.restingSinceMs = undefined;
  const sentA = runtime.sent?.limitA ?? 0;
  offerSkippedWhenWaiting(runtime, now);
  if (!(sentA > 0)) return;
  const changedAt = runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY;
  const settled = now - changedAt >= followMsOf(site, runtime);
  const lowered = (runtime.previousSent?.limitA ?? 0) > sentA + EPS;
  if (
    status === 'SuspendedEV' &&
    lastStatus === 'Charging' &&
    (settled || !lowered) &&
    session.restingSinceMs === undefined
  )
    session.restingSinceMs = now;
  if (status === 'Charging' && drawnA !== undefined && drawnA > ACTIVE_PHASE_A && settled) {
    session.chargedAtA = Math.min(session.chargedAtA ?? sentA, sentA);
    const learned = session.learnedMinA;
    if (learned !== undefined && sentA < learned - EPS)
      session.learnedMinA = sentA > connector.minA + EPS ? sentA : undefined;
    return;
  }
  // A car whose learned minimum is still too low (it stopped at 6.5 A, needs 8 A: offered 7 A it
  // does not start again) is asked one ampere more in the same way; not one that rests on its own.
  const stillStopped = session.stoppedAtA !== undefined && session.restingSinceMs === undefined;
  // One that charged this session, was paused by the manager (no stop of its own, no lowering it
  // stopped at) and, started again at the minimum in force below the least it charged at, takes
  // nothing, may need more than that minimum as well: its pause showed nothing of its own. Asked in
  // the same way, up to the least it charged at (it took that); only a car that takes nothing even
  // there rests on its own. Taken as resting at once, a car that needs 7 A, paused after it charged
  // at 8.9 A and offered 6 A, was left at 6 A every 30 min for the rest of its stay (issue 45's car
  // park, seed 760867: CP-10, 0.2 of the ideal's 16.5 kWh).
  const restartedBelow =
    session.chargedAtA !== undefined &&
    session.stoppedAtA === undefined &&
    session.restingSinceMs === undefined &&
    sentA + EPS < session.chargedAtA;
  if (
    status === 'SuspendedEV' &&
    (session.chargedAtA === undefined || stillStopped || restartedBelow) &&
    settled &&
    !session.probeDone &&
    // A pv or minpv car is offered what the sun gives, not more to see whether it starts.
    effectiveMode(site, connector, runtime) === 'fast'
  ) {
    // It never started: ask two amperes more (one at the top, and one after the ampere a step
    // passed over was tried), while what it was offered is the minimum in force.
    const inForceA = carMinimum(connector, runtime).minA;
    if (sentA + EPS < inForceA) return;
    const aboveA = passedOverA(sentA);
    // Offered the ampere above the one it did not start at, after a two-ampere step: the ampere
    // that step passed over (offerSkippedWhenWaiting), or the top.
    const tried =
      session.notStartedAtA !== undefined && Math.abs(sentA - passedOverA(session.notStartedAtA)) < EPS;
    const topA = Math.min(
      CAR_MINIMUM_PROBE_MAX_A,
      connector.maxA,
      restartedBelow && session.chargedAtA !== undefined ? session.chargedAtA : Number.POSITIVE_INFINITY,
    );
    const stepA = aboveA + 1 > topA + EPS || tried ? aboveA : aboveA + 1;
    // Up to the least it charged at, where that is not a whole ampere.
    const nextA = restartedBelow && stepA > topA + EPS && topA > sentA + EPS ? topA : stepA;
    if (nextA > topA + EPS) {
      session.probeDone = true;
      session.learnedMinA = undefined;
      session.notStartedAtA = undefined;
      return;
    }
    session.learnedMinA = nextA;
    session.notStartedAtA = sentA;
    return;
  }
  // One that charged this session and takes nothing at the minimum in force or more for its follow
  // time rests on its own as well (it became full while paused, or as its limit was lowered).
  if (
    status === 'SuspendedEV' &&
    settled &&
    session.chargedAtA !== undefined &&
    session.restingSinceMs === undefined &&
    (!stillStopped || session.probeDone) &&
    sentA + EPS >= carMinimum(connector, runtime).minA
  )
    session.restingSinceMs = now;
  if (status !== 'SuspendedEV' || lastStatus !== 'Charging' || !lowered || settled) return;
  // It stopped after its limit was lowered to sentA: it needs more than that.
  const chargedAt = Math.min(
    session.chargedAtA ?? connector.maxA,
    runtime.previousSent?.limitA ?? connector.maxA,
  );
  const above = Math.min(Math.floor(sentA + EPS) + 1, chargedAt, connector.maxA);
  if (above > (session.learnedMinA ?? connector.minA) + EPS) {
    session.learnedMinA = above;
    session.stoppedAtA = sentA;
    session.notStartedAtA = undefined;
  }
}

/** The whole ampere above a limit a car did not start at: the one a two-ampere step passes over. */
const passedOverA = (notStartedAtA: number) => Math.floor(notStartedAtA + EPS) + 1;

/**
 * A car that never charged, paused (offered nothing) for CAR_MINIMUM_SKIPPED_AFTER_MS with a
 * minimum a two-ampere step learned (above the ampere it passed over): its minimum in force becomes
 * that ampere (see the module comment). Whether that fits is the allocation's to say, as for any
 * minimum; once it is the minimum, the step is no longer seen and nothing is tried twice.
 */
function offerSkippedWhenWaiting(runtime: ConnectorRuntime, now: number): void {
  const session = runtime.session;
  const notStartedA = session.notStartedAtA;
  const learnedA = session.learnedMinA;
  if (notStartedA === undefined || learnedA === undefined || session.chargedAtA !== undefined) return;
  if ((runtime.sent?.limitA ?? 0) > 0 || learnedA < passedOverA(notStartedA) + 1 - EPS) return;
  if (now - (runtime.lastChangeAtMs ?? now) < CAR_MINIMUM_SKIPPED_AFTER_MS) return;
  session.learnedMinA = passedOverA(notStartedA);
}

/**
 * Whether the car, paused now (offered nothing: SuspendedEVSE says nothing of it), took nothing
 * when it was last offered current: it rests on its own, or it never charged this session and did
 * not start at what it was offered. Until it is offered again nothing new is known of it, so the
 * keep order (allocation/from-update.ts) keeps it behind the cars that take current, as it did
 * while it sat in SuspendedEV (issue 45: ranked by its arrival again once paused, such a car came
 * before the one started in its place, which was held at 0 A at once).
 */
export function tookNothingWhenLastOffered(session: CarMinimumSession): boolean {
  return (
    session.restingSinceMs !== undefined ||
    (session.chargedAtA === undefined && session.notStartedAtA !== undefined)
  );
}

/**
 * Whether the car on this connector yields in this update (see the module comment), kept in the
 * session for the policy and the reasons: it wants current (`wanting`), has rested on its own for
 * CAR_REST_YIELD_MS and still takes nothing (SuspendedEV, or SuspendedEVSE once offered nothing).
 */
export function carYields(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
  wanting: boolean,
): boolean {
  const since = runtime.session.restingSinceMs;
  const status = runtime.state?.status;
  runtime.session.yielding =
    wanting &&
    since !== undefined &&
    now - since >= CAR_REST_YIELD_MS &&
    !offeredAgain(site, runtime, now - since - CAR_REST_YIELD_MS) &&
    (status === 'SuspendedEV' || status === 'SuspendedEVSE') &&
    effectiveMode(site, connector, runtime) === 'fast';
  return runtime.session.yielding;
}

/**
 * Whether a car that has yielded for `yieldedMs` is in one of its tries (CAR_REST_REOFFER_MS):
 * the last CAR_REST_RETRY_MS (at least its charger's follow time and a minute) of each period.
 */
function offeredAgain(site: Site, runtime: ConnectorRuntime, yieldedMs: number): boolean {
  const retryMs = Math.max(CAR_REST_RETRY_MS, followMsOf(site, runtime) + 60_000);
  return yieldedMs % CAR_REST_REOFFER_MS >= CAR_REST_REOFFER_MS - retryMs;
}
