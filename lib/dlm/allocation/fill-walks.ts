/**
 * The progressive fill's walks (allocation/fill.ts, `solve`) for its first step taken without it
 * (allocation/fill-first-step.ts): the members' pieces summed per constraint, as a few distinct
 * breakpoints and the slope change at each, and each constraint walked from its start as the fill
 * walks it. With whole-number coefficients the sums are exact in any order, so the walk's every
 * value is the fill's to the last bit.
 */
import { type FillHost, isPiece, type Rising } from './fill-host';
import { ALLOCATION_EPS } from './state';
import { floorOf } from './terms';

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
