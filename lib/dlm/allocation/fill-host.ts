/**
 * What the progressive fill (allocation/fill.ts), its first step (allocation/fill-first-step.ts)
 * and the constraints' walks (allocation/fill-walks.ts) share: the allocator as the fill sees it,
 * and the members that rise. A module of its own so that none of the three imports another's types.
 */
import type { Bound } from './problem';
import { ALLOCATION_EPS, type Terms } from './state';
import { floorOf } from './terms';

/** What the fill needs of the allocator. */
export interface FillHost {
  /** Per connector: its limit now (where a member starts rising) and its maximum. */
  readonly limit: Float64Array;
  readonly maxA: Float64Array;
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

/** Members that rise (m = local index): the first `count` of these. */
export interface Rising {
  ks: Int32Array;
  lo: Float64Array;
  hi: Float64Array;
  count: number;
}

/**
 * Whether term i of member k rising from `lo` to `hi` is one of the fill's pieces: the rise shows
 * above the term's floor (every term listed loads its phase). The fill's pieces, the held rule
 * before it, its first step and the walks all ask this one question: the first step is the fill's
 * own only while they agree on it.
 */
export function isPiece(terms: Terms, k: number, i: number, lo: number, hi: number): boolean {
  const floor = floorOf(terms, k, i);
  return Math.max(floor, hi) - Math.max(floor, lo) > ALLOCATION_EPS;
}
