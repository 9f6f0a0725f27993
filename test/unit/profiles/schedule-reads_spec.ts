import assert from 'node:assert/strict';
import { advance } from '../interop/support';
import { actionsSent, NO_OFFLINE_FALLBACK, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * When the composite schedule is read back after an accepted limit (verifier.ts `wanted`): for
 * every limit of a way until two reads in a row matched on the connector (per connection and
 * transaction), then while the meter shows the connector above its limit, and else once per
 * `verification.scheduleEveryMs` (spread per charger by less than a quarter of it).
 */
describe('Profiles: when the composite schedule is read back', () => {
  const { rig } = useProfileRig();
  const manager = { ...NO_OFFLINE_FALLBACK, increaseIntervalMs: 0 };

  it('reads the first two limits of a way, then once a minute; a reconnect and a new session start over', async () => {
    const r = await rig({ manager });
    await startCharging(r.cp);
    const reads = () => actionsSent(r.commands).filter((action) => action === 'GetCompositeSchedule').length;
    const schedules: string[] = [];
    const apply = async (limitA: number) => {
      const [report] = await r.manager.apply(setPoint(limitA));
      assert.equal(report?.outcome, 'applied', report?.error);
      assert.equal(report?.method, 'TxProfile');
      assert.equal(r.cp.connector(1).offeredA, limitA, 'every limit is in force at the charger');
      schedules.push(report?.verification.schedule ?? 'none');
    };
    await apply(24);
    await apply(22);
    await apply(20);
    await apply(18);
    assert.deepEqual(schedules.splice(0), ['matches', 'matches', 'notChecked', 'notChecked']);
    assert.equal(reads(), 2);

    r.clock.advance(59_000);
    await apply(17);
    assert.deepEqual(schedules.splice(0), ['notChecked'], 'within the minute');
    r.clock.advance(16_000);
    await apply(16);
    await apply(15);
    assert.deepEqual(schedules.splice(0), ['matches', 'notChecked'], 'a minute (and its spread) on');
    assert.equal(reads(), 3);

    // Someone else's profile command (a flow, an operator's backend) may put a profile above ours.
    await r.cs.call('CP1', 'ClearChargingProfile', { id: 1 });
    await apply(14);
    await apply(13);
    assert.deepEqual(schedules.splice(0), ['matches', 'matches'], 'after a clear that was not ours');
    assert.equal(reads(), 5);

    // The charger may have lost what it had: its limits are read back again.
    await r.cp.disconnect();
    await r.cp.connect();
    await advance(r.cp, r.clock, 2000);
    await settled(r);
    assert.equal(reads(), 6, 'the re-sent limit is read back');
    await apply(12);
    await apply(11);
    assert.deepEqual(schedules.splice(0), ['matches', 'notChecked']);

    // A new session: its TxProfile is another way.
    await r.cp.stopTransaction(1);
    await settled(r);
    r.cp.unplug(1);
    await startCharging(r.cp);
    await settled(r);
    const before = reads();
    await apply(10);
    await apply(9);
    await apply(8);
    assert.deepEqual(schedules.splice(0), ['matches', 'matches', 'notChecked']);
    assert.equal(reads(), before + 2);
  });

  it('reads every limit while the meter shows the connector above its limit, and every limit with scheduleEveryMs 0', async () => {
    const verification = { followDelayMs: 10_000, scheduleEveryMs: 600_000 };
    const r = await rig({
      manager: { ...manager, verification },
      sim: { vendorBehaviour: { ignoreLimits: true } },
    });
    await startCharging(r.cp);
    const schedules: (string | undefined)[] = [];
    for (const limitA of [20, 18, 16])
      schedules.push((await r.manager.apply(setPoint(limitA)))[0]?.verification.schedule);
    assert.deepEqual(schedules.splice(0), ['matches', 'matches', 'notChecked']);
    // The car keeps drawing 32 A: from the follow delay on the meter says so.
    await advance(r.cp, r.clock, 20_000, 10_000);
    assert.equal(r.manager.charger('CP1')?.connectors[0]?.verification.meter, 'above');
    for (const limitA of [15, 14])
      schedules.push((await r.manager.apply(setPoint(limitA)))[0]?.verification.schedule);
    // The meter's watch goes on across limits of a session: the car still draws 32 A, above every
    // limit of the follow window, so each of these limits is read back (before, each new limit
    // started the watch over and only the first one after the doubt was read).
    assert.deepEqual(schedules.splice(0), ['matches', 'matches'], 'every limit while the meter doubts them');
    assert.equal(r.manager.charger('CP1')?.connectors[0]?.verification.meter, 'above');

    const always = await rig({
      identity: 'CP2',
      manager: { ...manager, verification: { scheduleEveryMs: 0 } },
    });
    await startCharging(always.cp);
    for (const limitA of [20, 18, 16, 14]) {
      const [report] = await always.manager.apply(setPoint(limitA, { chargePointId: 'CP2' }));
      schedules.push(report?.verification.schedule);
    }
    assert.deepEqual(schedules, ['matches', 'matches', 'matches', 'matches']);
  });
});
