import assert from 'node:assert/strict';
import type { LimitReport } from '../../../lib/profiles';
import { offered, profilesSent, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * A limit embedded in RemoteStartTransaction (5.16.2) belongs to the transaction that start begins
 * (same id tag and connector, soon after) and to no other; until then the charger's limit for the
 * session is not known. Each case failed before its fix (found by the review of the profile manager).
 */
describe('Profiles: the limit in RemoteStartTransaction', () => {
  const { rig } = useProfileRig();

  it('does not bind the limit of a start whose transaction never came to a later local session', async () => {
    const { cp, clock, manager } = await rig();
    await manager.apply(setPoint(10));
    // The charger accepts, but no transaction follows (the driver walks away).
    cp.override('RemoteStartTransaction', () => ({ status: 'Accepted' }));
    const started = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(started.embeddedLimitA, 10);
    cp.override('RemoteStartTransaction', undefined);
    clock.advance(60_000);
    const [up] = await manager.apply(setPoint(32));
    assert.equal(up?.outcome, 'applied');
    // Later a driver starts with an RFID card (another tag).
    await startCharging(cp);
    clock.advance(0);
    await settled({ cp, manager });
    assert.deepEqual(offered(cp, 1), [32]);
    const [down] = await manager.apply(setPoint(10));
    // Before the fix the stale 10 A was taken as this session's TxProfile: `duplicate`, and 32 A stayed.
    assert.equal(down?.outcome, 'applied');
    assert.equal(down?.method, 'TxProfile');
    assert.deepEqual(offered(cp, 1), [10]);
  });

  it('checks a decrease that came while the start with a higher limit was on its way, once the transaction is there', async () => {
    const { cp, manager, commands } = await rig();
    await manager.apply(setPoint(16));
    cp.plugIn(1, { maxCurrentA: 32 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    cp.override('RemoteStartTransaction', async (_request, next) => {
      entered();
      await gate;
      return next();
    });
    const resent: LimitReport[] = [];
    manager.on('limit', (report: LimitReport) => {
      if (report.resent) resent.push(report);
    });
    const starting = manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    await inside;
    // The load manager lowers the connector while the start (with 16 A in it) is on its way.
    const down = manager.apply(setPoint(6));
    release();
    assert.equal((await starting).embeddedLimitA, 16);
    assert.equal((await down)[0]?.outcome, 'applied');
    await settled({ cp, manager });
    // Before the fix the embedded 16 A overtook the 6 A and nothing looked again.
    assert.deepEqual(offered(cp, 1), [6]);
    assert.deepEqual(
      resent.map((report) => [report.method, report.limitA]),
      [['TxProfile', 6]],
    );
    const before = commands.length;
    assert.equal((await manager.apply(setPoint(6)))[0]?.outcome, 'duplicate');
    assert.deepEqual(profilesSent(commands, before), []);
  });

  it('binds the limit to the transaction the start began, so the same limit is not sent again', async () => {
    const { cp, manager, commands } = await rig();
    await manager.apply(setPoint(12));
    cp.plugIn(1, { maxCurrentA: 32 });
    const started = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(started.embeddedLimitA, 12);
    await settled({ cp, manager });
    assert.deepEqual(offered(cp, 1), [12]);
    const before = commands.length;
    assert.equal((await manager.apply(setPoint(12)))[0]?.outcome, 'duplicate');
    const [down] = await manager.apply(setPoint(8));
    assert.equal(down?.method, 'TxProfile');
    assert.equal(profilesSent(commands, before).length, 1);
    assert.deepEqual(offered(cp, 1), [8]);
  });
});
