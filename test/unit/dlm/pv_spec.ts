import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { expectLimits, home, onThreePhases, wallbox } from './pv-home';
import type { harness } from './support';

describe('LoadManager PV surplus', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  /**
   * A minpv car charging for 3 minutes beside a battery that charges at `batteryW` (SoC 30 %) and
   * has priority below 50 % SoC, under 8000 W of PV; the home's world.
   */
  /** One pv wallbox with its car plugged in, the sun at `pvW` for `forMs`. */
  function oneCar(pvW: number, forMs: number) {
    const setup = home([wallbox('WB-1')]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = pvW;
    h.run(forMs);
    return setup;
  }

  function besideBattery(batteryW: number, pv: SiteConfig['pv'] = {}) {
    const setup = home([wallbox('WB-1', { mode: 'minpv' })], {
      batterySource: 'battery',
      batteryPrioritySocPercent: 50,
      ...pv,
    });
    h = setup.h.start();
    h.plugIn('WB-1/1');
    Object.assign(setup.world, { pvW: 8000, batteryW, batterySoc: 30 });
    h.run(180_000);
    return setup.world;
  }

  it('starts a pv car after 1 min of enough surplus for its minimum, follows the surplus, stops once a dip spent its grid budget', () => {
    const setup = oneCar(4000, 120_000); // 3 × 6 A × 230 V = 4140 W needed (+ the house's 300 W)
    assert.equal(h.limit('WB-1/1'), 0);
    assert.match(h.setPoint('WB-1/1')?.reason ?? '', /pv: waiting for surplus \(3600 W of 4140 W\)/);
    setup.world.pvW = 8000;
    expectLimits(h, 'WB-1/1', [
      [59_000, 0, 'enough for less than a minute'],
      [2_000, 6],
      // 8000 − 300 (house) − 100 (residual) = 7600 W = 11 A on three phases.
      [120_000, 11],
    ]);
    assert.match(h.setPoint('WB-1/1')?.reason ?? '', /limited: PV surplus/);
    setup.world.pvW = 300; // the house's own 300 W: nothing left for the car
    // 4240 W short: the dip's budget, 1 × 6 A × 230 V for 180 s = 69 Wh, is spent after about a minute.
    expectLimits(h, 'WB-1/1', [[2_000, 6, 'below the minimum it charges on at the minimum for a while']]);
    // Not "limited: PV surplus": its minimum comes from the grid, as much as the surplus lacks of it
    // (its own minimum, 4140 W, of the 4240 W short), and its reason says so (issue 48).
    assert.match(
      h.setPoint('WB-1/1')?.reason ?? '',
      /^PV surplus, 4\.1 kW from the grid to keep the minimum/,
    );
    expectLimits(h, 'WB-1/1', [
      [56_000, 6],
      [4_000, 0],
    ]);
    const summary = h.manager.summary();
    assert.equal(summary.connectors[0]?.pvEnabled, false);
    assert.equal(summary.pv?.surplusW, 300 - 300 - 100);
    // The sun is back: a car a dip stopped waits until the surplus beyond its minimum has put by a
    // reserve (its minimum for enableDelayMs: 4140 W for 60 s = 69 Wh), and its reason says so.
    setup.world.pvW = 8000;
    h.run(10_000);
    assert.match(
      h.setPoint('WB-1/1')?.reason ?? '',
      /pv: enough surplus; clouds stopped it 1 time, so it starts once the surplus beyond its minimum has put by 69 Wh \(\d+ Wh so far\)/,
    );
  });

  it('takes the surplus from a meter of the other loads only without counting the cars as surplus', () => {
    // The wallboxes are fed beside the meter: it sees the house and the PV plant, not the cars.
    const setup = home([wallbox('WB-1'), wallbox('WB-2', { mode: 'fast' })], {}, 'otherLoadsOnly');
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = 8000;
    h.run(240_000);
    // 8000 − 300 (house) − 100 (residual) = 7600 W = 11 A on three phases, not its 16 A maximum.
    assert.equal(h.limit('WB-1/1'), 11);
    assert.equal(h.manager.summary().pv?.surplusW, 8000 - 300 - 100);
    // A fast car beside it takes 3 × 16 A × 230 V = 11040 W of it: nothing left for the pv car.
    h.plugIn('WB-2/1');
    h.run(400_000);
    assert.equal(h.limit('WB-2/1'), 16);
    assert.equal(h.limit('WB-1/1'), 0);
    assert.ok((h.manager.summary().pv?.surplusW ?? 0) < 0);
  });

  it('measures the stop in energy, within a grid budget per dip: short of a little it charges on, never for an afternoon', () => {
    const setup = oneCar(8000, 240_000);
    assert.equal(h.limit('WB-1/1'), 11);
    // 4000 − 300 − 100 = 3600 W of surplus, 540 W short of 4140 W: 69 Wh last 460 s, but a dip
    // lasts at most twice the disable delay (360 s): 54 Wh from the grid, not 207 Wh.
    setup.world.pvW = 4000;
    expectLimits(h, 'WB-1/1', [
      [2_000, 6],
      [354_000, 6, 'a time-based stop would have come after 180 s'],
      [8_000, 0, 'no dip lasts longer than twice the disable delay'],
    ]);
    // Back to enough, then short by 2540 W: 69 Wh are spent after 98 s (the energy budget of
    // the previous try, 4140 W for 180 s, let this dip cost 207 Wh over 293 s).
    setup.world.pvW = 8000;
    h.run(300_000);
    assert.ok((h.limit('WB-1/1') ?? 0) > 6);
    setup.world.pvW = 2000;
    expectLimits(h, 'WB-1/1', [
      [94_000, 6],
      [8_000, 0, 'the dip spent its 69 Wh'],
    ]);
  });

  it('restarts a car a dip stopped only once the surplus beyond its minimum paid a reserve (energy, doubling per short charge)', () => {
    const setup = oneCar(8000, 240_000);
    assert.equal(h.limit('WB-1/1'), 11);
    setup.world.pvW = 300;
    h.run(70_000);
    assert.equal(h.limit('WB-1/1'), 0, 'stopped by the dip');
    // 4740 − 300 − 100 = 4340 W: 200 W beyond the 4140 W minimum. The reserve, 4140 W for 60 s,
    // takes 1242 s to pay; a time-based start came after 60 s.
    setup.world.pvW = 4740;
    expectLimits(h, 'WB-1/1', [
      [600_000, 0, 'a marginal surplus does not restart a car the clouds just stopped'],
      [700_000, 6, 'the reserve is paid'],
    ]);
    // Stopped again after a short charge: the next restart needs twice the reserve; a large
    // surplus (4140 W beyond the minimum) pays it in 120 s.
    setup.world.pvW = 300;
    h.run(70_000);
    assert.equal(h.limit('WB-1/1'), 0);
    setup.world.pvW = 8700;
    expectLimits(h, 'WB-1/1', [
      [100_000, 0, 'twice the reserve after a second short charge'],
      [40_000, 6],
    ]);
  });

  it('sends a small lasting rise once it is worth minChangeA for one interval (A × s), not never', () => {
    const setup = oneCar(8000, 240_000);
    // 8000 − 300 (house) − 100 (residual) = 7600 W = 11 A on three phases.
    assert.equal(h.limit('WB-1/1'), 11);
    setup.world.pvW = 8000 + 0.4 * 690; // room for 0.4 A more: below minChangeA (1 A)
    expectLimits(h, 'WB-1/1', [
      [70_000, 11, '0.4 A × 70 s is less than 1 A × 30 s'],
      [10_000, 11.4, 'sent once 0.4 A waited 75 s'],
    ]);
    // 0.2 A below the car's maximum: sent too, after 150 s.
    setup.world.pvW = 300 + 100 + 15.8 * 690;
    h.run(300_000);
    assert.equal(h.limit('WB-1/1'), 15.8);
    setup.world.pvW = 12_000;
    expectLimits(h, 'WB-1/1', [
      [140_000, 15.8],
      [20_000, 16, 'the last 0.2 A to the maximum'],
    ]);
  });

  it('takes a rise of the surplus in one step once its set-point was steady for an interval (a fast car still ramps)', () => {
    const setup = oneCar(8000, 240_000);
    assert.equal(h.limit('WB-1/1'), 11);
    // The sun comes out: 16 A fit. That current flows out to the grid already: no ramp to take it.
    setup.world.pvW = 300 + 100 + 16 * 690;
    expectLimits(h, 'WB-1/1', [[2_000, 16, 'at once, not 30 s later']]);
    // A cloud lowers it at once; the sun is back 2 s later: one change per interval still holds.
    setup.world.pvW = 8000;
    expectLimits(h, 'WB-1/1', [[2_000, 11]]);
    setup.world.pvW = 300 + 100 + 16 * 690;
    expectLimits(h, 'WB-1/1', [
      [27_000, 11, 'within 30 s of the decrease'],
      [2_000, 16, '30 s after the decrease, in one step'],
    ]);
  });

  it('ramps a rise that a cap below the maximum bounds (the operator raising its limit), surplus or not', () => {
    const setup = home([wallbox('WB-1')]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    h.state('WB-1/1', { operatorLimitA: 8 });
    setup.world.pvW = 300 + 100 + 16 * 690;
    h.run(240_000);
    assert.equal(h.limit('WB-1/1'), 8);
    h.state('WB-1/1', { operatorLimitA: 12 });
    expectLimits(h, 'WB-1/1', [
      [2_000, 8, 'not in one step: the cap, not the surplus, bounds the rise'],
      [40_000, 12],
    ]);
  });

  it('starts only one of two pv cars on a surplus that fits one (no start race)', () => {
    const setup = home([wallbox('WB-1'), wallbox('WB-2')]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    h.plugIn('WB-2/1');
    setup.world.pvW = 5500;
    h.run(300_000);
    assert.deepEqual([h.limit('WB-1/1'), h.limit('WB-2/1')], [7.3, 0]);
    assert.equal(h.sentTo('WB-2/1').filter((s) => s.limitA > 0).length, 0, 'WB-2 never started');
  });

  it('charges a minpv car at its minimum always and puts the surplus on top', () => {
    const setup = home([wallbox('WB-1', { mode: 'minpv' })]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    expectLimits(h, 'WB-1/1', [[60_000, 6, 'no sun: the minimum']]);
    setup.world.pvW = 10_000;
    expectLimits(h, 'WB-1/1', [[120_000, 13.9]]);
  });

  it('leaves the battery its charge power below its priority SoC, and gives it to the car above', () => {
    const world = besideBattery(2000);
    // 8000 − 300 − 2000 (battery first) − 100 = 5600 W = 8.1 A.
    assert.equal(h.limit('WB-1/1'), 8.1);
    world.batterySoc = 60;
    // The battery's 2000 W count as surplus now: 7600 W = 11 A.
    expectLimits(h, 'WB-1/1', [[120_000, 11]]);
  });

  it('keeps the battery first until 1 % above its priority SoC once it had priority, and the cars above until it is below', () => {
    const world = besideBattery(2000);
    assert.equal(h.limit('WB-1/1'), 8.1, 'battery first at 30 %');
    world.batterySoc = 50.5;
    expectLimits(h, 'WB-1/1', [[120_000, 8.1, 'still first at 50.5 %: it had priority']]);
    world.batterySoc = 51;
    expectLimits(h, 'WB-1/1', [[120_000, 11, 'the cars come first from 51 %']]);
    world.batterySoc = 50.2;
    expectLimits(h, 'WB-1/1', [[120_000, 11, 'a dip back to 50.2 % does not take the surplus back']]);
    world.batterySoc = 49.9;
    expectLimits(h, 'WB-1/1', [[1_000, 8.1, 'below its priority SoC the battery is first again']]);
  });

  it('keeps back what a battery with priority could take on top of what it takes now (batteryMaxChargeW)', () => {
    besideBattery(1000, { batteryMaxChargeW: 2500 });
    // 8000 − 300 − 1000 (charging) − 1500 (it could take more) − 100 = 5100 W = 7.3 A (7.39).
    assert.equal(h.limit('WB-1/1'), 7.3);
  });

  it('switches a switchable charger to one phase when the surplus fits 1 × 6 A but not 3 × 6 A, and back', () => {
    const setup = home([wallbox('WB-1', { canSwitchPhases: true })]);
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = 1500; // 1100 W of surplus: short of 1 × 6 A, which is what it waits for
    h.run(10_000);
    assert.match(h.setPoint('WB-1/1')?.reason ?? '', /pv: waiting for surplus \(1100 W of 1380 W\)/);
    setup.world.pvW = 2500; // 2100 W of surplus: 9.1 A on one phase
    h.run(62_000);
    assert.deepEqual(
      [h.setPoint('WB-1/1')?.limitA, h.setPoint('WB-1/1')?.phases],
      [6, 1],
      'started on one phase (not charging yet: switched at once)',
    );
    h.run(120_000);
    assert.equal(h.limit('WB-1/1'), 9.1);
    setup.world.pvW = 9000; // 8600 W: 3 phases at 12.4 A give more than 1 phase at its 16 A
    h.run(599_000);
    assert.equal(h.setPoint('WB-1/1')?.phases, 1, 'up only after 10 minutes (phaseSwitchUpDelayMs)');
    h.run(2_000);
    assert.equal(h.setPoint('WB-1/1')?.phases, 3);
    h.run(120_000);
    assert.equal(h.limit('WB-1/1'), 12.4);
    assert.equal(h.manager.summary().connectors[0]?.phaseSwitches, 2);
  });

  it('switches a charging car down to one phase rather than stopping it when 1 × 6 A still fits', () => {
    const setup = onThreePhases();
    h = setup.h;
    setup.world.pvW = 2200; // 1800 W: 6 A on one phase fits, 3 × 6 A does not
    h.run(400_000);
    assert.deepEqual([h.setPoint('WB-1/1')?.phases, (h.limit('WB-1/1') ?? 0) >= 6], [1, true]);
    const sent = h.sentTo('WB-1/1').map((s) => s.limitA);
    assert.equal(sent.slice(sent.indexOf(6)).indexOf(0), -1, 'never stopped once started');
  });

  it('counts a raised car at its new set-point until its charger reports (no lower-raise cycle)', () => {
    const setup = oneCar(8000, 240_000);
    assert.equal(h.limit('WB-1/1'), 11);
    // The charger's own meter falls silent (it reports every few minutes); the grid meter sees the
    // car follow its raise at once.
    setup.world.chargersReport = false;
    setup.world.pvW = 10_000; // 9600 W: 13.9 A
    h.run(60_000);
    assert.equal(h.limit('WB-1/1'), 13.9);
    const sent = h.sentTo('WB-1/1').map((s) => s.limitA);
    assert.equal(sent[sent.length - 2], 11, 'raised once, not lowered again on its old reading');
  });

  it('counts a raised car at its new set-point while its charger reading may predate the car following', () => {
    const setup = oneCar(8000, 240_000);
    assert.equal(h.limit('WB-1/1'), 11);
    setup.world.chargersReport = false;
    setup.world.pvW = 10_000; // 9600 W: 13.9 A
    for (let t = 0; t < 60_000 && h.limit('WB-1/1') === 11; t += 1000) h.run(1000);
    assert.equal(h.limit('WB-1/1'), 13.9);
    // The charger reports at once the 11 A its car still draws; the car follows a few seconds
    // later, and the grid meter's next readings already see it (here: at once).
    h.draw('WB-1/1', [11, 11, 11]);
    h.run(5_000);
    assert.equal(h.limit('WB-1/1'), 13.9, 'not lowered on a reading taken before the car could follow');
  });

  it('takes a lowered car at what it drew when the grid meter measured (no overshoot to the minimum)', () => {
    const setup = oneCar(300 + 100 + 16 * 690, 300_000);
    assert.equal(h.limit('WB-1/1'), 16);
    // A cloud: 8000 − 300 − 100 = 7600 W = 11 A. The charger reports its 11 A before the grid meter
    // measures again: that reading with the grid meter's older one made the surplus look 3450 W
    // smaller (6 A), and the car ramped back from its minimum 30 s later.
    setup.world.pvW = 8000;
    expectLimits(h, 'WB-1/1', [
      [1_000, 11],
      [1_000, 11, 'not lowered further on its charger reading newer than the grid meter'],
      [30_000, 11],
    ]);
    assert.deepEqual(
      h
        .sentTo('WB-1/1')
        .map((s) => s.limitA)
        .slice(-2),
      [16, 11],
    );
  });

  it('lets a battery above its buffer SoC cover a dip: the car goes to its minimum, not off', () => {
    const setup = home([wallbox('WB-1')], { batterySource: 'battery', batteryBufferSocPercent: 80 });
    h = setup.h.start();
    h.plugIn('WB-1/1');
    Object.assign(setup.world, { pvW: 8000, batterySoc: 90 });
    h.run(240_000);
    // No residual kept back above the buffer SoC: 8000 − 300 = 7700 W = 11.1 A.
    assert.equal(h.limit('WB-1/1'), 11.1);
    assert.equal(h.manager.summary().pv?.batteryBuffer, true);
    // A cloud: the battery gives what the car takes at its minimum.
    Object.assign(setup.world, { pvW: 300, batteryW: -4140 });
    expectLimits(h, 'WB-1/1', [[600_000, 6, 'the battery covers it']]);
    // Below the buffer SoC the battery is no longer lent: stopped once the dip spent its budget.
    // What it put by while the sun served it well (3560 W beyond its minimum for about three
    // minutes: 178 Wh, at most 3 dips' budgets, modes/pv.ts CREDIT_DIPS) pays first, then the
    // dip's own budget (69 Wh): about 247 Wh at 4240 W short, 3.5 minutes.
    setup.world.batterySoc = 75;
    expectLimits(h, 'WB-1/1', [
      [210_000, 6],
      [12_000, 0],
    ]);
  });

  it('switches at most the configured number of times per session', () => {
    const setup = home([wallbox('WB-1', { canSwitchPhases: true })], {
      maxPhaseSwitchesPerSession: 2,
      phaseSwitchDownDelayMs: 10_000,
      phaseSwitchUpDelayMs: 10_000,
      phaseSwitchSettleMs: 5_000,
    });
    h = setup.h.start();
    h.plugIn('WB-1/1');
    setup.world.pvW = 9000;
    h.run(90_000);
    for (let i = 0; i < 6; i++) {
      setup.world.pvW = i % 2 === 0 ? 2500 : 9000;
      h.run(60_000);
    }
    const phases = h.sentTo('WB-1/1').map((s) => s.phases);
    const switches = phases.filter((p, i) => i > 0 && p !== phases[i - 1]).length;
    assert.equal(switches, 2);
    assert.equal(h.manager.summary().connectors[0]?.phaseSwitches, 2);
  });

  it('stops pv charging when the grid meter goes stale (after the disable delay), never charging on a guess', () => {
    oneCar(9000, 180_000);
    assert.ok((h.limit('WB-1/1') ?? 0) > 6);
    // No more readings (the feeders run only in h.run): the meter goes stale, the surplus is unknown.
    const manager = h.manager;
    h.clock.advance(31_000);
    manager.tick();
    assert.equal(h.limit('WB-1/1'), 6);
    assert.match(h.setPoint('WB-1/1')?.reason ?? '', /fallback: meter "grid" of home is stale/);
    h.clock.advance(180_000);
    manager.tick();
    assert.equal(h.limit('WB-1/1'), 0);
  });
});
