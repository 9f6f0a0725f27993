import assert from 'node:assert/strict';
import { expectLimits, home, wallbox } from './pv-home';
import type { harness } from './support';

/** Two cars on one surplus: who takes it, and when a car a dip stopped starts again. */
describe('LoadManager PV surplus shared by two cars', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

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
});
