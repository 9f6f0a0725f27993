/**
 * What the durable log's files hold and how it is read back: the file names, the snapshot format
 * and the `{"seq":N,"event":...,"crc":"..."}` record of journal.jsonl and archive.jsonl, both
 * written and parsed here, with the {@link CorruptStoreError} a damaged file gives. The layout and
 * the compaction protocol are described in lib/store/durable-log.ts.
 *
 * Checksums: a record (and the snapshot) ends with `,"crc":"xxxxxxxx"}`, the CRC-32 (8 lowercase
 * hex digits) of the line's UTF-8 bytes before `,"crc":`. It is checked against the text as read,
 * so a changed digit that still parses as JSON is caught. Records and snapshots without a crc
 * (written by earlier versions) are accepted if they hold exactly their fields, as before.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { isObject } from '../objects';
import { isNotFound } from './files';

export const SNAPSHOT_FILE = 'snapshot.json';
export const JOURNAL_FILE = 'journal.jsonl';
export const ARCHIVE_FILE = 'archive.jsonl';
export const STORE_MARK_FILE = 'store-mark.json';
/** Suffix of the temporary files that are renamed over the snapshot and the journal. */
export const TEMPORARY_SUFFIX = '.tmp';
export const SNAPSHOT_FORMAT = 'ampflow-durable-log/1';

export interface StorePaths {
  directory: string;
  snapshot: string;
  journal: string;
  archive: string;
  /** store-mark.json, see lib/store/store-mark.ts. */
  mark: string;
}

export function storePaths(directory: string): StorePaths {
  return {
    directory,
    snapshot: join(directory, SNAPSHOT_FILE),
    journal: join(directory, JOURNAL_FILE),
    archive: join(directory, ARCHIVE_FILE),
    mark: join(directory, STORE_MARK_FILE),
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
  return `${withCrc(`{"seq":${seq},"event":${eventJson}`)}\n`;
}

/** The bytes of snapshot.json for `state`, the state after events 1..`seq`. Throws if `state` has no JSON form. */
export function snapshotBytes(seq: number, state: unknown): Buffer {
  const stateJson = JSON.stringify(state);
  if (stateJson === undefined) throw new TypeError('the state has no JSON form');
  return Buffer.from(`${withCrc(`{"format":"${SNAPSHOT_FORMAT}","seq":${seq},"state":${stateJson}`)}\n`);
}

/** `body`, a JSON object without its closing brace, closed with the crc of its bytes. */
function withCrc(body: string): string {
  return `${body},"crc":"${crcOf(body)}"}`;
}

/** zlib's CRC-32 (Node >= 20.15), or the same computed here on older Node 20 releases. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32 ?? crc32WithoutZlib;

/** CRC-32 of the UTF-8 bytes of `text`, as 8 lowercase hex digits. */
function crcOf(text: string): string {
  return crc32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
}

let crcTable: Int32Array | undefined;

/** The CRC-32 of zlib (and of gzip, PNG), for Node versions whose zlib lacks `crc32`. */
export function crc32WithoutZlib(data: Uint8Array): number {
  crcTable ??= Int32Array.from({ length: 256 }, (_, index) => {
    let crc = index;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    return crc;
  });
  let crc = -1;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const crcAtEnd = /,"crc":"([0-9a-f]{8})"\}$/;

/**
 * Why `text`, one JSON object already parsed as `parsed`, fails its checksum, or undefined if it
 * passes. Without a crc (an older version wrote it) it must hold exactly `fields`.
 */
function checksumProblem(
  text: string,
  parsed: Record<string, unknown>,
  fields: string[],
): string | undefined {
  const unknown = Object.keys(parsed).filter((key) => key !== 'crc' && !fields.includes(key));
  if (unknown.length > 0) return `has unknown fields (${unknown.join(', ')})`;
  if (!('crc' in parsed)) return undefined;
  const match = crcAtEnd.exec(text);
  if (!match || match[1] !== parsed.crc) return 'has no valid crc (8 lowercase hex digits) at its end';
  const computed = crcOf(text.slice(0, match.index));
  if (computed === match[1]) return undefined;
  return `fails its checksum (crc ${match[1]}, computed ${computed}): it was changed after it was written`;
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
  const problem = checksumProblem(text.replace(/\r?\n$/, ''), parsed, ['format', 'seq', 'state']);
  if (problem) throw new CorruptStoreError(path, undefined, problem);
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
  const problem = checksumProblem(text, parsed, ['seq', 'event']);
  if (problem) {
    throw new CorruptStoreError(
      file,
      lineNumber,
      `${which} ${problem}; it may hold an acknowledged event, so it is not replayed or dropped`,
    );
  }
  return { seq: parsed.seq, event: parsed.event as Event };
}

function isSeq(value: unknown, minimum: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
