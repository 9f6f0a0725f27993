import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { js, type NodeRed, nodeRedDir, nodeRedVersion, startNodeRed } from '../support/node-red';
import { freePort } from '../support/ports';

/**
 * Node-RED's server answers before its flows are loaded (it loads them after listening). The demo
 * on a slow machine logged `GET /ampflow-central-system/chargers failed: Cannot read properties of
 * null (reading 'allNodes')` when the editor's sidebar asked in that moment. Here Node-RED's own
 * file storage holds the flows back until the test releases them, so the moment is certain.
 */
describe(`the admin routes before Node-RED has loaded its flows (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  let red: NodeRed | undefined;

  afterEach(async () => {
    await red?.dispose();
    red = undefined;
  });

  it('answers the sidebar and the site check with nothing deployed yet, and logs no error', async () => {
    const storage = require.resolve('@node-red/runtime/lib/storage/localfilesystem', {
      paths: [nodeRedDir()],
    });
    // The release file is in the user directory, which startNodeRed makes: the storage finds it from its settings.
    red = await startNodeRed({
      until: 'server',
      flow: [
        { id: 'tab', type: 'tab', label: 'site' },
        { id: 'cs', type: 'ampflow-central-system', z: 'tab', port: await freePort(), wires: [[]] },
      ],
      settings: {
        storageModule: js(`(() => {
          const local = require(${JSON.stringify(storage)});
          let release;
          return {
            ...local,
            init(settings, runtime) {
              release = require('path').join(settings.userDir, 'release-flows');
              return local.init(settings, runtime);
            },
            getFlows() {
              return new Promise((resolve) => {
                const poll = setInterval(() => {
                  if (!require('fs').existsSync(release)) return;
                  clearInterval(poll);
                  resolve(local.getFlows());
                }, 20);
              });
            },
          };
        })()`),
      },
    });
    const running = red;
    const release = join(running.userDir, 'release-flows');
    assert.equal(existsSync(release), false);

    const chargers = await running.request('/ampflow-central-system/chargers');
    assert.equal(chargers.status, 200, await chargers.clone().text());
    assert.deepEqual(await chargers.json(), []);
    const check = await running.request('/ampflow-dlm/validate', {
      method: 'POST',
      body: {
        circuits: [{ id: 'main', maxA: 32, meter: { node: 'meter-1', source: 'grid' } }],
        connectors: [{ chargePointId: 'CP-1', connectorId: 1, circuit: 'main' }],
      },
    });
    assert.equal(check.status, 200, await check.clone().text());

    const started = running.process.nextLine(/\[info\] Started flows/);
    writeFileSync(release, '');
    await started;
    const listing = (await (await running.request('/ampflow-central-system/chargers')).json()) as {
      id: string;
    }[];
    assert.deepEqual(
      listing.map((cs) => cs.id),
      ['cs'],
    );
    assert.deepEqual(running.problems(), []);
  });
});
