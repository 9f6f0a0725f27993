/**
 * A crash-safe, event-sourced store: the state lives in memory, every change is an event that is
 * appended to a journal and fsynced before the caller is told it happened, and the state can be
 * rebuilt after a crash (SIGKILL, power loss) from a snapshot plus the journal.
 *
 * Files in the directory:
 * - `snapshot.json`: `{"format":"ampflow-durable-log/1","seq":S,"state":{...},"crc":"..."}`, the
 *   state after events 1..S, replaced atomically (temp file, fsync, rename, fsync of directory).
 * - `journal.jsonl`: one `{"seq":N,"event":{...},"crc":"..."}` line per event (log-format.ts), seq
 *   increasing by one. Lines with seq <= S are ignored (left behind by a crash during compaction).
 * - `archive.jsonl`: the same lines for archived events (finished sessions, kept for billing),
 *   appended during compaction and never rewritten.
 * - `store-mark.json`: the seq durable at the last compaction or clean close (store-mark.ts).
 *
 * Compaction, with the journal writer paused (appends keep applying to memory and queue up):
 * (1) append the archived events with seq <= S that archive.jsonl does not have yet (it knows by
 * the seq of its last line) and fsync; (2) replace snapshot.json; (3) replace journal.jsonl by an
 * empty file. After a crash between any two steps the old journal is still there, so the state
 * loads the same, and step (1) starts from the archive's last seq, so nothing is archived twice.
 *
 * This file owns the writer: appends, their acknowledgement, and when the store stops. Its parts
 * live next to it: the file formats (log-format.ts), opening after a crash (recovery.ts), the
 * journal file (journal.ts), the archive (archive.ts) and compaction (compaction.ts); its options
 * and the error it stops with are in log-options.ts.
 */
import { resolve } from 'node:path';
import { type Logger, silentLogger } from '../log';
import type { StoreArchive } from './archive';
import { type CompactionInput, CompactionSchedule, compactionInput, writeCompaction } from './compaction';
import { nodeStoreIo, type StoreIo } from './files';
import type { JournalFile } from './journal';
import { messageOf, recordLine, type StorePaths, storePaths } from './log-format';
import { DEFAULT_COMPACT_AFTER_EVENTS, type DurableLogOptions, StoreStoppedError } from './log-options';
import { type RecoveredStore, recoverStore } from './recovery';
import { recordStoreMark } from './store-mark';

export type { StoreIo } from './files';
export {
  ARCHIVE_FILE,
  CorruptStoreError,
  JOURNAL_FILE,
  SNAPSHOT_FILE,
  SNAPSHOT_FORMAT,
} from './log-format';

export { DEFAULT_COMPACT_AFTER_EVENTS, type DurableLogOptions, StoreStoppedError } from './log-options';

interface PendingAppend {
  seq: number;
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface CompactionWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Work<Event> {
  batch: PendingAppend[];
  compaction: { input: CompactionInput<Event>; waiters: CompactionWaiter[] } | undefined;
}

/** Directories with an open store in this process. */
const openDirectories = new Set<string>();

export class DurableLog<State, Event> {
  /** The state after every appended event, durable or not yet. Change it only through {@link append}. */
  readonly state: State;
  readonly directory: string;

  private readonly paths: StorePaths;
  private readonly apply: (state: State, event: Event) => void;
  private readonly isArchived: (event: Event) => boolean;
  private readonly compaction: CompactionSchedule;
  private readonly log: Logger;
  private readonly io: StoreIo;

  private appendedSeq: number;
  private durableSeq: number;
  private readonly journal: JournalFile;
  private readonly archived: StoreArchive<Event>;

  private pending: PendingAppend[] = [];
  /** Callers of {@link whenDurable}, each waiting for the seq that was appended when it called. */
  private durabilityWaiters: { seq: number; resolve(): void; reject(error: unknown): void }[] = [];
  private readonly onStop: ((error: StoreStoppedError) => void) | undefined;
  private compactionWaiters: CompactionWaiter[] = [];
  private drainRunning = false;
  private drainDone: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: StoreStoppedError | undefined;
  /** After a failure, pending appends up to this seq are still written (those before an event apply threw on). */
  private lastWritableSeq = Number.POSITIVE_INFINITY;

  private constructor(
    options: DurableLogOptions<State, Event>,
    loaded: RecoveredStore<State, Event> & { paths: StorePaths; io: StoreIo; log: Logger },
  ) {
    this.paths = loaded.paths;
    this.directory = loaded.paths.directory;
    this.apply = options.apply;
    this.isArchived = options.isArchived ?? (() => false);
    this.compaction = new CompactionSchedule(options.compactAfterEvents ?? DEFAULT_COMPACT_AFTER_EVENTS);
    this.onStop = options.onStop;
    this.log = loaded.log;
    this.io = loaded.io;
    this.state = loaded.state;
    this.appendedSeq = loaded.seq;
    this.durableSeq = loaded.seq;
    this.journal = loaded.journal;
    this.archived = loaded.archive;
  }

  /**
   * Opens the store in `options.directory`: loads the snapshot (or the initial state), replays the
   * journal, drops a torn last line (a crash mid-write) and temp files left by a crashed compaction.
   * Rejects with a {@link CorruptStoreError} naming file and line if acknowledged data is damaged.
   */
  static async open<State, Event>(
    options: DurableLogOptions<State, Event>,
  ): Promise<DurableLog<State, Event>> {
    const compactAfterEvents = options.compactAfterEvents ?? DEFAULT_COMPACT_AFTER_EVENTS;
    if (!Number.isSafeInteger(compactAfterEvents) || compactAfterEvents < 1) {
      throw new RangeError(`compactAfterEvents must be a positive integer, got ${compactAfterEvents}`);
    }
    const directory = resolve(options.directory);
    // Two stores writing one directory would corrupt it (say, a redeployed node opening before the
    // old one has closed). This catches it within the process; nothing guards against a second process.
    if (openDirectories.has(directory)) {
      throw new Error(`the durable log in ${directory} is already open in this process; close it first`);
    }
    openDirectories.add(directory);
    try {
      return await DurableLog.load(options, directory);
    } catch (error) {
      openDirectories.delete(directory);
      throw error;
    }
  }

  private static async load<State, Event>(
    options: DurableLogOptions<State, Event>,
    directory: string,
  ): Promise<DurableLog<State, Event>> {
    const io: StoreIo = { ...nodeStoreIo, ...options.io };
    const log = options.log ?? silentLogger;
    const paths = storePaths(directory);
    const recovered = await recoverStore(options, paths, io, log);
    return new DurableLog(options, { paths, io, log, ...recovered });
  }

  /** Seq of the last event applied to {@link state}. */
  get lastAppendedSeq(): number {
    return this.appendedSeq;
  }

  /** Seq of the last event known to be on disk (written and fsynced). */
  get lastDurableSeq(): number {
    return this.durableSeq;
  }

  /**
   * Applies `event` to {@link state} at once, and resolves when it is durable. Appends that arrive
   * while a write is in flight are written together with one fsync, in the order they were made.
   * If the write fails, this rejects with the underlying error (the event may or may not be on
   * disk) and the store accepts no more events.
   */
  append(event: Event): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(this.closedError('append'));
    const seq = this.appendedSeq + 1;
    let copy: Event;
    let line: string;
    let archived: boolean;
    try {
      const json = JSON.stringify(event);
      if (json === undefined) throw new TypeError(`event ${String(event)} has no JSON form`);
      copy = JSON.parse(json) as Event;
      line = recordLine(seq, json);
      archived = this.isArchived(copy);
    } catch (error) {
      // Nothing has changed yet: the store stays usable.
      return Promise.reject(error);
    }
    try {
      this.apply(this.state, copy);
    } catch (error) {
      this.stop(error, `applying event seq ${seq}`, seq - 1);
      return Promise.reject(error);
    }
    this.appendedSeq = seq;
    if (archived) this.archived.add({ seq, event: copy });
    return new Promise((resolve, reject) => {
      this.pending.push({ seq, line, resolve, reject });
      this.scheduleDrain();
    });
  }

  /**
   * Resolves once every event appended so far is durable. An answer that repeats what an earlier,
   * not yet durable event decided (a charger resending a message) must wait for this. Rejects if
   * the store stops first.
   */
  whenDurable(): Promise<void> {
    const seq = this.appendedSeq;
    if (this.durableSeq >= seq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.durabilityWaiters.push({ seq, resolve, reject });
    });
  }

  /**
   * Every archived event ever appended and durable when this is called, oldest first: those in
   * archive.jsonl, then those still only in the journal. Events appended later are not included.
   */
  archive(): AsyncIterable<Event> {
    return this.archived.read(this.durableSeq);
  }

  /**
   * Writes a snapshot of the state and starts a fresh journal (after moving archived events to
   * the archive). Runs by itself after `compactAfterEvents` events. Appends made meanwhile are
   * applied to the state at once and written when the compaction is done.
   */
  compact(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(this.closedError('compact'));
    return new Promise((resolve, reject) => {
      this.compactionWaiters.push({ resolve, reject });
      this.scheduleDrain();
    });
  }

  /**
   * Waits for every append and compaction already asked for, then closes the journal. Appends
   * after this reject with a {@link StoreStoppedError}. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    try {
      while (this.drainRunning) await this.drainDone;
      await this.journal.close();
      if (!this.failure) await recordStoreMark(this.io, this.paths.mark, this.durableSeq, this.log);
    } finally {
      openDirectories.delete(this.directory);
    }
  }

  private closedError(operation: string): StoreStoppedError {
    return new StoreStoppedError(
      'closed',
      `${operation} on the durable log in ${this.directory}, which is closed`,
    );
  }

  /**
   * Stops the store: from now on appends and compactions reject with one error saying why, and
   * nothing after `lastWritableSeq` is written (by default, nothing that is not durable yet).
   */
  private stop(cause: unknown, doing: string, lastWritableSeq = this.durableSeq): void {
    this.lastWritableSeq = Math.min(this.lastWritableSeq, lastWritableSeq);
    if (this.failure) return;
    this.failure = new StoreStoppedError(
      'failed',
      `durable log in ${this.directory} accepts no more events: ${doing} failed (${messageOf(cause)}). ` +
        'The in-memory state may include events that are not on disk; reopen the store to continue from what is durable.',
      { cause },
    );
    this.log.error(this.failure.message);
    for (const waiter of this.durabilityWaiters.splice(0)) waiter.reject(this.failure);
    this.onStop?.(this.failure);
  }

  private scheduleDrain(): void {
    if (this.drainRunning) return;
    this.drainRunning = true;
    // Start on a microtask, so every append made in the same synchronous run shares the first write.
    this.drainDone = Promise.resolve().then(() => this.drain());
  }

  /** The single writer: batches and compactions, one at a time, in order. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const work = this.takeWork();
        if (!work) return;
        await this.perform(work);
      }
    } catch (error) {
      // perform() handles every I/O error; this is a bug, but never leave appends hanging.
      this.stop(error, 'the journal writer');
      this.takeWork();
    } finally {
      this.drainRunning = false;
    }
  }

  private takeWork(): Work<Event> | undefined {
    if (this.failure) {
      const failure = this.failure;
      const writable = this.pending.filter((append) => append.seq <= this.lastWritableSeq);
      for (const append of this.pending.slice(writable.length)) append.reject(failure);
      this.pending = [];
      for (const waiter of this.compactionWaiters.splice(0)) waiter.reject(failure);
      return writable.length > 0 ? { batch: writable, compaction: undefined } : undefined;
    }
    const batch = this.pending;
    const requested = this.compactionWaiters.length > 0;
    const automatic = !this.closed && this.compaction.isDue(this.journal.lineCount + batch.length);
    if (batch.length === 0 && !requested && !automatic) return undefined;
    this.pending = [];
    if (!requested && !automatic) return { batch, compaction: undefined };
    const waiters = this.compactionWaiters.splice(0);
    let input: CompactionInput<Event> | undefined;
    try {
      // Right now every appended event is either durable or in `batch`, which is written first.
      input = compactionInput(this.appendedSeq, this.state, this.archived);
    } catch (error) {
      this.log.warn(`${this.directory}: cannot compact, the state has no JSON form: ${messageOf(error)}`);
      this.compaction.postpone(this.journal.lineCount + batch.length);
      for (const waiter of waiters) waiter.reject(error);
      return { batch, compaction: undefined };
    }
    return { batch, compaction: { input, waiters } };
  }

  private async perform({ batch, compaction }: Work<Event>): Promise<void> {
    const last = batch[batch.length - 1];
    if (last) {
      try {
        await this.journal.append(batch.map((append) => append.line));
      } catch (error) {
        this.stop(error, `writing to ${this.paths.journal}`);
        for (const append of batch) append.reject(error);
        for (const waiter of compaction?.waiters ?? []) waiter.reject(this.failure);
        return;
      }
      this.durableSeq = last.seq;
      for (const append of batch) append.resolve();
      const durable = this.durabilityWaiters.filter((waiter) => waiter.seq <= last.seq);
      this.durabilityWaiters = this.durabilityWaiters.filter((waiter) => waiter.seq > last.seq);
      for (const waiter of durable) waiter.resolve();
    }
    if (!compaction) return;
    try {
      await this.compactNow(compaction.input);
    } catch (error) {
      for (const waiter of compaction.waiters) waiter.reject(error);
      if (!this.failure) {
        this.compaction.postpone(this.journal.lineCount);
        this.log.warn(
          `${this.directory}: compaction failed (${messageOf(error)}); everything acknowledged is on disk, ` +
            `retrying after ${this.compaction.everyEvents} more events`,
        );
      }
      return;
    }
    for (const waiter of compaction.waiters) waiter.resolve();
  }

  private async compactNow(input: CompactionInput<Event>): Promise<void> {
    const files = {
      archive: this.archived,
      journal: this.journal,
      paths: this.paths,
      io: this.io,
      log: this.log,
    };
    await writeCompaction(input, files, (error) =>
      this.stop(error, `starting a fresh ${this.paths.journal}`),
    );
    this.compaction.restart();
  }
}
