import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');

import { composeEditorHtml } from '../../nodes/shared/editor-html';
import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { UpstreamBackend } from '../support/upstream-backend';
import { listening, onTab, useHelperServer } from './fixtures';

interface SpyCall {
  args: unknown[];
}

describe(`ampflow-central-system node (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();

  it('opens its port on deploy and closes it, with every charger, on unload', async () => {
    const port = await freePort();
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port)));
    const node = helper.getNode('cs') as CentralSystemNode;
    await listening(node);
    assert.equal(node.centralSystem?.url, `ws://127.0.0.1:${port}/`);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    await charger.connect();
    const closed = waitFor<[{ code: number }]>(charger, 'close');
    await helper.unload();
    assert.equal((await closed)[0].code, 1001);
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port, { id: 'cs2' })));
    await listening(helper.getNode('cs2') as CentralSystemNode);
  });

  it('reports a port already in use as an error naming the port and the central system of this Node-RED that holds it', async () => {
    const port = await freePort();
    await helper.load(
      centralSystemNode,
      onTab(centralSystemConfig(port, { name: 'demo' }), centralSystemConfig(port, { id: 'cs-b' })),
    );
    const b = helper.getNode('cs-b') as CentralSystemNode;
    const [call] = await waitFor<[SpyCall]>(b, 'call:error');
    assert.match(
      String(call.args[0]),
      new RegExp(
        `127\\.0\\.0\\.1:${port}: the port is already in use .*: the central system "demo" \\(cs\\) of this Node-RED listens there`,
      ),
    );
    assert.match(b.problem ?? '', /already in use.*"demo"/);
    await listening(helper.getNode('cs') as CentralSystemNode);
  });

  it('reports a port another program holds without naming a node', async () => {
    const port = await freePort();
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    try {
      await helper.load(centralSystemNode, onTab(centralSystemConfig(port)));
      const node = helper.getNode('cs') as CentralSystemNode;
      const [call] = await waitFor<[SpyCall]>(node, 'call:error');
      assert.match(String(call.args[0]), /the port is already in use by another program or node$/);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('does not start with invalid settings and names the setting', async () => {
    await helper.load(centralSystemNode, onTab(centralSystemConfig(9000, { heartbeatIntervalS: '5' })));
    const node = helper.getNode('cs') as CentralSystemNode;
    assert.equal(node.centralSystem, undefined);
    assert.match(node.problem ?? '', /^heartbeatIntervalS: 5 s is outside 10 to 86400 s$/);
  });

  it('shares Node-RED\u2019s own HTTP server under a path', async () => {
    await helper.load(centralSystemNode, onTab(centralSystemConfig(0, { listen: 'shared', path: '/ocpp' })));
    await listening(helper.getNode('cs') as CentralSystemNode);
    const url = helper.url().replace(/^http/, 'ws');
    const charger = rpcChargePoint(`${url}/ocpp`, 'CP-SHARED');
    await charger.connect();
    assert.deepEqual((helper.getNode('cs') as CentralSystemNode).centralSystem?.connectedChargePoints(), [
      'CP-SHARED',
    ]);
    await charger.close();
  });

  it('keeps charger passwords as credentials (security profile 1)', async () => {
    const port = await freePort();
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port, { securityProfile: '1' })), {
      cs: { passwords: 'CP-1 0123456789abcdef0123' },
    });
    await listening(helper.getNode('cs') as CentralSystemNode);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1', { password: '0123456789abcdef0123' });
    await charger.connect();
    await charger.close();
    const stranger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1', { password: 'wrong-password-000000' });
    await assert.rejects(stranger.connect(), /Unauthorized/);
  });

  it('passes each charger through to the operator’s backend as itself, with the backend password kept as a credential', async () => {
    const backend = new UpstreamBackend({ password: 'cpo-password-1' });
    await backend.start();
    try {
      const port = await freePort();
      await helper.load(
        centralSystemNode,
        onTab(centralSystemConfig(port, { unknownChargePoints: 'accept', upstreamUrl: backend.url })),
        { cs: { upstreamPassword: 'cpo-password-1' } },
      );
      const node = helper.getNode('cs') as CentralSystemNode;
      await listening(node);
      const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-UP');
      const linked = waitFor(backend, 'client', (identity: string) => identity === 'CP-UP');
      await charger.connect();
      await linked;
      const booted = waitFor<[{ action: string }]>(backend, 'call', (c) => c.action === 'BootNotification');
      const answer = (await charger.call('BootNotification', {
        chargePointVendor: 'Peer',
        chargePointModel: 'Plain',
      })) as { status: string; interval: number };
      await booted;
      assert.equal(answer.status, 'Accepted', 'the backend’s answer');
      assert.equal(answer.interval, 300, 'the shorter of the backend’s 3600 s and ampflow’s own heartbeat');
      assert.deepEqual(
        node.upstream?.status().map((link) => [link.chargePointId, link.state]),
        [['CP-UP', 'open']],
      );
      assert.deepEqual(
        backend.handshakes.map((h) => [h.identity, h.password]),
        [['CP-UP', 'cpo-password-1']],
      );
      await charger.close();
    } finally {
      await helper.unload();
      await backend.stop();
    }
  });

  it('passes two chargers through one node, each with the password of the backend’s registration list (a credential)', async () => {
    const backend = new UpstreamBackend({
      passwords: { 'CP-A': 'cpo-password-a', 'CP-B': 'cpo-password-b' },
    });
    await backend.start();
    try {
      const port = await freePort();
      await helper.load(
        centralSystemNode,
        onTab(
          centralSystemConfig(port, {
            unknownChargePoints: 'accept',
            upstreamUrl: backend.url,
            upstreamDecideWithinS: '5',
          }),
        ),
        {
          cs: {
            upstreamPassword: 'node-wide',
            upstreamRegistrations: 'CP-A,cpo-password-a\nCP-B,cpo-password-b',
          },
        },
      );
      const node = helper.getNode('cs') as CentralSystemNode;
      await listening(node);
      for (const identity of ['CP-A', 'CP-B']) {
        const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, identity);
        const linked = waitFor(backend, 'client', (id: string) => id === identity);
        await charger.connect();
        await linked;
        await charger.close();
      }
      assert.deepEqual(
        backend.handshakes.map((h) => [h.identity, h.password, h.refused]),
        [
          ['CP-A', 'cpo-password-a', undefined],
          ['CP-B', 'cpo-password-b', undefined],
        ],
      );
      // A password credential in the editor too: never in the flow JSON, never sent back to the editor.
      const editor = composeEditorHtml(join(__dirname, '../../nodes/ampflow-central-system.html'));
      const [, defaults = '', credentials = ''] =
        /defaults: \{([\s\S]*?)\n {4}\},\n {4}credentials: \{([\s\S]*?)\n {4}\}/.exec(editor) ?? [];
      assert.match(credentials, /upstreamRegistrations: \{ type: 'password' \}/);
      assert.doesNotMatch(defaults, /upstreamRegistrations/);
    } finally {
      await helper.unload();
      await backend.stop();
    }
  });

  it('imports the backend’s registration list in the edit dialog: bad lines named by number, the rest kept', async () => {
    await helper.load(centralSystemNode, onTab(centralSystemConfig(await freePort())), {
      cs: { upstreamRegistrations: 'CP-1,stored-one\nCP-7,stored-seven' },
    });
    const answer = await helper
      .request()
      .post('/ampflow-central-system/upstream-registrations')
      .send({ current: 'CP-1,old\nCP-9,nine', imported: 'identity,password\nCP-1,new\nCP 2,x\nCP-3,three' })
      .expect(200);
    assert.deepEqual(answer.body, {
      text: 'CP-1,new\nCP-9,nine\nCP-3,three',
      accepted: 2,
      problems: [
        {
          line: 3,
          message:
            'the identity has " " (U+0020) at position 3; OCPP identities (identifierString) allow only a-z, A-Z, 0-9 and * - _ = : + | @ .',
        },
      ],
    });
    // The dialog cannot see the deployed list: the import goes into it, keeping what the file does not name.
    const intoStored = await helper
      .request()
      .post('/ampflow-central-system/upstream-registrations')
      .send({ id: 'cs', stored: true, current: '', imported: 'CP-1,new-one\nCP-8,eight' })
      .expect(200);
    assert.equal(intoStored.body.text, 'CP-1,new-one\nCP-7,stored-seven\nCP-8,eight');
    assert.equal(intoStored.body.accepted, 2);
  });

  it('keeps its state in the data folder', async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-node-state-'));
    try {
      const port = await freePort();
      await helper.load(centralSystemNode, onTab(centralSystemConfig(port, { dataDirectory })));
      await listening(helper.getNode('cs') as CentralSystemNode);
      assert.ok(readdirSync(dataDirectory).includes('journal.jsonl'));
    } finally {
      await helper.unload();
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });

  it('lists charge points and exports sessions through admin routes', async () => {
    const port = await freePort();
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port)));
    await listening(helper.getNode('cs') as CentralSystemNode);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-ADMIN');
    await charger.connect();
    await charger.call('BootNotification', { chargePointVendor: 'a', chargePointModel: 'b' });
    const list = await helper.request().get('/ampflow-central-system/cs/charge-points').expect(200);
    assert.deepEqual(
      (list.body as { chargePointId: string; connected: boolean }[]).map((cp) => [
        cp.chargePointId,
        cp.connected,
      ]),
      [['CP-ADMIN', true]],
    );
    const csv = await helper.request().get('/ampflow-central-system/cs/sessions.csv').expect(200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.match(csv.text, /^transaction,charge point,/);
    const comma = await helper
      .request()
      .get('/ampflow-central-system/cs/sessions.csv?decimal=%2C')
      .expect(200);
    assert.match(comma.text, /^transaction;charge point;.*;connector type;AC\/DC;comment\r\n/);
    await helper.request().get('/ampflow-central-system/cs/sessions.csv?from=yesterday').expect(400);
    await helper.request().get('/ampflow-central-system/nope/charge-points').expect(404);
    await helper.request().post('/ampflow-central-system/cs/charge-points/CP-ADMIN/reject').expect(200);
    await charger.close();
  });

  it('lists every deployed central system and its chargers for the editor\u2019s Chargers sidebar', async () => {
    const port = await freePort();
    await helper.load(
      centralSystemNode,
      onTab(
        centralSystemConfig(port, { chargePoints: [{ id: 'CP-SIDE', lenient: true }] }),
        centralSystemConfig(0, { id: 'cs-bad', name: 'broken', heartbeatIntervalS: '5' }),
      ),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-SIDE');
    await charger.connect();
    await charger.call('BootNotification', {
      chargePointVendor: 'Bender',
      chargePointModel: 'CC613',
      firmwareVersion: '5.22.1',
      chargeBoxSerialNumber: 'A-SERIAL-NUMBER-LONGER-THAN-25',
    });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
    const systems = response.body as {
      id: string;
      name: string;
      state: string;
      problem?: string;
      chargePoints: {
        chargePointId: string;
        connected: boolean;
        boot?: { request: { chargePointVendor: string; chargePointModel: string; firmwareVersion?: string } };
        connectors: { connectorId: number; status?: string }[];
        lastMessage?: { action: string };
        warnings: { action: string; summary: string }[];
      }[];
    }[];
    assert.deepEqual(
      systems.map((cs) => [cs.id, cs.name, cs.state]),
      [
        ['cs', 'test central system', 'listening'],
        ['cs-bad', 'broken', 'failed'],
      ],
    );
    assert.match(systems[1]?.problem ?? '', /not a TCP port/);
    const [cp] = systems[0]?.chargePoints ?? [];
    assert.equal(cp?.chargePointId, 'CP-SIDE');
    assert.equal(cp?.connected, true);
    assert.deepEqual(cp?.boot?.request, {
      chargePointVendor: 'Bender',
      chargePointModel: 'CC613',
      firmwareVersion: '5.22.1',
      chargeBoxSerialNumber: 'A-SERIAL-NUMBER-LONGER-THAN-25',
    });
    assert.deepEqual(
      cp?.connectors.map((c) => [c.connectorId, c.status]),
      [[1, 'Preparing']],
    );
    assert.equal(cp?.lastMessage?.action, 'StatusNotification');
    assert.deepEqual(
      cp?.warnings.map((w) => w.action),
      ['BootNotification'],
    );
    assert.match(cp?.warnings[0]?.summary ?? '', /chargeBoxSerialNumber/);
    await charger.close();
  });
});
