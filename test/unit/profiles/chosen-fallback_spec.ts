import assert from 'node:assert/strict';
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

  it('refuses a fallbackA that is no current', async () => {
    const r = await rig();
    assert.throws(() => r.manager.apply(setPoint(16, { fallbackA: -1 })), /fallbackA must be a number/);
  });
});
