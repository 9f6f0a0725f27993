import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The house as docs/ARCHITECTURE.md describes it: the load manager in rooms by stage, each room
 * and each file at its top level named there, so a newcomer finds a rule's owner from the folders.
 */

const root = join(__dirname, '..', '..');
const dlm = join(root, 'lib', 'dlm');
const architecture = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');

/** Files in lib/ still over the size rule, each to be split (issue #38); none may join them. */
const STILL_OVER = new Set<string>([]);
const MAX_LINES = 450;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('The house (docs/ARCHITECTURE.md)', () => {
  const entries = readdirSync(dlm);
  const rooms = entries.filter((name) => statSync(join(dlm, name)).isDirectory());
  const files = entries.filter((name) => name.endsWith('.ts'));

  it('keeps at most 15 files at the load manager’s top level; the rest are in rooms', () => {
    assert.ok(files.length <= 15, `${files.length} files in lib/dlm: ${files.join(', ')}`);
    assert.ok(rooms.length >= 5, rooms.join(', '));
  });

  it('names every room of lib/dlm, every file in it and every top-level file', () => {
    const missing = [
      ...rooms.map((room) => `\`${room}/\``),
      ...files.map((file) => `\`${file}\``),
      ...rooms.flatMap((room) =>
        readdirSync(join(dlm, room))
          .filter((file) => file.endsWith('.ts'))
          // The progressive fill's parts are named together (`fill*.ts`).
          .filter((file) => !file.startsWith('fill'))
          .map((file) => `\`${file}\``),
      ),
    ].filter((name) => !architecture.includes(name));
    assert.deepEqual(missing, []);
  });

  it(`keeps every file in lib/ at ${MAX_LINES} lines or fewer (but those still listed to be split)`, () => {
    const over = tsFiles(join(root, 'lib'))
      .map((path) => ({
        file: path.slice(root.length + 1),
        lines: readFileSync(path, 'utf8').split('\n').length - 1,
      }))
      .filter(({ lines }) => lines > MAX_LINES);
    assert.deepEqual(
      over.filter(({ file }) => !STILL_OVER.has(file)).map(({ file, lines }) => `${file}: ${lines}`),
      [],
    );
    // One that was split leaves the list.
    assert.deepEqual(
      [...STILL_OVER].filter((file) => !over.some((o) => o.file === file)),
      [],
    );
  });
});
