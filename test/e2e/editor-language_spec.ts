import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { type EditorWindow, openEditor, openPage, useBrowserSuite } from '../support/browser';
import { nodeRedVersion } from '../support/node-red';

/** What the palette and a node without a name say, in the editor's language. */
async function labels(page: Page, types: string[]) {
  return page.evaluate((types) => {
    const RED = (window as unknown as EditorWindow).RED;
    return types.map((type) => {
      const def = RED.nodes.getType(type);
      const palette = document.querySelector(
        `.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-label`,
      );
      // A node on the canvas without a name (the label function runs with the node as `this`).
      const unnamed = def.label.call({ _: def._, name: '', mode: 'requests', profile: '', unitId: '' });
      // The palette breaks a label into lines with spans: the words, one blank between.
      return { type, palette: palette?.textContent?.replace(/\s+/g, ' ').trim(), unnamed };
    });
  }, types);
}

/**
 * What the editor calls the configuration node types (they have no palette entry: their label
 * names them where a node of theirs is added or edited), and the dialog that adds a central
 * system: its title and the choices of the sessions' CSV separator.
 */
async function configNodes(page: Page) {
  const types = await page.evaluate(() => {
    const RED = (window as unknown as EditorWindow).RED;
    return ['ampflow-central-system', 'ampflow-modbus-bus'].map((type) => {
      const def = RED.nodes.getType(type);
      return typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel;
    });
  });
  await page.evaluate(() =>
    (window as unknown as EditorWindow).RED.editor.editConfig('', 'ampflow-central-system', '_ADD_'),
  );
  const tray = page.locator('.red-ui-tray').last();
  await tray.locator('#node-config-dialog-cancel').waitFor();
  const title = (await tray.locator('.red-ui-tray-titlebar').textContent())?.trim();
  // The dialog's form is built after its buttons: wait for the choices and their words.
  await page.waitForFunction(() => {
    const options = document.querySelectorAll('.red-ui-tray #ampflow-cs-separator option');
    return options.length > 0 && [...options].every((option) => (option.textContent ?? '').trim() !== '');
  });
  const separators = await tray.locator('#ampflow-cs-separator option').allTextContents();
  // Clicked in the page: a notice of the editor may lie over the button.
  await tray.locator('#node-config-dialog-cancel').dispatchEvent('click');
  await tray.waitFor({ state: 'detached' });
  return { types, title, separators };
}

/** What each language shows: the flow nodes' palette and unnamed labels, then the configuration nodes. */
const LANGUAGES = [
  {
    name: 'German',
    locale: 'de-DE',
    labels: [
      ['Lastmanagement', 'Lastmanagement'],
      ['OCPP ein', 'Entscheidungen'],
      ['Zähler', 'Zähler'],
      ['Ladeprofil', 'Ladeprofil'],
    ],
    configNodes: {
      types: ['Zentralsystem', 'Modbus-Bus'],
      title: "Neuen Konfigurations-Node 'Zentralsystem' hinzufügen",
      separators: [', (Komma)', '; (Semikolon)', '; mit Dezimalkomma (12,5)'],
    },
  },
  {
    // The configuration nodes keep their type names in English, as before.
    name: 'English',
    locale: 'en-US',
    labels: [
      ['load manager', 'load manager'],
      ['ocpp in', 'decisions'],
      ['meter', 'meter'],
      ['charging profile', 'charging profile'],
    ],
    configNodes: {
      types: ['ampflow-central-system', 'ampflow-modbus-bus'],
      title: 'Add new ampflow-central-system config node',
      separators: [', (comma)', '; (semicolon)', '; with decimal comma (12,5)'],
    },
  },
];
const LABELLED = ['ampflow-dlm', 'ampflow-ocpp-in', 'ampflow-meter', 'ampflow-charging-profile'];

/**
 * The editor in German and in English: palette labels and default node labels from the catalogs.
 * One Node-RED and one Chromium for both: the language is the page's (its browser context's
 * navigator.language); each language has a page of its own, and nothing is deployed or kept.
 */
describe(`the editor's language (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  const suite = useBrowserSuite();
  const nodeRed = suite.nodeRed;

  for (const language of LANGUAGES) {
    describe(`a browser set to ${language.name}`, () => {
      let opened: { page: Page; errors: string[] } | undefined;
      before(async () => {
        opened = await openPage(suite.browser(), { locale: language.locale });
      });
      after(async () => {
        await opened?.page.close();
      });
      const page = () => {
        if (!opened) throw new Error('the page did not open');
        return opened.page;
      };
      const errors = () => opened?.errors ?? [];

      it(`shows the palette and unnamed nodes in ${language.name}`, async () => {
        await openEditor(page(), nodeRed().url, 'ampflow-dlm');
        await page().locator('.red-ui-palette-node[data-palette-type="ampflow-dlm"]').waitFor();
        assert.deepEqual(
          await labels(page(), LABELLED),
          LABELLED.map((type, k) => ({
            type,
            palette: language.labels[k]?.[0],
            unnamed: language.labels[k]?.[1],
          })),
        );
        assert.deepEqual(errors(), []);
      });

      it(`names the central system and the Modbus bus in ${language.name}`, async () => {
        assert.deepEqual(await configNodes(page()), language.configNodes);
        assert.deepEqual(errors(), []);
      });
    });
  }
});
