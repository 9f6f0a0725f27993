import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulatedChargePoint, TransactionEvent } from '../../lib/sim/charge-point';
import { screenshot, useBrowserSuite } from '../support/browser';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  [setting: string]: unknown;
}

/**
 * The example "Facility dashboard" in a real Node-RED with FlowFuse Dashboard 2.0, two simulated
 * chargers dialling its central system, and the dashboard page in headless Chromium.
 */
describe(`example "Facility dashboard" in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, chargers, page, errors } = useBrowserSuite({
    flow: (ocppPort) => {
      const flow = JSON.parse(
        readFileSync(join(repoRoot, 'examples', 'Facility dashboard.json'), 'utf8'),
      ) as FlowNode[];
      for (const node of flow) if (node.type === 'ampflow-central-system') node.port = String(ocppPort);
      return flow;
    },
    chargers: ['CP-1', 'CP-2'],
    chargerOptions: { configuration: { MeterValueSampleInterval: 1 } },
    // A browser in another time zone than the machine's (UTC): the records show its local time.
    page: { height: 1000, timezoneId: 'Europe/Berlin' },
  });

  before(async () => {
    const cp1 = chargers[0] as SimulatedChargePoint;
    cp1.plugIn(1, { phases: 3, maxCurrentA: 16 });
    const assigned = waitFor<[TransactionEvent]>(cp1, 'transactionId', () => true, 10000);
    await cp1.startTransaction(1, 'TAG-1');
    await assigned;
    await page().goto(`${nodeRed().url}/dashboard`);
  });

  const row = (connector: string) => page().locator(`tr.ampflow-connector[data-connector="${connector}"]`);

  it('deploys without a warning or an error', () => {
    assert.deepEqual(nodeRed().problems(), []);
  });

  it('shows every simulated charger with its status, power, session energy and id tag', async () => {
    await row('CP-1/1').locator('.ampflow-status', { hasText: 'Charging' }).waitFor();
    await row('CP-2/1').locator('.ampflow-status', { hasText: 'Available' }).waitFor();
    assert.equal((await row('CP-1/1').locator('.ampflow-idtag').innerText()).trim(), 'TAG-1');
    await page().waitForFunction(() =>
      /kW$/.test(
        document.querySelector('tr[data-connector="CP-1/1"] .ampflow-power')?.textContent?.trim() ?? '',
      ),
    );
    // The circuits of the load manager's summary, per phase against the limit.
    await page().locator('.ampflow-circuit[data-circuit="carpark"] .ampflow-phase').first().waitFor();
    assert.equal(await page().locator('.ampflow-circuit[data-circuit="carpark"] .ampflow-phase').count(), 3);
    assert.match(await page().locator('.ampflow-circuit[data-circuit="main"]').innerText(), /\/ 63 A/);
    assert.ok(await page().locator('canvas').count(), 'no chart');
    await screenshot(page(), 'dashboard');
    assert.deepEqual(errors(), []);
  });

  it('updates the values as the charger sends meter values', async () => {
    const energy = row('CP-1/1').locator('.ampflow-energy');
    await page().waitForFunction(() =>
      /\d/.test(document.querySelector('tr[data-connector="CP-1/1"] .ampflow-energy')?.textContent ?? ''),
    );
    const first = (await energy.innerText()).trim();
    await page().waitForFunction(
      (before) => {
        const now = document
          .querySelector('tr[data-connector="CP-1/1"] .ampflow-energy')
          ?.textContent?.trim();
        return !!now && now !== before;
      },
      first,
      { timeout: 30000 },
    );
    assert.notEqual((await energy.innerText()).trim(), first);
  });

  it('stops the session on the charger when Remote stop is clicked, and lists its charge data record', async () => {
    const cp1 = chargers[0] as SimulatedChargePoint;
    const stopped = waitFor<[TransactionEvent]>(cp1, 'transactionStopped', () => true, 20000);
    await row('CP-1/1').getByRole('button', { name: 'Stop' }).click();
    const [event] = await stopped;
    assert.equal(event.reason, 'Remote');
    await page()
      .locator('.v-snackbar, .v-overlay', { hasText: 'CP-1: RemoteStopTransaction Accepted' })
      .first()
      .waitFor();
    const record = page().locator('tr.ampflow-record', { hasText: 'TAG-1' });
    await record.waitFor();
    // Times in the browser's time zone, as its own clock would show them.
    const started = record.locator('.ampflow-started');
    const iso = await started.getAttribute('data-iso');
    assert.ok(iso);
    assert.equal(
      await started.innerText(),
      await page().evaluate((at) => new Date(at).toLocaleString(), iso),
    );
    assert.equal(
      await page().evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
      'Europe/Berlin',
    );
    assert.match(await page().locator('.ampflow-zone').innerText(), /Europe\/Berlin/);
    await row('CP-1/1').locator('.ampflow-idtag', { hasText: /^$/ }).waitFor();
    const csv = await fetch(`${nodeRed().url}/ampflow/charge-data-records.csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /charge-data-records\.csv/);
    assert.match(await csv.text(), /CP-1,1,TAG-1,.*,Remote/);
    await screenshot(page(), 'dashboard-after-stop');
    assert.deepEqual(errors(), []);
    assert.deepEqual(nodeRed().problems(), []);
  });
});
