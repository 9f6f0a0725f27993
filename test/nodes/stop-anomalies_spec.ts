import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');

import type { SessionRecord } from '../../lib/contracts';
import type { StopAnomaly } from '../../lib/ocpp/central-state';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { centralSystemConfig } from '../support/flows';
import { sendJunkEnded201 } from '../support/junk-stops';
import { isoNow } from '../support/ocpp';
import { freePort } from '../support/ports';
import { listening, onTab, useHelperServer } from './fixtures';

/**
 * Issue 46 item 3: only true stops become charge data records. The four junk stops of the issue
 * (another charger's transaction, a second stop with other figures, an unknown transaction, a
 * negative meter value), sent by real chargers over WebSockets, leave the CDR export with the one
 * true row and four anomalies, readable through the admin route and the Chargers sidebar, kept
 * across a restart. OCPP 1.6 (ocpp-rpc chargers) and 2.0.1 (the independent test station).
 */
describe('stops that are no charge data record', () => {
  useHelperServer();
  let dataDirectory: string;

  beforeEach(() => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-stop-anomalies-'));
  });

  afterEach(() => {
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  async function deploy(port: number): Promise<CentralSystemNode> {
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port, { dataDirectory })));
    const node = helper.getNode('cs') as CentralSystemNode;
    await listening(node);
    return node;
  }

  /** The CSV export's rows as objects by column title. */
  async function exported(): Promise<Record<string, string>[]> {
    const csv = await helper.request().get('/ampflow-central-system/cs/sessions.csv').expect(200);
    const [head = '', ...rows] = csv.text.trim().split('\r\n');
    const titles = head.split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((cell, i) => [titles[i], cell])));
  }

  async function anomalies(): Promise<{ count: number; anomalies: StopAnomaly[] }> {
    const response = await helper.request().get('/ampflow-central-system/cs/stop-anomalies').expect(200);
    return response.body as { count: number; anomalies: StopAnomaly[] };
  }

  async function sidebar(): Promise<SidebarCentralSystem['stopAnomalies']> {
    const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
    return (response.body as SidebarCentralSystem[])[0]?.stopAnomalies;
  }

  it('OCPP 1.6: the four junk stops leave one row for transaction 1 and four anomalies, also after a restart', async () => {
    const port = await freePort();
    const node = await deploy(port);
    const sessions: SessionRecord[] = [];
    node.centralSystem?.on('session', (session: SessionRecord) => sessions.push(session));
    const [one, two] = ['CP-1', 'CP-2'].map((id) => rpcChargePoint(`ws://127.0.0.1:${port}/`, id));
    assert.ok(one && two);
    try {
      for (const charger of [one, two]) {
        await charger.connect();
        await charger.call('BootNotification', { chargePointVendor: 'ampflow', chargePointModel: 'test' });
      }
      const start = { connectorId: 1, idTag: 'TAG-1', timestamp: isoNow(-1_800_000) };
      const first = (await one.call('StartTransaction', { ...start, meterStart: 1000 })) as {
        transactionId: number;
      };
      const second = (await two.call('StartTransaction', { ...start, meterStart: 500 })) as {
        transactionId: number;
      };
      assert.deepEqual([first.transactionId, second.transactionId], [1, 2]);

      // (a) another charger's transaction: every junk stop is still answered, so the charger can
      // drop it from its queue (OCPP 1.6 §3.7.1, §4.10).
      assert.deepEqual(
        await two.call('StopTransaction', { transactionId: 1, meterStop: 3000, timestamp: isoNow() }),
        {},
      );
      const truth = { transactionId: 1, meterStop: 2500, timestamp: isoNow(), idTag: 'TAG-1' };
      assert.deepEqual(await one.call('StopTransaction', truth), { idTagInfo: { status: 'Accepted' } });
      // The same stop again (a lost answer, OCPP-J retries) is answered as the first: no anomaly.
      assert.deepEqual(await one.call('StopTransaction', truth), { idTagInfo: { status: 'Accepted' } });
      // (b) a second stop of the same transaction with other figures; (c) an unknown transaction;
      // (d) a negative meter value.
      for (const [charger, stop] of [
        [one, { transactionId: 1, meterStop: 999_999_999, timestamp: isoNow() }],
        [one, { transactionId: 4242, meterStop: 100, timestamp: isoNow() }],
        [two, { transactionId: 2, meterStop: -5, timestamp: isoNow() }],
      ] as const)
        assert.deepEqual(await charger.call('StopTransaction', stop), {});

      const check = async () => {
        const rows = await exported();
        assert.deepEqual(
          rows.map((row) => [
            row.transaction,
            row['charge point'],
            row['meter stop (Wh)'],
            row['energy (Wh)'],
            row.note,
          ]),
          [['1', 'CP-1', '2500', '1500', '']],
        );
        const kept = await anomalies();
        assert.equal(kept.count, 4);
        assert.deepEqual(
          kept.anomalies.map((a) => [
            a.chargePointId,
            a.received.transactionId,
            a.received.meterStop,
            a.reason,
          ]),
          [
            ['CP-2', 1, 3000, 'otherCharger'],
            ['CP-1', 1, 999_999_999, 'alreadyStopped'],
            ['CP-1', 4242, 100, 'unknownTransaction'],
            ['CP-2', 2, -5, 'negativeMeter'],
          ],
        );
        assert.ok(
          kept.anomalies.every((a) => a.detail.length > 0 && Number.isFinite(Date.parse(a.receivedAt))),
        );
        const shown = await sidebar();
        assert.equal(shown?.count, 4);
        assert.deepEqual(
          shown?.recent.map((a) => a.reason),
          kept.anomalies.map((a) => a.reason),
        );
      };
      await check();
      assert.deepEqual(
        sessions.map((s) => [s.transactionId, s.meterStopWh]),
        [[1, 2500]],
        'one session for billing in the flows',
      );
      // A negative meter ends nothing: transaction 2 stays open for its true stop.
      assert.deepEqual(
        node.centralSystem?.openTransactions().map((tx) => tx.transactionId),
        [2],
      );

      for (const charger of [one, two]) await charger.close({ force: true });
      await helper.unload();
      await deploy(port);
      await check();
    } finally {
      for (const charger of [one, two]) await charger.close({ force: true }).catch(() => undefined);
    }
  });

  it('OCPP 2.0.1: the four junk TransactionEvent Ended leave one row for the true one and four anomalies', async () => {
    const port = await freePort();
    const node = await deploy(port);
    const sessions: SessionRecord[] = [];
    node.centralSystem?.on('session', (session: SessionRecord) => sessions.push(session));
    const [a, b] = ['CS-A', 'CS-B'].map(
      (identity) => new Charger201({ url: `ws://127.0.0.1:${port}/`, identity }),
    );
    assert.ok(a && b);
    try {
      for (const station of [a, b]) {
        await station.connect();
        assert.equal((await station.boot()).status, 'Accepted');
      }
      // (a) station B ends station A's transaction; A ends it truly; (b) A ends it again with other
      // figures; (c) an unknown transaction; (d) a negative register: each answered as usual.
      const { txA, txB, answers } = await sendJunkEnded201(a, b);
      assert.deepEqual(answers, [{}, {}, {}, {}]);

      const rows = await exported();
      assert.deepEqual(
        rows.map((row) => [
          row['charge point'],
          row['charger transaction id (OCPP 2.0.1)'],
          row['meter stop (Wh)'],
          row['energy (Wh)'],
        ]),
        [['CS-A', txA, '2500', '1500']],
      );
      const kept = await anomalies();
      assert.deepEqual(
        kept.anomalies.map((x) => [
          x.chargePointId,
          x.received.chargerTransactionId,
          x.received.meterStop,
          x.reason,
        ]),
        [
          ['CS-B', txA, 3000, 'otherCharger'],
          ['CS-A', txA, 999_999_999, 'alreadyStopped'],
          ['CS-A', 'never-started', 100, 'unknownTransaction'],
          ['CS-B', txB, -5, 'negativeMeter'],
        ],
      );
      assert.equal((await sidebar())?.count, 4);
      assert.deepEqual(
        sessions.map((s) => [s.chargerTransactionId, s.meterStopWh]),
        [[txA, 2500]],
      );
      assert.deepEqual([...a.violations, ...b.violations], []);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
