import assert from 'node:assert/strict';
import { SimulatedChargePoint } from '../../lib/sim/charge-point';
import { rpcChargePoint } from '../support/charge-point';
import { packageJson, useDemo } from '../support/demo';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

const nodeTypes = Object.keys(packageJson['node-red'].nodes);

describe(`npm start (Node-RED ${nodeRedVersion()} on Node.js ${process.version})`, function () {
  this.timeout(30000);
  const demo = useDemo();

  it('has every node of the package in the palette, loaded without error', async () => {
    const response = await fetch(`${demo().editorUrl}/nodes`, { headers: { Accept: 'application/json' } });
    assert.equal(response.status, 200);
    const sets = ((await response.json()) as NodeSet[]).filter((set) => set.module === packageJson.name);
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...nodeTypes].sort());
    for (const set of sets) {
      assert.equal(set.enabled, true, `${set.id} is disabled`);
      assert.equal(set.err, undefined, `${set.id} failed to load: ${set.err}`);
    }
  });

  it('serves the editor definition, help text and messages of every node', async () => {
    const response = await fetch(`${demo().editorUrl}/nodes`, { headers: { Accept: 'text/html' } });
    const html = await response.text();
    for (const type of nodeTypes) {
      assert.match(html, new RegExp(`registerType\\('${type}'`), `${type} editor definition missing`);
      assert.match(html, new RegExp(`data-help-name="${type}"`), `${type} help text missing`);
      const messages = await fetch(`${demo().editorUrl}/locales/${packageJson.name}/${type}?lng=en-US`);
      assert.equal(messages.status, 200);
      const catalogue = (await messages.json()) as Record<string, unknown>;
      assert.ok(catalogue[type], `${type} has no messages`);
    }
  });

  it('runs the demo flow: the central system accepts an unknown charger and its id tags', async () => {
    const charger = new SimulatedChargePoint({
      centralSystemUrl: `ws://127.0.0.1:${demo().ocppPort}/`,
      identity: 'DEMO-CP-1',
    });
    try {
      await charger.connect();
      assert.equal((await charger.waitForAccepted()).status, 'Accepted');
      assert.equal((await charger.authorize('ANY-BADGE')).status, 'Accepted');
    } finally {
      await charger.close();
    }
  });

  it('prints no warning or error beyond Node-RED start-up notices', () => {
    assert.deepEqual(demo().problems(), []);
  });

  it('stops cleanly on Ctrl-C (SIGINT), closing charger connections with 1001', async () => {
    const charger = rpcChargePoint(`ws://127.0.0.1:${demo().ocppPort}/`, 'DEMO-CP-2');
    await charger.connect();
    const closed = waitFor<[{ code: number }]>(charger, 'close', () => true, 15000);
    const { code, signal } = await demo().process.stop('SIGINT');
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.equal((await closed)[0].code, 1001);
    assert.ok(demo().process.lines.some((line) => /\[info\] Stopped flows/.test(line)));
  });
});
