/**
 * Observer stage: how far a car draws above its set-point while it follows it (its overshoot),
 * learned per session. Cars draw a little above what they are offered (IEC 61851-1 lets them, and
 * meters round): an independent simulator's cars up to 3 %, and four of them on a 63 A zone filled
 * exactly (4 × 15.6 A) put 63.66 A on it (issue 45). Less than the overdraw tolerance
 * (`control.overdrawToleranceA`), so no overdraw is seen; the allocation keeps it inside the
 * breakers instead (allocation/from-update.ts `keptForOvershoot`, the one place it is counted).
 *
 * Learned from the car's own per-phase readings taken while its set-point was steady (no change it
 * may still be following, evidence/overdraw.ts `allowedAt`): the most it drew above the set-point,
 * as a fraction of it, bounded (MAX_OVERSHOOT: more is within the overdraw tolerance, or an overdraw).
 * A draw derived from the energy register teaches nothing (its phases are not known: a car on one
 * phase shows a third of its current spread over three, and the least of a delta is a step below
 * what the car drew); such a car is taken at UNREAD_OVERSHOOT (`overshootOf`). Nothing is learned
 * while it overdraws; the session's end forgets it (a new car, a new session).
 */
import type { PerPhase } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import type { ConnectorRuntime } from '../parts';
import { type Triple, toGrid, wiredPhases } from '../phases';
import type { Connector, Site } from '../site/model';
import type { DrawSample } from './measurements';
import { FINEST_METER_STEP_A } from './meter-plausibility';
import { allowedAt } from './overdraw';

/**
 * The most of a set-point a car's overshoot is taken at: a few per cent. One car's factor holds every
 * charger below its circuits (keptForOvershoot), so a meter's offset at a low set-point (0.5 A at
 * 6 A: 8 %) must not become 8 % of a whole zone; what is left above it is within the overdraw
 * tolerance, as before.
 */
export const MAX_OVERSHOOT = 0.05;

/**
 * The overshoot of a car none of whose readings could be used this session (every one refused as
 * impossible, evidence/meter-plausibility.ts), or read by its charger's energy register only, until
 * a reading of its currents teaches it: the most the fleet as found draws (an independent
 * simulator's cars up to 3 %, issue 45). Taken at none, such a car drew 3 % above its 10.7 A
 * set-point beside others that filled the breaker (0.12 A over it: POPULATION=…,overshoot
 * FAULTS_SEED=20261125 FAULTS_PATH=1664); read by a register and learned at its least, 0.46-0.63 A
 * over (POPULATION=…,overshoot,energyOnly PROPERTY_SEED=4712 PROPERTY_PATH=574, 609). A car not read
 * yet is not taken at it: its first reading teaches its own (a blanket 3 % would hold back 3 % of
 * every full circuit).
 */
export const UNREAD_OVERSHOOT = 0.03;

/** The overshoot a car is counted at: the learned one, else UNREAD_OVERSHOOT where its readings were refused or come from its register, else none. */
export function overshootOf(runtime: ConnectorRuntime): number {
  const session = runtime.session;
  const unread = (session.refusedReadings ?? 0) > 0 || runtime.draw?.energy !== undefined;
  return learnedOvershoot(session) ?? (unread ? UNREAD_OVERSHOOT : 0);
}

/** Notes what a fresh reading shows of the car's overshoot (evidence/observer.ts, per new sample). */
export function noteOvershoot(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample | undefined,
): void {
  const session = runtime.session;
  const sent = runtime.sent;
  if (!sample || sample.energy || session.overdrawing || !sent || sent.limitA <= 0) return;
  if (runtime.state?.status !== 'Charging' || runtime.state.online !== true || runtime.pendingDecrease)
    return;
  const values = sample.chargerA;
  let excessA: number | undefined;
  for (const i of wiredPhases(connector)) {
    const value = values[i];
    if (value === null || value === undefined || value <= ACTIVE_PHASE_A) continue;
    // Taken while the set-point may still be changing, a reading shows the change, not the car.
    const steady = allowedAt(site, connector, runtime, i, sample.atMs, false);
    if (allowedAt(site, connector, runtime, i, sample.atMs, true) !== steady) return;
    excessA = Math.max(excessA ?? Number.NEGATIVE_INFINITY, value - steady);
  }
  if (excessA === undefined) return;
  const ratio = Math.min(MAX_OVERSHOOT, Math.max(0, excessA / sent.limitA));
  session.overshoot = Math.max(session.overshoot ?? 0, ratio);
  // A reading above its set-point is rounded (to FINEST_METER_STEP_A at the finest): the car may
  // draw up to half a step more, which a ratio carries to every later set-point. Learned at 6.02 A
  // under 6 A (0.33 %), a car drawing 6.024 A (0.40 %) was raised to 26.9 A and drew 0.02 A more
  // than counted on a breaker filled to its limit (seed 27182818 path 581). The half step as a
  // ratio of the highest set-point a reading showed it above: the narrowest a reading allows.
  if (excessA > 0)
    session.overshootRounding = Math.min(
      session.overshootRounding ?? Number.POSITIVE_INFINITY,
      FINEST_METER_STEP_A / 2 / sent.limitA,
    );
}

/** The overshoot its readings taught, with the rounding they may hide; undefined: none taught yet. */
export function learnedOvershoot(session: {
  overshoot?: number;
  overshootRounding?: number;
}): number | undefined {
  const { overshoot } = session;
  return overshoot === undefined
    ? undefined
    : Math.min(MAX_OVERSHOOT, overshoot + (session.overshootRounding ?? 0));
}

/**
 * Per grid phase, what a reading taken at a steady set-point (no change it may still be following)
 * shows above what the car's overshoot allows at that set-point (`1 + overshootOf`), where it shows
 * more anywhere; undefined otherwise. What the overshoot's bound (MAX_OVERSHOOT) leaves out and the
 * overdraw tolerance does not catch: the observer counts it at what it draws (PV seed 9701 path
 * 1781: a charger offering 3 A more than told, its car taking at most 7 A, read 7 A under 6 A, 1 A
 * above, the overdraw tolerance's edge; its overshoot learned at 5 %, it was counted at 6.3 A, and a
 * car beside it raised into the rest: 0.3 A over a breaker for 434 s). A current without a phase
 * (draws.ts unphasedOn) and a register's delta (evidence/overdraw.ts registerBeyond) have rules of their own.
 */
export function drawnBeyondOvershoot(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample,
): Triple | undefined {
  const sent = runtime.sent;
  if (sample.energy || sample.unphased || !sent || sent.limitA <= 0) return undefined;
  const factor = 1 + overshootOf(runtime);
  let beyond: PerPhase | undefined;
  for (const i of wiredPhases(connector)) {
    const value = sample.chargerA[i];
    if (value === null || value === undefined || value <= ACTIVE_PHASE_A) continue;
    const steady = allowedAt(site, connector, runtime, i, sample.atMs, false);
    if (allowedAt(site, connector, runtime, i, sample.atMs, true) !== steady) return undefined;
    if (value > steady * factor + BEYOND_OVERSHOOT_EPS_A) {
      beyond ??= [0, 0, 0];
      beyond[i] = value;
    }
  }
  return beyond ? toGrid(connector, beyond) : undefined;
}

/** Above the overshoot by less than this, A (a reading's rounding), a reading is not counted. */
const BEYOND_OVERSHOOT_EPS_A = 0.01;

/**
 * What a car at `limitA` may draw with its learned overshoot: what a meter that counts the chargers
 * takes for the charger's own draw (evidence/charger-draw.ts), so that the overshoot is not counted
 * again in the other loads (keptForOvershoot keeps it, on every circuit above the car). Taken as
 * other loads, it was kept only for the set-points of the sample before: a raise's overshoot was in
 * neither (0.58 A over a breaker for 2 s behind a meter that counts the chargers,
 * POPULATION=overshoot PROPERTY_SEED=4501 PROPERTY_PATH=120, before 1acc89c).
 */
export function withOvershoot(runtime: ConnectorRuntime, limitA: number): number {
  return limitA * (1 + overshootOf(runtime));
}

/**
 * What a circuit keeps back of its capacity on a phase for the overshoot of the cars below it:
 * the chargers it controls share what is left after the floors (`floorA`: what uncontrolled ones
 * draw) and, drawing `1 + overshoot` times their set-points, must fit it, so they are given
 * `(capacity − floors) / (1 + overshoot)` in all, with the most any charging car below it that may
 * be given more than its own draw was learned at (one factor for all: the allocation's shares are
 * not known before it runs); a car held at its own draw adds `cappedOvershootA`.
 */
export function keptForOvershoot(capacityA: number, floorsA: number, overshoot: number): number {
  if (!(overshoot > 0)) return 0;
  const shared = capacityA - floorsA;
  return shared > 0 ? (shared * overshoot) / (1 + overshoot) : 0;
}

/**
 * What a car held at its own draw (the under-draw cap, evidence/observer.ts: it charges below its
 * set-point, its car takes no more, and is given at most `cappedA`) adds to keptForOvershoot:
 * only what its own overshoot puts above the circuit's factor on that cap. It does not raise the
 * factor: it is given no more than the cap, so its overshoot is bounded by its cap, not by a share
 * of the circuit. Shares sum to at most what the factor leaves; each car draws at most its share
 * times 1 + its own overshoot, the factor covers every share at the factor, and a capped car's
 * share is at most its cap, so this covers the rest. As one factor, a car under-drawing at 8 A
 * whose register gave it 3 % (UNREAD_OVERSHOOT) left 1.75 A of a 63 A home unallocated beside a car
 * at 1.3 %, all evening (issue 45's home layout, fleet mixed, seed 500983).
 */
export function cappedOvershootA(overshoot: number, factor: number, cappedA: number): number {
  return overshoot > factor ? (overshoot - factor) * cappedA : 0;
}
