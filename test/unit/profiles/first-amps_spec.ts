import assert from 'node:assert/strict';
import { setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * Issue #12, first amps fast: the increase pacing (increaseIntervalMs) keeps a charger from being
 * driven up and down, but a car that plugs in just after its charger got 0 A (it booted, or the
 * last session ended) was never paused: its first amps go out at once.
 */
describe('Profiles: a car’s first amps', () => {
  const { rig } = useProfileRig();

  it('go out at once when the transaction began after the 0 A', async () => {
    const { cp, clock, manager } = await rig();
    await manager.apply(setPoint(0));
    clock.advance(1000);
    await startCharging(cp);
    const [first] = await manager.apply(setPoint(16));
    assert.equal(first?.outcome, 'applied', 'not held for the rest of the 10 s');
    await settled({ cp, manager });
    assert.equal(cp.connector(1).offeredA, 16);
  });

  it('wait the interval when the 0 A paused this very car', async () => {
    const { cp, clock, manager } = await rig();
    await startCharging(cp);
    await manager.apply(setPoint(16));
    clock.advance(20_000);
    await manager.apply(setPoint(0));
    clock.advance(1000);
    const resumed = manager.apply(setPoint(16));
    await settled({ cp, manager });
    assert.equal(
      manager.charger('CP1')?.connectors[0]?.held,
      true,
      'held: the car was charging a second ago',
    );
    clock.advance(9000);
    assert.equal((await resumed)[0]?.outcome, 'applied');
  });
});
