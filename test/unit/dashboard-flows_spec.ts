import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  format?: string;
  func?: string;
}

const read = (path: string) => JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as FlowNode[];

/**
 * The demo's dashboard tab (demo/flows.json) is the example "Facility dashboard" with the demo's
 * ports and paths: a fix in one (issue #38: the site load) must not be missing in the other.
 */
describe("the demo's dashboard and the example Facility dashboard", () => {
  const example = read('examples/Facility dashboard.json');
  const demo = read('demo/flows.json');
  // What differs on purpose: the central system's port and the CSV download's path.
  const normal = (text: string) =>
    text.replace(/:9000\//g, ':9003/').replace(/\/ampflow\/demo\//g, '/ampflow/');
  const code = (node: FlowNode) => normal(node.format ?? node.func ?? '');

  for (const type of ['ui-template', 'function'] as const) {
    it(`have the same ${type} nodes, with the same code`, () => {
      const shared = example.filter((node) => node.type === type && node.name !== 'simulated meters');
      const inDemo = demo.filter((node) => node.type === type);
      assert.deepEqual(inDemo.map((node) => node.name).sort(), shared.map((node) => node.name).sort());
      for (const node of shared) {
        const twin = inDemo.find((other) => other.name === node.name);
        assert.ok(twin, `${node.name} is missing in the demo`);
        assert.equal(code(twin), code(node), `${type} "${node.name}" differs`);
      }
    });
  }
});
