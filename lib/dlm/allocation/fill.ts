/**
 * Progressive filling, the allocator's step 2 (allocation/allocate.ts): the members of one priority tier
 * rise together at a common level t, each between its current limit (lo) and its maximum (hi);
 * when a constraint becomes tight every member in it stops there, the others go on. THE RULE,
 * owned here: a full constraint stops every member with a piece in it (a term it loads whose
 * value changes between lo and hi), also a member held by a constraint full before the fill
 * starts (that one stays where it is, held by it, and costs the fill's setup nothing).
 *
 * A constraint's usage as a function of t is piecewise linear,
 *   F(t) = usage + Σ over members still rising of coef × (clamp(t, l, h) − l),
 * with l and h the member's lo and hi lifted to its floor on that phase. The level only rises, so
 * each constraint keeps a cursor (last breakpoint passed, F there, slope) that moves forward only;
 * a member that stops is taken out of the cursors of its constraints in O(1) each. With a heap
 * for the next constraint to become tight, one fill costs O(P log C) for P member terms and C
 * constraints, where scanning every constraint again after each stop cost O(P × C). One module,
 * in the order the fill uses its parts: the heap (TightHeap), the pieces and breakpoints
 * (FillPieces), the walks of the first step (breakpointsOf, walkAll), the first step, the fill.
 * Where the first step stops most members at once (a constraint full but for rounding, as at
 * scale after a higher tier or the unbalance fix-up), firstStep takes that step without building
 * their pieces, to the same last bit, and the fill goes on from there. What the fill asks of the
 * allocator is its seam, allocation/fill-host.ts.
 */
import { type FillHost, isPiece, type Rising } from './fill-host';
import { AT_MAX, type Bound } from './problem';
import { ALLOCATION_EPS, type Terms } from './state';
import { floorOf } from './terms';

/** No constraint, no breakpoint: the sentinel of the fill's index arrays. */
const NONE = -1;

/**
 * The progressive fill's queue (allocation/fill.ts): which constraint becomes tight next. A
 * constraint solved again pushes a new entry with a new version; older entries are skipped.
 */
/**
 * A min-heap of (level, constraint), entries of an older version of a constraint skipped. Flat
 * typed arrays that grow by doubling: a fill pushes an entry every time it solves a constraint.
 */
export class TightHeap {
  private t = new Float64Array(64);
  private c = new Int32Array(64);
  private v = new Int32Array(64);
  private size = 0;

  push(t: number, c: number, v: number): void {
    if (this.size === this.t.length) this.grow();
    let i = this.size++;
    this.t[i] = t;
    this.c[i] = c;
    this.v[i] = v;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Drops entries of older versions from the top; whether a current one is left (then at the top). */
  peek(version: Int32Array): boolean {
    while (this.size > 0 && this.v[0] !== version[this.c[0] ?? 0]) this.pop();
    return this.size > 0;
  }

  /** The top's level and constraint (after `peek` said there is one). */
  get topT(): number {
    return this.t[0] ?? 0;
  }

  get topC(): number {
    return this.c[0] ?? 0;
  }

  /** Every current constraint at or below `level`. */
  popUpTo(level: number, version: Int32Array): number[] {
    const out: number[] = [];
    for (;;) {
      if (!this.peek(version) || this.topT > level) return out;
      out.push(this.topC);
      this.pop();
    }
  }

  private grow(): void {
    const t = new Float64Array(2 * this.t.length);
    const c = new Int32Array(2 * this.c.length);
    const v = new Int32Array(2 * this.v.length);
    t.set(this.t);
    c.set(this.c);
    v.set(this.v);
    this.t = t;
    this.c = c;
    this.v = v;
  }

  private pop(): void {
    const last = --this.size;
    this.swap(0, last);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.size && this.less(left, least)) least = left;
      if (right < this.size && this.less(right, least)) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private less(a: number, b: number): boolean {
    const ta = this.t[a] ?? 0;
    const tb = this.t[b] ?? 0;
    return ta < tb || (ta === tb && (this.c[a] ?? 0) < (this.c[b] ?? 0));
  }

  private swap(a: number, b: number): void {
    const t = this.t[a] ?? 0;
    this.t[a] = this.t[b] ?? 0;
    this.t[b] = t;
    const c = this.c[a] ?? 0;
    this.c[a] = this.c[b] ?? 0;
    this.c[b] = c;
    const v = this.v[a] ?? 0;
    this.v[a] = this.v[b] ?? 0;
    this.v[b] = v;
  }
}

/**
 * The progressive fill's setup (allocation/fill.ts): the pieces, one per member term that can
 * change (member m, local constraint c, coefficient, lo and hi lifted to the term's floor),
 * grouped by member and by constraint, and each constraint's breakpoint events in ascending order.
 *
 * Breakpoints are numbered in ascending order (few distinct values in practice: 0, the minimum,
 * the maxima and floors), so each constraint's breakpoints come out sorted by a counting sort.
 */

/** What a fill that starts after a first step taken without it needs of that step. */
export interface Ghosts {
  /** Every constraint the first step's members had pieces in, in the order they appeared. */
  readonly order: Int32Array;
  /** Ghost g: a breakpoint `ghostAt[g]` in constraint `ghostC[g]`. */
  readonly ghostC: Int32Array;
  readonly ghostAt: Float64Array;
  readonly ghosts: number;
}

export class FillPieces {
  readonly count: number;
  readonly pm: Int32Array;
  readonly pc: Int32Array;
  readonly pCoef: Float64Array;
  readonly pL: Float64Array;
  readonly pH: Float64Array;
  /** Breakpoints of each piece's lo and hi. */
  pLB!: Int32Array;
  pHB!: Int32Array;
  /** Pieces of member m: pieceStart[m] ..< pieceStart[m + 1]. */
  readonly pieceStart: Int32Array;
  /** Local constraints, numbered in order of first appearance (the order ties are resolved in). */
  readonly global: number[] = [];
  /** Pieces of constraint c in member order: byC[cStart[c] ..< cStart[c + 1]]. */
  readonly cStart: Int32Array;
  readonly byC: Int32Array;
  /** Breakpoint events of constraint c in ascending order: evPiece/evUp at eStart[c] ..< eStart[c + 1]. */
  eStart!: Int32Array;
  evPiece!: Int32Array;
  evUp!: Uint8Array;
  breakpoints: number[] = [];
  /** Per member: the breakpoint of its maximum. */
  hiB!: Int32Array;

  /**
   * Member terms that can change, grouped by member; constraints numbered as they appear. After a
   * first step taken without the fill, constraints are numbered in that step's order (that of
   * every member it started with) and each gets its ghosts: pieces of a member stopped from the
   * start, so that the cursors pass the breakpoints the members stopped in that step had there.
   */
  constructor(
    private readonly ks: Int32Array,
    private readonly lo: Float64Array,
    private readonly hi: Float64Array,
    terms: Terms,
    constraintCount: number,
    after?: Ghosts,
  ) {
    const members = ks.length;
    const ghosts = after?.ghosts ?? 0;
    let most = ghosts;
    for (let m = 0; m < members; m++) {
      const k = ks[m] ?? 0;
      most += (terms.start[k + 1] ?? 0) - (terms.start[k] ?? 0);
    }
    this.pm = new Int32Array(most);
    this.pc = new Int32Array(most);
    this.pCoef = new Float64Array(most);
    this.pL = new Float64Array(most);
    this.pH = new Float64Array(most);
    this.pieceStart = new Int32Array(members + 1);
    const local = new Int32Array(constraintCount).fill(NONE);
    if (after) this.numberAsBefore(after, local, terms);
    let pieces = 0;
    for (let m = 0; m < members; m++) {
      this.pieceStart[m] = pieces;
      const lo = this.lo[m] ?? 0;
      const hi = this.hi[m] ?? 0;
      const k = ks[m] ?? 0;
      for (let i = terms.start[k] ?? 0; i < (terms.start[k + 1] ?? 0); i++) {
        if (!isPiece(terms, k, i, lo, hi)) continue;
        const floor = floorOf(terms, k, i);
        const l = Math.max(floor, lo);
        const h = Math.max(floor, hi);
        const j = terms.constraint[i] ?? 0;
        let c = local[j] ?? NONE;
        if (c === NONE) {
          c = this.global.length;
          local[j] = c;
          this.global.push(j);
        }
        this.pm[pieces] = m;
        this.pc[pieces] = c;
        this.pCoef[pieces] = terms.coef[j] ?? 0;
        this.pL[pieces] = l;
        this.pH[pieces] = h;
        pieces++;
      }
    }
    this.pieceStart[members] = pieces;
    // The ghosts (after every member's pieces: member `members`, which the fill holds stopped).
    for (let g = 0; g < ghosts; g++) {
      const at = after?.ghostAt[g] ?? 0;
      this.pm[pieces] = members;
      this.pc[pieces] = local[after?.ghostC[g] ?? 0] ?? 0;
      this.pL[pieces] = at;
      this.pH[pieces] = at;
      pieces++;
    }
    this.count = pieces;
    const constraints = this.global.length;
    this.cStart = new Int32Array(constraints + 1);
    for (let p = 0; p < pieces; p++) {
      const c = (this.pc[p] ?? 0) + 1;
      this.cStart[c] = (this.cStart[c] ?? 0) + 1;
    }
    for (let c = 0; c < constraints; c++)
      this.cStart[c + 1] = (this.cStart[c + 1] ?? 0) + (this.cStart[c] ?? 0);
    const fillAt = this.cStart.slice(0, constraints);
    this.byC = new Int32Array(pieces);
    for (let p = 0; p < pieces; p++) {
      const c = this.pc[p] ?? 0;
      this.byC[fillAt[c] ?? 0] = p;
      fillAt[c] = (fillAt[c] ?? 0) + 1;
    }
    // (The rest in methods of their own: one long method is compiled in pieces and thrown away again.)
    this.buildEvents();
  }

  /** Local numbers for the constraints the members or ghosts have pieces in, in `after.order`. */
  private numberAsBefore(after: Ghosts, local: Int32Array, terms: Terms): void {
    const used = new Uint8Array(local.length);
    for (let g = 0; g < after.ghosts; g++) used[after.ghostC[g] ?? 0] = 1;
    for (let m = 0; m < this.ks.length; m++) {
      const k = this.ks[m] ?? 0;
      const lo = this.lo[m] ?? 0;
      const hi = this.hi[m] ?? 0;
      for (let i = terms.start[k] ?? 0; i < (terms.start[k + 1] ?? 0); i++)
        if (isPiece(terms, k, i, lo, hi)) used[terms.constraint[i] ?? 0] = 1;
    }
    for (const j of after.order) {
      if (!used[j]) continue;
      local[j] = this.global.length;
      this.global.push(j);
    }
  }

  /** Each constraint's breakpoint events in ascending order: stops before starts at one breakpoint. */
  private buildEvents(): void {
    const pieces = this.count;
    // The breakpoints: every member's lo and hi, and a term's own where its floor lifts them.
    const members = this.ks.length;
    const candidates = new Float64Array(2 * members + 2 * pieces);
    let count = 0;
    for (let m = 0; m < members; m++) {
      candidates[count++] = this.lo[m] ?? 0;
      candidates[count++] = this.hi[m] ?? 0;
    }
    // A ghost (after the members' pieces) has its own breakpoint.
    const real = this.pieceStart[members] ?? 0;
    for (let p = 0; p < real; p++) {
      const m = this.pm[p] ?? 0;
      if (this.pL[p] !== this.lo[m]) candidates[count++] = this.pL[p] ?? 0;
      if (this.pH[p] !== this.hi[m]) candidates[count++] = this.pH[p] ?? 0;
    }
    for (let p = real; p < pieces; p++) candidates[count++] = this.pL[p] ?? 0;
    const all = candidates.subarray(0, count).sort();
    const values: number[] = [];
    for (let i = 0; i < all.length; i++) {
      const v = all[i] ?? 0;
      if (values.length === 0 || values[values.length - 1] !== v) values.push(v);
    }
    this.breakpoints = values;
    const bucketOf = (v: number) => bucketIn(values, v);
    const loB = new Int32Array(members);
    const hiB = new Int32Array(members);
    for (let m = 0; m < members; m++) {
      loB[m] = bucketIn(values, this.lo[m] ?? 0);
      hiB[m] = bucketIn(values, this.hi[m] ?? 0);
    }
    this.hiB = hiB;
    this.pLB = new Int32Array(pieces);
    this.pHB = new Int32Array(pieces);
    // Counting sort of the 2P events by breakpoint, then handed out per constraint in that order.
    const perBucket = new Int32Array(values.length + 1);
    for (let p = 0; p < pieces; p++) {
      const m = this.pm[p] ?? 0;
      const ghost = p >= real;
      const lb = !ghost && this.pL[p] === this.lo[m] ? (loB[m] ?? 0) : bucketOf(this.pL[p] ?? 0);
      const hb = !ghost && this.pH[p] === this.hi[m] ? (hiB[m] ?? 0) : bucketOf(this.pH[p] ?? 0);
      this.pLB[p] = lb;
      this.pHB[p] = hb;
      perBucket[lb + 1] = (perBucket[lb + 1] ?? 0) + 1;
      perBucket[hb + 1] = (perBucket[hb + 1] ?? 0) + 1;
    }
    for (let b = 0; b < values.length; b++) perBucket[b + 1] = (perBucket[b + 1] ?? 0) + (perBucket[b] ?? 0);
    // Within a breakpoint: ends (slope down) first, then starts, as the scan needs no order there.
    const sorted = new Int32Array(2 * pieces);
    const at = perBucket.slice(0, values.length);
    for (let p = 0; p < pieces; p++) {
      const hb = this.pHB[p] ?? 0;
      sorted[at[hb] ?? 0] = 2 * p + 1;
      at[hb] = (at[hb] ?? 0) + 1;
    }
    for (let p = 0; p < pieces; p++) {
      const lb = this.pLB[p] ?? 0;
      sorted[at[lb] ?? 0] = 2 * p;
      at[lb] = (at[lb] ?? 0) + 1;
    }
    const constraints = this.global.length;
    this.eStart = new Int32Array(constraints + 1);
    for (let c = 0; c < constraints; c++)
      this.eStart[c + 1] = (this.eStart[c] ?? 0) + 2 * ((this.cStart[c + 1] ?? 0) - (this.cStart[c] ?? 0));
    const next = this.eStart.slice(0, constraints);
    this.evPiece = new Int32Array(2 * pieces);
    this.evUp = new Uint8Array(2 * pieces);
    for (let e = 0; e < sorted.length; e++) {
      const event = sorted[e] ?? 0;
      const p = event >> 1;
      const c = this.pc[p] ?? 0;
      const i = next[c] ?? 0;
      this.evPiece[i] = p;
      this.evUp[i] = event & 1 ? 0 : 1;
      next[c] = i + 1;
    }
  }

  /**
   * Members by maximum, highest first, ties by index: for "the highest still rising" and "every
   * member whose maximum is reached" (a counting sort over the maxima's breakpoints).
   */
  byMaximumDown(): Int32Array {
    const count = this.ks.length;
    const byHiDown = new Int32Array(count);
    const buckets = this.breakpoints.length;
    const from = new Int32Array(buckets + 1);
    for (let m = 0; m < count; m++) {
      const b = buckets - 1 - (this.hiB[m] ?? 0);
      from[b + 1] = (from[b + 1] ?? 0) + 1;
    }
    for (let b = 0; b < buckets; b++) from[b + 1] = (from[b + 1] ?? 0) + (from[b] ?? 0);
    for (let m = 0; m < count; m++) {
      const b = buckets - 1 - (this.hiB[m] ?? 0);
      byHiDown[from[b] ?? 0] = m;
      from[b] = (from[b] ?? 0) + 1;
    }
    return byHiDown;
  }
}

/** The index of the first of the ascending `values` not below v. */
function bucketIn(values: readonly number[], v: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((values[mid] ?? 0) < v) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The progressive fill's walks (allocation/fill.ts, `solve`) for its first step taken without it
 * (allocation/fill-first-step.ts): the members' pieces summed per constraint, as a few distinct
 * breakpoints and the slope change at each, and each constraint walked from its start as the fill
 * walks it. With whole-number coefficients the sums are exact in any order, so the walk's every
 * value is the fill's to the last bit.
 */
/** Distinct breakpoints handled here (more: the fill takes the step). */
const MOST = 8;
/** The slope changes are summed in 32-bit integers: coefficients summed up to this (more: the fill takes the step). */
const MOST_SUM = 2 ** 30;

/**
 * The members' pieces summed per constraint: its breakpoints (out of a few distinct values) and the
 * slope change at each, and then its walk. Constraints are numbered in the order they appear.
 */
export interface Walks {
  /** Global index of constraint c, and c of global index j (-1: none). */
  order: Int32Array;
  local: Int32Array;
  constraints: number;
  /** The distinct breakpoint values (a value's id is its index here). */
  values: Float64Array;
  distinct: number;
  /** Per constraint c: a bit per id that is one of its breakpoints, the slope change at c × MOST + id. */
  mask: Uint8Array;
  change: Int32Array;
  /** Per constraint: the level it becomes tight at, the breakpoint its cursor stops at, the usage there, the slope after. */
  t: Float64Array;
  position: Float64Array;
  value: Float64Array;
  slope: Float64Array;
}

/** The breakpoints, or undefined where a coefficient is not a whole number or there are too many values. */
export function breakpointsOf(rising: Rising, host: FillHost): Walks | undefined {
  const size = host.capacity.length;
  const walks: Walks = {
    order: new Int32Array(size),
    local: new Int32Array(size).fill(-1),
    constraints: 0,
    values: new Float64Array(MOST),
    distinct: 0,
    mask: new Uint8Array(size),
    change: new Int32Array(size * MOST),
    t: new Float64Array(size),
    position: new Float64Array(size),
    value: new Float64Array(size),
    slope: new Float64Array(size),
  };
  const { order, local, values, mask, change } = walks;
  const idOf = (x: number): number => {
    for (let id = 0; id < walks.distinct; id++) if (values[id] === x) return id;
    if (walks.distinct === MOST) return -1;
    values[walks.distinct] = x;
    return walks.distinct++;
  };
  const { start, constraint, coef } = host.terms;
  let sum = 0;
  for (let m = 0; m < rising.count; m++) {
    const k = rising.ks[m] ?? 0;
    const lo = rising.lo[m] ?? 0;
    const hi = rising.hi[m] ?? 0;
    const loId = idOf(lo);
    const hiId = idOf(hi);
    if (loId < 0 || hiId < 0) return undefined;
    for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
      if (!isPiece(host.terms, k, i, lo, hi)) continue;
      const f = floorOf(host.terms, k, i);
      const l = Math.max(f, lo);
      const h = Math.max(f, hi);
      // A floor above the limit or the maximum lifts that breakpoint to a value of its own.
      const lId = f > lo ? idOf(l) : loId;
      const hId = f > hi ? idOf(h) : hiId;
      const j = constraint[i] ?? 0;
      const c = coef[j] ?? 0;
      sum += c;
      if (lId < 0 || hId < 0 || (c !== 1 && !(Number.isInteger(c) && c > 1)) || sum > MOST_SUM)
        return undefined;
      let at = local[j] ?? -1;
      if (at < 0) {
        at = walks.constraints++;
        local[j] = at;
        order[at] = j;
      }
      mask[at] = (mask[at] ?? 0) | (1 << lId) | (1 << hId);
      change[at * MOST + lId] = (change[at * MOST + lId] ?? 0) + c;
      change[at * MOST + hId] = (change[at * MOST + hId] ?? 0) - c;
    }
  }
  return walks;
}

/** The value ids in ascending order of value. */
function ascendingIds(walks: Walks): Int32Array {
  const ids = new Int32Array(walks.distinct);
  for (let id = 0; id < walks.distinct; id++) ids[id] = id;
  return ids.sort((a, b) => (walks.values[a] ?? 0) - (walks.values[b] ?? 0));
}

/**
 * Every constraint walked as the fill's `solve` walks it from its start: breakpoint by breakpoint
 * in ascending order, the slope changed by the pieces starting and ending there. False where one
 * is over its capacity already (the fill takes that step).
 */
export function walkAll(walks: Walks, host: FillHost): boolean {
  const { values, mask, change } = walks;
  const ascending = ascendingIds(walks);
  for (let c = 0; c < walks.constraints; c++) {
    const j = walks.order[c] ?? 0;
    const capacity = host.capacity[j] ?? 0;
    let value = host.usage[j] ?? 0;
    if (value > capacity + ALLOCATION_EPS) return false;
    const bits = mask[c] ?? 0;
    let t = Number.POSITIVE_INFINITY;
    let slope = 0;
    let position = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < ascending.length; r++) {
      const id = ascending[r] ?? 0;
      if (!(bits & (1 << id))) continue;
      const x = values[id] ?? 0;
      if (slope > ALLOCATION_EPS) {
        const reach = position + (capacity - value) / slope;
        if (reach < x) {
          t = reach;
          break;
        }
        value += slope * (x - position);
      }
      position = x;
      slope += change[c * MOST + id] ?? 0;
    }
    walks.t[c] = t;
    walks.position[c] = position;
    walks.value[c] = value;
    walks.slope[c] = slope;
  }
  return true;
}

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

/**
 * Where the first step is taken without the fill: `auto` where that pays, `always` wherever it can
 * be taken to the last bit and `never` (the last two for tests: both must give the same stops).
 */
export type FirstStep = 'auto' | 'always' | 'never';

export function progressiveFill(members: readonly number[], host: FillHost, first: FirstStep = 'auto'): void {
  const rising = risingMembers(members, host);
  if (rising.count === 0) return;
  const taken = first === 'never' ? undefined : firstStep(rising, host, first === 'always');
  if (!taken) new Fill(rising, host).run();
  else if (taken.rest.count > 0) new Fill(taken.rest, host, taken).run();
}

/**
 * The members that rise, in the order given (m = local index), the first `count` of these. The
 * others are told now: one that cannot rise (at its maximum) and one held by a full constraint.
 */
function risingMembers(members: readonly number[], host: FillHost): Rising {
  const rising: Rising = {
    ks: new Int32Array(members.length),
    lo: new Float64Array(members.length),
    hi: new Float64Array(members.length),
    count: 0,
  };
  for (const k of members) {
    const lo = host.limit[k] ?? 0;
    const hi = Math.max(lo, host.maxA[k] ?? 0);
    if (hi - lo <= ALLOCATION_EPS) {
      host.atMax(k);
      continue;
    }
    const held = heldBy(host, k, lo, hi);
    if (held !== NONE) {
      host.stop(k, lo, host.bound(held));
      continue;
    }
    rising.ks[rising.count] = k;
    rising.lo[rising.count] = lo;
    rising.hi[rising.count] = hi;
    rising.count++;
  }
  return rising;
}

/**
 * The constraint full already that stops member k where it is, if any (the rule above, before
 * the fill starts): one over its capacity before one just full, then the first in constraint
 * order (the root's first).
 */
function heldBy(host: FillHost, k: number, lo: number, hi: number): number {
  const { capacity, usage } = host;
  const { terms } = host;
  const { start, constraint } = terms;
  let held = NONE;
  let over = false;
  for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
    if (!isPiece(terms, k, i, lo, hi)) continue;
    const j = constraint[i] ?? 0;
    const slack = (capacity[j] ?? 0) - (usage[j] ?? 0);
    if (!(slack <= 0)) continue;
    const isOver = slack < -ALLOCATION_EPS;
    if (held === NONE || (isOver && !over) || (isOver === over && j < held)) {
      held = j;
      over = isOver;
    }
  }
  return held;
}

class Fill {
  // Members that rise (m = local index), the first `count` of these.
  private readonly ks: Int32Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly count: number;
  private stopped!: Uint8Array;
  private rising = 0;
  private p!: FillPieces;
  // Cursor per constraint: events consumed, last breakpoint passed, F there, slope after it.
  private cursor!: Int32Array;
  private curB!: Int32Array;
  private value!: Float64Array;
  private slope!: Float64Array;
  private done!: Uint8Array;
  private version!: Int32Array;
  private readonly heap = new TightHeap();
  /** Constraints whose members stopped in this step, to solve again (in the order first touched). */
  private readonly dirty: number[] = [];
  private isDirty!: Uint8Array;
  private level = Number.NEGATIVE_INFINITY;

  constructor(
    rising: Rising,
    private readonly host: FillHost,
    /** Where the first step was taken without the fill (allocation/fill-first-step.ts). */
    private readonly after?: AfterFirstStep,
  ) {
    this.ks = rising.ks;
    this.lo = rising.lo;
    this.hi = rising.hi;
    this.count = rising.count;
    if (after) this.level = after.level;
  }

  run(): void {
    const count = this.count;
    if (count === 0) return;
    // One more entry: the member the first step's ghosts belong to, stopped from the start.
    this.stopped = new Uint8Array(count + 1);
    this.stopped[count] = 1;
    this.rising = count;
    this.p = new FillPieces(
      this.ks.subarray(0, count),
      this.lo.subarray(0, count),
      this.hi.subarray(0, count),
      this.host.terms,
      this.host.capacity.length,
      this.after,
    );
    this.startCursors();
    const byHiDown = this.p.byMaximumDown();
    const byHiUp = byHiDown.slice().reverse();
    const { pm, byC, cStart, global } = this.p;
    let down = 0;
    let up = 0;
    while (this.rising > 0) {
      const tStar = this.heap.peek(this.version) ? this.heap.topT : Number.POSITIVE_INFINITY;
      while (down < count && this.stopped[byHiDown[down] ?? 0]) down++;
      const highest = this.hi[byHiDown[down] ?? 0] ?? Number.NEGATIVE_INFINITY;
      if (tStar >= highest - ALLOCATION_EPS) {
        for (let m = 0; m < count; m++) if (!this.stopped[m]) this.stopAt(m, this.hi[m] ?? 0, AT_MAX);
        break;
      }
      this.level = Math.max(this.level, tStar);
      const dirty = this.dirty;
      dirty.length = 0;
      const reached: number[] = [];
      while (up < count && (this.hi[byHiUp[up] ?? 0] ?? 0) <= this.level + ALLOCATION_EPS) {
        const m = byHiUp[up++] ?? 0;
        if (!this.stopped[m]) reached.push(m);
      }
      reached.sort((a, b) => a - b);
      for (const m of reached) this.stopAt(m, this.hi[m] ?? 0, AT_MAX, dirty);
      const tight = this.heap.popUpTo(this.level + ALLOCATION_EPS, this.version);
      tight.sort((a, b) => a - b);
      for (const c of tight) {
        this.done[c] = 1;
        const bound = this.host.bound(global[c] ?? 0);
        for (let i = cStart[c] ?? 0; i < (cStart[c + 1] ?? 0); i++) {
          const m = pm[byC[i] ?? 0] ?? 0;
          if (this.stopped[m]) continue;
          this.stopAt(m, clamp(this.level, this.lo[m] ?? 0, this.hi[m] ?? 0), bound, dirty);
        }
      }
      for (const c of dirty) {
        this.isDirty[c] = 0;
        if (!this.done[c]) this.solve(c);
      }
    }
  }

  /**
   * Every constraint's cursor at its start, solved (queued at the level it becomes tight). After a
   * first step taken without the fill, each cursor starts where that step left it.
   */
  private startCursors(): void {
    const constraints = this.p.global.length;
    this.cursor = new Int32Array(constraints);
    this.curB = new Int32Array(constraints).fill(NONE);
    this.value = new Float64Array(constraints);
    this.slope = new Float64Array(constraints);
    this.done = new Uint8Array(constraints);
    this.version = new Int32Array(constraints);
    this.isDirty = new Uint8Array(constraints);
    const { breakpoints, evPiece, evUp, pLB, pHB } = this.p;
    const after = this.after;
    for (let c = 0; c < constraints; c++) {
      const j = this.p.global[c] ?? 0;
      let i = this.p.eStart[c] ?? 0;
      if (after) {
        // Past every event at or below the breakpoint that step's cursor stopped at.
        const first = after.local[j] ?? 0;
        const at = after.position[first] ?? 0;
        const end = this.p.eStart[c + 1] ?? 0;
        for (; i < end; i++) {
          const p = evPiece[i] ?? 0;
          const b = evUp[i] ? (pLB[p] ?? 0) : (pHB[p] ?? 0);
          if ((breakpoints[b] ?? 0) > at) break;
          this.curB[c] = b;
        }
        this.value[c] = after.value[first] ?? 0;
        this.slope[c] = after.slope[first] ?? 0;
      } else this.value[c] = this.host.usage[j] ?? 0;
      this.cursor[c] = i;
      this.solve(c);
    }
  }

  /** Moves constraint c's cursor to where it becomes tight, and queues that level. */
  private solve(c: number): void {
    const { breakpoints, evPiece, evUp, pLB, pHB, pm, pCoef } = this.p;
    const j = this.p.global[c] ?? 0;
    const capacity = this.host.capacity[j] ?? 0;
    let t = Number.POSITIVE_INFINITY;
    if ((this.host.usage[j] ?? 0) > capacity + ALLOCATION_EPS) t = Number.NEGATIVE_INFINITY;
    else {
      const end = this.p.eStart[c + 1] ?? 0;
      let i = this.cursor[c] ?? 0;
      let b = this.curB[c] ?? NONE;
      let value = this.value[c] ?? 0;
      let slope = this.slope[c] ?? 0;
      while (i < end) {
        const p = evPiece[i] ?? 0;
        const nb = evUp[i] ? (pLB[p] ?? 0) : (pHB[p] ?? 0);
        const nextAt = breakpoints[nb] ?? 0;
        if (nb !== b) {
          if (slope > ALLOCATION_EPS) {
            const position = breakpoints[b] ?? Number.NEGATIVE_INFINITY;
            const reach = position + (capacity - value) / slope;
            if (reach < nextAt) {
              t = reach;
              break;
            }
            value += slope * (nextAt - position);
          }
          b = nb;
        }
        if (!this.stopped[pm[p] ?? 0]) slope += evUp[i] ? (pCoef[p] ?? 0) : -(pCoef[p] ?? 0);
        i++;
      }
      this.cursor[c] = i;
      this.curB[c] = b;
      this.value[c] = value;
      this.slope[c] = slope;
    }
    this.version[c] = (this.version[c] ?? 0) + 1;
    this.heap.push(t, c, this.version[c] ?? 0);
  }

  /** Member m stops at `value`: its pieces leave their constraints' cursors. */
  private stopAt(m: number, value: number, bound: Bound, dirty?: number[]): void {
    const { pieceStart, pc, pL, pH, pCoef, pLB, pHB, breakpoints } = this.p;
    this.stopped[m] = 1;
    this.rising--;
    const lo = this.lo[m] ?? 0;
    const hi = this.hi[m] ?? 0;
    for (let p = pieceStart[m] ?? 0; p < (pieceStart[m + 1] ?? 0); p++) {
      const c = pc[p] ?? 0;
      if (dirty && !this.isDirty[c]) {
        this.isDirty[c] = 1;
        dirty.push(c);
      }
      if (this.done[c]) continue;
      const l = pL[p] ?? 0;
      const h = pH[p] ?? 0;
      const coef = pCoef[p] ?? 0;
      const b = this.curB[c] ?? NONE;
      const started = b >= (pLB[p] ?? 0);
      const ended = b >= (pHB[p] ?? 0);
      const counted = !started ? l : ended ? h : (breakpoints[b] ?? l);
      this.value[c] = (this.value[c] ?? 0) + coef * (Math.max(l, value) - counted);
      if (started && !ended) this.slope[c] = (this.slope[c] ?? 0) - coef;
    }
    this.host.stop(this.ks[m] ?? 0, Math.max(lo, value), value >= hi - ALLOCATION_EPS ? AT_MAX : bound);
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
