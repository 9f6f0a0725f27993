import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { anchors, targets } from '../support/markdown';
import { packageJson, repoRoot } from '../support/repo';

/**
 * Issue #38: the README is also the package's page on npm and the file in node_modules, where only
 * the packed files exist. Every relative link and picture it has must be one of the packed files;
 * the manual's pages and pictures are linked absolutely, to the repository, and those links must
 * name a file (and heading) that exists in the repository.
 */
const repository = String(packageJson.repository.url)
  .replace(/^git\+/, '')
  .replace(/\.git$/, '');
const [, owner, name] = /github\.com\/([^/]+)\/([^/]+)$/.exec(repository) ?? [];
const inRepository = [`${repository}/blob/HEAD/`, `https://raw.githubusercontent.com/${owner}/${name}/HEAD/`];

/** The files `npm pack` puts in the tarball (without building: the README's links are not built). */
function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set((pack?.files ?? []).map((f) => f.path));
}

describe('the packed README (issue #38)', () => {
  const readme = join(repoRoot, 'README.md');

  it('links relatively only to files in the package, and absolutely to files that exist in the repository', function () {
    this.timeout(60_000);
    assert.ok(owner && name, `package.json's repository is not a GitHub URL: ${repository}`);
    const packed = packedFiles();
    assert.ok(packed.has('README.md'), 'npm pack lists no README.md');
    const broken: string[] = [];
    for (const target of targets(readme)) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      if (path === '') continue; // a heading of the README itself: docs_spec checks those
      const prefix = inRepository.find((p) => path.startsWith(p));
      if (prefix) {
        const file = join(repoRoot, decodeURIComponent(path.slice(prefix.length)));
        if (!existsSync(file)) broken.push(`${target}: no such file in the repository`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor))
          broken.push(`${target}: no heading "${anchor}" in it`);
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(path)) continue; // another site
      if (!packed.has(decodeURIComponent(path).replace(/^\.\//, '')))
        broken.push(
          `${target}: not in the package (npm pack --dry-run), so broken on npm and in node_modules`,
        );
    }
    assert.deepEqual(broken, []);
  });
});
