import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SidebarCentralSystem } from '../../nodes/chargers-sidebar';
import { rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { eventually } from '../support/events';
import { type NodeRed, nodeRedVersion, startNodeRed } from '../support/node-red';
import { isoNow } from '../support/ocpp';
import { freePort } from '../support/ports';

const HOUR = 3_600_000;

/**
 * Issue 48 in a Node-RED process: a plan, a price list and a mode sent by message to the load
 * manager are in force again after a full deploy of another tab and after Node-RED is stopped
 * (SIGTERM) and started again on the same user directory, for an OCPP 1.6 wallbox and a 2.0.1
 * station (their transactions kept by the central system's data directory). What is in force is
 * read where a user sees it: the Chargers sidebar's decision for each connector.
 */
describe(`what the flow sent survives a restart of Node-RED and a full deploy (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60_000);
  let userDir: string;
  let nodeRed: NodeRed | undefined;
  before(() => {
    userDir = mkdtempSync(join(tmpdir(), 'ampflow-kept-e2e-'));
  });
  after(async () => {
    await nodeRed?.dispose();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('keeps the plan, the prices and the mode of a 1.6 wallbox and a 2.0.1 station', async () => {
    const port = await freePort();
    const now = Date.now();
    const flow = (otherName: string) => [
      { id: 'charging', type: 'tab', label: 'charging' },
      { id: 'other', type: 'tab', label: 'something else' },
      {
        id: 'cs',
        type: 'ampflow-central-system',
        name: 'home',
        host: '127.0.0.1',
        port: String(port),
        unknownChargePoints: 'accept',
        authorizationPolicy: 'acceptAll',
        readConfigurationOnBoot: false,
        dataDirectory: join(userDir, 'cs'),
      },
      {
        id: 'dlm',
        type: 'ampflow-dlm',
        z: 'charging',
        x: 400,
        y: 100,
        name: 'home',
        centralSystem: 'cs',
        site: JSON.stringify({
          circuits: [{ id: 'home', limitA: 40, fallback: { otherLoadA: 5 } }],
          connectors: ['WB-16', 'WB-201'].map((id) => ({
            chargePointId: id,
            circuit: 'home',
            maxA: 16,
            mode: 'fast',
          })),
        }),
        wires: [[], []],
      },
      { id: 'send', type: 'inject', z: 'charging', x: 100, y: 100, wires: [['tell']] },
      {
        id: 'tell',
        type: 'function',
        z: 'charging',
        x: 250,
        y: 100,
        outputs: 1,
        func: `
const t = ${now}, hour = ${HOUR};
const msgs = [{ topic: 'prices', payload: [0.3, 0.1].map((price, i) => ({ start: t + i * hour, end: t + (i + 1) * hour, price })) }];
for (const id of ['WB-16', 'WB-201']) {
  msgs.push({ topic: 'mode', payload: { chargePointId: id, mode: 'price' } });
  msgs.push({ topic: 'plan', payload: { chargePointId: id, energyKWh: 5, departure: t + 2 * hour } });
}
return [msgs];`,
        wires: [['dlm']],
      },
      { id: 'note', type: 'comment', z: 'other', x: 100, y: 100, name: otherName },
    ];
    let wb16 = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'WB-16');
    const wb201 = new Charger201({ url: `ws://127.0.0.1:${port}/`, identity: 'WB-201' });
    const connect = async (first: boolean) => {
      // The central system listens once its node started (after a deploy, a moment after the flows).
      const listening = async () => {
        const body = (await (await nodeRed?.request('/ampflow-central-system/chargers'))?.json()) as
          | SidebarCentralSystem[]
          | undefined;
        return body?.[0]?.state === 'listening';
      };
      assert.ok(
        await eventually(listening, { timeoutMs: 10_000 }),
        `the central system listens: ${JSON.stringify(await (await nodeRed?.request('/ampflow-central-system/chargers'))?.json())} ${nodeRed?.problems().join('\n')}`,
      );
      if (!first) wb16 = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'WB-16');
      await wb16.connect();
      await wb16.call('BootNotification', { chargePointVendor: 'ampflow', chargePointModel: 'test' });
      if (first)
        await wb16.call('StartTransaction', {
          connectorId: 1,
          idTag: 'TAG-1',
          meterStart: 0,
          timestamp: isoNow(),
        });
      await wb16.call('StatusNotification', {
        connectorId: 1,
        errorCode: 'NoError',
        status: 'SuspendedEVSE',
      });
      await wb201.connect();
      assert.equal((await wb201.boot()).status, 'Accepted');
      if (first) await wb201.startTransaction(1, 'TAG-2');
      await wb201.status(1, 'Occupied');
    };
    const disconnect = async () => {
      await wb16.close({ force: true });
      await wb201.close();
    };
    /** The sidebar's decisions, by charger: the limit and its reason. */
    let decisions: Record<string, string> = {};
    const planned = async () => {
      const response = await nodeRed?.request('/ampflow-central-system/chargers');
      const body = (await response?.json()) as SidebarCentralSystem[];
      decisions = Object.fromEntries(
        (body[0]?.chargePoints ?? []).map((cp) => [
          cp.chargePointId,
          cp.decisions?.map((d) => `${d.limitA} A: ${d.reason}`).join('; ') ?? '',
        ]),
      );
      return ['WB-16', 'WB-201'].every((id) =>
        /^0 A: next: .*0\.10\/kWh.*; 5\.0 kWh planned/.test(decisions[id] ?? ''),
      );
    };
    const inForce = async (when: string) => {
      assert.ok(
        await eventually(planned, { timeoutMs: 10_000, intervalMs: 200 }),
        `${when}: ${JSON.stringify(decisions)}`,
      );
    };
    try {
      nodeRed = await startNodeRed({ userDir, flow: flow('v1') });
      await connect(true);
      assert.equal((await nodeRed.request('/inject/send', { method: 'POST' })).status, 200);
      await inForce('as sent');

      await disconnect();
      await nodeRed.deploy(flow('v2'));
      await connect(false);
      await inForce('after a full deploy of the other tab');

      await disconnect();
      await nodeRed.dispose();
      nodeRed = await startNodeRed({ userDir, package: 'installed', flow: flow('v2') });
      await connect(false);
      await inForce('after Node-RED stopped and started again');
      assert.deepEqual(
        nodeRed.problems().filter((line) => !/no meter measures|fallback/.test(line)),
        [],
      );
    } finally {
      await disconnect().catch(() => undefined);
    }
  });
});
