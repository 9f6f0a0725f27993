import assert from 'node:assert/strict';
import helper, { type TestFlows, type TestFlowsItem } from 'node-red-node-test-helper';
import type { CentralSystemState } from '../../lib/ocpp/central-system';

import centralSystemNode = require('../../nodes/ampflow-central-system');

import type { CentralSystemNode, CentralSystemNodeDef } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { nodeRedRuntimePath, nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';

helper.init(nodeRedRuntimePath());

/** A flow of central-system nodes, typed so that misspelt settings fail the type check. */
function flow(...nodes: TestFlowsItem<CentralSystemNodeDef>[]): TestFlows {
  return nodes;
}

interface SpyCall {
  args: unknown[];
}

async function listening(node: CentralSystemNode): Promise<void> {
  const cs = node.centralSystem;
  assert.ok(cs, 'central system not created');
  if (cs.state === 'listening') return;
  await waitFor<[CentralSystemState]>(cs, 'state', (state) => state === 'listening');
}

describe(`ampflow-central-system node (Node-RED ${nodeRedVersion()})`, () => {
  beforeEach((done) => {
    helper.startServer(done);
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('opens its port on deploy and closes it, with every charger, on unload', async () => {
    const port = await freePort();
    await helper.load(
      centralSystemNode,
      flow({
        id: 'cs1',
        type: 'ampflow-central-system',
        name: 'car park',
        host: '127.0.0.1',
        port: String(port),
      }),
    );
    const node = helper.getNode('cs1') as CentralSystemNode;
    await listening(node);
    assert.equal(node.centralSystem?.url, `ws://127.0.0.1:${port}/`);

    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    await charger.connect();
    const closed = waitFor<[{ code: number }]>(charger, 'close');
    await helper.unload();
    assert.equal((await closed)[0].code, 1001);
    assert.equal(node.centralSystem?.state, 'stopped');

    // The port is free again: a redeploy on the same port listens at once.
    await helper.load(
      centralSystemNode,
      flow({ id: 'cs2', type: 'ampflow-central-system', host: '127.0.0.1', port }),
    );
    await listening(helper.getNode('cs2') as CentralSystemNode);
  });

  it('reports a port already in use as an error naming the port, without throwing', async () => {
    const port = await freePort();
    await helper.load(
      centralSystemNode,
      flow(
        { id: 'a', type: 'ampflow-central-system', host: '127.0.0.1', port },
        { id: 'b', type: 'ampflow-central-system', host: '127.0.0.1', port },
      ),
    );
    const a = helper.getNode('a') as CentralSystemNode;
    const b = helper.getNode('b') as CentralSystemNode;
    const [call] = await Promise.race([
      waitFor<[SpyCall]>(a, 'call:error'),
      waitFor<[SpyCall]>(b, 'call:error'),
    ]);
    assert.match(String(call.args[0]), new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`));
    assert.deepEqual([a.centralSystem?.state, b.centralSystem?.state].sort(), ['failed', 'listening']);
  });

  it('does not start with an invalid port and says which setting is wrong', async () => {
    await helper.load(centralSystemNode, flow({ id: 'bad', type: 'ampflow-central-system', port: '90000' }));
    const node = helper.getNode('bad') as CentralSystemNode;
    assert.equal(node.centralSystem, undefined);
    const errorCalls = (node.error as unknown as { getCalls(): SpyCall[] }).getCalls();
    assert.equal(errorCalls.length, 1);
    // The test helper's RED._ returns the message key; the real runtime puts the sentence there.
    assert.equal(
      errorCalls[0]?.args[0],
      'ampflow-central-system.errors.notStarted: port: "90000" is not a TCP port (a whole number from 1 to 65535)',
    );
  });
});
