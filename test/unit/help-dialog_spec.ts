import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeEditorHtml } from '../../nodes/shared/editor-html';
import { packageJson, repoRoot } from '../support/repo';

/**
 * Issue #38: a label seen in an edit dialog ("Who pauses first") can be looked up in the node's
 * help, in English and German: each help has a section on its dialog with one entry (a <dt> with
 * an id to link to) per label, and links to the node's page of the manual in the repository.
 */
const LANGUAGES = ['en-US', 'de'] as const;
const types = Object.keys(packageJson['node-red'].nodes) as string[];
const repository = String(packageJson.repository.url)
  .replace(/^git\+/, '')
  .replace(/\.git$/, '');

type Label = { key: string } | { text: string };

/**
 * The labels of a node's edit dialog: each <label> of its template, by the catalog key of its text
 * (data-i18n) or by its literal text, and the captions the script builds for list rows with
 * `field('<column>', …)`, the catalog's `<type>.column.<column>`.
 */
function dialogLabels(type: string): Label[] {
  const editor = composeEditorHtml(join(repoRoot, 'nodes', `${type}.html`));
  const template = /<script type="text\/html" data-template-name="[^"]+">([\s\S]*?)<\/script>/.exec(
    editor,
  )?.[1];
  assert.ok(template, `nodes/${type}.html has no edit template`);
  const labels: Label[] = [];
  for (const [element] of template.matchAll(/<label[^>]*>[\s\S]*?<\/label>/g)) {
    const keys = [...element.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1] as string);
    if (keys.length) labels.push(...keys.map((key) => ({ key })));
    else {
      const text = element.replace(/<[^>]+>/g, '').trim();
      if (text) labels.push({ text });
    }
  }
  for (const m of editor.matchAll(/\bfield\('([\w-]+)'/g)) labels.push({ key: `${type}.column.${m[1]}` });
  return labels;
}

function translate(catalog: unknown, key: string): string | undefined {
  let at: unknown = catalog;
  for (const part of key.split('.'))
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[part] : undefined;
  return typeof at === 'string' ? at : undefined;
}

const decode = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** The help's dialog section: from the <h3> before its first `ampflow-dialog` list to the next <h3>. */
function dialogEntries(help: string): Map<string, string> {
  const start = help.lastIndexOf('<h3>', help.indexOf('<dl class="ampflow-dialog">'));
  const end = help.indexOf('<h3>', start + 1);
  const section = help.slice(start, end < 0 ? undefined : end);
  const entries = new Map<string, string>();
  for (const m of section.matchAll(/<dt id="([^"]+)">([^<]*)<\/dt>/g))
    entries.set(decode(m[2] as string).trim(), m[1] as string);
  return entries;
}

describe('every dialog label in the node help (issue #38)', () => {
  for (const type of types) {
    const labels = dialogLabels(type);
    for (const language of LANGUAGES) {
      const dir = join(repoRoot, 'nodes', 'locales', language);
      it(`${language}/${type}.html: an entry with an anchor for each of the ${labels.length} labels of its dialog`, () => {
        assert.ok(labels.length > 0, `no labels found in nodes/${type}.html`);
        const catalog = JSON.parse(readFileSync(join(dir, `${type}.json`), 'utf8'));
        const help = readFileSync(join(dir, `${type}.html`), 'utf8');
        assert.match(help, /<dl class="ampflow-dialog">/, 'no section on the edit dialog');
        const entries = dialogEntries(help);
        const missing: string[] = [];
        for (const label of labels) {
          const text = 'text' in label ? label.text : translate(catalog, label.key);
          if (text === undefined) missing.push(`${'key' in label ? label.key : ''}: not in the catalog`);
          else if (!entries.has(text)) missing.push(`"${text}"${'key' in label ? ` (${label.key})` : ''}`);
        }
        assert.deepEqual(missing, [], 'labels without an entry in the help');
        const ids = [...entries.values()];
        assert.equal(new Set(ids).size, ids.length, 'two entries share an anchor');
      });

      it(`${language}/${type}.html links to the node's page of the manual`, () => {
        const help = readFileSync(join(dir, `${type}.html`), 'utf8');
        const page = `docs/nodes/${type}.md`;
        assert.ok(existsSync(join(repoRoot, page)), `${page} is missing`);
        assert.ok(
          help.includes(`href="${repository}/blob/HEAD/${page}"`),
          `no link to ${repository}/blob/HEAD/${page}`,
        );
      });
    }
  }
});
