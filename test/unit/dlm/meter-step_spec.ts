import assert from 'node:assert/strict';
import { type AllocationProblem, allocate } from '../../../lib/dlm/allocation/allocate';
import { type ChargersDrew, explainRise } from '../../../lib/dlm/evidence/charger-draw';
import type { MeterRuntime } from '../../../lib/dlm/evidence/measurements';
import type { Triple } from '../../../lib/dlm/phases';

/**
 * What a meter that counts the chargers tells of a charger no current reading shows: the rise it
 * counts as other loads where raises are open, and the start of a charger seen drawing more than
 * told (issue 45, closed-loop seed 20261201 paths 6014 and 7361: closed-loop-fixed/).
 */
describe('a meter that counts the chargers, raises open below it', () => {
  const drew = (raisedA: number, atLeastA = 0): ChargersDrew => ({
    atLeastA: [atLeastA, atLeastA, atLeastA],
    surelyA: [atLeastA, atLeastA, atLeastA],
    raisedA: [raisedA, raisedA, raisedA],
    mayDrawMoreA: [raisedA, raisedA, raisedA],
    blindRaiseOf: [-1, -1, -1],
  });

  it("counts a sample's rise as other loads once a charger's reading since shows its raise had not landed", () => {
    const meter = {} as MeterRuntime;
    // What the chargers' raises allowed at each sample, as their readings tell it now.
    const room = new Map<number, number>([[998_000, 0]]);
    const drewAt = (atMs: number) => drew(room.get(atMs) ?? 0);
    assert.equal(explainRise(meter, 0, 0, drewAt, 998_000).counted, 0);
    // The meter rose 10.6 A; three raises open then allowed 9.4 A: 1.2 A of other loads.
    room.set(1_000_000, 9.4);
    const first = explainRise(meter, 0, 10.6, drewAt, 1_000_000);
    assert.ok(Math.abs(first.counted - 1.2) < 1e-9, `${first.counted}`);
    assert.ok(Math.abs((first.beyondRoomA ?? 0) - 1.2) < 1e-9);
    // A reading of one of them (1.8 A of that room) shows it had not taken its raise by then: that
    // sample's rise left 3.0 A to the other loads, and the next sample, its raise still open, counts
    // from there (before: 1.2 A, until the charger took its raise and the meter rose again).
    room.set(1_000_000, 7.6);
    room.set(1_002_000, 9.4);
    const next = explainRise(meter, 0, 10.6, drewAt, 1_002_000);
    assert.ok(Math.abs(next.counted - 3.0) < 1e-9, `${next.counted}`);
    assert.equal(next.beyondRoomA, undefined, 'no rise of its own beyond the room: the sample before had it');
    // A reading never makes the room larger than it was: the count never falls for it.
    room.set(1_002_000, 20);
    room.set(1_004_000, 9.4);
    assert.ok(Math.abs(explainRise(meter, 0, 10.6, drewAt, 1_004_000).counted - 3.0) < 1e-9);
  });
});

describe('a paused charger seen drawing more than told', () => {
  const problem = (capacityA: number, startExtraA: number | undefined): AllocationProblem => ({
    voltageV: 230,
    stepA: 0.1,
    startMarginA: 1,
    pvBudgetW: Number.POSITIVE_INFINITY,
    circuits: [
      {
        capacityA: [capacityA, capacityA, capacityA] as Triple,
        capacityW: Number.POSITIVE_INFINITY,
        chargersCapacityW: Number.POSITIVE_INFINITY,
        unbalanceLimitA: Number.POSITIVE_INFINITY,
      },
    ],
    connectors: [
      {
        path: [0],
        wants: true,
        phases: [0, 1, 2],
        minA: 6,
        maxA: 16,
        priority: 0,
        keepRank: 0,
        keepOn: false,
        starting: true,
        startExtraA,
        floorA: [0, 0, 0],
        pv: false,
      },
    ],
  });

  it('starts only where its minimum, the start margin and what it draws above a set-point fit', () => {
    // 8 A left (a 40 A breaker, 32 A counted beside it): 6 A and the 1 A margin fit, 6 + 3 A do not.
    assert.equal(allocate(problem(8, undefined)).connectors[0]?.limitA, 8);
    assert.equal(allocate(problem(8, 3)).connectors[0]?.limitA, 0);
    assert.equal(allocate(problem(10, 3)).connectors[0]?.limitA, 10, 'its own limit is not lowered by it');
    assert.equal(
      allocate(problem(100, Number.NaN)).connectors[0]?.limitA,
      0,
      'not a number: it does not start',
    );
  });
});
