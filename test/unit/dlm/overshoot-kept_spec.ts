import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/readings';
import { harness } from './support';

/**
 * What a circuit keeps back for the overshoot of the cars below it (evidence/overshoot.ts
 * `keptForOvershoot`): one factor for every share, the most any car that may be given more was
 * learned at. A car held at its own draw (the under-draw cap) is given no more than that cap, so
 * its overshoot is kept on its cap alone (`cappedOvershootA`); as the factor, a car under-drawing
 * at 8 A with 3 % left 1.75 A of a 63 A home unallocated beside a car at 1.3 % all evening (issue 45's
 * home layout, fleet mixed, seed 500983).
 */
describe('LoadManager: what a circuit keeps back for the cars’ overshoot', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('keeps a capped car’s overshoot on its cap alone: the car beside it is not held at that car’s factor', () => {
    h = harness({
      circuits: [{ id: 'line', limitA: 40 }],
      connectors: ['A', 'B'].map((id) => ({ chargePointId: id, circuit: 'line', maxA: 32 })),
      unbalanceLimitA: null,
    });
    h.start();
    // A's car takes 3 % above its limit and at most 8 A; B's 1 % above, up to 32 A. Read every second.
    const car = (key: string, factor: number, maxA: number) =>
      h.feed(() => {
        const amps = Math.min(maxA, (h.limit(key) ?? 0) * factor);
        h.draw(key, [amps, amps, amps] as PerPhase, amps > 0 ? 'Charging' : 'SuspendedEVSE');
      });
    car('A/1', 1.03, 8);
    car('B/1', 1.01, 32);
    h.plugIn('A/1', {}, 'Charging');
    h.run(60_000);
    h.plugIn('B/1', {}, 'Charging');
    h.run(600_000);
    const [a, b] = ['A/1', 'B/1'].map((key) => h.limit(key) ?? 0) as [number, number];
    const reasons = ['A/1', 'B/1'].map((key) => h.setPoint(key)?.reason).join(' | ');
    const overshoots = h.manager.summary().connectors.map((c) => c.overshootPercent);
    // Each with half a reading's 0.01 A step (readings are rounded) over the highest set-point a
    // reading showed it above: A's 8 A (3.06 %), B's 30 A (1.02 %).
    assert.deepEqual(overshoots, [3.1, 1], reasons);
    // A is held at its draw plus the headroom (8 + 1 A); at 3 % for all, B got 40 − 1.17 − 9 A.
    assert.equal(a, 9, reasons);
    assert.ok(b >= 30.3, `B at ${b} A: ${reasons}`);
    // Whatever each car does within its limit and overshoot, the line holds.
    assert.ok(a * 1.03 + b * 1.01 <= 40 + 1e-9, `${a} A and ${b} A draw up to ${a * 1.03 + b * 1.01} A`);
  });

  it('keeps for each car’s own overshoot on the set-points it was given, not the most any car showed on every share', () => {
    h = harness({
      circuits: [{ id: 'zone', limitA: 63 }],
      connectors: ['A', 'B', 'C', 'D'].map((id) => ({ chargePointId: id, circuit: 'zone', maxA: 32 })),
      unbalanceLimitA: null,
    });
    h.start();
    // A's car takes 3 % above its limit, the three others 0.5 %. Read every second.
    const factors = { 'A/1': 1.03, 'B/1': 1.005, 'C/1': 1.005, 'D/1': 1.005 };
    for (const [key, factor] of Object.entries(factors))
      h.feed(() => {
        const amps = (h.limit(key) ?? 0) * factor;
        h.draw(key, [amps, amps, amps] as PerPhase, amps > 0 ? 'Charging' : 'SuspendedEVSE');
      });
    for (const key of Object.keys(factors)) {
      h.plugIn(key, {}, 'Charging');
      h.run(30_000);
    }
    h.run(600_000);
    const limits = Object.keys(factors).map((key) => h.limit(key) ?? 0);
    const reasons = Object.keys(factors)
      .map((key) => h.setPoint(key)?.reason)
      .join(' | ');
    // At 3 % on every share the four got 63 / 1.03 / 4 = 15.29 A, 15.2 A each (0.1 A steps); kept
    // for each car's own overshoot, 15.5 A: 62.7 A drawn.
    for (const limitA of limits) assert.ok(limitA >= 15.5, `${limits.join(', ')} A: ${reasons}`);
    const drawnA = Object.values(factors).reduce((sum, factor, i) => sum + (limits[i] ?? 0) * factor, 0);
    assert.ok(drawnA <= 63 + 1e-9, `${limits.join(', ')} A draw ${drawnA} A: ${reasons}`);
  });
});
