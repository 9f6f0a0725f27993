/**
 * The unbalance fix-up's arithmetic (allocation/allocate.ts): which phases make a circuit's phase gap, and
 * the common cap that lowers a set of connectors by a given amount.
 */
import type { GridPhase, Triple } from '../phases';

/**
 * The cap s with Σ max(0, a_k − max(s, min_k)) = amount, by bisection from 0 to `hi`. A term is
 * +0 (the sum stays the same to the last bit without it) where a_k ≤ min_k, left out by the caller,
 * and from the step the bisection's low end reaches a_k on (every later midpoint is at or above it).
 * `limits` and `minimums` are its scratch: it drops those terms from them in place.
 */
export function capFor(limits: Float64Array, minimums: Float64Array, amount: number, hi: number): number {
  let lo = 0;
  let count = limits.length;
  // The midpoints stay at or above the low end only while the high end is not below it.
  const leaves = hi >= lo;
  for (let step = 0; step < 60; step++) {
    const mid = (lo + hi) / 2;
    let cut = 0;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const a = limits[i] ?? 0;
      if (leaves && a <= lo) continue;
      const min = minimums[i] ?? 0;
      limits[kept] = a;
      minimums[kept++] = min;
      cut += Math.max(0, a - Math.max(mid, min));
    }
    count = kept;
    if (cut >= amount) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function argmax(values: Triple): GridPhase {
  return values[1] > values[0] ? (values[2] > values[1] ? 2 : 1) : values[2] > values[0] ? 2 : 0;
}

export function argmin(values: Triple): GridPhase {
  return values[1] < values[0] ? (values[2] < values[1] ? 2 : 1) : values[2] < values[0] ? 2 : 0;
}
