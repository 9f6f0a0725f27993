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

describe('LoadManager: a pause whose decrease no reading showed, then the car started again', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  it('learns its overshoot from its readings at the restart before it is raised: the restart superseded the decrease', () => {
    // The closed loop with a 30 s minimum off time (FAULTS_SEED=20261125 FAULTS_PATH=5179): a car
    // paused a second after its start at 6 A and started again at 6 A, its 6 → 0 A decrease
    // still pending, taught nothing of its 3 % by its readings at 6 A, was raised to 8.9 A where
    // two chargers that refuse their limits left 9 A, and drew 9.17 A (0.17 A over for 21 s).
    h = harness({
      circuits: [{ id: 'line', limitA: 40, meter: { source: 'm', location: 'otherLoadsOnly' } }],
      connectors: [{ chargePointId: 'A', circuit: 'line', maxA: 16 }],
      unbalanceLimitA: null,
    });
    h.start();
    // Other loads take 32 A: 8 A are left. A's charger applies each set-point 20 s after it was
    // sent and is read every 8 s; its car draws 3 % above what it is offered.
    const start = h.clock.now();
    const told: [number, number][] = [];
    h.feed(() => {
      const now = h.clock.now();
      h.meter('m', [32, 32, 32]);
      told.push([now, h.limit('A/1') ?? 0]);
      if (((now - start) / 1000) % 8 !== 0) return;
      const amps = (told.filter(([atMs]) => atMs <= now - 20_000).at(-1)?.[1] ?? 0) * 1.03;
      h.draw('A/1', [amps, amps, amps] as PerPhase, amps > 0 ? 'Charging' : 'SuspendedEVSE');
    });
    h.meter('m', [32, 32, 32]);
    h.plugIn('A/1', {}, 'Charging');
    for (let s = 0; s < 30 && !h.limit('A/1'); s++) h.run(1_000);
    assert.equal(h.limit('A/1'), 6);
    h.run(1_000);
    // Paused a second after its start (a decrease from 6 A that no reading shows followed before
    // its charger's follow time, 60 s until learned) and wanted again: started at 6 A at once.
    h.manager.command({ type: 'mode', chargePointId: 'A', mode: 'off' });
    h.run(5_000);
    h.manager.command({ type: 'mode', chargePointId: 'A', mode: 'fast' });
    let overshoot: number | undefined;
    for (let s = 0; s < 120; s++) {
      h.run(1_000);
      if ((h.limit('A/1') ?? 0) > 6) {
        overshoot = h.manager.summary().connectors.find((c) => c.name === 'A/1')?.overshootPercent;
        break;
      }
    }
    // Raised at its first reading at 6 A (6.18 A), by what is left with its 3 % (7.7 A, not 7.9 A).
    const trail = h
      .sentTo('A/1')
      .map((s) => `${(s.atMs - start) / 1000} s ${s.limitA} A`)
      .join(' | ');
    // Learned with half a reading's 0.01 A step over the 6 A it was read at (readings are rounded).
    assert.equal(overshoot, 3.1, trail);
    assert.ok((h.limit('A/1') ?? 0) * 1.03 <= 8 + 1e-9, trail);
  });
});
