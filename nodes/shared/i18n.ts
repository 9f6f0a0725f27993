import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';

/** What fills a message's `__name__` placeholders. */
export type MessageValues = Record<string, string | number>;

/**
 * Node-RED gives each node type of this package a message catalog of its own
 * (`locales/<lang>/<type>.json`) and a `RED._` that reads only that catalog. Some texts of one type
 * are shown by others (every node using a central system shows the central system's state), so a
 * text is always asked of its owner's `RED._`, kept here when the owner's module loads.
 */
const translators = new Map<string, NodeAPI['_']>();

/** English catalogs read from disk, for runtimes that have none (see `message`). */
const englishCatalogs = new Map<string, unknown>();

/** Called once by each node module: `type`'s texts are translated with this `RED`. */
export function useCatalog(RED: NodeAPI, type: string): void {
  translators.set(type, RED._);
}

/**
 * The text `<type>.<key>` of `type`'s catalog in the runtime's language, placeholders filled.
 * A runtime without the catalog (node-red-node-test-helper's `RED._` answers with the key itself,
 * a module loaded outside Node-RED has no `RED` at all) gets the English text, so users and tests
 * see the same words either way.
 */
export function message(type: string, key: string, values?: MessageValues): string {
  const id = `${type}.${key}`;
  const translated = translators.get(type)?.(id, values);
  if (translated !== undefined && translated !== id) return translated;
  return fill(englishText(type, id) ?? id, values);
}

/** The English text of `id` in `type`'s catalog, or undefined when the catalog has no such text. */
export function englishText(type: string, id: string): string | undefined {
  let catalog = englishCatalogs.get(type);
  if (catalog === undefined) {
    // Beside this module's folder both in nodes/ (tests run the TypeScript) and in dist/nodes/.
    const file = join(__dirname, '..', 'locales', 'en-US', `${type}.json`);
    catalog = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    englishCatalogs.set(type, catalog);
  }
  let entry: unknown = catalog;
  for (const part of id.split('.')) entry = (entry as Record<string, unknown> | undefined)?.[part];
  return typeof entry === 'string' ? entry : undefined;
}

/** Fills `__name__` placeholders as Node-RED's i18next settings do; unknown names stay. */
function fill(text: string, values: MessageValues | undefined): string {
  if (!values) return text;
  return text.replace(/__(\w+)__/g, (placeholder, name: string) =>
    name in values ? String(values[name]) : placeholder,
  );
}
