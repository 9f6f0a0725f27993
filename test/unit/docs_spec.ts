import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { anchors, targets } from '../support/markdown';
import { repoRoot } from '../support/repo';

/**
 * Issue #29: the README is the front door and docs/ the manual. Every link, picture and heading
 * they point to exists, the node pages say what the editor's help says, and the README stays short.
 */
function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'images' ? [] : markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const pages = [
  join(repoRoot, 'README.md'),
  join(repoRoot, 'CONTRIBUTING.md'),
  join(repoRoot, 'CHANGELOG.md'),
  ...markdownFiles(join(repoRoot, 'docs')),
];

describe('README and docs/', () => {
  it('has every page the README and the manual index name', () => {
    for (const page of pages) assert.ok(existsSync(page), `${relative(repoRoot, page)} is missing`);
  });

  for (const page of pages.filter((p) => existsSync(p))) {
    it(`${relative(repoRoot, page)}: every link, picture and heading it points to exists`, () => {
      const broken: string[] = [];
      for (const target of targets(page)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) {
          broken.push(`${target}: no heading "${anchor}" in ${relative(repoRoot, file)}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it('shows in each node page what the editor shows as its help, and the meters the profiles ship (npm run docs)', () => {
    try {
      execFileSync(process.execPath, [join(repoRoot, 'scripts', 'docs.mjs'), '--check'], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      assert.fail((err as { stderr?: string }).stderr || String(err));
    }
  });

  it('keeps the README a front door: at most about 250 lines, no history of measurements', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const lines = readme.split('\n').length;
    assert.ok(lines <= 250, `README.md has ${lines} lines`);
    assert.doesNotMatch(
      readme,
      /\bbefore:|until 20\d\d-\d\d-\d\d/i,
      'a before-and-after belongs in git and the issue notes',
    );
  });

  it('uses every picture in docs/images/ somewhere', () => {
    const used = new Set(
      pages.filter((p) => existsSync(p)).flatMap((p) => targets(p).map((t) => resolve(dirname(p), t))),
    );
    const unused = readdirSync(join(repoRoot, 'docs', 'images')).filter(
      (name) => !used.has(join(repoRoot, 'docs', 'images', name)),
    );
    assert.deepEqual(unused, []);
  });
});
