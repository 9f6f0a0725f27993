import assert from 'node:assert/strict';
import {
  NO_OFFLINE_FALLBACK,
  profilesSent,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

/**
 * A transaction's stop sends one instruction per connector. The session's end sends the limit for
 * the next session (a TxDefaultProfile), and the load manager answers the same stop with a new
 * set-point a moment later: a connector got a 32 A and a 0 A TxDefaultProfile with the same
 * chargingProfileId in the same millisecond. The two are coalesced; the later decision wins.
 */

describe('Profiles: one instruction per connector at a stop', () => {
  const { rig } = useProfileRig();

  it('sends only the load manager’s 0 A when it answers the stop, not the old 32 A first', async () => {
    const r = await rig({ manager: { ...NO_OFFLINE_FALLBACK, increaseIntervalMs: 0 } });
    await startCharging(r.cp);
    await r.manager.apply(setPoint(32));
    await settled(r);
    // The load manager answers the stop with a pause once what the stop itself sent (if anything)
    // has settled: the stop's own instruction had every chance to go first.
    const from = r.commands.length;
    await r.cp.stopTransaction(1);
    await r.cp.whenIdle();
    await settled(r);
    await r.manager.apply(setPoint(0));
    await settled(r);
    r.clock.advance(5_000);
    await settled(r);
    const sent = profilesSent(r.commands, from).filter((request) => request.connectorId === 1);
    assert.deepEqual(
      sent.map(
        (request) =>
          `${request.csChargingProfiles.chargingProfilePurpose}:${request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit}`,
      ),
      ['TxDefaultProfile:0'],
    );
    assert.equal(r.cp.connector(1).offeredA, 0);
  });

  it('still sends the limit for the next session when nothing else comes', async () => {
    const r = await rig({ manager: { ...NO_OFFLINE_FALLBACK, increaseIntervalMs: 0 } });
    await startCharging(r.cp);
    await r.manager.apply(setPoint(20));
    await settled(r);
    const from = r.commands.length;
    await r.cp.stopTransaction(1);
    await r.cp.whenIdle();
    await settled(r);
    r.clock.advance(5_000);
    await settled(r);
    const sent = profilesSent(r.commands, from).filter((request) => request.connectorId === 1);
    assert.deepEqual(
      sent.map((request) => request.csChargingProfiles.chargingProfilePurpose),
      ['TxDefaultProfile'],
    );
  });
});
