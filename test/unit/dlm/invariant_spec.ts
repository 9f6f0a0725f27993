import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AllocationProblem } from '../../../lib/dlm/allocation/allocate';
import { checkAllocation } from '../../../lib/dlm/allocation/invariant';
import type { GridPhase, Triple } from '../../../lib/dlm/site';

/**
 * checkAllocation with floors that replace the problem's (the hold's worst case,
 * control/pending-decreases.ts) against checkAllocation of a copy of the problem with those floors, on
 * random trees, limits (0, tiny, not a number, negative) and floors.
 */

const amps = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 400 }).map((v) => v / 10) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 1e-7, -1, Number.NaN) },
);
const triple: fc.Arbitrary<Triple> = fc.tuple(amps, amps, amps);
const phaseSet = fc.constantFrom<GridPhase[]>([0, 1, 2], [0], [1], [2], [0, 1], [1, 2]);

const caseArbitrary = fc
  .record({
    parents: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    capacities: fc.array(triple, { minLength: 5, maxLength: 5 }),
    unbalances: fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { freq: 2 }), {
      minLength: 5,
      maxLength: 5,
    }),
    powers: fc.array(fc.option(fc.integer({ min: 0, max: 40_000 }), { freq: 2 }), {
      minLength: 5,
      maxLength: 5,
    }),
    connectors: fc.array(
      fc.record({
        circuit: fc.nat(),
        wants: fc.boolean(),
        phases: phaseSet,
        unbalancePhases: fc.option(phaseSet, { freq: 3 }),
        maxA: fc.integer({ min: 0, max: 32 }),
        floorA: triple,
        limit: amps,
        raised: fc.option(triple, { freq: 2 }),
      }),
      { maxLength: 12 },
    ),
  })
  .map(({ parents, capacities, unbalances, powers, connectors }) => {
    const circuitCount = parents.length;
    const parent = (c: number) => (c === 0 ? -1 : (parents[c] ?? 0) % c);
    const pathOf = (c: number) => {
      const path: number[] = [];
      for (let at = c; at >= 0; at = parent(at)) path.push(at);
      return path;
    };
    const problem: AllocationProblem = {
      voltageV: 230,
      stepA: 0.1,
      startMarginA: 1,
      pvBudgetW: Number.POSITIVE_INFINITY,
      circuits: parents.map((_, c) => ({
        capacityA: capacities[c] as Triple,
        capacityW: powers[c] ?? Number.POSITIVE_INFINITY,
        chargersCapacityW: Number.POSITIVE_INFINITY,
        unbalanceLimitA: unbalances[c] ?? Number.POSITIVE_INFINITY,
      })),
      connectors: connectors.map((connector, k) => ({
        path: pathOf(connector.circuit % circuitCount),
        wants: connector.wants,
        phases: connector.phases,
        ...(connector.unbalancePhases ? { unbalancePhases: connector.unbalancePhases } : {}),
        minA: 6,
        maxA: connector.maxA,
        priority: 0,
        keepRank: k,
        keepOn: false,
        starting: false,
        floorA: connector.floorA,
        pv: false,
      })),
    };
    return {
      problem,
      limits: connectors.map((connector) => connector.limit),
      raised: connectors.map((connector) => connector.raised ?? undefined),
    };
  });

describe('checkAllocation with floorsA', () => {
  it('finds what it finds for a copy of the problem with those floors', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ problem, limits, raised }) => {
        const worst = checkAllocation(problem, limits, raised);
        const copy: AllocationProblem = {
          ...problem,
          connectors: problem.connectors.map((demand, k) => {
            const floorA = raised[k];
            return floorA ? { ...demand, floorA } : demand;
          }),
        };
        assert.deepEqual(worst, checkAllocation(copy, limits));
      }),
      { numRuns: 3000 },
    );
  });
});
