import assert from 'node:assert/strict';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { fallbackProfileId } from '../../../lib/profiles/build';
import {
  NO_OFFLINE_FALLBACK,
  offered,
  type ProfileRig,
  profilesSent,
  setPoint,
  settled,
  startCharging,
  useProfileRig,
} from './support';

/**
 * The offline fallback (issue #12): a TxDefaultProfile on connector 0 at stack level 0 under the
 * set-point profiles, which carry a validTo and are re-sent while the charger is connected; once
 * the charger loses ampflow, every connector falls to the fallback. Against the package's
 * simulator, which keeps profiles as OCPP 1.6 says (validTo, stack levels) on the shared clock.
 */

const FALLBACK_ID = fallbackProfileId();
const AFTER_MS = 300_000;

function profileOf(request: SetChargingProfileRequest | undefined) {
  return request?.csChargingProfiles;
}

/** Moves the shared clock in steps, letting every command and message of each step finish. */
async function run(r: ProfileRig, totalMs: number, stepMs: number, each: () => void = () => undefined) {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    r.clock.advance(Math.min(stepMs, totalMs - elapsed));
    await settled(r);
    each();
  }
}

describe('Profiles: the offline fallback', () => {
  const { rig } = useProfileRig();

  it('installs the fallback first, under set-points that end 300 s on, and tells the central system', async () => {
    const r = await rig();
    const [report] = await r.manager.apply(setPoint(16));
    await settled(r);
    assert.equal(report?.outcome, 'applied');
    const [fallback, limit] = profilesSent(r.commands);
    assert.equal(fallback?.connectorId, 0);
    assert.deepEqual(
      {
        id: profileOf(fallback)?.chargingProfileId,
        purpose: profileOf(fallback)?.chargingProfilePurpose,
        stackLevel: profileOf(fallback)?.stackLevel,
        limit: profileOf(fallback)?.chargingSchedule.chargingSchedulePeriod[0]?.limit,
        validTo: profileOf(fallback)?.validTo,
      },
      { id: FALLBACK_ID, purpose: 'TxDefaultProfile', stackLevel: 0, limit: 6, validTo: undefined },
    );
    assert.equal(profileOf(limit)?.stackLevel, 8);
    const validTo = Date.parse(profileOf(limit)?.validTo ?? '');
    assert.ok(
      validTo <= r.clock.now() + AFTER_MS && validTo > r.clock.now() + AFTER_MS - 1000,
      `validTo ${profileOf(limit)?.validTo}`,
    );
    assert.deepEqual(
      { ...r.cs.connectorOf('CP1', 1)?.offlineFallback, since: undefined },
      { limitA: 6, afterS: 300, since: undefined },
    );
    assert.deepEqual(offered(r.cp, 1), [0], 'no car yet');
  });

  it('keeps a connected charger at its set-points: refreshed before they end, at most one per connector every 150 s', async () => {
    const r = await rig({ sim: { connectors: 2 } });
    await r.manager.apply([setPoint(20), setPoint(12, { connectorId: 2 })]);
    await startCharging(r.cp, 1);
    r.clock.advance(0); // the session's TxProfile goes on the next tick
    await settled(r);
    await r.manager.apply(setPoint(20));
    await settled(r);
    const before = r.commands.length;
    const lowest = [32, 32];
    await run(r, 3_600_000, 10_000, () => {
      const [one = 0] = offered(r.cp, 1);
      lowest[0] = Math.min(lowest[0] as number, one);
    });
    assert.equal(lowest[0], 20, 'the car kept its 20 A all hour');
    const hour = r.commands.slice(before);
    await startCharging(r.cp, 2);
    assert.deepEqual(offered(r.cp, 2), [12], 'a car on the idle connector starts at its set-point');
    const refreshes = profilesSent(hour);
    const perConnector = [1, 2].map((id) => refreshes.filter((request) => request.connectorId === id).length);
    // Due from 150 s on, at most 225 s (spread per charger): between 16 and 24 an hour each.
    for (const count of perConnector)
      assert.ok(count >= 16 && count <= 24, `refreshes per hour: ${perConnector}`);
    assert.equal(refreshes.filter((request) => request.connectorId === 0).length, 0, 'the fallback stays');
    assert.ok(
      refreshes.every((request) => request.csChargingProfiles.validTo !== undefined),
      'every refresh ends on its own again',
    );
    const composite = hour.filter((event) => event.action === 'GetCompositeSchedule');
    // One check: the session started under connector 1's TxDefaultProfile, which a refresh would
    // not reach on a charger that applies a new one from the next session on: its limit moves to a
    // TxProfile of its own (a new way, verified). Refreshes of the same way are not verified again.
    assert.equal(composite.length, 1);
  });

  it('once the charger lost ampflow, a high session comes down to the fallback and a car that arrives offline draws it, never more', async () => {
    const r = await rig({ sim: { connectors: 2, configuration: { AllowOfflineTxForUnknownId: true } } });
    await r.manager.apply([setPoint(32), setPoint(32, { connectorId: 2 })]);
    await startCharging(r.cp, 1);
    await r.manager.apply(setPoint(32));
    await settled(r);
    assert.deepEqual(offered(r.cp, 1), [32]);
    await r.cp.disconnect();
    assert.equal(r.cs.connectorOf('CP1', 2)?.online, false);
    assert.equal(r.cs.connectorOf('CP1', 2)?.offlineFallback?.limitA, 6, 'kept while offline');

    await run(r, AFTER_MS, 10_000);
    assert.deepEqual(offered(r.cp, 1), [6], 'the running session is down to the fallback');
    r.cp.plugIn(2, { maxCurrentA: 32 });
    await r.cp.startTransaction(2, 'OFFLINE-TAG');
    let highest = 0;
    await run(r, 3_600_000, 60_000, () => {
      highest = Math.max(highest, ...offered(r.cp, 1, 2));
    });
    assert.deepEqual(offered(r.cp, 2), [6], 'the new car charges at the fallback');
    assert.equal(highest, 6, 'never more than the fallback while offline');
  });

  it('confirms the fallback of a connector whose first limit went as a TxProfile (a car was charging already)', async () => {
    const r = await rig({ sim: { connectors: 2 } });
    await startCharging(r.cp, 1);
    const [report] = await r.manager.apply(setPoint(20));
    await settled(r);
    assert.equal(report?.method, 'TxProfile', 'the session got its limit as a TxProfile');
    const limit = profilesSent(r.commands).find((request) => request.connectorId === 1);
    assert.ok(profileOf(limit)?.validTo, 'the TxProfile ends on its own');
    assert.deepEqual(
      { ...r.cs.connectorOf('CP1', 1)?.offlineFallback, since: undefined },
      { limitA: 6, afterS: 300, since: undefined },
      'the load manager may reserve the fallback, not the last set-point, once the charger is lost',
    );
    await r.cp.disconnect();
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6, 'kept while offline');
  });

  it('installs nothing where the limits go at stack level 0 (ChargeProfileMaxStackLevel 0), and says so once', async () => {
    const r = await rig({ sim: { configuration: { ChargeProfileMaxStackLevel: 0 } } });
    await r.manager.apply(setPoint(16));
    await r.manager.apply(setPoint(10));
    await settled(r);
    const sent = profilesSent(r.commands);
    assert.equal(sent.length, 2);
    assert.ok(sent.every((request) => request.csChargingProfiles.chargingProfileId !== FALLBACK_ID));
    assert.ok(sent.every((request) => request.csChargingProfiles.validTo === undefined));
    const said = r.log.matching(/no offline fallback installed/);
    assert.equal(said.length, 1);
    assert.match(said[0]?.message ?? '', /stack level 0/);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback, undefined);
  });

  it('installs it where ChargeProfileMaxStackLevel is missing: the limits go at stack level 1, above it (issue 45)', async () => {
    const r = await rig({ sim: { configuration: { ChargeProfileMaxStackLevel: null } } });
    await startCharging(r.cp);
    const [report] = await r.manager.apply(setPoint(16));
    await settled(r);
    assert.equal(report?.outcome, 'applied');
    const [fallback, limit] = profilesSent(r.commands);
    assert.equal(profileOf(fallback)?.chargingProfileId, FALLBACK_ID);
    assert.equal(profileOf(fallback)?.stackLevel, 0);
    assert.equal(profileOf(limit)?.stackLevel, 1);
    assert.ok(profileOf(limit)?.validTo, 'its limit ends on its own');
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6);
    assert.equal(r.cs.connectorOf('CP1', 1)?.keepsLimitOffline, undefined);
    assert.deepEqual(offered(r.cp, 1), [16]);
  });

  it('where ChargeProfileMaxStackLevel is missing and the charger takes only 0: its TxProfile at 0 outranks the fallback by purpose; an idle limit at 0 would not, and the fallback goes', async () => {
    const r = await rig({
      sim: { configuration: { ChargeProfileMaxStackLevel: null }, vendorBehaviour: 'abb-terra-ac' },
    });
    await startCharging(r.cp);
    await r.manager.apply(setPoint(16));
    await settled(r);
    const sent = profilesSent(r.commands).map((request) => [
      request.csChargingProfiles.chargingProfilePurpose,
      request.csChargingProfiles.stackLevel,
    ]);
    // The fallback, TxProfile at 1 (refused), at 0 (taken): a TxProfile overrules the
    // TxDefaultProfile whatever their stack levels (OCPP 1.6 §3.13.1), and ends (validTo).
    assert.deepEqual(sent, [
      ['TxDefaultProfile', 0],
      ['TxProfile', 1],
      ['TxProfile', 0],
    ]);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6);
    assert.deepEqual(offered(r.cp, 1), [16]);
    // The car leaves: the next car's limit is a TxDefaultProfile on the connector, at 0 as the
    // fallback: it would replace it for that connector (§3.13.1), so the fallback goes and the
    // connector keeps its last limit.
    await r.cp.stopTransaction(1);
    await r.manager.apply(setPoint(10));
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback, undefined);
    assert.ok(r.cs.connectorOf('CP1', 1)?.keepsLimitOffline);
    assert.equal(r.log.matching(/no offline fallback installed/).length, 1);
  });

  it('changes nothing when switched off (offlineFallbackA null)', async () => {
    const r = await rig({ manager: NO_OFFLINE_FALLBACK });
    await r.manager.apply(setPoint(16));
    await settled(r);
    const sent = profilesSent(r.commands);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.csChargingProfiles.validTo, undefined);
    await run(r, 2 * AFTER_MS, 60_000);
    assert.equal(profilesSent(r.commands).length, 1, 'nothing to refresh');
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback, undefined);
  });

  it('withdraws the confirmation after a reconnect until the fallback is installed again', async () => {
    const r = await rig();
    await r.manager.apply(setPoint(16));
    await settled(r);
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6);
    await r.cp.disconnect();
    await r.cp.connect();
    await settled(r);
    const before = r.commands.length;
    r.clock.advance(2000); // the reconnect settles: everything goes again
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback, undefined, 'withdrawn at once');
    await settled(r);
    const again = profilesSent(r.commands, before);
    assert.deepEqual(
      again.map((request) => request.csChargingProfiles.chargingProfileId),
      [FALLBACK_ID, 7201],
      'the fallback first, then the limit',
    );
    assert.equal(r.cs.connectorOf('CP1', 1)?.offlineFallback?.limitA, 6);
  });

  it('refuses a fallback below the IEC 61851 minimum: a car would be stranded at 0 A', async () => {
    await assert.rejects(rig({ manager: { offlineFallbackA: 3 } }), /at least 6 A/);
  });
});
