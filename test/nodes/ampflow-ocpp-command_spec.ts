import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import type { RPCClient } from 'ocpp-rpc';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import ocppCommandNode = require('../../nodes/ampflow-ocpp-command');

import type { EventEmitter } from 'node:events';
import { ManualClock } from '../../lib/clock';
import type { CentralSystemNode } from '../../nodes/types';
import { SimulatedChargePoint } from '../../sim/charge-point';
import { answer, rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { freePort } from '../support/ports';
import { CATCH_ALL, loadListening, onTab, useHelperServer, wiredToOut } from './fixtures';

interface Msg {
  payload: unknown;
  ocpp?: { action: string; request: unknown; response: unknown };
  error?: { message: string };
}

describe(`ampflow-ocpp-command node (Node-RED ${nodeRedVersion()})`, () => {
  let port: number;
  let charger: RPCClient | undefined;

  beforeEach(async () => {
    port = await freePort();
  });

  afterEach(async () => {
    await charger?.close();
    charger = undefined;
  });

  useHelperServer();

  /** The central system (`cs`, its fields and credentials) and the command node wired to the output. */
  async function load(
    command: Record<string, unknown>,
    cs: Record<string, unknown> = { authorizationPolicy: 'localList', fixedIdTag: 'FREE' },
    credentials?: Record<string, Record<string, string>>,
  ) {
    await loadListening(
      [centralSystemNode, ocppCommandNode],
      onTab(
        centralSystemConfig(port, cs),
        ...wiredToOut({
          id: 'command',
          type: 'ampflow-ocpp-command',
          centralSystem: 'cs',
          chargePointId: '',
          action: '',
          payload: '',
          timeoutS: '',
          ...command,
        }),
        ...CATCH_ALL,
      ),
      credentials,
    );
  }

  /** The charger accepts every `action`; the requests it got, in order. */
  function acceptAndRecord(cp: RPCClient, action: string): unknown[] {
    const received: unknown[] = [];
    answer(cp, action, (params) => {
      received.push(params);
      return { status: 'Accepted' };
    });
    return received;
  }

  async function connectCharger(answers: Record<string, unknown> = {}) {
    charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    for (const [action, reply] of Object.entries(answers)) answer(charger, action, () => reply);
    await charger.connect();
    await charger.call('BootNotification', BOOT);
    return charger;
  }

  it('sends the command from the message and outputs the charger’s answer', async () => {
    await load({});
    const cp = await connectCharger();
    const received = acceptAndRecord(cp, 'Reset');
    const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
    helper.getNode('command').receive({ chargePointId: 'CP-1', action: 'Reset', payload: { type: 'Soft' } });
    const [msg] = await out;
    assert.deepEqual(received, [{ type: 'Soft' }]);
    assert.deepEqual(msg.payload, { status: 'Accepted' });
    assert.equal(msg.ocpp?.action, 'Reset');
  });

  it('takes the charger from msg.topic and fills the free-charging id tag into RemoteStartTransaction', async () => {
    await load({ action: 'RemoteStartTransaction' });
    const cp = await connectCharger();
    const received = acceptAndRecord(cp, 'RemoteStartTransaction');
    const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
    helper.getNode('command').receive({ topic: 'CP-1/StatusNotification', payload: { connectorId: 2 } });
    await out;
    assert.deepEqual(received, [{ connectorId: 2, idTag: 'FREE' }]);
  });

  it('gives Catch nodes an error for a charger that is not connected, a refusal, and an invalid request', async () => {
    await load({ chargePointId: 'CP-1', action: 'UnlockConnector' });
    const caught = helper.getNode('caught');
    const offline = waitFor<[Msg]>(caught, 'input');
    helper.getNode('command').receive({ payload: { connectorId: 1 } });
    assert.match(
      (await offline)[0].error?.message ?? '',
      /charge point CP-1 is unknown to this central system/,
    );

    await connectCharger({ UnlockConnector: { status: 'UnlockFailed' } });
    const refused = waitFor<[Msg]>(caught, 'input');
    helper.getNode('command').receive({ payload: { connectorId: 1 } });
    const [refusal] = await refused;
    assert.match(
      refusal.error?.message ?? '',
      /charge point CP-1 answered UnlockConnector with UnlockFailed/,
    );
    assert.deepEqual(refusal.payload, { status: 'UnlockFailed' });

    const invalid = waitFor<[Msg]>(caught, 'input');
    helper.getNode('command').receive({ payload: { connectorId: 'one' } });
    assert.match(
      (await invalid)[0].error?.message ?? '',
      /UnlockConnector to CP-1: connectorId: must be integer/,
    );
  });

  it('gives Catch nodes an OCPP 2.0.1 station’s Rejected to UpdateFirmware written in 1.6 words', async () => {
    await load({ chargePointId: 'CS201', action: 'UpdateFirmware' });
    const station = new Charger201({ url: `ws://127.0.0.1:${port}/`, identity: 'CS201' });
    try {
      await station.connect();
      assert.equal((await station.boot()).status, 'Accepted');
      station.answerWith('UpdateFirmware', () => ({ status: 'Rejected' }));
      const caught = waitFor<[Msg]>(helper.getNode('caught'), 'input');
      helper.getNode('command').receive({
        payload: { location: 'https://example.org/fw.bin', retrieveDate: new Date().toISOString() },
      });
      const [refusal] = await caught;
      assert.match(refusal.error?.message ?? '', /charge point CS201 answered UpdateFirmware with Rejected/);
      assert.deepEqual(refusal.payload, { status: 'Rejected' });
      assert.deepEqual(station.violations, []);
    } finally {
      await station.close();
    }
  });

  it('keeps its fixed settings and warns when a message tries to change them', async () => {
    await load({ chargePointId: 'CP-1', action: 'ClearCache' });
    await connectCharger({ ClearCache: { status: 'Accepted' } });
    const node = helper.getNode('command');
    const warned = waitFor<[{ args: unknown[] }]>(node, 'call:warn');
    const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
    const warnings: unknown[] = [];
    (node as unknown as NodeJS.EventEmitter).on('call:warn', (call: { args: unknown[] }) =>
      warnings.push(call.args[0]),
    );
    node.receive({ action: 'Reset', payload: {} });
    assert.match(String((await warned)[0].args[0]), /ampflow-ocpp-command\.warnings\.noOverride/);
    assert.equal((await out)[0].ocpp?.action, 'ClearCache');
    // Said once per field, not once per message.
    const again = waitFor<[Msg]>(helper.getNode('out'), 'input');
    node.receive({ action: 'Reset', payload: {} });
    assert.equal((await again)[0].ocpp?.action, 'ClearCache');
    assert.equal(warnings.length, 1, String(warnings));
  });

  it('carries out central-system actions: id tags and charge point lists', async () => {
    await load({});
    const node = helper.getNode('command');
    const out = helper.getNode('out');
    let next = waitFor<[Msg]>(out, 'input');
    node.receive({
      action: 'SetIdTags',
      payload: { idTags: [{ idTag: 'BADGE-1', status: 'Accepted', priority: 2 }] },
    });
    assert.deepEqual((await next)[0].payload, { changed: true, previousVersion: 0, version: 1000 });
    next = waitFor<[Msg]>(out, 'input');
    node.receive({ action: 'GetIdTags' });
    assert.deepEqual((await next)[0].payload, {
      version: 1000,
      idTags: [{ idTag: 'BADGE-1', status: 'Accepted', priority: 2 }],
    });
    await connectCharger();
    next = waitFor<[Msg]>(out, 'input');
    node.receive({ action: 'ListChargePoints' });
    assert.deepEqual(
      ((await next)[0].payload as { chargePointId: string }[]).map((cp) => cp.chargePointId),
      ['CP-1'],
    );
    const caught = waitFor<[Msg]>(helper.getNode('caught'), 'input');
    node.receive({
      action: 'SetIdTags',
      payload: { idTags: [{ idTag: 'X'.repeat(21), status: 'Accepted' }] },
    });
    assert.match(
      (await caught)[0].error?.message ?? '',
      /idTag: "X{21}" is 21 characters; OCPP allows at most 20/,
    );
  });

  it('shows what happened on a whole word where the action is too long for the status (issue 48)', async () => {
    await load({});
    const cp = await connectCharger({
      ChangeAvailability: { status: 'Scheduled' },
      Reset: { status: 'Accepted' },
    });
    assert.ok(cp);
    const node = helper.getNode('command') as unknown as NodeJS.EventEmitter;
    const statuses: unknown[] = [];
    node.on('call:status', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0].text));
    for (const [action, payload] of [
      ['ListConnectors', {}],
      ['ChangeAvailability', { connectorId: 0, type: 'Inoperative' }],
      ['Reset', { type: 'Soft' }],
    ] as const) {
      const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
      helper.getNode('command').receive({ chargePointId: 'CP-1', action, payload });
      await out;
    }
    // Node-RED's limit is under 20 characters: `ListConnectors: done` was cut to `ListConnectors: don`.
    assert.deepEqual(statuses, ['done', 'Scheduled', 'Reset: Accepted']);
  });

  it('a flow’s new AuthorizationKey the charger accepts becomes its password: the old one works until it reconnects with the new one', async () => {
    const OLD = '0123456789abcdef0123456789abcdef';
    const NEW = 'fedcba9876543210fedcba9876543210';
    await load(
      {},
      { securityProfile: '1', unknownChargePoints: 'reject' },
      { cs: { passwords: `CP-1 ${OLD}` } },
    );
    const cs = (helper.getNode('cs') as CentralSystemNode).centralSystem as NonNullable<
      CentralSystemNode['centralSystem']
    >;
    const clock = new ManualClock();
    const sim = new SimulatedChargePoint({
      centralSystemUrl: `ws://127.0.0.1:${port}/`,
      identity: 'CP-1',
      password: OLD,
      clock,
      configuration: { WebSocketPingInterval: 0 },
    });
    try {
      await sim.connect();
      const disconnected = waitFor(sim as unknown as EventEmitter, 'disconnected');
      const out = waitFor<[Msg]>(helper.getNode('out'), 'input');
      helper.getNode('command').receive({
        chargePointId: 'CP-1',
        action: 'ChangeConfiguration',
        payload: { key: 'AuthorizationKey', value: NEW },
      });
      assert.deepEqual((await out)[0].payload, { status: 'Accepted' });
      await disconnected;
      const old = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1', { password: OLD });
      await old.connect();
      await old.close();
      const reconnected = waitFor(cs, 'connect');
      clock.advance(1000);
      await reconnected;
      const refused = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1', { password: OLD });
      await assert.rejects(refused.connect(), /Unauthorized/);
    } finally {
      await sim.close();
    }
  });
});
