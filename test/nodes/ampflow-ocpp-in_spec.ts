import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import ocppInNode = require('../../nodes/ampflow-ocpp-in');
import ocppResponseNode = require('../../nodes/ampflow-ocpp-response');

import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { freePort } from '../support/ports';
import { listening, onTab, useHelperServer } from './fixtures';

interface Msg {
  topic: string;
  payload: Record<string, unknown>;
  ocpp?: { request: unknown; response: unknown };
  proposal?: unknown;
  ampflowRequest?: unknown;
}

/** An ampflow-ocpp-in node `in` on the central system `cs`: every charger and action, as messages. */
const ocppIn = (settings: Record<string, unknown> = {}) => ({
  id: 'in',
  type: 'ampflow-ocpp-in',
  centralSystem: 'cs',
  chargePoints: '',
  actions: [],
  mode: 'messages',
  wires: [[]],
  ...settings,
});

describe(`ampflow-ocpp-in node (Node-RED ${nodeRedVersion()})`, () => {
  let port: number;

  beforeEach(async () => {
    port = await freePort();
  });

  useHelperServer();

  it('emits the messages of the chosen chargers and types, topic <id>/<Action>, raw OCPP in msg.ocpp', async () => {
    await helper.load(
      [centralSystemNode, ocppInNode],
      onTab(
        centralSystemConfig(port),
        ocppIn({
          chargePoints: 'CP-1, CP-3',
          actions: ['MeterValues', 'StatusNotification'],
          wires: [['out']],
        }),
        { id: 'out', type: 'helper' },
      ),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const out = helper.getNode('out');
    const received: Msg[] = [];
    out.on('input', (msg: unknown) => received.push(msg as Msg));
    const statusChanged = waitFor(helper.getNode('in'), 'call:status', () => true);
    const cp1 = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    const cp2 = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-2');
    await Promise.all([cp1.connect(), cp2.connect()]);
    await statusChanged;
    await cp2.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await cp1.call('BootNotification', BOOT);
    const meter = waitFor<[Msg]>(out, 'input', (msg: Msg) => msg.topic === 'CP-1/MeterValues');
    await cp1.call('MeterValues', {
      connectorId: 1,
      meterValue: [
        {
          timestamp: new Date().toISOString(),
          sampledValue: [{ value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' }],
        },
      ],
    });
    const [msg] = await meter;
    assert.equal(msg.payload.totalPowerW, 7200);
    assert.equal(msg.payload.source, 'CP-1/1');
    assert.deepEqual(msg.ocpp?.response, {});
    assert.deepEqual(
      received.map((m) => m.topic),
      ['CP-1/MeterValues'],
    );
    await Promise.all([cp1.close(), cp2.close()]);
  });

  it('shows how many chargers are connected', async () => {
    await helper.load([centralSystemNode, ocppInNode], onTab(centralSystemConfig(port), ocppIn()));
    await listening(helper.getNode('cs') as CentralSystemNode);
    const node = helper.getNode('in');
    const status = waitFor<[{ args: [{ text: string }] }]>(
      node,
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === '1 connected',
    );
    const cp = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    await cp.connect();
    await status;
    await cp.close();
  });

  it('shows a TLS problem in its status when the certificate file cannot be read', async () => {
    await helper.load(
      [centralSystemNode, ocppInNode],
      onTab(
        centralSystemConfig(port, {
          securityProfile: '3',
          tlsCertificate: '/nonexistent/cs.pem',
          tlsCa: '/nonexistent/ca.pem',
        }),
        ocppIn(),
      ),
      { cs: { tlsPrivateKey: '/nonexistent/cs.key' } },
    );
    const status = await waitFor<[{ args: [{ fill: string; text: string }] }]>(
      helper.getNode('in'),
      'call:status',
      (call: { args: [{ text: string }] }) => call.args[0].text === 'TLS problem',
    );
    assert.equal(status[0].args[0].fill, 'red');
    assert.match(
      (helper.getNode('cs') as CentralSystemNode).problem ?? '',
      /TLS certificate: cannot read \/nonexistent\/cs\.pem: no such file/,
    );
  });

  it('hands id-tag decisions to the flow and answers them through ampflow-ocpp-response', async () => {
    await helper.load(
      [centralSystemNode, ocppInNode, ocppResponseNode],
      onTab(
        centralSystemConfig(port, { authorizationPolicy: 'flow', flowTimeoutS: '10' }),
        ocppIn({ mode: 'requests', wires: [['decide']] }),
        { id: 'decide', type: 'helper' },
        { id: 'response', type: 'ampflow-ocpp-response' },
      ),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const decide = helper.getNode('decide');
    const response = helper.getNode('response');
    decide.on('input', (input: unknown) => {
      const msg = input as Msg;
      const { idTag } = msg.payload as { idTag: string };
      response.receive({
        ...msg,
        payload: idTag === 'GOOD' ? { status: 'Accepted', priority: 4 } : 'Blocked',
      });
    });
    const cp = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    await cp.connect();
    await cp.call('BootNotification', BOOT);
    const requests = waitFor<[Msg]>(decide, 'input');
    assert.deepEqual(await cp.call('Authorize', { idTag: 'GOOD' }), { idTagInfo: { status: 'Accepted' } });
    const [first] = await requests;
    assert.equal(first.topic, 'CP-1/Authorize');
    assert.deepEqual(first.proposal, { idTagInfo: { status: 'Invalid' } });
    assert.deepEqual(await cp.call('Authorize', { idTag: 'BAD' }), { idTagInfo: { status: 'Blocked' } });
    await cp.close();
  });
});
