import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AllocationProblem, ConnectorDemand } from '../../../lib/dlm/allocation/allocate';
import { AllocationLayout } from '../../../lib/dlm/allocation/layout';

/**
 * The keep order (who gets a minimum first) against its definition written here as a comparison:
 * inside its minimum on time first, then the higher priority, then the lower rank, then the index.
 * The layout sorts by counting where ranks and priorities allow and by comparison otherwise; both
 * ways must give this order.
 */

function problemOf(
  demands: Pick<ConnectorDemand, 'wants' | 'keepOn' | 'priority' | 'keepRank'>[],
): AllocationProblem {
  return {
    voltageV: 230,
    stepA: 0.1,
    startMarginA: 0,
    pvBudgetW: Number.POSITIVE_INFINITY,
    circuits: [
      {
        capacityA: [100, 100, 100],
        capacityW: Number.POSITIVE_INFINITY,
        chargersCapacityW: Number.POSITIVE_INFINITY,
        unbalanceLimitA: Number.POSITIVE_INFINITY,
      },
    ],
    connectors: demands.map((d) => ({
      ...d,
      path: [0],
      phases: [0, 1, 2],
      minA: 6,
      maxA: 32,
      starting: false,
      floorA: [0, 0, 0],
      pv: false,
    })),
  };
}

function expectedOrder(problem: AllocationProblem, excluded: ReadonlySet<number>): number[] {
  const c = problem.connectors;
  return c
    .map((_, k) => k)
    .filter((k) => c[k]?.wants && !excluded.has(k))
    .sort((a, b) => {
      const x = c[a];
      const y = c[b];
      if (!x || !y) return 0;
      return (
        Number(y.keepOn) - Number(x.keepOn) || y.priority - x.priority || x.keepRank - y.keepRank || a - b
      );
    });
}

const demand = (rank: fc.Arbitrary<number>, priority: fc.Arbitrary<number>) =>
  fc.record({ wants: fc.boolean(), keepOn: fc.boolean(), priority, keepRank: rank });

describe('allocation layout: keep order', () => {
  const cases: [string, fc.Arbitrary<number>, fc.Arbitrary<number>][] = [
    [
      'whole ranks below 8 per connector, few priorities (counted)',
      fc.nat(40),
      fc.integer({ min: -2, max: 3 }),
    ],
    ['fractional and negative ranks (compared)', fc.double({ min: -50, max: 50, noNaN: true }), fc.nat(3)],
    ['ranks far above the connector count (compared)', fc.nat(1e9), fc.nat(2)],
    ['more than 64 priorities (compared)', fc.nat(10), fc.integer({ min: 0, max: 10_000 })],
  ];
  for (const [name, rank, priority] of cases) {
    it(`is inside-minimum, priority, rank, index: ${name}`, () => {
      fc.assert(
        fc.property(
          fc.array(demand(rank, priority), { minLength: 0, maxLength: 120 }),
          fc.array(fc.nat(119), { maxLength: 10 }),
          (demands, excludedList) => {
            const problem = problemOf(demands);
            const layout = new AllocationLayout(problem);
            assert.deepEqual(layout.wantingInKeepOrder(new Map()), expectedOrder(problem, new Set()));
            // A later round: the first round's order without the connectors excluded since.
            const excluded = new Map(excludedList.map((k) => [k, { kind: 'max' as const }]));
            assert.deepEqual(
              layout.wantingInKeepOrder(excluded),
              expectedOrder(problem, new Set(excludedList)),
            );
          },
        ),
        { seed: 15, numRuns: 300 },
      );
    });
  }

  it('counts 70 distinct priorities by comparison, 64 by counting, to the same order', () => {
    const demands = Array.from({ length: 140 }, (_, k) => ({
      wants: true,
      keepOn: k % 3 === 0,
      priority: k % 70,
      keepRank: (k * 37) % 140,
    }));
    for (const count of [64, 70]) {
      const problem = problemOf(demands.map((d) => ({ ...d, priority: d.priority % count })));
      assert.deepEqual(
        new AllocationLayout(problem).wantingInKeepOrder(new Map()),
        expectedOrder(problem, new Set()),
      );
    }
  });
});
