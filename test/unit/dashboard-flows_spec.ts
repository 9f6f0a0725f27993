import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  format?: string;
  func?: string;
  ymin?: string;
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

  for (const [file, nodes] of [
    ['examples/Facility dashboard.json', example],
    ['demo/flows.json', demo],
  ] as const) {
    it(`${file}: draws what the site exports as negative site load (issue 48)`, () => {
      const series = nodes.find((node) => node.name === 'power series');
      const chart = nodes.find((node) => node.name === 'site power');
      // The function as Node-RED runs it, on a summary of a site exporting 2.5 kW.
      const context = new Map<string, unknown>();
      const out = runInNewContext(`(function (msg) {\n${series?.func}\n})(msg)`, {
        msg: { topic: 'summary', payload: { site: { basis: 'measured', gridW: -2500, chargersW: 0 } } },
        context: {
          get: (key: string) => context.get(key),
          set: (key: string, v: unknown) => context.set(key, v),
        },
      }) as { topic: string; payload: number }[][];
      assert.deepEqual(out[0]?.find((point) => point.topic === 'site load')?.payload, -2500);
      // Its axis has no fixed minimum: a minimum of 0 hid every point below it.
      assert.equal(chart?.ymin, '');
    });
  }
});
