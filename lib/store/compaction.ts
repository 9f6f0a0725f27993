/**
 * Compaction of the durable log: when it runs by itself (every `compactAfterEvents` journal
 * lines, later after a failure) and the three steps it writes, in the order that keeps every
 * crash point loadable (lib/store/durable-log.ts describes the protocol), then the store mark.
 */
import type { Logger } from '../log';
import type { StoreArchive } from './archive';
import { replaceFileAtomically, type StoreIo } from './files';
import type { JournalFile } from './journal';
import { type LoggedEvent, type StorePaths, snapshotBytes, TEMPORARY_SUFFIX } from './log-format';
import { recordStoreMark } from './store-mark';

/** What compaction writes, taken at one instant at which every appended event is in the journal or in the batch being written. */
export interface CompactionInput<Event> {
  seq: number;
  snapshot: Buffer;
  archived: LoggedEvent<Event>[];
}

/** Takes the input; throws if `state` has no JSON form. */
export function compactionInput<State, Event>(
  seq: number,
  state: State,
  archive: StoreArchive<Event>,
): CompactionInput<Event> {
  return { seq, snapshot: snapshotBytes(seq, state), archived: archive.unwritten() };
}

/** When the journal has grown enough for an automatic compaction. */
export class CompactionSchedule {
  private atLines: number;

  constructor(readonly everyEvents: number) {
    this.atLines = everyEvents;
  }

  isDue(journalLines: number): boolean {
    return journalLines >= this.atLines;
  }

  /** Compaction failed or cannot run: try again after {@link everyEvents} more lines. */
  postpone(journalLines: number): void {
    this.atLines = journalLines + this.everyEvents;
  }

  /** The journal was replaced by an empty one. */
  restart(): void {
    this.atLines = this.everyEvents;
  }
}

/** What compaction writes to. */
export interface CompactionFiles<Event> {
  archive: StoreArchive<Event>;
  journal: JournalFile;
  paths: StorePaths;
  io: StoreIo;
  log: Logger;
}

/**
 * Writes a compaction: (1) the archived events archive.jsonl lacks, (2) snapshot.json, (3) an
 * empty journal.jsonl, then records `input.seq` in the store mark (a failure there is only
 * warned). If step 3 fails after the old journal was let go, `journalLost` is told before this
 * rejects: no journal is known to be the durable one then.
 */
export async function writeCompaction<Event>(
  input: CompactionInput<Event>,
  files: CompactionFiles<Event>,
  journalLost: (error: unknown) => void,
): Promise<void> {
  const { snapshot } = files.paths;
  await files.archive.appendUpTo(input.seq, input.archived);
  await replaceFileAtomically(files.io, snapshot, snapshot + TEMPORARY_SUFFIX, input.snapshot);
  // Step 3: replaces the journal by an empty one (every event in it is in the snapshot now).
  const temporaryPath = await files.journal.createEmptyReplacement();
  // Past this point a failure leaves no journal that is known to be the durable one: stop.
  try {
    await files.journal.replaceBy(temporaryPath);
  } catch (error) {
    journalLost(error);
    throw error;
  }
  await recordStoreMark(files.io, files.paths.mark, input.seq, files.log);
}
