/**
 * store-mark.json: `{"format":"ampflow-store-mark/1","seq":N,"at":"<ISO time>"}`, the highest seq
 * the store knew durable at its last compaction or clean close. If snapshot.json and journal.jsonl
 * later end below it, acknowledged events were lost (files deleted or emptied, an older backup
 * restored, a bad disk): recovery says so loudly, then carries on with what it found, since a
 * central system that refuses to start leaves its chargers uncontrolled. Appends never write it.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log';
import { isObject } from '../objects';
import { isNotFound, replaceFileAtomically, type StoreIo } from './files';
import { JOURNAL_FILE, messageOf, SNAPSHOT_FILE, STORE_MARK_FILE, TEMPORARY_SUFFIX } from './log-format';

export const STORE_MARK_FORMAT = 'ampflow-store-mark/1';

export interface StoreMark {
  seq: number;
  /** When the mark was written, an ISO time. */
  at: string;
}

/**
 * The mark in `path`; undefined if there is none (a new store, or one an older version wrote) or
 * if it is damaged (then warned: detection is off for this start, but the store is fine).
 */
export async function readStoreMark(path: string, log: Logger): Promise<StoreMark | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    log.warn(`${path}: cannot read it (${messageOf(error)}); lost events cannot be detected at this start`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (
    !isObject(parsed) ||
    parsed.format !== STORE_MARK_FORMAT ||
    typeof parsed.seq !== 'number' ||
    !Number.isSafeInteger(parsed.seq) ||
    parsed.seq < 0 ||
    typeof parsed.at !== 'string'
  ) {
    log.warn(
      `${path}: ignored, it is damaged (not a mark in the format ${STORE_MARK_FORMAT}); ` +
        'lost events cannot be detected at this start, and the next compaction or clean close rewrites it',
    );
    return undefined;
  }
  return { seq: parsed.seq, at: parsed.at };
}

/** Says loudly (log.error) if the store found ends below the seq the mark recorded as durable. */
export function checkStoreMark(
  mark: StoreMark | undefined,
  foundSeq: number,
  directory: string,
  log: Logger,
): void {
  if (!mark || foundSeq >= mark.seq) return;
  log.error(
    `EVENTS LOST: the durable store in ${directory} had events up to seq ${mark.seq} ` +
      `(recorded in ${STORE_MARK_FILE} at ${mark.at}), but ${SNAPSHOT_FILE} and ${JOURNAL_FILE} ` +
      `end at seq ${foundSeq}: events ${foundSeq + 1}..${mark.seq} were lost (files deleted or emptied, ` +
      'an older backup restored, or a bad disk). Stop Node-RED and restore the files from a backup. ' +
      `Continuing from seq ${foundSeq}; this error repeats at every start until the next compaction ` +
      'or clean close records the seq reached then.',
  );
}

/**
 * Records `seq` as durable, atomically (temp file, fsync, rename, fsync of the directory). Never
 * throws: a mark that cannot be written is warned about, the old one stays (it is never above
 * what is durable, so it only makes the check miss a loss, never report a false one).
 */
export async function recordStoreMark(io: StoreIo, path: string, seq: number, log: Logger): Promise<void> {
  const mark = { format: STORE_MARK_FORMAT, seq, at: new Date().toISOString() };
  try {
    await replaceFileAtomically(io, path, path + TEMPORARY_SUFFIX, Buffer.from(`${JSON.stringify(mark)}\n`));
  } catch (error) {
    log.warn(`${path}: cannot record seq ${seq} (${messageOf(error)}); the store itself is unaffected`);
  }
}
