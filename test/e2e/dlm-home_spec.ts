import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { validateSite } from '../../lib/dlm/site';
import { type EditorWindow, openEditor, screenshot, useBrowserSuite } from '../support/browser';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';
import { repoRoot } from '../support/repo';

/** The site a load manager dropped from the palette starts with (its `defaults`). */
const NEW_SITE = '{"circuits":[{"id":"main","name":"grid connection","limitA":[63,63,63]}],"connectors":[]}';

/** The tariff example's load manager as 0.1.0 shipped it: no meter, no estimate, a 1 A margin. */
const OLD_TARIFF_SITE = JSON.stringify({
  voltageV: 230,
  circuits: [{ id: 'house', name: 'house connection (3 x 25 A)', limitA: 25, headroomA: 1 }],
  connectors: [
    { chargePointId: 'WALLBOX-T', circuit: 'house', minA: 6, maxA: 16, offlineA: 6, mode: 'price' },
  ],
});

/** Two circuits (the full view), an inverter meter node and readings from the flow. */
const PV_SITE = JSON.stringify({
  circuits: [
    { id: 'main', limitA: 35, meter: { source: 'grid meter', node: 'm-grid', location: 'includesChargers' } },
    { id: 'garage', parent: 'main', limitA: 20 },
  ],
  connectors: [{ chargePointId: 'CP-1', circuit: 'garage', mode: 'pv' }],
  pv: { inverterSource: ['pv inverter', 'roof/mqtt'], batterySource: 'battery/mqtt' },
});

/** One circuit, but two inverters, one read from the flow: the home view cannot show them. */
const ROOF_SITE = JSON.stringify({
  circuits: [
    { id: 'main', limitA: 25, meter: { source: 'grid meter', node: 'm-grid', location: 'includesChargers' } },
  ],
  connectors: [{ chargePointId: 'CP-1', circuit: 'main', mode: 'pv' }],
  pv: { inverterSource: ['pv inverter', 'roof/mqtt'] },
});

/** The example's load manager and its meter nodes, on this tab (wired nowhere). */
function exampleNodes(example: string) {
  const flow = JSON.parse(readFileSync(join(repoRoot, 'examples', `${example}.json`), 'utf8')) as {
    id: string;
    type: string;
  }[];
  return flow
    .filter((node) => node.type === 'ampflow-dlm' || node.type === 'ampflow-meter')
    .map((node) => ({
      ...node,
      id: `ex-${node.id}`,
      z: 'f1',
      bus: 'bus1',
      centralSystem: 'cs1',
      wires: node.type === 'ampflow-dlm' ? [[], []] : [[]],
    }));
}

function exampleSite(example: string): string {
  const flow = JSON.parse(readFileSync(join(repoRoot, 'examples', `${example}.json`), 'utf8')) as {
    type: string;
    site?: string;
  }[];
  const dlm = flow.find((node) => node.type === 'ampflow-dlm');
  if (!dlm?.site) throw new Error(`${example}: no load manager`);
  return dlm.site;
}

const meter = (id: string, name: string, y: number) => ({
  id,
  type: 'ampflow-meter',
  z: 'f1',
  name,
  bus: 'bus1',
  profile: 'eastron-sdm630',
  pollIntervalS: '0',
  x: 100,
  y,
  wires: [['dlm1']],
});
const loadManager = (id: string, site: string, y: number) => ({
  id,
  type: 'ampflow-dlm',
  z: 'f1',
  name: '',
  site,
  x: 300,
  y,
  wires: [[], []],
});

/**
 * Issue 48 item 5: a home is set up in the load manager's dialog as a home owner would, in the
 * home view (main fuse, grid meter, inverter, wallbox; the rest defaults behind "More settings"),
 * with every field filled counted; item 8: Check the site names a house that nobody measures.
 */
describe(`a home in the load manager's dialog (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, page, errors } = useBrowserSuite({
    flow: (ocppPort) => [
      { id: 'f1', type: 'tab', label: 'home' },
      centralSystemConfig(ocppPort, { id: 'cs1', name: 'Home' }),
      {
        id: 'bus1',
        type: 'ampflow-modbus-bus',
        name: 'meters',
        transport: 'tcp',
        host: '127.0.0.1',
        port: '1',
      },
      meter('m-grid', 'grid meter', 60),
      meter('m-pv', 'pv inverter', 120),
      // As dropped from the palette: the new node's site, no central system chosen.
      loadManager('dlm1', NEW_SITE, 60),
      loadManager('dlm-old', OLD_TARIFF_SITE, 200),
      loadManager('dlm-tariff', exampleSite('Scenario - Home tariff and departure plan'), 260),
      loadManager('dlm-pv', PV_SITE, 320),
      loadManager('dlm-roof', ROOF_SITE, 380),
      ...exampleNodes('Scenario - Home PV surplus charging'),
    ],
    // The wallbox, dialled in: offered by name in the home view.
    chargers: ['WALLBOX-1'],
    chargerOptions: { connectors: 1 },
  });

  before(async () => {
    await openEditor(page(), nodeRed().url, 'ampflow-dlm');
  });

  async function openDialog(id: string) {
    await page().evaluate((id) => {
      const RED = (window as unknown as EditorWindow).RED;
      RED.editor.edit(RED.nodes.node(id));
    }, id);
    await page().locator('#ampflow-dlm-view').waitFor();
  }

  async function closeDialog(button: 'ok' | 'cancel') {
    await page().locator(`#node-dialog-${button}`).click();
    await page().locator('#node-dialog-cancel').waitFor({ state: 'detached' });
  }

  /** The Settings tab (a click now and then passes while the dialog is laid out: dlm-dialog_spec's showTab). */
  async function showSettings() {
    for (let attempt = 1; ; attempt++) {
      await page().locator('#red-ui-tab-ampflow-dlm-tab-settings a').click();
      try {
        await page().locator('#ampflow-dlm-pv-inverter-node').waitFor({ state: 'visible', timeout: 2000 });
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  /** Check the site's lines, once it has answered. */
  async function checkTheSite(): Promise<string[]> {
    await page().locator('#ampflow-dlm-check').click();
    await page().locator('#ampflow-dlm-problems div').first().waitFor();
    return page()
      .locator('#ampflow-dlm-problems div')
      .evaluateAll((lines) => lines.map((line) => (line as HTMLElement).innerText));
  }

  it('sets up a home in the home view with 7 fields filled, and deploys it: the load manager runs with that site', async () => {
    await openDialog('dlm1');
    // A new load manager opens in the home view; the circuits, connectors and settings are behind "More settings".
    assert.equal(await page().locator('#ampflow-dlm-view').inputValue(), 'home');
    assert.equal(await page().locator('#ampflow-dlm-home').isVisible(), true);
    assert.equal(await page().locator('#ampflow-dlm-tabs').isVisible(), false);
    let filled = 0;
    const fill = async (field: Locator, value: string) => {
      await field.fill(value);
      filled++;
    };
    const choose = async (field: Locator, value: string) => {
      await field.selectOption(value);
      filled++;
    };
    await choose(page().locator('#node-input-centralSystem'), 'cs1');
    // The new site's 63 A is not taken for the house's fuse: asked.
    assert.equal(await page().locator('#ampflow-dlm-home-fuse').inputValue(), '');
    await fill(page().locator('#ampflow-dlm-home-fuse'), '25');
    // The meters are lists of the workspace's meter nodes, not free text.
    // (the example's two meter nodes are on the workspace too)
    assert.deepEqual(await page().locator('#ampflow-dlm-home-meter option').allInnerTexts(), [
      'no meter',
      'grid meter',
      'pv inverter',
      'grid-meter',
      'PV inverter',
    ]);
    await choose(page().locator('#ampflow-dlm-home-meter'), 'm-grid');
    // With a grid meter the house is measured: no estimate asked.
    assert.equal(await page().locator('#ampflow-dlm-home-other').isVisible(), false);
    await choose(page().locator('#ampflow-dlm-home-inverter'), 'm-pv');
    // The chargers the chosen central system knows are offered to pick from.
    await page().locator('#ampflow-dlm-seen-ids option[value="WALLBOX-1"]').waitFor({ state: 'attached' });
    const wallbox = page().locator('#ampflow-dlm-home-wallboxes .ampflow-dlm-home-wallbox').first();
    assert.equal(await wallbox.locator('.ampflow-dlm-h-cp').getAttribute('list'), 'ampflow-dlm-seen-ids');
    await fill(wallbox.locator('.ampflow-dlm-h-cp'), 'WALLBOX-1');
    await fill(wallbox.locator('.ampflow-dlm-h-max'), '16');
    await choose(wallbox.locator('.ampflow-dlm-h-mode'), 'pv');
    assert.ok(filled <= 8, `${filled} fields filled`);
    assert.equal(filled, 7);
    assert.deepEqual(await checkTheSite(), ['No problems.']);
    await screenshot(page(), 'dlm-dialog-home');
    // "More settings" shows what the home view wrote, in the full view's rows.
    await page().locator('#ampflow-dlm-more').click();
    assert.equal(await page().locator('#ampflow-dlm-tabs').isVisible(), true);
    assert.equal(
      await page().locator('#ampflow-dlm-circuits .ampflow-dlm-c-meter-node').inputValue(),
      'm-grid',
    );
    assert.equal(await page().locator('#ampflow-dlm-pv-inverter-node').inputValue(), 'm-pv');
    await page().locator('#ampflow-dlm-view').selectOption('home');
    await closeDialog('ok');

    const started = nodeRed().process.nextLine(/\[info\] Started flows/, 30000);
    await page().locator('#red-ui-header-button-deploy').click();
    await started;
    const deployed = await page().evaluate(() =>
      fetch('flows', { headers: { 'Node-RED-API-Version': 'v1' } }).then((r) => r.json()),
    );
    const node = (deployed as { id: string; site: string; view: string; centralSystem: string }[]).find(
      (n) => n.id === 'dlm1',
    );
    assert.ok(node);
    assert.equal(node.view, 'home');
    assert.equal(node.centralSystem, 'cs1');
    const site = JSON.parse(node.site);
    assert.deepEqual(site.circuits, [
      {
        id: 'main',
        name: 'grid connection',
        limitA: 25,
        meter: { source: 'grid meter', node: 'm-grid', location: 'includesChargers' },
      },
    ]);
    assert.deepEqual(site.connectors, [
      { chargePointId: 'WALLBOX-1', circuit: 'main', phaseRotation: 'RST', phases: 3, maxA: 16, mode: 'pv' },
    ]);
    assert.deepEqual(site.pv, { inverterSource: 'pv inverter' });
    const validated = validateSite(site);
    assert.deepEqual([validated.problems, validated.warnings], [[], []]);
    // Running with that site: it waits for its grid meter (no reading yet), the status the editor shows.
    await page().waitForFunction(
      () => (window as unknown as EditorWindow).RED.nodes.node('dlm1').status?.text === 'waiting for reading',
    );
    // And it manages the wallbox once it has dialled in again (the deploy restarted the central system).
    await page().waitForFunction(
      async () => {
        const systems = await fetch('ampflow-central-system/chargers', { cache: 'no-store' }).then((r) =>
          r.json(),
        );
        const cp = systems
          .find((cs: { id: string }) => cs.id === 'cs1')
          ?.chargePoints.find((c: { chargePointId: string }) => c.chargePointId === 'WALLBOX-1');
        return cp?.connected === true && cp.managedBy.includes('dlm1') && cp.decisions.length === 1;
      },
      undefined,
      { polling: 200 },
    );
    assert.deepEqual(
      nodeRed()
        .problems()
        .filter((line) => /ampflow-dlm:dlm1|\[dlm1\]/.test(line)),
      [],
    );
    assert.deepEqual(errors(), []);
  });

  it('Check the site names the circuit whose house nobody measures, and what to set; the home view asks for the estimate', async () => {
    // The tariff example as 0.1.0 shipped it: its 25 A house counted as 0 A.
    await openDialog('dlm-old');
    assert.equal(await page().locator('#ampflow-dlm-view').inputValue(), 'all');
    const lines = await checkTheSite();
    const flagged = lines.find((line) => line.startsWith('circuit "house" fallback.otherLoadA:'));
    assert.ok(flagged, lines.join('\n'));
    assert.match(flagged, /no meter measures what else it feeds/);
    assert.match(flagged, /counted as 0 A \(headroomA keeps only 1 A free\)/);
    assert.match(flagged, /set fallback\.otherLoadA .* or give it .* a meter/);
    // In the home view the same site asks for what the house draws at most, beside "no meter".
    await page().locator('#ampflow-dlm-view').selectOption('home');
    assert.equal(await page().locator('#ampflow-dlm-home-meter').inputValue(), '');
    assert.equal(await page().locator('#ampflow-dlm-home-other').isVisible(), true);
    await page().locator('#ampflow-dlm-home-other').fill('10');
    assert.equal(
      (await checkTheSite()).some((line) => line.includes('fallback.otherLoadA')),
      false,
    );
    await closeDialog('cancel');
    // Today's example estimates its house: it passes honestly.
    await openDialog('dlm-tariff');
    assert.deepEqual(await checkTheSite(), ['No problems.']);
    await closeDialog('cancel');
    assert.deepEqual(errors(), []);
  });

  it('opens the home PV example in the home view with its fuse, meters and wallbox, and keeps the rest it sets', async () => {
    const id = await page().evaluate(() => {
      let found = '';
      (window as unknown as EditorWindow).RED.nodes.eachNode((n: { id: string; type: string }) => {
        if (n.type === 'ampflow-dlm' && n.id.startsWith('ex-')) found = n.id;
      });
      return found;
    });
    const site = () =>
      page().evaluate((id) => JSON.parse((window as unknown as EditorWindow).RED.nodes.node(id).site), id);
    const before = await site();
    await openDialog(id);
    assert.equal(await page().locator('#ampflow-dlm-view').inputValue(), 'home');
    assert.equal(await page().locator('#ampflow-dlm-home-fuse').inputValue(), '35');
    assert.equal(await page().locator('#ampflow-dlm-home-meter option:checked').innerText(), 'grid-meter');
    assert.equal(
      await page().locator('#ampflow-dlm-home-inverter option:checked').innerText(),
      'PV inverter',
    );
    const wallbox = page().locator('#ampflow-dlm-home-wallboxes .ampflow-dlm-home-wallbox');
    assert.equal(await wallbox.count(), 1);
    assert.equal(await wallbox.locator('.ampflow-dlm-h-cp').inputValue(), 'WALLBOX');
    assert.equal(await wallbox.locator('.ampflow-dlm-h-mode').inputValue(), 'pv');
    // A change in the home view keeps what only the full view shows (headroom, estimate, stale time, PV delays).
    await wallbox.locator('.ampflow-dlm-h-max').fill('11');
    await closeDialog('ok');
    const after = await site();
    const { node: _node, ...meter } = after.circuits[0].meter;
    assert.deepEqual({ ...after.circuits[0], meter }, before.circuits[0]);
    assert.equal(after.connectors[0].maxA, 11);
    assert.equal(after.connectors[0].offlineA, 6);
    assert.deepEqual(after.pv, before.pv);
    assert.deepEqual(errors(), []);
  });

  it('chooses the PV inverter and the battery on the Settings tab among the meter nodes; readings from the flow keep their sources', async () => {
    const saved = () =>
      page().evaluate(() => JSON.parse((window as unknown as EditorWindow).RED.nodes.node('dlm-pv').site).pv);
    await openDialog('dlm-pv');
    // Two circuits: a car park's view, and home is not offered.
    assert.equal(await page().locator('#ampflow-dlm-view').inputValue(), 'all');
    assert.equal(await page().locator('#ampflow-dlm-view option[value="home"]').isDisabled(), true);
    await showSettings();
    assert.equal(await page().locator('#ampflow-dlm-pv-inverter-node').inputValue(), '_source');
    assert.equal(await page().locator('#ampflow-dlm-pv-inverter').inputValue(), 'pv inverter, roof/mqtt');
    assert.equal(await page().locator('#ampflow-dlm-pv-battery-node').inputValue(), '_source');
    await closeDialog('ok');
    assert.deepEqual(await saved(), {
      inverterSource: ['pv inverter', 'roof/mqtt'],
      batterySource: 'battery/mqtt',
    });
    await openDialog('dlm-pv');
    await showSettings();
    await page().locator('#ampflow-dlm-pv-inverter-node').selectOption('m-pv');
    assert.equal(await page().locator('#ampflow-dlm-pv-inverter').isVisible(), false);
    await page().locator('#ampflow-dlm-pv-battery-node').selectOption('');
    await closeDialog('ok');
    assert.deepEqual(await saved(), { inverterSource: 'pv inverter' });
    // One circuit, but an inverter read from the flow: not offered the home view either (it would lose it).
    await openDialog('dlm-roof');
    assert.equal(await page().locator('#ampflow-dlm-view').inputValue(), 'all');
    assert.equal(await page().locator('#ampflow-dlm-view option[value="home"]').isDisabled(), true);
    await closeDialog('cancel');
    assert.deepEqual(errors(), []);
  });
});
