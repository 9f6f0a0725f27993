import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeEditorHtml } from '../../nodes/shared/editor-html';
import { repoRoot } from '../support/repo';

/**
 * The German locale (nodes/locales/de, the folder name Node-RED itself uses for German) says what
 * the English one says: every message catalog has the same keys and keeps every `__placeholder__`,
 * status texts stay short enough for a node's status, and every help text documents the same
 * message properties under the same node type.
 */
const localesDir = join(repoRoot, 'nodes', 'locales');
const ENGLISH = 'en-US';
const GERMAN = 'de';

/**
 * Node-RED asks for status texts under 20 characters; the German ones may run a little longer
 * where no shorter word says it, but no further than this.
 */
const STATUS_MAX = 24;

/** A placeholder in a status text counts as a two-digit value ("16 A verified"). */
const PLACEHOLDER_VALUE = '00';

interface Catalog {
  [key: string]: string | Catalog;
}

function files(lang: string, extension: string): string[] {
  return readdirSync(join(localesDir, lang))
    .filter((name) => name.endsWith(extension))
    .sort();
}

function readCatalog(lang: string, file: string): Catalog {
  return JSON.parse(readFileSync(join(localesDir, lang, file), 'utf8')) as Catalog;
}

/** Every text of a catalog by its dotted key (`ampflow-dlm.status.idle`). */
function texts(catalog: Catalog, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') found.set(path, value);
    else for (const [inner, text] of texts(value, path)) found.set(inner, text);
  }
  return found;
}

function placeholders(text: string): string[] {
  return text.match(/__\w+__/g) ?? [];
}

/** The `data-help-name` of a help file. */
function helpName(html: string): string | undefined {
  return /<script type="text\/html" data-help-name="([^"]+)">/.exec(html)?.[1];
}

/**
 * The message properties a help text documents: each `<dt>` with a property type, by the name
 * before its type. A `<dt>` without one names an editor field (translated with the editor).
 */
function properties(html: string): string[] {
  return [...html.matchAll(/<dt[^>]*>([^<]*)<span class="property-type">/g)]
    .map((match) => (match[1] ?? '').trim())
    .sort();
}

/** The elements of `expected` missing from `actual`, and those of `actual` not in `expected`. */
function difference(expected: Iterable<string>, actual: Iterable<string>) {
  const want = new Set(expected);
  const have = new Set(actual);
  return {
    missing: [...want].filter((item) => !have.has(item)),
    extra: [...have].filter((item) => !want.has(item)),
  };
}

/** The node types whose editors (nodes/<type>.html) ask the catalogs for texts. */
function editorTypes(): string[] {
  return readdirSync(join(repoRoot, 'nodes'))
    .filter((name) => /^ampflow-.*\.html$/.test(name))
    .map((name) => name.replace(/\.html$/, ''))
    .sort();
}

/**
 * The message keys an editor (or a node's runtime file) asks its own catalog for: every quoted `<type>.…` literal (in
 * `this._('…')`, `node._('…')`, `RED._('…')` and in either branch of a `this._(a ? '…' : '…')`),
 * the keys of `data-i18n` attributes (`[placeholder]key;[title]key`). A key ending in `.` is the
 * prefix of keys made at run time (`'….tabs.' + name`): its group must exist.
 */
function editorKeys(type: string, html: string): string[] {
  const prefix = `${type}.`;
  const literals = [...html.matchAll(/'(?:@[^':]+:)?([a-z][\w-]*\.[\w.-]*)'/g)].map((m) => m[1] ?? '');
  const attributes = [...html.matchAll(/data-i18n="([^"]+)"/g)].flatMap((m) =>
    (m[1] ?? '').split(';').map((part) => part.replace(/^\[[a-z]+\]/, '')),
  );
  return [...new Set([...literals, ...attributes])].filter((key) => key.startsWith(prefix)).sort();
}

/** The value at a dotted key of a catalog. */
function lookUp(catalog: Catalog, key: string): string | Catalog | undefined {
  let at: string | Catalog | undefined = catalog;
  for (const part of key.split('.')) at = typeof at === 'object' ? at[part] : undefined;
  return at;
}

describe('German locale', () => {
  const catalogs = files(ENGLISH, '.json');
  const helps = files(ENGLISH, '.html');

  it('has a catalog and a help file for every English one, and no others', () => {
    assert.ok(catalogs.length > 0 && helps.length > 0, 'no English locale files found');
    assert.deepEqual(difference(catalogs, files(GERMAN, '.json')), { missing: [], extra: [] });
    assert.deepEqual(difference(helps, files(GERMAN, '.html')), { missing: [], extra: [] });
  });

  for (const file of catalogs) {
    describe(file, () => {
      const english = texts(readCatalog(ENGLISH, file));
      const german = (): Map<string, string> => {
        assert.ok(existsSync(join(localesDir, GERMAN, file)), `${GERMAN}/${file} is missing`);
        return texts(readCatalog(GERMAN, file));
      };

      it('has exactly the keys of the English catalog', () => {
        assert.deepEqual(difference(english.keys(), german().keys()), { missing: [], extra: [] });
      });

      it('keeps every placeholder of the English texts', () => {
        const translated = german();
        const lost: string[] = [];
        for (const [key, text] of english) {
          const value = translated.get(key);
          if (value === undefined) continue;
          for (const placeholder of placeholders(text)) {
            if (!value.includes(placeholder)) lost.push(`${key}: ${placeholder}`);
          }
        }
        assert.deepEqual(lost, []);
      });

      it(`keeps status texts within ${STATUS_MAX} characters`, () => {
        const long = [...german()]
          .filter(([key]) => key.split('.').includes('status'))
          .map(([key, text]) => ({ key, shown: text.replace(/__\w+__/g, PLACEHOLDER_VALUE) }))
          .filter(({ shown }) => shown.length > STATUS_MAX)
          .map(({ key, shown }) => `${key}: "${shown}" (${shown.length})`);
        assert.deepEqual(long, []);
      });
    });
  }

  for (const type of editorTypes()) {
    it(`has every text the ${type} editor and runtime ask for in both catalogs`, () => {
      // The editor (nodes/<type>.html) and the node's runtime file (its RED._ calls), where there is one.
      // The editor is read put together from its parts (nodes/editor/<type>/), as the build writes it.
      const sources = [`${type}.html`, `${type}.ts`].map((file) => join(repoRoot, 'nodes', file));
      const text = sources
        .filter((path) => existsSync(path))
        .map((path) => (path.endsWith('.html') ? composeEditorHtml(path) : readFileSync(path, 'utf8')))
        .join('\n');
      const keys = editorKeys(type, text);
      assert.ok(keys.length > 0, `no message keys found in nodes/${type}.html`);
      const missing: string[] = [];
      for (const lang of [ENGLISH, GERMAN]) {
        const catalog = readCatalog(lang, `${type}.json`);
        for (const key of keys) {
          const found = lookUp(catalog, key.endsWith('.') ? key.slice(0, -1) : key);
          if (typeof found !== (key.endsWith('.') ? 'object' : 'string')) missing.push(`${lang}: ${key}`);
        }
      }
      assert.deepEqual(missing, []);
    });
  }

  for (const file of helps) {
    it(`documents in ${file} the node type and the message properties the English help does`, () => {
      const path = join(localesDir, GERMAN, file);
      assert.ok(existsSync(path), `${GERMAN}/${file} is missing`);
      const english = readFileSync(join(localesDir, ENGLISH, file), 'utf8');
      const german = readFileSync(path, 'utf8');
      const name = helpName(english);
      assert.ok(name, `${ENGLISH}/${file} has no data-help-name`);
      assert.equal(helpName(german), name);
      assert.deepEqual(difference(properties(english), properties(german)), { missing: [], extra: [] });
    });
  }
});
