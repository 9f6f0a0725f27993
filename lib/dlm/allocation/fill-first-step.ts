/**
 * The progressive fill's first step without the fill's setup (allocation/fill.ts), where it stops
 * most members at once. That is the common case at scale: a grid phase a higher tier filled, or
 * one the unbalance fix-up freed a little of, is full again almost at once, and building every
 * member's pieces and breakpoint events only to stop them there cost more than the rest of the
 * fill. Where this cannot take the step as the fill would to the last bit it declines, before it
 * changes anything, and the fill takes it.
 *
 * Why it is the fill's own step: with whole-number coefficients (1 A, or the voltage in W: sums
 * exact in any order) what the fill's walk of a constraint does depends only on the constraint's
 * distinct breakpoints and the slope change at each, which are summed per constraint (a handful:
 * the members' limits, maxima and floors) and walked as the fill walks them in
 * allocation/fill-walks.ts: each constraint's level and where its cursor stops; the lowest level is the step's, every constraint
 * within the margin of it is tight, and the members stop in the fill's order (at their maximum
 * first, then per tight constraint in the order constraints appear), each stop taking its pieces
 * out of the cursors as the fill's `stopAt` does. The members left rise in a fill of their own
 * that starts where this step ended: at its level, its constraints numbered as before, each
 * cursor where this step left it, and ghosts (pieces of no member) at the breakpoints of the
 * members stopped, which the fill's cursor would pass too.
 */
import { type FillHost, isPiece, type Rising } from './fill-host';
import type { Ghosts } from './fill-pieces';
import { breakpointsOf, type Walks, walkAll } from './fill-walks';
import { AT_MAX } from './problem';
import { ALLOCATION_EPS } from './state';
import { floorOf } from './terms';

/** The first step's end: the members left, its level and its cursors. */
export interface AfterFirstStep extends Ghosts {
  readonly rest: Rising;
  readonly level: number;
  /** Per constraint (global index): its index in `order`, which the arrays below are indexed by. */
  readonly local: Int32Array;
  /** The breakpoint each constraint's cursor stopped at, the usage there and the slope after it. */
  readonly position: Float64Array;
  readonly value: Float64Array;
  readonly slope: Float64Array;
}

/** Below this many members the fill's setup costs little: it takes the first step itself. */
const FEWEST = 64;
/** Constraints tight in the first step handled here (more: the fill takes the step). */
const MOST_TIGHT = 4;
/** Per member: stops at its maximum, or rises on (else the index of the tight constraint that stops it). */
const AT_HI = -1;
const RISES = -2;

/** The first step taken, or undefined where the fill takes it (`always`: wherever it can be taken here). */
export function firstStep(rising: Rising, host: FillHost, always = false): AfterFirstStep | undefined {
  if (!always && rising.count < FEWEST) return undefined;
  const walks = breakpointsOf(rising, host);
  if (!walks || !walkAll(walks, host)) return undefined;
  const { count, ks, lo, hi } = rising;
  let level = Number.POSITIVE_INFINITY;
  for (let c = 0; c < walks.constraints; c++) level = Math.min(level, walks.t[c] ?? 0);
  let highest = Number.NEGATIVE_INFINITY;
  for (let m = 0; m < count; m++) highest = Math.max(highest, hi[m] ?? 0);
  const all = level >= highest - ALLOCATION_EPS;
  // The tight constraints, in the order they appear (the fill's order).
  const tight: number[] = [];
  for (let c = 0; !all && c < walks.constraints; c++)
    if ((walks.t[c] ?? 0) <= level + ALLOCATION_EPS) tight.push(c);
  if (tight.length > MOST_TIGHT) return undefined;
  const tightAt = new Int8Array(host.capacity.length).fill(-1);
  for (let n = 0; n < tight.length; n++) tightAt[walks.order[tight[n] ?? 0] ?? 0] = n;
  const by = new Int32Array(count);
  let stopping = 0;
  for (let m = 0; m < count; m++) {
    const at = all || (hi[m] ?? 0) <= level + ALLOCATION_EPS ? AT_HI : firstTight(tightAt, host, rising, m);
    by[m] = at;
    if (at !== RISES) stopping++;
  }
  // Worth it only where most members stop.
  if (!always && 2 * stopping < count) return undefined;
  const stopped = stopping === count ? undefined : stopInCursors(walks, rising, by, tight, level, host);
  if (stopping !== count && !stopped) return undefined;
  // Decided: the stops, in the fill's order (at their maximum first, then per tight constraint).
  for (let m = 0; m < count; m++) if (by[m] === AT_HI) host.stop(ks[m] ?? 0, hi[m] ?? 0, AT_MAX);
  for (let n = 0; n < tight.length; n++) {
    const bound = host.bound(walks.order[tight[n] ?? 0] ?? 0);
    for (let m = 0; m < count; m++) {
      if (by[m] !== n) continue;
      const h = hi[m] ?? 0;
      const v = Math.min(h, Math.max(lo[m] ?? 0, level));
      host.stop(ks[m] ?? 0, Math.max(lo[m] ?? 0, v), v >= h - ALLOCATION_EPS ? AT_MAX : bound);
    }
  }
  const rest: Rising = {
    ks: new Int32Array(count - stopping),
    lo: new Float64Array(count - stopping),
    hi: new Float64Array(count - stopping),
    count: 0,
  };
  for (let m = 0; m < count; m++) {
    if (by[m] !== RISES) continue;
    rest.ks[rest.count] = ks[m] ?? 0;
    rest.lo[rest.count] = lo[m] ?? 0;
    rest.hi[rest.count] = hi[m] ?? 0;
    rest.count++;
  }
  const ghosts = stopped ? ghostsOf(walks, stopped, host) : noGhosts(walks);
  const { order, ghostC, ghostAt } = ghosts;
  const { local, position, value, slope } = walks;
  return { order, ghostC, ghostAt, ghosts: ghosts.ghosts, rest, level, local, position, value, slope };
}

/** The first of the tight constraints (`tightAt`: per global index, its index among them or -1) member m has a piece in, or RISES. */
function firstTight(tightAt: Int8Array, host: FillHost, rising: Rising, m: number): number {
  const { terms } = host;
  const k = rising.ks[m] ?? 0;
  const lo = rising.lo[m] ?? 0;
  const hi = rising.hi[m] ?? 0;
  let first = RISES;
  for (let i = terms.start[k] ?? 0; i < (terms.start[k + 1] ?? 0); i++) {
    const n = tightAt[terms.constraint[i] ?? 0] ?? -1;
    if (n >= 0 && (first === RISES || n < first) && isPiece(terms, k, i, lo, hi)) first = n;
  }
  return first;
}

/** Nobody is left to rise: the fill of the members left is not made. */
function noGhosts(walks: Walks): Ghosts {
  const order = walks.order.subarray(0, walks.constraints);
  return { order, ghostC: new Int32Array(0), ghostAt: new Float64Array(0), ghosts: 0 };
}

/** What the stops did to the constraints (per constraint c). */
interface Stopped {
  /** TOUCHED where a stopped member had a piece in it, DONE where it is tight. */
  touched: Uint8Array;
  /** The breakpoints (a bit per value id) of the pieces of the members left (0: none). */
  left: Uint8Array;
}

const TOUCHED = 1;
const DONE = 2;

/**
 * The stops taken out of the cursors, in the fill's order, as its `stopAt` does (a piece started
 * and not ended leaves the slope; the usage counts the stop's value instead of the cursor's).
 * Undefined where a stop would change the host's usage of a constraint the fill does not see it in
 * (a floor within the margin of the maximum): the fill would not solve that constraint again.
 */
function stopInCursors(
  walks: Walks,
  rising: Rising,
  by: Int32Array,
  tight: readonly number[],
  level: number,
  host: FillHost,
): Stopped | undefined {
  const { start, constraint, coef } = host.terms;
  const touched = new Uint8Array(walks.constraints);
  const take = (m: number, v: number): boolean => {
    const k = rising.ks[m] ?? 0;
    const lo = rising.lo[m] ?? 0;
    const hi = rising.hi[m] ?? 0;
    const a = Math.max(lo, v);
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      const f = floorOf(host.terms, k, i);
      const l = Math.max(f, lo);
      if (!isPiece(host.terms, k, i, lo, hi)) {
        // No piece of the fill: a stop must not change its usage either.
        if (Math.max(f, a) !== l) return false;
        continue;
      }
      const h = Math.max(f, hi);
      const c = walks.local[constraint[i] ?? 0] ?? 0;
      const mark = (touched[c] ?? 0) | TOUCHED;
      touched[c] = mark;
      // Tight constraints are done: the fill leaves their cursors as they are.
      if (mark & DONE) continue;
      const coefficient = coef[constraint[i] ?? 0] ?? 0;
      const position = walks.position[c] ?? 0;
      const started = position >= l;
      const ended = position >= h;
      const counted = !started ? l : ended ? h : position;
      walks.value[c] = (walks.value[c] ?? 0) + coefficient * (Math.max(l, v) - counted);
      if (started && !ended) walks.slope[c] = (walks.slope[c] ?? 0) - coefficient;
    }
    return true;
  };
  for (let m = 0; m < rising.count; m++) if (by[m] === AT_HI && !take(m, rising.hi[m] ?? 0)) return undefined;
  for (let n = 0; n < tight.length; n++) {
    const c = tight[n] ?? 0;
    touched[c] = (touched[c] ?? 0) | DONE;
    for (let m = 0; m < rising.count; m++) {
      if (by[m] !== n) continue;
      if (!take(m, Math.min(rising.hi[m] ?? 0, Math.max(rising.lo[m] ?? 0, level)))) return undefined;
    }
  }
  // The breakpoints of the members left.
  const left = new Uint8Array(walks.constraints);
  for (let m = 0; m < rising.count; m++) {
    if (by[m] !== RISES) continue;
    const k = rising.ks[m] ?? 0;
    const lo = rising.lo[m] ?? 0;
    const hi = rising.hi[m] ?? 0;
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      if (!isPiece(host.terms, k, i, lo, hi)) continue;
      const f = floorOf(host.terms, k, i);
      const l = Math.max(f, lo);
      const h = Math.max(f, hi);
      const c = walks.local[constraint[i] ?? 0] ?? 0;
      left[c] = (left[c] ?? 0) | (1 << idIn(walks, l)) | (1 << idIn(walks, h));
    }
  }
  return { touched, left };
}

/** The id of a breakpoint value (one of the walks' values). */
function idIn(walks: Walks, x: number): number {
  for (let id = 0; id < walks.distinct; id++) if (walks.values[id] === x) return id;
  return 0;
}

/**
 * The ghosts the fill of the members left needs (after the stops: the host's usage is read), so
 * that it solves what the fill would have solved after this step, from where this step left it:
 * - a constraint both stopped and left members are in: a ghost at the breakpoint its cursor is at
 *   (the fill's cursor starts past it) unless a member left has one there, and one at each
 *   breakpoint above that only stopped members had (the fill's cursor stops there too);
 * - one only stopped members were in: the fill solves it again, and it never rises, so it is
 *   queued at -∞ where the stops left it over its capacity (then it makes the next step's level
 *   the last one's) and else never comes up: a ghost at its cursor in the first case, none else.
 */
function ghostsOf(walks: Walks, stopped: Stopped, host: FillHost): Ghosts {
  const { touched, left } = stopped;
  const cursorId = new Int8Array(walks.constraints);
  const wanted = new Uint8Array(walks.constraints);
  let ghosts = 0;
  for (let c = 0; c < walks.constraints; c++) {
    if (touched[c] !== TOUCHED) continue;
    const position = walks.position[c] ?? 0;
    const at = idIn(walks, position);
    cursorId[c] = at;
    let bits = 0;
    const own = left[c] ?? 0;
    if (own === 0) {
      const j = walks.order[c] ?? 0;
      if ((host.usage[j] ?? 0) > (host.capacity[j] ?? 0) + ALLOCATION_EPS) bits = 1 << at;
    } else {
      if (!(own & (1 << at))) bits = 1 << at;
      for (let id = 0; id < walks.distinct; id++)
        if ((walks.values[id] ?? 0) > position && !(own & (1 << id)))
          bits |= (walks.mask[c] ?? 0) & (1 << id);
    }
    wanted[c] = bits;
    ghosts += bitCount(bits);
  }
  const ghostC = new Int32Array(ghosts);
  const ghostAt = new Float64Array(ghosts);
  let g = 0;
  for (let c = 0; c < walks.constraints; c++) {
    for (let id = 0; id < walks.distinct; id++) {
      if (!((wanted[c] ?? 0) & (1 << id))) continue;
      ghostC[g] = walks.order[c] ?? 0;
      ghostAt[g++] = walks.values[id] ?? 0;
    }
  }
  return { order: walks.order.subarray(0, walks.constraints), ghostC, ghostAt, ghosts };
}

function bitCount(bits: number): number {
  let count = 0;
  for (let b = bits; b !== 0; b &= b - 1) count++;
  return count;
}
