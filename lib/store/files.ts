/**
 * Low-level file helpers for the durable store: complete writes, fsync of files and directories,
 * and reading newline-terminated records. Everything that makes data durable goes through a
 * {@link StoreIo}, so tests can count fsyncs, inject failures (disk full) and copy the directory
 * at every step to see exactly what a crash at that instant would leave behind.
 */
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StoreIo {
  /** Writes all of `data` at the handle's position (the end, for files opened to append). */
  write(handle: FileHandle, data: Uint8Array, path: string): Promise<void>;
  /** Makes the file's data (and its size) durable: fdatasync. */
  sync(handle: FileHandle, path: string): Promise<void>;
  /** Makes the directory's entries (created, renamed files) durable: fsync on the directory. */
  syncDirectory(path: string): Promise<void>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
}

export const nodeStoreIo: StoreIo = {
  async write(handle, data) {
    let writtenBytes = 0;
    while (writtenBytes < data.byteLength) {
      const { bytesWritten } = await handle.write(data, writtenBytes, data.byteLength - writtenBytes, null);
      writtenBytes += bytesWritten;
    }
  },
  async sync(handle) {
    await handle.datasync();
  },
  async syncDirectory(path) {
    // Windows cannot open a directory to fsync it; there a rename rests on the NTFS metadata journal.
    if (process.platform === 'win32') return;
    const handle = await open(path, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async rename(from, to) {
    await rename(from, to);
  },
};

/** Removes `path` if it exists; reports whether there was something to remove. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Writes `data` to `path` so that after any crash `path` holds either its old content or all of
 * `data`: write a temporary file, fsync it, rename it over `path`, fsync the directory.
 */
export async function replaceFileAtomically(
  io: StoreIo,
  path: string,
  temporaryPath: string,
  data: Uint8Array,
): Promise<void> {
  const handle = await open(temporaryPath, 'w');
  try {
    if (data.byteLength > 0) await io.write(handle, data, temporaryPath);
    await io.sync(handle, temporaryPath);
  } finally {
    await handle.close();
  }
  await io.rename(temporaryPath, path);
  await io.syncDirectory(dirname(path));
}

/** One newline-terminated line of a file, without its newline. */
export interface FileLine {
  text: string;
  /** 1-based, for error messages. */
  lineNumber: number;
}

/**
 * Splits `content` into complete lines. Bytes after the last newline are a torn line (a crash
 * in the middle of a write): they are not returned, and `completeBytes` ends before them.
 */
export function splitCompleteLines(content: Buffer): { lines: FileLine[]; completeBytes: number } {
  const lines: FileLine[] = [];
  let start = 0;
  for (;;) {
    const end = content.indexOf(0x0a, start);
    if (end === -1) break;
    lines.push({ text: content.toString('utf8', start, end), lineNumber: lines.length + 1 });
    start = end + 1;
  }
  return { lines, completeBytes: start };
}

/**
 * The last complete line of a file read backwards from its end, without reading the whole file
 * (the archive grows forever). `completeBytes` is where the complete lines end; anything after
 * that is a torn line.
 */
export async function readLastCompleteLine(
  path: string,
): Promise<{ lastLine: string | undefined; completeBytes: number; sizeBytes: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isNotFound(error)) return { lastLine: undefined, completeBytes: 0, sizeBytes: 0 };
    throw error;
  }
  try {
    const { size: sizeBytes } = await handle.stat();
    const chunkBytes = 64 * 1024;
    let tail = Buffer.alloc(0); // the bytes from `tailStart` to the end of the file
    let tailStart = sizeBytes;
    let lastNewline = -1; // offset in the file
    for (;;) {
      if (lastNewline === -1) {
        const inTail = tail.lastIndexOf(0x0a);
        if (inTail !== -1) lastNewline = tailStart + inTail;
      }
      if (lastNewline !== -1) {
        // The line before the last newline starts after the newline before it, or at 0.
        const searchFrom = lastNewline - tailStart - 1;
        const before = searchFrom >= 0 ? tail.lastIndexOf(0x0a, searchFrom) : -1;
        if (before !== -1 || tailStart === 0) {
          const lineStart = before === -1 ? 0 : before + 1;
          return {
            lastLine: tail.toString('utf8', lineStart, lastNewline - tailStart),
            completeBytes: lastNewline + 1,
            sizeBytes,
          };
        }
      } else if (tailStart === 0) {
        return { lastLine: undefined, completeBytes: 0, sizeBytes };
      }
      const readStart = Math.max(0, tailStart - chunkBytes);
      const chunk = Buffer.alloc(tailStart - readStart);
      await readExactly(handle, chunk, readStart);
      tail = Buffer.concat([chunk, tail]);
      tailStart = readStart;
    }
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  let readBytes = 0;
  while (readBytes < into.byteLength) {
    const { bytesRead } = await handle.read(
      into,
      readBytes,
      into.byteLength - readBytes,
      position + readBytes,
    );
    if (bytesRead === 0) throw new Error(`file ended early while reading at byte ${position + readBytes}`);
    readBytes += bytesRead;
  }
}

/**
 * The complete lines in the first `endBytes` bytes of `path`, read in chunks so a large file is
 * never held in memory at once. Closes the file when the caller stops early.
 */
export async function* readLines(path: string, endBytes: number): AsyncGenerator<FileLine> {
  if (endBytes === 0) return;
  const handle = await open(path, 'r');
  try {
    const chunkBytes = 256 * 1024;
    let carry = Buffer.alloc(0);
    let position = 0;
    let lineNumber = 0;
    while (position < endBytes) {
      const chunk = Buffer.alloc(Math.min(chunkBytes, endBytes - position));
      await readExactly(handle, chunk, position);
      position += chunk.byteLength;
      const buffer = carry.byteLength > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const end = buffer.indexOf(0x0a, start);
        if (end === -1) break;
        lineNumber += 1;
        yield { text: buffer.toString('utf8', start, end), lineNumber };
        start = end + 1;
      }
      carry = buffer.subarray(start);
    }
  } finally {
    await handle.close();
  }
}
