import assert from 'node:assert/strict';
import { type EditorWindow, openEditor, screenshot, useBrowserSuite } from '../support/browser';
import { nodeRedVersion } from '../support/node-red';
import { packageJson } from '../support/repo';

const nodeTypes = Object.keys(packageJson['node-red'].nodes);
const CONFIG_NODES = new Set(['ampflow-central-system', 'ampflow-modbus-bus']);

/** The editor in headless Chromium: palette, edit dialogs, help, and importing an example through the menu. */
describe(`the editor in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const { nodeRed, page, errors } = useBrowserSuite({ page: { timeoutMs: 15000 } });

  before(async () => {
    await openEditor(page(), nodeRed().url, 'ampflow-dlm');
  });

  beforeEach(() => {
    errors().length = 0;
  });

  it('loads without a console error and shows the flow nodes in the palette category "EV charging"', async () => {
    const category = page().locator('#red-ui-palette-container-EV_charging');
    await category.waitFor();
    assert.match((await category.locator('.red-ui-palette-header').innerText()).trim(), /EV charging/i);
    const inPalette = await category
      .locator('.red-ui-palette-node')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-palette-type')));
    assert.deepEqual([...inPalette].sort(), nodeTypes.filter((type) => !CONFIG_NODES.has(type)).sort());
    for (const type of CONFIG_NODES) {
      assert.equal(
        await page().evaluate(
          (t) => (window as unknown as EditorWindow).RED.nodes.getType(t)?.category,
          type,
        ),
        'config',
      );
    }
    await screenshot(page(), 'editor');
    assert.deepEqual(errors(), []);
  });

  for (const type of nodeTypes) {
    it(`opens the edit dialog of ${type} without a console error and shows its help`, async () => {
      const isConfig = CONFIG_NODES.has(type);
      const added = await page().evaluate(
        ({ type, isConfig }) => {
          const RED = (window as unknown as EditorWindow).RED;
          if (isConfig) {
            RED.editor.editConfig('', type, '_ADD_');
            return undefined;
          }
          {
            const id = RED.nodes.id();
            const def = RED.nodes.getType(type);
            const node: Record<string, unknown> = {
              id,
              type,
              z: RED.workspaces.active(),
              x: 200,
              y: 200,
              _def: def,
            };
            for (const [key, setting] of Object.entries(def.defaults as Record<string, { value: unknown }>)) {
              node[key] = JSON.parse(JSON.stringify(setting.value ?? ''));
            }
            node.inputs = def.inputs ?? 0;
            node.outputs = def.outputs ?? 0;
            RED.nodes.add(node);
            RED.editor.edit(RED.nodes.node(id));
            return id;
          }
        },
        { type, isConfig },
      );
      const prefix = isConfig ? 'node-config' : 'node';
      const tray = page().locator('.red-ui-tray').last();
      await tray.locator(`#${prefix}-dialog-cancel`).waitFor();
      // The dialog has its own settings form (the node's template), not an empty tray.
      await page().waitForFunction(
        (p) => document.querySelectorAll(`.red-ui-tray .red-ui-tray-body [id^="${p}-input-"]`).length > 0,
        prefix,
      );
      await page().evaluate((t) => (window as unknown as EditorWindow).RED.sidebar.help.show(t), type);
      // The help sidebar shows the node's own help text under its palette label.
      const helpText = await page().waitForFunction((t) => {
        const RED = (window as unknown as EditorWindow).RED;
        const def = RED.nodes.getType(t);
        const label =
          (typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel) || t;
        const title = document.querySelector('.red-ui-help-title');
        const body = title?.nextElementSibling;
        return title?.textContent === label && body?.classList.contains('red-ui-help')
          ? body.textContent
          : false;
      }, type);
      const text = String(await helpText.jsonValue());
      assert.ok(text.length > 200, `${type}: help too short: ${text}`);
      // Every field of the form has a label: its own, its row's, or (list rows) a caption around it.
      const unlabelled = await page().evaluate(() => {
        const body = document.querySelector('.red-ui-tray:last-child .red-ui-tray-body');
        const fields = [...(body?.querySelectorAll('input, select, textarea') ?? [])] as HTMLInputElement[];
        return fields
          .filter(
            (field) =>
              field.type !== 'hidden' &&
              // Node-RED's own decoys for browsers' password managers.
              !field.id.startsWith('red-ui-trap') &&
              // The code editor's own input (Monaco: 'inputarea' in Node-RED 4, 'ime-text-area' in 5),
              // e.g. the node's description tab: Node-RED's, not ours.
              !field.closest('.monaco-editor, .red-ui-editor-text-container') &&
              !field.closest('.red-ui-typedInput-container, .red-ui-editableList-header'),
          )
          .filter((field) => {
            if (field.closest('label')) return false;
            if (field.id && body?.querySelector(`label[for="${field.id}"]`)) return false;
            if (field.getAttribute('aria-label')) return false;
            return !field.closest('.form-row')?.querySelector('label');
          })
          .map((field) => field.id || `${field.tagName.toLowerCase()}.${field.className}`);
      });
      assert.deepEqual(unlabelled, [], `${type}: fields without a label`);
      await screenshot(page(), `edit-${type}`);
      await tray.locator(`#${prefix}-dialog-cancel`).click();
      await tray.waitFor({ state: 'detached' });
      if (added) {
        await page().evaluate((id) => {
          const RED = (window as unknown as EditorWindow).RED;
          RED.nodes.remove(id);
          RED.nodes.dirty(false);
          RED.view.redraw(true);
        }, added);
      }
      assert.deepEqual(errors(), [], `${type}: ${errors().join('\n')}`);
    });
  }

  it('imports the operator backend’s registration list (CSV) in the central system’s dialog: bad lines by number, the rest kept', async () => {
    await page().evaluate(() =>
      (window as unknown as EditorWindow).RED.editor.editConfig('', 'ampflow-central-system', '_ADD_'),
    );
    const tray = page().locator('.red-ui-tray').last();
    await tray.locator('#node-config-dialog-cancel').waitFor();
    await tray.locator('a[href="#ampflow-cs-tab-upstream"]').click();
    const list = tray.locator('#ampflow-cs-upstream-registrations-edit');
    await list.fill('CP-9,typed-before');
    // The CSV and the PEM file its certificate column names, chosen together.
    await tray.locator('#ampflow-cs-upstream-registrations-file').setInputFiles([
      {
        name: 'registrations.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(
          'identity;password;certificate file\nCP-1;secret-one\nCP 2;bad\nCP-3;secret-three\nCP-4;;certs/cp-4.pem\n',
        ),
      },
      {
        name: 'cp-4.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from(
          '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nR0hJ\n-----END PRIVATE KEY-----\n',
        ),
      },
    ]);
    const result = tray.locator('#ampflow-cs-upstream-registrations-result');
    await result.locator('.ampflow-cs-registration-problem').waitFor();
    assert.equal(
      await list.inputValue(),
      'CP-9,typed-before\nCP-1,secret-one\nCP-3,secret-three\n' +
        'CP-4,,"-----BEGIN CERTIFICATE----- QUJD -----END CERTIFICATE----- -----BEGIN PRIVATE KEY----- R0hJ -----END PRIVATE KEY-----"',
    );
    const told = await result.innerText();
    assert.match(told, /3 chargers taken from registrations\.csv/);
    assert.match(told, /line 3 left out: the identity has " " \(U\+0020\) at position 3/);
    await tray.locator('#node-config-dialog-cancel').click();
    await tray.waitFor({ state: 'detached' });
    assert.deepEqual(errors(), []);
  });

  it('imports an example through Import > Examples and deploys it without an error', async () => {
    const example = 'Modbus - grid meter and PV inverter over TCP';
    await page().locator('#red-ui-header-button-sidemenu').click();
    await page().locator('#menu-item-import').click();
    const dialog = page().locator('.ui-dialog:visible');
    await dialog.getByRole('link', { name: 'Examples' }).click();
    await dialog.locator('.red-ui-treeList-label', { hasText: packageJson.name }).first().click();
    await dialog.locator('.red-ui-treeList-label', { hasText: example }).first().click();
    await dialog.locator('#red-ui-clipboard-dialog-ok').click();
    await dialog.waitFor({ state: 'detached' }).catch(() => undefined);
    await page().waitForFunction(() => {
      let found = false;
      (window as unknown as EditorWindow).RED.nodes.eachNode((n: { type: string }) => {
        if (n.type === 'ampflow-meter') found = true;
      });
      return found;
    });
    // Imported nodes are placed by a click on the canvas.
    await page().mouse.click(700, 400);
    const started = nodeRed().process.nextLine(/\[info\] Started flows/, 30000);
    await page().locator('#red-ui-header-button-deploy').click();
    await started;
    await page()
      .locator('.red-ui-notification', { hasText: /Successfully deployed/i })
      .waitFor();
    await screenshot(page(), 'editor-example-imported');
    assert.deepEqual(errors(), []);
    assert.deepEqual(nodeRed().problems(), []);
  });
});
