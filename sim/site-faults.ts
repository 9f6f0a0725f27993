/**
 * The faults a real site has that the site simulator (site.ts) plays on request, kept apart from
 * its physics: a charger that confirms the limits it takes (as ampflow-charging-profile and the
 * central system publish them, `limitInForce`), one that refuses its limits or never answers
 * (`limitFailed`, as the profile manager reports it), one that meters energy only, one whose
 * readings are impossible for a while (1e308 A, NaN, 10 times its wiring), and a meter that lies
 * with a fresh timestamp (reads 0 A, the negated current, repeats itself, or reads the impossible).
 */
import type { ConnectorState } from '../lib/contracts';
import type { Triple } from '../lib/dlm/site';

/** How long a charger takes to answer a command. */
export const ANSWER_DELAY_MS = 500;
/** How long the profile manager waits for an answer before it says the limit failed. */
export const COMMAND_TIMEOUT_MS = 30_000;

export interface SimChargerFaults {
  /** It confirms each limit it takes when it answers (`ConnectorState.limitInForce`). Default false. */
  confirms?: boolean;
  /**
   * It never applies a limit (offers its maximum), and its connector state says so like the profile
   * manager would (`limitFailed`): after its answer ('reject') or the command timeout ('noAnswer').
   */
  refusesLimits?: 'reject' | 'noAnswer';
  /** Its own meter reports per-phase currents. Default true (false: energy only). */
  reportsCurrents?: boolean;
  /**
   * Its own meter reports one current without a phase (a plain `Current.Import`, as Schneider
   * EVlink does: `ConnectorState.currentUnphasedA`), the most any of its phases carries. Default false.
   */
  unphasedCurrent?: boolean;
  /**
   * It takes no fallback and keeps its last limit when ampflow is gone (limits at stack level 0, a
   * vendor key), as the profile manager reports it (`ConnectorState.keepsLimitOffline`).
   */
  keepsLastLimit?: boolean;
  /**
   * In these windows (ms since the simulation started) its meter reports `valueA` on every phase
   * instead of what the car draws: an impossible reading (1e308 A, NaN, 10 times its wiring), once
   * (a window shorter than its meter interval) or repeatedly.
   */
  absurdReadings?: { fromMs: number; toMs: number; valueA: number }[];
}

export interface MeterLie {
  /** ms since the simulation started. */
  fromMs: number;
  toMs: number;
  /** 0 A on every phase, the true current negated, the last true reading again, or `valueA`. */
  kind: 'zero' | 'negative' | 'frozen' | 'absurd';
  /** What an `absurd` lie reads on every phase (1e308 A, NaN, 10 times its breaker). */
  valueA?: number;
}

/** What a charger's answers did to its connector state, and when each is due. */
export interface AnswerState {
  confirmed?: { limitA: number; since: string; confirmedAt: string };
  failed?: { limitA: number; since: string; why: string };
  /** The offline fallback it took (`ConnectorState.offlineFallback`). */
  fallback?: { limitA: number; afterS: number; since: string };
  due: { atMs: number; limitA: number; kind: 'confirm' | 'fail' | 'fallback' }[];
}

/** How long a charger waits without ampflow before it falls to its fallback (the profile node's default). */
const FALLBACK_AFTER_S = 300;

/**
 * A set-point reached the charger at `now`: its answer (confirmation or failure) is due later, and
 * with it the confirmation of the fallback it carries (`fallbackA`), as the profile manager reports
 * a TxDefaultProfile the charger accepted; one that keeps its last limit takes no fallback.
 */
export function answerSetPoint(
  faults: SimChargerFaults,
  state: AnswerState,
  limitA: number,
  now: number,
  fallbackA?: number,
): void {
  if (faults.refusesLimits) {
    const delay = faults.refusesLimits === 'reject' ? ANSWER_DELAY_MS : COMMAND_TIMEOUT_MS;
    state.due.push({ atMs: now + delay, limitA, kind: 'fail' });
  } else if (faults.confirms) {
    state.due.push({ atMs: now + ANSWER_DELAY_MS, limitA, kind: 'confirm' });
    // Every one, in order (one equal to the confirmed value may follow a different one still due).
    if (fallbackA !== undefined && !faults.keepsLastLimit)
      state.due.push({ atMs: now + ANSWER_DELAY_MS, limitA: fallbackA, kind: 'fallback' });
  }
}

/** The answers due by `now` are given; returns whether the connector state changed. */
export function giveAnswers(faults: SimChargerFaults, state: AnswerState, now: number): boolean {
  let changed = false;
  while (state.due[0] && state.due[0].atMs <= now) {
    const answer = state.due.shift();
    if (!answer) break;
    const at = new Date(answer.atMs).toISOString();
    if (answer.kind === 'confirm') {
      state.confirmed = { limitA: answer.limitA, since: at, confirmedAt: at };
    } else if (answer.kind === 'fallback') {
      state.fallback = { limitA: answer.limitA, afterS: FALLBACK_AFTER_S, since: at };
    } else if (!state.failed) {
      state.failed = {
        limitA: answer.limitA,
        since: at,
        why:
          faults.refusesLimits === 'reject'
            ? 'refused SetChargingProfile (TxProfile, TxDefaultProfile, ChargePointMaxProfile)'
            : `did not answer SetChargingProfile within ${COMMAND_TIMEOUT_MS / 1000} s`,
      };
    }
    changed = true;
  }
  return changed;
}

/** The connector state with what the charger's answers and its meter say (at `elapsedMs`). */
export function withFaults(
  faults: SimChargerFaults,
  state: AnswerState,
  connector: ConnectorState,
  elapsedMs = 0,
): ConnectorState {
  const result = { ...connector };
  if (state.confirmed) result.limitInForce = state.confirmed;
  if (state.fallback) result.offlineFallback = state.fallback;
  if (state.failed) result.limitFailed = state.failed;
  if (faults.keepsLastLimit)
    result.keepsLimitOffline = { why: 'it takes limits at stack level 0 only', since: '' };
  if (faults.unphasedCurrent && result.currentA)
    result.currentUnphasedA = Math.max(...result.currentA.map((a) => a ?? 0));
  if (faults.reportsCurrents === false || faults.unphasedCurrent) {
    delete result.currentA;
    delete result.activePhases;
  }
  const absurd = faults.absurdReadings?.find((w) => elapsedMs >= w.fromMs && elapsedMs < w.toMs);
  if (absurd && result.currentA) result.currentA = [absurd.valueA, absurd.valueA, absurd.valueA];
  return result;
}

/** What a lying meter reads instead of `trueA` at `elapsedMs` (the last true reading for `frozen`). */
export function meterReads(
  lies: readonly MeterLie[],
  elapsedMs: number,
  trueA: Triple,
  lastTrueA: Triple | undefined,
): Triple {
  const lie = lies.find((l) => elapsedMs >= l.fromMs && elapsedMs < l.toMs);
  if (!lie) return trueA;
  switch (lie.kind) {
    case 'zero':
      return [0, 0, 0];
    case 'negative':
      return trueA.map((a) => -Math.abs(a)) as Triple;
    case 'frozen':
      return lastTrueA ?? trueA;
    case 'absurd': {
      const valueA = lie.valueA ?? Number.NaN;
      return [valueA, valueA, valueA];
    }
  }
}

/** Mixes a 32-bit key into well-spread bits: the simulator's seeded noise, the same for the same key. */
export function mix32(key: number): number {
  let h = Math.imul(key, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 13;
  return h;
}

/**
 * What a live meter reads of `trueA`: each non-zero phase up to `jitterA` above it, the same for
 * the same meter and time (a run replays exactly), never below it (the noise hides no load). A
 * true 0 reads 0: a meter's starting threshold.
 */
export function withJitter(trueA: Triple, jitterA: number, meterIndex: number, atMs: number): Triple {
  if (jitterA <= 0) return trueA;
  return trueA.map((value, p) => {
    if (value === 0) return 0;
    const h = mix32(Math.floor(atMs / 100) ^ (meterIndex * 0x9e3779b1) ^ (p * 0x85ebca6b));
    return value + ((h >>> 0) / 0x1_0000_0000) * jitterA;
  }) as Triple;
}
