import assert from 'node:assert/strict';
import { profileIdFor } from '../../../lib/profiles/build';
import { refuseProfiles } from './refusals';
import { type ProfileRig, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * A composite schedule below the set-point is corrected, not only reported: a stale profile of
 * ours (the 0 A TxDefaultProfile of a pause while idle, left installed when the session's limit
 * went as a ChargePointMaxProfile) held a car at 0 A for its whole session while every change
 * logged "composite schedule says 0 A". Those of ours that are lower are cleared and the limit
 * goes again, once per set-point.
 */

const TX_DEFAULT_ID = profileIdFor('TxDefaultProfile', 1);

function clearsOf(r: ProfileRig, id: number): number {
  return r.commands.filter(
    (event) => event.action === 'ClearChargingProfile' && (event.request as { id?: number }).id === id,
  ).length;
}

describe('Profiles: a composite schedule below the set-point', () => {
  const { rig } = useProfileRig();

  /** Paused while idle (0 A TxDefaultProfile), then a session whose TxProfiles the charger refuses. */
  async function pausedThenCharging(r: ProfileRig) {
    refuseProfiles(r.cp, (purpose) => purpose === 'TxProfile');
    await r.manager.apply(setPoint(0));
    await settled(r);
    await startCharging(r.cp);
    const [report] = await r.manager.apply(setPoint(16));
    await settled(r);
    return report;
  }

  it('clears our stale 0 A TxDefaultProfile and sends the limit again: the car charges at 16 A', async () => {
    const r = await rig({ manager: { offlineFallbackA: null, increaseIntervalMs: 0 } });
    const report = await pausedThenCharging(r);
    assert.equal(report?.method, 'ChargePointMaxProfile');
    assert.equal(clearsOf(r, TX_DEFAULT_ID), 1, 'our stale TxDefaultProfile was cleared');
    assert.equal(r.cp.connector(1).offeredA, 16);
    assert.equal(report?.verification.schedule, 'matches', 'read again after the correction');
    assert.equal(r.log.matching(/cleared its stale profiles of ours/, 'warn').length, 1);
  });

  it('corrects once per set-point: a schedule still lower afterwards is reported, not looped on', async () => {
    const r = await rig({ manager: { offlineFallbackA: null, increaseIntervalMs: 0 } });
    // The charger answers Accepted to a clear but keeps the profile.
    r.cp.override('ClearChargingProfile', () => ({ status: 'Accepted' }));
    const report = await pausedThenCharging(r);
    assert.equal(report?.verification.schedule, 'lower');
    assert.equal(clearsOf(r, TX_DEFAULT_ID), 1);
    const sent = r.commands.length;
    r.clock.advance(120_000);
    await settled(r);
    assert.equal(clearsOf(r, TX_DEFAULT_ID), 1, 'no second correction for the same set-point');
    assert.ok(r.commands.length - sent < 5, `no loop: ${r.commands.length - sent} commands`);
    assert.equal(r.log.matching(/after it was corrected once/).length >= 1, true);
  });
});
