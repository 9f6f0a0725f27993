import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import ocppResponseNode = require('../../nodes/ampflow-ocpp-response');

import { waitFor } from '../support/events';
import { nodeRedRuntimePath, nodeRedVersion } from '../support/node-red';
import { onTab } from './fixtures';

helper.init(nodeRedRuntimePath());

describe(`ampflow-ocpp-response node (Node-RED ${nodeRedVersion()})`, () => {
  beforeEach((done) => {
    helper.startServer(done);
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('gives a message that did not come from ampflow-ocpp-in to Catch nodes, with a reason', async () => {
    await helper.load(
      [ocppResponseNode],
      onTab(
        { id: 'response', type: 'ampflow-ocpp-response' },
        { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ),
    );
    const caught = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    helper.getNode('response').receive({ payload: true });
    const [msg] = await caught;
    assert.match(msg.error.message, /ampflow-ocpp-response\.errors\.noRequest/);
  });
});
