import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { english, sayReason } from '../../lib/dlm/words';
import type { SimulatedChargePoint, TransactionEvent } from '../../sim/charge-point';
import { openPage, screenshot, useFacilityDashboard } from '../support/browser';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { englishWordsIn, everyKey } from '../support/words';

/**
 * In the page: `charts`, the ECharts instances of the dashboard, found in its Vue tree from the root's
 * vnode. A string: the test's compiler names the functions of a function given here (__name),
 * which the page does not have.
 */
const CHARTS_OF_PAGE = `const charts = [];
const seen = new Set();
const walk = function (vnode) {
  if (!vnode || typeof vnode !== 'object' || seen.has(vnode)) return;
  seen.add(vnode);
  const proxy = vnode.component && vnode.component.proxy;
  const chart = proxy && proxy.chart;
  if (chart && typeof chart.getOption === 'function') charts.push(chart);
  if (vnode.component) walk(vnode.component.subTree);
  if (vnode.suspense) walk(vnode.suspense.activeBranch);
  for (const list of [vnode.children, vnode.dynamicChildren])
    if (Array.isArray(list)) for (const child of list) walk(child);
};
walk(document.querySelector('#app')._vnode);`;

/**
 * In the page: a command sent as the chargers' table sends it (its `command` method, found in the
 * Vue tree), to a charger and with a payload no button offers (a refusal, a charger not connected).
 */
function commandFromPage(action: string, chargePointId: string, payload: unknown): string {
  return `(() => {
    const seen = new Set();
    let table;
    const walk = function (vnode) {
      if (table || !vnode || typeof vnode !== 'object' || seen.has(vnode)) return;
      seen.add(vnode);
      const proxy = vnode.component && vnode.component.proxy;
      if (proxy && typeof proxy.command === 'function' && Array.isArray(proxy.tickets)) table = proxy;
      if (vnode.component) walk(vnode.component.subTree);
      if (vnode.suspense) walk(vnode.suspense.activeBranch);
      for (const list of [vnode.children, vnode.dynamicChildren])
        if (Array.isArray(list)) for (const child of list) walk(child);
    };
    walk(document.querySelector('#app')._vnode);
    table.command(${JSON.stringify(action)}, { chargePointId: ${JSON.stringify(chargePointId)} }, ${JSON.stringify(payload)});
  })()`;
}

/** The command's notice once it says `expected`, with its button's words; the notice's text. */
async function noticeIn(page: Page, expected: string): Promise<string> {
  await page.locator('.ampflow-notice-text', { hasText: expected }).waitFor();
  const text = (await page.locator('.ampflow-notice-text').innerText()).trim();
  assert.equal(text, expected);
  // Its words, not as CSS shows them (a button in capitals).
  assert.equal((await page.locator('.ampflow-notice-close').textContent())?.trim(), 'Schließen');
  return text;
}

/**
 * Every reason's part the load manager can make (each key of its catalogue with sample parameters,
 * and every OCPP state as a reason names it), one connector each under "why this current": a
 * summary as the load manager's output sends it.
 */
const EVERY_REASON = everyKey();
const everyReasonSummary = {
  at: new Date(0).toISOString(),
  circuits: [],
  problems: [],
  connectors: EVERY_REASON.map((said, i) => ({
    chargePointId: 'WB-K',
    connectorId: i + 1,
    limitA: 0,
    reason: english([said]),
    reasonWords: [said],
  })),
};

/**
 * The example "Facility dashboard" in a real Node-RED with FlowFuse Dashboard 2.0, two simulated
 * chargers dialling its central system, and the dashboard page in headless Chromium.
 */
describe(`example "Facility dashboard" in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, chargers, page, errors } = useFacilityDashboard(
    (flow) => {
      for (const node of flow) {
        if (node.type !== 'ampflow-central-system') continue;
        // A local list instead of the example's "accept every badge": a stranger's badge is refused.
        node.authorizationPolicy = 'localList';
        node.idTags = ['TAG-1', 'TAG-2'].map((idTag) => ({ idTag, status: 'Accepted' }));
      }
      // Two buttons of the editor (POST /inject/<id>): CP-1 set to mode off (the load manager
      // pauses it), and a summary of a site that exports 2.5 kW through the chart's function.
      const inject = (id: string, topic: string, payload: unknown, to: string) =>
        flow.push({
          id,
          type: 'inject',
          z: 'f4c1d2a000000001',
          name: id,
          props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
          topic,
          payload: JSON.stringify(payload),
          payloadType: 'json',
          repeat: '',
          once: false,
          // With a place on the canvas: Node-RED takes a node without x and y for a config node.
          x: 100,
          y: 900,
          wires: [[to]],
        });
      inject('pause-cp1', 'mode', { chargePointId: 'CP-1', connectorId: 1, mode: 'off' }, 'f4c1d2a000000018');
      // Two chargers behind an operator's backend (lib/upstream/link.ts LinkState), to the
      // chargers' table as ListConnectors rows.
      inject(
        'backend-rows',
        'rows',
        ['open', 'connecting'].map((state, i) => ({
          chargePointId: `UP-${i + 1}`,
          connectorId: 1,
          online: true,
          status: 'Available',
          backend: { state, queued: 0 },
        })),
        'f4c1d2a00000000e',
      );
      // Every reason's part, to the circuits group's "why this current" (issue 48).
      inject('every-reason', 'summary', everyReasonSummary, 'f4c1d2a00000001a');
      inject(
        'export-summary',
        'summary',
        { site: { basis: 'measured', gridW: -2500, chargersW: 0 } },
        'f4c1d2a00000001e',
      );
    },
    // A browser in another time zone than the machine's (UTC): the records show its local time.
    { height: 1000, timezoneId: 'Europe/Berlin' },
  );

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
    // A site without prices and without a connector in mode "price": no prices and plans part.
    assert.equal(await page().locator('.ampflow-prices').count(), 0);
    await screenshot(page(), 'dashboard');
    assert.deepEqual(errors(), []);
  });

  it("shows what the site draws from the grid (the meter of the other loads plus the chargers), within the breaker's maximum, and amperes per phase beside kW", async () => {
    // The charger's draw reaches the load manager's summary: its row shows amperes per phase.
    await page().waitForFunction(() => {
      const amps = document
        .querySelector('tr[data-connector="CP-1/1"] .ampflow-current')
        ?.getAttribute('data-amps');
      return !!amps && amps.split('/').filter((a) => Number(a) > 1).length === 3;
    });
    const site = page().locator('.ampflow-site[data-basis="measured"]');
    await site.waitFor();
    const figures = await page().evaluate(() => {
      const element = document.querySelector('.ampflow-site');
      const measured = document.querySelector('.ampflow-circuit[data-circuit="main"] .ampflow-measured');
      return {
        w: Number(element?.getAttribute('data-w')),
        maxW: Number(element?.getAttribute('data-max-w')),
        measured: measured?.textContent ?? '',
      };
    });
    // The example's grid connection: 63 A on three phases at 230 V.
    assert.equal(figures.maxW, 63 * 3 * 230);
    assert.ok(figures.w > 0 && figures.w <= figures.maxW, `site load ${figures.w} W`);
    // The grid meter sees the other loads only (per phase, A): what it measures is shown too.
    assert.match(figures.measured, /L1 [\d.]+ · L2 [\d.]+ · L3 [\d.]+ A/);
    assert.match(await site.innerText(), /kW/);
  });

  it('reads German in a German browser', async () => {
    const browser = page().context().browser();
    assert.ok(browser);
    const { page: german, errors: germanErrors } = await openPage(browser, { height: 1000, locale: 'de-DE' });
    try {
      await german.goto(`${nodeRed().url}/dashboard`);
      const charging = german.locator('tr.ampflow-connector[data-connector="CP-1/1"] .ampflow-status', {
        hasText: 'Lädt',
      });
      await charging.waitFor();
      assert.match(
        await german.locator('.ampflow-chargers thead').innerText(),
        /Ladestation\s+Status\s+Leistung\s+Strom je Phase/,
      );
      await german.locator('.ampflow-site', { hasText: 'Last am Netzanschluss' }).waitFor();
      // The groups' titles too (the groups' own, set in the editor, are hidden).
      for (const title of ['Ladestationen', 'Stromkreise', 'Leistung (W)', 'Ladevorgänge']) {
        await german.locator('.ampflow-title', { hasText: title }).waitFor();
      }
      await german.locator('.ampflow-records', { hasText: 'Noch kein beendeter Ladevorgang.' }).waitFor();
      // The confirmation too; cancelled, the session runs on.
      await german
        .locator('tr.ampflow-connector[data-connector="CP-1/1"]')
        .getByRole('button', { name: 'Stoppen' })
        .click();
      const dialog = german.locator('.ampflow-confirm');
      await dialog.getByText('Laden an CP-1 / 1 stoppen?').waitFor();
      await dialog.getByRole('button', { name: 'Abbrechen' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.ok((chargers[0] as SimulatedChargePoint).connector(1).transaction, 'the session was stopped');
      // A command's notice, worded in the page from the catalogue (issue 48): the charger's
      // answer, its refusal and a failure (a charger not connected), and the notice's button.
      await german
        .locator('tr.ampflow-connector[data-connector="CP-2/1"]')
        .getByRole('button', { name: 'Entriegeln' })
        .click();
      const notices = [await noticeIn(german, 'CP-2: UnlockConnector Entriegelt')];
      await german.evaluate(
        commandFromPage('ChangeAvailability', 'CP-2', { connectorId: 9, type: 'Inoperative' }),
      );
      notices.push(await noticeIn(german, 'CP-2: ChangeAvailability Abgelehnt'));
      await german.evaluate(commandFromPage('UnlockConnector', 'NOPE-1', { connectorId: 1 }));
      notices.push(
        await noticeIn(german, 'NOPE-1: UnlockConnector fehlgeschlagen: die Ladestation ist nicht verbunden'),
      );
      assert.deepEqual(englishWordsIn(notices.join('\n')), [], notices.join('\n'));
      await screenshot(german, 'dashboard-de-notice');
      await german.locator('.ampflow-notice-close', { hasText: 'Schließen' }).click();
      await german.locator('.ampflow-notice-text').waitFor({ state: 'hidden' });
      await screenshot(german, 'dashboard-de');
      // Every reason's part the load manager can make, worded by the dashboard from the catalogue it
      // loads (GET /ampflow/words.json) exactly as lib/dlm/words.ts says it in German, and no English
      // word among them (issue 48). The load manager's next summary replaces the injected one: sent
      // again until the page shows it, read in the page at once.
      const expected = EVERY_REASON.map((said, i) => `WB-K/${i + 1}: 0 A, ${sayReason([said], 'de')}`);
      let shown: string[] | undefined;
      for (let attempt = 0; attempt < 5 && !shown; attempt++) {
        assert.equal((await nodeRed().request('/inject/every-reason', { method: 'POST' })).status, 200);
        shown = await german
          .waitForFunction(
            `(() => {
              const rows = [...document.querySelectorAll('.ampflow-why-row[data-connector^="WB-K/"]')];
              const texts = rows.map((row) => row.textContent.trim().replace(/\\s+/g, ' '));
              return rows.length === ${expected.length} && !texts.includes(${JSON.stringify(`WB-K/1: 0 A, ${english([EVERY_REASON[0] ?? { key: 'text' }])}`)}) && texts;
            })()`,
            undefined,
            { timeout: 5000 },
          )
          .then((handle) => handle.jsonValue() as Promise<string[]>)
          .catch(() => undefined);
      }
      assert.deepEqual(shown, expected);
      assert.deepEqual(englishWordsIn((shown ?? []).join('\n')), []);
      assert.deepEqual(germanErrors, []);
    } finally {
      await german.close();
    }
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

  it('counts the session running now in the energy per day, before it has a charge data record', async () => {
    const today = await page().evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    await page().waitForFunction(
      (day) =>
        Number(
          document
            .querySelector(`.ampflow-energy-day[data-day="${day}"] .ampflow-energy-part[data-charger="CP-1"]`)
            ?.getAttribute('data-wh'),
        ) > 0,
      today,
      { timeout: 15000 },
    );
    const csv = await (await fetch(`${nodeRed().url}/ampflow/charge-data-records.csv`)).text();
    assert.doesNotMatch(csv, /CP-1,1,TAG-1/, 'the session has no record yet');
  });

  it('draws the site load below 0 while the site exports', async () => {
    const response = await nodeRed().request('/inject/export-summary', { method: 'POST' });
    assert.equal(response.status, 200);
    // The chart's own figures, from its ECharts instance (CHARTS_OF_PAGE).
    const figures = await page().waitForFunction(`(() => {
      ${CHARTS_OF_PAGE}
      for (const chart of charts) {
        const site = chart.getOption().series.find((series) => series.name === 'site load');
        if (!site || !site.data.some((point) => point[1] === -2500)) continue;
        return { min: chart.getModel().getComponent('yAxis').axis.scale.getExtent()[0] };
      }
      return false;
    })()`);
    const { min } = (await figures.jsonValue()) as { min: number };
    assert.ok(min <= -2500, `the axis starts at ${min} W: the export is not drawn`);
  });

  it('stops the session on the charger when Remote stop is clicked, and lists its charge data record', async () => {
    const cp1 = chargers[0] as SimulatedChargePoint;
    const stopped = waitFor<[TransactionEvent]>(cp1, 'transactionStopped', () => true, 20000);
    await row('CP-1/1').getByRole('button', { name: 'Stop' }).click();
    // Stop asks first, naming the charger and the badge whose session it ends.
    const dialog = page().locator('.ampflow-confirm');
    await dialog.getByText('Stop charging at CP-1 / 1?').waitFor();
    assert.match(await dialog.innerText(), /The session of TAG-1 ends now/);
    await dialog.getByRole('button', { name: 'Stop charging' }).click();
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

  it("charts the energy per day and charger from the charge data records, in the browser's days", async () => {
    // What the records say CP-1 charged (its one session, TAG-1), from the CSV download.
    const lines = (await (await fetch(`${nodeRed().url}/ampflow/charge-data-records.csv`)).text())
      .trim()
      .split('\n');
    const header = (lines[0] ?? '').split(',');
    const column = (title: string) => header.indexOf(title);
    const sessions = lines
      .slice(1)
      .map((line) => line.split(','))
      .filter((cells) => cells[column('charge point')] === 'CP-1');
    assert.equal(sessions.length, 1);
    const [session = []] = sessions;
    const recordedWh = Number(session[column('energy (Wh)')]);
    assert.ok(recordedWh > 0, 'no energy recorded');
    // The day it started, in the browser's time zone (Europe/Berlin here, the machine's is UTC).
    const day = await page().evaluate((at) => {
      const d = new Date(at);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    }, session[column('started (UTC)')] ?? '');
    const part = page().locator(
      `.ampflow-energy-day[data-day="${day}"] .ampflow-energy-part[data-charger="CP-1"]`,
    );
    await part.waitFor({ state: 'attached' });
    assert.equal(Number(await part.getAttribute('data-wh')), Math.round(recordedWh));
    assert.equal(await page().locator('.ampflow-energy-day').count(), 7);
    assert.deepEqual(errors(), []);
  });

  it('asks before Reset and Disable too; cancelled, the dialog closes; confirmed, the command goes out', async () => {
    for (const [button, title] of [
      ['Reset', 'Reset CP-2?'],
      ['Disable', 'Disable CP-2 / 1?'],
    ] as const) {
      await row('CP-2/1').getByRole('button', { name: button, exact: true }).click();
      const dialog = page().locator('.ampflow-confirm');
      await dialog.getByText(title).waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    }
    // Confirmed, the command goes out: the connector turns Unavailable (and back once enabled).
    await row('CP-2/1').getByRole('button', { name: 'Disable', exact: true }).click();
    await page().locator('.ampflow-confirm').getByRole('button', { name: 'Disable' }).click();
    await row('CP-2/1').locator('.ampflow-status', { hasText: 'Unavailable' }).waitFor();
    await row('CP-2/1').getByRole('button', { name: 'Enable' }).click();
    await row('CP-2/1').locator('.ampflow-status[data-status="Available"]').waitFor();
  });

  it('shows a charger that refuses its limit as a fault with a banner, not as charging', async function () {
    this.timeout(90000);
    const cp2 = chargers[1] as SimulatedChargePoint;
    cp2.override('SetChargingProfile', () => ({ status: 'Rejected' }));
    cp2.plugIn(1, { phases: 3, maxCurrentA: 16 });
    const assigned = waitFor<[TransactionEvent]>(cp2, 'transactionId', () => true, 10000);
    await cp2.startTransaction(1, 'TAG-2');
    await assigned;
    await page()
      .locator('tr.ampflow-connector.ampflow-fault[data-connector="CP-2/1"]')
      .waitFor({ timeout: 60000 });
    assert.equal(await row('CP-2/1').locator('.ampflow-status').getAttribute('data-status'), 'Fault');
    assert.match(await row('CP-2/1').locator('.ampflow-status').innerText(), /Fault/);
    assert.doesNotMatch(await row('CP-2/1').locator('.ampflow-status').innerText(), /Charging/);
    await page()
      .locator('.ampflow-fault-banner[data-connector="CP-2/1"]', { hasText: 'does not follow its limit' })
      .waitFor();
    await screenshot(page(), 'dashboard-fault');
    assert.deepEqual(errors(), []);
  });

  it('shows a refused badge as an alert, and the log names badge and charger', async () => {
    const cp2 = chargers[1] as SimulatedChargePoint;
    const logged = nodeRed().process.waitForLine(
      /\[warn\] .*badge STRANGER refused at CP-2 \(Authorize: Invalid\)/,
    );
    assert.equal((await cp2.authorize('STRANGER')).status, 'Invalid');
    await logged;
    const alert = page().locator('.ampflow-refused-badge[data-badge="STRANGER"][data-charger="CP-2"]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Badge STRANGER refused at CP-2 \(Invalid/);
    assert.equal(await alert.getAttribute('role'), 'alert');
  });

  it('shows an offline charger with a banner, and what is held for it as reserved, not as load', async () => {
    await (chargers[1] as SimulatedChargePoint).close();
    await row('CP-2/1').locator('.ampflow-status', { hasText: 'Offline' }).waitFor();
    const banner = page().locator('.ampflow-offline-banner[data-connector="CP-2/1"]');
    await banner.waitFor();
    assert.match(await banner.innerText(), /CP-2\/1 is offline/);
    // Its fallback is held free for it: shown as reserved, in its row and in its circuit's bars.
    await row('CP-2/1')
      .locator('.ampflow-reserved', { hasText: /\d A reserved/ })
      .waitFor();
    await page()
      .locator('.ampflow-circuit[data-circuit="carpark"] .ampflow-phase', { hasText: 'reserved' })
      .first()
      .waitFor();
    assert.equal(await row('CP-2/1').locator('.ampflow-fault').count(), 0);
  });

  it('fits a phone: the banners, the site load and the chargers without the page overflowing sideways', async () => {
    await page().setViewportSize({ width: 390, height: 844 });
    await page().reload();
    await page()
      .locator('.ampflow-offline-banner[data-connector="CP-2/1"]', { hasText: 'kept free' })
      .waitFor();
    await page().locator('.ampflow-site').waitFor();
    await page().locator('.ampflow-energy-part[data-charger="CP-1"]').waitFor({ state: 'attached' });
    const overflow = await page().evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the phone`);
    await screenshot(page(), 'dashboard-phone');
    assert.deepEqual(errors(), []);
  });

  it("colours the operator backend's chip grey while its link is open, orange while it is not", async () => {
    // The flow's next ListConnectors replaces the injected rows: sent again until shown, read at once.
    let chips: { open: string; connecting: string } | undefined;
    for (let attempt = 0; attempt < 5 && !chips; attempt++) {
      assert.equal((await nodeRed().request('/inject/backend-rows', { method: 'POST' })).status, 200);
      chips = await page()
        .waitForFunction(
          `(() => {
            const chip = (key) => document.querySelector('tr[data-connector="' + key + '"] .ampflow-backend');
            const open = chip('UP-1/1');
            const connecting = chip('UP-2/1');
            return open && connecting && { open: open.className + ' ' + open.textContent, connecting: connecting.className + ' ' + connecting.textContent };
          })()`,
          undefined,
          { timeout: 5000 },
        )
        .then((handle) => handle.jsonValue() as Promise<{ open: string; connecting: string }>)
        .catch(() => undefined);
    }
    assert.ok(chips, 'the rows were not shown');
    assert.match(chips.open, /\btext-grey\b.*backend connected/);
    assert.match(chips.connecting, /\btext-orange\b.*backend connecting/);
  });

  it("names ampflow's own pause as such, with the load manager's reason (en, de)", async () => {
    const cp1 = chargers[0] as SimulatedChargePoint;
    const response = await nodeRed().request('/inject/pause-cp1', { method: 'POST' });
    assert.equal(response.status, 200);
    // A car again at CP-1 (its session was stopped): the charger suspends it at 0 A.
    cp1.unplug(1);
    cp1.plugIn(1, { phases: 3, maxCurrentA: 16 });
    await cp1.startTransaction(1, 'TAG-1');
    await row('CP-1/1').locator('.ampflow-pause-reason', { hasText: 'mode off' }).waitFor({ timeout: 30000 });
    await row('CP-1/1').locator('.ampflow-paused', { hasText: 'Paused by ampflow' }).waitFor();
    assert.equal(await row('CP-1/1').locator('.ampflow-status').getAttribute('data-status'), 'SuspendedEVSE');
    assert.doesNotMatch(await row('CP-1/1').locator('.ampflow-status').innerText(), /by the charger/);
    const browser = page().context().browser();
    assert.ok(browser);
    const { page: german, errors: germanErrors } = await openPage(browser, { height: 1000, locale: 'de-DE' });
    try {
      await german.goto(`${nodeRed().url}/dashboard`);
      await german
        .locator('tr.ampflow-connector[data-connector="CP-1/1"] .ampflow-paused', {
          hasText: 'Pausiert (ampflow)',
        })
        .waitFor();
      // The load manager's reasons in German (issue 48): under the pause, in "why this current",
      // and no English word of the reasons' catalogue anywhere on the page, nor the chart's
      // series names (its legend is the dashboard's own, in German).
      await german.locator('.ampflow-pause-reason', { hasText: 'aus: Modus aus' }).waitFor();
      await german
        .locator('.ampflow-why-row[data-connector="CP-1/1"]', { hasText: 'aus: Modus aus' })
        .waitFor();
      await german.locator('.ampflow-legend', { hasText: 'Netzbezug' }).waitFor();
      // The names the flow gives (its page, its circuit, its meter) are the user's words, not the dashboard's.
      const text = (await german.locator('body').innerText()).replace(
        /Car park|Grid connection|grid-meter/g,
        '',
      );
      assert.deepEqual(englishWordsIn(text), [], text);
      assert.doesNotMatch(text, /site load|charging|Suspended|Available|Charging|EVDisconnected/);
      // The chart draws on a canvas: its legend, if shown, names the flow's series (English).
      const legends = await german.waitForFunction(`(() => {
        ${CHARTS_OF_PAGE}
        if (charts.length === 0) return false;
        return charts.map((chart) => {
          const option = chart.getOption();
          const legend = (option.legend || [])[0];
          return legend && legend.show !== false ? option.series.map((series) => series.name) : [];
        });
      })()`);
      assert.deepEqual((await legends.jsonValue()) as string[][], [[]]);
      await screenshot(german, 'dashboard-de-reasons');
      assert.deepEqual(germanErrors, []);
    } finally {
      await german.close();
    }
    assert.deepEqual(errors(), []);
  });
});
