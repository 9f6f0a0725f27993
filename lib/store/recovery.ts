/**
 * Opening the durable log's directory, after a clean close or a crash: creates it if missing,
 * removes temp files left by an interrupted compaction, loads the snapshot, replays the journal,
 * checks that snapshot, journal and archive fit together and that no events were lost since the
 * store mark was written (lib/store/store-mark.ts), and only then drops a line torn by a crash.
 * What it finds is handed to the DurableLog (lib/store/durable-log.ts).
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log';
import { StoreArchive } from './archive';
import { isNotFound, readLastCompleteLine, removeIfExists, type StoreIo, splitCompleteLines } from './files';
import { JournalFile } from './journal';
import {
  CorruptStoreError,
  JOURNAL_FILE,
  type LoggedEvent,
  messageOf,
  parseLoggedEvent,
  readSnapshot,
  SNAPSHOT_FILE,
  type StorePaths,
  TEMPORARY_SUFFIX,
} from './log-format';
import { checkStoreMark, readStoreMark } from './store-mark';

/** How the store's state is built from its events: what recovery replays and the writer applies. */
export interface EventReplay<State, Event> {
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
}

/** What a DurableLog starts from. */
export interface RecoveredStore<State, Event> {
  state: State;
  seq: number;
  journal: JournalFile;
  archive: StoreArchive<Event>;
}

/**
 * Loads the store in `paths.directory`, dropping a torn last line (a crash mid-write) and temp
 * files left by a crashed compaction. Rejects with a {@link CorruptStoreError} naming file and line
 * if acknowledged data is damaged.
 */
export async function recoverStore<State, Event>(
  options: EventReplay<State, Event>,
  paths: StorePaths,
  io: StoreIo,
  log: Logger,
): Promise<RecoveredStore<State, Event>> {
  const directory = paths.directory;
  await createDirectory(directory, io);
  for (const leftover of [paths.snapshot, paths.journal].map((path) => path + TEMPORARY_SUFFIX)) {
    if (await removeIfExists(leftover))
      log.info(`removed ${leftover}, left over from an interrupted compaction`);
  }
  await removeIfExists(paths.mark + TEMPORARY_SUFFIX);
  const mark = await readStoreMark(paths.mark, log);

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
  // Said before the archive check below, which refuses to open if the lost events were archived.
  checkStoreMark(mark, seq, directory, log);
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
  return {
    state,
    seq,
    journal: new JournalFile(paths.journal, directory, io, journalHandle, lines.length),
    archive: new StoreArchive(paths.archive, io, archiveEnd.completeBytes, lastArchivedSeq, archiveTail),
  };
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

async function truncateTornTail(io: StoreIo, path: string, completeBytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(completeBytes);
    await io.sync(handle, path);
  } finally {
    await handle.close();
  }
}
