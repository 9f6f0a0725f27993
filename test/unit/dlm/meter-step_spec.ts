import assert from 'node:assert/strict';
import { type ChargersDrew, explainRise } from '../../../lib/dlm/evidence/charger-draw';
import type { MeterRuntime } from '../../../lib/dlm/evidence/measurements';
import { type MeterRoom, meterFewestPhases, noteMeterRoom } from '../../../lib/dlm/evidence/meter-phases';
import type { Triple } from '../../../lib/dlm/phases';
import type { Connector } from '../../../lib/dlm/site/model';
import { parseSite } from '../../../lib/dlm/site/validate';

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
    registerSurelyA: new Map(),
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

describe('a car read by its energy register, its phases told by a meter that counts it', () => {
  const site = parseSite({
    circuits: [{ id: 'home', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } }],
    connectors: [{ chargePointId: 'U', circuit: 'home' }],
  });
  const connector = site.connectors[0] as Connector;
  // 11 kW over 50 s: 16 A on three phases or 23.9 A on two (one phase is above its 32 A).
  const energy = {
    counts: [
      { phases: 2, leastA: 23.9, mostA: 24.0 },
      { phases: 3, leastA: 15.9, mostA: 16.0 },
    ],
    fromMs: 100_000,
    atMs: 150_000,
  };
  const read = (roomA: (atMs: number) => Triple, fromMs = 95_000, toMs = 151_000) => {
    const session: { meterRoom?: MeterRoom[] } = {};
    for (let t = fromMs; t <= toMs; t += 1000) noteMeterRoom(session, t, roomA(t));
    return session;
  };

  it('rules out two phases where the meter never left it that much on one of them', () => {
    // The house draws 3 A: the meter leaves it 19 A a phase, never the 23.9 A two phases would put there.
    assert.equal(
      meterFewestPhases(
        connector,
        read(() => [19, 19, 19]),
        energy,
      ),
      3,
    );
    // A second of the house at 8 A more on each phase: 27 A left, two phases fit then.
    const peak = read((t) => (t === 120_000 ? [27, 27, 27] : [19, 19, 19]));
    assert.equal(meterFewestPhases(connector, peak, energy), undefined);
    // The phase two would leave alone does not tell: 19 A there, 30 A on the two they use.
    assert.equal(
      meterFewestPhases(
        connector,
        read(() => [30, 30, 19]),
        energy,
      ),
      undefined,
    );
  });

  it('tells nothing of an interval the meter did not read all of', () => {
    assert.equal(
      meterFewestPhases(
        connector,
        read(() => [19, 19, 19], 125_000),
        energy,
      ),
      undefined,
    );
    const gap = read(() => [19, 19, 19]);
    gap.meterRoom = gap.meterRoom?.filter((room) => room.toMs < 110_000 || room.fromMs > 135_000);
    assert.equal(meterFewestPhases(connector, gap, energy), undefined);
  });
});
