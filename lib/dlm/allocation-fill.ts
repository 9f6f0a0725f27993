/**
 * Progressive filling, the allocator's step 2 (allocate.ts): the members of one priority tier
 * rise together at a common level t, each between its current limit (lo) and its maximum (hi);
 * when a constraint becomes tight every member in it stops there, the others go on.
 *
 * A constraint's usage as a function of t is piecewise linear,
 *   F(t) = usage + Σ over members still rising of coef × (clamp(t, l, h) − l),
 * with l and h the member's lo and hi lifted to its floor on that phase. The level only rises, so
 * each constraint keeps a cursor (last breakpoint passed, F there, slope) that moves forward only;
 * a member that stops is taken out of the cursors of its constraints in O(1) each. With a heap
 * for the next constraint to become tight, one fill costs O(P log C) for P member terms and C
 * constraints, where scanning every constraint again after each stop cost O(P × C).
 *
 * Breakpoints are numbered in ascending order (few distinct values in practice: 0, the minimum,
 * the maxima and floors), so each constraint's breakpoints come out sorted by a counting sort.
 */
import type { Bound } from './allocation-problem';
import { ALLOCATION_EPS, type Terms } from './allocation-state';

/** What the fill needs of the allocator. */
export interface FillHost {
  /** The member's limit now, where it starts rising. */
  limitOf(k: number): number;
  maxOf(k: number): number;
  readonly terms: Terms;
  /** Per constraint: its capacity and its usage now. */
  readonly capacity: Float64Array;
  readonly usage: Float64Array;
  /** What constraint j is called as a bound. */
  bound(j: number): Bound;
  /** The member stops at `value` (≥ its limit), held by `bound` (or at its maximum). */
  stop(k: number, value: number, bound: Bound): void;
  /** The member cannot rise at all (its maximum is its limit). */
  atMax(k: number): void;
}

export function progressiveFill(members: readonly number[], host: FillHost): void {
  new Fill(members, host).run();
}

const NONE = -1;

class Fill {
  // Members still rising, in the order given (m = local index).
  private readonly ks: number[] = [];
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  private stopped!: Uint8Array;
  private rising = 0;
  // Pieces: one per member term that can still change (member m, local constraint c).
  private pieces = 0;
  private pm!: Int32Array;
  private pc!: Int32Array;
  private pCoef!: Float64Array;
  private pL!: Float64Array;
  private pH!: Float64Array;
  private pLB!: Int32Array;
  private pHB!: Int32Array;
  /** Pieces of member m: pieceStart[m] ..< pieceStart[m + 1]. */
  private pieceStart!: Int32Array;
  // Local constraints, numbered in order of first appearance (the order ties are resolved in).
  private readonly global: number[] = [];
  /** Pieces of constraint c in member order: byC[cStart[c] ..< cStart[c + 1]]. */
  private cStart!: Int32Array;
  private byC!: Int32Array;
  /** Breakpoint events of constraint c in ascending order: evPiece/evUp at eStart[c] ..< eStart[c + 1]. */
  private eStart!: Int32Array;
  private evPiece!: Int32Array;
  private evUp!: Uint8Array;
  private breakpoints: number[] = [];
  /** Per member: the breakpoint of its maximum. */
  private hiB!: Int32Array;
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
    members: readonly number[],
    private readonly host: FillHost,
  ) {
    for (const k of members) {
      const lo = host.limitOf(k);
      const hi = Math.max(lo, host.maxOf(k));
      if (hi - lo <= ALLOCATION_EPS) {
        host.atMax(k);
        continue;
      }
      this.ks.push(k);
      this.lo.push(lo);
      this.hi.push(hi);
    }
  }

  run(): void {
    const count = this.ks.length;
    if (count === 0) return;
    this.stopped = new Uint8Array(count);
    this.rising = count;
    this.buildPieces();
    this.buildEvents();
    // (The setup in methods of their own: one long method is compiled in pieces and thrown away again.)
    this.startCursors();
    const byHiDown = this.byMaximumDown();
    const byHiUp = byHiDown.slice().reverse();
    let down = 0;
    let up = 0;
    while (this.rising > 0) {
      const tStar = this.heap.peek(this.version) ? this.heap.topT : Number.POSITIVE_INFINITY;
      while (down < count && this.stopped[byHiDown[down] ?? 0]) down++;
      const highest = this.hi[byHiDown[down] ?? 0] ?? Number.NEGATIVE_INFINITY;
      if (tStar >= highest - ALLOCATION_EPS) {
        for (let m = 0; m < count; m++)
          if (!this.stopped[m]) this.stopAt(m, this.hi[m] ?? 0, { kind: 'max' });
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
      for (const m of reached) this.stopAt(m, this.hi[m] ?? 0, { kind: 'max' }, dirty);
      const tight = this.heap.popUpTo(this.level + ALLOCATION_EPS, this.version);
      tight.sort((a, b) => a - b);
      for (const c of tight) {
        this.done[c] = 1;
        const bound = this.host.bound(this.global[c] ?? 0);
        for (let i = this.cStart[c] ?? 0; i < (this.cStart[c + 1] ?? 0); i++) {
          const m = this.pm[this.byC[i] ?? 0] ?? 0;
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

  /** Every constraint's cursor at its start, solved (queued at the level it becomes tight). */
  private startCursors(): void {
    const constraints = this.global.length;
    this.cursor = new Int32Array(constraints);
    this.curB = new Int32Array(constraints).fill(NONE);
    this.value = new Float64Array(constraints);
    this.slope = new Float64Array(constraints);
    this.done = new Uint8Array(constraints);
    this.version = new Int32Array(constraints);
    this.isDirty = new Uint8Array(constraints);
    for (let c = 0; c < constraints; c++) {
      this.cursor[c] = this.eStart[c] ?? 0;
      this.value[c] = this.host.usage[this.global[c] ?? 0] ?? 0;
      this.solve(c);
    }
  }

  /**
   * Members by maximum, highest first, ties by index: for "the highest still rising" and "every
   * member whose maximum is reached" (a counting sort over the maxima's breakpoints).
   */
  private byMaximumDown(): Int32Array {
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

  /** Member terms that can change, grouped by member; constraints numbered as they appear. */
  private buildPieces(): void {
    const terms = this.host.terms;
    const members = this.ks.length;
    let most = 0;
    for (let m = 0; m < members; m++) {
      const k = this.ks[m] ?? 0;
      most += (terms.start[k + 1] ?? 0) - (terms.start[k] ?? 0);
    }
    this.pm = new Int32Array(most);
    this.pc = new Int32Array(most);
    this.pCoef = new Float64Array(most);
    this.pL = new Float64Array(most);
    this.pH = new Float64Array(most);
    this.pieceStart = new Int32Array(members + 1);
    const local = new Int32Array(this.host.capacity.length).fill(NONE);
    let pieces = 0;
    for (let m = 0; m < members; m++) {
      this.pieceStart[m] = pieces;
      const lo = this.lo[m] ?? 0;
      const hi = this.hi[m] ?? 0;
      const k = this.ks[m] ?? 0;
      for (let i = terms.start[k] ?? 0; i < (terms.start[k + 1] ?? 0); i++) {
        if (!terms.loads[i]) continue;
        const floor = terms.floor[i] ?? 0;
        const l = Math.max(floor, lo);
        const h = Math.max(floor, hi);
        if (h - l <= ALLOCATION_EPS) continue;
        const j = terms.constraint[i] ?? 0;
        let c = local[j] ?? NONE;
        if (c === NONE) {
          c = this.global.length;
          local[j] = c;
          this.global.push(j);
        }
        this.pm[pieces] = m;
        this.pc[pieces] = c;
        this.pCoef[pieces] = terms.coef[i] ?? 0;
        this.pL[pieces] = l;
        this.pH[pieces] = h;
        pieces++;
      }
    }
    this.pieceStart[members] = pieces;
    this.pieces = pieces;
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
  }

  /** Each constraint's breakpoint events in ascending order: stops before starts at one breakpoint. */
  private buildEvents(): void {
    const pieces = this.pieces;
    // The breakpoints: every member's lo and hi, and a term's own where its floor lifts them.
    const members = this.ks.length;
    const candidates = new Float64Array(2 * members + 2 * pieces);
    let count = 0;
    for (let m = 0; m < members; m++) {
      candidates[count++] = this.lo[m] ?? 0;
      candidates[count++] = this.hi[m] ?? 0;
    }
    for (let p = 0; p < pieces; p++) {
      const m = this.pm[p] ?? 0;
      if (this.pL[p] !== this.lo[m]) candidates[count++] = this.pL[p] ?? 0;
      if (this.pH[p] !== this.hi[m]) candidates[count++] = this.pH[p] ?? 0;
    }
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
      const lb = this.pL[p] === this.lo[m] ? (loB[m] ?? 0) : bucketOf(this.pL[p] ?? 0);
      const hb = this.pH[p] === this.hi[m] ? (hiB[m] ?? 0) : bucketOf(this.pH[p] ?? 0);
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

  /** Moves constraint c's cursor to where it becomes tight, and queues that level. */
  private solve(c: number): void {
    const j = this.global[c] ?? 0;
    const capacity = this.host.capacity[j] ?? 0;
    let t = Number.POSITIVE_INFINITY;
    if ((this.host.usage[j] ?? 0) > capacity + ALLOCATION_EPS) t = Number.NEGATIVE_INFINITY;
    else {
      const end = this.eStart[c + 1] ?? 0;
      let i = this.cursor[c] ?? 0;
      let b = this.curB[c] ?? NONE;
      let value = this.value[c] ?? 0;
      let slope = this.slope[c] ?? 0;
      while (i < end) {
        const p = this.evPiece[i] ?? 0;
        const nb = this.evUp[i] ? (this.pLB[p] ?? 0) : (this.pHB[p] ?? 0);
        const nextAt = this.breakpoints[nb] ?? 0;
        if (nb !== b) {
          if (slope > ALLOCATION_EPS) {
            const position = this.breakpoints[b] ?? Number.NEGATIVE_INFINITY;
            const reach = position + (capacity - value) / slope;
            if (reach < nextAt) {
              t = reach;
              break;
            }
            value += slope * (nextAt - position);
          }
          b = nb;
        }
        if (!this.stopped[this.pm[p] ?? 0])
          slope += this.evUp[i] ? (this.pCoef[p] ?? 0) : -(this.pCoef[p] ?? 0);
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
    this.stopped[m] = 1;
    this.rising--;
    const lo = this.lo[m] ?? 0;
    const hi = this.hi[m] ?? 0;
    for (let p = this.pieceStart[m] ?? 0; p < (this.pieceStart[m + 1] ?? 0); p++) {
      const c = this.pc[p] ?? 0;
      if (dirty && !this.isDirty[c]) {
        this.isDirty[c] = 1;
        dirty.push(c);
      }
      if (this.done[c]) continue;
      const l = this.pL[p] ?? 0;
      const h = this.pH[p] ?? 0;
      const coef = this.pCoef[p] ?? 0;
      const b = this.curB[c] ?? NONE;
      const started = b >= (this.pLB[p] ?? 0);
      const ended = b >= (this.pHB[p] ?? 0);
      const counted = !started ? l : ended ? h : (this.breakpoints[b] ?? l);
      this.value[c] = (this.value[c] ?? 0) + coef * (Math.max(l, value) - counted);
      if (started && !ended) this.slope[c] = (this.slope[c] ?? 0) - coef;
    }
    this.host.stop(
      this.ks[m] ?? 0,
      Math.max(lo, value),
      value >= hi - ALLOCATION_EPS ? { kind: 'max' } : bound,
    );
  }
}

/** A min-heap of (level, constraint), entries of an older version of a constraint skipped. */
class TightHeap {
  private readonly t: number[] = [];
  private readonly c: number[] = [];
  private readonly v: number[] = [];

  push(t: number, c: number, v: number): void {
    this.t.push(t);
    this.c.push(c);
    this.v.push(v);
    let i = this.t.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Drops entries of older versions from the top; whether a current one is left (then at the top). */
  peek(version: Int32Array): boolean {
    while (this.t.length > 0 && this.v[0] !== version[this.c[0] ?? 0]) this.pop();
    return this.t.length > 0;
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

  private pop(): void {
    const last = this.t.length - 1;
    this.swap(0, last);
    this.t.pop();
    this.c.pop();
    this.v.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.t.length && this.less(left, least)) least = left;
      if (right < this.t.length && this.less(right, least)) least = right;
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

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
