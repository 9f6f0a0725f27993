import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, rpcChargePoint } from '../support/charge-point';
import { eventually } from '../support/events';
import { nodeRedVersion, useNodeRed } from '../support/node-red';
import { freePort } from '../support/ports';
import { repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  [setting: string]: unknown;
}

const file = join(repoRoot, 'examples', 'Scenario - Home tariff and departure plan.json');

/**
 * The tariff example in a real Node-RED (the package as built, dist/): prices and a plan from its
 * inject nodes reach the load manager, and the plan is in the reason of the wallbox's set-point
 * as the Chargers sidebar lists it; a price limit changes what it says.
 */
describe(`the tariff example in Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(60_000);
  let port = 0;
  const flow = JSON.parse(readFileSync(file, 'utf8')) as FlowNode[];
  const red = useNodeRed(async () => {
    port = await freePort();
    return {
      flow: flow.map((node) =>
        node.type === 'ampflow-central-system' ? { ...node, host: '127.0.0.1', port: String(port) } : node,
      ),
    };
  });
  const inject = async (name: string) => {
    const node = flow.find((n) => n.type === 'inject' && n.name === name);
    assert.ok(node, `no inject node "${name}"`);
    const res = await red().request(`/inject/${node.id}`, { method: 'POST' });
    assert.equal(res.status, 200, `inject "${name}": ${res.status}`);
  };
  const reasonOf = async () => {
    const res = await red().request('/ampflow-central-system/chargers');
    const text = await res.text();
    const match = /"reason":"([^"]*)"/.exec(text);
    return match?.[1] ?? '';
  };

  it('takes prices and a plan from the inject nodes and says the plan in the reason', async () => {
    const make = () => {
      const client = rpcChargePoint(`ws://127.0.0.1:${port}`, 'WALLBOX-T');
      answer(client, 'GetConfiguration', () => ({ configurationKey: [], unknownKey: [] }));
      answer(client, 'SetChargingProfile', () => ({ status: 'Accepted' }));
      answer(client, 'ClearChargingProfile', () => ({ status: 'Accepted' }));
      answer(client, 'ChangeConfiguration', () => ({ status: 'Accepted' }));
      answer(client, 'TriggerMessage', () => ({ status: 'Rejected' }));
      return client;
    };
    let charger = make();
    // The central system listens once its flow has started (Node-RED says "Started flows" before).
    const connected = await eventually(
      () =>
        charger.connect().then(
          () => true,
          () => {
            charger = make();
            return false;
          },
        ),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    assert.ok(connected, 'the central system does not listen');
    try {
      await charger.call('BootNotification', { chargePointVendor: 'test', chargePointModel: 'tariff' });
      await inject('example prices');
      await inject('plan: 20 kWh in 10 h');
      await charger.call('StatusNotification', { connectorId: 1, status: 'Preparing', errorCode: 'NoError' });
      await charger.call('StartTransaction', {
        connectorId: 1,
        idTag: 'TAG',
        meterStart: 0,
        timestamp: new Date().toISOString(),
      });
      await charger.call('StatusNotification', {
        connectorId: 1,
        status: 'SuspendedEVSE',
        errorCode: 'NoError',
      });
      // Now 0.32 €/kWh for 2 h, then 0.10 for 4 h: 20 kWh fit into the cheap hours, so it waits.
      const planned =
        /^next: \d\d:\d\d at 0\.10 €\/kWh, the cheapest [\d h min]+ before \d\d:\d\d; 20\.0 kWh planned/;
      assert.ok(
        await eventually(async () => planned.test(await reasonOf()), { timeoutMs: 20_000 }),
        await reasonOf(),
      );
      // A price limit above the price now: it charges at once, and says why.
      await inject('clear the plan');
      await inject('price limit 0.15');
      const limited = /^0\.32 €\/kWh above the limit 0\.15 €\/kWh: PV surplus only/;
      assert.ok(
        await eventually(async () => limited.test(await reasonOf()), { timeoutMs: 20_000 }),
        await reasonOf(),
      );
      assert.deepEqual(red().problems(), []);
    } finally {
      await charger.close({ force: true });
    }
  });
});
