import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { silentLogger } from '../../../lib/log';
import { ChargingProfileManager } from '../../../lib/profiles';
import { fallbackProfileId } from '../../../lib/profiles/build';
import { usePeerCarPark } from '../../support/peer-site';
import { VoltbrasCharger } from '../../support/voltbras-charger';

/**
 * The offline fallback (issue #12) against a charger on @voltbras/ts-ocpp whose profiles follow
 * OCPP 1.6 as written (test/support/charger-profiles.ts: validTo, stack levels), not this
 * package's simulator: its schemas check every profile the manager sends (validTo included).
 */
describe('chargers built elsewhere: the offline fallback (@voltbras/ts-ocpp)', () => {
  const clock = new ManualClock(Date.now());
  const { harness, chargers, cleanups } = usePeerCarPark(
    (identity, options) => new VoltbrasCharger(identity, { ...options, now: () => clock.now() }),
  );

  async function setUp() {
    const cs = await harness().centralSystem();
    const cp = new VoltbrasCharger('VOLT-F', { connectors: 2, now: () => clock.now() });
    chargers.push(cp);
    await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    const manager = new ChargingProfileManager(cs, { clock, increaseIntervalMs: 0, log: silentLogger });
    cleanups.push(() => manager.close());
    const limit = (connectorId: number, limitA: number) =>
      manager.apply({ chargePointId: 'VOLT-F', connectorId, limitA, reason: 'test' });
    const settle = () => manager.whenSettled('VOLT-F');
    return { cs, cp, manager, limit, settle };
  }

  it('installs it under the set-points, refreshes them while connected (bounded), and a lost charger falls to it', async () => {
    const { cs, cp, limit, settle } = await setUp();
    await cp.startSession(1, 'TAG-1', { maxA: 32, phases: 3 });
    await limit(1, 32);
    await limit(2, 32);
    await settle();
    assert.ok(cp.store.all().some(({ profile }) => profile.chargingProfileId === fallbackProfileId()));
    assert.deepEqual(cp.drawA(1), [32, 32, 32]);
    assert.equal(cs.connectorOf('VOLT-F', 2)?.offlineFallback?.limitA, 6);

    // An hour connected: the car keeps 32 A, and each connector's profile goes again 16-24 times.
    const before = cp.accepted.length;
    let lowest = 32;
    for (let s = 0; s < 3600; s += 10) {
      clock.advance(10_000);
      await settle();
      lowest = Math.min(lowest, cp.offeredA(1));
    }
    assert.equal(lowest, 32);
    const refreshed = cp.accepted.slice(before);
    for (const id of [1, 2]) {
      const count = refreshed.filter((request) => request.connectorId === id).length;
      assert.ok(count >= 16 && count <= 24, `connector ${id}: ${count} SetChargingProfile in an hour`);
    }

    // Lost: within 300 s the session comes down to 6 A, and a car that arrives offline gets 6 A.
    await cp.close();
    clock.advance(300_000);
    assert.deepEqual(cp.drawA(1), [6, 6, 6]);
    cp.startOfflineSession(2, 'TAG-2', { maxA: 32, phases: 3 });
    let highest = 0;
    for (let s = 0; s < 3600; s += 60) {
      clock.advance(60_000);
      highest = Math.max(highest, ...cp.drawA(1), ...cp.drawA(2));
    }
    assert.deepEqual(cp.drawA(2), [6, 6, 6]);
    assert.equal(highest, 6, 'never more than the fallback while offline');
    assert.equal(cs.connectorOf('VOLT-F', 2)?.online, false);
    assert.equal(cs.connectorOf('VOLT-F', 2)?.offlineFallback?.limitA, 6, 'the load manager reserves 6 A');
    assert.deepEqual(cp.violations, [], 'the library refused nothing the central system sent');
  });
});
