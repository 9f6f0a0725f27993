/**
 * A crash-safe, event-sourced store: the state lives in memory, every change is an event that is
 * appended to a journal and fsynced before the caller is told it happened, and the state can be
 * rebuilt after a crash (SIGKILL, power loss) from a snapshot plus the journal.
 *
 * Files in the directory:
 * - `snapshot.json`: `{"format":"ampflow-durable-log/1","seq":S,"state":{...}}`, the state after
 *   events 1..S. Replaced atomically (temp file, fsync, rename, fsync of the directory).
 * - `journal.jsonl`: one `{"seq":N,"event":{...}}` line per event, seq increasing by one. Lines
 *   with seq <= S are ignored (they are left behind by a crash during compaction).
 * - `archive.jsonl`: the same lines for archived events (finished sessions, kept for billing),
 *   appended during compaction and never rewritten.
 *
 * Compaction, with the journal writer paused (appends keep applying to memory and queue up):
 * (1) append the archived events with seq <= S that archive.jsonl does not have yet (it knows by
 * the seq of its last line) and fsync; (2) replace snapshot.json; (3) replace journal.jsonl by an
 * empty file. After a crash between any two steps the old journal is still there, so the state
 * loads the same, and step (1) starts from the archive's last seq, so nothing is archived twice.
 */
import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Logger, silentLogger } from '../log';
import {
  isNotFound,
  nodeStoreIo,
  readLastCompleteLine,
  readLines,
  removeIfExists,
  replaceFileAtomically,
  type StoreIo,
  splitCompleteLines,
} from './files';

export type { StoreIo } from './files';

export const SNAPSHOT_FILE = 'snapshot.json';
export const JOURNAL_FILE = 'journal.jsonl';
export const ARCHIVE_FILE = 'archive.jsonl';
/** Suffix of the temporary files that are renamed over the snapshot and the journal. */
export const TEMPORARY_SUFFIX = '.tmp';
export const SNAPSHOT_FORMAT = 'ampflow-durable-log/1';
export const DEFAULT_COMPACT_AFTER_EVENTS = 10_000;

export interface DurableLogOptions<State, Event> {
  /** Where the files live; created (with its parents) if missing. */
  directory: string;
  /** The state of a new, empty store. */
  initialState: () => State;
  /**
   * Applies one event to the state by mutating it. Must be deterministic: replaying the journal
   * after a restart has to produce the same state. It receives a JSON copy of the event (what a
   * replay will see), and should validate before it mutates: if it throws, the store stops.
   */
  apply: (state: State, event: Event) => void;
  /** Events that also go to the permanent archive (finished sessions, for billing). */
  isArchived?: (event: Event) => boolean;
  /** Compact automatically once the journal holds this many events. */
  compactAfterEvents?: number;
  log?: Logger;
  /**
   * Called once if the store stops accepting events (a write or fsync failed, or apply threw): the
   * owner should stop acknowledging anything, because nothing more can be made durable.
   */
  onStop?: (error: StoreStoppedError) => void;
  /** File operations, replaceable by tests to count fsyncs, inject failures or observe crash points. */
  io?: Partial<StoreIo>;
}

/** The store's files are damaged in a way that would lose acknowledged events if ignored. */
export class CorruptStoreError extends Error {
  constructor(
    readonly file: string,
    readonly lineNumber: number | undefined,
    detail: string,
  ) {
    super(`${file}${lineNumber === undefined ? '' : ` line ${lineNumber}`}: ${detail}`);
    this.name = 'CorruptStoreError';
  }
}

/** The store accepts no more events: it was closed, or a write failed. */
export class StoreStoppedError extends Error {
  constructor(
    readonly reason: 'closed' | 'failed',
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'StoreStoppedError';
  }
}

interface LoggedEvent<Event> {
  seq: number;
  event: Event;
}

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

/** What compaction writes, taken at one instant at which every appended event is in the journal or in the batch being written. */
interface CompactionInput<Event> {
  seq: number;
  snapshot: Buffer;
  archived: LoggedEvent<Event>[];
}

interface Work<Event> {
  batch: PendingAppend[];
  compaction: { input: CompactionInput<Event>; waiters: CompactionWaiter[] } | undefined;
}

interface Paths {
  directory: string;
  snapshot: string;
  journal: string;
  archive: string;
}

/** Directories with an open store in this process. */
const openDirectories = new Set<string>();

export class DurableLog<State, Event> {
  /** The state after every appended event, durable or not yet. Change it only through {@link append}. */
  readonly state: State;
  readonly directory: string;

  private readonly paths: Paths;
  private readonly apply: (state: State, event: Event) => void;
  private readonly isArchived: (event: Event) => boolean;
  private readonly compactAfterEvents: number;
  private readonly log: Logger;
  private readonly io: StoreIo;

  private appendedSeq: number;
  private durableSeq: number;
  private journalHandle: FileHandle | undefined;
  /** Lines in journal.jsonl, including any left from before the snapshot. */
  private journalLineCount: number;
  private autoCompactionAtLines: number;

  /** Complete bytes of archive.jsonl: readers never read past this, compaction appends after it. */
  private archiveBytes: number;
  private lastArchivedSeq: number;
  /** Archived events not yet in archive.jsonl, in seq order. Replaced, never shrunk in place. */
  private archiveTail: LoggedEvent<Event>[];
  /** A failed archive write may have left part of a line after {@link archiveBytes}. */
  private archiveMayHaveTornTail = false;

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
    loaded: {
      paths: Paths;
      io: StoreIo;
      log: Logger;
      state: State;
      seq: number;
      journalHandle: FileHandle;
      journalLineCount: number;
      archiveBytes: number;
      lastArchivedSeq: number;
      archiveTail: LoggedEvent<Event>[];
    },
  ) {
    this.paths = loaded.paths;
    this.directory = loaded.paths.directory;
    this.apply = options.apply;
    this.isArchived = options.isArchived ?? (() => false);
    this.compactAfterEvents = options.compactAfterEvents ?? DEFAULT_COMPACT_AFTER_EVENTS;
    this.onStop = options.onStop;
    this.log = loaded.log;
    this.io = loaded.io;
    this.state = loaded.state;
    this.appendedSeq = loaded.seq;
    this.durableSeq = loaded.seq;
    this.journalHandle = loaded.journalHandle;
    this.journalLineCount = loaded.journalLineCount;
    this.autoCompactionAtLines = this.compactAfterEvents;
    this.archiveBytes = loaded.archiveBytes;
    this.lastArchivedSeq = loaded.lastArchivedSeq;
    this.archiveTail = loaded.archiveTail;
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
    const paths: Paths = {
      directory,
      snapshot: join(directory, SNAPSHOT_FILE),
      journal: join(directory, JOURNAL_FILE),
      archive: join(directory, ARCHIVE_FILE),
    };
    await createDirectory(directory, io);
    for (const leftover of [paths.snapshot, paths.journal].map((path) => path + TEMPORARY_SUFFIX)) {
      if (await removeIfExists(leftover))
        log.info(`removed ${leftover}, left over from an interrupted compaction`);
    }

    const { state, seq: snapshotSeq } = await readSnapshot(paths.snapshot, options.initialState);

    const archiveEnd = await readLastCompleteLine(paths.archive);
    const lastArchivedSeq =
      archiveEnd.lastLine === undefined
        ? 0
        : parseLoggedEvent(archiveEnd.lastLine, paths.archive, undefined, 'last complete line').seq;

    const journalContent = await readFile(paths.journal).catch((error: unknown) => {
      if (isNotFound(error)) return Buffer.alloc(0);
      throw error;
    });
    const { lines, completeBytes } = splitCompleteLines(journalContent);
    const isArchived = options.isArchived ?? (() => false);
    const archiveTail: LoggedEvent<Event>[] = [];
    let seq = snapshotSeq;
    let previousLineSeq: number | undefined;
    for (const line of lines) {
      const logged = parseLoggedEvent<Event>(line.text, paths.journal, line.lineNumber);
      if (previousLineSeq !== undefined && logged.seq !== previousLineSeq + 1) {
        throw new CorruptStoreError(
          paths.journal,
          line.lineNumber,
          `seq ${logged.seq} follows seq ${previousLineSeq}; the journal must count up by one`,
        );
      }
      previousLineSeq = logged.seq;
      if (logged.seq > seq) {
        if (logged.seq !== seq + 1) {
          throw new CorruptStoreError(
            paths.journal,
            line.lineNumber,
            `seq ${logged.seq}, but ${SNAPSHOT_FILE} ends at seq ${seq}: events ${seq + 1}..${logged.seq - 1} are missing`,
          );
        }
        try {
          options.apply(state, logged.event);
        } catch (error) {
          throw new Error(
            `${paths.journal} line ${line.lineNumber}: replaying seq ${logged.seq} failed: ${messageOf(error)}`,
            { cause: error },
          );
        }
        seq = logged.seq;
      }
      if (logged.seq > lastArchivedSeq && isArchived(logged.event)) archiveTail.push(logged);
    }
    if (previousLineSeq !== undefined && previousLineSeq < snapshotSeq) {
      throw new CorruptStoreError(
        paths.journal,
        undefined,
        `ends at seq ${previousLineSeq}, before ${SNAPSHOT_FILE} (seq ${snapshotSeq}): it does not belong with this snapshot`,
      );
    }
    if (lastArchivedSeq > seq) {
      throw new CorruptStoreError(
        paths.archive,
        undefined,
        `ends at seq ${lastArchivedSeq}, but ${SNAPSHOT_FILE} and ${JOURNAL_FILE} end at seq ${seq}: events are missing`,
      );
    }

    // Everything checks out: only now change files.
    if (archiveEnd.sizeBytes > archiveEnd.completeBytes) {
      await truncateTornTail(io, paths.archive, archiveEnd.completeBytes);
      log.warn(
        `${paths.archive}: dropped ${archiveEnd.sizeBytes - archiveEnd.completeBytes} bytes of a line torn by a crash`,
      );
    }
    const journalHandle = await open(paths.journal, 'a');
    try {
      if (completeBytes < journalContent.byteLength) {
        await journalHandle.truncate(completeBytes);
        await io.sync(journalHandle, paths.journal);
        log.warn(
          `${paths.journal}: dropped ${journalContent.byteLength - completeBytes} bytes of a line torn by a crash`,
        );
      }
      // The journal may have just been created: make its directory entry durable before the first ack.
      await io.syncDirectory(directory);
    } catch (error) {
      await journalHandle.close();
      throw error;
    }
    return new DurableLog(options, {
      paths,
      io,
      log,
      state,
      seq,
      journalHandle,
      journalLineCount: lines.length,
      archiveBytes: archiveEnd.completeBytes,
      lastArchivedSeq,
      archiveTail,
    });
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
      line = `{"seq":${seq},"event":${json}}\n`;
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
    if (archived) this.archiveTail.push({ seq, event: copy });
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
    const path = this.paths.archive;
    const endBytes = this.archiveBytes;
    const durableSeq = this.durableSeq;
    const tail = this.archiveTail.filter((logged) => logged.seq <= durableSeq);
    return readArchive(path, endBytes, tail);
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
      const handle = this.journalHandle;
      this.journalHandle = undefined;
      await handle?.close();
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
    const automatic = !this.closed && this.journalLineCount + batch.length >= this.autoCompactionAtLines;
    if (batch.length === 0 && !requested && !automatic) return undefined;
    this.pending = [];
    if (!requested && !automatic) return { batch, compaction: undefined };
    const waiters = this.compactionWaiters.splice(0);
    let input: CompactionInput<Event> | undefined;
    try {
      // Right now every appended event is either durable or in `batch`, which is written first.
      input = {
        seq: this.appendedSeq,
        snapshot: Buffer.from(
          `${JSON.stringify({ format: SNAPSHOT_FORMAT, seq: this.appendedSeq, state: this.state })}\n`,
        ),
        archived: this.archiveTail.slice(),
      };
    } catch (error) {
      this.log.warn(`${this.directory}: cannot compact, the state has no JSON form: ${messageOf(error)}`);
      this.autoCompactionAtLines = this.journalLineCount + batch.length + this.compactAfterEvents;
      for (const waiter of waiters) waiter.reject(error);
      return { batch, compaction: undefined };
    }
    return { batch, compaction: { input, waiters } };
  }

  private async perform({ batch, compaction }: Work<Event>): Promise<void> {
    const last = batch[batch.length - 1];
    if (last) {
      try {
        const handle = this.journalHandle;
        if (!handle) throw new Error(`${this.paths.journal} is not open`);
        const data = Buffer.from(batch.map((append) => append.line).join(''));
        await this.io.write(handle, data, this.paths.journal);
        await this.io.sync(handle, this.paths.journal);
      } catch (error) {
        this.stop(error, `writing to ${this.paths.journal}`);
        for (const append of batch) append.reject(error);
        for (const waiter of compaction?.waiters ?? []) waiter.reject(this.failure);
        return;
      }
      this.durableSeq = last.seq;
      this.journalLineCount += batch.length;
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
        this.autoCompactionAtLines = this.journalLineCount + this.compactAfterEvents;
        this.log.warn(
          `${this.directory}: compaction failed (${messageOf(error)}); everything acknowledged is on disk, ` +
            `retrying after ${this.compactAfterEvents} more events`,
        );
      }
      return;
    }
    for (const waiter of compaction.waiters) waiter.resolve();
  }

  private async compactNow(input: CompactionInput<Event>): Promise<void> {
    await this.archiveUpTo(input);
    await replaceFileAtomically(
      this.io,
      this.paths.snapshot,
      this.paths.snapshot + TEMPORARY_SUFFIX,
      input.snapshot,
    );
    await this.startFreshJournal();
  }

  /** Compaction step 1: appends archived events up to `input.seq` that archive.jsonl lacks. */
  private async archiveUpTo(input: CompactionInput<Event>): Promise<void> {
    const missing = input.archived.filter((logged) => logged.seq > this.lastArchivedSeq);
    const last = missing[missing.length - 1];
    if (!last && !this.archiveMayHaveTornTail) return;
    const path = this.paths.archive;
    const handle = await open(path, 'a');
    try {
      if (this.archiveMayHaveTornTail) {
        await handle.truncate(this.archiveBytes);
        await this.io.sync(handle, path);
        this.archiveMayHaveTornTail = false;
      }
      if (!last) return;
      const data = Buffer.from(
        missing.map((logged) => `{"seq":${logged.seq},"event":${JSON.stringify(logged.event)}}\n`).join(''),
      );
      this.archiveMayHaveTornTail = true;
      await this.io.write(handle, data, path);
      await this.io.sync(handle, path);
      this.archiveMayHaveTornTail = false;
      // All three change together, so archive() always sees the file and the tail agree.
      this.archiveBytes += data.byteLength;
      this.lastArchivedSeq = last.seq;
      this.archiveTail = this.archiveTail.filter((logged) => logged.seq > input.seq);
    } finally {
      await handle.close();
    }
  }

  /** Compaction step 3: replaces the journal by an empty one (every event in it is in the snapshot now). */
  private async startFreshJournal(): Promise<void> {
    const temporaryPath = this.paths.journal + TEMPORARY_SUFFIX;
    const temporary = await open(temporaryPath, 'w');
    try {
      await this.io.sync(temporary, temporaryPath);
    } finally {
      await temporary.close();
    }
    // Past this point a failure leaves no journal that is known to be the durable one: stop.
    const old = this.journalHandle;
    this.journalHandle = undefined;
    try {
      await old?.close();
      await this.io.rename(temporaryPath, this.paths.journal);
      await this.io.syncDirectory(this.directory);
      this.journalHandle = await open(this.paths.journal, 'a');
    } catch (error) {
      this.stop(error, `starting a fresh ${this.paths.journal}`);
      throw error;
    }
    this.journalLineCount = 0;
    this.autoCompactionAtLines = this.compactAfterEvents;
  }
}

async function createDirectory(directory: string, io: StoreIo): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true });
  if (firstCreated === undefined) return;
  // Make each new directory's entry in its parent durable, from the top down.
  const created: string[] = [];
  for (let path = directory; path.length >= firstCreated.length; path = dirname(path)) {
    created.unshift(path);
    if (path === firstCreated) break;
  }
  for (const path of created) await io.syncDirectory(dirname(path));
}

async function readSnapshot<State>(
  path: string,
  initialState: () => State,
): Promise<{ state: State; seq: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return { state: initialState(), seq: 0 };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CorruptStoreError(path, undefined, `is not JSON (${messageOf(error)})`);
  }
  if (!isObject(parsed) || parsed.format !== SNAPSHOT_FORMAT) {
    throw new CorruptStoreError(path, undefined, `is not a snapshot in the format ${SNAPSHOT_FORMAT}`);
  }
  if (!isSeq(parsed.seq, 0) || !('state' in parsed)) {
    throw new CorruptStoreError(path, undefined, 'has no valid seq or no state');
  }
  return { state: parsed.state as State, seq: parsed.seq };
}

function parseLoggedEvent<Event>(
  text: string,
  file: string,
  lineNumber: number | undefined,
  which = 'line',
): LoggedEvent<Event> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CorruptStoreError(
      file,
      lineNumber,
      `${which} is not JSON (${messageOf(error)}); a complete line may hold an acknowledged event, so it is not dropped`,
    );
  }
  if (!isObject(parsed) || !isSeq(parsed.seq, 1) || !('event' in parsed)) {
    throw new CorruptStoreError(file, lineNumber, `${which} is not a {"seq":N,"event":...} record`);
  }
  return { seq: parsed.seq, event: parsed.event as Event };
}

async function truncateTornTail(io: StoreIo, path: string, completeBytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(completeBytes);
    await io.sync(handle, path);
  } finally {
    await handle.close();
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

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown, minimum: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
