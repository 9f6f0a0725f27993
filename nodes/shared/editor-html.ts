/**
 * A node's editor file (nodes/<type>.html) may be put together from parts: a line that holds only
 * `<!-- include <path> -->` stands for the file at <path>, relative to the editor file (its parts
 * are in nodes/editor/<type>/). The build (scripts/build.mjs) writes each editor composed into
 * dist/nodes; the tests that read an editor's source read it composed as well. Parts do not
 * include others.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const INCLUDE = /^[ \t]*<!-- include ([\w./-]+) -->[ \t]*\r?\n/gm;

/** The editor file at `file` with each include line replaced by its part. */
export function composeEditorHtml(file: string): string {
  const dir = dirname(file);
  return readFileSync(file, 'utf8').replace(INCLUDE, (_line, part: string) => {
    const path = join(dir, part);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${file} includes ${part}, which cannot be read: ${(err as Error).message}`);
    }
  });
}
