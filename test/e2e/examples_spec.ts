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

  for (const file of examples) {
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
