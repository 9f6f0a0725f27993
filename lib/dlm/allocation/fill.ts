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
 * constraints, where scanning every constraint again after each stop cost O(P × C). The pieces
 * and breakpoints are built in allocation/fill-pieces.ts, the heap is allocation/fill-heap.ts.
 * Where the first step stops most members at once (a constraint full but for rounding, as at
 * scale after a higher tier or the unbalance fix-up), allocation/fill-first-step.ts takes that
 * step without building their pieces, to the same last bit, and the fill goes on from there.
 */

import { type AfterFirstStep, firstStep } from './fill-first-step';
import { TightHeap } from './fill-heap';
import { type FillHost, isPiece, type Rising } from './fill-host';
import { FillPieces } from './fill-pieces';
import { AT_MAX, type Bound } from './problem';
import { ALLOCATION_EPS } from './state';

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

const NONE = -1;

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
