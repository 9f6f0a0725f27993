import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import dlmNode = require('../../nodes/ampflow-dlm');

import type { UpstreamProxy } from '../../lib/upstream/proxy';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { until, waitFor } from '../support/events';
import { centralSystemConfig, oneCircuitSite } from '../support/flows';
import { freePort } from '../support/ports';
import { UpstreamBackend } from '../support/upstream-backend';
import { listening, onTab, useHelperServer } from './fixtures';

/**
 * Issue #12: the Chargers sidebar says, for every connector a load manager controls, what it
 * decided and why; which chargers a site names that never connected; and which connected chargers
 * no site names.
 */
describe('Chargers sidebar with a load manager', () => {
  useHelperServer();

  it('shows why each connector gets its current, the chargers never connected, and those in no site', async () => {
    const port = await freePort();
    await helper.load(
      [centralSystemNode, dlmNode],
      onTab(centralSystemConfig(port), {
        id: 'dlm',
        type: 'ampflow-dlm',
        centralSystem: 'cs',
        site: oneCircuitSite('line', 16, ['CP-1', 'CP-4']),
        wires: [[], []],
      }),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const chargers = ['CP-1', 'CP-STRAY'].map((id) => rpcChargePoint(`ws://127.0.0.1:${port}/`, id));
    try {
      for (const charger of chargers) {
        await charger.connect();
        await charger.call('BootNotification', { chargePointVendor: 'ampflow', chargePointModel: 'test' });
        await charger.call('StatusNotification', {
          connectorId: 1,
          errorCode: 'NoError',
          status: 'Available',
        });
      }
      const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
      const [cs] = response.body as SidebarCentralSystem[];
      assert.deepEqual(cs?.neverConnected, ['CP-4']);
      const one = cs?.chargePoints.find((cp) => cp.chargePointId === 'CP-1');
      assert.deepEqual(
        one?.decisions.map((d) => [d.connectorId, d.limitA]),
        [[1, 0]],
      );
      assert.match(String(one?.decisions[0]?.reason), /idle: Available/);
      assert.equal(one?.decisions[0]?.reasonText, undefined);
      // The editor in German (RED.i18n.lang()): the reason in German beside the English one (issue 48).
      const german = await helper.request().get('/ampflow-central-system/chargers?lang=de-DE').expect(200);
      const [csDe] = german.body as SidebarCentralSystem[];
      const oneDe = csDe?.chargePoints.find((cp) => cp.chargePointId === 'CP-1');
      assert.equal(oneDe?.decisions[0]?.reasonText, 'untätig: Frei');
      assert.match(String(oneDe?.decisions[0]?.reason), /idle: Available/);
      assert.equal(one?.inNoSite, undefined);
      const stray = cs?.chargePoints.find((cp) => cp.chargePointId === 'CP-STRAY');
      assert.equal(stray?.inNoSite, true);
      assert.deepEqual(stray?.decisions, []);
    } finally {
      await Promise.all(chargers.map((charger) => charger.close({ force: true })));
    }
  });

  it('shows each charger’s clock as measured from its own timestamps, marked beyond 60 s (issue 37)', async () => {
    const port = await freePort();
    await helper.load([centralSystemNode], onTab(centralSystemConfig(port)));
    await listening(helper.getNode('cs') as CentralSystemNode);
    // An EVlink on manual time, 5 minutes ahead; a charger on NTP; one that sent two timestamps only.
    const offsets = { 'CP-AHEAD': 300_000, 'CP-RIGHT': 0, 'CP-NEW': 0 } as const;
    const ids = Object.keys(offsets) as (keyof typeof offsets)[];
    const chargers = ids.map((id) => rpcChargePoint(`ws://127.0.0.1:${port}/`, id));
    try {
      for (const [index, charger] of chargers.entries()) {
        const id = ids[index] ?? 'CP-NEW';
        await charger.connect();
        await charger.call('BootNotification', {
          chargePointVendor: 'Schneider Electric',
          chargePointModel: 'EVlink',
        });
        for (const status of id === 'CP-NEW'
          ? ['Available', 'Preparing']
          : ['Available', 'Preparing', 'Available'])
          await charger.call('StatusNotification', {
            connectorId: 1,
            errorCode: 'NoError',
            status,
            timestamp: new Date(Date.now() + offsets[id]).toISOString(),
          });
      }
      const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
      const [cs] = response.body as SidebarCentralSystem[];
      const clockOf = (id: string) => cs?.chargePoints.find((cp) => cp.chargePointId === id)?.clock;
      assert.deepEqual(clockOf('CP-AHEAD'), { offsetS: 300, off: true });
      assert.deepEqual(clockOf('CP-RIGHT'), { offsetS: 0, off: false });
      assert.equal(clockOf('CP-NEW'), undefined, 'not measured from two timestamps');
      const warned = (helper.getNode('cs') as unknown as { warn: { args: unknown[][] } }).warn.args
        .map((call) => String(call[0]))
        .filter((message) => /its clock is/.test(message));
      assert.deepEqual(warned.length, 1);
      assert.match(warned[0] ?? '', /^charge point CP-AHEAD: its clock is 300 s ahead of ampflow's/);
    } finally {
      await Promise.all(chargers.map((charger) => charger.close({ force: true })));
    }
  });

  it('lists for commissioning the approved chargers not connected now, with their connectors, and which load manager names each (issue 38)', async () => {
    const port = await freePort();
    await helper.load(
      [centralSystemNode, dlmNode],
      onTab(centralSystemConfig(port, { chargePoints: [{ id: 'CP-KNOWN' }] }), {
        id: 'dlm',
        type: 'ampflow-dlm',
        centralSystem: 'cs',
        site: oneCircuitSite('line', 16, ['CP-1']),
        wires: [[], []],
      }),
    );
    await listening(helper.getNode('cs') as CentralSystemNode);
    const one = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-1');
    const dual = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-DUAL');
    try {
      for (const [charger, connectors] of [
        [one, [1]],
        [dual, [1, 2]],
      ] as const) {
        await charger.connect();
        await charger.call('BootNotification', { chargePointVendor: 'ampflow', chargePointModel: 'test' });
        for (const connectorId of connectors)
          await charger.call('StatusNotification', {
            connectorId,
            errorCode: 'NoError',
            status: 'Available',
          });
      }
      // The dual charger is switched off: still offered, with both its connectors.
      const cs = (helper.getNode('cs') as CentralSystemNode).centralSystem;
      assert.ok(cs);
      const gone = waitFor(
        cs,
        'disconnect',
        (event: { chargePointId: string }) => event.chargePointId === 'CP-DUAL',
      );
      await dual.close({ force: true });
      await gone;
      const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
      const [listed] = response.body as SidebarCentralSystem[];
      assert.deepEqual(listed?.known, ['CP-KNOWN']);
      const byId = new Map(listed?.chargePoints.map((cp) => [cp.chargePointId, cp]));
      assert.deepEqual(
        [byId.get('CP-DUAL')?.connected, byId.get('CP-DUAL')?.approved, byId.get('CP-DUAL')?.connectorIds],
        [false, true, [1, 2]],
      );
      assert.deepEqual(byId.get('CP-DUAL')?.managedBy, []);
      assert.deepEqual(byId.get('CP-1')?.managedBy, ['dlm']);
      assert.deepEqual(byId.get('CP-1')?.connectorIds, [1]);
    } finally {
      await Promise.all([one, dual].map((charger) => charger.close({ force: true })));
    }
  });

  it('shows each charger’s link to the operator’s backend, what waits for it, and what ampflow answered in its place', async () => {
    const backend = new UpstreamBackend();
    await backend.start();
    const port = await freePort();
    await helper.load(centralSystemNode, onTab(centralSystemConfig(port, { upstreamUrl: backend.url })));
    await listening(helper.getNode('cs') as CentralSystemNode);
    const charger = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'CP-UP');
    try {
      const linked = waitFor(backend, 'client', (identity: string) => identity === 'CP-UP');
      await charger.connect();
      await linked;
      const listed = async () => {
        const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
        return (response.body as SidebarCentralSystem[])[0]?.chargePoints.find(
          (cp) => cp.chargePointId === 'CP-UP',
        );
      };
      assert.deepEqual((await listed())?.upstream, { state: 'open', queued: 0 });
      await backend.stop();
      await until(
        () => (helper.getNode('cs') as CentralSystemNode).upstream?.status()[0]?.state === 'connecting',
        [[(helper.getNode('cs') as CentralSystemNode).upstream as UpstreamProxy, 'link']],
        5000,
      );
      assert.equal((await listed())?.upstream?.state, 'connecting');
      // What ampflow answers in the backend's place is shown, with when and why.
      await charger.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Sidebar' });
      assert.match(
        (await listed())?.upstream?.decidedLocally ?? '',
        /^BootNotification at \d{4}-.*: the backend is not reached$/,
      );
    } finally {
      await charger.close({ force: true });
      await backend.stop();
    }
  });

  it('lists a charger whose BootNotification broke the schema, OCPP 1.6 or 2.0.1, with the violation and that it is not lenient (issue 45)', async () => {
    const port = await freePort();
    await helper.load([centralSystemNode], onTab(centralSystemConfig(port)));
    await listening(helper.getNode('cs') as CentralSystemNode);
    const url = `ws://127.0.0.1:${port}/`;
    // The serial is CiString25Type in both (OCPP 1.6 §7.7, 2.0.1 ChargingStationType): 41 characters.
    const serial = 'S'.repeat(41);
    const boots = [
      {
        charger: rpcChargePoint(url, 'CP-LONG-SERIAL'),
        field: 'chargePointSerialNumber',
        boot: { chargePointVendor: 'ampflow', chargePointModel: 'test', chargePointSerialNumber: serial },
      },
      {
        charger: rpcChargePoint(url, 'CS201-LONG-SERIAL', { protocols: ['ocpp2.0.1'] }),
        field: 'serialNumber',
        boot: {
          reason: 'PowerUp',
          chargingStation: { vendorName: 'ampflow', model: 'test', serialNumber: serial },
        },
      },
    ];
    try {
      for (const { charger, boot } of boots) {
        await charger.connect();
        await assert.rejects(charger.call('BootNotification', boot));
      }
      const response = await helper.request().get('/ampflow-central-system/chargers').expect(200);
      const [cs] = response.body as SidebarCentralSystem[];
      for (const { charger, field } of boots) {
        const listed = cs?.chargePoints.find((cp) => cp.chargePointId === charger.identity);
        assert.equal(listed?.connected, true, charger.identity);
        assert.equal(listed?.lenient, false);
        assert.equal(listed?.boot, undefined, 'never booted');
        assert.deepEqual(
          listed?.warnings.map((w) => [w.action, w.kind]),
          [['BootNotification', 'request']],
        );
        assert.match(String(listed?.warnings[0]?.summary), new RegExp(field));
      }
    } finally {
      await Promise.all(boots.map(({ charger }) => charger.close({ force: true })));
    }
  });
});
