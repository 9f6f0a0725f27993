/**
 * The package built for benchmarks that measure through the nodes in a real Node-RED (started with
 * test/support/node-red.ts, `package: { dir }`): built into a private temporary directory (tsc + the
 * editor files, as scripts/build.mjs does), so the benchmark neither needs nor disturbs the
 * checkout's dist/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { composeEditorHtml } from '../../nodes/shared/editor-html';
import { repoRoot } from '../../test/support/repo';

/**
 * Builds the package into `<dir>/package` and returns that directory; with `AMPFLOW_BENCH_PACKAGE`
 * set, returns that package, built already (test/benches builds one for all the benches it runs).
 */
export function buildPackage(dir: string): string {
  const built = process.env.AMPFLOW_BENCH_PACKAGE;
  if (built) return built;
  const pkg = join(dir, 'package');
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', join(repoRoot, 'tsconfig.json'), '--outDir', join(pkg, 'dist')],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error('building the package for the benchmark failed (tsc)');
  const nodesOut = join(pkg, 'dist', 'nodes');
  for (const file of readdirSync(join(repoRoot, 'nodes'))) {
    if (file.endsWith('.html'))
      writeFileSync(
        join(nodesOut, file),
        composeEditorHtml(join(repoRoot, 'nodes', file), join(pkg, 'dist')),
      );
  }
  cpSync(join(repoRoot, 'nodes', 'locales'), join(nodesOut, 'locales'), { recursive: true });
  if (existsSync(join(repoRoot, 'icons')))
    cpSync(join(repoRoot, 'icons'), join(nodesOut, 'icons'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return pkg;
}

export function benchDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'ampflow-bench-'));
}
