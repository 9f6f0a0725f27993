import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';

import dlmNode = require('../../nodes/ampflow-dlm');

import type { SetPoint } from '../../lib/contracts';
import type { SiteSummary } from '../../lib/dlm/report/summary';
import type { SiteConfig } from '../../lib/dlm/site';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { CATCH_ALL, onTab, useHelperServer } from './fixtures';

interface Msg<T> {
  topic: string;
  payload: T;
}

const HOUR = 3_600_000;
const site: SiteConfig = {
  circuits: [{ id: 'home', limitA: 25 }],
  connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, offlineA: 6, mode: 'price' }],
};

/** The load manager node's `prices` and `plan` inputs: taken, said in the reason and summary, and bad input refused to a Catch node. */
describe(`ampflow-dlm node: prices and plans (Node-RED ${nodeRedVersion()})`, () => {
  useHelperServer();

  it('plans with the prices it is sent and refuses a bad list naming the field, keeping the old one', async () => {
    await helper.load(
      [dlmNode],
      onTab(
        { id: 'dlm', type: 'ampflow-dlm', site: JSON.stringify(site), wires: [['setPoints'], ['summary']] },
        { id: 'setPoints', type: 'helper' },
        { id: 'summary', type: 'helper' },
        ...CATCH_ALL,
      ),
    );
    const dlm = helper.getNode('dlm');
    const now = Date.now();
    // Tibber's shape: 0.30 for the hour now, 0.10 for the next.
    dlm.receive({
      topic: 'prices',
      payload: {
        today: [
          { startsAt: new Date(now - 60_000).toISOString(), total: 0.3, currency: 'EUR' },
          { startsAt: new Date(now - 60_000 + HOUR).toISOString(), total: 0.1, currency: 'EUR' },
        ],
      },
    });
    dlm.receive({
      topic: 'plan',
      payload: { chargePointId: 'WB-1', energyKWh: 5, departure: now + 2 * HOUR },
    });
    const planned = waitFor<[Msg<SetPoint>]>(helper.getNode('setPoints'), 'input', (msg: Msg<SetPoint>) =>
      msg.payload.reason.startsWith('next: '),
    );
    dlm.receive({
      topic: 'WB-1/ConnectorState',
      payload: {
        chargePointId: 'WB-1',
        connectorId: 1,
        online: true,
        status: 'SuspendedEVSE',
        transaction: { transactionId: 1, idTag: 'TAG', startedAt: new Date().toISOString(), meterStartWh: 0 },
      },
    });
    const [setPoint] = await planned;
    assert.equal(setPoint.payload.limitA, 0);
    assert.match(
      setPoint.payload.reason,
      /^next: \d\d:\d\d at 0\.10 €\/kWh, the cheapest 30 min before \d\d:\d\d; 5\.0 kWh planned/,
    );

    const caught = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({ topic: 'prices', payload: [{ start: now, end: now + HOUR, price: 'cheap' }] });
    assert.equal((await caught)[0].error.message, 'Error: prices[0].price: "cheap" is not a number');
    const badPlan = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({ topic: 'plan', payload: { chargePointId: 'WB-1', energyKWh: 5 } });
    assert.equal((await badPlan)[0].error.message, 'Error: plan departure is missing');
    // Yesterday's list and a departure already gone are refused the same way (issue 48).
    const pastPrices = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({
      topic: 'prices',
      payload: [{ start: now - 25 * HOUR, end: now - 24 * HOUR, price: 0.05 }],
    });
    assert.match((await pastPrices)[0].error.message, /^Error: prices: the whole list is past /);
    const pastPlan = waitFor<[{ error: { message: string } }]>(helper.getNode('caught'), 'input');
    dlm.receive({ topic: 'plan', payload: { chargePointId: 'WB-1', energyKWh: 9, departure: now - HOUR } });
    assert.match(
      (await pastPlan)[0].error.message,
      /^Error: plan departure: .* is past: send the next departure/,
    );
    // The prices it had are kept.
    const summary = waitFor<[Msg<SiteSummary>]>(helper.getNode('summary'), 'input');
    dlm.receive({ topic: 'summary' });
    const [msg] = await summary;
    assert.equal(msg.payload.prices?.now, 0.3);
    assert.equal(msg.payload.connectors[0]?.mode, 'price');
    assert.match(msg.payload.connectors[0]?.plan ?? '', /^next: .*; 5\.0 kWh planned/);
  });
});
