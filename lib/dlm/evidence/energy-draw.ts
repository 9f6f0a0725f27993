/**
 * Measurements stage: a charger's draw from its energy register alone. OCPP 1.6's default measurand
 * is `Energy.Active.Import.Register`, and some stations keep reporting only that after accepting a
 * change of `MeterValuesSampledData` (issue 45: a station that took no limits was counted at its
 * fallback while its register's 5 s deltas showed 26 A per phase). The one owner of what a
 * register's delta says of the current:
 * - a delta between two readings is the average power over the interval; per phase it is
 *   P / (V × phases) on TN, P / (√3 V) for three phases and P / V for one on IT (3×230 V);
 * - the phases are not reported: every count a car's phases make plausible within the connector's
 *   wiring (its one-phase current at most `maxA` and the tolerances) is considered, so a phase is
 *   counted at the most any plausible count puts on it (`mostA`: 26 A on three phases, not 78 A on
 *   one of a 32 A connector), and judged (overdraw, a decrease followed) at the least (`leastA`:
 *   the power spread over every wired phase): surely above, or maybe within;
 * - the register counts in steps (whole Wh; 10 Wh for kWh with two decimals): the delta is one step
 *   more for the count and one step less for the judgement (the step is the finest the session's
 *   values show);
 * - a reading goes with its session (the transaction; a new one starts from its first reading), a
 *   register that went back (a reset, a wraparound, a replaced meter) starts anew, and so does one
 *   after more than MAX_INTERVAL_MS without a reading (such a delta says little about now); a
 *   second reading at the same time, or within MIN_INTERVAL_MS (STEADY_INTERVAL_MS after the
 *   session's first delta), waits for a longer interval, and so does the same value at a later
 *   time (a connector state whose newest reading carried no register keeps its old value);
 * - a delta no count of phases makes plausible (more than the wiring carries on all of them) is
 *   refused, logged once per session, and the register starts anew: local bounds, the connector's
 *   own rating (no site-wide plausibility rule owns a charger's register).
 * The draw it gives is stamped at the newer reading and carries the older one's time (`fromMs`):
 * a judgement against a set-point takes the set-point in force from then on.
 */
import type { PerPhase } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import type { Logger } from '../../log';
import { wiredPhases } from '../phases';
import type { Connector, Site } from '../site/model';

/** A delta over a longer interval says little about what the car draws now: the register starts anew. */
export const MAX_INTERVAL_MS = 600_000;
/** A shorter interval waits for the next reading (a step of the register over it is a large current). */
export const MIN_INTERVAL_MS = 2_000;
/**
 * Once the session's register gave a delta, the next spans at least this (from an earlier reading
 * where the last is younger: a charger read every 5 s still gives a delta every 5 s). Over 5 s
 * whole Wh put a car at 15.4 A on three phases anywhere between 14.6 and 16.2 A, and such deltas (a
 * state report a few seconds after a periodic reading) read a car that took its set-point 0.8 A
 * below it: the energy probe's verdict and the under-draw rule then capped it under what it drew,
 * again and again (issue 45's home day, fleet mixed, seed 500983). The session's first delta is
 * taken at MIN_INTERVAL_MS: a charger that draws 26 A unasked is counted so at its second reading.
 */
export const STEADY_INTERVAL_MS = 10_000;
/**
 * How far above its rating a car may draw on a phase before a count of phases is implausible:
 * IEC 61851-1 lets a car draw a little above what it is offered, and meters round.
 */
const RATING_TOLERANCE = 0.05;
const RATING_TOLERANCE_A = 1;
/** The most a car at `connector` may plausibly draw on a phase: its rating and RATING_TOLERANCE. */
export function plausibleMostA(connector: Connector): number {
  return connector.maxA * (1 + RATING_TOLERANCE) + RATING_TOLERANCE_A;
}
/** The coarsest step a register is taken to count in, Wh (a kWh register with one decimal). */
const COARSEST_STEP_WH = 100;

/** One reading of the register, with the session it belongs to. */
export interface RegisterPoint {
  wh: number;
  atMs: number;
  /** The session (`tx:<id>`, or `none` without a transaction): a new one starts the register anew. */
  key: string;
  /**
   * Timed by the register's own reading (`ConnectorState.energyAt`, set only by a reading that
   * carried it): the same value at a later time is a reading of a register that did not rise.
   */
  ownTime?: boolean;
}

/** A draw derived from two readings of the register. */
export interface EnergyDraw {
  /** Per charger phase, the most a plausible count of phases puts on it (what it is counted at). */
  mostA: PerPhase;
  /** Per charger phase, the least the register shows: its power spread over every wired phase. */
  leastA: PerPhase;
  /**
   * Per charger phase, what it surely drew there: the least any plausible count of phases puts on
   * it (L1 as `leastA`; a phase a car on fewer phases may leave alone, 0). What a meter that counts
   * the chargers must read at least (evidence/meter-plausibility.ts): a car on one phase of a
   * three-phase charger, taken at `leastA` (a third of its current on the two it leaves alone), made
   * a truthful meter that read less there implausible, and its other loads were ignored while a
   * charger that ignores its limits drew 16 A beside (5 A over a breaker for 50 s,
   * POPULATION=energyOnly PROPERTY_SEED=4601 PROPERTY_PATH=63).
   */
  surelyA: PerPhase;
  /**
   * Per plausible count of phases, the current on each of them, least and most (the register's
   * step taken away and added): what the car drew if it is on that many (evidence/overdraw.ts asks
   * whether one of them is its set-point).
   */
  counts: readonly EnergyCount[];
  /** The older reading's time: the draw is the average from then to `atMs`. */
  fromMs: number;
  atMs: number;
  /** The newer reading (identifies the derivation). */
  wh: number;
  /** The older reading, and the finest step the session's readings show, Wh. */
  fromWh: number;
  stepWh: number;
  /**
   * Its car may be on fewer phases than every wired one: the counts of phases are ambiguous
   * (evidence/observer.ts's probe asks).
   */
  ambiguous?: true;
}

/** A count of phases a register's delta is plausible on, and the current on each it gives. */
export interface EnergyCount {
  phases: number;
  leastA: number;
  mostA: number;
}

/** The register part of a connector's measurements (evidence/draws.ts DrawRecord). */
export interface RegisterRecord {
  point: RegisterPoint;
  /** The finest step the session's readings show, Wh. */
  stepWh: number;
  /**
   * Readings before `point` this session, oldest first: the base of a delta when `point` is less
   * than STEADY_INTERVAL_MS old (registerDraw).
   */
  earlier?: RegisterPoint[];
  /** The draw the last two readings gave, while they are the newest. */
  derived?: EnergyDraw;
  /** The session whose refused delta was logged (once per session). */
  refusedKey?: string;
  /** The register rose this session: its step is known, and a still reading is one (registerDraw). */
  rose?: true;
  /**
   * Before its first rise, the newest reading of the register's own that showed `point`'s value
   * again (registerDraw: the base of the first rise's delta).
   */
  stillAgain?: RegisterPoint;
}

/**
 * The draw the register's newest reading gives with the one before: a new derivation for a new
 * reading, the held one for a repeat of the same reading (a connector state sent again), undefined
 * when the readings give none (the session's first, after a reset or a long gap, a delta refused).
 * `onePhase`: the car was switched to one phase (control/phase-switching.ts), and may draw on it up to
 * that many amperes (its set-point and the overdraw tolerance): a delta that puts more on one phase
 * is taken over every count of phases the wiring allows, as for a car that was never switched. A car
 * that ignored the switch (three phases at a 6 A set-point is 18 A on one) was refused as more than
 * the wiring carries, or counted on L1 only: never seen on its other phases, it was counted at 0 A
 * there while it drew 6 A (1 A over a breaker while the loads alone put 7 A above it,
 * POPULATION=energyOnly PROPERTY_SEED=4601 PROPERTY_PATH=256). Over every count, the observer sees it
 * on its other phases and counts it there (evidence/observer.ts).
 */
/**
 * The fewest phases a session's car may be on, by what was shown of it: every wired one
 * (`Infinity`) once the probe or a meter showed it there (`energyProbed: 'widest'`), else the fewest
 * a meter that counts it left possible (evidence/meter-phases.ts), else one.
 */
export function fewestPhasesOf(session: {
  energyProbed?: 'widest' | 'ambiguous';
  energyFewestPhases?: number;
}): number {
  return session.energyProbed === 'widest' ? Number.POSITIVE_INFINITY : (session.energyFewestPhases ?? 1);
}

export function registerDraw(
  site: Site,
  connector: Connector,
  record: { register?: RegisterRecord },
  point: RegisterPoint,
  onePhase: number | undefined,
  logger?: Logger,
  fewestPhases = 1,
): EnergyDraw | undefined {
  const held = record.register;
  if (!Number.isFinite(point.wh) || !Number.isFinite(point.atMs)) return held?.derived;
  const step = stepOf(point.wh);
  if (!held || held.point.key !== point.key || point.wh < held.point.wh) {
    record.register = { point, stepWh: step };
    return undefined;
  }
  const elapsedMs = point.atMs - held.point.atMs;
  // The same reading again, an older one, or one too close to the last: nothing new. Nor is a
  // later time with the same value timed by anything but the register's own reading: a connector
  // state whose reading carried no register keeps the old value (a car that stopped drawing shows
  // in the next rise's average, or goes stale).
  // Read at a later time, a register that did not rise since it last rose this session is a
  // reading (see below); before its first rise its step is not known (0 Wh is a multiple of 100).
  const still = point.wh === held.point.wh;
  const readStill = still && point.ownTime === true && held.rose === true;
  // Once the session gave a delta, a reading within STEADY_INTERVAL_MS of the last is taken from an
  // earlier one at least that old, or waits for a later one. Before its first rise, a reading of its own that showed the same value again is the base of
  // the rise: the car drew nothing in between, and its first delta taken from the older one
  // averaged that in. A car that started after a reading of 0 Wh at 435 s and another at 528 s, read
  // at 135 Wh at 828 s, drew 7.0 A on one phase from 528 s; from 435 s it was 5.4 A, below its
  // 6 A set-point, and counted at that set-point while it drew 7.0 A (its charger offered 3 A more
  // than told) beside a car raised to fill the breaker (0.40 A over it for 50 s: seed 27182818
  // path 357). The rise tells the step (0 Wh is a multiple of every step), as it does for the older.
  const again = held.stillAgain;
  const base =
    held.derived && !still && elapsedMs < STEADY_INTERVAL_MS
      ? steadyBase(held, point.atMs)
      : !still && again && point.atMs - again.atMs >= STEADY_INTERVAL_MS
        ? again
        : held.point;
  const spanMs = point.atMs - (base?.atMs ?? point.atMs);
  if (still && !held.rose && point.ownTime === true && point.atMs > held.point.atMs)
    record.register = { ...held, stillAgain: point };
  if (
    !base ||
    spanMs < MIN_INTERVAL_MS ||
    (still && elapsedMs <= MAX_INTERVAL_MS && !readStill) ||
    (readStill && held.derived !== undefined && point.atMs <= held.derived.atMs)
  )
    return held.derived;
  if (elapsedMs > MAX_INTERVAL_MS) {
    record.register = { point, stepWh: step };
    return undefined;
  }
  const stepWh = Math.min(held.stepWh, step);
  const deltaWh = point.wh - base.wh;
  const powerW = (wh: number) => (Math.max(0, wh) * 3_600_000) / spanMs;
  const most = powerW(deltaWh + stepWh);
  const least = powerW(deltaWh - stepWh);
  const switched = onePhase !== undefined && least / wattsPerAmpere(site, connector, 1) <= onePhase;
  const derived = phaseCurrents(site, connector, most, least, switched, fewestPhases);
  if (!derived) {
    if (held.refusedKey !== point.key && logger) {
      const perPhaseA = least / wattsPerAmpere(site, connector, connector.phases === 1 ? 1 : 3);
      logger.warn(
        `charger ${connector.key}: its energy register rose by ${Math.round(deltaWh)} Wh in ${Math.round(spanMs / 1000)} s, ${perPhaseA.toFixed(1)} A on every phase, more than its ${connector.maxA} A wiring carries: not taken as its draw`,
      );
    }
    record.register = { point, stepWh, refusedKey: point.key };
    return undefined;
  }
  const draw: EnergyDraw = {
    ...derived,
    fromMs: base.atMs,
    atMs: point.atMs,
    wh: point.wh,
    fromWh: base.wh,
    stepWh,
  };
  // Read at a later time, a register that did not rise since its last rise is a reading: its car
  // drew at most a step over the interval. Skipped, a paused charger read every 41-60 s gave no
  // reading for minutes, and the decrease its pause was waited for held a car at its start for
  // 5 min (issue 45's car park, seed 760867: CP-12 at 10:00). The last rise stays the baseline: a
  // delta from a still reading to a rise a few seconds after it is a step or two over seconds
  // (two whole Wh over 3 s are 10 A on one phase).
  const earlier = readStill ? held.earlier : keptEarlier(held, point.atMs);
  record.register = {
    point: readStill ? held.point : point,
    ...(earlier ? { earlier } : {}),
    stepWh,
    derived: draw,
    ...(held.refusedKey ? { refusedKey: held.refusedKey } : {}),
    ...(held.rose || deltaWh > 0 ? { rose: true as const } : {}),
  };
  return draw;
}

/** The most earlier readings a register keeps (RegisterRecord.earlier): readings a second apart fill 10. */
const EARLIER_KEPT = 16;

/** The newest earlier reading at least STEADY_INTERVAL_MS before `atMs` and within MAX_INTERVAL_MS. */
function steadyBase(held: RegisterRecord, atMs: number): RegisterPoint | undefined {
  const base = held.earlier?.findLast((p) => atMs - p.atMs >= STEADY_INTERVAL_MS);
  return base && atMs - base.atMs <= MAX_INTERVAL_MS ? base : undefined;
}

/**
 * The earlier readings a later one may be taken from, once `held.point` gave way to the reading at
 * `atMs`: the newest at least STEADY_INTERVAL_MS before it and every one after (a later reading
 * never needs an older one).
 */
function keptEarlier(held: RegisterRecord, atMs: number): RegisterPoint[] {
  const points = [...(held.earlier ?? []), held.point];
  let from = 0;
  while (from + 1 < points.length && atMs - (points[from + 1]?.atMs ?? atMs) >= STEADY_INTERVAL_MS) from++;
  return points.slice(Math.max(from, points.length - EARLIER_KEPT));
}

/**
 * What a register's delta under a steady set-point shows of its car's phases, where its charger
 * reports nothing else (issue 45's car park, seed 63: a one-phase car at CP-03 followed 14.6 A and
 * was counted at 14.6 A on each of three phases, the two it left alone kept from the others all
 * session: the others lost 8 kWh, and the car itself waited on a phase it did not use):
 * - `at`: the delta's whole range (the register's step either way) is its set-point on one phase
 *   (within the follow band: 5 % and 1 A). A car on k > 1 phases gives that only if it draws 1/k of
 *   its set-point, so a second set-point at least TRACKED_APART_A away that shows `at` as well
 *   tells one phase: a car below its set-point draws what it takes on its own, not a fraction of
 *   each of two set-points (evidence/observer.ts takes it as on L1 then, as it takes a charger
 *   that reports its current without a phase: unphasedShows);
 * - `more`: surely more than the set-point on one phase (no verdict of one phase this session);
 * - nothing: anything else (below the band: a car that takes less, or paused).
 * Only on TN (a car on one phase of an IT charger loads two of its conductors).
 */
export function registerPhasesShow(
  site: Site,
  connector: Connector,
  delta: { fromWh: number; wh: number; stepWh: number; fromMs: number; atMs: number },
  setPointA: number,
): { shows: 'at' | 'more' | undefined; leastA: number; mostA: number } | undefined {
  const elapsedMs = delta.atMs - delta.fromMs;
  if (connector.phases !== 3 || connector.network === 'IT' || !(setPointA > 0) || !(elapsedMs > 0))
    return undefined;
  // The least and the most current the delta puts on one phase (its step either way).
  const amps = (wh: number) => (Math.max(0, wh) * 3_600_000) / elapsedMs / wattsPerAmpere(site, connector, 1);
  const leastA = amps(delta.wh - delta.fromWh - delta.stepWh);
  const mostA = amps(delta.wh - delta.fromWh + delta.stepWh);
  const band = AT_SET_POINT * setPointA + AT_SET_POINT_A;
  const shows =
    leastA > setPointA + band
      ? 'more'
      : leastA >= setPointA - band && mostA <= setPointA + band
        ? 'at'
        : undefined;
  return { shows, leastA, mostA };
}

/**
 * What a car held at one set-point and raised by an ampere or two shows (a keeper of its last limit
 * held at 6-7 A all morning never gets a set-point TRACKED_APART_A away; issue 45's car park, seed
 * 63, CP-03: a one-phase car counted at 6 A on each of three phases for three hours): a car `at` its
 * set-point on one phase at both follows the raise, its register's current rising with it; a car on
 * k > 1 phases `at` a set-point draws 1/k of it, below what it is offered on each of its phases: its
 * own maximum, which a raise does not change. So a raise of at least RAISE_SHOWN_A whose current
 * rose by at least RAISE_FOLLOWED of it, the two `at` readings no more than RAISE_WITHIN_MS apart
 * (a car's own drift is slow, and only ever down as its battery fills), shows one phase. Only a
 * raise: a decrease is what a filling battery's taper looks like too.
 */
const RAISE_SHOWN_A = 1;
const RAISE_FOLLOWED = 0.5;
const RAISE_WITHIN_MS = 5 * 60_000;
/** Set-points a session keeps its newest `at` of (a hold that moves between 6 and 7 A needs two). */
const RAISE_KEPT = 3;

/**
 * Takes a register's reading (the newest delta, `wh` at `atMs`, the one before at `fromWh`/`fromMs`)
 * under a steady `setPointA` into the session's record of what its deltas show of its car's phases
 * (registerPhasesShow): judged from the first reading since the set-point settled (`settledAtMs`:
 * its follow time after its last change), the interval growing with each reading (over one 10 s
 * interval whole Wh put a car at 6 A on one phase anywhere between 4.7 and 7.8 A). `one` once two
 * set-points TRACKED_APART_A apart showed `at`, or a raise whose current rose with it (RAISE_SHOWN_A),
 * `more` once one showed more; each holds for the session.
 */
export function notePhasesShow(
  site: Site,
  connector: Connector,
  record: {
    energyPhasesFrom?: { wh: number; atMs: number; setPointA: number };
    energyAtSetPointA?: number;
    energyAtLast?: { setPointA: number; mostA: number; atMs: number }[];
    energyPhases?: 'one' | 'more';
  },
  delta: { fromWh: number; wh: number; stepWh: number; fromMs: number; atMs: number },
  setPointA: number,
  settledAtMs: number,
): void {
  if (record.energyPhases !== undefined) return;
  let from = record.energyPhasesFrom;
  if (
    !from ||
    from.setPointA !== setPointA ||
    from.atMs < settledAtMs ||
    from.wh > delta.fromWh ||
    from.atMs > delta.fromMs
  )
    from = delta.fromMs >= settledAtMs ? { wh: delta.fromWh, atMs: delta.fromMs, setPointA } : undefined;
  record.energyPhasesFrom = from;
  if (!from) return;
  const judged = registerPhasesShow(
    site,
    connector,
    { fromWh: from.wh, wh: delta.wh, stepWh: delta.stepWh, fromMs: from.atMs, atMs: delta.atMs },
    setPointA,
  );
  if (judged?.shows === 'more') record.energyPhases = 'more';
  if (judged?.shows !== 'at') return;
  const { leastA, mostA } = judged;
  const earlier = record.energyAtLast ?? [];
  const followed = earlier.some((at) => {
    const raisedA = setPointA - at.setPointA;
    return (
      raisedA >= RAISE_SHOWN_A &&
      from.atMs - at.atMs <= RAISE_WITHIN_MS &&
      leastA - at.mostA >= RAISE_FOLLOWED * raisedA
    );
  });
  if (followed) {
    record.energyPhases = 'one';
    return;
  }
  // The newest `at` per set-point (its interval the longest yet: the narrowest range), the
  // newest RAISE_KEPT set-points.
  record.energyAtLast = [
    ...earlier.filter((at) => at.setPointA !== setPointA).slice(1 - RAISE_KEPT),
    { setPointA, mostA, atMs: delta.atMs },
  ];
  if (record.energyAtSetPointA === undefined) record.energyAtSetPointA = setPointA;
  else if (Math.abs(record.energyAtSetPointA - setPointA) >= TRACKED_APART_A) record.energyPhases = 'one';
}

/**
 * How far apart the least and the most the register's step allows are on each phase a delta's
 * widest count of phases loads, A (the count `leastA` spreads it over): over 5 s, one whole Wh is
 * 3.1 A at 230 V. Two deltas of an unchanged draw may differ by that much (the frozen rule,
 * evidence/meter-plausibility.ts, allows for it).
 */
export function stepSpanA(energy: Pick<EnergyDraw, 'counts'>): number {
  const widest = energy.counts[energy.counts.length - 1];
  return widest ? Math.max(0, widest.mostA - widest.leastA) : 0;
}

/**
 * Per plausible count of phases, the current on each that `fromWh` to `wh` over `elapsedMs` gives,
 * the register's `stepWh` taken away and added (evidence/overdraw.ts judges a longer interval than
 * one delta with it); only the counts of `fewestPhases` or more (fewestPhasesOf, as registerDraw);
 * undefined when no count is plausible.
 */
export function registerCounts(
  site: Site,
  connector: Connector,
  deltaWh: number,
  stepWh: number,
  elapsedMs: number,
  fewestPhases = 1,
): readonly EnergyCount[] | undefined {
  if (!(elapsedMs > 0)) return undefined;
  const powerW = (wh: number) => (Math.max(0, wh) * 3_600_000) / elapsedMs;
  return phaseCurrents(
    site,
    connector,
    powerW(deltaWh + stepWh),
    powerW(deltaWh - stepWh),
    false,
    fewestPhases,
  )?.counts;
}

/**
 * Watts per ampere of a car's current on `n` of its charger's phases: TN n × V; IT (site.voltageV
 * is the line-to-line voltage / √3 there, site/model.ts) one charger phase is one line-to-line
 * voltage (√3 × V), three are √3 × line-to-line (3 × V). Read with site.voltageV as if it were
 * 230 V, a one-phase car's 16 A on IT was taken for 27.7 A, above its wiring, and every delta
 * refused: the charger, offering 3 A more than told, was counted at its set-point (2 A over a
 * breaker for 335 s, POPULATION=all IT_PROPERTY_SEED=5420 IT_PROPERTY_PATH=366); a three-phase car
 * was counted at √3 times its current.
 */
export function wattsPerAmpere(site: Site, connector: Connector, n: number): number {
  if (connector.network === 'IT') return (n === 3 ? 3 : Math.sqrt(3)) * site.voltageV;
  return n * site.voltageV;
}

/**
 * Whether a car on `n` of its charger's phases carries current on the charger's conductor `i` (what
 * a count of phases puts on each: here and evidence/overdraw.ts's register judgement): its first
 * `n`; on IT a car on one phase is connected between its L1 and L2 and both carry its current
 * (phases.ts `Network`; a meter on the conductors reads it so). Counted on L1 alone, the most a
 * count put on L2 was the three-phase count's 8.7 A while a one-phase car's 15 A flowed there (5.1 A
 * over a conductor for 552 s: POPULATION=all IT_PROPERTY_SEED=20261126 IT_PROPERTY_PATH=73). (At a
 * one-phase connector phases.ts toGrid puts it on the closing conductor.)
 */
export function countCarries(connector: Connector, n: number, i: number): boolean {
  return i < n || (connector.network === 'IT' && n === 1 && i === 1 && connector.phases === 3);
}

/**
 * Per charger phase, the most and the least current the power gives over the counts of phases the
 * wiring makes plausible; undefined when none does. `mostW` and `leastW` are the power with the
 * register's step added and taken away.
 */
function phaseCurrents(
  site: Site,
  connector: Connector,
  mostW: number,
  leastW: number,
  onePhase: boolean,
  fewestPhases: number,
):
  | { mostA: PerPhase; leastA: PerPhase; surelyA: PerPhase; counts: EnergyCount[]; ambiguous?: true }
  | undefined {
  const it = connector.network === 'IT';
  const wired = wiredPhases(connector);
  const bound = plausibleMostA(connector);
  const volts = (n: number) => wattsPerAmpere(site, connector, n);
  const carries = (n: number, i: number) => countCarries(connector, n, i);
  const wiring = onePhase || connector.phases === 1 ? [1] : it ? [1, 3] : [1, 2, 3];
  // A car its charger was seen to follow on every wired phase this session (evidence/observer.ts's
  // probe: its power fell to what its set-point gives on all of them) is on all of them: issue 45's
  // 10.6 kW under a 22.2 A set-point is three phases at 15.4 A, not two at 23.1 A. Nor is a car
  // on fewer phases than a meter that counts it ruled out (evidence/meter-phases.ts).
  const kept = wiring.filter((n) => n >= fewestPhases);
  const counts = kept.length > 0 ? kept : wiring.slice(-1);
  const mostA: PerPhase = [0, 0, 0];
  const plausibleCounts: EnergyCount[] = [];
  let plausible = false;
  for (const n of counts) {
    if (leastW / volts(n) > bound) continue;
    plausible = true;
    plausibleCounts.push({ phases: n, leastA: leastW / volts(n), mostA: mostW / volts(n) });
    // At most what the rating and its tolerance let a car draw (the plausibility bound): capped at
    // maxA, a car's overshoot above a 16 A offer was never counted (16.48 A read as 16 A, issue 45).
    const amps = Math.min(mostW / volts(n), bound);
    for (let i = 0; i < wired.length; i++) if (carries(n, i)) mostA[i] = Math.max(mostA[i] ?? 0, amps);
  }
  if (!plausible) return undefined;
  const widest = wiring[wiring.length - 1] ?? 1;
  const spread = leastW / volts(widest);
  const leastA: PerPhase = [0, 0, 0];
  for (let i = 0; i < widest && i < wired.length; i++) leastA[i] = spread;
  // Per phase the least any plausible count puts on it: on a phase a car on fewer phases leaves
  // alone, nothing. By the wiring alone: what a meter must read is not taken on trust in a set-point.
  const surelyA: PerPhase = [0, 0, 0];
  let first = true;
  for (const n of wiring) {
    if (leastW / volts(n) > bound) continue;
    for (let i = 0; i < wired.length; i++) {
      const amps = carries(n, i) ? leastW / volts(n) : 0;
      surelyA[i] = first ? amps : Math.min(surelyA[i] ?? 0, amps);
    }
    first = false;
  }
  const fewer = counts.length > 1 ? counts[counts.length - 2] : undefined;
  return {
    mostA,
    leastA,
    surelyA,
    counts: plausibleCounts,
    ...(fewer !== undefined && leastW / volts(fewer) <= bound ? { ambiguous: true as const } : {}),
  };
}

/** The step a register value is a multiple of, Wh (1 for whole Wh; at most COARSEST_STEP_WH). */
function stepOf(wh: number): number {
  for (let step = COARSEST_STEP_WH; step >= 0.001; step /= 10) {
    const units = wh / step;
    if (Math.abs(units - Math.round(units)) < 1e-6 * Math.max(1, Math.abs(units))) return step;
  }
  return 0.001;
}

/**
 * What a charger that reports one current without a phase (Schneider EVlink's plain
 * `Current.Import`, evidence/draws.ts unphasedOn) shows of its car's phases by its energy register:
 * while the current stays steady, the register's delta is that current on one, two or three phases
 * (power / current / volts). A reading `shows`:
 * - `one`: a steady run of at least UNPHASED_RUN_READINGS readings (two intervals) whose average
 *   power is that of its current on one phase (within ONE_PHASE_BAND: the grid's voltage ±10 %,
 *   EN 50160, a power factor down to 0.85 at low currents, the meter's rounding) and surely not on
 *   two: counted as a reading on its L1 (the observer's phase detection confirms it as it confirms
 *   per-phase readings, two such samples phaseDetectionMs apart);
 * - `more`: a delta above what one phase at the highest current of its interval gives
 *   (MORE_THAN_ONE): counted on every wired phase, and a car taken for one phase is back on all of
 *   them at once;
 * - nothing: no verdict (too short, the register's step too coarse, the current or the set-point
 *   changed, the car paused, a new session, a gap): the phases counted stay as they are.
 * OCPP 1.6 §7.31 takes a value without a phase as an "overall value": a charger that sends the sum
 * of its phases (a three-phase car at 10 A read as 30 A) gives the power of one phase at that sum
 * for any car, and would have a three-phase car counted on L1 alone. Such a charger never shows
 * more than one phase; one that reports the current per phase (the most of its phases, or its L1)
 * does, with its first three-phase car; and one whose current sat at two set-points followed
 * (TRACKED_APART_A apart) reports per phase too: a sum reads three times what the car draws, so a
 * car under a limit would have to draw a third of each of two different limits. So `one` is said
 * only at a charger seen to report per phase (`unphasedPerPhase`, kept for the connector past its
 * sessions).
 * Steady: every reading of the run charging, its currents within UNPHASED_STEADY of each other, the
 * run started after the last set-point change was followed (`steadyFromMs`). A three-phase car
 * taken for one phase costs two phases its whole current: it would have to draw nothing for two
 * thirds of two runs while every reading in them showed it charging at the same current.
 * A single-phase car on a type-2 charger draws on the charger's L1 (IEC 62196-2; the rotation maps
 * it to the grid, phases.ts).
 */
export type UnphasedShows = 'one' | 'more';

/** A run of steady readings of a charger's unphased current and its register (DrawRecord.unphasedRun). */
export interface UnphasedRun {
  key: string;
  /** The run's first reading: register (Wh) and time. */
  fromWh: number;
  fromMs: number;
  /** The lowest and highest current of the run's readings. */
  lowA: number;
  highA: number;
  /** The newest reading. */
  wh: number;
  atMs: number;
  amps: number;
  readings: number;
  /** Whether every reading of the run was steady (charging, after the last set-point change). */
  steady: boolean;
  /** The finest step the session's register values show, Wh. */
  stepWh: number;
  /** What its newest reading showed (the same again for that reading published anew). */
  shows?: UnphasedShows;
}

/** How close to its set-point a current sits at it (a car's overshoot, whole amperes, rounding). */
const AT_SET_POINT = 0.05;
const AT_SET_POINT_A = 1;
/**
 * How far apart two set-points it sat at show a current per phase: a sum of three phases sits within
 * the tolerance of both only if they are at most twice it apart (2 × (5 % of 32 A + 1 A) = 5.2 A).
 */
const TRACKED_APART_A = 6;
/** Readings a run needs before it shows one phase (two intervals: a pause inside one does not do). */
const UNPHASED_RUN_READINGS = 3;
/** The coarsest register step that shows one phase, Wh (whole Wh: a 10 s interval's delta to 10 %). */
const UNPHASED_STEP_WH = 1;
/** How far apart a run's currents may be, relative and absolute (a car's own ripple, the meter's rounding). */
const UNPHASED_STEADY = 0.1;
const UNPHASED_STEADY_A = 0.5;
/** The band of power / (one phase's watts per ampere × current) a car on one phase shows. */
const ONE_PHASE_BAND = [0.7, 1.25] as const;
/** Above this much of one phase's power at the highest current of the interval, it is on more. */
const MORE_THAN_ONE = 1.45;

/**
 * Takes one reading of an unphased current with the register (`amps`, `wh` at `atMs`, the session
 * `key`) into the connector's run and says what it shows (see UnphasedShows). `charging`: its
 * status is Charging; `steadyFromMs`: when the last set-point change was followed (a run that
 * starts before it is not steady).
 */
export function unphasedShows(
  site: Site,
  connector: Connector,
  record: { unphasedRun?: UnphasedRun; unphasedPerPhase?: true; unphasedAtSetPointA?: number },
  reading: { amps: number; wh: number; atMs: number; key: string },
  charging: boolean,
  steadyFromMs: number,
  setPointA?: number,
): UnphasedShows | undefined {
  const { amps, wh, atMs, key } = reading;
  // At its set-point, followed: a second one well apart shows the current is per phase.
  if (
    charging &&
    setPointA !== undefined &&
    setPointA > 0 &&
    atMs >= steadyFromMs &&
    Math.abs(amps - setPointA) <= AT_SET_POINT * setPointA + AT_SET_POINT_A
  ) {
    const first = record.unphasedAtSetPointA;
    if (first === undefined) record.unphasedAtSetPointA = setPointA;
    else if (Math.abs(first - setPointA) >= TRACKED_APART_A) record.unphasedPerPhase = true;
  }
  const held = record.unphasedRun;
  if (connector.phases !== 3 || !Number.isFinite(wh) || !Number.isFinite(atMs) || !Number.isFinite(amps)) {
    record.unphasedRun = undefined;
    return undefined;
  }
  const steadyNow = charging && amps > ACTIVE_PHASE_A && atMs >= steadyFromMs;
  const start = (stepWh: number): undefined => {
    record.unphasedRun = {
      key,
      fromWh: wh,
      fromMs: atMs,
      lowA: amps,
      highA: amps,
      wh,
      atMs,
      amps,
      readings: 1,
      steady: steadyNow,
      stepWh,
    };
    return undefined;
  };
  const step = stepOf(wh);
  if (!held || held.key !== key || wh < held.wh || atMs - held.atMs > MAX_INTERVAL_MS) return start(step);
  // The same reading again (a state published anew: a status, a limit confirmed), or an older one:
  // what the reading showed (the same sample); a status other than Charging breaks the run (a pause
  // inside it would pass for fewer phases).
  if (atMs <= held.atMs) {
    if (steadyNow) return held.shows;
    record.unphasedRun = { ...held, steady: false, shows: undefined };
    return undefined;
  }
  const stepWh = Math.min(held.stepWh, step);
  const onePhaseW = wattsPerAmpere(site, connector, 1);
  const leastW = (deltaWh: number, ms: number) => (Math.max(0, deltaWh - stepWh) * 3_600_000) / ms;
  // More than one phase over the last interval: surely, whatever the run (a car that rose or fell
  // in it drew at most the higher of its two ends on one phase; one that rose above both and back
  // is taken for more, the safe side).
  const lastMs = atMs - held.atMs;
  const more =
    lastMs >= MIN_INTERVAL_MS &&
    leastW(wh - held.wh, lastMs) > MORE_THAN_ONE * onePhaseW * Math.max(amps, held.amps);
  const lowA = Math.min(held.lowA, amps);
  const highA = Math.max(held.highA, amps);
  const steady =
    held.steady &&
    steadyNow &&
    highA <= lowA * (1 + UNPHASED_STEADY) + UNPHASED_STEADY_A &&
    atMs - held.fromMs <= MAX_INTERVAL_MS;
  if (!steady) {
    start(stepWh);
    return remember(record, more ? 'more' : undefined);
  }
  const run: UnphasedRun = { ...held, lowA, highA, wh, atMs, amps, readings: held.readings + 1, stepWh };
  record.unphasedRun = run;
  const shows = runShows(site, connector, run, onePhaseW);
  // A steady run that shows more: its current is not a sum of its phases (see above).
  if (shows === 'more' && run.readings >= UNPHASED_RUN_READINGS) record.unphasedPerPhase = true;
  return remember(record, more ? 'more' : shows === 'one' && !record.unphasedPerPhase ? undefined : shows);
}

/** Keeps what the newest reading showed in its run (see UnphasedRun.shows), and returns it. */
function remember(record: { unphasedRun?: UnphasedRun }, shows: UnphasedShows | undefined) {
  if (record.unphasedRun) record.unphasedRun.shows = shows;
  return shows;
}

/** What a steady run shows (see unphasedShows). */
function runShows(
  site: Site,
  connector: Connector,
  run: UnphasedRun,
  onePhaseW: number,
): UnphasedShows | undefined {
  const { lowA, highA, stepWh } = run;
  const runMs = run.atMs - run.fromMs;
  const deltaWh = run.wh - run.fromWh;
  if (runMs < MIN_INTERVAL_MS) return undefined;
  const least = (Math.max(0, deltaWh - stepWh) * 3_600_000) / runMs;
  const most = ((deltaWh + stepWh) * 3_600_000) / runMs;
  if (least > MORE_THAN_ONE * onePhaseW * highA) return 'more';
  // A register coarser than whole Wh cannot show 'more' over a short interval (its step is much
  // of the delta): a car taken for one phase would not be seen on three at once.
  if (run.readings < UNPHASED_RUN_READINGS || stepWh > UNPHASED_STEP_WH) return undefined;
  // One phase: the delta's whole range (its step either way) within the band, and below what the
  // next count of phases (two on TN; three on IT) gives at the band's low end.
  const next = wattsPerAmpere(site, connector, connector.network === 'IT' ? 3 : 2);
  if (
    least >= ONE_PHASE_BAND[0] * onePhaseW * lowA &&
    most <= ONE_PHASE_BAND[1] * onePhaseW * highA &&
    most < ONE_PHASE_BAND[0] * next * lowA
  )
    return 'one';
  return undefined;
}
