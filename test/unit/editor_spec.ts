import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_ACTIONS } from '../../lib/ocpp/commands';
import { OBSERVABLE_EVENTS } from '../../lib/ocpp/events';

const nodesDir = join(__dirname, '..', '..', 'nodes');
const read = (file: string) => readFileSync(join(nodesDir, file), 'utf8');

/** The string literals of the first `var <name> = [...]` array in an editor file. */
function editorList(html: string, name: string): string[] {
  const match = new RegExp(`var ${name} = \\[([^\\]]*)\\]`).exec(html);
  assert.ok(match, `no list ${name}`);
  return [...(match[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
}

describe('node editors', () => {
  it('offer exactly the commands the command node carries out', () => {
    assert.deepEqual(
      editorList(read('ampflow-ocpp-command.html'), 'actions').sort(),
      [...COMMAND_ACTIONS].sort(),
    );
  });

  it('offer exactly the events the ocpp-in node emits', () => {
    assert.deepEqual(
      editorList(read('ampflow-ocpp-in.html'), 'messages').sort(),
      [...OBSERVABLE_EVENTS].sort(),
    );
  });

  it('use only message keys that the locale files define', () => {
    const missing: string[] = [];
    for (const file of readdirSync(nodesDir).filter((f) => /^ampflow-.*\.(ts|html)$/.test(f))) {
      const type = file.replace(/\.(ts|html)$/, '');
      const catalogue = JSON.parse(read(join('locales', 'en-US', `${type}.json`))) as Record<string, unknown>;
      const text = read(file);
      const keys = [
        ...[...text.matchAll(/RED\._\('([^']+)'/g)].map((m) => m[1] as string),
        ...[...text.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1] as string),
        ...[...text.matchAll(/node\._\('([^']+)'/g)].map((m) => m[1] as string),
        ...[...text.matchAll(/this\._\('([^']+)'/g)].map((m) => m[1] as string),
      ];
      for (const key of keys) {
        // A key ending in '.' is the prefix of keys made at run time ('….tabs.' + name): its group must exist.
        const path = key.endsWith('.') ? key.slice(0, -1) : key;
        const found = path
          .split('.')
          .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], catalogue);
        const expected = key.endsWith('.') ? 'object' : 'string';
        if (typeof found !== expected) missing.push(`${file}: ${key}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
