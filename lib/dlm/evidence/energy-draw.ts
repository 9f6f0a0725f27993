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
 *   second reading at the same time, or within MIN_INTERVAL_MS, waits for a longer interval, and
 *   so does the same value at a later time (a connector state whose newest reading carried no
 *   register keeps its old value);
 * - a delta no count of phases makes plausible (more than the wiring carries on all of them) is
 *   refused, logged once per session, and the register starts anew: local bounds, the connector's
 *   own rating (no site-wide plausibility rule owns a charger's register).
 * The draw it gives is stamped at the newer reading and carries the older one's time (`fromMs`):
 * a judgement against a set-point takes the set-point in force from then on.
 */
import type { PerPhase } from '../../contracts';
import type { Logger } from '../../log';
import { wiredPhases } from '../phases';
import type { Connector, Site } from '../site/model';

/** A delta over a longer interval says little about what the car draws now: the register starts anew. */
export const MAX_INTERVAL_MS = 600_000;
/** A shorter interval waits for the next reading (a step of the register over it is a large current). */
export const MIN_INTERVAL_MS = 2_000;
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
  /** The draw the last two readings gave, while they are the newest. */
  derived?: EnergyDraw;
  /** The session whose refused delta was logged (once per session). */
  refusedKey?: string;
  /** The register rose this session: its step is known, and a still reading is one (registerDraw). */
  rose?: true;
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
export function registerDraw(
  site: Site,
  connector: Connector,
  record: { register?: RegisterRecord },
  point: RegisterPoint,
  onePhase: number | undefined,
  logger?: Logger,
  everyPhase = false,
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
  if (
    elapsedMs < MIN_INTERVAL_MS ||
    (still && elapsedMs <= MAX_INTERVAL_MS && !readStill) ||
    (readStill && held.derived !== undefined && point.atMs <= held.derived.atMs)
  )
    return held.derived;
  if (elapsedMs > MAX_INTERVAL_MS) {
    record.register = { point, stepWh: step };
    return undefined;
  }
  const stepWh = Math.min(held.stepWh, step);
  const deltaWh = point.wh - held.point.wh;
  const powerW = (wh: number) => (Math.max(0, wh) * 3_600_000) / elapsedMs;
  const most = powerW(deltaWh + stepWh);
  const least = powerW(deltaWh - stepWh);
  const switched = onePhase !== undefined && least / site.voltageV <= onePhase;
  const derived = phaseCurrents(site, connector, most, least, switched, everyPhase);
  if (!derived) {
    if (held.refusedKey !== point.key && logger) {
      const perPhaseA = least / (site.voltageV * (connector.network === 'IT' ? Math.sqrt(3) : 3));
      logger.warn(
        `charger ${connector.key}: its energy register rose by ${Math.round(deltaWh)} Wh in ${Math.round(elapsedMs / 1000)} s, ${perPhaseA.toFixed(1)} A on every phase, more than its ${connector.maxA} A wiring carries: not taken as its draw`,
      );
    }
    record.register = { point, stepWh, refusedKey: point.key };
    return undefined;
  }
  const draw: EnergyDraw = {
    ...derived,
    fromMs: held.point.atMs,
    atMs: point.atMs,
    wh: point.wh,
    fromWh: held.point.wh,
    stepWh,
  };
  // Read at a later time, a register that did not rise since its last rise is a reading: its car
  // drew at most a step over the interval. Skipped, a paused charger read every 41-60 s gave no
  // reading for minutes, and the decrease its pause was waited for held a car at its start for
  // 5 min (issue 45's car park, seed 760867: CP-12 at 10:00). The last rise stays the baseline: a
  // delta from a still reading to a rise a few seconds after it is a step or two over seconds
  // (two whole Wh over 3 s are 10 A on one phase).
  record.register = {
    point: readStill ? held.point : point,
    stepWh,
    derived: draw,
    ...(held.refusedKey ? { refusedKey: held.refusedKey } : {}),
    ...(held.rose || deltaWh > 0 ? { rose: true as const } : {}),
  };
  return draw;
}

/**
 * Per plausible count of phases, the current on each that `fromWh` to `wh` over `elapsedMs` gives,
 * the register's `stepWh` taken away and added (evidence/overdraw.ts judges a longer interval than
 * one delta with it); only every wired phase for a car the probe saw follow on all of them
 * (`everyPhase`, as registerDraw); undefined when no count is plausible.
 */
export function registerCounts(
  site: Site,
  connector: Connector,
  deltaWh: number,
  stepWh: number,
  elapsedMs: number,
  everyPhase = false,
): readonly EnergyCount[] | undefined {
  if (!(elapsedMs > 0)) return undefined;
  const powerW = (wh: number) => (Math.max(0, wh) * 3_600_000) / elapsedMs;
  return phaseCurrents(site, connector, powerW(deltaWh + stepWh), powerW(deltaWh - stepWh), false, everyPhase)
    ?.counts;
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
  everyPhase: boolean,
):
  | { mostA: PerPhase; leastA: PerPhase; surelyA: PerPhase; counts: EnergyCount[]; ambiguous?: true }
  | undefined {
  const it = connector.network === 'IT';
  const wired = wiredPhases(connector);
  const bound = plausibleMostA(connector);
  // Volts per ampere and phase for a car on `n` phases (on IT three phases carry √3·230·I).
  const volts = (n: number) => site.voltageV * (it && n === 3 ? Math.sqrt(3) : n);
  const wiring = onePhase || connector.phases === 1 ? [1] : it ? [1, 3] : [1, 2, 3];
  // A car its charger was seen to follow on every wired phase this session (evidence/observer.ts's
  // probe: its power fell to what its set-point gives on all of them) is on all of them: issue 45's
  // 10.6 kW under a 22.2 A set-point is three phases at 15.4 A, not two at 23.1 A.
  const counts = everyPhase ? wiring.slice(-1) : wiring;
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
    for (let i = 0; i < n && i < wired.length; i++) mostA[i] = Math.max(mostA[i] ?? 0, amps);
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
      const amps = i < n ? leastW / volts(n) : 0;
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
