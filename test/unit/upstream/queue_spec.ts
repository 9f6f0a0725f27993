import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { silentLogger } from '../../../lib/log';
import { applyEvent, type CentralEvent, initialCentralState } from '../../../lib/ocpp/central-state';
import { BackendQueue, type EntryStore, HOLD_UNWRITTEN_MS, type Queued } from '../../../lib/upstream/queue';

/** The charger records' entries as the central system keeps them (its own event code), and every change asked for. */
function records() {
  const state = initialCentralState();
  const changes: CentralEvent[] = [];
  const store: EntryStore = {
    entriesOf: (id, room) => state.chargers[id]?.entries?.[room] ?? {},
    keepEntries: async (chargePointId, room, change) => {
      // What a replay of the journal sees: a JSON copy.
      const event = JSON.parse(
        JSON.stringify({ type: 'chargerEntries', chargePointId, room, ...change }),
      ) as CentralEvent;
      changes.push(event);
      applyEvent(state, event);
    },
  };
  return { state, store, changes };
}

const meterValues = (n: number): Queued => ({
  action: 'MeterValues',
  request: { connectorId: 1, meterValue: [{ timestamp: `2026-11-23T10:00:${String(n).padStart(2, '0')}Z` }] },
});
const start = (): Queued => ({
  action: 'StartTransaction',
  request: {
    connectorId: 1,
    idTag: 'TAG',
    meterStart: 0,
    timestamp: '2026-11-23T10:00:00Z',
    transactionId: 7,
  },
});
const kept = (state: ReturnType<typeof records>['state']) =>
  Object.values(state.chargers.CP1?.entries?.upstream ?? {}).map((item) => (item as Queued).action);

describe('upstream: BackendQueue (what waits for the backend, one journal line a change)', () => {
  it('writes a durable request at once and drops it once the backend has it', async () => {
    const { state, store, changes } = records();
    const queue = new BackendQueue('CP1', store, new ManualClock(), silentLogger);
    const item = start();
    await queue.push(item, true);
    assert.deepEqual(kept(state), ['StartTransaction']);
    await queue.remove(item);
    assert.deepEqual(kept(state), []);
    assert.equal(changes.length, 2);
    assert.equal(queue.length, 0);
  });

  it('costs one line per request whatever waits before it (a backend away for long does not rewrite the backlog)', async () => {
    const { store, changes } = records();
    const queue = new BackendQueue('CP1', store, new ManualClock(), silentLogger);
    for (let n = 0; n < 2000; n++) await queue.push(meterValues(n % 60), true);
    assert.equal(changes.length, 2000);
    const sizes = changes.map((change) => JSON.stringify(change).length);
    assert.ok(Math.max(...sizes) < 300, `the largest line is ${Math.max(...sizes)} characters`);
  });

  it('does not write a request the backend gets within the hold, writes one that waits one to two holds', async () => {
    const { state, store, changes } = records();
    const clock = new ManualClock();
    const queue = new BackendQueue('CP1', store, clock, silentLogger);
    const quick = meterValues(1);
    await queue.push(quick, false);
    await queue.remove(quick);
    const slow = meterValues(2);
    await queue.push(slow, false);
    clock.advance(HOLD_UNWRITTEN_MS);
    assert.equal(changes.length, 0, 'nothing written within the hold');
    clock.advance(HOLD_UNWRITTEN_MS);
    await Promise.resolve();
    assert.deepEqual(kept(state), ['MeterValues'], 'the request that waited a whole hold is written');
    // Once written, taking it out is written too.
    await queue.remove(slow);
    assert.deepEqual(kept(state), []);
    assert.equal(changes.length, 2);
  });

  it('under steady traffic (each request gone within the hold) writes nothing at all', async () => {
    const { store, changes } = records();
    const clock = new ManualClock();
    const queue = new BackendQueue('CP1', store, clock, silentLogger);
    let previous: Queued | undefined;
    for (let n = 0; n < 100; n++) {
      const item = meterValues(n % 60);
      await queue.push(item, false);
      if (previous) await queue.remove(previous);
      previous = item;
      clock.advance(HOLD_UNWRITTEN_MS / 4);
    }
    assert.equal(changes.length, 0);
  });

  it('never writes what the charger waits for the backend to decide, nor heartbeats and authorizations', async () => {
    const { store, changes } = records();
    const queue = new BackendQueue('CP1', store, new ManualClock(), silentLogger);
    await queue.push({ ...start(), decides: true }, false);
    await queue.push({ action: 'Authorize', request: { idTag: 'TAG' } }, true);
    await queue.writeAll();
    assert.equal(changes.length, 0);
  });

  it('comes back after a restart in the order the charger sent the requests, and takes over a queue kept the old way', async () => {
    const { state, store } = records();
    const clock = new ManualClock();
    const first = new BackendQueue('CP1', store, clock, silentLogger);
    // The second is written first (a transaction's start), the first one after its hold.
    const a = meterValues(1);
    const b = start();
    await first.push(a, false);
    await first.push(b, true);
    clock.advance(2 * HOLD_UNWRITTEN_MS);
    await Promise.resolve();
    const again = new BackendQueue('CP1', store, clock, silentLogger);
    assert.deepEqual(
      again.items.map((item) => item.action),
      ['MeterValues', 'StartTransaction'],
    );
    const c = meterValues(3);
    await again.push(c, true);
    assert.deepEqual(kept(state), ['MeterValues', 'StartTransaction', 'MeterValues']);

    const { state: oldState, store: oldStore } = records();
    const migrated = new BackendQueue('CP1', oldStore, clock, silentLogger, [start(), meterValues(4)]);
    await Promise.resolve();
    assert.deepEqual(
      migrated.items.map((item) => item.action),
      ['StartTransaction', 'MeterValues'],
    );
    assert.deepEqual(kept(oldState), ['StartTransaction', 'MeterValues']);
  });
});
