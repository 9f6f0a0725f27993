import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../lib/clock';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import { SimulatedChargePoint } from '../../sim/charge-point';
import { eventually } from '../support/events';
import { nodeRedVersion, useNodeRed } from '../support/node-red';

/**
 * Issue 37: a central system on Node-RED's own HTTP server (listen: shared) serves its files under
 * the HTTP nodes' root, on the port the chargers dial there: a simulated charger uploads its
 * diagnostics to the link a GetDiagnostics with location "ampflow" gave it, in a real Node-RED.
 */
describe(`files of a central system on Node-RED's shared server (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const nodeRed = useNodeRed({
    flow: [
      { id: 'files-tab', type: 'tab', label: 'files' },
      {
        id: 'files-cs',
        type: 'ampflow-central-system',
        name: 'shared',
        listen: 'shared',
        path: '/ocpp',
        unknownChargePoints: 'accept',
        authorizationPolicy: 'acceptAll',
        readConfigurationOnBoot: false,
      },
      {
        id: 'files-diag',
        type: 'inject',
        z: 'files-tab',
        props: [{ p: 'payload' }],
        payload: '{"location":"ampflow"}',
        payloadType: 'json',
        wires: [['files-command']],
      },
      {
        id: 'files-command',
        type: 'ampflow-ocpp-command',
        z: 'files-tab',
        centralSystem: 'files-cs',
        chargePointId: 'CP-SH',
        action: 'GetDiagnostics',
        payload: '',
        timeoutS: '',
        wires: [[]],
      },
    ],
  });

  it('a charger dialling /ocpp uploads its diagnostics to <httpNodeRoot>ampflow-central-system/<id>/ampflow-files/<token>/', async () => {
    const sim = new SimulatedChargePoint({
      centralSystemUrl: `${nodeRed().url.replace(/^http/, 'ws')}/ocpp/`,
      identity: 'CP-SH',
      clock: new ManualClock(),
      httpTransfers: true,
      configuration: { WebSocketPingInterval: 0 },
    });
    const systems = async () =>
      (await (await nodeRed().request('/ampflow-central-system/chargers')).json()) as SidebarCentralSystem[];
    try {
      // The flow starts after Node-RED: an upgrade before the central system joins the server is lost.
      assert.ok(
        await eventually(async () => (await systems())[0]?.state === 'listening', { timeoutMs: 20000 }),
        'the central system never listened',
      );
      await sim.connect();
      assert.equal((await nodeRed().request('/inject/files-diag', { method: 'POST' })).status, 200);
      let listed: SidebarCentralSystem['chargePoints'][number] | undefined;
      const uploaded = await eventually(
        async () => {
          const systems = (await (
            await nodeRed().request('/ampflow-central-system/chargers')
          ).json()) as SidebarCentralSystem[];
          listed = systems[0]?.chargePoints.find((cp) => cp.chargePointId === 'CP-SH');
          return listed?.files?.diagnostics?.status === 'Uploaded';
        },
        { timeoutMs: 20000, intervalMs: 100 },
      );
      assert.ok(uploaded, JSON.stringify(listed?.files));
      const path = String(listed?.files?.uploaded?.path);
      assert.ok(path.includes('central-system-files-cs/files/CP-SH/'), path);
      assert.match(readFileSync(path, 'utf8'), /^diagnostics of CP-SH at /);
      assert.deepEqual(nodeRed().problems(), []);
    } finally {
      await sim.close();
    }
  });
});
