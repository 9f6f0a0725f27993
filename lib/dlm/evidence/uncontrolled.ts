/** The rule for a charger the load manager does not control: what it is counted at (evidence/observer.ts's floor). */
import type { LimitFailure } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import { isoMs } from '../../time';
import type { ConnectorRuntime } from '../parts';
import { conductorsOf, type GridPhase, gridPhasesFor, maxKnown, THREE_PHASES } from '../phases';
import type { Connector, Site } from '../site/model';
import { given, type Reason, say } from '../words';
import { type EnergyCount, plausibleMostA } from './energy-draw';
import type { DrawSample } from './measurements';
import { followMsOf } from './overdraw';
import { learnedOvershoot, UNREAD_OVERSHOOT } from './overshoot';

/**
 * What a charger not under control (offline, or not reported yet) is counted at, and why: its
 * offline current (`offlineA`, its own fallback), or, where the charging-profile manager confirmed
 * the fallback profile it installed (`offlineFallback`), that fallback (bounded by `offlineA`);
 * more while it is offline with a transaction open and the limit it was given may still hold: a
 * charger that loses its connection keeps the TxProfile of its running transaction (OCPP 1.6
 * §3.13.6), the limit it was given last, or the one before when the change may not have reached it
 * (it was not heard from for its follow time after the change). The profiles that carry set-points
 * end `afterS` after they were sent (re-sent while connected), so once the charger has not been
 * heard from for that long, its confirmed fallback holds for the running session too. A charger
 * that keeps its last limit (`keepsLimitOffline`: no fallback) holds it also without a transaction.
 * Never above the connector's maxA.
 */
export function offlineReserve(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
  now: number,
): { amps: number; why: Reason } {
  const confirmed = runtime.state?.offlineFallback;
  const fallback = ownFallback(connector, runtime);
  const state = runtime.state;
  if (!state || state.online || !runtime.sent) return fallback;
  // One that keeps its last limit (it took no fallback: control/offline-fit.ts) keeps it with or
  // without a transaction (a car charging freely, with no transaction, included).
  if (!state.transaction && !state.keepsLimitOffline) return fallback;
  const changedAt = runtime.lastChangeAtMs;
  const heardAt = state.lastSeen === undefined ? Number.NaN : isoMs(state.lastSeen);
  if (confirmed && Number.isFinite(heardAt) && now >= heardAt + confirmed.afterS * 1000) return fallback;
  const reached =
    changedAt === undefined || (Number.isFinite(heardAt) && heardAt >= changedAt + followMsOf(site, runtime));
  const heldA = Math.min(
    connector.maxA,
    Math.max(runtime.sent.limitA, reached ? 0 : (runtime.previousSent?.limitA ?? 0)),
  );
  const why = [state.transaction ? say('keepsForSession') : say('keepsLast')];
  return heldA > fallback.amps ? { amps: heldA, why } : fallback;
}

/**
 * `amps` at most the connector's maxA, but never below what a reading showed (`measuredA`): a car
 * draws a little above what it is offered (IEC 61851-1 lets it; issue 45's population up to 3 %),
 * so a charger that takes no limits, offering its car its 16 A maxA, drew 16.48 A by its register;
 * counted at 16 A, it put 0.48 A over a breaker for 135 s (POPULATION=…,overshoot,energyOnly
 * PROPERTY_SEED=4611 PROPERTY_PATH=47).
 */
function withinRating(connector: Connector, amps: number, measuredA: number): number {
  return Math.max(Math.min(connector.maxA, amps), measuredA);
}

/** What a charger draws on its own: its confirmed fallback profile (bounded by `offlineA`), else `offlineA`. */
function ownFallback(connector: Connector, runtime: ConnectorRuntime): { amps: number; why: Reason } {
  const confirmed = runtime.state?.offlineFallback;
  return confirmed && confirmed.limitA < connector.offlineA
    ? { amps: Math.min(connector.maxA, confirmed.limitA), why: [say('fallbackProfile')] }
    : { amps: connector.offlineA, why: [say('ownFallback')] };
}

/**
 * A car at a charger whose limit failed takes what it takes on its own, its onboard charger's
 * current: a car does not draw more than that later in the session (it draws less as its battery
 * fills, or nothing while it rests). Counted at the most a reading showed this session plus this
 * margin (of that current, and at least `UNCONTROLLED_MARGIN_MIN_A`), once two readings showed
 * current: the first may be a ramp's start or an energy register's delta that began before the car
 * did (an average below what it draws).
 */
export const UNCONTROLLED_MARGIN = 0.1;
export const UNCONTROLLED_MARGIN_MIN_A = 1;
const UNCONTROLLED_READINGS = 2;

/** How far above its own fallback a car may draw (IEC 61851-1 lets it exceed what it is offered a little; meters round). */
const OWN_FALLBACK_TOLERANCE = 0.05;
const OWN_FALLBACK_TOLERANCE_A = 1;

/**
 * What a charger whose limit failed draws by one sample, on its fullest phase. An energy register
 * does not tell the phases (evidence/energy-draw.ts): its `mostA` puts the whole power on one, the
 * most a car on one phase could draw. A charger that takes no limits offers its car its own fallback
 * (`offlineA`, what the load manager counts it at while a car may start there); where the register's
 * least (its power spread over every wired phase) is within that, the charger offering it explains
 * the delta, and it is counted at that fallback (or the spread, if more), not at the one-phase
 * reading: a car drawing 6.2 A on three phases of a charger whose own fallback is 6 A was counted at
 * 26-28 A on every phase of its zone for the whole session (issue 45, the car park on the mixed
 * fleet). A delta its own fallback does not explain counts at its most, as any other reading.
 */
function drawnOnItsOwnA(connector: Connector, runtime: ConnectorRuntime, sample: DrawSample): number {
  const mostA = maxKnown(sample.chargerA, THREE_PHASES) ?? 0;
  const energy = sample.energy;
  if (!energy) return mostA;
  const leastA = maxKnown(energy.leastA, THREE_PHASES) ?? 0;
  const own = ownOffer(connector, runtime);
  if (!own.explains(leastA)) return mostA;
  // The spread with the register's step added: the least (the step taken away) is below what the
  // car may draw (16.36 A counted for 16.48 A drawn, 0.08 A over a breaker: POPULATION overshoot
  // FAULTS_SEED=20261125 FAULTS_PATH=8049).
  const widest = energy.counts.reduce<EnergyCount | undefined>(
    (best, count) => (best && best.phases >= count.phases ? best : count),
    undefined,
  );
  return Math.min(mostA, Math.max(own.drawsA, leastA, widest?.mostA ?? mostA));
}

/**
 * What a charger that takes no limits offers its car on its own (its fallback, `ownFallback`) and
 * what a car may draw under that offer (`drawsA`: a little above it, which no register shows:
 * its learned overshoot, else UNREAD_OVERSHOOT; a one-phase car at 16.48 A under a 16 A fallback,
 * counted at 16 A, put 0.48 A over a breaker for 646 s, POPULATION=all PROPERTY_SEED=20261123
 * PROPERTY_PATH=5006), and whether that offer explains a current (`explains`: within the overshoot
 * a car is allowed and a meter's rounding, OWN_FALLBACK_TOLERANCE).
 */
function ownOffer(
  connector: Connector,
  runtime: ConnectorRuntime,
): { drawsA: number; explains: (amps: number) => boolean } {
  const ownA = ownFallback(connector, runtime).amps;
  return {
    drawsA: ownA * (1 + (learnedOvershoot(runtime.session) ?? UNREAD_OVERSHOOT)),
    explains: (amps) => amps <= ownA * (1 + OWN_FALLBACK_TOLERANCE) + OWN_FALLBACK_TOLERANCE_A,
  };
}

/**
 * The margin above the most a car at a charger that takes no limits drew, where what it drew is
 * what its charger offers on its own (`ownOffer`): a car does not draw more than its charger offers
 * (IEC 61851-1: the offer is the car's limit), so the margin for a car that may draw more later
 * in its session stops there. A car at a charger without SmartCharging offering its own 6 A drew
 * 6.2 A and was counted at 7.4 A on each of three phases all morning (issue 45's car park, seed
 * 760867, CP-07: 1.2 A of every phase of a full zone given to nobody). A car that drew more than
 * the offer explains keeps the margin (its charger offers more than it says).
 */
function offerCapsMargin(
  connector: Connector,
  runtime: ConnectorRuntime,
  mostA: number,
  withMarginA: number,
): number {
  const own = ownOffer(connector, runtime);
  return own.explains(mostA) ? Math.min(withMarginA, Math.max(mostA, own.drawsA)) : withMarginA;
}

/**
 * Records the most a charger whose limit failed was seen to draw this session (the observer calls
 * it with each new sample; the session record starts over with the next car).
 */
export function noteUncontrolledDraw(
  connector: Connector,
  runtime: ConnectorRuntime,
  sample: DrawSample | undefined,
): void {
  if (!sample || !runtime.state?.limitFailed) return;
  const drawing = drawnOnItsOwnA(connector, runtime, sample);
  if (!(drawing > ACTIVE_PHASE_A)) return;
  const session = runtime.session;
  session.uncontrolledReadings = (session.uncontrolledReadings ?? 0) + 1;
  session.uncontrolledMostA = Math.max(session.uncontrolledMostA ?? 0, drawing);
  // Read by its register: what its car on each count of phases would have drawn on each of them
  // (at most what the rating lets a car draw), for a meter that rules the fewer out.
  const counts = sample.energy?.counts ?? [];
  if (counts.length === 0) return;
  const byCount = session.uncontrolledByCountA ?? [0, 0, 0];
  session.uncontrolledByCountA = byCount;
  for (const count of counts) {
    const n = Math.min(3, Math.max(1, count.phases)) - 1;
    byCount[n] = Math.max(byCount[n] ?? 0, Math.min(count.mostA, plausibleMostA(connector)));
  }
}

/**
 * The most a charger whose limit failed, read by its energy register, drew on a phase this session
 * were its car on `fewest` phases or more (Infinity: every wired one): what `uncontrolledMostA`
 * becomes once a meter that counts it rules the fewer out (evidence/meter-phases.ts); undefined where
 * no reading counted that many.
 */
export function uncontrolledMostOf(
  session: { uncontrolledByCountA?: number[] },
  fewest: number,
): number | undefined {
  const byCount = session.uncontrolledByCountA;
  if (!byCount) return undefined;
  let most: number | undefined;
  for (let n = Math.min(fewest, byCount.length); n <= byCount.length; n++)
    if ((byCount[n - 1] ?? 0) > 0) most = Math.max(most ?? 0, byCount[n - 1] ?? 0);
  return most;
}

/**
 * Why a charger's limit failed, in the catalogue's words: from its cause as lib/profiles gives it
 * (limit-failures.ts: the actions refused and their ways, or the one not answered in time); a
 * failure without one (`no way to set a limit …`, an error of its own) shown as it came.
 */
export function failureWords(failed: LimitFailure | undefined): Reason[number] {
  const cause = failed?.cause;
  if (cause && 'refused' in cause) {
    const actions = cause.refused.map(({ action, ways }) =>
      ways.length === 0
        ? say('ocppName', { name: action })
        : say('actionWays', {
            name: action,
            waysList: ways.map((way) =>
              way === 'ConfigurationKey' ? say('configurationKey') : say('ocppName', { name: way }),
            ),
          }),
    );
    const joined = actions.reduceRight((other, action) =>
      say('actionAnd', { action: [action], other: [other] }),
    );
    return say('refusedAction', { action: [joined] });
  }
  if (cause && 'noWay' in cause)
    return say(cause.noWay.noSmartCharging ? 'noWayNoSmartCharging' : 'noWayRefusedBefore', {
      name: cause.noWay.strategy,
    });
  if (cause && 'unanswered' in cause)
    return say('unansweredWithin', { name: cause.unanswered.action, within: cause.unanswered.within });
  return failed?.why === undefined || failed.why === 'refused' ? say('refused') : given(failed.why);
}

/**
 * A connected charger whose limit could not be set (`limitFailed`: refused every way, or no answer
 * in time) draws what it does on its own. Once its car's current is measured (two readings this
 * session showed it), the most it drew this session plus a margin, or what it draws now if more;
 * before that, its fallback, the last limit it did confirm (still in force at the charger), or what
 * its car draws now (or drew at its one reading), whichever is the most (a car at a 32 A charger that takes 19 A was counted at
 * 32 A its whole session: issue 45's home layout). Never above maxA but by what a reading showed
 * (`withinRating`: a car 3 % above the 32 A it is offered; counted at it as an overdraw before a
 * charger whose limit failed was no longer judged as one: POPULATION overshoot PROPERTY_SEED=4601
 * PROPERTY_PATH=375).
 */
export function failedLimitReserve(
  connector: Connector,
  runtime: ConnectorRuntime,
  draw: DrawSample | undefined,
): { amps: number; why: Reason } {
  const refused = [say('limitFailed', { why: [failureWords(runtime.state?.limitFailed)] })];
  if (outOfService(runtime)) return { amps: 0, why: [say('outOfService', { why: refused })] };
  const drawing = draw ? drawnOnItsOwnA(connector, runtime, draw) : 0;
  const session = runtime.session;
  const mostA = session.uncontrolledMostA;
  if (mostA !== undefined && (session.uncontrolledReadings ?? 0) >= UNCONTROLLED_READINGS) {
    const withMarginA = offerCapsMargin(
      connector,
      runtime,
      mostA,
      mostA + Math.max(UNCONTROLLED_MARGIN_MIN_A, mostA * UNCONTROLLED_MARGIN),
    );
    // What a reading showed is not capped at maxA (a car may draw a little above what it is
    // offered: 32.96 A at a 32 A charger); only the margin is.
    const amps = withinRating(connector, Math.max(withMarginA, drawing), Math.max(mostA, drawing));
    return {
      amps,
      why: [
        say('notUnderControl', {
          why: refused,
          what: [say('mostItsCarDrew', { amps: mostA.toFixed(1) })],
        }),
      ],
    };
  }
  const own = ownFallback(connector, runtime);
  const inForce = runtime.state?.limitInForce?.limitA ?? 0;
  // Its one reading so far, once it is no longer fresh, still counts (it is not judged as an
  // overdraw, evidence/overdraw.ts, whose count kept it before).
  const amps = withinRating(connector, Math.max(own.amps, inForce, drawing), Math.max(drawing, mostA ?? 0));
  const what =
    amps === own.amps
      ? own.why
      : amps === inForce
        ? [say('lastConfirmed')]
        : [draw?.energy ? say('whatRegisterShows') : say('whatItDraws')];
  return {
    amps,
    why: runtime.state?.transaction
      ? [say('notUnderControl', { why: refused, what })]
      : [say('notUnderControlIdle', { why: refused, what }), say('freeByUnavailable')],
  };
}

/**
 * Not under control, whatever it is told: its limit could not be set (`limitFailed`: refused every
 * way, or no answer), or it was caught drawing above it twice this session (`ignoresLimit`). One
 * rule for every stage that asks (evidence/observer.ts, evidence/phase-session.ts canSwitch).
 */
export function notUnderControl(runtime: ConnectorRuntime): boolean {
  return Boolean(runtime.state?.limitFailed) || runtime.session.ignoresLimit !== undefined;
}

/**
 * The conductors a connected charger not under control (its limit failed, or it was caught ignoring
 * it) is counted on: those its car was seen drawing on (`confirmedPhases`, confirmed by two
 * per-phase readings of this session), else every conductor. A car does not add phases within a
 * session (a phase seen carrying current later is added at once, the same evidence every controlled
 * car is counted by); a new car is a new session, counted on every conductor again. A single-phase
 * car taking 6 A on L2 of a charger without SmartCharging was counted at 7 A on L1 and L3 too, for
 * two hours, on the zone's full phase (issue 45's car park, `--fleet noSmartCharging`). The
 * readings only, never the phases the load manager chose for it: a switch to one phase is a
 * charging profile too, which such a charger does not take; counted on the one phase it was "switched"
 * to, its three-phase car put 1 A over a breaker for 211 s (base seed 20261123 path 7341). Not for a
 * current without a phase or an energy register's delta (`currentA` absent): their phases are a
 * count's guess; not offline (a car may come and go unseen).
 */
export function uncontrolledConductors(
  connector: Connector,
  runtime: ConnectorRuntime,
): readonly GridPhase[] {
  const state = runtime.state;
  const seen = runtime.session.confirmedPhases;
  const measured = state?.online === true && state.transaction !== undefined && state.currentA !== undefined;
  return measured && seen !== undefined ? gridPhasesFor(connector, seen) : conductorsOf(connector);
}

/**
 * What the load manager does with a charger it cannot limit while no car charges there (issue 39,
 * the choice made with figures in docs/load-manager.md): nothing sheds in the second between a
 * car's plug-in and its first amps (the others follow a decrease in 5-60 s), so as long as a car
 * can start there its own fallback is reserved. Only its own word that no charge can start, the
 * connector Unavailable (OCPP ChangeAvailability Inoperative, kept across reboots) without a
 * transaction, frees that current; the reason says how to get there.
 */
export function outOfService(runtime: ConnectorRuntime): boolean {
  const state = runtime.state;
  return state?.status === 'Unavailable' && !state.transaction;
}

/**
 * A connected charger caught drawing above its set-point twice in the session
 * (`session.ignoresLimit`, evidence/overdraw.ts): its limit does not hold it, so it draws what it does on its
 * own: its fallback, the most it was seen to draw this session, or what its car draws now, whichever
 * is the most. Never above maxA but by what a reading showed (`withinRating`).
 */
export function ignoredLimitReserve(
  connector: Connector,
  runtime: ConnectorRuntime,
  draw: DrawSample | undefined,
): { amps: number; why: Reason } {
  const session = runtime.session;
  const caught = session.ignoresLimit;
  if (outOfService(runtime)) return { amps: 0, why: [say('outOfService', { why: [say('caughtIgnoring')] })] };
  const own = ownFallback(connector, runtime);
  const drew = Math.max(caught?.drewA ?? 0, ...(session.overdrawFloorA ?? [0]));
  const drawing = maxKnown(draw?.chargerA, THREE_PHASES) ?? 0;
  const amps = withinRating(connector, Math.max(own.amps, drew, drawing), Math.max(drew, drawing));
  const what = amps === own.amps ? own.why : [draw?.energy ? say('whatRegisterShows') : say('whatItDraws')];
  const twice = say('caughtTwice', { drewA: (caught?.drewA ?? drew).toFixed(1), amps: caught?.limitA ?? 0 });
  return { amps, why: [say('notUnderControl', { why: [twice], what })] };
}
