import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/readings';
import { harness } from './support';

/**
 * A car that draws a little above its limit (issue 45: 0-3 %, within IEC 61851-1's tolerance)
 * follows a decrease at its set-point plus that overshoot, which the load manager has learned and
 * keeps back on every circuit above it (evidence/overshoot.ts). Its readings show a decrease
 * followed there; judged at the set-point alone a small decrease was never shown followed, and a
 * car beside it waited at its start for that for good (the home layout with the fleet's habits).
 */
describe('LoadManager: a decrease followed by a car above its limit', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('is shown followed at its set-point plus its learned overshoot: a car started beside it is raised', () => {
    h = harness({
      circuits: [{ id: 'line', limitA: 40 }],
      connectors: ['A', 'B', 'C'].map((id) => ({ chargePointId: id, circuit: 'line', maxA: 32 })),
      unbalanceLimitA: null,
    });
    h.start();
    // Each car takes a little more than its limit (A and B 1 %, C 2 %), read every second.
    const above = (key: string, factor: number) =>
      h.feed(() => {
        const amps = (h.limit(key) ?? 0) * factor;
        h.draw(key, [amps, amps, amps] as PerPhase, amps > 0 ? 'Charging' : 'SuspendedEVSE');
      });
    above('A/1', 1.01);
    above('B/1', 1.01);
    h.plugIn('A/1', {}, 'Charging');
    h.plugIn('B/1', {}, 'Charging');
    h.run(180_000);
    // C starts at 6 A; its 2 % learned, the line keeps more back: A and B are decreased by a
    // little (0.1 A), which they follow at their set-point plus 1 %.
    above('C/1', 1.02);
    h.plugIn('C/1', {}, 'Charging');
    h.run(300_000);
    const limits = ['A/1', 'B/1', 'C/1'].map((key) => h.limit(key) ?? 0);
    const reasons = ['A/1', 'B/1', 'C/1'].map((key) => h.setPoint(key)?.reason);
    assert.ok((limits[2] ?? 0) >= 12, `limits ${limits.join(', ')} A: ${reasons.join(' | ')}`);
    const drawn = (limits[0] ?? 0) * 1.01 + (limits[1] ?? 0) * 1.01 + (limits[2] ?? 0) * 1.02;
    assert.ok(drawn <= 40 + 1e-6, `limits ${limits.join(', ')} A draw ${drawn} A`);
  });
});
