import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeRed, nodeRedVersion, startNodeRed } from '../support/node-red';
import { installedPackage } from '../support/packed';
import { packageJson } from '../support/repo';

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/**
 * Issue #29: an installable package. `npm pack` gives a tarball that installs into a fresh
 * Node-RED user directory, as a user installs it (npm from the registry for its dependencies, no
 * development tools), and Node-RED loads every node from it with no error in the log.
 */
describe(`the packed tarball installed into a fresh Node-RED user directory (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(300000);
  let dir: string;
  let nodeRed: NodeRed | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ampflow-pack-'));
  });

  after(async () => {
    await nodeRed?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names what publishing a scoped public package needs, and has no install script of its own', () => {
    assert.equal(packageJson.publishConfig?.access, 'public');
    for (const field of ['name', 'version', 'description', 'license', 'repository', 'keywords'] as const) {
      assert.ok(packageJson[field], `package.json has no ${field}`);
    }
    assert.ok(
      (packageJson.keywords as string[]).includes('node-red'),
      'the Flow Library lists packages by this keyword',
    );
    for (const script of ['preinstall', 'install', 'postinstall']) {
      assert.equal((packageJson.scripts as Record<string, string>)[script], undefined, `a ${script} script`);
    }
  });

  it('installs with npm and loads every node in Node-RED, with no warning or error in the log', async () => {
    const userDir = join(dir, 'user');
    // Packed and installed once per test process (the guides' test installs the same tarball).
    installedPackage(userDir);
    const installed = JSON.parse(
      readFileSync(join(userDir, 'node_modules', ...packageJson.name.split('/'), 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, packageJson.version);
    nodeRed = await startNodeRed({ userDir, package: 'installed' });
    const sets = (await (await nodeRed.request('/nodes')).json()) as NodeSet[];
    const ours = sets.filter((set) => set.module === packageJson.name);
    assert.deepEqual(
      ours.flatMap((set) => set.types).sort(),
      Object.keys(packageJson['node-red'].nodes).sort(),
    );
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.types.join(', ')}: ${set.err}`);
      assert.ok(set.enabled, `${set.types.join(', ')} not enabled`);
    }
    // The help and the editor of every node come from the installed files.
    const html = await (await nodeRed.request('/nodes', { headers: { Accept: 'text/html' } })).text();
    for (const type of Object.keys(packageJson['node-red'].nodes)) {
      assert.match(html, new RegExp(`data-help-name="${type}"`));
    }
    assert.deepEqual(nodeRed.problems(), []);
  });
});
