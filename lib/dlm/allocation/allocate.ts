/**
 * The allocator core: a pure function from budgets and demands to one current limit per
 * connector. No clock, no state, no I/O: the same problem always gives the same answer.
 *
 * THE SAFETY INVARIANT this function guarantees (and `checkAllocation` in allocation/invariant.ts verifies):
 * for every circuit c and every grid phase p,
 *
 *   Σ over connectors k below c of max(limit_k if k loads p else 0, floor_k,p)  ≤  capacity_c,p
 *
 * where capacity_c,p = limit − headroom − counted other loads (computed by the caller), unless
 * the floors alone (current we do not control) already exceed it, in which case every connector
 * below c that loads p gets 0. The same holds for a circuit's power limit (Σ over phases × V) and
 * for a limit on the chargers' own power. No limit lies strictly between 0 and the connector's
 * minimum. Only +∞ means "no limit": a capacity that is not a number (NaN) or −∞ counts as −∞
 * (nothing fits), an unbalance limit that is not a number as 0, and a floor that is not a number
 * as unbounded (a current we cannot bound fills every circuit above it).
 *
 * Why it holds: (1) minimums are admitted one connector at a time and only when every constraint
 * on the connector's path still holds with it; (2) the rest is shared by progressive filling, which
 * raises allocations only up to the level at which the first constraint becomes tight and then
 * freezes every connector in that constraint; (3) the unbalance fix-up and rounding only lower
 * allocations (or pause), and lowering never breaks a capacity constraint.
 */

import { type Admissions, Allocator, type OverLimit } from './allocator';
import { AllocationLayout } from './layout';
import { type Allocation, type AllocationProblem, type Bound, sanitized } from './problem';

export type {
  Allocation,
  AllocationProblem,
  Bound,
  CircuitBudget,
  ConnectorAllocation,
  ConnectorDemand,
} from './problem';

/** Computes every connector's limit. Pure and deterministic. */
export function allocate(input: AllocationProblem): Allocation {
  const problem = sanitized(input);
  // When the unbalance fix-up has to pause connectors, the capacity they held may fit someone
  // paused earlier: start over without them (each round excludes at least one more).
  const excluded = new Map<number, Bound>();
  // Constraints, terms, floors and keep order are the same in every round: built once.
  const layout = new AllocationLayout(problem);
  let admissions: Admissions | undefined;
  // Where a round ended with a circuit's unbalance still over its limit (what nobody can lower
  // holds it there), a connector that would widen that gap further is paused by the fix-up
  // whenever it is admitted; the next round refuses all of those at once instead of one per round.
  let overLimit: OverLimit = new Map();
  let batching = true;
  for (;;) {
    const allocator = new Allocator(problem, excluded, layout);
    const allocation = allocator.run(admissions, overLimit);
    let over: OverLimit | undefined;
    const endedOver = () => {
      over ??= allocator.overUnbalanceLimit();
      return over;
    };
    if (!allocator.refusalsHeld(endedOver)) {
      // A refused connector would not have widened the gap this round ended with: once more
      // from the start, one exclusion at a time.
      batching = false;
      excluded.clear();
      admissions = undefined;
      overLimit = new Map();
      continue;
    }
    if (allocator.unbalancePaused.size === 0 || excluded.size >= problem.connectors.length) return allocation;
    for (const [k, bound] of allocator.unbalancePaused) excluded.set(k, bound);
    admissions = allocator.admissions;
    if (batching) overLimit = endedOver();
  }
}
