import assert from 'node:assert/strict';
import { executeCommand } from '../../../lib/ocpp/commands';
import { CommandError } from '../../../lib/ocpp/connection';
import {
  ChargerActivity,
  type ConnectorRow,
  connectorRows,
  type SessionRow,
} from '../../../lib/ocpp/listings';
import { rpcChargePoint } from '../../support/charge-point';
import { waitFor } from '../../support/events';
import { advance, nextMessage, urlOf, useInterop } from '../interop/support';

/**
 * The read-only views the dashboard (ListConnectors, ListSessions) and the editor's Chargers
 * sidebar (ChargerActivity) are built from, against the simulator over real WebSockets.
 */
describe('central system listings', () => {
  const interop = useInterop();

  it('ListConnectors: one row per connector with status, power, session energy, id tag and duration; Offline once the charger is gone', async () => {
    const cs = await interop.harness().centralSystem();
    const { cp, clock } = interop.simulator(cs, 'CP-1', {
      connectors: 2,
      configuration: { MeterValueSampleInterval: 10 },
    });
    await cp.connect();
    cp.plugIn(1, { phases: 3, maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-A');
    await cp.whenIdle();
    const metered = nextMessage(cs, 'MeterValues');
    await advance(cp, clock, 60_000, 10_000);
    await metered;

    const rows = (await executeCommand(cs, { action: 'ListConnectors' })).response as ConnectorRow[];
    assert.deepEqual(
      rows.map((row) => [row.chargePointId, row.connectorId, row.status, row.idTag]),
      [
        ['CP-1', 1, 'Charging', 'TAG-A'],
        ['CP-1', 2, 'Available', undefined],
      ],
    );
    const charging = rows[0] as ConnectorRow;
    assert.equal(charging.transactionId, cp.connector(1).transaction?.transactionId);
    assert.ok((charging.powerW ?? 0) > 1000, `power ${charging.powerW}`);
    assert.ok((charging.sessionEnergyWh ?? 0) > 0, `session energy ${charging.sessionEnergyWh}`);
    const startedMs = Date.parse(charging.startedAt ?? '');
    assert.equal(connectorRows(cs, startedMs + 90_000)[0]?.durationMinutes, 1.5);

    const gone = waitFor(cs, 'disconnect');
    await cp.disconnect();
    await gone;
    assert.deepEqual(
      connectorRows(cs).map((row) => [row.status, row.online]),
      [
        ['Offline', false],
        ['Offline', false],
      ],
    );
  });

  it('ListSessions: the charge data records newest first with their duration, limited, per charger; a bad limit names the field', async () => {
    const cs = await interop.harness().centralSystem();
    const { cp, clock } = interop.simulator(cs, 'CP-1');
    const other = interop.simulator(cs, 'CP-2', { clock });
    await cp.connect();
    await other.cp.connect();
    for (const tag of ['TAG-1', 'TAG-2', 'TAG-3']) {
      cp.plugIn(1, {});
      await cp.startTransaction(1, tag);
      await advance(cp, clock, 120_000);
      await cp.stopTransaction(1);
      cp.unplug(1);
      await cp.whenIdle();
    }
    other.cp.plugIn(1, {});
    await other.cp.startTransaction(1, 'TAG-X');
    await other.cp.stopTransaction(1);
    await other.cp.whenIdle();

    const all = (await executeCommand(cs, { action: 'ListSessions' })).response as SessionRow[];
    assert.deepEqual(
      all.map((row) => row.idTag),
      ['TAG-X', 'TAG-3', 'TAG-2', 'TAG-1'],
    );
    assert.equal(all[1]?.durationMinutes, 2);
    const two = await executeCommand(cs, { action: 'ListSessions', payload: { limit: 2 } });
    assert.deepEqual(
      (two.response as SessionRow[]).map((row) => row.idTag),
      ['TAG-X', 'TAG-3'],
    );
    const mine = await executeCommand(cs, {
      action: 'ListSessions',
      chargePointId: 'CP-1',
      payload: { limit: 2 },
    });
    assert.deepEqual(
      (mine.response as SessionRow[]).map((row) => row.idTag),
      ['TAG-3', 'TAG-2'],
    );
    await assert.rejects(
      executeCommand(cs, { action: 'ListSessions', payload: { limit: 0 } }),
      (err: unknown) =>
        err instanceof CommandError &&
        err.code === 'InvalidRequest' &&
        /ListSessions: limit/.test(err.message),
    );
    await assert.rejects(
      executeCommand(cs, { action: 'ListSessions', payload: { from: 'yesterday' } }),
      /ListSessions: from: "yesterday" is not a date/,
    );
  });

  it('ChargerActivity: each charger with its boot data, last message and validation warnings (counted, newest first)', async () => {
    const harness = interop.harness();
    const cs = await harness.centralSystem({ chargePoints: { 'CP-LAX': { lenient: true } } });
    const activity = new ChargerActivity(cs);
    try {
      const charger = rpcChargePoint(urlOf(cs), 'CP-LAX');
      interop.track({ close: async () => void (await charger.close()) });
      await charger.connect();
      const boot = {
        chargePointVendor: 'Schneider Electric',
        chargePointModel: 'EVlink',
        chargeBoxSerialNumber: 'EVB1A22P4KI3N3A2B0GR9ZFT9PS1',
        firmwareVersion: '3.4.0.2',
      };
      await charger.call('BootNotification', boot);
      await charger.call('BootNotification', boot);
      await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });

      const [listing] = activity.list();
      assert.equal(listing?.chargePointId, 'CP-LAX');
      assert.equal(listing?.connected, true);
      assert.equal(listing?.boot?.request.chargePointModel, 'EVlink');
      assert.equal(listing?.lastMessage?.action, 'StatusNotification');
      assert.deepEqual(
        listing?.connectors.map((c) => [c.connectorId, c.status]),
        [[1, 'Available']],
      );
      assert.equal(listing?.warnings.length, 1);
      assert.equal(listing?.warnings[0]?.action, 'BootNotification');
      assert.equal(listing?.warnings[0]?.count, 2);
      assert.match(listing?.warnings[0]?.summary ?? '', /chargeBoxSerialNumber/);

      activity.stop();
      await charger.call('Heartbeat', {});
      assert.equal(activity.list()[0]?.lastMessage?.action, 'StatusNotification');
    } finally {
      activity.stop();
    }
  });
});
