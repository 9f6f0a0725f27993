import assert from 'node:assert/strict';
import { home, wallbox } from './pv-home';
import type { harness } from './support';

/**
 * Fast clouds (modes/pv.ts CREDIT_DIPS, modes/battery-bank.ts): beside a home battery a charging pv
 * car puts by what the surplus gave beyond its minimum and rides out that many more dips' budgets;
 * the battery gives back what it banked of the surplus the car could not take.
 */
describe('LoadManager PV surplus: fast clouds beside a home battery', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  /** The minute (from the dip) the car stops in a dip after `sunnyMs` of 8000 W, the battery covering. */
  function stopsAfterS(sunnyMs: number, batteryW: number): number {
    const setup = home([wallbox('WB-1')], { batterySource: 'battery' });
    h = setup.h.start();
    h.plugIn('WB-1/1');
    Object.assign(setup.world, { pvW: 8000, batterySoc: 60, batteryW });
    h.run(sunnyMs);
    assert.ok((h.limit('WB-1/1') ?? 0) > 6);
    // A cloud: the battery covers the car at its minimum (4140 W) and the house.
    Object.assign(setup.world, { pvW: 300, batteryW: -4140 });
    for (let s = 1; s <= 1800; s++) {
      h.run(1000);
      if (h.limit('WB-1/1') === 0) return s;
    }
    return Number.POSITIVE_INFINITY;
  }

  it('rides out a dip on what the sun put by beyond its minimum, up to ten dips’ budgets more', () => {
    // Just started (the enable delay, then a minute charging): a little put by.
    const early = stopsAfterS(120_000, 0);
    h.stop();
    // Nine minutes charging at 3460 W beyond its minimum: 519 Wh put by, then the dip's 69 Wh:
    // 588 Wh at 4240 W short is about 8.3 minutes (with three dips' budgets, 276 Wh: 4 minutes).
    const served = stopsAfterS(600_000, 0);
    h.stop();
    // Half an hour: put by only up to ten dips' budgets (690 Wh), then the dip's: about 10.7 minutes.
    const long = stopsAfterS(1_800_000, 0);
    // Without anything put by it stops after about a minute (69 Wh at 4240 W short).
    assert.ok(early > 61 && early < served, `stopped after ${early} s`);
    assert.ok(served >= 470 && served <= 540, `stopped after ${served} s`);
    assert.ok(long >= 610 && long <= 680, `stopped after ${long} s`);
  });
});
