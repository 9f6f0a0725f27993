/**
 * Observer stage, the "ignores its limit" judgement: whether a charger draws more than its
 * set-point allows (overdraw), and (decrease-settle.ts) whether a decrease has taken effect. One
 * owner for the tolerance and the timing of both; the defaults below are the site's control
 * defaults, and any other room that judges a charger against its limit should ask here.
 */
import type { PerPhase } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import type { Logger } from '../../log';
import type { ConnectorRuntime } from '../parts';
import {
  fillUnknown,
  type GridPhase,
  maxKnown,
  THREE_PHASES,
  type Triple,
  toGrid,
  triple,
  wiredPhases,
} from '../phases';
import type { Connector, Site } from '../site/model';
import { type Reason, say } from '../words';
import {
  countCarries,
  type EnergyCount,
  fewestPhasesOf,
  plausibleMostA,
  registerCounts,
} from './energy-draw';
import type { DrawSample } from './measurements';

/** What the observer stage needs to judge: the site's settings and where to log. */
export interface ObserverContext {
  site: Site;
  logger: Logger;
}

/**
 * How long the charger may take to follow a change of its limit (evidence/response-time.ts learned it, the
 * observer wrote it on the record); the site's start value before the first update saw it.
 */
export function followMsOf(site: Site, runtime: ConnectorRuntime): number {
  return runtime.followMs ?? site.control.decreaseSettleMs;
}

/**
 * When the car has had its charger's follow time after the last change of its set-point (−∞ before
 * any): a reading, or a register's delta, from then on shows the set-point in force alone.
 */
export function settledFromMs(site: Site, runtime: ConnectorRuntime): number {
  return (runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY) + followMsOf(site, runtime);
}

/**
 * The current charger phase `i` may carry by the set-point in force at `atMs`: the set-point
 * (0 on a phase a one-phase set-point does not use), or, while the charger may still be following
 * a change (its follow time, evidence/response-time.ts; a phase switch's settle time), the higher of the old
 * and the new (before its first set-point, and back online until its set-point is sent again, a
 * charger offers what it does on its own: `offlineA`); a decrease still pending counts at what it
 * was counted at until then.
 */
export function allowedAt(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  i: number,
  atMs: number,
  lenient: boolean,
  guess = true,
): number {
  const sent = runtime.sent;
  if (!sent) return Number.POSITIVE_INFINITY;
  const on = (s: { limitA: number; phases: 1 | 2 | 3 }) => (s.phases === 1 && i !== 0 ? 0 : s.limitA);
  let allowed = on(sent);
  if (!lenient) return allowed;
  // Back online, its set-point not sent again yet: it ran on its own until now.
  if (runtime.resend) allowed = Math.max(allowed, connector.offlineA);
  const previous = runtime.previousSent;
  const changedAt = runtime.lastChangeAtMs;
  const followMs = followMsOf(site, runtime);
  if (changedAt !== undefined && atMs < changedAt + followMs) {
    const old = previous ?? (guess ? { limitA: connector.offlineA, phases: connector.phases } : undefined);
    if (old) allowed = Math.max(allowed, on(old));
  }
  const pending = runtime.pendingDecrease;
  if (pending && atMs < pending.atMs + followMs) {
    allowed = Math.max(allowed, on({ limitA: pending.fromA, phases: previous?.phases ?? sent.phases }));
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
 * Overdraw: a charger above what its set-point allows (allowedAt: within its follow time after a
 * change, the higher of the old and the new; no other grace) is believed at its first such
 * reading: counted at what it draws in the same update, and its set-point is not raised, until its
 * readings show it following for overdrawClearMs (readings of a car drawing nothing, or under a
 * pause, show nothing). Its last draw is kept when its readings stop or it is paused. Caught a
 * second time in the same session, it is not under control (`session.ignoresLimit`,
 * evidence/uncontrolled.ts) for the rest of the session.
 */
export function observeOverdraw(
  context: ObserverContext,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample | undefined,
  now: number,
): void {
  const session = runtime.session;
  const sentLimit = runtime.sent?.limitA ?? 0;
  // A charger whose limit failed never got its set-point: it is counted at what it draws on its
  // own (evidence/uncontrolled.ts failedLimitReserve), not judged against a limit it does not
  // have. Judged, a car waiting at a paused refuser that started was caught at its first reading
  // and counted at it with nothing to clear it (its set-point never rises to show it follows); an
  // energy register's one-phase most at that (issue 45's car park: 6.2 A on three phases counted
  // at 19.3 A on L1 all day, 13 A of the zone kept from everyone else).
  if (runtime.state?.online === true && runtime.sent && !runtime.state.limitFailed) {
    if (sample) judgeOverdraw(context, connector, runtime, sample);
    const excused = session.guessEndsAtMs !== undefined && now < session.guessEndsAtMs;
    if (!session.overdrawing && session.lastOver && session.overdrawSinceMs !== undefined && !excused)
      flagOverdraw(context, connector, runtime, undefined, false);
  }
  // A pause does not lower the cap: paused, it shows nothing, and it may start again at the
  // set-point it was caught at (counted at what it drew then).
  if (session.overdrawing && sentLimit > 0)
    session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);
}

/**
 * How far its set-point may rise while it does not follow: an overdrawing charger not above the
 * set-point it was caught at; one whose newest reading showed more than its set-point within the
 * time it was given to follow, not above its set-point until a reading shows it follows (paused, it
 * may start at `startA`, its car's minimum: a reading after that is judged against it), or, where
 * only that time excused the reading, not above the set-point it is leaving (`aboveSetPoint.followingFromA`: it
 * goes back to where it was, nothing it was not shown to follow). A charger
 * that ignores its limits, raised on such a reading to what it drew anyway, hid it until a decrease
 * it was taken to have followed (PROPERTY_SEED=20261123 PROPERTY_PATH=1120 and four more among the
 * fixed cases). Paused at the connector's minimum below its car's, the car never started, and an
 * energy register that does not rise gives no reading to clear it: the car waited for its
 * departure (issue 45's car park, CP-10 from 09:49 on, 7 A learned).
 */
export function notRaisedAbove(
  runtime: ConnectorRuntime,
  online: boolean,
  startA: number,
): { capA: number; why: Reason } | undefined {
  const session = runtime.session;
  const sentLimit = runtime.sent?.limitA ?? 0;
  // (No cap while overdrawing: its pause showed nothing for overdrawClearMs, judgeOverdraw.)
  if (session.overdrawing)
    return {
      capA: session.overdrawCapA ?? startA,
      why: [say('drawsAbove')],
    };
  const above = session.aboveSetPoint;
  if (above === undefined || !online) return undefined;
  return {
    capA: Math.max(sentLimit > 0 ? sentLimit : startA, above.followingFromA ?? 0),
    why: [say('readingAbove')],
  };
}

/**
 * The set-point in force on charger phase `i`, without the time to follow a change (a phase a
 * one-phase set-point does not use is left to the phase switch's own settle time: not judged here).
 */
function setPointOn(runtime: ConnectorRuntime, i: number): number {
  const sent = runtime.sent;
  if (!sent) return Number.POSITIVE_INFINITY;
  return sent.phases === 1 && i !== 0 ? Number.POSITIVE_INFINITY : sent.limitA;
}

/** The highest set-point in force at some time from `fromMs` to `toMs` (PolicyRecord.changes; 0 without). */
function highestOffered(runtime: ConnectorRuntime, fromMs: number, toMs: number): number {
  let highest = 0;
  const changes = runtime.changes;
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i];
    if (!change || change.atMs > toMs) continue;
    highest = Math.max(highest, change.limitA);
    if (change.atMs <= fromMs) break;
  }
  return highest;
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
  let guessed = false;
  let excused = false;
  // The highest set-point in force (a change's follow time) that excuses a phase above its own.
  let excusedUpToA = 0;
  let unknown = false;
  let maxA = 0;
  // How far above what it was allowed (the most over its phases).
  let aboveA = 0;
  // A draw derived from the energy register (evidence/energy-draw.ts) is judged at the least it
  // shows, against the set-points in force since the older of its two readings: only what it
  // surely drew above them is an overdraw. It is counted, caught, at the most it may have drawn.
  const judged = sample.energy?.leastA ?? sample.chargerA;
  const atMs = sample.energy?.fromMs ?? sample.atMs;
  for (const i of wiredPhases(connector)) {
    const value = judged[i];
    if (value === null || value === undefined) {
      unknown = true;
      continue;
    }
    maxA = Math.max(maxA, value);
    // While counted at its draw, only the set-point in force shows that it follows.
    const allowed = allowedAt(context.site, connector, runtime, i, atMs, !session.overdrawing);
    const tolerance = control.overdrawToleranceA;
    if (value > allowed + tolerance) {
      over = true;
      aboveA = Math.max(aboveA, value - allowed);
      continue;
    }
    // What the set-points in force allow without a guess of its draw before its first one.
    const known = session.overdrawing
      ? allowed
      : allowedAt(context.site, connector, runtime, i, atMs, true, false);
    if (value > known + tolerance) guessed = true;
    else if (value > setPointOn(runtime, i) + tolerance) {
      excused = true;
      excusedUpToA = Math.max(excusedUpToA, known);
    }
  }
  const register = over ? undefined : registerBeyond(context.site, connector, runtime, sample);
  if (register !== 'keep') {
    session.registerBeyondA = register;
    session.registerBeyondJudged = register ? true : undefined;
  }
  // Nor is a charger read by its register only raised before a settled interval showed its car at
  // its set-point once (its start is that test, as for a charger that reports its currents): one
  // offering 3 A more than told, its one-phase car at 9 A under 6 A, read every 5 min and each
  // delta spanning a change, was ramped to 14 A on time alone and drew 16 A (2 A over a breaker for
  // 72 s, POPULATION=…,energyOnly PROPERTY_SEED=4611 PROPERTY_PATH=1128).
  const untested = sample.energy !== undefined && sample.energy.counts.length > 1 && !session.registerFollows;
  // Until then it is counted at the most any count of phases puts on each phase, whatever the
  // set-point: a charger that ignores its limits, its one-phase car at 16 A under 6 A, read every
  // 47 s, gave deltas that began before its set-point settled (16.32 A on one phase or 5.44 A on
  // three: a three-phase car following 0 -> 6 A too); counted at 6 A, a car beside it was started
  // into the room its car took (2 A over a breaker for 67 s, POPULATION=…,energyOnly
  // PROPERTY_SEED=4831 PROPERTY_PATH=617). That count takes room from the others only: the
  // charger's own set-point is judged beside what it surely draws (allocation/state.ts).
  // (Its newest delta's: what a longer interval judged this time is counted too.)
  if (untested && !over && sample.energy) {
    const worst = beyondCounts(connector, sample.energy.counts, () => Number.NEGATIVE_INFINITY);
    const judged = register === 'keep' ? undefined : register;
    if (worst)
      session.registerBeyondA = judged ? (worst.map((a, p) => Math.max(a, judged[p] ?? 0)) as Triple) : worst;
  }
  const mayMeanMore = session.registerBeyondA !== undefined || untested;
  const beyondA = session.registerBeyondA;
  // The highest set-point offered over the delta's interval (a delta read after a pause still
  // covers the start before it).
  const judgedAt = highestOffered(runtime, sample.energy?.fromMs ?? sample.atMs, sample.atMs);
  if (beyondA && judgedAt > 0 && !session.registerFollows) {
    const above = beyondA.map((a, p) => Math.max(session.registerAboveA?.[p] ?? 0, a - judgedAt)) as Triple;
    if (above.some((a) => a > 0)) session.registerAboveA = above;
  } else if (judgedAt > 0 && registerJudged(runtime, sample)) session.registerAboveA = undefined;
  // (A delta its register was not judged by, paused say, clears nothing. A charger offering 3 A
  // more than told, read every 6 s, was paused a second after each start on the grid meter's step,
  // which kept the 3 A; its next delta, 9 A under the start's 6 A, judged against nothing, cleared
  // it, and each start asked room for 6 A only: 1 A over a breaker for 6 s at every start, IT seed
  // 20261214 path 1512.)
  // Above its set-point, excused only by the time it was given to follow: not raised until a
  // reading shows it within (a reading after that time that still shows more is believed); so is a
  // register's delta that may mean more (registerBeyond).
  session.aboveSetPoint =
    (excused || guessed || mayMeanMore) && !over
      ? { atMs: sample.atMs, followingFromA: excused && !guessed && !mayMeanMore ? excusedUpToA : undefined }
      : undefined;
  // Excused only as what it drew on its own before its first set-point: believed when that time
  // is over and no reading since showed it follows (a charger that ignores its limits, reading every
  // 5 min, was held at its minimum while a meter judged frozen hid its draw: 4 A over for 5 s,
  // AMPFLOW_CLOSED_LOOP_SEED=20261123 path 9542).
  session.guessEndsAtMs =
    guessed && !over
      ? (runtime.lastChangeAtMs ?? sample.atMs) + followMsOf(context.site, runtime)
      : undefined;
  if (over || guessed) {
    // A phase it does not report is taken at the highest it reports (the worst case).
    const most = sample.energy ? Math.max(maxA, maxKnown(sample.chargerA, THREE_PHASES) ?? 0) : maxA;
    const chargerA = sample.chargerA.map((v) => v ?? most) as PerPhase;
    session.lastOver = { gridA: toGrid(connector, chargerA), maxA: most, aboveA };
    session.compliantSinceMs = undefined;
    if (session.overdrawing) {
      session.overdrawFloorA = session.lastOver.gridA;
      // Let start after its pause showed nothing (below), it draws above its set-point again: held
      // at that set-point as when it was caught.
      session.overdrawCapA ??= runtime.sent?.limitA ?? 0;
    } else session.overdrawSinceMs ??= sample.atMs;
    return;
  }
  if (unknown) return;
  session.lastOver = undefined;
  session.overdrawSinceMs = undefined;
  if (!session.overdrawing || atMs < (runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY)) return;
  // Caught above a pause, its cap is that pause's 0 A, and a charger never raised above 0 A never
  // shows that it follows: its car waited, counted at what it drew, until it left (issue 45's car
  // park, seed 500983: a charger following in 33 s, its follow time learned at 7.5 s from one
  // decrease, caught 11 s into a pause, CP-05/1 from 12:10 to 16:56). Once its readings under the
  // pause show nothing for overdrawClearMs (it followed late, or its car rests), it is counted at
  // that nothing and may start at its car's minimum (notRaisedAbove): an increase from 0 A that
  // must fit like any start, judged against that minimum, still not trusted above it until it
  // follows (counted at what it drew, the start of a charger that still counts 7.2 A looked like
  // no increase and was made beside a breaker over on other loads alone: PROPERTY_SEED=20261123
  // PROPERTY_PATH=244).
  if (runtime.sent && !(runtime.sent.limitA > 0) && session.overdrawCapA === 0) {
    if (maxA > ACTIVE_PHASE_A) {
      session.compliantSinceMs = undefined;
      return;
    }
    session.compliantSinceMs ??= sample.atMs;
    if (sample.atMs - session.compliantSinceMs >= control.overdrawClearMs) {
      session.overdrawFloorA = triple(0);
      session.overdrawCapA = undefined;
      session.compliantSinceMs = undefined;
    }
    return;
  }
  // Following is shown only by a car that draws under a set-point above 0: a charger paused, or a
  // car that takes nothing, reads 0 A whatever the charger does with a limit (an overdrawing
  // charger paused for a minute was trusted again, and drew 3 A above its next set-point).
  if (!(runtime.sent && runtime.sent.limitA > 0 && maxA > ACTIVE_PHASE_A)) {
    session.compliantSinceMs = undefined;
    return;
  }
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

/**
 * How far a car's draw above its set-point (its overshoot, evidence/overshoot.ts) is taken to go
 * where a register's delta is matched with the set-point: MAX_OVERSHOOT's few per cent.
 */
const REGISTER_FOLLOW_BAND = 0.05;

/**
 * Whether a register's delta is judged against a set-point (registerBeyond): one with counts of
 * phases, at a set-point above 0. One that is not shows nothing beyond, and clears nothing either.
 */
function registerJudged(runtime: ConnectorRuntime, sample: DrawSample): boolean {
  return (sample.energy?.counts.length ?? 0) > 0 && (runtime.sent?.limitA ?? 0) > 0;
}

/**
 * An energy register's delta does not tell the car's phases (evidence/energy-draw.ts): 3.68 kW is
 * 16 A on one phase or 5.3 A on three. Judged at the least (spread over every phase), a charger that
 * ignores its limits, its car on one phase at 16 A, read as a three-phase car at 5.3 A under its
 * 9.3-10 A set-points, was counted at them on the phase it drew 16 A on (6 A over a breaker for
 * 540 s, POPULATION=…,energyOnly PROPERTY_SEED=4611 PROPERTY_PATH=255). Judged since the set-point
 * settled (its follow time after a change; a 5 s delta of whole Wh is a fifth either way): where no
 * plausible count of phases shows the car at its set-point (within it and REGISTER_FOLLOW_BAND
 * above) and one puts more on a phase than the set-point allows, the register may mean an
 * overdraw: per grid phase the most any count puts there (what the observer counts it at, and it
 * is not raised), until a settled interval shows the car at its set-point. A car that takes less
 * than its set-point on three phases reads the same as such a charger, and is counted the same:
 * the register cannot tell them apart. `keep`: no settled interval to judge yet (what was found
 * holds). Judged so with one plausible count too (a one-phase connector, a car known on one
 * phase): one 5 s delta of whole Wh is 3.1 A either way at 230 V, and judged at its least alone
 * (judgeOverdraw), a charger offering 3 A more than its 6 A set-point never showed it; raised to
 * 14.5 A, it drew 16.5 A beside chargers that filled the breaker (0.48 A over for 40 s:
 * POPULATION=keepers,noSmartCharging,unphased,reporting,following,overshoot,ownMaximum,energyOnly
 * IT_PROPERTY_SEED=9474 IT_PROPERTY_PATH=431). The deltas since its anchor show it within 20 s.
 */
function registerBeyond(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample,
): Triple | undefined | 'keep' {
  const session = runtime.session;
  const energy = sample.energy;
  const sent = runtime.sent;
  if (!energy || !sent || !registerJudged(runtime, sample)) {
    session.registerAnchor = undefined;
    return undefined;
  }
  const settledAt = settledFromMs(site, runtime);
  let anchor = session.registerAnchor;
  if (anchor && (anchor.atMs < settledAt || anchor.wh > energy.fromWh || anchor.atMs > energy.fromMs))
    anchor = undefined;
  if (!anchor) {
    if (energy.fromMs >= settledAt) anchor = { wh: energy.fromWh, atMs: energy.fromMs };
    else {
      session.registerAnchor = { wh: energy.wh, atMs: sample.atMs };
      return spanningBeyond(site, connector, runtime, sample, settledAt);
    }
    session.registerAnchor = anchor;
  }
  const counts = registerCounts(
    site,
    connector,
    energy.wh - anchor.wh,
    energy.stepWh,
    sample.atMs - anchor.atMs,
    // A car the probe saw follow on every phase is counted on all of them (evidence/observer.ts),
    // one a meter showed on more than one, on that many at least (evidence/meter-phases.ts).
    fewestPhasesOf(session),
  );
  if (!counts) return 'keep';
  const limitA = sent.limitA;
  // At a one-phase set-point only a car on one phase is at it (on more, it ignored the switch).
  const atIt = (count: EnergyCount) =>
    count.phases <= sent.phases &&
    count.mostA >= limitA &&
    count.leastA <= limitA * (1 + REGISTER_FOLLOW_BAND);
  // Shown at it only by a count whose step (the register's, over the interval) is within the band:
  // over 5 s, whole Wh put a three-phase count between 4.2 and 6.3 A, which a 6 A set-point and a
  // car at 16 A on one phase (5.3 A spread over three) both fit. Taken as following there, a
  // charger that ignores its limits was raised beside it and its one-phase car put 2.4 A over a
  // breaker (POPULATION=energyOnly PROPERTY_SEED=6305 PROPERTY_PATH=847). Wider, it waits for the
  // longer interval from its anchor (what was found holds; not raised until then).
  const tight = (count: EnergyCount) => count.mostA - count.leastA <= limitA * REGISTER_FOLLOW_BAND;
  if (counts.some((count) => atIt(count) && tight(count))) {
    session.registerFollows = true;
    session.registerAboveA = undefined;
    return undefined;
  }
  if (counts.some(atIt)) return 'keep';
  const tolerance = site.control.overdrawToleranceA;
  return beyondCounts(
    connector,
    counts,
    (i) => allowedAt(site, connector, runtime, i, sample.atMs, false) + tolerance,
  );
}

/**
 * Per charger phase the most any count of phases puts there (bounded by what a car may plausibly
 * draw there: energy-draw.ts plausibleMostA), in grid phases, where that is above `allowedA` on a
 * phase; else undefined. Which phases a count puts its current on is energy-draw.ts's
 * `countCarries`: on IT a one-phase count is on the charger's L2 too. Counted on its L1 alone, a
 * one-phase car's 9 A on L2 was counted at the three-phase count's 5.4 A (or its set-point) and
 * another charger raised into it (0.40 A over a conductor: POPULATION=keepers,noSmartCharging,
 * unphased,reporting,following,overshoot,ownMaximum,energyOnly IT_PROPERTY_SEED=9474
 * IT_PROPERTY_PATH=774).
 */
function beyondCounts(
  connector: Connector,
  counts: readonly EnergyCount[],
  allowedA: (i: number) => number,
): Triple | undefined {
  const wired = wiredPhases(connector);
  const mostA: PerPhase = [0, 0, 0];
  for (const count of counts)
    for (let i = 0; i < wired.length; i++)
      if (countCarries(connector, count.phases, i))
        mostA[i] = Math.max(mostA[i] ?? 0, Math.min(count.mostA, plausibleMostA(connector)));
  return wired.some((i) => (mostA[i] ?? 0) > allowedA(i)) ? toGrid(connector, mostA) : undefined;
}

/**
 * A delta that began before the set-point settled does not show the car following, but it may
 * show one surely above it: while it may still have been following, the car is taken at anything
 * up to the most a following car draws (its maxA and the band, whatever was in force before: a
 * 5 min interval may span several changes), and at its set-point (and the band) after. Where no
 * count of phases fits that and one puts more on a phase than its time-weighted most and the
 * tolerance, the register may mean an overdraw (counted at the most, not raised), as for a settled
 * interval; else nothing is judged (`keep`). A charger that
 * offers 3 A more than told, its one-phase car at 9 A under 6 A, read every 5 min, showed it by a
 * delta that began 14 s before its set-point settled; judged only at the next, 300 s later, it was
 * counted at 6 A while keepers beside it rose into the room it took (1 A over a breaker for 381 s,
 * POPULATION=…,energyOnly PROPERTY_SEED=4611 PROPERTY_PATH=1128).
 */
function spanningBeyond(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample,
  settledAt: number,
): Triple | 'keep' {
  const energy = sample.energy;
  const sent = runtime.sent;
  if (!energy || !sent || !(sample.atMs > settledAt)) return 'keep';
  const elapsedMs = sample.atMs - energy.fromMs;
  const counts = energy.counts;
  if (counts.length === 0) return 'keep';
  const followingMs = Math.min(elapsedMs, settledAt - energy.fromMs);
  const settledShare = (elapsedMs - followingMs) / elapsedMs;
  const mostFollowingA = connector.maxA * (1 + REGISTER_FOLLOW_BAND);
  // A count that a car following would give (anything while it may still follow, then at its
  // set-point) shows nothing either way: its car may follow on those phases.
  const highA = (limitA: number) =>
    (1 - settledShare) * mostFollowingA + settledShare * limitA * (1 + REGISTER_FOLLOW_BAND);
  const following = (count: EnergyCount) =>
    count.phases <= sent.phases &&
    count.mostA >= settledShare * sent.limitA &&
    count.leastA <= highA(sent.limitA);
  if (counts.some(following)) return 'keep';
  const tolerance = site.control.overdrawToleranceA;
  const boundA = (i: number) => highA(allowedAt(site, connector, runtime, i, sample.atMs, false)) + tolerance;
  return beyondCounts(connector, counts, boundA) ?? 'keep';
}

/**
 * A meter that counts the chargers rose at a charger's start (or raise) beyond what every raise
 * open then allows, and that charger is the only one rising there read by its energy register
 * alone, none below charging with no reading yet (charger-draw.ts blindRaiseOf): the rest of the
 * step is taken as its own too, above its set-point on that grid phase (`registerAboveA`, until a delta of its
 * register shows its car at its set-point or a delta under a set-point above 0 nothing beyond).
 * The meter counts that rest as other loads while the car draws; paused, the car takes it with it,
 * and started again it was counted at its set-point alone: a charger offering 3 A more than told,
 * read every 54 s, was started five times at 6 A beside a charger counted at 32 A on a 40 A
 * breaker, each start paused within seconds on the meter's step, and the fifth, with that car
 * drawing, put 1 A over it (closed-loop property, PROPERTY_SEED=20261201 PROPERTY_PATH=7361). A
 * rise of the other loads in that second is counted twice: the safe side, until the charger's
 * register clears it. Not a charger that reports its current without a phase (its readings show
 * what it draws, and nothing clears the count), nor beside one with no reading yet (a charger that
 * takes no limits started in that second: its step was kept as a neighbour's, 5.5 A over a breaker
 * for 535 s, PROPERTY_SEED=20261201 PROPERTY_PATH=3438).
 */
export function noteStepAbove(
  connector: Connector,
  runtime: ConnectorRuntime,
  p: GridPhase,
  amps: number,
): void {
  const session = runtime.session;
  if (session.registerFollows || !(amps > 0)) return;
  const above: Triple = session.registerAboveA ? [...session.registerAboveA] : triple(0);
  above[p] = Math.max(above[p], Math.min(amps, connector.maxA));
  session.registerAboveA = above;
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
    session.limitIgnored += 1;
    if (session.limitIgnored >= 2 && !session.ignoresLimit) {
      session.ignoresLimit = { drewA: maxA, limitA: sentLimit };
      context.logger.warn(
        `charger ${connector.key} draws ${maxA.toFixed(1)} A, above its set-point ${sentLimit} A, the second time this session: not under control until its car leaves, counted at what it may draw on its own, the others are reduced`,
      );
    } else {
      context.logger.warn(
        `charger ${connector.key} draws ${maxA.toFixed(1)} A, above its set-point ${sentLimit} A: counted at what it draws and not raised until it follows for ${Math.round(context.site.control.overdrawClearMs / 1000)} s, the others are reduced`,
      );
    }
  }
  if (!session.overdrawing) session.overdrawEpisodes += 1;
  session.overdrawing = true;
  if (!sample && session.lastOver)
    session.overdrawAboveA = Math.max(session.overdrawAboveA ?? 0, session.lastOver.aboveA);
  session.overdrawFloorA = gridA ? [...gridA] : session.overdrawFloorA;
  session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);
  session.overdrawSinceMs = undefined;
  session.compliantSinceMs = undefined;
}
