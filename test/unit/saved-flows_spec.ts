import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShapeVersionError, SITE_SHAPE, upgradeShape, upgradeSite } from '../../lib/config-versions';
import { validateSite } from '../../lib/dlm/site';
import { repoRoot } from '../support/repo';

/**
 * Flows are kept for years: a flow saved by any earlier release loads with the meaning it had.
 * test/fixtures/saved-flows/<release>/ holds the examples and the demo flow exactly as that release
 * shipped them (never edited), and sites.json what that release's load manager made of each site
 * (the validated site, every default filled in). A change of a site's fields needs a step in
 * lib/config-versions.ts that keeps these meanings; a change of a default that is meant for saved
 * flows too is a decision: rewrite sites.json with AMPFLOW_UPDATE_FIXTURES=1 and say why in the commit.
 */
const fixtures = join(repoRoot, 'test', 'fixtures', 'saved-flows');
const releases = readdirSync(fixtures).sort();

interface FlowNode {
  id: string;
  type: string;
  site?: string;
}

/** The validated site without the raw settings it keeps (`config`, which now carries a version). */
function meaning(site: NonNullable<ReturnType<typeof validateSite>['site']>): unknown {
  const { config: _config, ...rest } = site;
  return JSON.parse(JSON.stringify(rest));
}

describe('flows saved by earlier releases (lib/config-versions.ts)', () => {
  for (const release of releases) {
    it(`reads every site saved by ${release} in today's shape with the meaning ${release} gave it`, () => {
      const dir = join(fixtures, release);
      const expectedFile = join(dir, 'sites.json');
      const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, unknown>;
      const seen: Record<string, unknown> = {};
      for (const file of readdirSync(dir)
        .filter((f) => f.endsWith('.json') && f !== 'sites.json')
        .sort()) {
        const flow = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowNode[];
        for (const node of flow.filter((n) => n.type === 'ampflow-dlm')) {
          const saved = JSON.parse(node.site ?? '{}');
          const upgraded = upgradeSite(saved);
          assert.equal(upgraded.shape.version, SITE_SHAPE.current, `${file} ${node.id}`);
          const validation = validateSite(saved);
          assert.deepEqual(validation.problems, [], `${file} ${node.id}`);
          seen[`${file} ${node.id}`] = meaning(validation.site as NonNullable<typeof validation.site>);
        }
      }
      if (process.env.AMPFLOW_UPDATE_FIXTURES === '1') {
        writeFileSync(expectedFile, `${JSON.stringify(seen, null, 1)}\n`);
        return;
      }
      assert.deepEqual(Object.keys(seen).sort(), Object.keys(expected).sort());
      for (const key of Object.keys(expected)) {
        assert.deepEqual(
          seen[key],
          expected[key],
          `the site of ${key} no longer means what ${release} made of it: add a step in lib/config-versions.ts that keeps it, or, if the change is meant for saved flows too, rewrite sites.json (AMPFLOW_UPDATE_FIXTURES=1) and say why in the commit`,
        );
      }
    });
  }

  it('writes the version; a site without one is version 0; the saved object is left as it was', () => {
    const saved = { circuits: [{ id: 'main', limitA: 63 }] };
    const upgraded = upgradeSite(saved);
    assert.equal(upgraded.from, 0);
    assert.equal(upgraded.shape.version, SITE_SHAPE.current);
    assert.equal(upgraded.changes.length, SITE_SHAPE.current);
    assert.equal('version' in saved, false);
    assert.deepEqual(upgradeSite(upgraded.shape).changes, []);
  });

  it('refuses a site from a newer release, or a version that is not one, naming the field', () => {
    const newer = validateSite({ version: SITE_SHAPE.current + 1, circuits: [{ id: 'main', limitA: 63 }] });
    assert.equal(newer.site, undefined);
    assert.equal(newer.problems[0]?.field, 'version');
    assert.match(
      newer.problems[0]?.message ?? '',
      /saved by a newer release of ampflow .*update the package/,
    );
    for (const version of [-1, 1.5, '1', null]) {
      assert.throws(
        () => upgradeSite({ version, circuits: [] }),
        (err: unknown) => err instanceof ShapeVersionError && /is not a version/.test(err.message),
      );
    }
  });

  it('runs the steps in order, each on the shape the one before made', () => {
    const renamed = upgradeShape(
      {
        name: 'a test shape',
        field: 'v',
        current: 2,
        steps: [
          { from: 0, change: 'a becomes b', up: ({ a, ...rest }) => ({ ...rest, b: a }) },
          { from: 1, change: 'b doubles', up: (shape) => ({ ...shape, b: Number(shape.b) * 2 }) },
        ],
      },
      { a: 3 },
    );
    assert.deepEqual(renamed.shape, { b: 6, v: 2 });
    assert.deepEqual(renamed.changes, ['0 → 1: a becomes b', '1 → 2: b doubles']);
  });
});
