import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import ocppResponseNode = require('../../nodes/ampflow-ocpp-response');

import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { CATCH_ALL, onTab, useHelperServer } from './fixtures';

describe(`ampflow-ocpp-response node (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();

  it('gives a message that did not come from ampflow-ocpp-in to Catch nodes, with a reason', async () => {
    await helper.load(
      [ocppResponseNode],
      onTab({ id: 'response', type: 'ampflow-ocpp-response' }, ...CATCH_ALL),
    );
    const caught = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    helper.getNode('response').receive({ payload: true });
    const [msg] = await caught;
    assert.match(msg.error.message, /ampflow-ocpp-response\.errors\.noRequest/);
  });
});
