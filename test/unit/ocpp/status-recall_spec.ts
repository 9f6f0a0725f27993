import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorState } from '../../../lib/contracts';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { answer } from '../../support/charge-point';
import { Charger201 } from '../../support/charger201';
import { waitFor } from '../../support/events';
import { isoNow, useOcppHarness } from '../../support/ocpp';

/**
 * A charger that booted before ampflow restarted only reconnects (OCPP-J 5.4): it is asked for its
 * connectors' states once (TriggerMessage StatusNotification), so they are not `?` until a car
 * comes or goes (issue 48).
 */
describe('a charger reconnecting to a restarted central system is asked for its states', () => {
  const harness = useOcppHarness();
  let dataDirectory: string;

  beforeEach(() => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-recall-'));
  });

  afterEach(() => {
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  /** A central system on `dataDirectory` that `CP-1` booted at, restarted: the second one. */
  async function restartedAfterBoot(): Promise<CentralSystem> {
    const first = await harness().centralSystem({ dataDirectory });
    const { client } = await harness().bootedCharger(first, 'CP-1');
    await client.call('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
      timestamp: isoNow(),
    });
    await client.close({ force: true });
    await first.stop();
    return harness().centralSystem({ dataDirectory });
  }

  const known = (cs: CentralSystem, id: string) =>
    cs.connectors
      .all(id)
      .filter((c) => c.status)
      .map((c) => [c.connectorId, c.status]);

  it('OCPP 1.6: once, without connectorId; a charger without TriggerMessage is left as it is, said at debug', async () => {
    const cs = await restartedAfterBoot();
    assert.deepEqual(known(cs, 'CP-1'), [], 'nothing known of it after the restart');
    const charger = harness().charger(cs, 'CP-1');
    const asked: unknown[] = [];
    answer(charger, 'TriggerMessage', (request) => {
      asked.push(request);
      setImmediate(() => {
        for (const connectorId of [0, 1])
          void charger.call('StatusNotification', {
            connectorId,
            errorCode: 'NoError',
            status: connectorId === 0 ? 'Available' : 'Charging',
            timestamp: isoNow(),
          });
      });
      return { status: 'Accepted' };
    });
    const charging = waitFor<[ConnectorState]>(
      cs,
      'connector',
      (s) => s.connectorId === 1 && s.status === 'Charging',
    );
    await charger.connect();
    await charging;
    assert.deepEqual([...asked], [{ requestedMessage: 'StatusNotification' }]);

    // Reconnecting in the same run: not asked again.
    await charger.close({ force: true });
    const again = harness().charger(cs, 'CP-1');
    answer(again, 'TriggerMessage', (request) => {
      asked.push(request);
      return { status: 'Accepted' };
    });
    await again.connect();
    await again.call('Heartbeat', {});
    assert.equal(asked.length, 1);

    // A charger without TriggerMessage (ocpp-rpc answers NotImplemented): a debug line, no warning.
    await again.close({ force: true });
    await cs.stop();
    const third = await harness().centralSystem({ dataDirectory });
    const plain = harness().charger(third, 'CP-1');
    const failed = waitFor<[{ action: string; error?: Error }]>(
      third,
      'command',
      (c) => c.action === 'TriggerMessage',
    );
    await plain.connect();
    assert.match(String((await failed)[0].error?.message), /NotImplemented|not implemented/i);
    await new Promise(setImmediate);
    const log = harness().log;
    assert.equal(log.matching(/TriggerMessage StatusNotification/, 'debug').length, 1);
    assert.deepEqual(log.matching(/TriggerMessage/, 'warn'), []);
    assert.deepEqual(log.matching(/TriggerMessage/, 'error'), []);
    assert.equal(third.isConnected('CP-1'), true);
  });

  it('OCPP 2.0.1: EVSE after EVSE until the station refuses one', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const url = (cs: CentralSystem) => `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`;
    const booted = new Charger201({ url: url(first), identity: 'CS201', evses: 2 });
    try {
      await booted.connect();
      assert.equal((await booted.boot()).status, 'Accepted');
      await booted.status(1, 'Occupied');
    } finally {
      await booted.close();
    }
    await first.stop();
    const cs = await harness().centralSystem({ dataDirectory });
    const station = new Charger201({ url: url(cs), identity: 'CS201', evses: 2 });
    try {
      const both = waitFor(cs, 'connector', () => known(cs, 'CS201').length === 2);
      const last = waitFor(
        cs,
        'command',
        (c: { action: string; request: { connectorId?: number } }) =>
          c.action === 'TriggerMessage' && c.request.connectorId === 3,
      );
      await station.connect();
      await Promise.all([both, last]);
      assert.deepEqual(known(cs, 'CS201'), [
        [1, 'Available'],
        [2, 'Available'],
      ]);
      const triggers = station.received.filter((call) => call.action === 'TriggerMessage');
      assert.deepEqual(
        triggers.map((call) => [call.payload, call.response]),
        [1, 2, 3].map((id) => [
          { requestedMessage: 'StatusNotification', evse: { id, connectorId: 1 } },
          { status: id <= 2 ? 'Accepted' : 'Rejected' },
        ]),
      );
      assert.deepEqual(station.violations, []);
    } finally {
      await station.close();
    }
  });
});
