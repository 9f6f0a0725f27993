/**
 * The durable log's journal.jsonl: the open handle, how many lines the file holds, appending a
 * batch of records with one fsync, and replacing the file by an empty one when compaction has put
 * everything in it into the snapshot.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { StoreIo } from './files';
import { TEMPORARY_SUFFIX } from './log-format';

export class JournalFile {
  constructor(
    private readonly path: string,
    private readonly directory: string,
    private readonly io: StoreIo,
    private handle: FileHandle | undefined,
    /** Lines in journal.jsonl, including any left from before the snapshot. */
    private lines: number,
  ) {}

  get lineCount(): number {
    return this.lines;
  }

  /** Writes the records (whole lines) and fsyncs them: once this resolves they are durable. */
  async append(records: string[]): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error(`${this.path} is not open`);
    const data = Buffer.from(records.join(''));
    await this.io.write(handle, data, this.path);
    await this.io.sync(handle, this.path);
    this.lines += records.length;
  }

  /**
   * Compaction step 3, first half: an empty, fsynced file to take the journal's place. A failure
   * here leaves the journal as it was.
   */
  async createEmptyReplacement(): Promise<string> {
    const temporaryPath = this.path + TEMPORARY_SUFFIX;
    const temporary = await open(temporaryPath, 'w');
    try {
      await this.io.sync(temporary, temporaryPath);
    } finally {
      await temporary.close();
    }
    return temporaryPath;
  }

  /**
   * Compaction step 3, second half: renames the empty file over the journal and reopens it. A
   * failure here leaves no journal that is known to be the durable one.
   */
  async replaceBy(temporaryPath: string): Promise<void> {
    const old = this.handle;
    this.handle = undefined;
    await old?.close();
    await this.io.rename(temporaryPath, this.path);
    await this.io.syncDirectory(this.directory);
    this.handle = await open(this.path, 'a');
    this.lines = 0;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
