import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AllocationProblem, Bound, ConnectorDemand } from '../../../lib/dlm/allocation/allocate';
import { type FirstStep, progressiveFill } from '../../../lib/dlm/allocation/fill';
import type { FillHost } from '../../../lib/dlm/allocation/fill-host';
import { AllocationLayout, type Terms } from '../../../lib/dlm/allocation/layout';
import { floorOf } from '../../../lib/dlm/allocation/terms';
import type { GridPhase } from '../../../lib/dlm/phases';
import { seededRandom } from '../../../sim/fleet';

/**
 * The progressive fill's first step taken without the fill (allocation/fill-first-step.ts) must be
 * the fill's own to the last bit: the same stops, in the same order, at the same doubles, held by
 * the same bounds. The answers of allocate() are rounded to the step and would hide a difference
 * in the last bits (a fill without the first step's ghost breakpoints passes every allocate()
 * comparison), so each stop is compared here as the fill reports it.
 *
 * The problems are made for it: constraints full but for rounding (where the first step stops most
 * members at once), just full, over, or with room; limits, maxima and floors that are not whole
 * numbers; power limits (coefficient: the voltage) and sometimes a voltage that is not a whole
 * number (then the first step is left to the fill).
 */

interface Stop {
  k: number;
  value: number;
  bound: number;
}

/** A tree (a root, subs, lines) with random connectors, and a limit for each to rise from. */
function randomCase(seed: number): { problem: AllocationProblem; limits: Float64Array } {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const subs = 1 + Math.floor(random() * 3);
  const lines = subs * (1 + Math.floor(random() * 3));
  const circuitCount = 1 + subs + lines;
  const parentOf = (c: number) => (c === 0 ? -1 : c <= subs ? 0 : 1 + ((c - subs - 1) % subs));
  const pathOf = (c: number): number[] => (c < 0 ? [] : [c, ...pathOf(parentOf(c))]);
  const count = 5 + Math.floor(random() * 150);
  // A few values per case, as at a site (more distinct breakpoints: the first step is the fill's).
  const maxima = [16, 32, 6 + random() * 26];
  const limitsFrom = [6, 6, 6 + 1e-13, 6 + random() * 10, 6 + random() * 10];
  const floors = [random() * 12, random() * 12];
  const connectors: ConnectorDemand[] = [];
  const limits = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const maxA = pick(maxima);
    const floor = random() < 0.1 ? pick(floors) : 0;
    const phases = pick<GridPhase[]>([[0, 1, 2], [0, 1, 2], [0], [1], [2], [0, 1]]);
    connectors.push({
      path: pathOf(1 + subs + Math.floor(random() * lines)),
      wants: true,
      phases,
      minA: 6,
      maxA,
      priority: 0,
      keepRank: k,
      keepOn: false,
      starting: false,
      floorA: [floor, random() < 0.05 ? pick(floors) : 0, 0],
      pv: random() < 0.2,
    });
    limits[k] = random() < 0.1 ? maxA : Math.min(maxA, pick(limitsFrom));
  }
  const problem: AllocationProblem = {
    voltageV: random() < 0.9 ? 230 : 230.5,
    stepA: 0.1,
    startMarginA: 0,
    pvBudgetW: random() < 0.3 ? 1 : Number.POSITIVE_INFINITY,
    circuits: Array.from({ length: circuitCount }, () => ({
      capacityA: [1, 1, 1],
      capacityW: random() < 0.2 ? 1 : Number.POSITIVE_INFINITY,
      chargersCapacityW: random() < 0.1 ? 1 : Number.POSITIVE_INFINITY,
      unbalanceLimitA: Number.POSITIVE_INFINITY,
    })),
    connectors,
  };
  // Capacities from the usage at these limits: full but for rounding, just full, over, or room.
  const usage = usageAt(new AllocationLayout(problem), limits);
  const probe = new AllocationLayout(problem);
  const room = (j: number) => {
    const used = usage[j] ?? 0;
    const scale = probe.bounds[j]?.kind === 'phase' ? 1 : problem.voltageV;
    return pick([
      used + 1e-10 * scale,
      used + 3e-12 * used,
      used,
      used - scale,
      used + random() * 5 * scale,
      used + random() * 200 * scale,
    ]);
  };
  probe.bounds.forEach((constraint, j) => {
    if (constraint.kind === 'pv') {
      problem.pvBudgetW = room(j);
      return;
    }
    const circuit = problem.circuits[constraint.circuit];
    if (!circuit) return;
    if (constraint.kind === 'phase') circuit.capacityA[constraint.phase] = room(j);
    else if (constraint.kind === 'power') circuit.capacityW = room(j);
    else circuit.chargersCapacityW = room(j);
  });
  return { problem, limits };
}

/**
 * Adds to `usage` what connector k's terms change when its limit goes from `from` to `to`, as the
 * allocator sums it. (The terms listed are those on a phase the limit loads: the others count
 * their floor only, which the floors' usage holds.)
 */
function addChange(terms: Terms, usage: Float64Array, k: number, from: number, to: number): void {
  const { start, constraint, coef } = terms;
  for (let i = start[k] ?? 0; i < (start[k + 1] ?? 0); i++) {
    const j = constraint[i] ?? 0;
    const c = coef[j] ?? 0;
    const f = floorOf(terms, k, i);
    usage[j] = (usage[j] ?? 0) + (c * Math.max(f, to) - c * Math.max(f, from));
  }
}

/** Every constraint's usage with the connectors at `limits`, summed as the allocator sums it. */
function usageAt(layout: AllocationLayout, limits: Float64Array): Float64Array {
  const usage = layout.floorUsage.slice();
  limits.forEach((a, k) => {
    addChange(layout.terms, usage, k, 0, a);
  });
  return usage;
}

/** The fill over every connector from `limits`, its host changing limits and usage as the allocator's does. */
function stopsOf(problem: AllocationProblem, limits: Float64Array, first: FirstStep): Stop[] {
  const layout = new AllocationLayout(problem);
  const limit = limits.slice();
  const usage = usageAt(layout, limit);
  const stops: Stop[] = [];
  const bounds: readonly Bound[] = layout.bounds;
  const boundIndex = (bound: Bound) => bounds.indexOf(bound);
  const host: FillHost = {
    limit,
    maxA: layout.flat.maxA,
    terms: layout.terms,
    capacity: layout.capacity,
    usage,
    bound: (j) => layout.bounds[j] ?? { kind: 'max' },
    stop: (k, value, bound) => {
      stops.push({ k, value, bound: boundIndex(bound) });
      const before = limit[k] ?? 0;
      if (value === before) return;
      addChange(layout.terms, usage, k, before, value);
      limit[k] = value;
    },
    atMax: (k) => stops.push({ k, value: Number.NaN, bound: -2 }),
  };
  progressiveFill(
    problem.connectors.map((_, k) => k),
    host,
    first,
  );
  return stops;
}

describe('progressive fill: the first step taken without the fill', () => {
  it('gives every stop the fill gives, bit for bit, in the same order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const { problem, limits } = randomCase(seed);
        const without = stopsOf(problem, limits, 'never');
        const taken = stopsOf(problem, limits, 'always');
        assert.equal(taken.length, without.length);
        taken.forEach((stop, n) => {
          const other = without[n];
          assert.ok(
            other && stop.k === other.k && Object.is(stop.value, other.value) && stop.bound === other.bound,
            `stop ${n}: ${JSON.stringify(stop)} against the fill's ${JSON.stringify(other)}`,
          );
        });
      }),
      { numRuns: 400 },
    );
  });
});
