/**
 * The durable log's archive: archive.jsonl (archived events, appended during compaction and never
 * rewritten) together with the archived events that are still only in the journal. It knows how
 * far the file is complete and which seq it ends at, so compaction appends each event once and
 * readers see the file and the in-memory tail agree.
 */
import { open } from 'node:fs/promises';
import { readLines, type StoreIo } from './files';
import { CorruptStoreError, type LoggedEvent, parseLoggedEvent, recordLine } from './log-format';

export class StoreArchive<Event> {
  /** A failed archive write may have left part of a line after {@link completeBytes}. */
  private mayHaveTornTail = false;

  constructor(
    private readonly path: string,
    private readonly io: StoreIo,
    /** Complete bytes of archive.jsonl: readers never read past this, compaction appends after it. */
    private completeBytes: number,
    private lastArchivedSeq: number,
    /** Archived events not yet in archive.jsonl, in seq order. Replaced, never shrunk in place. */
    private tail: LoggedEvent<Event>[],
  ) {}

  /** Notes an archived event that is (about to be) in the journal. */
  add(logged: LoggedEvent<Event>): void {
    this.tail.push(logged);
  }

  /** The archived events not yet in archive.jsonl, as compaction takes them. */
  unwritten(): LoggedEvent<Event>[] {
    return this.tail.slice();
  }

  /** Every archived event in archive.jsonl, then those of the tail up to `durableSeq`, oldest first. */
  read(durableSeq: number): AsyncIterable<Event> {
    const tail = this.tail.filter((logged) => logged.seq <= durableSeq);
    return readArchive(this.path, this.completeBytes, tail);
  }

  /** Compaction step 1: appends archived events up to `seq` that archive.jsonl lacks. */
  async appendUpTo(seq: number, archived: LoggedEvent<Event>[]): Promise<void> {
    const missing = archived.filter((logged) => logged.seq > this.lastArchivedSeq);
    const last = missing[missing.length - 1];
    if (!last && !this.mayHaveTornTail) return;
    const path = this.path;
    const handle = await open(path, 'a');
    try {
      if (this.mayHaveTornTail) {
        await handle.truncate(this.completeBytes);
        await this.io.sync(handle, path);
        this.mayHaveTornTail = false;
      }
      if (!last) return;
      const data = Buffer.from(
        missing.map((logged) => recordLine(logged.seq, JSON.stringify(logged.event))).join(''),
      );
      this.mayHaveTornTail = true;
      await this.io.write(handle, data, path);
      await this.io.sync(handle, path);
      this.mayHaveTornTail = false;
      // All three change together, so read() always sees the file and the tail agree.
      this.completeBytes += data.byteLength;
      this.lastArchivedSeq = last.seq;
      this.tail = this.tail.filter((logged) => logged.seq > seq);
    } finally {
      await handle.close();
    }
  }
}

async function* readArchive<Event>(
  path: string,
  endBytes: number,
  tail: LoggedEvent<Event>[],
): AsyncGenerator<Event> {
  let previousSeq = 0;
  for await (const line of readLines(path, endBytes)) {
    const logged = parseLoggedEvent<Event>(line.text, path, line.lineNumber);
    if (logged.seq <= previousSeq) {
      throw new CorruptStoreError(
        path,
        line.lineNumber,
        `seq ${logged.seq} after seq ${previousSeq}: duplicated or out of order`,
      );
    }
    previousSeq = logged.seq;
    yield logged.event;
  }
  for (const logged of tail) if (logged.seq > previousSeq) yield logged.event;
}
