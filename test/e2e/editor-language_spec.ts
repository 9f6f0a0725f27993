import assert from 'node:assert/strict';
import { type EditorWindow, openEditor, useBrowserSuite } from '../support/browser';
import { nodeRedVersion } from '../support/node-red';

/** What the palette and a node without a name say, in the editor's language. */
async function labels(page: ReturnType<ReturnType<typeof useBrowserSuite>['page']>) {
  return page.evaluate(() => {
    const RED = (window as unknown as EditorWindow).RED;
    const types = ['ampflow-dlm', 'ampflow-ocpp-in', 'ampflow-meter', 'ampflow-charging-profile'];
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
  });
}

/** The editor in German and in English: palette labels and default node labels from the catalogs. */
describe(`the editor's language (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);

  describe('a browser set to German', () => {
    const { nodeRed, page, errors } = useBrowserSuite({ page: { locale: 'de-DE' } });

    it('shows the palette and unnamed nodes in German', async () => {
      await openEditor(page(), nodeRed().url, 'ampflow-dlm');
      await page().locator('.red-ui-palette-node[data-palette-type="ampflow-dlm"]').waitFor();
      assert.deepEqual(await labels(page()), [
        { type: 'ampflow-dlm', palette: 'Lastmanagement', unnamed: 'Lastmanagement' },
        { type: 'ampflow-ocpp-in', palette: 'OCPP ein', unnamed: 'Entscheidungen' },
        { type: 'ampflow-meter', palette: 'Zähler', unnamed: 'Zähler' },
        { type: 'ampflow-charging-profile', palette: 'Ladeprofil', unnamed: 'Ladeprofil' },
      ]);
      assert.deepEqual(errors(), []);
    });
  });

  describe('a browser set to English', () => {
    const { nodeRed, page, errors } = useBrowserSuite({ page: { locale: 'en-US' } });

    it('shows the palette and unnamed nodes in English', async () => {
      await openEditor(page(), nodeRed().url, 'ampflow-dlm');
      await page().locator('.red-ui-palette-node[data-palette-type="ampflow-dlm"]').waitFor();
      assert.deepEqual(await labels(page()), [
        { type: 'ampflow-dlm', palette: 'load manager', unnamed: 'load manager' },
        { type: 'ampflow-ocpp-in', palette: 'ocpp in', unnamed: 'decisions' },
        { type: 'ampflow-meter', palette: 'meter', unnamed: 'meter' },
        { type: 'ampflow-charging-profile', palette: 'charging profile', unnamed: 'charging profile' },
      ]);
      assert.deepEqual(errors(), []);
    });
  });
});
