import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * Issue 38: a circuit is *overloaded* only when what is measured or under control exceeds its
 * limit (docs/load-manager.md). What a blind meter's other loads are assumed at (the whole limit
 * before its first reading, the learned peak while it is stale) is no measurement.
 */
describe('overload in the site summary: measured or controlled only (issue 38)', () => {
  /** A 63 A zone (1 A headroom) whose meter counts the other loads only, stale after 10 s. */
  const zone: SiteConfig = {
    circuits: [
      {
        id: 'zone',
        limitA: 63,
        headroomA: 1,
        meter: { source: 'zm', location: 'otherLoadsOnly', staleAfterMs: 10_000 },
      },
    ],
    connectors: [{ chargePointId: 'CP-1', circuit: 'zone' }],
  };

  it('is not overloaded before its meter’s first reading, and is once a reading exceeds the limit', () => {
    const h = harness(zone);
    h.start();
    h.run(1_000);
    const waiting = h.manager.summary().circuits[0];
    assert.deepEqual(waiting?.otherA, [63, 63, 63], 'the whole limit is assumed');
    assert.equal(waiting?.overloaded, false);
    h.meter('zm', [70, 4, 4]);
    h.run(1_000);
    assert.equal(h.manager.summary().circuits[0]?.overloaded, true);
  });

  it('is not overloaded while a stale meter counts the learned peak above the limit', () => {
    const h = harness(zone);
    h.start();
    h.meter('zm', [60, 4, 4]);
    h.run(1_000);
    assert.equal(h.manager.summary().circuits[0]?.overloaded, false, '60 + 1 A headroom fit 63 A');
    h.run(60_000);
    const stale = h.manager.summary().circuits[0];
    assert.equal(stale?.meter?.stale, true);
    assert.ok((stale?.otherA[0] ?? 0) > 62, `learned peak plus margin: ${stale?.otherA}`);
    assert.equal(stale?.overloaded, false);
  });

  it('counts what a circuit below measures even where its own meter is blind', () => {
    const h = harness({
      circuits: [
        { id: 'main', limitA: 32, meter: { source: 'main-meter', location: 'otherLoadsOnly' } },
        { id: 'sub', parent: 'main', limitA: 50, meter: { source: 'sub-meter', location: 'otherLoadsOnly' } },
      ],
      connectors: [{ chargePointId: 'CP-1', circuit: 'sub' }],
    });
    h.start();
    h.meter('sub-meter', [40, 4, 4]);
    h.run(1_000);
    const [main, sub] = h.manager.summary().circuits;
    assert.equal(main?.meter?.stale, true);
    assert.equal(sub?.overloaded, false);
    assert.equal(main?.overloaded, true, '40 A measured below a 32 A breaker');
  });
});
