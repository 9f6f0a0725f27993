import assert from 'node:assert/strict';
import { type ChargersDrew, explainRise } from '../../../lib/dlm/evidence/charger-draw';
import type { MeterRuntime } from '../../../lib/dlm/evidence/measurements';

/**
 * What a meter that counts the chargers counts as other loads where raises are open below it
 * (issue 45, closed-loop seed 20261201 path 6014: closed-loop-fixed/).
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
