import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import chargingProfileNode = require('../../nodes/ampflow-charging-profile');
import dlmNode = require('../../nodes/ampflow-dlm');
import meterNode = require('../../nodes/ampflow-meter');
import modbusBusNode = require('../../nodes/ampflow-modbus-bus');
import ocppCommandNode = require('../../nodes/ampflow-ocpp-command');
import ocppInNode = require('../../nodes/ampflow-ocpp-in');
import ocppResponseNode = require('../../nodes/ampflow-ocpp-response');

import { NODE_SHAPES, NODE_TYPES } from '../../lib/config-versions';
import type { CentralSystemNode } from '../../nodes/types';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { onTab, tcpBusConfig, useHelperServer } from './fixtures';

const ALL = [
  centralSystemNode,
  ocppInNode,
  ocppCommandNode,
  ocppResponseNode,
  modbusBusNode,
  meterNode,
  dlmNode,
  chargingProfileNode,
];

interface Spy {
  getCalls(): { thisValue: unknown; args: unknown[] }[];
}
type Spied = { error: Spy; status: Spy };

/**
 * Every node's settings carry `configVersion` (lib/config-versions.ts): settings saved without one
 * (0.1.0) are read as they were; settings saved by a newer release are refused by every node with
 * words that say so, and the node does not start.
 */
describe(`node settings from a newer release (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();

  it('every node type refuses settings saved by a newer release, naming it, and does not start', async () => {
    const newer = (type: string) => (NODE_SHAPES[type]?.current ?? 0) + 1;
    const port = await freePort();
    await helper.load(
      ALL,
      onTab(
        { ...centralSystemConfig(port), id: 'cs', configVersion: newer('ampflow-central-system') },
        { ...tcpBusConfig(1), configVersion: newer('ampflow-modbus-bus') },
        ...NODE_TYPES.filter((type) => !['ampflow-central-system', 'ampflow-modbus-bus'].includes(type)).map(
          (type) => ({ id: type, type, configVersion: newer(type), wires: [[], []] }),
        ),
      ),
    );
    const cs = helper.getNode('cs') as CentralSystemNode;
    assert.equal(cs.centralSystem, undefined);
    assert.match(
      cs.problem ?? '',
      /saved by a newer release of ampflow \(version 2; this one reads up to 1\)/,
    );
    assert.match((helper.getNode('bus') as unknown as { problem?: string }).problem ?? '', /newer release/);
    // Node-RED's test helper spies on every node's error and status at once: each call by its node.
    const others = NODE_TYPES.filter((t) => !['ampflow-central-system', 'ampflow-modbus-bus'].includes(t));
    for (const type of others) {
      const node = helper.getNode(type);
      const calls = (spy: Spy) => spy.getCalls().filter((call) => call.thisValue === node);
      assert.match(
        String(calls((node as unknown as Spied).error)[0]?.args[0]),
        new RegExp(`settings of the ${type} node: saved by a newer release`),
      );
      assert.deepEqual(
        calls((node as unknown as Spied).status).map((call) => (call.args[0] as { text: string }).text),
        ['settings error'],
        type,
      );
    }
  });
});
