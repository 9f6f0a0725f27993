import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARCHIVE_FILE,
  CorruptStoreError,
  DurableLog,
  type DurableLogOptions,
  JOURNAL_FILE,
  SNAPSHOT_FILE,
  SNAPSHOT_FORMAT,
  type StoreIo,
  StoreStoppedError,
} from '../../../lib/store/durable-log';
import { nodeStoreIo } from '../../../lib/store/files';
import { STORE_MARK_FILE } from '../../../lib/store/log-format';
import { collect, recordingLog } from './support';

interface TestState {
  nextTransactionId: number;
  open: { [transactionId: string]: { chargePointId: string; startedAt?: string } };
  closed: number[];
}

type TestEvent =
  | { type: 'txStarted'; transactionId: number; chargePointId: string; startedAt?: unknown; payload?: string }
  | { type: 'sessionClosed'; transactionId: number; energyWh: number; payload?: string }
  | { type: 'explode' }
  | { type: 'other'; value?: unknown };

function applyTestEvent(state: TestState, event: TestEvent): void {
  switch (event.type) {
    case 'txStarted':
      state.nextTransactionId = event.transactionId + 1;
      state.open[event.transactionId] = {
        chargePointId: event.chargePointId,
        ...(typeof event.startedAt === 'string' ? { startedAt: event.startedAt } : {}),
      };
      break;
    case 'sessionClosed':
      delete state.open[event.transactionId];
      state.closed.push(event.transactionId);
      break;
    case 'explode':
      throw new Error('apply cannot handle this event');
    case 'other':
      break;
  }
}

function started(transactionId: number, extra: Partial<TestEvent> = {}): TestEvent {
  return { type: 'txStarted', transactionId, chargePointId: `CP-${transactionId}`, ...extra } as TestEvent;
}

function closed(transactionId: number, payload?: string): TestEvent {
  return {
    type: 'sessionClosed',
    transactionId,
    energyWh: 1000 * transactionId,
    ...(payload ? { payload } : {}),
  };
}

/** Starts transactions 1..count and closes every third one: a mix of plain and archived events. */
function sampleEvents(count: number, firstId = 1): TestEvent[] {
  const events: TestEvent[] = [];
  for (let id = firstId; id < firstId + count; id += 1) {
    events.push(started(id));
    if (id % 3 === 0) events.push(closed(id));
  }
  return events;
}

function expectedArchive(events: TestEvent[]): TestEvent[] {
  return events.filter((event) => event.type === 'sessionClosed');
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** The journal's records without their crc (damage_spec.ts tests the crc). */
function journalLines(directory: string): { seq: number; event: TestEvent }[] {
  const text = readFileSync(join(directory, JOURNAL_FILE), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const { seq, event } = JSON.parse(line);
      return { seq, event };
    });
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

describe('DurableLog', () => {
  let root: string;
  let directory: string;
  const stores: DurableLog<TestState, TestEvent>[] = [];

  const openStore = async (options: Partial<DurableLogOptions<TestState, TestEvent>> = {}) => {
    const store = await DurableLog.open<TestState, TestEvent>({
      directory,
      initialState: () => ({ nextTransactionId: 1, open: {}, closed: [] }),
      apply: applyTestEvent,
      isArchived: (event) => event.type === 'sessionClosed',
      ...options,
    });
    stores.push(store);
    return store;
  };

  /** A store with `count` sample events appended. */
  const storeWithEvents = async (count: number) => {
    const store = await openStore();
    const events = sampleEvents(count);
    await appendAll(store, events);
    return { store, events };
  };

  /** A store whose fsyncs wait while `syncs.held`, until `syncs.release()`. */
  const openStoreWithHeldSyncs = async () => {
    const gate = deferred();
    const syncs = { held: false, release: gate.resolve };
    const store = await openStore({
      io: {
        async sync(handle, path) {
          if (syncs.held) await gate.promise;
          await nodeStoreIo.sync(handle, path);
        },
      },
    });
    return { store, syncs };
  };

  /** Appends each event (concurrently) and waits until all are durable. */
  const appendAll = async (store: DurableLog<TestState, TestEvent>, events: TestEvent[]) => {
    await Promise.all(events.map((event) => store.append(event)));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'durable-log-'));
    directory = join(root, 'store');
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe('open, append and reopen', () => {
    it('creates the directory, starts from the initial state, and reloads every appended event', async () => {
      const store = await openStore();
      assert.deepEqual(store.state, { nextTransactionId: 1, open: {}, closed: [] });
      assert.equal(store.lastAppendedSeq, 0);
      const events = sampleEvents(10);
      for (const event of events) await store.append(event);
      assert.equal(store.lastDurableSeq, events.length);
      const stateBefore = structuredClone(store.state);
      await store.close();

      const reopened = await openStore();
      assert.deepEqual(reopened.state, stateBefore);
      assert.equal(reopened.lastAppendedSeq, events.length);
      assert.deepEqual(await collect(reopened.archive()), expectedArchive(events));
      await reopened.append(started(11));
      assert.deepEqual(
        journalLines(directory).map((line) => line.seq),
        Array.from({ length: events.length + 1 }, (_, index) => index + 1),
      );
    });

    it('applies the event at once, and resolves only after the write has been fsynced', async () => {
      const gate = deferred();
      const syncStarted = deferred();
      const synced: string[] = [];
      let holdSyncs = false;
      const store = await openStore({
        io: {
          async sync(handle, path) {
            if (holdSyncs) {
              syncStarted.resolve();
              await gate.promise;
            }
            await nodeStoreIo.sync(handle, path);
            synced.push(path);
          },
        },
      });
      holdSyncs = true;
      let durable = false;
      const appended = store.append(started(1)).then(() => {
        durable = true;
      });
      assert.equal(store.state.nextTransactionId, 2, 'the state changes synchronously');
      assert.equal(store.lastAppendedSeq, 1);
      // The write has happened (the line is in the file) but the fsync is held.
      await syncStarted.promise;
      assert.deepEqual(journalLines(directory), [{ seq: 1, event: started(1) }]);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(durable, false);
      assert.equal(store.lastDurableSeq, 0);
      gate.resolve();
      await appended;
      assert.equal(store.lastDurableSeq, 1);
      assert.deepEqual(synced.slice(-1), [join(directory, JOURNAL_FILE)]);
    });

    it('applies a JSON copy of the event, so the state matches what a replay produces', async () => {
      const store = await openStore();
      const startedAt = new Date(Date.UTC(2026, 0, 1, 8));
      const event = { type: 'txStarted' as const, transactionId: 1, chargePointId: 'CP-1', startedAt };
      await store.append(event);
      assert.equal(store.state.open[1]?.startedAt, '2026-01-01T08:00:00.000Z');
      const stateBefore = structuredClone(store.state);
      await store.close();
      assert.deepEqual((await openStore()).state, stateBefore);
    });

    it('rejects an event with no JSON form without changing the state, and stays usable', async () => {
      const store = await openStore();
      await assert.rejects(store.append({ type: 'other', value: 1n }), TypeError);
      assert.equal(store.lastAppendedSeq, 0);
      await store.append(started(1));
      assert.equal(store.lastDurableSeq, 1);
    });

    it('stops when apply throws, since the state may be half changed', async () => {
      const store = await openStore();
      await store.append(started(1));
      // Made before the bad event, not yet written: still written, and acknowledged.
      const before = store.append(started(2));
      await assert.rejects(store.append({ type: 'explode' }), /apply cannot handle this event/);
      await before;
      await assert.rejects(
        store.append(started(3)),
        (error: unknown) =>
          error instanceof StoreStoppedError &&
          error.reason === 'failed' &&
          /applying event seq 3/.test(error.message),
      );
      await store.close();
      const reopened = await openStore();
      assert.equal(reopened.lastAppendedSeq, 2);
    });

    it('refuses to open a directory that is already open in this process, until it is closed', async () => {
      const store = await openStore();
      await assert.rejects(openStore(), /durable log in .* is already open in this process; close it first/);
      await store.close();
      await (await openStore()).close();
      await assert.rejects(openStore({ compactAfterEvents: 1.5 }), RangeError);
      mkdirSync(join(directory, SNAPSHOT_FILE));
      await assert.rejects(openStore(), /EISDIR/);
      rmSync(join(directory, SNAPSHOT_FILE), { recursive: true });
      // A failed open does not leave the directory marked open.
      await openStore();
    });

    it('rejects a compactAfterEvents that is not a positive integer', async () => {
      await assert.rejects(openStore({ compactAfterEvents: 0 }), RangeError);
    });
  });

  describe('group commit', () => {
    it('writes 1,000 appends made at once with one fsync, in order', async () => {
      const journalSyncs: number[] = [];
      const store = await openStore({
        io: {
          async sync(handle, path) {
            if (path.endsWith(JOURNAL_FILE)) journalSyncs.push(store.lastAppendedSeq);
            await nodeStoreIo.sync(handle, path);
          },
        },
      });
      const events = Array.from({ length: 1000 }, (_, index) => started(index + 1));
      await appendAll(store, events);
      assert.equal(journalSyncs.length, 1);
      const lines = journalLines(directory);
      assert.deepEqual(
        lines.map((line) => line.seq),
        events.map((_, index) => index + 1),
      );
      assert.deepEqual(
        lines.map((line) => line.event),
        events,
      );
    });

    it('writes the appends that arrive during an fsync together, after it, with one more fsync', async () => {
      const gate = deferred();
      const syncStarted = deferred();
      let journalSyncs = 0;
      let holdNextSync = false;
      const store = await openStore({
        io: {
          async sync(handle, path) {
            if (path.endsWith(JOURNAL_FILE)) {
              journalSyncs += 1;
              if (holdNextSync) {
                holdNextSync = false;
                syncStarted.resolve();
                await gate.promise;
              }
            }
            await nodeStoreIo.sync(handle, path);
          },
        },
      });
      holdNextSync = true;
      const order: number[] = [];
      const first = store.append(started(1)).then(() => order.push(1));
      await syncStarted.promise;
      const rest = Array.from({ length: 500 }, (_, index) =>
        store.append(started(index + 2)).then(() => order.push(index + 2)),
      );
      // Nothing after the held fsync is written before it completes.
      assert.equal(journalLines(directory).length, 1);
      gate.resolve();
      await Promise.all([first, ...rest]);
      assert.equal(journalSyncs, 2);
      assert.deepEqual(
        order,
        Array.from({ length: 501 }, (_, index) => index + 1),
      );
      assert.equal(journalLines(directory).length, 501);
    });
  });

  describe('damaged files', () => {
    it('drops a torn last journal line, truncates it away, and reuses its seq', async () => {
      const { log, lines } = recordingLog();
      const store = await openStore();
      await appendAll(store, sampleEvents(3));
      await store.close();
      const journal = join(directory, JOURNAL_FILE);
      const intact = readFileSync(journal, 'utf8');
      const torn = '{"seq":5,"event":{"type":"txStar';
      appendFileSync(journal, torn);

      const reopened = await openStore({ log });
      assert.equal(reopened.lastAppendedSeq, 4);
      assert.equal(readFileSync(journal, 'utf8'), intact);
      assert.ok(
        lines.includes(`warn: ${journal}: dropped ${torn.length} bytes of a line torn by a crash`),
        lines.join('\n'),
      );
      await reopened.append(started(4));
      assert.deepEqual(journalLines(directory).at(-1), { seq: 5, event: started(4) });
    });

    it('refuses to open when a line in the middle of the journal is corrupt, naming file and line', async () => {
      const store = await openStore();
      await appendAll(store, sampleEvents(3));
      await store.close();
      const journal = join(directory, JOURNAL_FILE);
      const lines = readFileSync(journal, 'utf8').split('\n');
      lines[1] = '{"seq":2,"event":{"type":"txSta###';
      writeFileSync(journal, lines.join('\n'));
      await assert.rejects(
        openStore(),
        (error: unknown) =>
          error instanceof CorruptStoreError &&
          error.file === journal &&
          error.lineNumber === 2 &&
          error.message.startsWith(`${journal} line 2: line is not JSON`),
      );
    });

    it('refuses a complete last line that is corrupt, since a complete line may have been acknowledged', async () => {
      const store = await openStore();
      await appendAll(store, sampleEvents(2));
      await store.close();
      appendFileSync(join(directory, JOURNAL_FILE), 'garbage\n');
      await assert.rejects(openStore(), /journal\.jsonl line 3: line is not JSON/);
    });

    it('refuses a journal whose seq skips, and one that does not continue the snapshot', async () => {
      const store = await openStore();
      await appendAll(store, sampleEvents(3));
      await store.close();
      const journal = join(directory, JOURNAL_FILE);
      const original = readFileSync(journal, 'utf8');
      const lines = original.split('\n');
      writeFileSync(journal, [lines[0], lines[2], ''].join('\n'));
      await assert.rejects(openStore(), /journal\.jsonl line 2: seq 3 follows seq 1/);

      writeFileSync(journal, lines.slice(2).join('\n'));
      await assert.rejects(
        openStore(),
        /journal\.jsonl line 1: seq 3, but snapshot\.json ends at seq 0: events 1\.\.2/,
      );

      writeFileSync(
        join(directory, SNAPSHOT_FILE),
        JSON.stringify({
          format: SNAPSHOT_FORMAT,
          seq: 9,
          state: { nextTransactionId: 1, open: {}, closed: [] },
        }),
      );
      writeFileSync(journal, original);
      await assert.rejects(openStore(), /ends at seq 4, before snapshot\.json \(seq 9\)/);
    });

    it('refuses a snapshot that is not JSON, naming the file', async () => {
      mkdirSync(directory);
      writeFileSync(join(directory, SNAPSHOT_FILE), '{"format":');
      await assert.rejects(
        openStore(),
        (error: unknown) =>
          error instanceof CorruptStoreError && error.file === join(directory, SNAPSHOT_FILE),
      );
    });

    it('refuses an archive that ends after the state', async () => {
      mkdirSync(directory);
      writeFileSync(join(directory, ARCHIVE_FILE), `${JSON.stringify({ seq: 7, event: closed(1) })}\n`);
      await assert.rejects(
        openStore(),
        /archive\.jsonl: ends at seq 7, but snapshot\.json and journal\.jsonl end at seq 0/,
      );
    });

    it('reports a duplicated archive entry while reading the archive', async () => {
      const store = await openStore();
      await appendAll(store, sampleEvents(6));
      await store.compact();
      await store.close();
      const archive = join(directory, ARCHIVE_FILE);
      const [firstLine] = readFileSync(archive, 'utf8').split('\n');
      appendFileSync(archive, `${firstLine}\n`);
      const reopened = await openStore();
      await assert.rejects(
        collect(reopened.archive()),
        /archive\.jsonl line 3: seq 4 after seq 8: duplicated/,
      );
    });

    it('removes temp files left by a compaction that crashed', async () => {
      const { log, lines } = recordingLog();
      mkdirSync(directory);
      writeFileSync(join(directory, `${SNAPSHOT_FILE}.tmp`), '{"format":"ampf');
      writeFileSync(join(directory, `${JOURNAL_FILE}.tmp`), '');
      const store = await openStore({ log });
      assert.deepEqual(readdirSync(directory).sort(), [JOURNAL_FILE]);
      assert.equal(store.lastAppendedSeq, 0);
      assert.equal(lines.filter((line) => /left over from an interrupted compaction/.test(line)).length, 2);
    });
  });

  describe('compaction', () => {
    it('keeps the state, archives each archived event once, and empties the journal', async () => {
      const { store, events } = await storeWithEvents(30);
      const stateBefore = structuredClone(store.state);
      await store.compact();
      assert.deepEqual(store.state, stateBefore);
      assert.equal(readFileSync(join(directory, JOURNAL_FILE), 'utf8'), '');
      const snapshot = JSON.parse(readFileSync(join(directory, SNAPSHOT_FILE), 'utf8'));
      assert.match(snapshot.crc, /^[0-9a-f]{8}$/);
      assert.deepEqual(snapshot, {
        format: SNAPSHOT_FORMAT,
        seq: events.length,
        state: stateBefore,
        crc: snapshot.crc,
      });
      assert.deepEqual(await collect(store.archive()), expectedArchive(events));

      // More events and a second compaction append to the archive; nothing is repeated.
      const more = sampleEvents(9, 31);
      await appendAll(store, more);
      assert.deepEqual(await collect(store.archive()), expectedArchive([...events, ...more]));
      await store.compact();
      await store.close();
      const reopened = await openStore();
      assert.deepEqual(reopened.state, store.state);
      assert.deepEqual(await collect(reopened.archive()), expectedArchive([...events, ...more]));
      const archiveSeqs = readFileSync(join(directory, ARCHIVE_FILE), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).seq);
      assert.deepEqual(
        archiveSeqs,
        [...archiveSeqs].sort((a, b) => a - b),
      );
      assert.equal(new Set(archiveSeqs).size, expectedArchive([...events, ...more]).length);
    });

    it('compacts by itself after compactAfterEvents, and keeps appends made meanwhile', async () => {
      const renamed: string[] = [];
      const appendedDuringCompaction = deferred();
      let appendDuringCompaction: Promise<void> | undefined;
      const store = await openStore({
        compactAfterEvents: 10,
        io: {
          async rename(from, to) {
            renamed.push(from);
            // Appends made during a compaction are applied at once and written after it.
            if (from.endsWith(`${JOURNAL_FILE}.tmp`)) {
              appendDuringCompaction = store.append(started(store.state.nextTransactionId));
              appendedDuringCompaction.resolve();
            }
            await nodeStoreIo.rename(from, to);
          },
        },
      });
      // 12 events: at least 10, so a compaction follows their write.
      await appendAll(store, sampleEvents(9));
      await appendedDuringCompaction.promise;
      await appendDuringCompaction;
      assert.deepEqual(renamed, [
        join(directory, `${SNAPSHOT_FILE}.tmp`),
        join(directory, `${JOURNAL_FILE}.tmp`),
        join(directory, `${STORE_MARK_FILE}.tmp`),
      ]);
      await store.close();
      assert.equal(store.lastDurableSeq, 13);
      assert.deepEqual(
        journalLines(directory).map((line) => line.seq),
        [13],
      );
      const reopened = await openStore();
      assert.deepEqual(reopened.state, store.state);
      assert.equal(reopened.state.nextTransactionId, 11);
    });

    it('finds the last archived seq behind an archived event larger than its read chunk', async () => {
      const store = await openStore();
      const big = 'x'.repeat(200 * 1024);
      const events = [started(1), closed(1, big), started(2), closed(2, big)];
      await appendAll(store, events);
      await store.compact();
      await store.close();
      const reopened = await openStore();
      await reopened.append(started(3));
      await reopened.append(closed(3));
      await reopened.compact();
      assert.deepEqual(
        await collect(reopened.archive()),
        expectedArchive([...events, started(3), closed(3)]),
      );
    });

    it('loads the same state and archive after a crash at any file operation of a compaction', async () => {
      const copies: { label: string; directory: string }[] = [];
      let recording = false;
      const copyNow = (label: string) => {
        if (!recording) return;
        const copy = join(root, `crash-${copies.length}`);
        cpSync(directory, copy, { recursive: true });
        copies.push({ label, directory: copy });
      };
      const name = (path: string) => path.slice(directory.length + 1) || 'directory';
      const io: StoreIo = {
        async write(handle, data, path) {
          copyNow(`before writing ${name(path)}`);
          const half = Math.floor(data.byteLength / 2);
          await nodeStoreIo.write(handle, data.subarray(0, half), path);
          copyNow(`in the middle of writing ${name(path)}`);
          await nodeStoreIo.write(handle, data.subarray(half), path);
          copyNow(`after writing ${name(path)}`);
        },
        async sync(handle, path) {
          await nodeStoreIo.sync(handle, path);
          copyNow(`after syncing ${name(path)}`);
        },
        async syncDirectory(path) {
          await nodeStoreIo.syncDirectory(path);
          copyNow(`after syncing ${name(path)}`);
        },
        async rename(from, to) {
          await nodeStoreIo.rename(from, to);
          copyNow(`after renaming ${name(from)}`);
        },
      };
      const store = await openStore({ io });
      // A first compaction, so the crash lands in one that appends to an existing archive.
      const before = sampleEvents(12);
      await appendAll(store, before);
      await store.compact();
      const events = [...before, ...sampleEvents(12, 13)];
      await appendAll(store, events.slice(before.length));
      const state = structuredClone(store.state);
      recording = true;
      await store.compact();
      recording = false;
      // 13 for the three steps, then 6 for the store mark (write in 3 parts, sync, rename, directory sync).
      assert.equal(copies.length, 19, copies.map((copy) => copy.label).join('\n'));
      assert.match(copies.map((copy) => copy.label).join('\n'), /in the middle of writing archive\.jsonl/);

      for (const copy of copies) {
        directory = copy.directory;
        const reopened = await openStore();
        assert.deepEqual(reopened.state, state, copy.label);
        assert.deepEqual(await collect(reopened.archive()), expectedArchive(events), copy.label);
        // Carry on from the crash: append, compact, reopen. Nothing is lost or archived twice.
        const after = [started(25), closed(25)];
        await appendAll(reopened, after);
        await reopened.compact();
        await reopened.close();
        const again = await openStore();
        assert.equal(again.state.nextTransactionId, 26, copy.label);
        assert.deepEqual(await collect(again.archive()), expectedArchive([...events, ...after]), copy.label);
      }
    });

    it('archives nothing twice after a crash tore the archive and left the journal (prepared files)', async () => {
      const { store, events } = await storeWithEvents(9);
      const state = structuredClone(store.state);
      await store.close();
      // As step 1 leaves it when killed in its write: the first archived event complete, the second torn.
      const archivedLines = readFileSync(join(directory, JOURNAL_FILE), 'utf8')
        .split('\n')
        .filter((line) => line && JSON.parse(line).event.type === 'sessionClosed')
        .map((line) => `${line}\n`);
      const [firstArchived, secondArchived] = archivedLines;
      assert.ok(firstArchived && secondArchived);
      writeFileSync(join(directory, ARCHIVE_FILE), firstArchived + secondArchived.slice(0, 10));

      const reopened = await openStore();
      assert.deepEqual(reopened.state, state);
      assert.deepEqual(await collect(reopened.archive()), expectedArchive(events));
      assert.equal(readFileSync(join(directory, ARCHIVE_FILE), 'utf8'), firstArchived);
      await reopened.compact();
      assert.deepEqual(readFileSync(join(directory, ARCHIVE_FILE), 'utf8'), archivedLines.join(''));
    });

    it('yields from archive() only what was durable when it was called', async () => {
      const { store, syncs } = await openStoreWithHeldSyncs();
      await appendAll(store, [started(1), closed(1)]);
      syncs.held = true;
      const pending = appendAll(store, [started(2), closed(2)]);
      const iteration = store.archive();
      syncs.release();
      await pending;
      assert.deepEqual(await collect(iteration), [closed(1)]);
      assert.deepEqual(await collect(store.archive()), [closed(1), closed(2)]);
    });
  });

  describe('close', () => {
    it('waits for pending appends, then rejects appends and compactions with a clear error', async () => {
      const store = await openStore();
      const events = sampleEvents(20);
      const appended = Promise.all(events.map((event) => store.append(event)));
      const closing = store.close();
      await assert.rejects(
        store.append(started(99)),
        (error: unknown) =>
          error instanceof StoreStoppedError &&
          error.reason === 'closed' &&
          error.message === `append on the durable log in ${directory}, which is closed`,
      );
      await assert.rejects(store.compact(), /compact on the durable log .* which is closed/);
      await closing;
      await appended;
      assert.equal(store.lastDurableSeq, events.length);
      await store.close();
      assert.deepEqual(await collect(store.archive()), expectedArchive(events));
      const reopened = await openStore();
      assert.equal(reopened.lastAppendedSeq, events.length);
    });

    it('waits for a compaction in progress', async () => {
      const store = await openStore();
      await appendAll(store, sampleEvents(5));
      const compacted = store.compact();
      await store.close();
      await compacted;
      assert.equal(readFileSync(join(directory, JOURNAL_FILE), 'utf8'), '');
    });
  });

  describe('whenDurable', () => {
    it('resolves once everything appended so far is on disk, and at once when it already is', async () => {
      const { store, syncs } = await openStoreWithHeldSyncs();
      await store.whenDurable();
      syncs.held = true;
      const appended = store.append(started(1));
      let durable = false;
      const waiting = store.whenDurable().then(() => {
        durable = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(durable, false);
      assert.equal(store.lastDurableSeq, 0);
      syncs.held = false;
      syncs.release();
      await Promise.all([appended, waiting]);
      assert.equal(store.lastDurableSeq, 1);
    });

    it('rejects, and tells the owner once through onStop, when the store stops first', async () => {
      const stops: Error[] = [];
      const store = await openStore({
        onStop: (error) => stops.push(error),
        io: {
          async sync() {
            throw errnoError('EIO', 'i/o error');
          },
        },
      });
      const appended = store.append(started(1));
      await assert.rejects(store.whenDurable(), (error: unknown) => error instanceof StoreStoppedError);
      await assert.rejects(appended, /EIO/);
      await assert.rejects(store.append(started(2)), StoreStoppedError);
      assert.equal(stops.length, 1);
      assert.match(stops[0]?.message ?? '', /accepts no more events/);
    });
  });

  describe('failing disk', () => {
    const failingWrites = (
      fail: (path: string, data: Uint8Array) => Error | undefined,
    ): Partial<StoreIo> => ({
      async write(handle, data, path) {
        const error = fail(path, data);
        if (!error) return await nodeStoreIo.write(handle, data, path);
        // Like a full disk: part of the data lands, then the write fails.
        await nodeStoreIo.write(handle, data.subarray(0, Math.floor(data.byteLength / 3)), path);
        throw error;
      },
    });

    it('rejects appends with the write error and then refuses appends, saying memory may be ahead', async () => {
      let diskFull = false;
      const { log, lines } = recordingLog();
      const store = await openStore({
        log,
        io: failingWrites(() => (diskFull ? errnoError('ENOSPC', 'no space left on device') : undefined)),
      });
      await appendAll(store, sampleEvents(4));
      const durableState = structuredClone(store.state);
      diskFull = true;
      const results = await Promise.allSettled([store.append(started(5)), store.append(started(6))]);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.equal((result.reason as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      diskFull = false;
      await assert.rejects(
        store.append(started(7)),
        (error: unknown) =>
          error instanceof StoreStoppedError &&
          error.reason === 'failed' &&
          (error.cause as NodeJS.ErrnoException).code === 'ENOSPC' &&
          /writing to .*journal\.jsonl failed \(ENOSPC/.test(error.message) &&
          /in-memory state may include events that are not on disk/.test(error.message),
      );
      await assert.rejects(store.compact(), StoreStoppedError);
      assert.equal(store.state.nextTransactionId, 7, 'memory is ahead of the disk');
      assert.match(lines.join('\n'), /error: durable log in .* accepts no more events/);
      await store.close();

      const reopened = await openStore();
      assert.deepEqual(reopened.state, durableState);
    });

    it('rejects appends whose fsync fails, and the appends queued behind them', async () => {
      let failSyncs = false;
      const gate = deferred();
      const store = await openStore({
        io: {
          async sync(handle, path) {
            if (failSyncs) {
              await gate.promise;
              throw errnoError('EIO', 'i/o error');
            }
            await nodeStoreIo.sync(handle, path);
          },
        },
      });
      failSyncs = true;
      const first = store.append(started(1));
      await new Promise((resolve) => setImmediate(resolve));
      const queued = store.append(started(2));
      gate.resolve();
      await assert.rejects(first, /EIO/);
      await assert.rejects(queued, (error: unknown) => error instanceof StoreStoppedError);
    });

    it('keeps going after a failed compaction, and archives nothing twice when it succeeds later', async () => {
      let failArchive = true;
      const { log, lines } = recordingLog();
      const store = await openStore({
        log,
        io: failingWrites((path) =>
          failArchive && path.endsWith(ARCHIVE_FILE)
            ? errnoError('ENOSPC', 'no space left on device')
            : undefined,
        ),
      });
      const events = sampleEvents(9);
      await appendAll(store, events);
      await assert.rejects(store.compact(), /ENOSPC/);
      assert.match(lines.join('\n'), /compaction failed \(ENOSPC.*everything acknowledged is on disk/);
      // The failed write left part of a line in the archive; readers do not see it.
      assert.deepEqual(await collect(store.archive()), expectedArchive(events));

      const more = sampleEvents(3, 10);
      await appendAll(store, more);
      failArchive = false;
      await store.compact();
      await store.close();
      const reopened = await openStore();
      assert.deepEqual(await collect(reopened.archive()), expectedArchive([...events, ...more]));
      assert.equal(reopened.state.nextTransactionId, 13);
    });

    it('leaves a torn archive tail from a failed compaction for the next open to drop', async () => {
      const store = await openStore({
        io: failingWrites((path) =>
          path.endsWith(ARCHIVE_FILE) ? errnoError('ENOSPC', 'no space left on device') : undefined,
        ),
      });
      const events = sampleEvents(9);
      await appendAll(store, events);
      await assert.rejects(store.compact(), /ENOSPC/);
      await store.close();
      assert.ok(existsSync(join(directory, ARCHIVE_FILE)));
      const reopened = await openStore();
      await reopened.compact();
      assert.deepEqual(await collect(reopened.archive()), expectedArchive(events));
    });
  });
});
