import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type { RPCClient } from 'ocpp-rpc';
import type { SimulatedChargePoint } from '../../sim/charge-point';
import { type EditorWindow, openEditor, screenshot, useBrowserSuite } from '../support/browser';
import { rpcChargePoint } from '../support/charge-point';
import { centralSystemConfig } from '../support/flows';
import { nodeRedVersion } from '../support/node-red';

const USERS = [
  { username: 'admin', password: 'admin-password-1', permissions: '*' },
  { username: 'reader', password: 'reader-password-1', permissions: 'read' },
  { username: 'flows-only', password: 'flows-password-1', permissions: ['flows.read'] },
];

/**
 * The editor's Chargers sidebar in headless Chromium, against a Node-RED with adminAuth (so the
 * sidebar's requests carry the editor's login) and a central system that simulated chargers dial.
 */
describe(`the Chargers sidebar in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, ocppPort, chargers, page, errors } = useBrowserSuite({
    users: USERS,
    flow: (ocppPort) => [
      { id: 'f1', type: 'tab', label: 'commissioning' },
      // Every interface, as the examples ship (host empty): the sidebar must name an address a
      // charger can dial, not ws://[::]:<port>/.
      centralSystemConfig(ocppPort, {
        id: 'cs1',
        name: 'Site A',
        host: '',
        chargePoints: [{ id: 'CP-LAX', lenient: true }],
      }),
    ],
    chargers: ['CP-SIDE-1', 'CP-SIDE-2'],
    chargerOptions: { connectors: 2, chargePointVendor: 'Bender', chargePointModel: 'CC613' },
  });
  let lax: RPCClient | undefined;

  after(async () => {
    await lax?.close();
  });

  const entry = (id: string) => page().locator(`.ampflow-charger[data-charge-point-id="${id}"]`);

  it('lists the connected chargers with vendor, model, firmware, connectors and last message, and adds one that dials in', async () => {
    const token = await nodeRed().token('admin', 'admin-password-1');
    await openEditor(page(), `${nodeRed().url}/?access_token=${token}`, 'ampflow-central-system');
    await page().evaluate(() => (window as unknown as EditorWindow).RED.sidebar.show('ampflow-chargers'));
    await entry('CP-SIDE-1').waitFor();
    assert.equal(await entry('CP-SIDE-1').getAttribute('data-state'), 'connected');
    assert.match(
      await entry('CP-SIDE-1').locator('.ampflow-charger-boot').innerText(),
      /^Bender CC613 · firmware \S+/,
    );
    await entry('CP-SIDE-1')
      .locator('.ampflow-connector[data-connector-id="2"]', { hasText: '2: Available' })
      .waitFor();
    assert.match(
      await entry('CP-SIDE-2').locator('.ampflow-charger-last').innerText(),
      /Last message: \w+, \d+ s ago/,
    );

    // A charger being commissioned: it appears while the sidebar is open, with the field its
    // BootNotification got wrong (lenient, so it is accepted).
    lax = rpcChargePoint(`ws://127.0.0.1:${ocppPort()}/`, 'CP-LAX');
    await lax.connect();
    await lax.call('BootNotification', {
      chargePointVendor: 'Schneider Electric',
      chargePointModel: 'EVlink',
      chargeBoxSerialNumber: 'EVB1A22P4KI3N3A2B0GR9ZFT9PS1',
    });
    await entry('CP-LAX').locator('.ampflow-charger-warning', { hasText: 'chargeBoxSerialNumber' }).waitFor();
    assert.match(await entry('CP-LAX').innerText(), /Schneider Electric EVlink/);
    assert.match(await page().locator('.ampflow-chargers-summary').innerText(), /^3 of 3 connected$/);
    await screenshot(page(), 'sidebar');
    assert.deepEqual(errors(), []);
  });

  it('shows an address a charger can dial, and every one when listening on every interface (issue 38)', async () => {
    const section = page().locator('.ampflow-chargers-cs[data-central-system="cs1"]');
    assert.equal(
      await section.locator('.ampflow-chargers-url').innerText(),
      `ws://${hostname()}:${ocppPort()}/`,
    );
    const every = await section.locator('.ampflow-chargers-urls').innerText();
    assert.match(
      every,
      new RegExp(`^Listening on every interface: chargers dial ws://${hostname()}:${ocppPort()}/`),
    );
    assert.doesNotMatch(every, /\[::\]|0\.0\.0\.0/);
    assert.deepEqual(errors(), []);
  });

  it('shows a charger’s firmware and diagnostics progress as it reports them (issue 37)', async () => {
    await lax?.call('FirmwareStatusNotification', { status: 'Downloading' });
    await lax?.call('DiagnosticsStatusNotification', { status: 'Uploading' });
    await entry('CP-LAX')
      .locator('.ampflow-charger-files-firmware', { hasText: /^Firmware update: Downloading, \d+ s ago$/ })
      .waitFor();
    await entry('CP-LAX')
      .locator('.ampflow-charger-files-diagnostics', {
        hasText: /^Diagnostics upload: Uploading, \d+ s ago$/,
      })
      .waitFor();
    await lax?.call('DiagnosticsStatusNotification', { status: 'UploadFailed' });
    await entry('CP-LAX')
      .locator('.ampflow-charger-files-diagnostics', { hasText: 'Diagnostics upload: UploadFailed' })
      .waitFor();
    assert.deepEqual(errors(), []);
  });

  it('shows a stop kept as an anomaly, not a charge data record (issue 46)', async () => {
    await lax?.call('StopTransaction', {
      transactionId: 4242,
      meterStop: 100,
      timestamp: new Date().toISOString(),
    });
    await page().locator('.ampflow-chargers-refresh').click();
    const section = page().locator('.ampflow-chargers-cs[data-central-system="cs1"]');
    await section
      .locator('.ampflow-chargers-stop-anomalies', {
        hasText: /^Stops kept as anomalies, not charge data records: 1 /,
      })
      .waitFor();
    assert.match(
      await section.locator('.ampflow-chargers-stop-anomaly').innerText(),
      /^CP-LAX, transaction 4242, meterStop 100 Wh: transaction 4242 is not open at charge point CP-LAX, \d+ s ago$/,
    );
    assert.deepEqual(errors(), []);
  });

  it('shows a charger that hangs up as offline', async () => {
    const gone = chargers[1] as SimulatedChargePoint;
    await gone.disconnect();
    await page()
      .locator('.ampflow-charger[data-charge-point-id="CP-SIDE-2"][data-state="offline"]')
      .waitFor();
    assert.deepEqual(errors(), []);
  });

  it('shows a charger refused at boot for a schema deviation, and opens the central system with it marked lenient (issue 45)', async () => {
    const refused = rpcChargePoint(`ws://127.0.0.1:${ocppPort()}/`, 'CP-SERIAL');
    try {
      await refused.connect();
      // chargePointSerialNumber is CiString25Type (OCPP 1.6 §7.7): 41 characters, refused.
      await assert.rejects(
        refused.call('BootNotification', {
          chargePointVendor: 'ampflow',
          chargePointModel: 'test',
          chargePointSerialNumber: 'S'.repeat(41),
        }),
      );
      await page().locator('.ampflow-chargers-refresh').click();
      await entry('CP-SERIAL').locator('.ampflow-charger-boot-refused').waitFor();
      assert.match(
        await entry('CP-SERIAL').locator('.ampflow-charger-warning').innerText(),
        /^BootNotification request: .*chargePointSerialNumber/,
      );
      // The lenient one already accepted its deviations: nothing to fix there.
      assert.equal(await entry('CP-LAX').locator('.ampflow-charger-mark-lenient').count(), 0);
      await entry('CP-SERIAL').locator('.ampflow-charger-mark-lenient').click();
      // Its row, added to the central system's Chargers tab, lenient ticked.
      const row = page().locator('#ampflow-cs-charge-points li').last();
      await row.waitFor();
      assert.equal(await row.locator('.ampflow-cs-cp-id').inputValue(), 'CP-SERIAL');
      assert.equal(await row.locator('.ampflow-cs-cp-lenient').isChecked(), true);
      assert.equal(await page().locator('#ampflow-cs-tab-chargers').isVisible(), true);
      // The lenient row the flow had stays as it was.
      const ids = await page()
        .locator('#ampflow-cs-charge-points .ampflow-cs-cp-id')
        .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
      assert.deepEqual(ids, ['CP-LAX', 'CP-SERIAL']);
      await page().locator('#node-config-dialog-cancel').click();
      assert.deepEqual(errors(), []);
    } finally {
      await refused.close({ force: true });
    }
  });

  it('serves its list only to users with the read permission', async () => {
    const url = `${nodeRed().url}/ampflow-central-system/chargers`;
    const as = async (username?: string) => {
      const user = USERS.find((u) => u.username === username);
      const headers: Record<string, string> = user
        ? {
            Authorization: `Bearer ${await nodeRed().token(user.username, user.password, [user.permissions].flat().join(' '))}`,
          }
        : {};
      return (await fetch(url, { headers })).status;
    };
    assert.equal(await as(undefined), 401);
    assert.equal(await as('flows-only'), 401);
    assert.equal(await as('reader'), 200);
    assert.equal(await as('admin'), 200);
  });
});
