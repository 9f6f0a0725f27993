import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulatedChargePoint, TransactionEvent } from '../../sim/charge-point';
import { type EditorWindow, openEditor, screenshot, useBrowserSuite } from '../support/browser';
import { Cars201 } from '../support/car201';
import { Charger201, type RequestOf } from '../support/charger201';
import { until as untilCalled, waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { describeDraws, lineA, until, type WatchedCharger, watchLine } from '../support/peer-site';
import { repoRoot } from '../support/repo';

interface FlowNode {
  id: string;
  type: string;
  [setting: string]: unknown;
}

type SetChargingProfile201 = RequestOf<'SetChargingProfile'>;

/** The car park circuit's limit per phase: two 32 A cars on it must share it. */
const LIMIT_A = 32;
const CS_ID = 'f4c1d2a000000002';

/**
 * The example "Facility dashboard" (central system, load manager, charging-profile node, FlowFuse
 * Dashboard 2.0) in a real Node-RED, its car park circuit shared by a simulated OCPP 1.6 charger
 * and an OCPP 2.0.1 charging station (charger201.ts, started here): the editor's Chargers sidebar
 * and the dashboard show both, the load manager limits both, the 2.0.1 session ends in the CDRs.
 */
describe(`an OCPP 2.0.1 charger beside a 1.6 one in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  let charger: Charger201 | undefined;
  let watch: ReturnType<typeof watchLine> | undefined;
  // Registered before the suite's hooks, so it runs while the central system still answers.
  after(async () => {
    watch?.stop();
    await charger?.close();
  });
  const { nodeRed, ocppPort, chargers, page, errors } = useBrowserSuite({
    flow: (ocppPort) => {
      const flow = JSON.parse(
        readFileSync(join(repoRoot, 'examples', 'Facility dashboard.json'), 'utf8'),
      ) as FlowNode[];
      for (const node of flow) {
        if (node.type === 'ampflow-central-system') node.port = String(ocppPort);
        if (node.type === 'ampflow-charging-profile') node.increaseIntervalS = '0';
        if (node.type !== 'ampflow-dlm') continue;
        const site = JSON.parse(node.site as string);
        site.circuits.find((c: { id: string }) => c.id === 'carpark').limitA = [LIMIT_A, LIMIT_A, LIMIT_A];
        site.connectors = ['CP-16', 'CS201-1'].map((chargePointId) => ({
          chargePointId,
          circuit: 'carpark',
          maxA: 32,
          // What they draw if ampflow stops must fit the 32 A line (Check the site warns otherwise).
          offlineA: 6,
        }));
        // Raised as soon as the cars follow (by default 30 s between raises, 0.5 A/s).
        site.control = { minUpdateIntervalMs: 0, rampUpAPerS: 1000 };
        node.site = JSON.stringify(site);
      }
      return flow;
    },
    chargers: ['CP-16'],
    chargerOptions: {
      configuration: { MeterValueSampleInterval: 1 },
      chargePointVendor: 'Bender',
      chargePointModel: 'CC613',
    },
    page: { height: 1000 },
  });
  let cars: Cars201;
  let transactionId = '';
  /** The most any phase of the circuit carried at any change of a car's draw. */
  const highestA = () => watch?.highestA ?? Number.NaN;
  const cp16 = () => chargers[0] as SimulatedChargePoint;
  /** The 1.6 charger as the line helpers watch one: its draw changes when it answers a profile. */
  const sim16: WatchedCharger = {
    identity: 'CP-16',
    hasConnector: (id) => id === 1,
    drawA: () => cp16().connector(1).currentA,
    offeredA: () => cp16().offeredCurrentA(1),
    statusOf: () => cp16().connector(1).status,
    on: (event, listener) => cp16().on(event === 'change' ? 'replied' : 'sent', listener),
    off: (event, listener) => cp16().off(event === 'change' ? 'replied' : 'sent', listener),
  };
  const line = () => [sim16, cars];

  before(async () => {
    charger = new Charger201({
      url: `ws://127.0.0.1:${ocppPort()}/`,
      identity: 'CS201-1',
      vendorName: 'Alfen',
      model: 'Eve Single Pro',
    });
    await charger.connect();
    assert.equal(charger.protocol, 'ocpp2.0.1');
    assert.equal((await charger.boot()).status, 'Accepted');
    await charger.status(1, 'Available');
    // A station boots long before its first car: the car comes once the central system has set it
    // up (its fallback on EVSE 0 taken). Without a profile the station offers its car its own 32 A,
    // above the 6 A the site says it draws on its own, and a car that came 0.1 s after the boot
    // (a slow CI machine) was caught above its set-point and held there: 62 A on the line for a
    // moment, then counted at 32 A while the station reported nothing more.
    const station = charger;
    await untilCalled(
      () =>
        station.received.some(
          ({ action, payload, response }) =>
            action === 'SetChargingProfile' &&
            (payload as SetChargingProfile201).evseId === 0 &&
            (response as { status?: string } | undefined)?.status === 'Accepted',
        ),
      [[station, 'call']],
      20000,
      () => `CS201-1 got no fallback on EVSE 0: ${station.received.map((c) => c.action).join(', ')}`,
    );
    cars = new Cars201(charger);
    watch = watchLine(line());
    cp16().plugIn(1, { phases: 3, maxCurrentA: 32 });
    const assigned = waitFor<[TransactionEvent]>(cp16(), 'transactionId', () => true, 10000);
    await cp16().startTransaction(1, 'TAG-16');
    await assigned;
    transactionId = await cars.plugIn(1, 'TAG-201', { maxA: 32, phases: 3 });
  });

  it('limits the 2.0.1 car with 2.0.1 SetChargingProfile, both cars charge and the circuit holds', async () => {
    const all = line();
    await until(
      all,
      // Both charge and share the circuit: each below its car's 32 A, together up to the limit.
      () =>
        (sim16.drawA(1)[0] ?? 0) >= 6 &&
        (cars.drawA(1)[0] ?? 0) >= 6 &&
        lineA(all).every((a) => a >= LIMIT_A - 2 && a <= LIMIT_A),
      () => describeDraws(all),
      40000,
    );
    const profiles = charger?.received.filter((call) => call.action === 'SetChargingProfile') ?? [];
    assert.ok(profiles.length > 0, 'the 2.0.1 charger got SetChargingProfile');
    assert.ok(profiles.every((call) => (call.response as { status?: string })?.status === 'Accepted'));
    // A TxProfile of its running transaction, in 2.0.1's words (transactionId, evseId).
    const ours = profiles.map((call) => call.payload as SetChargingProfile201);
    assert.ok(
      ours.some(
        ({ evseId, chargingProfile: p }) =>
          evseId === 1 && p.chargingProfilePurpose === 'TxProfile' && p.transactionId === transactionId,
      ),
      JSON.stringify(ours),
    );
    assert.ok(cars.offeredA(1) < 32, `the 2.0.1 charger offers ${cars.offeredA(1)} A`);
    assert.ok(highestA() <= LIMIT_A + 1e-9, `at one moment ${highestA()} A: ${watch?.at}`);
  });

  const entry = (id: string) => page().locator(`.ampflow-charger[data-charge-point-id="${id}"]`);

  it('lists the 2.0.1 charger in the Chargers sidebar, charging, beside the 1.6 one', async () => {
    await openEditor(page(), nodeRed().url, 'ampflow-central-system');
    await page().evaluate(() => (window as unknown as EditorWindow).RED.sidebar.show('ampflow-chargers'));
    await entry('CS201-1').waitFor();
    assert.equal(await entry('CS201-1').getAttribute('data-state'), 'connected');
    assert.match(
      await entry('CS201-1').locator('.ampflow-charger-boot').innerText(),
      /^Alfen Eve Single Pro\b.* · OCPP 2\.0\.1$/,
    );
    await entry('CS201-1')
      .locator('.ampflow-connector[data-connector-id="1"]', { hasText: '1: Charging' })
      .waitFor();
    assert.match(
      await entry('CP-16').locator('.ampflow-charger-boot').innerText(),
      /^Bender CC613\b.* · OCPP 1\.6$/,
    );
    await entry('CP-16')
      .locator('.ampflow-connector[data-connector-id="1"]', { hasText: '1: Charging' })
      .waitFor();
    // The load manager's decision for each, as the sidebar words it.
    for (const id of ['CS201-1', 'CP-16'])
      await entry(id)
        .locator('.ampflow-charger-decision[data-connector-id="1"]', { hasText: /^1: \d+(\.\d+)? A, / })
        .waitFor();
    await screenshot(page(), 'ocpp201-sidebar');
    assert.deepEqual(errors(), []);
  });

  const row = (connector: string) => page().locator(`tr.ampflow-connector[data-connector="${connector}"]`);
  const why = (connector: string) =>
    page().locator(`.ampflow-why-row[data-connector="${connector}"]`, { hasText: / \d+(\.\d+)? A, / });

  it('shows the 2.0.1 connector on the dashboard with its session and limit, beside the 1.6 one', async () => {
    await page().goto(`${nodeRed().url}/dashboard`);
    for (const [connector, tag] of [
      ['CP-16/1', 'TAG-16'],
      ['CS201-1/1', 'TAG-201'],
    ] as const) {
      await row(connector).locator('.ampflow-status', { hasText: 'Charging' }).waitFor();
      assert.equal((await row(connector).locator('.ampflow-idtag').innerText()).trim(), tag);
      await row(connector).locator('.ampflow-energy', { hasText: /Wh$/ }).waitFor();
      await why(connector).waitFor();
    }
    // The 1.6 charger reports its power; the 2.0.1 test station samples current and energy only.
    await row('CP-16/1').locator('.ampflow-power', { hasText: /kW$/ }).waitFor();
    // The load manager's limit for each, within the circuit's.
    const limits = await Promise.all(
      ['CP-16/1', 'CS201-1/1'].map(async (c) => Number(/: ([\d.]+) A,/.exec(await why(c).innerText())?.[1])),
    );
    assert.ok(
      limits.every((a) => a >= 6 && a <= LIMIT_A),
      `limits ${limits}`,
    );
    assert.ok((limits[0] ?? 0) + (limits[1] ?? 0) <= LIMIT_A + 1e-9, `limits ${limits} over ${LIMIT_A} A`);
    const phases = page().locator('.ampflow-circuit[data-circuit="carpark"] .ampflow-phase');
    await phases.first().waitFor();
    for (const text of await phases.allInnerTexts()) {
      const [, load, limit] = /([\d.]+) \/ (\d+) A/.exec(text) ?? [];
      assert.equal(Number(limit), LIMIT_A, text);
      assert.ok(Number(load) <= LIMIT_A, text);
    }
    await screenshot(page(), 'ocpp201-dashboard');
    assert.deepEqual(errors(), []);
  });

  it('records the 2.0.1 session, with the charger’s transaction id, once the car leaves', async () => {
    await cars.leave(1, 7400);
    await page().locator('tr.ampflow-record', { hasText: 'TAG-201' }).waitFor();
    for (const path of [
      '/ampflow/charge-data-records.csv',
      `/ampflow-central-system/${CS_ID}/sessions.csv`,
    ]) {
      const response = await fetch(`${nodeRed().url}${path}`);
      assert.equal(response.status, 200, path);
      const lines = (await response.text()).trim().split(/\r\n/);
      // The charger's own id has a column of its own (the CDR columns for billing portals follow it).
      const chargerId = (lines[0] ?? '').split(',').indexOf('charger transaction id (OCPP 2.0.1)');
      assert.ok(chargerId > 0, lines[0]);
      const ours = lines.filter((l) => l.split(',')[1] === 'CS201-1');
      assert.equal(ours.length, 1, `${path}:\n${lines.join('\n')}`);
      const cells = (ours[0] as string).split(',');
      assert.equal(cells[chargerId], transactionId, path);
      assert.equal(cells[3], 'TAG-201');
      assert.equal(cells[9], '7400');
    }
    assert.deepEqual(errors(), []);
  });

  it('broke no OCPP 2.0.1 rule and logged no problem', () => {
    assert.ok(highestA() <= LIMIT_A + 1e-9, `at one moment ${highestA()} A: ${watch?.at}`);
    assert.deepEqual(charger?.violations, [], 'the central system against OCPP 2.0.1');
    assert.deepEqual(nodeRed().problems(), []);
  });
});
