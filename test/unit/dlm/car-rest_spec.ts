import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { harness } from './support';

/**
 * A car that rests on its own (evidence/car-minimum.ts carYields): a 63 A zone whose meter counts
 * the other loads only (none), car A and three cars that take what they are offered. Car A charges
 * until `world.full`, then sits in SuspendedEV as a full car does (SuspendedEVSE once offered nothing).
 */
const OTHERS = ['B', 'C', 'D'];
function carPark(aLast = false) {
  const park = harness({
    circuits: [{ id: 'zone', limitA: 63, meter: { source: 'zone', location: 'otherLoadsOnly' } }],
    connectors: ['A', ...OTHERS].map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
  });
  const world = { full: false, plugged: new Set(['A', ...OTHERS]), otherA: 0 };
  park.feed(() => {
    const offered = park.limit('A/1') ?? 0;
    const drawn = !world.full && offered >= 6 ? offered : 0;
    const status = drawn > 0 ? 'Charging' : offered > 0 || world.full ? 'SuspendedEV' : 'SuspendedEVSE';
    park.draw('A/1', [drawn, drawn, drawn] as PerPhase, status);
    for (const id of OTHERS) {
      if (!world.plugged.has(id)) continue;
      const a = park.limit(`${id}/1`) ?? 0;
      park.draw(`${id}/1`, [a, a, a] as PerPhase, a > 0 ? 'Charging' : 'SuspendedEVSE');
    }
    park.meter('zone', [world.otherA, world.otherA, world.otherA]);
  });
  park.start();
  for (const id of aLast ? [...OTHERS, 'A'] : ['A', ...OTHERS]) {
    // The last to come is the first to be paused when the minimums do not all fit.
    if (aLast && id === 'A') park.run(10_000);
    park.plugIn(`${id}/1`);
  }
  park.run(300_000);
  return { park, world };
}

describe('LoadManager: a car that rests on its own gives way to the charging cars', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('keeps its minimum for a while, then offers it only what the charging cars leave, and takes it back as an ordinary car once it charges', () => {
    const setup = carPark();
    h = setup.park;
    const trail = () =>
      h
        .sentTo('A/1')
        .map((s) => `${s.limitA} ${s.reason}`)
        .join(' | ');
    assert.equal(h.limit('A/1'), 15.7, trail());
    // Full: it stops on its own at a steady 15.7 A. Its minimum is kept for it at first (a car that
    // pauses for a moment takes its current again).
    setup.world.full = true;
    h.run(120_000);
    assert.equal(h.limit('A/1'), 6, trail());
    assert.equal(h.limit('B/1'), 19, 'the others share 63 − 6 A');
    // Rested five minutes: the others share the whole zone, it is offered what they leave (none).
    h.run(240_000);
    assert.equal(h.limit('B/1'), 21, trail());
    assert.equal(h.limit('A/1'), 0, trail());
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /resting \(the car stopped on its own\): its minimum 6 A from what the charging cars leave; for now none/,
    );
    // Two cars leave: D takes its 32 A, the 31 A left give A its minimum again.
    for (const id of ['B', 'C']) {
      setup.world.plugged.delete(id);
      h.unplug(`${id}/1`);
    }
    h.run(120_000);
    assert.equal(h.limit('D/1'), 32, trail());
    assert.equal(h.limit('A/1'), 6, trail());
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /resting \(the car stopped on its own\): its minimum 6 A from what the charging cars leave$/,
    );
    // It charges again (its own timer): an ordinary car, sharing the zone with D again.
    setup.world.full = false;
    h.run(120_000);
    assert.equal(h.limit('A/1'), 31.5, trail());
  });

  it('offers a yielding car its minimum again every 30 min, so a car on its own timer charges on a zone that stays full', () => {
    const setup = carPark();
    h = setup.park;
    const trail = () =>
      h
        .sentTo('A/1')
        .slice(-6)
        .map((s) => `${s.limitA} ${s.reason}`)
        .join(' | ');
    setup.world.full = true;
    h.run(360_000);
    assert.equal(h.limit('A/1'), 0, trail());
    // Its own timer: it would charge now, but offered nothing it cannot show it (SuspendedEVSE).
    setup.world.full = false;
    h.run(600_000);
    assert.equal(h.limit('A/1'), 0, trail());
    // Within its next try (every 30 min, 2 min long) it is offered its minimum, takes it, and is an
    // ordinary car again: it shares the zone with the others.
    h.run(1_800_000);
    assert.equal(h.limit('A/1'), 15.7, trail());
    assert.equal(h.limit('B/1'), 15.7, trail());
  });

  it('counts a car that became full while it was paused as resting once it takes nothing at its minimum', () => {
    const setup = carPark(true);
    h = setup.park;
    const trail = () =>
      h
        .sentTo('A/1')
        .map((s) => `${s.limitA} ${s.reason}`)
        .join(' | ');
    assert.equal(h.limit('A/1'), 15.7, trail());
    // The other loads take 40 A: four minimums do not fit, A (the last to come) is paused, and its
    // battery is full by the time they fall again.
    setup.world.otherA = 40;
    h.run(60_000);
    assert.equal(h.limit('A/1'), 0, trail());
    setup.world.full = true;
    setup.world.otherA = 0;
    h.run(120_000);
    assert.equal(h.limit('A/1'), 6, trail());
    h.run(420_000);
    assert.equal(h.limit('A/1'), 0, trail());
    assert.equal(h.limit('B/1'), 21, trail());
    assert.match(h.setPoint('A/1')?.reason ?? '', /resting \(the car stopped on its own\)/);
  });
});
