/**
 * A small piece of state kept in one JSON file (what a load manager learned: its circuits' other
 * loads, its chargers' follow times): read once at start, written whole with write-then-rename so a
 * crash leaves the old content or the new, one write at a time (a later save replaces a waiting
 * one). Losing it costs a day of learning, never safety, so a write that fails is logged, not thrown.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log';
import { isNotFound, nodeStoreIo, replaceFileAtomically } from './files';

export class JsonFileMemory {
  private writing: Promise<void> | undefined;
  private waiting: string | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** What was kept; undefined when there is no file yet, or it cannot be read (said in the log). */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (!isNotFound(err))
        this.logger.warn(`cannot read ${this.path}: ${(err as Error).message}; learning anew`);
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      this.logger.warn(`${this.path} is not valid JSON (${(err as Error).message}); learning anew`);
      return undefined;
    }
  }

  /** Writes `data` (after the write in flight, if any; a newer save replaces one that waits). */
  save(data: unknown): void {
    this.waiting = JSON.stringify(data);
    // On a later turn: a drain that ends at once must clear `writing` after it was set, not before.
    this.writing ??= Promise.resolve().then(() => this.drain());
  }

  /** Resolves when everything saved so far is written. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting !== undefined) {
        const text = this.waiting;
        this.waiting = undefined;
        try {
          mkdirSync(dirname(this.path), { recursive: true });
          await replaceFileAtomically(nodeStoreIo, this.path, `${this.path}.tmp`, Buffer.from(text));
        } catch (err) {
          this.logger.warn(`cannot write ${this.path}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
