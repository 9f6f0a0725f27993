import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';

import centralSystemNode = require('../../nodes/ampflow-central-system');
import dlmNode = require('../../nodes/ampflow-dlm');

import type { SetPoint } from '../../lib/contracts';
import type { CentralSystemNode } from '../../nodes/types';
import { rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { waitFor } from '../support/events';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { isoNow } from '../support/ocpp';
import { freePort } from '../support/ports';
import { CATCH_ALL, listening, useHelperServer } from './fixtures';

const HOUR = 3_600_000;

interface Msg<T> {
  topic: string;
  payload: T;
}

/** A wallbox that comes back after its central system restarted: it connects and says it charges. */
interface Wallbox {
  id: string;
  /** Connects, introduces itself and starts its car's transaction (the first time) or says it charges on. */
  connect(first: boolean): Promise<void>;
  close(): Promise<void>;
}

function wallbox16(port: number): Wallbox {
  let client = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'WB-16');
  return {
    id: 'WB-16',
    async connect(first) {
      if (!first) client = rpcChargePoint(`ws://127.0.0.1:${port}/`, 'WB-16');
      await client.connect();
      await client.call('BootNotification', { chargePointVendor: 'ampflow', chargePointModel: 'test' });
      if (first)
        await client.call('StartTransaction', {
          connectorId: 1,
          idTag: 'TAG-1',
          meterStart: 0,
          timestamp: isoNow(),
        });
      await client.call('StatusNotification', {
        connectorId: 1,
        errorCode: 'NoError',
        status: 'SuspendedEVSE',
      });
    },
    close: () => client.close({ force: true }).then(() => undefined),
  };
}

function station201(port: number): Wallbox {
  const station = new Charger201({ url: `ws://127.0.0.1:${port}/`, identity: 'WB-201' });
  return {
    id: 'WB-201',
    async connect(first) {
      await station.connect();
      assert.equal((await station.boot()).status, 'Accepted');
      if (first) await station.startTransaction(1, 'TAG-1');
      await station.status(1, 'Occupied');
    },
    close: () => station.close(),
  };
}

/**
 * Issue 48: a plan, a price list and a mode set by message stay in force after a full deploy of
 * another tab and after a restart (Node-RED stops the flows, the next start reads the load
 * manager's record under its user directory), with an OCPP 1.6 wallbox and a 2.0.1 station whose
 * transaction the central system keeps (its data directory) across both.
 */
describe(`ampflow-dlm node: what the flow sent survives a restart and a full deploy (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'ampflow-kept-'));
    helper.settings({ userDir });
  });
  afterEach(() => {
    helper.settings({ userDir: undefined });
    rmSync(userDir, { recursive: true, force: true });
  });

  for (const [version, make] of [
    ['1.6', wallbox16],
    ['2.0.1', station201],
  ] as const) {
    it(`OCPP ${version}: the plan, the prices and the mode are in force again after a full deploy of another tab and a restart`, async () => {
      const port = await freePort();
      const charger = make(port);
      const flows = (otherName: string) => [
        { id: 'tab', type: 'tab', label: 'charging' },
        { id: 'other', type: 'tab', label: 'something else' },
        centralSystemConfig(port, { dataDirectory: join(userDir, 'cs') }),
        {
          id: 'dlm',
          type: 'ampflow-dlm',
          z: 'tab',
          x: 100,
          y: 100,
          centralSystem: 'cs',
          site: JSON.stringify({
            circuits: [{ id: 'home', limitA: 25, fallback: { otherLoadA: 5 } }],
            connectors: [{ chargePointId: charger.id, circuit: 'home', maxA: 16, mode: 'fast' }],
          }),
          wires: [['setPoints'], []],
        },
        { id: 'setPoints', type: 'helper', z: 'tab', x: 300, y: 100 },
        ...CATCH_ALL.map((node) => ({ ...node, z: 'tab', x: 100, y: 200 })),
        { id: 'note', type: 'helper', name: otherName, z: 'other', x: 100, y: 100 },
      ];
      const planned = (setPoint: SetPoint) =>
        setPoint.chargePointId === charger.id &&
        /^next: .*0\.10\/kWh.*; 5\.0 kWh planned/.test(setPoint.reason);
      /** Waits for the set-point of the plan, with the wallbox connected (anew after a restart). */
      const inForce = async (first: boolean) => {
        const sent = waitFor<[Msg<SetPoint>]>(helper.getNode('setPoints'), 'input', (msg: Msg<SetPoint>) =>
          planned(msg.payload),
        );
        await listening(helper.getNode('cs') as CentralSystemNode);
        await charger.connect(first);
        const [msg] = await sent;
        assert.equal(msg.payload.limitA, 0, 'no current at 0.30 while 0.10 comes');
      };
      try {
        await helper.load([centralSystemNode, dlmNode], flows('v1') as never);
        const dlm = helper.getNode('dlm');
        const now = Date.now();
        const caught: unknown[] = [];
        helper.getNode('caught').on('input', (msg: unknown) => caught.push(msg));
        // Before the car: what the flow sends is taken without it.
        dlm.receive({ topic: 'mode', payload: { chargePointId: charger.id, mode: 'price' } });
        dlm.receive({
          topic: 'prices',
          payload: [0.3, 0.1].map((price, i) => ({
            start: now + i * HOUR,
            end: now + (i + 1) * HOUR,
            price,
          })),
        });
        dlm.receive({
          topic: 'plan',
          payload: { chargePointId: charger.id, energyKWh: 5, departure: now + 2 * HOUR },
        });
        await inForce(true);

        // A full deploy of the other tab restarts every node, the load manager and its central system too.
        await charger.close();
        await helper.setFlows(flows('v2') as never, 'full');
        await inForce(false);

        // Node-RED stopped and started again on the same user directory.
        await charger.close();
        await helper.unload();
        await helper.load([centralSystemNode, dlmNode], flows('v2') as never);
        await inForce(false);
        assert.deepEqual(caught, []);
      } finally {
        await charger.close().catch(() => undefined);
      }
    });
  }
});
