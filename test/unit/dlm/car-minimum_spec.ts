import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import { harness } from './support';

/**
 * A car's own minimum, learned for its session (evidence/car-minimum.ts): a home with a grid meter
 * that counts the wallbox, one pv wallbox, and a car that charges only at `needsA` or more (below
 * that it sits in SuspendedEV, as a real one does).
 */
function home() {
  const h = harness({
    circuits: [{ id: 'home', limitA: 35, meter: { source: 'grid', location: 'includesChargers' } }],
    connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'pv' }],
  });
  const world = { pvW: 0, houseW: 300, needsA: 8, plugged: false };
  h.feed(() => {
    const offered = world.plugged ? (h.limit('WB-1/1') ?? 0) : 0;
    const drawn = offered >= world.needsA ? offered : 0;
    if (world.plugged)
      h.draw(
        'WB-1/1',
        [drawn, drawn, drawn] as PerPhase,
        drawn > 0 ? 'Charging' : offered > 0 ? 'SuspendedEV' : 'SuspendedEVSE',
      );
    const gridW = world.houseW + drawn * 3 * 230 - world.pvW;
    h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
  });
  return { h: h.start(), world };
}

/** The set-points sent, each with its reason: what a failed assertion shows. */
const trailOf = (sent: readonly { limitA: number; reason: string }[]) =>
  sent.map((s) => `${s.limitA} ${s.reason}`).join(' | ');

/** Car A (of the car parks below) charges now. */
function assertACharges(h: ReturnType<typeof harness>, trail: string): void {
  assert.equal(
    h.manager.summary().connectors.find((c) => c.chargePointId === 'A')?.status,
    'Charging',
    trail,
  );
}

describe("LoadManager: a car's own minimum, learned for its session", () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('learns 8 A from a car that stops at 7.8 A, charges it at 8 A, starts it again only on 8 A, and forgets it with the session', () => {
    const setup = home();
    h = setup.h;
    setup.world.plugged = true;
    h.plugIn('WB-1/1');
    // 7600 − 300 (house) − 100 (residual) = 7200 W: 10.4 A on three phases.
    setup.world.pvW = 7600;
    h.run(300_000);
    assert.equal(h.limit('WB-1/1'), 10.4);
    // 5382 W of surplus: 7.8 A, less than the car takes: it stops.
    setup.world.pvW = 5382 + 400;
    const from = h.sentTo('WB-1/1').length;
    h.run(60_000);
    const after = h.sentTo('WB-1/1').slice(from);
    assert.deepEqual(
      after.map((s) => s.limitA),
      [7.8, 8],
      'lowered to the surplus, then its own minimum once it stopped there',
    );
    assert.match(after[1]?.reason ?? '', /the car's minimum 8 A \(learned: it stopped at 7\.8 A\)/);
    assert.equal(h.manager.summary().connectors[0]?.status, 'Charging');
    // At 8 A it takes 138 W from the grid: the dip's budget ends it, and it starts again only on
    // the surplus its learned minimum needs (8 A × 3 × 230 V = 5520 W), not on 6 A's 4140 W.
    h.run(600_000);
    assert.equal(h.limit('WB-1/1'), 0);
    assert.match(
      h.setPoint('WB-1/1')?.reason ?? '',
      /pv: waiting for surplus \(5382 W of 5520 W\); the car takes no less than 8 A \(learned: it stopped at 7\.8 A\)/,
    );
    // A new car (the same charger): the minimum is the connector's again.
    setup.world.plugged = false;
    h.unplug('WB-1/1');
    h.run(5_000);
    setup.world.needsA = 6;
    setup.world.plugged = true;
    h.plugIn('WB-1/1');
    h.run(120_000);
    assert.equal(h.limit('WB-1/1'), 7.8, 'a new car starts on 4140 W and takes the 7.8 A');
  });

  /**
   * A 63 A zone whose meter counts the other loads only (none), car A and five cars that take
   * what they are offered: a share of 10.5 A each. Car A needs `needsA` (or is full).
   */
  const OTHERS = ['B', 'C', 'D', 'E', 'F'];
  function carPark(needsA: number, full = false) {
    const park = harness({
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'zone', location: 'otherLoadsOnly' } }],
      connectors: ['A', ...OTHERS].map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
    });
    park.feed(() => {
      const offered = park.limit('A/1') ?? 0;
      const drawn = !full && offered >= needsA ? offered : 0;
      const status = drawn > 0 ? 'Charging' : offered > 0 ? 'SuspendedEV' : 'SuspendedEVSE';
      park.draw('A/1', [drawn, drawn, drawn] as PerPhase, status);
      for (const id of OTHERS) {
        const a = park.limit(`${id}/1`) ?? 0;
        park.draw(`${id}/1`, [a, a, a] as PerPhase, a > 0 ? 'Charging' : 'SuspendedEVSE');
      }
      park.meter('zone', [0, 0, 0]);
    });
    park.start();
    for (const id of OTHERS) park.plugIn(`${id}/1`);
    park.run(120_000);
    park.plugIn('A/1');
    return park;
  }

  it('offers a car that never started two amperes more per follow time until it charges, and says why', () => {
    // Offered 10.5 A (its share), a car that needs 12 A does not start: asked 12 A at once (one try, not 11 A then 12 A).
    h = carPark(12);
    h.run(600_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assertACharges(h, trail);
    assert.ok((h.limit('A/1') ?? 0) >= 12, trail);
    assert.ok(
      sent.some((s) => /the car's minimum 12 A \(learned: it did not start at 10.5 A\)/.test(s.reason)),
      trail,
    );
  });

  it('asks a full car no more than 13 A, then counts it at the minimum again for the session', () => {
    h = carPark(6, true);
    h.run(1_800_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assert.ok(Math.max(...sent.map((s) => s.limitA)) <= 13, trail);
    assert.ok(
      sent.some((s) => s.limitA === 13),
      trail,
    );
    assert.equal(h.limit('A/1'), 6, trail);
    assert.doesNotMatch(h.setPoint('A/1')?.reason ?? '', /learned/);
  });

  /**
   * A 63 A zone behind a meter of its other loads (`world.otherA`), car A needing `needsA` (it
   * takes nothing below), the others at what they are given.
   */
  function zoneWithACarNeeding8A(needsA = 8): { otherA: number } {
    const world = { otherA: 0 };
    h = harness({
      circuits: [{ id: 'zone', limitA: 63, meter: { source: 'zone', location: 'otherLoadsOnly' } }],
      connectors: ['A', ...OTHERS].map((chargePointId) => ({ chargePointId, circuit: 'zone', maxA: 32 })),
    });
    h.feed(() => {
      const offered = h.limit('A/1') ?? 0;
      const drawn = offered >= needsA ? offered : 0;
      h.draw(
        'A/1',
        [drawn, drawn, drawn] as PerPhase,
        drawn > 0 ? 'Charging' : offered > 0 ? 'SuspendedEV' : 'SuspendedEVSE',
      );
      for (const id of OTHERS) {
        const a = h.limit(`${id}/1`) ?? 0;
        h.draw(`${id}/1`, [a, a, a] as PerPhase, a > 0 ? 'Charging' : 'SuspendedEVSE');
      }
      h.meter('zone', [world.otherA, world.otherA, world.otherA]);
    });
    return world;
  }

  it('asks a car whose minimum learned from a stop is still too low two amperes more until it charges again', () => {
    // Car A needs 8 A; the other loads rise to 24 A: 6.5 A each, it stops; 7 A learned from that
    // stop is not enough either: asked 9 A (one ampere more than it needs, one try fewer than 8 A then 9 A would take for a car of 9 A).
    const world = zoneWithACarNeeding8A();
    h.start();
    for (const id of ['A', ...OTHERS]) h.plugIn(`${id}/1`);
    h.run(300_000);
    assert.equal(h.limit('A/1'), 10.5);
    world.otherA = 24;
    h.run(900_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assert.ok(
      sent.some((s) => s.limitA === 7),
      trail,
    );
    assertACharges(h, trail);
    assert.ok((h.limit('A/1') ?? 0) >= 8, trail);
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /the car's minimum 9 A \(learned: it did not start at 7 A\)/,
      trail,
    );
  });
  /**
   * The zone above with 23.5 A of other loads: with the five others at their 6 A car A has 9 A
   * (the zone keeps 0.5 A). Car A, needing `needsA` (9 or 10 A), is offered its share, then 8 A,
   * does not start, and waits five minutes paused for the step's 10 A.
   */
  function keptOutByItsStep(needsA: number): { otherA: number } {
    const world = zoneWithACarNeeding8A(needsA);
    world.otherA = 23.5;
    h.start();
    for (const id of OTHERS) h.plugIn(`${id}/1`);
    h.run(120_000);
    h.plugIn('A/1');
    h.run(300_000);
    return world;
  }

  it('offers a car kept waiting by the ampere a two-ampere step added the ampere it passed over', () => {
    // Car A needs 9 A; with the five others at their 6 A it has 9 A (the zone keeps 0.5 A): offered
    // its share, then 8 A, it does not start, and the step's 10 A does not fit: it waits. When
    // 10.5 A are free, a start at 10 A needs 11 A with its start margin: it would wait all
    // afternoon (issue 45's car park, seed 2: CP-02, 0 of the ideal's 10.7 kWh); offered the 9 A
    // the step passed over, it starts.
    const world = keptOutByItsStep(9);
    const waiting = h
      .sentTo('A/1')
      .map((s) => `${s.limitA} ${s.reason}`)
      .join(' | ');
    assert.equal(h.limit('A/1'), 0, waiting);
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /for the minimum 10 A \(the car's, learned: it did not start at 8 A\)/,
      waiting,
    );
    world.otherA = 22;
    h.run(600_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assertACharges(h, trail);
    assert.ok((h.limit('A/1') ?? 0) >= 9, trail);
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /the car's minimum 9 A \(learned: it did not start at 8 A\)/,
      trail,
    );
  });

  it("asks a car that does not start at the ampere a step passed over the step's minimum again, not two more", () => {
    // Car A needs 10 A: offered the 9 A passed over after its wait, it does not start either, and
    // is asked 10 A (known now to the ampere), not 11 A: with 11.5 A free it starts at 10 A (11 A
    // would need 12 A with its start margin).
    const world = keptOutByItsStep(10);
    world.otherA = 22;
    h.run(300_000);
    world.otherA = 21;
    h.run(600_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assert.ok(
      sent.some((s) => s.limitA === 9),
      trail,
    );
    assert.ok(!sent.some((s) => /minimum 11 A/.test(s.reason)), trail);
    assertACharges(h, trail);
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /the car's minimum 10 A \(learned: it did not start at 9 A\)/,
      trail,
    );
  });

  it('asks a car paused by the manager after it charged, that does not start again at the minimum, more: up to what it charged at', () => {
    // Car A needs 8 A and charges at its 10.5 A share; the other loads take 40 A: A (the last to
    // come) is paused, and started again at 6.5 A when they fall to 23.9 A (6.5 A each beside the
    // 0.005 A their reading may hide: evidence/circuit-view.ts hiddenA). Its pause showed nothing
    // of its own minimum: taken as resting at once, it was left at 6 A every 30 min for the rest of
    // its stay (issue 45's car park, seed 760867: CP-10, 0.2 of the ideal's 16.5 kWh).
    const world = zoneWithACarNeeding8A();
    h.start();
    for (const id of OTHERS) h.plugIn(`${id}/1`);
    h.run(120_000);
    h.plugIn('A/1');
    h.run(180_000);
    assert.equal(h.limit('A/1'), 10.5);
    world.otherA = 40;
    h.run(60_000);
    assert.equal(h.limit('A/1'), 0, 'paused: five minimums fit in 23 A, six do not');
    world.otherA = 23.9;
    h.run(240_000);
    const sent = h.sentTo('A/1');
    const trail = trailOf(sent);
    assert.ok(
      sent.some((s) => s.limitA > 0 && s.limitA < 8),
      trail,
    );
    assertACharges(h, trail);
    assert.ok((h.limit('A/1') ?? 0) >= 8, trail);
    assert.match(
      h.setPoint('A/1')?.reason ?? '',
      /the car's minimum \d+ A \(learned: it did not start at 6(\.\d)? A\)/,
      trail,
    );
  });
});
