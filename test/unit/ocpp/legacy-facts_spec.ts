import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CentralSystem } from '../../../lib/ocpp/central-system';
import { JOURNAL_FILE, SNAPSHOT_FILE, SNAPSHOT_FORMAT } from '../../../lib/store/durable-log';

/**
 * Before rooms kept facts by name (ChargePointPort.storeData), the profile manager's facts about a
 * charger were the only ones: snapshots hold them as the charger's `smartCharging` field, journals
 * as `chargerSmartCharging` events without a `room`. A data directory written then is read as the
 * profiles room's facts, so an upgrade forgets nothing a charger taught the profile manager.
 */
describe('CentralSystem: facts written before rooms had names', () => {
  const AT = '2026-01-05T10:00:00.000Z';
  const LATER = '2026-01-06T11:30:00.000Z';
  let directory: string;
  let cs: CentralSystem | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'ampflow-legacy-facts-'));
    const snapshotState = {
      nextTransactionId: 1,
      openTransactions: {},
      recentStops: [],
      chargers: {
        'CP-SNAPSHOT': {
          chargePointId: 'CP-SNAPSHOT',
          firstSeenAt: AT,
          approved: true,
          blocked: false,
          smartCharging: { at: AT, facts: { limitBy: 'current', stackLevel: 3 } },
        },
      },
    };
    writeFileSync(
      join(directory, SNAPSHOT_FILE),
      `${JSON.stringify({ format: SNAPSHOT_FORMAT, seq: 1, state: snapshotState })}\n`,
    );
    const oldEvent = {
      type: 'chargerSmartCharging',
      chargePointId: 'CP-JOURNAL',
      at: LATER,
      facts: { limitBy: 'power', ignoresLimit: true },
    };
    writeFileSync(join(directory, JOURNAL_FILE), `${JSON.stringify({ seq: 2, event: oldEvent })}\n`);
  });

  afterEach(async () => {
    await cs?.stop();
    cs = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  async function started(): Promise<CentralSystem> {
    cs = new CentralSystem({ host: '127.0.0.1', port: 0, dataDirectory: directory });
    await cs.start();
    return cs;
  }

  it("reads a snapshot's smartCharging field and a journal's room-less event as storedData(id, 'profiles')", async () => {
    const central = await started();
    assert.deepEqual(central.storedData('CP-SNAPSHOT', 'profiles'), { limitBy: 'current', stackLevel: 3 });
    assert.deepEqual(central.storedData('CP-JOURNAL', 'profiles'), { limitBy: 'power', ignoresLimit: true });
    assert.equal(central.storedData('CP-SNAPSHOT', 'other-room'), undefined);
    // The old field is gone from the record: the facts have one home.
    assert.equal('smartCharging' in (central.requireLog().state.chargers['CP-SNAPSHOT'] ?? {}), false);
  });

  it('keeps them through a restart, and next to the facts a room keeps now', async () => {
    const first = await started();
    await first.storeData('CP-JOURNAL', 'other-room', { seen: true });
    await first.stop();
    const central = await started();
    assert.deepEqual(central.storedData('CP-SNAPSHOT', 'profiles'), { limitBy: 'current', stackLevel: 3 });
    assert.deepEqual(central.storedData('CP-JOURNAL', 'profiles'), { limitBy: 'power', ignoresLimit: true });
    assert.deepEqual(central.storedData('CP-JOURNAL', 'other-room'), { seen: true });
  });
});

/**
 * Journals written before issue 47 name a stored datum's namespace `room` (`chargerSmartCharging`
 * and `chargerEntries` events); they are read under that namespace, and what is stored now is
 * written as `namespace` next to them.
 */
describe('CentralSystem: data stored under a room, before namespaces', () => {
  const AT = '2026-01-05T10:00:00.000Z';
  let directory: string;
  let cs: CentralSystem | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'ampflow-legacy-room-'));
    const events = [
      {
        type: 'chargerSmartCharging',
        chargePointId: 'CP1',
        at: AT,
        facts: { perPhaseCurrents: true },
        room: 'sampling',
      },
      { type: 'chargerEntries', chargePointId: 'CP1', room: 'upstream', put: { a: 1, b: 2 } },
      { type: 'chargerEntries', chargePointId: 'CP1', room: 'upstream', drop: ['a'] },
    ];
    writeFileSync(
      join(directory, JOURNAL_FILE),
      events.map((event, i) => `${JSON.stringify({ seq: i + 1, event })}\n`).join(''),
    );
  });

  afterEach(async () => {
    await cs?.stop();
    cs = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  it("reads an old journal's room as the namespace, and keeps it next to data stored now, through a restart", async () => {
    cs = new CentralSystem({ host: '127.0.0.1', port: 0, dataDirectory: directory });
    await cs.start();
    assert.deepEqual(cs.storedData('CP1', 'sampling'), { perPhaseCurrents: true });
    assert.equal(cs.storedData('CP1', 'profiles'), undefined);
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), { b: 2 });
    await cs.storeData('CP1', 'profiles', { limitBy: 'current' });
    await cs.keepEntries('CP1', 'upstream', { put: { c: 3 } });
    await cs.stop();
    cs = new CentralSystem({ host: '127.0.0.1', port: 0, dataDirectory: directory });
    await cs.start();
    assert.deepEqual(cs.storedData('CP1', 'sampling'), { perPhaseCurrents: true });
    assert.deepEqual(cs.storedData('CP1', 'profiles'), { limitBy: 'current' });
    assert.deepEqual(cs.entriesOf('CP1', 'upstream'), { b: 2, c: 3 });
  });
});
