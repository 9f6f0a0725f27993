import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useDemo } from '../support/demo';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { packageJson, repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  [setting: string]: unknown;
}

const examplesDir = join(repoRoot, 'examples');
const examples = readdirSync(examplesDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .sort();
const nodeTypes = Object.keys(packageJson['node-red'].nodes);
/** The examples and the demo flow as each earlier release shipped them (test/unit/saved-flows_spec.ts). */
const savedFlows = join(repoRoot, 'test', 'fixtures', 'saved-flows');

function readExample(file: string): FlowNode[] {
  const flow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));
  assert.ok(Array.isArray(flow), `${file} is not a flow (a JSON array)`);
  return flow;
}

describe(`examples (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(30000);
  // The examples replace the demo flow; the simulated site would only dial a central system that is gone.
  const demo = useDemo({ site: false });

  it('has an example for every node of the package, each explained by a comment node', () => {
    const used = new Set(examples.flatMap((file) => readExample(file).map((node) => node.type)));
    assert.deepEqual(
      nodeTypes.filter((type) => !used.has(type)),
      [],
    );
    for (const file of examples) {
      assert.ok(
        readExample(file).some((node) => node.type === 'comment' && node.info),
        `${file} has no comment node that explains it`,
      );
    }
  });

  it("gives each example's central system a port of its own, none the demo's (9000)", () => {
    const holders = new Map<string, string>([['9000', 'the demo']]);
    for (const file of examples) {
      for (const node of readExample(file).filter((n) => n.type === 'ampflow-central-system')) {
        const port = String(node.port);
        assert.equal(
          holders.get(port),
          undefined,
          `${file} listens on port ${port}, as ${holders.get(port)} does`,
        );
        holders.set(port, file);
      }
    }
  });

  it("gives each example's central system a name of its own (the sidebar and every node's dialog list them by name, issue 38)", () => {
    const holders = new Map<string, string>();
    for (const file of examples) {
      for (const node of readExample(file).filter((n) => n.type === 'ampflow-central-system')) {
        const name = String(node.name ?? '');
        assert.notEqual(name, '', `${file} leaves its central system without a name`);
        assert.equal(
          holders.get(name),
          undefined,
          `${file} names its central system "${name}", as ${holders.get(name)} does`,
        );
        holders.set(name, file);
      }
    }
  });

  it('gives every node of the demo and the examples an id of its own (an import never meets a node it already has)', () => {
    const owners = new Map<string, string>();
    for (const [what, nodes] of [
      ['the demo', JSON.parse(readFileSync(join(repoRoot, 'demo', 'flows.json'), 'utf8')) as FlowNode[]],
      ...examples.map((file): [string, FlowNode[]] => [file, readExample(file)]),
    ] as [string, FlowNode[]][]) {
      for (const node of nodes) {
        assert.equal(
          owners.get(node.id),
          undefined,
          `${what} has node ${node.id} (${node.type}), as ${owners.get(node.id)} does`,
        );
        owners.set(node.id, what);
      }
    }
  });

  for (const release of readdirSync(savedFlows).sort()) {
    it(`deploys every flow ${release} shipped (test/fixtures/saved-flows/${release}), all at once, without a warning or an error`, async () => {
      const files = readdirSync(join(savedFlows, release)).filter(
        (f) => f.endsWith('.json') && f !== 'sites.json',
      );
      const flow = files.flatMap(
        (file) => JSON.parse(readFileSync(join(savedFlows, release, file), 'utf8')) as FlowNode[],
      );
      // Each central system on a free port (those that shared one still share it); one dashboard.
      const moved = new Map<string, string>();
      for (const node of flow.filter((n) => n.type === 'ampflow-central-system')) {
        const shipped = String(node.port);
        if (!moved.has(shipped)) moved.set(shipped, String(await freePort()));
        node.port = moved.get(shipped);
      }
      const bases = flow.filter((node) => node.type === 'ui-base');
      for (const extra of bases.slice(1)) {
        flow.splice(flow.indexOf(extra), 1);
        for (const node of flow) if (node.ui === extra.id) node.ui = bases[0]?.id;
      }
      const listening = flow
        .filter((n) => n.type === 'ampflow-central-system')
        .map((node) =>
          demo().process.nextLine(new RegExp(`central system listening on ws://.*:${node.port}/`)),
        );
      await demo().deploy(flow);
      await Promise.all(listening);
      assert.deepEqual(demo().problems(), []);
    });
  }

  for (const file of examples) {
    it(`deploys "${file}" next to the running demo flow, both without a warning or an error`, async () => {
      // The demo flow as shipped; its meters stay unread here (no simulated site), as in every test of this file.
      const demoFlow = JSON.parse(readFileSync(join(repoRoot, 'demo', 'flows.json'), 'utf8')) as FlowNode[];
      const flow = readExample(file);
      // The ports as shipped (the test moves each to a free one, keeping those that were equal equal).
      const moved = new Map<string, string>();
      for (const node of [...demoFlow, ...flow]) {
        if (node.type !== 'ampflow-central-system') continue;
        const shipped = String(node.port);
        if (!moved.has(shipped)) moved.set(shipped, String(await freePort()));
        node.port = moved.get(shipped);
      }
      // FlowFuse Dashboard's editor keeps the ui-base a workspace has when a flow with another is
      // imported (one dashboard per Node-RED): the example's pages join the demo's dashboard.
      const demoBase = demoFlow.find((node) => node.type === 'ui-base');
      const exampleBase = flow.find((node) => node.type === 'ui-base');
      if (demoBase && exampleBase) {
        flow.splice(flow.indexOf(exampleBase), 1);
        for (const node of flow) if (node.ui === exampleBase.id) node.ui = demoBase.id;
      }
      const listening = [...demoFlow, ...flow]
        .filter((n) => n.type === 'ampflow-central-system')
        .map((node) =>
          demo().process.nextLine(new RegExp(`central system listening on ws://.*:${node.port}/`)),
        );
      await demo().deploy([...demoFlow, ...flow]);
      await Promise.all(listening);
      assert.deepEqual(demo().problems(), []);
    });

    it(`deploys "${file}" in a running Node-RED without a warning or an error`, async () => {
      const flow = readExample(file);
      // The examples use the chargers' usual port 9000; the test gives each central system a free one.
      for (const node of flow) {
        if (node.type === 'ampflow-central-system') node.port = String(await freePort());
      }
      await demo().deploy(flow);
      for (const node of flow.filter((n) => n.type === 'ampflow-central-system')) {
        await demo().process.waitForLine(new RegExp(`central system listening on ws://.*:${node.port}/`));
      }
      assert.deepEqual(demo().problems(), []);
    });
  }
});
