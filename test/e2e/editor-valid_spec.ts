import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EditorWindow, openEditor, useBrowserSuite } from '../support/browser';
import { nodeRedVersion } from '../support/node-red';
import { repoRoot } from '../support/repo';

/**
 * Issue #29: the demo flow and every example open in the editor with every node valid (no red
 * triangle, no "not properly configured" question at deploy), flows that lack settings added since
 * included: the editor checks each property as a newcomer's browser would.
 */
const flows: [string, string][] = [
  ['the demo flow', join(repoRoot, 'demo', 'flows.json')],
  ...readdirSync(join(repoRoot, 'examples'))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file): [string, string] => [`example "${file}"`, join(repoRoot, 'examples', file)]),
];

describe(`flows we ship, opened in the editor in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, page } = useBrowserSuite({ page: { timeoutMs: 15000 } });

  before(async () => {
    await openEditor(page(), nodeRed().url, 'ampflow-dlm');
  });

  for (const [what, file] of flows) {
    it(`imports ${what} with every node valid`, async () => {
      const flow = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
      const invalid = await page().evaluate((nodes) => {
        const RED = (window as unknown as EditorWindow).RED;
        RED.nodes.clear();
        RED.view.importNodes(structuredClone(nodes), { generateIds: true });
        type Node = Record<string, unknown> & { id: string; type: string; _def?: unknown };
        const all: Node[] = [];
        RED.nodes.eachNode((node: Node) => {
          all.push(node);
        });
        RED.nodes.eachConfig((node: Node) => {
          all.push(node);
        });
        const found: string[] = [];
        for (const node of all) {
          if (!node.type.startsWith('ampflow-')) continue;
          RED.editor.validateNode(node);
          if (node.valid !== false) continue;
          const defaults = ((node._def as { defaults?: Record<string, { validate?: unknown }> })?.defaults ??
            {}) as Record<string, { validate?: (this: unknown, v: unknown, opt: unknown) => unknown }>;
          const fields = Object.entries(defaults)
            .filter(
              ([key, d]) => typeof d.validate === 'function' && d.validate.call(node, node[key], {}) !== true,
            )
            .map(([key]) => `${key}=${JSON.stringify(node[key])}`);
          found.push(
            `${node.type} "${String(node.name || node.id)}": ${fields.join(', ') || 'a config node it uses'}`,
          );
        }
        RED.nodes.clear();
        return found;
      }, flow);
      assert.deepEqual(invalid, [], `${what} opens with invalid nodes`);
    });
  }

  it('opens a central system saved before a setting existed with that setting at its default', async () => {
    const values = await page().evaluate(() => {
      const RED = (window as unknown as EditorWindow).RED;
      RED.nodes.clear();
      // What an older version of the package saved: no pendingRetryIntervalS, maxFrameKiB, flowTimeoutS.
      const [cs] =
        RED.view.importNodes(
          [{ id: 'old-cs', type: 'ampflow-central-system', name: 'old', listen: 'port', port: '9000' }],
          { generateIds: false },
        ).nodes ?? [];
      RED.editor.editConfig('', 'ampflow-central-system', cs?.id ?? 'old-cs');
      return undefined;
    });
    assert.equal(values, undefined);
    const tray = page().locator('.red-ui-tray').last();
    await tray.locator('#node-config-dialog-cancel').waitFor();
    const field = (key: string) => tray.locator(`#node-config-input-${key}`).inputValue();
    assert.deepEqual(
      {
        pendingRetryIntervalS: await field('pendingRetryIntervalS'),
        maxFrameKiB: await field('maxFrameKiB'),
        flowTimeoutS: await field('flowTimeoutS'),
        heartbeatIntervalS: await field('heartbeatIntervalS'),
      },
      { pendingRetryIntervalS: '60', maxFrameKiB: '1024', flowTimeoutS: '5', heartbeatIntervalS: '300' },
    );
    // Clicked in the page: the editor's notice about the cleared workspace may lie over the button.
    await tray.locator('#node-config-dialog-cancel').dispatchEvent('click');
    await tray.waitFor({ state: 'detached' });
  });
});
