/**
 * The LoadManager invariant property's own reading of the overdraw rule (documented with
 * `control.overdrawToleranceA`, `overdrawClearMs`, `decreaseSettleMs` and in
 * lib/dlm/evidence/overdraw.ts), rebuilt from the raw inputs and the set-points alone: a charger that draws
 * above its set-point is, from that reading on, counted at what it draws, and a meter that includes it
 * may then have that draw subtracted (see the property's header).
 */

/** Per phase: a number, null where not measured. */
export type Values = (number | null)[];
export type Three = [number, number, number];

const TOLERANCE_A = 1;
const CLEAR_MS = 60_000;
const DECREASE_SETTLE_MS = 10_000;
const SWITCH_SETTLE_MS = 60_000;

/** A connector's wiring: charger phases wired, and the grid phase of each charger phase. */
export interface Wiring {
  wired: number[];
  rotation: number[];
  /** What it offers on its own (before its first set-point, and back online until it is sent again). */
  offlineA?: number;
}

/** What the overdraw judgement reads of a connector's set-points. */
export interface SentHistory {
  /** The set-point in force (none before the first). */
  sent?: { limitA: number; phases: number };
  /** The one before the last change of limit or phases, and when that change was sent. */
  previous?: { limitA: number; phases: number };
  changedAtMs?: number;
  /** A phase switch in this session: when, and the charger phases counted before it. */
  switchedAtMs?: number;
  phasesBeforeSwitch?: number[];
  /** Back online, its set-point not sent again yet. */
  resend?: boolean;
}

/** One session's overdraw record (a new car starts a new one). */
export interface OverdrawRecord {
  overdrawing: boolean;
  /** Times it was found overdrawing this session (after the first, a further overdraw counts at once). */
  episodes: number;
  /** Measurement time of the first sample of the current run above the set-point. */
  overSinceMs?: number;
  /** The newest sample above the set-point, per grid phase. */
  lastOver?: Three;
  /** What it is counted at while overdrawing. */
  floor?: Three;
  /** Measurement time of the first sample of the current run within the set-point, while overdrawing. */
  compliantSinceMs?: number;
  /** The last sample judged (each is judged once a session). */
  judged?: object;
}

export const newOverdraw = (): OverdrawRecord => ({ overdrawing: false, episodes: 0 });

export function gridOf(connector: Wiring, chargerA: Values): Three {
  const grid: Three = [0, 0, 0];
  for (const i of connector.wired) grid[connector.rotation[i] as 0 | 1 | 2] += chargerA[i] ?? 0;
  return grid;
}

/**
 * What charger phase `i` may draw by the set-point in force (0 on a phase a one-phase set-point does
 * not use); unless the charger is overdrawing already: measured within decreaseSettleMs of a change,
 * the higher of the old and the new (before the first, its offline current); back online until its
 * set-point is sent again, its offline current; within the settle time of a phase switch, on the
 * phases it used before, the higher of the set-points.
 */
function allowed(connector: Wiring, history: SentHistory, i: number, atMs: number, lenient: boolean): number {
  const sent = history.sent;
  if (!sent) return Number.POSITIVE_INFINITY;
  const on = (s: { limitA: number; phases: number }) => (s.phases === 1 && i !== 0 ? 0 : s.limitA);
  let result = on(sent);
  if (!lenient) return result;
  const { previous, changedAtMs, switchedAtMs } = history;
  const own = connector.offlineA ?? 0;
  if (history.resend) result = Math.max(result, own);
  if (changedAtMs !== undefined && atMs < changedAtMs + DECREASE_SETTLE_MS)
    result = Math.max(result, previous ? on(previous) : own);
  if (
    switchedAtMs !== undefined &&
    atMs < switchedAtMs + SWITCH_SETTLE_MS &&
    history.phasesBeforeSwitch?.includes(i)
  )
    result = Math.max(result, sent.limitA, previous?.limitA ?? 0);
  return result;
}

/** A car that refused a switch to one phase: counted at what it draws at once. */
export function flagRefusal(record: OverdrawRecord): void {
  if (!record.overdrawing) record.episodes += 1;
  record.overdrawing = true;
  record.overSinceMs = undefined;
  record.compliantSinceMs = undefined;
}

/**
 * Judges one fresh sample of a connector that is online and has a set-point (each sample once): above
 * its set-point + the tolerance on any phase starts (or, while overdrawing, updates) what it is
 * counted at; every phase measured and within it, while overdrawing and measured after the last
 * change, counts towards being trusted again.
 */
export function judge(
  record: OverdrawRecord,
  connector: Wiring,
  history: SentHistory,
  sample: { chargerA: Values; atMs: number },
): void {
  if (record.judged === sample) return;
  record.judged = sample;
  let over = false;
  let unknown = false;
  let maxA = 0;
  for (const i of connector.wired) {
    const value = sample.chargerA[i];
    if (value === null || value === undefined) {
      unknown = true;
      continue;
    }
    maxA = Math.max(maxA, value);
    if (value > allowed(connector, history, i, sample.atMs, !record.overdrawing) + TOLERANCE_A) over = true;
  }
  if (over) {
    // A phase it does not report at the highest it reports.
    record.lastOver = gridOf(
      connector,
      sample.chargerA.map((v) => v ?? maxA),
    );
    record.compliantSinceMs = undefined;
    if (record.overdrawing) record.floor = record.lastOver;
    else record.overSinceMs ??= sample.atMs;
    return;
  }
  if (unknown) return;
  record.lastOver = undefined;
  record.overSinceMs = undefined;
  if (!record.overdrawing || sample.atMs < (history.changedAtMs ?? Number.NEGATIVE_INFINITY)) return;
  // Only a car drawing (above 1 A) under a set-point above 0 shows the charger following.
  if (!((history.sent?.limitA ?? 0) > 0 && maxA > 1)) {
    record.compliantSinceMs = undefined;
    return;
  }
  record.compliantSinceMs ??= sample.atMs;
  if (sample.atMs - record.compliantSinceMs >= CLEAR_MS) {
    record.overdrawing = false;
    record.floor = undefined;
    record.compliantSinceMs = undefined;
  }
}

/** At an update, for a connector online with a set-point: a reading above it is an overdraw (no grace). */
export function flagIfDue(record: OverdrawRecord): void {
  if (record.overdrawing || !record.lastOver || record.overSinceMs === undefined) return;
  record.episodes += 1;
  record.overdrawing = true;
  record.floor = record.lastOver;
  record.overSinceMs = undefined;
  record.compliantSinceMs = undefined;
}

/**
 * What an overdrawing connector is counted at per grid phase at least: its floor, and on a phase it
 * counts on where the floor is at most 1 A (idle, a meter's offset), the floor's highest.
 */
export function overdrawFloor(record: OverdrawRecord, gridPhases: number[]): Three {
  const floor = record.overdrawing ? record.floor : undefined;
  if (!floor) return [0, 0, 0];
  const highest = Math.max(...floor);
  return floor.map((v, p) => Math.max(0, !(v > 1) && gridPhases.includes(p) ? highest : v || 0)) as Three;
}
