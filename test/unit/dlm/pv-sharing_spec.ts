import assert from 'node:assert/strict';
import { expectLimits, home, wallbox } from './pv-home';
import type { harness } from './support';

/** Who takes the surplus, and how a car a dip stopped starts again (its phases too). */
describe('LoadManager PV surplus: sharing and restarts', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  /**
   * WB-1: a three-phase pv car (4140 W at its minimum). WB-2: a single-phase minpv car, held at
   * 20 A (4600 W) by the unbalance limit. Both plugged in, no sun yet.
   */
  function pvBesideMinpv() {
    const setup = home([wallbox('WB-1'), wallbox('WB-2', { mode: 'minpv', maxA: 32 })]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    h.plugIn('WB-2/1');
    setup.world.carPhases.set('WB-2/1', 1);
    return setup;
  }

  it('takes a rise of the surplus that the unbalance limit bounds in one step (a single-phase car)', () => {
    const setup = home([wallbox('WB-2', { mode: 'minpv', maxA: 32 })]);
    h = setup.h.start();
    h.plugIn('WB-2/1');
    setup.world.carPhases.set('WB-2/1', 1);
    h.run(180_000);
    assert.equal(h.limit('WB-2/1'), 6, 'no sun: the minimum, single-phase detected');
    // 10 000 − 300 − 100 = 9600 W would be 41 A on its phase; the unbalance limit (20 A) bounds it.
    // All of it flows out to the grid already: no ramp to take it.
    setup.world.pvW = 10_000;
    expectLimits(h, 'WB-2/1', [[2_000, 20, 'at once, not ramped over 30 s and more']]);
    assert.match(h.setPoint('WB-2/1')?.reason ?? '', /unbalance/);
  });

  it("says what is left for a waiting car beside the other cars' minimum, not only the surplus", () => {
    const setup = pvBesideMinpv();
    // 5000 − 300 − 100 = 4600 W: enough for WB-1's 4140 W, but WB-2's 1380 W minimum comes first.
    setup.world.pvW = 5000;
    h.run(300_000);
    assert.equal(h.limit('WB-1/1'), 0);
    assert.match(
      h.setPoint('WB-1/1')?.reason ?? '',
      /pv: waiting for surplus \(4600 W, 3220 W of it left after the other cars' minimum; needs 4140 W\)/,
    );
  });

  it('restarts a car a dip stopped only on surplus the charging cars cannot take, and says so', () => {
    const setup = pvBesideMinpv();
    setup.world.pvW = 12_000;
    h.run(300_000);
    assert.deepEqual([h.limit('WB-1/1'), h.limit('WB-2/1')], [12.6, 12.6]);
    setup.world.pvW = 300;
    h.run(120_000);
    assert.deepEqual([h.limit('WB-1/1'), h.limit('WB-2/1')], [0, 6], 'WB-1 stopped by the dip');
    // 8000 − 300 − 100 = 7600 W: 6220 W beyond WB-2's minimum fit WB-1's 4140 W, but WB-2 takes
    // 3220 W of them (up to its 20 A): starting WB-1 would only move WB-2's current to it.
    setup.world.pvW = 8000;
    expectLimits(h, 'WB-1/1', [[600_000, 0, 'WB-2 takes the surplus']]);
    assert.equal(h.limit('WB-2/1'), 20);
    assert.match(
      h.setPoint('WB-1/1')?.reason ?? '',
      /pv: waiting, the cars charging take the surplus \(7600 W; they can take 3220 W more than their minimum\); starts on 4140 W they cannot take/,
    );
    // 11 600 W: 7000 W beyond what WB-2 takes; the reserve (4140 W for 60 s) is paid in 87 s.
    setup.world.pvW = 12_000;
    expectLimits(h, 'WB-1/1', [[60_000, 0, 'the reserve is not paid yet']]);
    h.run(120_000);
    assert.ok((h.limit('WB-1/1') ?? 0) >= 6, 'started on what WB-2 cannot take');
  });

  it('restarts a car a dip stopped on one phase on one phase, and switches it up only after the delay', () => {
    const setup = home([wallbox('WB-1', { canSwitchPhases: true })]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = 2500; // 2100 W of surplus: one phase
    h.run(180_000);
    assert.deepEqual([h.limit('WB-1/1'), h.setPoint('WB-1/1')?.phases], [9.1, 1]);
    setup.world.pvW = 300; // 1480 W short: its 69 Wh last 168 s
    h.run(200_000);
    assert.equal(h.limit('WB-1/1'), 0, 'stopped by the dip');
    // Enough for three phases at once: it starts on the one it has, not switched up before it
    // starts (and down again at its next restart, under fast clouds).
    setup.world.pvW = 9000;
    h.run(70_000);
    assert.deepEqual([(h.limit('WB-1/1') ?? 0) >= 6, h.setPoint('WB-1/1')?.phases], [true, 1]);
    h.run(540_000);
    assert.equal(h.setPoint('WB-1/1')?.phases, 1, 'not before three phases fitted for 10 minutes');
    h.run(60_000);
    assert.equal(h.setPoint('WB-1/1')?.phases, 3, 'up once three phases fitted for 10 minutes');
    assert.equal(h.manager.summary().connectors[0]?.phaseSwitches, 2);
  });
});
