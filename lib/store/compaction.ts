/**
 * Compaction of the durable log: when it runs by itself (every `compactAfterEvents` journal
 * lines, later after a failure) and the three steps it writes, in the order that keeps every
 * crash point loadable (lib/store/durable-log.ts describes the protocol).
 */
import type { StoreArchive } from './archive';
import { replaceFileAtomically, type StoreIo } from './files';
import type { JournalFile } from './journal';
import { type LoggedEvent, snapshotBytes, TEMPORARY_SUFFIX } from './log-format';

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

/**
 * Writes a compaction: (1) the archived events archive.jsonl lacks, (2) snapshot.json, (3) an
 * empty journal.jsonl. If step 3 fails after the old journal was let go, `journalLost` is told
 * before this rejects: no journal is known to be the durable one then.
 */
export async function writeCompaction<Event>(
  input: CompactionInput<Event>,
  files: { archive: StoreArchive<Event>; journal: JournalFile; snapshotPath: string; io: StoreIo },
  journalLost: (error: unknown) => void,
): Promise<void> {
  await files.archive.appendUpTo(input.seq, input.archived);
  await replaceFileAtomically(
    files.io,
    files.snapshotPath,
    files.snapshotPath + TEMPORARY_SUFFIX,
    input.snapshot,
  );
  // Step 3: replaces the journal by an empty one (every event in it is in the snapshot now).
  const temporaryPath = await files.journal.createEmptyReplacement();
  // Past this point a failure leaves no journal that is known to be the durable one: stop.
  try {
    await files.journal.replaceBy(temporaryPath);
  } catch (error) {
    journalLost(error);
    throw error;
  }
}
