/**
 * The progressive fill's setup (allocation/fill.ts): the pieces, one per member term that can
 * change (member m, local constraint c, coefficient, lo and hi lifted to the term's floor),
 * grouped by member and by constraint, and each constraint's breakpoint events in ascending order.
 *
 * Breakpoints are numbered in ascending order (few distinct values in practice: 0, the minimum,
 * the maxima and floors), so each constraint's breakpoints come out sorted by a counting sort.
 */
import { isPiece } from './fill-host';
import type { Terms } from './state';
import { floorOf } from './terms';

const NONE = -1;

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
