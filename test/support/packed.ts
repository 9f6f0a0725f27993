import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * `npm pack` of the checkout into `destination`; returns the tarball's path. dist/ is built by
 * `npm test` before the tests: the pack takes it as it is (no lifecycle scripts).
 */
export function packTarball(destination: string): string {
  const output = execFileSync(
    npm,
    ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  // The JSON report comes after whatever the pack's lifecycle scripts print.
  const [packed] = JSON.parse(output.slice(output.search(/^\[/m))) as { filename: string }[];
  assert.ok(packed);
  return join(destination, packed.filename);
}

/**
 * A fresh Node-RED user directory `userDir` with `tarball` installed as a user installs it: npm
 * from the registry (its cache first) for the dependencies, no development tools.
 */
export function installTarball(tarball: string, userDir: string): void {
  mkdirSync(userDir, { recursive: true });
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: userDir,
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

let installed: { tarball: string; modules: string } | undefined;

/**
 * A fresh Node-RED user directory `userDir` with the packed tarball installed as a user installs
 * it (packTarball, installTarball), packed and installed once per test process: each suite gets a
 * user directory of its own whose node_modules is that install (the same files either way; the
 * pack and the install are what cost, and the tarball does not change during a run). Returns the
 * tarball. The install is removed when the process exits.
 */
export function installedPackage(userDir: string): string {
  if (!installed) {
    const dir = mkdtempSync(join(tmpdir(), 'ampflow-packed-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const tarball = packTarball(dir);
    installTarball(tarball, join(dir, 'user'));
    installed = { tarball, modules: join(dir, 'user', 'node_modules') };
  }
  mkdirSync(userDir, { recursive: true });
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
  symlinkSync(installed.modules, join(userDir, 'node_modules'), 'dir');
  return installed.tarball;
}
