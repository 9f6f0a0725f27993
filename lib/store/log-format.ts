/**
 * What the durable log's files hold and how it is read back: the file names, the snapshot format
 * and the `{"seq":N,"event":...}` record of journal.jsonl and archive.jsonl, both written and
 * parsed here, with the {@link CorruptStoreError} a damaged file gives. The layout and the
 * compaction protocol are described in lib/store/durable-log.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject } from '../objects';
import { isNotFound } from './files';

export const SNAPSHOT_FILE = 'snapshot.json';
export const JOURNAL_FILE = 'journal.jsonl';
export const ARCHIVE_FILE = 'archive.jsonl';
/** Suffix of the temporary files that are renamed over the snapshot and the journal. */
export const TEMPORARY_SUFFIX = '.tmp';
export const SNAPSHOT_FORMAT = 'ampflow-durable-log/1';

export interface StorePaths {
  directory: string;
  snapshot: string;
  journal: string;
  archive: string;
}

export function storePaths(directory: string): StorePaths {
  return {
    directory,
    snapshot: join(directory, SNAPSHOT_FILE),
    journal: join(directory, JOURNAL_FILE),
    archive: join(directory, ARCHIVE_FILE),
  };
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

export interface LoggedEvent<Event> {
  seq: number;
  event: Event;
}

/** One line of journal.jsonl or archive.jsonl, newline included; `eventJson` is the event's JSON. */
export function recordLine(seq: number, eventJson: string): string {
  return `{"seq":${seq},"event":${eventJson}}\n`;
}

/** The bytes of snapshot.json for `state`, the state after events 1..`seq`. Throws if `state` has no JSON form. */
export function snapshotBytes(seq: number, state: unknown): Buffer {
  return Buffer.from(`${JSON.stringify({ format: SNAPSHOT_FORMAT, seq, state })}\n`);
}

export async function readSnapshot<State>(
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

export function parseLoggedEvent<Event>(
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

function isSeq(value: unknown, minimum: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
