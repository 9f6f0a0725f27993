/**
 * Observer stage, the other half of the "ignores its limit" judgement (overdraw.ts owns the
 * tolerance and the follow time): whether a decrease has taken effect, and what a pending decrease
 * keeps of the set-points the charger may still be applying.
 */
import type { ConnectorRuntime } from '../parts';
import { maxKnown, THREE_PHASES, wiredPhases } from '../phases';
import type { Connector, Site } from '../site/model';
import { carLeft } from './car-left';
import { CONFIRMED_EPS_A, followFrom } from './follow-from';
import type { DrawSample } from './measurements';
import { allowedAt, followMsOf } from './overdraw';
import { withOvershoot } from './overshoot';

/**
 * A reading stamped this much before its confirmation arrived is still taken after the charger's
 * answer: chargers stamp whole seconds, and the answer travels before it is stamped here (a peer
 * charger's reading sent right after its answer was stamped 1 ms before it arrived, and its
 * decrease stayed pending for a minute).
 */
export const READING_STAMP_SLACK_MS = 1_000;

/**
 * A decrease just went out: until the charger shows it followed, it is counted at `fromA` (the
 * higher of this and a decrease still pending) for the increases of the others. What its car drew
 * then is noted: only a decrease the car had to follow teaches how long the charger takes.
 */
export function expectDecrease(runtime: ConnectorRuntime, fromA: number, now: number): void {
  const pending = runtime.pendingDecrease;
  const drewA = maxKnown(runtime.draw?.chargerA, THREE_PHASES);
  runtime.pendingDecrease = {
    fromA: Math.max(fromA, pending?.fromA ?? 0),
    atMs: now,
    firstAtMs: pending?.firstAtMs ?? pending?.atMs ?? now,
    drewA: Math.max(drewA ?? 0, pending?.drewA ?? 0),
    ...(pending?.passedA ? { passedA: pending.passedA } : {}),
  };
}

/** The set-points on a charger's way to its newest that a pending decrease keeps (the newest ones). */
const PASSED_KEPT = 16;

/**
 * A new set-point goes out while a decrease is pending (called before `runtime.sent` is replaced):
 * the one it replaces is one the charger may still be applying (`pendingDecrease.passedA`).
 */
export function notePassed(runtime: ConnectorRuntime): void {
  const pending = runtime.pendingDecrease;
  const last = runtime.sent;
  if (!pending || !last) return;
  const passed = pending.passedA ?? [];
  passed.push(last.limitA);
  if (passed.length > PASSED_KEPT) passed.shift();
  pending.passedA = passed;
}

/**
 * A set-point at or above every one a pending decrease keeps (its `fromA`, the highest of them), on
 * every phase the connector has, supersedes it: whatever of them the charger is still applying, it
 * may draw no more than the new one allows, so there is nothing left to wait for. Left pending, a
 * car restarted at 6 A 30 s after a pause whose decrease (6 → 0 A) no reading had shown taught
 * nothing of its 3 % overshoot (evidence/overshoot.ts learns nothing while a decrease is pending),
 * was raised to 8.9 A beside two chargers that refuse their limits, and drew 9.17 A, 0.17 A over a
 * breaker for 21 s (FAULTS_SEED=20261125 FAULTS_PATH=5179 with a 30 s minimum off time).
 * Asked for a set-point that is no decrease (control/policy.ts, where a decrease calls
 * expectDecrease), before notePassed: a decrease that is gone keeps no set-points passed.
 */
export function supersedeDecrease(
  connector: Connector,
  runtime: ConnectorRuntime,
  limitA: number,
  phases: 1 | 2 | 3,
): void {
  const pending = runtime.pendingDecrease;
  if (pending && limitA >= pending.fromA && (phases === 3 || connector.phases === 1))
    runtime.pendingDecrease = undefined;
}

/**
 * Whether a decrease has taken effect, on evidence: the charger's own reading, measured after the
 * decrease went out, within its new set-point on every phase, and taken late enough to prove it:
 * - where the charger's limits are confirmed (`runtime.confirmed`), a confirmation of a limit within
 *   the new set-point must have come after the decrease went out, and the reading must have been
 *   taken after the charger's answer, to within READING_STAMP_SLACK_MS (before it, an increase still on its way may raise it again);
 * - where they are not (a flow that sends set-points another way, the simulator), the reading must
 *   have been taken at least the charger's follow time after the last increase it was sent, which
 *   may otherwise still land after the reading.
 * Its own reading taken after the decrease that still shows more keeps it pending, however long.
 * A car that left (evidence/car-left.ts: its transaction ended, and it is Available, Finishing, ended with
 * EVDisconnected or reads within the new set-point) settles it at once, and teaches nothing.
 * Time alone settles it only after the charger's follow time (evidence/response-time.ts), and only with no
 * such reading (a charger that refused to report per-phase currents, `sampling`, has none: the
 * reasons of those who wait say so); where its limits are confirmed, counted from the confirmation
 * of a limit within the new set-point (followFrom). Returns how long the charger took when a decrease its car had to follow was shown
 * followed by a reading (what the follow time is learned from).
 */
export function settleDecrease(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
): number | undefined {
  const pending = runtime.pendingDecrease;
  if (!pending || !runtime.sent) {
    runtime.pendingDecrease = undefined;
    return undefined;
  }
  // The car left (evidence/car-left.ts): nothing draws on the old set-point; nothing learned of the charger.
  if (carLeft(site, connector, runtime, pending.atMs)) {
    runtime.departed = { atMs: now, freedA: pending.fromA };
    runtime.pendingDecrease = undefined;
    return undefined;
  }
  const followMs = followMsOf(site, runtime);
  const draw = runtime.draw;
  // A register's delta (evidence/energy-draw.ts) shows the decrease only once all of it came after:
  // from a reading taken when the decrease went out (what it drew since is all after) or later.
  if (draw && (draw.energy ? draw.energy.fromMs >= pending.atMs : draw.atMs > pending.atMs)) {
    const shown = shownFollowed(site, connector, runtime, draw, pending);
    // Its own reading still shows more than it may draw: pending, whatever the time.
    if (shown === false) return undefined;
    if (shown && proves(runtime, draw, pending, followMs) && !inSwitchPause(runtime, draw, followMs)) {
      runtime.pendingDecrease = undefined;
      const hadToFollow = (pending.drewA ?? 0) > runtime.sent.limitA + site.control.overdrawToleranceA;
      // Timed from the first decrease not shown followed: a charger that applies its set-points in
      // order may be landing an older one (timed from the newest, a 58 s charger that followed a
      // decrease sent 58 s before was learned at 2 s: FAULTS_SEED=20261125 FAULTS_PATH=9611).
      return hadToFollow ? draw.atMs - (pending.firstAtMs ?? pending.atMs) : undefined;
    }
  }
  const from = followFrom(runtime, pending);
  if (registerOwesIt(site, draw, (from ?? pending.atMs) + followMs, now)) return undefined;
  if (from !== undefined && now - from >= followMs) runtime.pendingDecrease = undefined;
  return undefined;
}

/**
 * Whether a charger measured by its energy register is yet to give the delta that shows what it drew
 * once it had its follow time to apply a decrease (`followedByMs`): its newest delta began before
 * then, and its next is not overdue
 * (the newest is fresh, `control.connectorDrawStaleAfterMs`, or younger than its own interval: a
 * charger read every 5 min whose delta went stale at 180 s had its decrease settled by time and was
 * counted at 13 A while it drew 16 A, seed 4611 path 808 with both habits on). Time alone does
 * not settle the decrease before: a delta shows what the charger drew only when it ends, and one
 * that kept drawing its old limit past its follow time, its decrease settled by time, was counted at
 * the new one until its next delta showed it (an energy-only charger reporting every 60 s that
 * ignores its limits: 2 A over a breaker for 42 s, POPULATION=energyOnly PROPERTY_SEED=4501
 * PROPERTY_PATH=227). As with a current that still shows more, the delta after keeps it pending
 * until one shows it within. A delta that began within the follow time proves nothing either way (the
 * charger may still have been applying the decrease): a rogue charger read every 34 s, its one-phase
 * car at 16.1 A after a decrease to 13.5 A (or a three-phase car at 5.4 A), was settled by time on
 * such a delta, and a car beside it raised into its current: 1 A over a breaker for 11 s
 * (POPULATION=all PROPERTY_SEED=7031 PROPERTY_PATH=181).
 */
function registerOwesIt(
  site: Site,
  draw: DrawSample | undefined,
  followedByMs: number,
  now: number,
): boolean {
  const energy = draw?.energy;
  if (!draw || !energy || energy.fromMs >= followedByMs) return false;
  const intervalMs = draw.atMs - energy.fromMs;
  return (
    now - draw.atMs <= Math.max(site.control.connectorDrawStaleAfterMs, intervalMs + READING_STAMP_SLACK_MS)
  );
}

/**
 * How long a charger may hold the car after it applied a switch of the phases, ms: it opens its
 * contactor, waits, switches, and the car asks for current again (10-30 s; the simulator's 20 s).
 */
export const PHASE_SWITCH_PAUSE_MS = 30_000;

/**
 * Whether a reading was taken while a switch of the phases the load manager sent may still be
 * holding the car: within the charger's follow time (to apply it) and PHASE_SWITCH_PAUSE_MS (its
 * pause) after the switch went out. The car reads 0 A then whatever the limit, so such a reading
 * shows the switch, not a decrease followed. Taken for one, a slow charger's car came back at its
 * old limit once the pause was over while the others had been given its current: 4.3 A over a
 * breaker for 14 s in the closed loop with a 20 s switch pause (seed 20261125 path 2037).
 */
function inSwitchPause(runtime: ConnectorRuntime, draw: { atMs: number }, followMs: number): boolean {
  const switchedAt = runtime.session.switchedAtMs;
  return switchedAt !== undefined && draw.atMs <= switchedAt + followMs + PHASE_SWITCH_PAUSE_MS;
}

/**
 * Whether a reading shows the charger within its new set-point: true, false, or undefined (a phase
 * not measured, or a reading at a set-point it was sent on the way: no proof either way).
 */
function shownFollowed(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  draw: DrawSample,
  pending: { fromA: number; drewA?: number; passedA?: number[] },
): boolean | undefined {
  const { control } = site;
  let unproven = false;
  for (const i of wiredPhases(connector)) {
    const value = draw.chargerA[i];
    if (value === null || value === undefined) return undefined;
    // In draw space: a car that draws its learned overshoot above its set-point (evidence/overshoot.ts,
    // kept back by every circuit above it) follows a decrease at set-point × (1 + overshoot); taken
    // at the set-point alone, a car 0.9 % above it never showed a 0.1 A decrease followed, and a
    // third car waited at its start for that for the whole hour (issue 45's home layout, fleet
    // following,overshoot, seed 45: 18.16 A read at 18 A).
    const allowed = withOvershoot(runtime, allowedAt(site, connector, runtime, i, draw.atMs, false));
    // The measurement tolerance must not reach what the car drew before: after a decrease smaller
    // than the tolerance (9.5 -> 8.6 A), a reading of the old 9.5 A is not a charger that followed;
    // nor is a car that drew 9 A under an old 16 A one that reads 9 A after a decrease to 8.6 A.
    const fromA = withOvershoot(runtime, pending.fromA);
    const before = Math.min(fromA, pending.drewA || fromA);
    const tolerance = Math.min(control.overdrawToleranceA, Math.max(0, (before - allowed) / 2));
    // A register's delta shows more only where its least does; within only where its most is (a
    // car on one phase of a three-phase connector); between the two it proves nothing.
    const least = draw.energy?.leastA[i];
    if (least !== undefined && least !== null) {
      if (least > allowed + tolerance) return false;
      if (!(value <= allowed + tolerance)) unproven = true;
      continue;
    }
    if (!(value <= allowed + tolerance)) return false;
    // Nor a set-point it was sent on the way, which a slow charger may be applying: a 56 s charger
    // sent 10, 7.3 then 6.8 A read 7.3 A (the second landed, not the third), taken as 6.8 A within
    // the tolerance, and the current it still drew went to a faster one (FAULTS_SEED=99993
    // FAULTS_PATH=20, FAULTS_SEED=779 FAULTS_PATH=1365). Closer to one of them than to the new set-point,
    // the reading proves nothing: the decrease stays pending until its follow time.
    for (const passed of pending.passedA ?? []) {
      if (passed > allowed && value > allowed + (passed - allowed) / 2) unproven = true;
    }
  }
  return unproven ? undefined : true;
}

/** Whether a reading within the new set-point was taken late enough to prove the decrease (see settleDecrease). */
function proves(
  runtime: ConnectorRuntime,
  draw: DrawSample,
  pending: { atMs: number },
  followMs: number,
): boolean {
  const confirmed = runtime.confirmed;
  const sent = runtime.sent;
  if (!sent) return false;
  if (confirmed) {
    return (
      confirmed.atMs >= pending.atMs &&
      confirmed.limitA <= sent.limitA + CONFIRMED_EPS_A &&
      draw.receivedMs >= confirmed.sinceMs &&
      (draw.energy?.fromMs ?? draw.atMs) >= confirmed.sinceMs - READING_STAMP_SLACK_MS
    );
  }
  return (
    (draw.energy?.fromMs ?? draw.atMs) >= (runtime.lastIncreaseAtMs ?? Number.NEGATIVE_INFINITY) + followMs
  );
}
