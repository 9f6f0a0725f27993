import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionRecord } from '../../../lib/ocpp/central-state';
import { waitFor } from '../../support/events';
import { callError, isoNow, useOcppHarness } from '../../support/ocpp';

const START = { connectorId: 1, idTag: 'TAG-1', meterStart: 1000 };

describe('transactions', () => {
  const harness = useOcppHarness();
  let dataDirectory: string;

  beforeEach(() => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-cs-state-'));
  });

  afterEach(() => {
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('issues unique, increasing ids that survive a restart, and restores open transactions', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const { client } = await harness().bootedCharger(first, 'CP-1');
    const a = (await client.call('StartTransaction', { ...START, timestamp: isoNow() })) as {
      transactionId: number;
    };
    const b = (await client.call('StartTransaction', { ...START, connectorId: 2, timestamp: isoNow() })) as {
      transactionId: number;
    };
    assert.deepEqual([a.transactionId, b.transactionId], [1, 2]);
    await client.call('StopTransaction', {
      transactionId: a.transactionId,
      meterStop: 1500,
      timestamp: isoNow(),
    });
    await first.stop();

    const second = await harness().centralSystem({ dataDirectory });
    assert.deepEqual(
      second.openTransactions().map((tx) => tx.transactionId),
      [2],
    );
    assert.equal(second.connectors.find('CP-1', 2)?.transaction?.transactionId, 2);
    const { client: again } = await harness().bootedCharger(second, 'CP-1');
    const c = (await again.call('StartTransaction', { ...START, timestamp: isoNow() })) as {
      transactionId: number;
    };
    assert.equal(c.transactionId, 3);
    const sessions: SessionRecord[] = [];
    for await (const session of second.sessions()) sessions.push(session);
    assert.deepEqual(
      sessions.map((s) => [s.transactionId, s.energyWh]),
      [[1, 500]],
    );
  });

  it('closes a transaction when the charger sends StopTransaction after reconnecting', async () => {
    const cs = await harness().centralSystem({ dataDirectory });
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const started = (await client.call('StartTransaction', { ...START, timestamp: isoNow(-60000) })) as {
      transactionId: number;
    };
    const offline = waitFor<[{ online: boolean }]>(cs, 'connector', (state) => state.online === false);
    await client.close({ force: true });
    await offline;
    assert.equal(cs.openTransactions().length, 1, 'a disconnect does not end the transaction');

    const back = harness().charger(cs, 'CP-1');
    await back.connect();
    const session = waitFor<[SessionRecord]>(cs, 'session');
    await back.call('StopTransaction', {
      transactionId: started.transactionId,
      meterStop: 4600,
      timestamp: isoNow(),
      reason: 'EVDisconnected',
    });
    const [record] = await session;
    assert.equal(record.energyWh, 3600);
    assert.equal(record.stopReason, 'EVDisconnected');
    assert.equal(cs.openTransactions().length, 0);
    assert.equal(cs.connectors.find('CP-1', 1)?.transaction, undefined);
  });

  it('answers a StartTransaction sent again (lost answer) with the same id, once', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const request = { ...START, timestamp: isoNow() };
    const once = (await client.call('StartTransaction', request)) as { transactionId: number };
    const twice = (await client.call('StartTransaction', request)) as { transactionId: number };
    assert.equal(twice.transactionId, once.transactionId);
    assert.equal(cs.openTransactions().length, 1);
  });

  it('records a StopTransaction sent again only once', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const { transactionId } = (await client.call('StartTransaction', { ...START, timestamp: isoNow() })) as {
      transactionId: number;
    };
    const stop = { transactionId, meterStop: 2000, timestamp: isoNow() };
    const sessions: SessionRecord[] = [];
    cs.on('session', (s: SessionRecord) => sessions.push(s));
    await client.call('StopTransaction', stop);
    await client.call('StopTransaction', stop);
    assert.equal(sessions.length, 1);
    let archived = 0;
    for await (const _ of cs.sessions()) archived += 1;
    assert.equal(archived, 1);
  });

  it('closes a transaction left open when the charger starts another on the same connector', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const old = (await client.call('StartTransaction', { ...START, timestamp: isoNow(-3600000) })) as {
      transactionId: number;
    };
    const superseded = waitFor<[SessionRecord]>(cs, 'session');
    const fresh = (await client.call('StartTransaction', {
      ...START,
      meterStart: 9000,
      timestamp: isoNow(),
    })) as {
      transactionId: number;
    };
    const [record] = await superseded;
    assert.equal(record.transactionId, old.transactionId);
    assert.equal(record.anomaly, 'superseded');
    assert.equal(record.energyWh, 8000);
    assert.deepEqual(
      cs.openTransactions().map((tx) => tx.transactionId),
      [fresh.transactionId],
    );
    assert.equal(harness().log.matching(/while transaction \d+ was open there/, 'warn').length, 1);
  });

  it('answers a StopTransaction for a transaction it never started and keeps it as an anomaly, not a record', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const sessions: SessionRecord[] = [];
    cs.on('session', (s: SessionRecord) => sessions.push(s));
    const stop = { transactionId: 777, meterStop: 50, timestamp: isoNow(), idTag: 'TAG-1' };
    const answer = await client.call('StopTransaction', stop);
    assert.deepEqual(answer, { idTagInfo: { status: 'Accepted' } });
    // Sent again (its answer lost): answered the same, kept once.
    assert.deepEqual(await client.call('StopTransaction', stop), { idTagInfo: { status: 'Accepted' } });
    assert.deepEqual(sessions, []);
    const { count, recent } = cs.stopAnomalies();
    assert.equal(count, 1);
    assert.equal(recent[0]?.reason, 'unknownTransaction');
    assert.equal(recent[0]?.received.meterStop, 50);
    assert.equal(harness().log.matching(/kept as an anomaly, not a charge data record/, 'warn').length, 1);
  });

  it('keeps stops with impossible meter values as anomalies, the transaction open for its true stop', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    // Started 10 minutes ago at 1000 Wh: 4 MW for 10 min and the hour's slack is 4.67 MWh.
    const { transactionId } = (await client.call('StartTransaction', {
      ...START,
      timestamp: isoNow(-600_000),
    })) as { transactionId: number };
    for (const meterStop of [999, 1000 + 4_700_000])
      await client.call('StopTransaction', { transactionId, meterStop, timestamp: isoNow() });
    assert.deepEqual(
      cs.stopAnomalies().recent.map((a) => a.reason),
      ['belowMeterStart', 'impossibleEnergy'],
    );
    assert.deepEqual(
      cs.openTransactions().map((tx) => tx.transactionId),
      [transactionId],
    );
    const session = waitFor<[SessionRecord]>(cs, 'session');
    await client.call('StopTransaction', { transactionId, meterStop: 12_000, timestamp: isoNow() });
    assert.equal((await session)[0].energyWh, 11_000);
  });

  it('records a late stop from the offline queue, stamped hours ago, after a restart', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const { client } = await harness().bootedCharger(first, 'CP-1');
    const { transactionId } = (await client.call('StartTransaction', {
      ...START,
      timestamp: isoNow(-6 * 3_600_000),
    })) as { transactionId: number };
    await client.close({ force: true });
    await first.stop();
    const second = await harness().centralSystem({ dataDirectory });
    const { client: back } = await harness().bootedCharger(second, 'CP-1');
    // 60 kWh over the 5 hours the charger says it charged: 12 kW, a true stop sent hours later.
    const session = waitFor<[SessionRecord]>(second, 'session');
    await back.call('StopTransaction', {
      transactionId,
      meterStop: 61_000,
      timestamp: isoNow(-3_600_000),
      reason: 'EVDisconnected',
    });
    assert.equal((await session)[0].energyWh, 60_000);
    assert.equal(second.stopAnomalies().count, 0);
  });

  it('keeps the transaction data a StopTransaction carries', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    const { transactionId } = (await client.call('StartTransaction', {
      ...START,
      timestamp: isoNow(-60000),
    })) as {
      transactionId: number;
    };
    const message = waitFor<[{ action: string; payload: { readings: { importWh?: number }[] } }]>(
      cs,
      'message',
      (m) => m.action === 'StopTransaction',
    );
    await client.call('StopTransaction', {
      transactionId,
      meterStop: 2200,
      timestamp: isoNow(),
      transactionData: [
        {
          timestamp: isoNow(-60000),
          sampledValue: [{ value: '1.0', unit: 'kWh', context: 'Transaction.Begin' }],
        },
        { timestamp: isoNow(), sampledValue: [{ value: '2.2', unit: 'kWh', context: 'Transaction.End' }] },
      ],
    });
    const [{ payload }] = await message;
    assert.deepEqual(
      payload.readings.map((r) => r.importWh),
      [1000, 2200],
    );
  });

  it('binds a transaction the charger reports in MeterValues back to its connector after a restart', async () => {
    const first = await harness().centralSystem({ dataDirectory });
    const { client } = await harness().bootedCharger(first, 'CP-1');
    const { transactionId } = (await client.call('StartTransaction', {
      ...START,
      connectorId: 2,
      timestamp: isoNow(),
    })) as {
      transactionId: number;
    };
    await first.stop();
    const second = await harness().centralSystem({ dataDirectory });
    const { client: again } = await harness().bootedCharger(second, 'CP-1');
    // A charger may report the running transaction on another connector id after a firmware update.
    await again.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: isoNow(),
          sampledValue: [{ value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' }],
        },
      ],
    });
    assert.equal(second.connectors.find('CP-1', 1)?.transaction?.transactionId, transactionId);
  });

  it('exports finished sessions as CSV that a spreadsheet shows as text', async () => {
    const cs = await harness().centralSystem();
    const { client } = await harness().bootedCharger(cs, '+49*839*0000000001');
    const { transactionId } = (await client.call('StartTransaction', {
      ...START,
      idTag: '=HYPERLINK',
      timestamp: '2026-01-01T10:00:00Z',
    })) as { transactionId: number };
    await client.call('StopTransaction', {
      transactionId,
      meterStop: 13000,
      timestamp: '2026-01-01T11:30:00Z',
    });
    const csv = await cs.exportSessionsCsv({ separator: ';' });
    const [header, row] = csv.trim().split('\r\n');
    assert.match(
      header ?? '',
      /^transaction;charge point;connector;id tag;started \(UTC\);stopped \(UTC\);duration/,
    );
    assert.equal(
      row,
      `${transactionId};'+49*839*0000000001;1;'=HYPERLINK;2026-01-01T10:00:00.000Z;2026-01-01T11:30:00.000Z;90;1000;13000;12000;Local;;;;;;`,
      'the charger’s own transaction id (for OCPP 2.0.1 chargers), then connector type, AC/DC and comment (empty without a CDR connectors table)',
    );
  });

  it('does not let a charger close another charger’s transaction', async () => {
    const cs = await harness().centralSystem();
    const { client: a } = await harness().bootedCharger(cs, 'CP-A');
    const { client: b } = await harness().bootedCharger(cs, 'CP-B');
    const { transactionId } = (await a.call('StartTransaction', { ...START, timestamp: isoNow() })) as {
      transactionId: number;
    };
    await b.call('StopTransaction', { transactionId, meterStop: 99999, timestamp: isoNow() });
    assert.deepEqual(
      cs.openTransactions().map((tx) => [tx.transactionId, tx.chargePointId]),
      [[transactionId, 'CP-A']],
    );
    const session = waitFor<[SessionRecord]>(cs, 'session', (s) => s.chargePointId === 'CP-A');
    await a.call('StopTransaction', { transactionId, meterStop: 2000, timestamp: isoNow() });
    const [record] = await session;
    assert.equal(record.energyWh, 1000);
    assert.equal(record.anomaly, undefined);
  });

  it('does not take the real stop for a repeat of another charger’s stop with the same figures', async () => {
    const cs = await harness().centralSystem();
    const { client: a } = await harness().bootedCharger(cs, 'CP-A');
    const { client: b } = await harness().bootedCharger(cs, 'CP-B');
    const { transactionId } = (await a.call('StartTransaction', { ...START, timestamp: isoNow() })) as {
      transactionId: number;
    };
    const sessions: SessionRecord[] = [];
    cs.on('session', (s: SessionRecord) => sessions.push(s));
    // Another accepted charger sends a stop with the same transaction id, reading and time first.
    const stop = { transactionId, meterStop: 2000, timestamp: isoNow() };
    await b.call('StopTransaction', stop);
    await a.call('StopTransaction', stop);
    // Another charger's stop is no record (issue 46): kept as an anomaly.
    assert.deepEqual(
      sessions.map((s) => [s.chargePointId, s.energyWh, s.anomaly]),
      [['CP-A', 1000, undefined]],
    );
    assert.deepEqual(
      cs.stopAnomalies().recent.map((x) => [x.chargePointId, x.reason, x.openOn]),
      [['CP-B', 'otherCharger', 'CP-A']],
    );
    assert.deepEqual(cs.openTransactions(), [], 'the real stop closed the transaction');
    // Each sent again is still recognised as its own repeat.
    await a.call('StopTransaction', stop);
    await b.call('StopTransaction', stop);
    assert.equal(sessions.length, 1);
    assert.equal(cs.stopAnomalies().count, 1);
  });

  it('answers a StartTransaction sent again only once the first one is on disk', async () => {
    let holdSyncs = false;
    let releaseSync: (() => void) | undefined;
    const syncHeld = new EventEmitter();
    const cs = await harness().centralSystem({
      dataDirectory,
      storeIo: {
        sync: async (handle) => {
          if (holdSyncs) {
            await new Promise<void>((resolve) => {
              releaseSync = resolve;
              syncHeld.emit('held');
            });
          }
          await handle.datasync();
        },
      },
    });
    const { client: first } = await harness().bootedCharger(cs, 'CP-1');
    const request = { ...START, timestamp: isoNow() };
    holdSyncs = true;
    const held = waitFor(syncHeld, 'held');
    void first.call('StartTransaction', request).catch(() => undefined);
    await held; // the transaction is written, its fsync has not returned

    // The charger lost its connection before the answer came and sends the same StartTransaction again.
    const second = harness().charger(cs, 'CP-1');
    await second.connect();
    const outbound: string[] = [];
    cs.on('frame', ({ direction, frame }: { direction: string; frame: string }) => {
      if (direction === 'out') outbound.push(frame);
    });
    const arrived = waitFor<[{ direction: string; frame: string }]>(
      cs,
      'frame',
      (f) => f.direction === 'in' && f.frame.includes('"StartTransaction"'),
    );
    const resent = second.call('StartTransaction', request) as Promise<{ transactionId: number }>;
    const [{ frame }] = await arrived;
    const messageId = (JSON.parse(frame) as [number, string])[1];
    // An answer that did not wait would have gone out within the microtasks after the frame.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      outbound.filter((f) => f.includes(`"${messageId}"`)),
      [],
      'answered with an id that is not durable yet',
    );
    holdSyncs = false;
    releaseSync?.();
    assert.equal((await resent).transactionId, 1);
  });

  it('stops, instead of crashing, when its durable state cannot be written', async () => {
    let diskFull = false;
    const cs = await harness().centralSystem({
      dataDirectory,
      storeIo: {
        sync: async (handle) => {
          if (diskFull) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          await handle.datasync();
        },
      },
    });
    const { client } = await harness().bootedCharger(cs, 'CP-1');
    diskFull = true;
    const failed = waitFor<[Error]>(cs, 'failed');
    const refused = await callError(client.call('StartTransaction', { ...START, timestamp: isoNow() }));
    assert.equal(refused.code, 'InternalError');
    assert.equal(refused.message, 'the central system could not process StartTransaction');
    assert.match((await failed)[0].message, /no space left on device/);
    await waitFor(cs, 'state', (state) => state === 'failed');
    assert.equal(cs.isConnected('CP-1'), false);
    assert.equal(
      harness().log.matching(/stops because its durable state cannot be written/, 'error').length,
      1,
    );
  });
});
