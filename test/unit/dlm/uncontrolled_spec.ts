import assert from 'node:assert/strict';
import type { SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * What the load manager reserves for a charger it cannot control (issue #12): a charger the site
 * names that never connected draws nothing; one that was seen and is offline draws its own
 * fallback (offlineA); one whose state nobody reported is counted at its fallback too.
 */
const line = (extra: Partial<SiteConfig['connectors'][number]> = {}): SiteConfig => ({
  circuits: [{ id: 'line', limitA: 32 }],
  connectors: ['CP-1', 'CP-2'].map((chargePointId) => ({ chargePointId, circuit: 'line', ...extra })),
  unbalanceLimitA: null,
  control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
});

describe('LoadManager: chargers it cannot control', () => {
  let h: ReturnType<typeof harness>;
  afterEach(() => h?.stop());

  function charging(other: () => void): number | undefined {
    h = harness(line());
    other();
    h.start();
    h.plugIn('CP-1/1');
    h.obey('CP-1/1');
    h.run(60_000);
    return h.limit('CP-1/1');
  }

  it('reserves nothing for a charger that never connected, and says so', () => {
    const limit = charging(() => h.state('CP-2/1', { online: false, neverConnected: true }));
    assert.equal(limit, 32, 'the whole line for the car that is there');
    const waiting = h.manager.summary().connectors.find((c) => c.chargePointId === 'CP-2');
    assert.match(String(waiting?.reason), /configured, never connected: nothing reserved/);
  });

  it('reserves its own fallback for a charger that was seen and is offline', () => {
    assert.equal(
      charging(() => h.state('CP-2/1', { online: false })),
      0,
      'offlineA defaults to maxA (32 A): nothing left on a 32 A line',
    );
    const offline = h.manager.summary().connectors.find((c) => c.chargePointId === 'CP-2');
    assert.match(String(offline?.reason), /offline: counted at 32 A/);
    // Full with what the offline charger may draw on its own: named, and no "overload".
    const [circuit] = h.manager.summary().circuits;
    assert.equal(circuit?.overloaded, false);
    assert.equal(circuit?.fullOfReservations, true);
    assert.deepEqual(circuit?.reservedA, [32, 32, 32]);
    assert.ok(h.manager.summary().problems.some((p) => /CP-2\/1 offline: 32 A reserved/.test(p)));
  });

  describe('with a fallback profile the charging-profile manager confirmed (offlineFallback)', () => {
    const fallback = { limitA: 6, afterS: 300, since: '2026-06-01T07:00:00.000Z' };

    it('reserves the fallback, not offlineA (its maxA), for an offline charger without a session', () => {
      assert.equal(
        charging(() => h.state('CP-2/1', { online: false, offlineFallback: fallback })),
        26,
      );
      const offline = h.manager.summary().connectors.find((c) => c.chargePointId === 'CP-2');
      assert.match(String(offline?.reason), /offline: counted at 6 A \(its fallback profile\)/);
      const [circuit] = h.manager.summary().circuits;
      assert.deepEqual(circuit?.reservedA, [6, 6, 6]);
      assert.ok(
        h.manager
          .summary()
          .problems.some((p) => /CP-2\/1 offline: 6 A reserved \(its fallback profile\)/.test(p)),
      );
    });

    it('reserves the limit a running session keeps when it is above the fallback (OCPP 1.6 §3.13.6)', () => {
      h = harness(line());
      h.start();
      h.plugIn('CP-2/1');
      h.obey('CP-2/1');
      h.run(60_000);
      assert.equal(h.limit('CP-2/1'), 32);
      h.state('CP-2/1', { online: false, offlineFallback: fallback });
      h.plugIn('CP-1/1');
      h.obey('CP-1/1');
      h.run(60_000);
      assert.equal(h.limit('CP-1/1'), 0, 'CP-2 may keep its 32 A session limit');
      const offline = h.manager.summary().connectors.find((c) => c.chargePointId === 'CP-2');
      assert.match(String(offline?.reason), /offline: counted at 32 A \(the limit it keeps/);
    });

    it("keeps a lower offlineA the integrator set (the charger's own fallback bounds it)", () => {
      h = harness(line({ offlineA: 0 }));
      h.state('CP-2/1', { online: false, offlineFallback: fallback });
      h.start();
      h.plugIn('CP-1/1');
      h.obey('CP-1/1');
      h.run(60_000);
      assert.equal(h.limit('CP-1/1'), 32);
    });

    it('counts offlineA again once the confirmation is withdrawn', () => {
      assert.equal(
        charging(() => h.state('CP-2/1', { online: false, offlineFallback: fallback })),
        26,
      );
      h.state('CP-2/1', { offlineFallback: undefined });
      h.run(60_000);
      assert.equal(h.limit('CP-1/1'), 0);
    });

    it('drops a malformed confirmation (counted at offlineA)', () => {
      const broken = { limitA: Number.NaN, afterS: 300, since: fallback.since };
      assert.equal(
        charging(() => h.state('CP-2/1', { online: false, offlineFallback: broken })),
        0,
      );
    });
  });

  it('takes "never connected" only from a charger that is not connected', () => {
    charging(() => h.state('CP-2/1', { online: true, status: 'Available', neverConnected: true }));
    const connected = h.manager.summary().connectors.find((c) => c.chargePointId === 'CP-2');
    assert.match(String(connected?.reason), /idle: Available/);
  });
});
