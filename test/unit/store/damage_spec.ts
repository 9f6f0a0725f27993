import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  ARCHIVE_FILE,
  CorruptStoreError,
  DurableLog,
  type DurableLogOptions,
  JOURNAL_FILE,
  SNAPSHOT_FILE,
  SNAPSHOT_FORMAT,
} from '../../../lib/store/durable-log';
import { nodeStoreIo } from '../../../lib/store/files';
import { crc32WithoutZlib, STORE_MARK_FILE } from '../../../lib/store/log-format';
import { STORE_MARK_FORMAT } from '../../../lib/store/store-mark';
import { collect, recordingLog } from './support';

interface State {
  sessions: { [transactionId: string]: { idTag: string; meterStart: number } };
  closed: { transactionId: number; meterStop: number }[];
}

type Event =
  | { type: 'started'; transactionId: number; idTag: string; meterStart: number }
  | { type: 'closed'; transactionId: number; meterStop: number };

function apply(state: State, event: Event): void {
  if (event.type === 'started') {
    state.sessions[event.transactionId] = { idTag: event.idTag, meterStart: event.meterStart };
  } else {
    delete state.sessions[event.transactionId];
    state.closed.push({ transactionId: event.transactionId, meterStop: event.meterStop });
  }
}

const started = (id: number): Event => ({
  type: 'started',
  transactionId: id,
  idTag: `TAG-${id}`,
  meterStart: 1000 + id,
});
const closed = (id: number): Event => ({ type: 'closed', transactionId: id, meterStop: 1234 + id });

/** `,"crc":"xxxxxxxx"}` at the end of a line, and what it covers. */
const crcRecord = /^(\{.*),"crc":"([0-9a-f]{8})"\}$/;

function completeLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

/** Rewrites line `lineNumber` (1-based) of `path` with `change`. */
function changeLine(path: string, lineNumber: number, change: (line: string) => string): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  const before = lines[lineNumber - 1] ?? '';
  lines[lineNumber - 1] = change(before);
  assert.notEqual(lines[lineNumber - 1], before, 'the change must change the line');
  writeFileSync(path, lines.join('\n'));
}

describe('DurableLog damage detection', () => {
  let root: string;
  let directory: string;
  let journal: string;
  let archive: string;
  let snapshot: string;
  let mark: string;
  const stores: DurableLog<State, Event>[] = [];

  const openStore = async (options: Partial<DurableLogOptions<State, Event>> = {}) => {
    const store = await DurableLog.open<State, Event>({
      directory,
      initialState: () => ({ sessions: {}, closed: [] }),
      apply,
      isArchived: (event) => event.type === 'closed',
      ...options,
    });
    stores.push(store);
    return store;
  };

  const appendAll = (store: DurableLog<State, Event>, events: Event[]) =>
    Promise.all(events.map((event) => store.append(event)));

  /** Transactions `from`..`to` started; with `close`, each also closed (archived). */
  const sessions = (from: number, to: number, close = false): Event[] =>
    Array.from({ length: to - from + 1 }, (_, index) =>
      close ? [started(from + index), closed(from + index)] : [started(from + index)],
    ).flat();

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'durable-log-damage-'));
    directory = join(root, 'store');
    journal = join(directory, JOURNAL_FILE);
    archive = join(directory, ARCHIVE_FILE);
    snapshot = join(directory, SNAPSHOT_FILE);
    mark = join(directory, STORE_MARK_FILE);
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe('record checksums', () => {
    it('writes journal, archive and snapshot with a CRC-32 of the bytes before ,"crc":', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 3, true));
      await store.compact();
      await appendAll(store, sessions(4, 5, true));
      await store.close();
      const checked = [...completeLines(journal), ...completeLines(archive), ...completeLines(snapshot)];
      assert.equal(checked.length, 4 + 3 + 1);
      for (const line of checked) {
        const match = crcRecord.exec(line);
        assert.ok(match, line);
        const [, body = '', crc] = match;
        assert.equal(crc, crc32(body).toString(16).padStart(8, '0'), line);
      }
      assert.match(completeLines(journal)[0] ?? '', /^\{"seq":7,"event":\{"type":"started"/);
      assert.match(
        completeLines(snapshot)[0] ?? '',
        new RegExp(`^\\{"format":"${SNAPSHOT_FORMAT}","seq":6,`),
      );
    });

    it('computes the same CRC-32 as zlib without it (Node 20 before 20.15)', () => {
      for (const text of ['', '{"seq":1,"event":{"idTag":"ÄÖ-€"}', 'x'.repeat(10_000)]) {
        assert.equal(crc32WithoutZlib(Buffer.from(text)), crc32(text), text.slice(0, 20));
      }
    });

    it('refuses a journal record changed inside that is still JSON, naming file and line', async () => {
      const store = await openStore();
      await appendAll(store, [started(1), closed(1), started(2), started(3)]);
      await store.close();
      // The meter value 1235 becomes 1295: still JSON, still a valid record.
      changeLine(journal, 2, (line) => line.replace('"meterStop":1235', '"meterStop":1295'));
      await assert.rejects(
        openStore(),
        (error: unknown) =>
          error instanceof CorruptStoreError &&
          error.file === journal &&
          error.lineNumber === 2 &&
          error.message.startsWith(`${journal} line 2: line fails its checksum`),
      );

      changeLine(journal, 2, (line) => line.replace('"meterStop":1295', '"meterStop":1235'));
      changeLine(journal, 3, (line) => line.replace('TAG-2', 'TAG-7'));
      await assert.rejects(openStore(), /journal\.jsonl line 3: line fails its checksum/);
    });

    it('refuses a record whose crc, or the name of its crc field, was damaged', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 3));
      await store.close();
      const intact = readFileSync(journal, 'utf8');
      changeLine(journal, 2, (line) => line.replace(/"crc":"./, '"crc":"g'));
      await assert.rejects(openStore(), /journal\.jsonl line 2: line has no valid crc/);
      writeFileSync(journal, intact);
      // Without this the line would pass as a record of an earlier version, which had no crc.
      changeLine(journal, 2, (line) => line.replace('"crc":', '"crb":'));
      await assert.rejects(openStore(), /journal\.jsonl line 2: line has unknown fields \(crb\)/);
    });

    it('refuses a changed last archive line at open, and reports a changed earlier one when read', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 4, true));
      await store.compact();
      await store.close();
      assert.equal(completeLines(archive).length, 4);
      changeLine(archive, 2, (line) => line.replace('"meterStop":1236', '"meterStop":1296'));
      // Open reads only the archive's last line (the archive grows forever); archive() reads it all.
      const reopened = await openStore();
      await assert.rejects(
        collect(reopened.archive()),
        (error: unknown) =>
          error instanceof CorruptStoreError &&
          error.file === archive &&
          error.lineNumber === 2 &&
          /line fails its checksum/.test(error.message),
      );
      await reopened.close();

      changeLine(archive, 4, (line) => line.replace('"meterStop":1238', '"meterStop":1239'));
      await assert.rejects(
        openStore(),
        (error: unknown) =>
          error instanceof CorruptStoreError &&
          error.file === archive &&
          error.message.startsWith(`${archive}: last complete line fails its checksum`),
      );
    });

    it('refuses a snapshot changed inside, naming the file', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 3));
      await store.compact();
      await store.close();
      changeLine(snapshot, 1, (line) => line.replace('"meterStart":1002', '"meterStart":1003'));
      await assert.rejects(
        openStore(),
        (error: unknown) =>
          error instanceof CorruptStoreError &&
          error.file === snapshot &&
          /fails its checksum/.test(error.message),
      );
    });

    it('opens and replays a store an earlier version wrote without crc, and adds crcs from then on', async () => {
      mkdirSync(directory);
      const old = (seq: number, event: Event) => `${JSON.stringify({ seq, event })}\n`;
      const state: State = { sessions: { 1: { idTag: 'TAG-1', meterStart: 1001 } }, closed: [] };
      writeFileSync(snapshot, `${JSON.stringify({ format: SNAPSHOT_FORMAT, seq: 1, state })}\n`);
      writeFileSync(journal, old(1, started(1)) + old(2, closed(1)) + old(3, started(2)));
      writeFileSync(archive, old(2, closed(1)));

      const store = await openStore();
      assert.equal(store.lastAppendedSeq, 3);
      assert.deepEqual(store.state, {
        sessions: { 2: { idTag: 'TAG-2', meterStart: 1002 } },
        closed: [{ transactionId: 1, meterStop: 1235 }],
      });
      await appendAll(store, [closed(2)]);
      assert.match(completeLines(journal)[3] ?? '', crcRecord);
      await store.compact();
      await store.close();

      const reopened = await openStore();
      assert.deepEqual(await collect(reopened.archive()), [closed(1), closed(2)]);
      const [oldLine, newLine] = completeLines(archive);
      assert.equal(oldLine, old(2, closed(1)).trimEnd());
      assert.match(newLine ?? '', crcRecord);
      assert.match(completeLines(snapshot)[0] ?? '', crcRecord);
    });

    it('still drops a torn last journal line, even one torn inside its crc', async () => {
      const { log, lines } = recordingLog();
      const store = await openStore();
      await appendAll(store, sessions(1, 3));
      await store.close();
      const intact = readFileSync(journal, 'utf8');
      assert.ok(completeLines(journal).every((line) => crcRecord.test(line)));
      // A fourth record cut inside its crc, as a crash in the middle of its write leaves it.
      const torn = (completeLines(journal)[2] ?? '').replace('"seq":3', '"seq":4').slice(0, -6);
      assert.match(torn, /"crc":"[0-9a-f]{4}$/);
      appendFileSync(journal, torn);

      const reopened = await openStore({ log });
      assert.equal(reopened.lastAppendedSeq, 3);
      assert.equal(readFileSync(journal, 'utf8'), intact);
      assert.ok(lines.includes(`warn: ${journal}: dropped ${torn.length} bytes of a line torn by a crash`));
    });
  });

  describe('store mark', () => {
    const lossErrors = (lines: string[]) => lines.filter((line) => line.startsWith('error: EVENTS LOST:'));

    /** 300 sessions, a compaction, 200 more, a clean close: the mark says seq 500. */
    const storeAt500 = async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 300));
      await store.compact();
      const stateAt300 = structuredClone(store.state);
      await appendAll(store, sessions(301, 500));
      await store.close();
      const written = JSON.parse(readFileSync(mark, 'utf8'));
      assert.equal(written.format, STORE_MARK_FORMAT);
      assert.equal(written.seq, 500);
      assert.ok(!Number.isNaN(Date.parse(written.at)), written.at);
      return { stateAt300, at: written.at as string };
    };

    it('says loudly that events were lost when snapshot and journal are gone, and starts empty', async () => {
      const { at } = await storeAt500();
      rmSync(snapshot);
      rmSync(journal);
      const { log, lines } = recordingLog();
      const store = await openStore({ log });
      assert.equal(store.lastAppendedSeq, 0);
      assert.deepEqual(store.state, { sessions: {}, closed: [] });
      const [error, ...more] = lossErrors(lines);
      assert.equal(more.length, 0, lines.join('\n'));
      assert.ok(error?.includes(directory), error);
      assert.match(error ?? '', new RegExp(`up to seq 500 \\(recorded in ${STORE_MARK_FILE} at ${at}\\)`));
      assert.match(error ?? '', /end at seq 0: events 1\.\.500 were lost/);
      assert.match(error ?? '', /restore the files from a backup/);
      assert.match(error ?? '', /repeats at every start until the next compaction or clean close/);

      // It carries on; the clean close records the seq reached, so the next start is quiet.
      await appendAll(store, sessions(1, 2));
      await store.close();
      assert.equal(JSON.parse(readFileSync(mark, 'utf8')).seq, 2);
      const quiet = recordingLog();
      await openStore({ log: quiet.log });
      assert.deepEqual(lossErrors(quiet.lines), []);
    });

    it('says so when only the journal since the last compaction is gone, and starts from the snapshot', async () => {
      const { stateAt300 } = await storeAt500();
      rmSync(journal);
      const { log, lines } = recordingLog();
      const store = await openStore({ log });
      assert.equal(store.lastAppendedSeq, 300);
      assert.deepEqual(store.state, stateAt300);
      const errors = lossErrors(lines);
      assert.equal(errors.length, 1, lines.join('\n'));
      assert.match(errors[0] ?? '', /up to seq 500 .* end at seq 300: events 301\.\.500 were lost/);
    });

    it('says so before refusing an archive that outlived the snapshot and journal', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 5, true));
      await store.compact();
      await store.close();
      rmSync(snapshot);
      rmSync(journal);
      const { log, lines } = recordingLog();
      await assert.rejects(openStore({ log }), /archive\.jsonl: ends at seq 10, but snapshot\.json/);
      assert.match(lossErrors(lines)[0] ?? '', /up to seq 10 .* end at seq 0/);
    });

    it('says nothing for a new store or one without a mark, and is not written by appends', async () => {
      const { log, lines } = recordingLog();
      const store = await openStore({ log });
      await appendAll(store, sessions(1, 20));
      assert.equal(existsSync(mark), false, 'appends do not write the mark');
      await store.close();
      assert.equal(JSON.parse(readFileSync(mark, 'utf8')).seq, 20);
      await (await openStore({ log })).close();
      // A store written by an earlier version has no mark.
      rmSync(mark);
      const reopened = await openStore({ log });
      assert.equal(reopened.lastAppendedSeq, 20);
      assert.deepEqual(
        lines.filter((line) => !line.startsWith('info:')),
        [],
      );
    });

    it('warns about a damaged mark, opens, and rewrites it at the next clean close', async () => {
      const store = await openStore();
      await appendAll(store, sessions(1, 3));
      await store.close();
      writeFileSync(mark, '{"format":"ampflow-store-mark/1","seq":"5');
      const { log, lines } = recordingLog();
      const reopened = await openStore({ log });
      assert.equal(reopened.lastAppendedSeq, 3);
      assert.deepEqual(lines, [
        `warn: ${mark}: ignored, it is damaged (not a mark in the format ${STORE_MARK_FORMAT}); ` +
          'lost events cannot be detected at this start, and the next compaction or clean close rewrites it',
      ]);
      await reopened.close();
      assert.equal(JSON.parse(readFileSync(mark, 'utf8')).seq, 3);
    });

    it('warns when the mark cannot be written, and the compaction and close still succeed', async () => {
      const { log, lines } = recordingLog();
      const store = await openStore({
        log,
        io: {
          async rename(from, to) {
            if (to === mark) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
            await nodeStoreIo.rename(from, to);
          },
        },
      });
      await appendAll(store, sessions(1, 3));
      await store.compact();
      await store.close();
      assert.equal(existsSync(mark), false);
      assert.equal(
        lines.filter((line) => line.startsWith(`warn: ${mark}: cannot record seq 3 (EIO`)).length,
        2,
      );
      assert.equal((await openStore()).lastAppendedSeq, 3);
    });
  });
});
