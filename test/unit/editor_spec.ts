import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_ACTIONS } from '../../lib/ocpp/commands';
import { OBSERVABLE_EVENTS } from '../../lib/ocpp/events';
import { composeEditorHtml } from '../../nodes/shared/editor-html';

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

  describe('put together from parts (nodes/shared/editor-html.ts)', () => {
    it('gives the central system’s dialog one part per tab it adds, and each tab’s part once', () => {
      const editor = composeEditorHtml(join(nodesDir, 'ampflow-central-system.html'));
      assert.doesNotMatch(editor, /<!-- include /);
      const added = /\[([^\]]*)\]\.forEach\(function \(name\) \{\s*tabs\.addTab/.exec(editor);
      assert.ok(added, 'no list of tabs in the editor');
      const tabs = [...(added[1] ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1] as string);
      const parts = readdirSync(join(nodesDir, 'editor', 'ampflow-central-system'))
        .filter((file) => file !== 'sidebar.html')
        .map((file) => file.replace(/\.html$/, ''));
      assert.deepEqual([...parts].sort(), [...tabs].sort());
      for (const tab of tabs) {
        const found = editor.match(new RegExp(`<div id="ampflow-cs-tab-${tab}">`, 'g')) ?? [];
        assert.equal(found.length, 1, `tab ${tab}`);
      }
    });

    it('leaves an editor without include lines as it is, and names a part it cannot read', () => {
      const dir = mkdtempSync(join(tmpdir(), 'ampflow-editor-'));
      try {
        writeFileSync(join(dir, 'part.html'), '  <p>part</p>\n');
        writeFileSync(join(dir, 'plain.html'), '<p>a</p>\n  <!-- a comment -->\n');
        writeFileSync(join(dir, 'whole.html'), '<div>\n  <!-- include part.html -->\n</div>\n');
        writeFileSync(join(dir, 'broken.html'), '<div>\n  <!-- include gone.html -->\n</div>\n');
        assert.equal(composeEditorHtml(join(dir, 'plain.html')), '<p>a</p>\n  <!-- a comment -->\n');
        assert.equal(composeEditorHtml(join(dir, 'whole.html')), '<div>\n  <p>part</p>\n</div>\n');
        assert.throws(() => composeEditorHtml(join(dir, 'broken.html')), /broken\.html includes gone\.html/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
