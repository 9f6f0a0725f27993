import assert from 'node:assert/strict';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { fallbackProfileId } from '../../../lib/profiles/build';
import { NO_OFFLINE_FALLBACK, profilesSent, setPoint, settled, useProfileRig } from './support';

/**
 * The fallback the load manager chose (issue 36, `SetPoint.fallbackA`): the charging-profile
 * manager installs it as the offline fallback (never above its own offlineFallbackA, the
 * installer's upper bound), installs it again when the choice changes, and tells the central
 * system what the connector then falls to; a charger that takes no fallback is said to keep its
 * last limit. Against the package's simulator over real WebSockets.
 */

const FALLBACK_ID = fallbackProfileId();

function fallbacksSent(requests: SetChargingProfileRequest[]): number[] {
  return requests
    .filter((request) => request.csChargingProfiles.chargingProfileId === FALLBACK_ID)
    .map((request) => request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? -1);
}

describe('Profiles: the offline fallback the load manager chose', () => {
  const { rig } = useProfileRig();

  it('installs the chosen 0 A, then 6 A when the choice changes, and confirms each to the central system', async () => {
    const r = await rig();
    await r.manager.apply(setPoint(16, { fallbackA: 0 }));
    await settled(r);
    assert.deepEqual(fallbacksSent(profilesSent(r.commands)), [0], 'no room for it: 0 A');
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 0);

    const before = r.commands.length;
    await r.manager.apply(setPoint(16, { fallbackA: 6 }));
    await settled(r);
    assert.deepEqual(fallbacksSent(profilesSent(r.commands, before)), [6], 'installed again at 6 A');
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6);

    const after = r.commands.length;
    await r.manager.apply(setPoint(12, { fallbackA: 6 }));
    await settled(r);
    assert.deepEqual(fallbacksSent(profilesSent(r.commands, after)), [], 'the same choice: not again');
  });

  it('never installs more than its own offline fallback setting', async () => {
    const r = await rig({ manager: { offlineFallbackA: 8 } });
    await r.manager.apply(setPoint(16, { fallbackA: 10 }));
    await settled(r);
    assert.deepEqual(fallbacksSent(profilesSent(r.commands)), [8]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 8);
  });

  it('one profile on connector 0 carries the lowest choice of the charger’s connectors', async () => {
    const r = await rig({ sim: { connectors: 2 } });
    await r.manager.apply([setPoint(16, { fallbackA: 6 }), setPoint(16, { connectorId: 2, fallbackA: 0 })]);
    await settled(r);
    assert.deepEqual(fallbacksSent(profilesSent(r.commands)).slice(-1), [0]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 0);
    assert.equal(r.cs.connectorOf('CP1', 2)?.offlineFallback?.limitA, 0);
  });

  it('says that a charger without a fallback keeps its last limit', async () => {
    const r = await rig({ manager: NO_OFFLINE_FALLBACK });
    await r.manager.apply(setPoint(16, { fallbackA: 6 }));
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback, undefined);
    assert.equal(r.cs.connectorOf('CP1', 1)?.keepsLimitOffline?.why, 'switched off');
  });

  it('with the load manager: from 64 A at their maximum to what fits, once the chosen fallback is installed', async () => {
    // A dual charger on a 10 A line: its two connectors at their 32 A maximum would draw 64 A if
    // ampflow stopped; 6 A fits once (the second gets 0 A), and one profile on connector 0 carries 0 A.
    const r = await rig({ sim: { connectors: 2 } });
    const lm = new LoadManager({
      site: {
        circuits: [{ id: 'line', limitA: 10, headroomA: 0 }],
        connectors: [
          { chargePointId: 'CP1', connectorId: 1, circuit: 'line' },
          { chargePointId: 'CP1', connectorId: 2, circuit: 'line' },
        ],
        unbalanceLimitA: null,
      },
      clock: r.clock,
    });
    lm.on('setPoint', (sp) => {
      void r.manager.apply(sp);
    });
    r.cs.on('connector', (state) => lm.connectorState(state));
    for (const state of r.cs.connectorsOf('CP1')) lm.connectorState(state);
    const line = () => lm.summary().circuits.find((c) => c.id === 'line')?.offline;
    assert.deepEqual(
      { fits: line()?.fits, connectorsA: line()?.connectorsA },
      { fits: false, connectorsA: 64 },
    );
    lm.start();
    try {
      for (let i = 0; i < 5; i++) {
        r.clock.advance(1000);
        await settled(r);
      }
      const sent = lm.setPoints().map((sp) => sp.fallbackA);
      assert.deepEqual(sent, [6, 0], 'chosen: 6 A for the first, 0 A for the second');
      // The set-points come one by one: the first connector's 6 A goes first, then the lower of the two.
      assert.deepEqual(
        fallbacksSent(profilesSent(r.commands)),
        [6, 0],
        'the lower of the two, on connector 0',
      );
      assert.deepEqual(
        [1, 2].map((id) => r.cs.connectorOf('CP1', id)?.offlineFallback?.limitA),
        [0, 0],
      );
      r.clock.advance(1000);
      assert.deepEqual(
        { fits: line()?.fits, connectorsA: line()?.connectorsA },
        { fits: true, connectorsA: 0 },
      );
    } finally {
      lm.stop();
    }
  });

  it('refuses a fallbackA that is no current', async () => {
    const r = await rig();
    assert.throws(() => r.manager.apply(setPoint(16, { fallbackA: -1 })), /fallbackA must be a number/);
  });
});
