/**
 * A real Node-RED process with this checkout installed, for benchmarks that measure through the
 * nodes. The package is built into a private temporary directory (tsc + the editor files, as
 * scripts/build.mjs does), so the benchmark neither needs nor disturbs the checkout's dist/.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nodeRedCli } from '../../test/support/node-red';
import { freePort } from '../../test/support/ports';
import { type RunningProcess, run } from '../../test/support/process';

export const repoRoot = join(__dirname, '..', '..');

/** Builds the package into `<dir>/package` and returns that directory. */
export function buildPackage(dir: string): string {
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
    if (file.endsWith('.html')) cpSync(join(repoRoot, 'nodes', file), join(nodesOut, file));
  }
  cpSync(join(repoRoot, 'nodes', 'locales'), join(nodesOut, 'locales'), { recursive: true });
  if (existsSync(join(repoRoot, 'icons')))
    cpSync(join(repoRoot, 'icons'), join(nodesOut, 'icons'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return pkg;
}

export interface BenchNodeRed {
  process: RunningProcess;
  pid: number;
  httpUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts Node-RED on a free port with `flow` deployed and the package at `packageDir` installed
 * in a fresh user directory under `dir`; resolves once the flows have started.
 */
export async function startNodeRed(
  dir: string,
  packageDir: string,
  flow: unknown[],
  /** Answers 2xx (or 426, a central system) once the flow runs. */
  readyUrls: (httpUrl: string) => string[],
): Promise<BenchNodeRed> {
  const userDir = mkdtempSync(join(dir, 'user-'));
  const link = join(userDir, 'node_modules', '@ampflow', 'node-red-ocpp-dlm');
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(packageDir, link, 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({
      name: 'ampflow-bench',
      private: true,
      dependencies: { '@ampflow/node-red-ocpp-dlm': '*' },
    }),
  );
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: { tours: false },
};
`,
  );
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
  const port = await freePort();
  const child = run(process.execPath, [
    nodeRedCli(),
    '--userDir',
    userDir,
    '--settings',
    join(userDir, 'settings.js'),
    '--port',
    String(port),
  ]);
  const httpUrl = `http://127.0.0.1:${port}`;
  // Logging is at warn: wait until what the flow serves answers.
  const startedMs = Date.now();
  const pending = readyUrls(httpUrl);
  while (pending.length > 0) {
    if (child.child.exitCode !== null) throw new Error(`Node-RED exited:\n${child.lines.join('\n')}`);
    try {
      const response = await fetch(pending[0] as string);
      if (response.ok || response.status === 426) pending.shift();
      await response.arrayBuffer();
    } catch {
      // not listening yet
    }
    if (Date.now() - startedMs > 60_000)
      throw new Error(`Node-RED did not start:\n${child.lines.join('\n')}`);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    process: child,
    pid: child.child.pid as number,
    httpUrl,
    async stop() {
      await child.stop('SIGTERM');
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export function benchDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'ampflow-bench-'));
}
