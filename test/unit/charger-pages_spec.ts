import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESET_NAMES } from '../../lib/profiles/strategies';
import { repoRoot } from '../support/repo';

/**
 * Issue #38: a page per charger family says what to set in the charger's own app. Every preset the
 * charging-profile node ships is named on the index with a page, and every page has the rows the
 * index promises (URL, identity, password, measurands, fallback limit, own load management, preset).
 */
const dir = join(repoRoot, 'docs', 'chargers');
const ROWS = [
  /URL/,
  /identit|ID\b|Identifier/i,
  /password/i,
  /MeterValuesSampledData/,
  /MeterValueSampleInterval|Meter Value Sample Interval/,
  /fallback/i,
  /load management|Load Balancing|DLM/,
  /ampflow preset/,
];

describe('the charger pages (issue #38)', () => {
  it('name every preset of the charging-profile node on the index, each with a page', () => {
    const index = readFileSync(join(dir, 'README.md'), 'utf8');
    const missing = PRESET_NAMES.filter((name) => !index.includes(`\`${name}\``));
    assert.deepEqual(missing, [], 'presets without a charger page on docs/chargers/README.md');
    const pages = [...index.matchAll(/\]\(([\w-]+\.md)\)/g)].map((m) => m[1] as string);
    assert.ok(pages.length > 0);
    for (const page of pages) assert.ok(existsSync(join(dir, page)), `docs/chargers/${page} is missing`);
  });

  for (const page of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    it(`${page} has a row for each setting the index promises`, () => {
      const text = readFileSync(join(dir, page), 'utf8');
      const absent = ROWS.filter((row) => !row.test(text)).map(String);
      assert.deepEqual(absent, []);
    });
  }
});
