/**
 * What the connector observer has seen of the car of the current session (a transaction, or a
 * plug-in without one): its phases, whether it under-draws, whether it overdraws. Declared here,
 * apart from the observer, so that the phase-switching stage can ask for a fresh look after a switch
 * without depending on the observer itself.
 */
import type { ConnectorState } from '../../contracts';
import type { Triple } from '../phases';
import type { AllFields } from '../site/all-fields';
import type { Reason } from '../words';
import type { MeterRoom } from './meter-phases';

/** The observer's part of a session record (written only by the observer stage). */
export interface ObservedSession {
  /** `tx:<id>`, `plug:<since>` or `none`: a new key is a new car. */
  key: string;
  /**
   * The connector state and wanting time the observer last found this key for (the key is made
   * from nothing else; NaN until it looked): while both are the same, so is the key.
   */
  keyState: ConnectorState | undefined;
  keyWantingSinceMs: number | undefined;
  /** The transaction's start (firstStarted shedding). */
  startedAtMs?: number;
  /** The last draw sample this session looked at. */
  lastSeq?: number;
  /** Charger phases (0..2) seen carrying current (or not measured), waiting for confirmation. */
  candidatePhases?: readonly number[];
  /** Measurement time of the first sample of the candidate run. */
  candidateFromMs?: number;
  /** Charger phases the car uses, once two samples at least phaseDetectionMs apart showed them. */
  confirmedPhases?: readonly number[];
  /**
   * When its car began to draw well below its set-point (evidence/observer.ts's under-draw rule),
   * the most it drew before its set-point changed since (`FromA`), and whether a reading showed it
   * below a set-point its charger had had its follow time for (`Shown`): a change starts the wait
   * anew unless it was shown and stays where it was.
   */
  underDrawSinceMs?: number;
  underDrawFromA?: number;
  underDrawShown?: true;
  underDrawCapA?: number;
  /**
   * Read by its energy register alone, its car maybe on fewer phases: when its set-point was
   * lowered to tell (evidence/observer.ts's probe) and what it drew over every phase before, and
   * what the reading under it told (once a
   * session): `widest`, it followed on every phase the charger has (counted so from then on),
   * `ambiguous`, it did not show that.
   */
  energyProbe?: { atMs: number; drewA: number };
  energyProbed?: 'widest' | 'ambiguous';
  /** Read by its energy register: the fewest phases a meter that counts it leaves its car (evidence/meter-phases.ts); undefined: one. */
  energyFewestPhases?: number;
  /**
   * Read by its energy register alone: the reading its deltas' phases are judged from (since its
   * set-point settled), the first set-point a settled delta showed its car at on one
   * phase, and what the deltas told this session (`one`: at two set-points apart, counted on L1;
   * `more`: not on one phase at its set-point): evidence/energy-draw.ts notePhasesShow.
   */
  energyPhasesFrom?: { wh: number; atMs: number; setPointA: number };
  energyAtSetPointA?: number;
  /** The newest set-points settled deltas showed its car at on one phase, the most each put there, and when (energy-draw.ts). */
  energyAtLast?: { setPointA: number; mostA: number; atMs: number }[];
  energyPhases?: 'one' | 'more';
  /** Measurement time of the first sample of the current run above the set-point. */
  overdrawSinceMs?: number;
  /** The newest sample above the set-point (per grid phase, and the highest charger phase). */
  lastOver?: { gridA: Triple; maxA: number; aboveA: number };
  /**
   * Its newest reading, when that showed more than its set-point within the time it was given to
   * follow a change (evidence/overdraw.ts): its measurement time, and its set-point is not raised
   * until a reading shows it within; where nothing but a change's follow time excused it,
   * `followingFromA`, the highest set-point that time left in force on a phase it showed above its
   * set-point: it may be raised back up to there at once (a decrease for a lift that has gone:
   * waiting a slow reporter's next reading kept its car at the lower set-point for up to a minute),
   * not above it.
   */
  aboveSetPoint?: { atMs: number; followingFromA: number | undefined };
  /**
   * Its newest reading was above its set-point, excused only as what it drew on its own before its
   * first set-point: believed from this time on (that set-point's follow time) unless a reading
   * shows it follows first.
   */
  guessEndsAtMs?: number;
  /** Counted at what it draws; its set-point is not raised. */
  overdrawing: boolean;
  /**
   * Readings of its charger refused this session as impossible (evidence/meter-plausibility.ts
   * chargerReadingRefusal), and the newest one's why: the summary names the charger.
   */
  refusedReadings?: number;
  refusedWhy?: Reason;
  /** What it is counted at while overdrawing (kept when its readings stop). */
  overdrawFloorA?: Triple;
  /** Its set-point may not rise above this while overdrawing. */
  overdrawCapA?: number;
  /**
   * The most it drew above what its set-point allowed when caught overdrawing this session, A (a
   * charger that offers more than told): while overdrawing, a set-point above 0 counts this much
   * more (evidence/observer.ts), so that one started again after its pause showed nothing is not
   * counted at its set-point alone.
   */
  overdrawAboveA?: number;
  /** Measurement time of the first sample of the current run within the set-point, while overdrawing. */
  compliantSinceMs?: number;
  /** Times it was found overdrawing this session (with a car that refused a phase switch). */
  overdrawEpisodes: number;
  /** Times it was caught drawing above its set-point this session (not a refused phase switch). */
  limitIgnored: number;
  /**
   * Caught ignoring its limit twice this session (what it drew, at what set-point, the second
   * time): not under control until the session ends (evidence/uncontrolled.ts).
   */
  ignoresLimit?: { drewA: number; limitA: number };
  /** How far its car draws above a steady set-point, a fraction of it (evidence/overshoot.ts); undefined: not seen. */
  overshoot?: number;
  /** Half a reading's step as a ratio of the highest set-point a reading showed its car above (evidence/overshoot.ts). */
  overshootRounding?: number;
  /**
   * Its energy register's newest delta, where no count of phases shows its car at its set-point
   * and one puts more on a phase than the set-point allows: per grid phase the most any count puts
   * there (evidence/overdraw.ts `registerBeyond`), what it is counted at until a delta shows it at
   * its set-point.
   */
  registerBeyondA?: Triple;
  /**
   * `registerBeyondA` came from a delta judged over its settled set-point (evidence/overdraw.ts
   * `registerBeyond`), not only from the count before its first settled delta, which the next
   * settled delta may clear: a car seen where no count shows it at its set-point.
   */
  registerBeyondJudged?: true;
  /**
   * Per grid phase, the most a register's delta that may mean more (`registerBeyondA`) put above the
   * highest set-point in force over its interval this session, until a delta under a set-point above
   * 0 shows nothing beyond or one shows its car at its set-point (evidence/overdraw.ts): a set-point
   * above 0 counts this much more, so that one paused and started again, whose delta at 0 A cleared
   * `registerBeyondA`, is not counted at its set-point alone (evidence/observer.ts), nor a start it
   * has not taken yet when paused again (control/pending-decreases.ts).
   */
  registerAboveA?: Triple;
  /** The register's reading a settled set-point is judged from (evidence/overdraw.ts `registerBeyond`). */
  registerAnchor?: { wh: number; atMs: number };
  /** A settled interval of its register showed its car at its set-point this session. */
  registerFollows?: true;
  /**
   * A charger whose limit failed (evidence/uncontrolled.ts `noteUncontrolledDraw`): the most its
   * readings showed on a phase this session, and how many readings showed current.
   */
  uncontrolledMostA?: number;
  uncontrolledReadings?: number;
  /**
   * A charger whose limit failed, read by its energy register: per count of phases (one, two,
   * three), the most a phase carried over its readings were its car on that many
   * (evidence/uncontrolled.ts uncontrolledMostOf).
   */
  uncontrolledByCountA?: [number, number, number];
  /** Read by its energy register, its car's phases not known: what a meter that counts it left it (evidence/meter-phases.ts). */
  meterRoom?: MeterRoom[];
}

export function newObservedSession(key: string): AllFields<ObservedSession> {
  return {
    key,
    keyState: undefined,
    keyWantingSinceMs: Number.NaN,
    startedAtMs: undefined,
    lastSeq: undefined,
    candidatePhases: undefined,
    candidateFromMs: undefined,
    confirmedPhases: undefined,
    underDrawSinceMs: undefined,
    underDrawFromA: undefined,
    underDrawShown: undefined,
    underDrawCapA: undefined,
    energyProbe: undefined,
    energyProbed: undefined,
    energyFewestPhases: undefined,
    energyPhasesFrom: undefined,
    energyAtSetPointA: undefined,
    energyAtLast: undefined,
    energyPhases: undefined,
    overdrawSinceMs: undefined,
    lastOver: undefined,
    aboveSetPoint: undefined,
    guessEndsAtMs: undefined,
    overdrawing: false,
    refusedReadings: undefined,
    refusedWhy: undefined,
    overdrawFloorA: undefined,
    overdrawCapA: undefined,
    overdrawAboveA: undefined,
    compliantSinceMs: undefined,
    overdrawEpisodes: 0,
    limitIgnored: 0,
    ignoresLimit: undefined,
    overshoot: undefined,
    overshootRounding: undefined,
    registerBeyondA: undefined,
    registerBeyondJudged: undefined,
    registerAboveA: undefined,
    registerAnchor: undefined,
    registerFollows: undefined,
    uncontrolledMostA: undefined,
    uncontrolledReadings: undefined,
    uncontrolledByCountA: undefined,
    meterRoom: undefined,
  };
}

/**
 * After a phase switch the car is a different load: its phases are detected again and an
 * under-draw seen on the old phases no longer caps it.
 */
export function restartObservation(session: ObservedSession): void {
  session.underDrawCapA = undefined;
  session.energyProbe = undefined;
  session.energyProbed = undefined;
  session.energyFewestPhases = undefined;
  session.meterRoom = undefined;
  session.underDrawSinceMs = undefined;
  session.candidatePhases = undefined;
  session.candidateFromMs = undefined;
}

/** Energy the car took this session, Wh (0 without a transaction or a meter value). */
export function sessionEnergyWh(state: ConnectorState | undefined): number {
  const tx = state?.transaction;
  if (!tx || state?.energyWh === undefined) return 0;
  return Math.max(0, state.energyWh - tx.meterStartWh);
}
