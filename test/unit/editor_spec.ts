import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
});
