import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageJson, repoRoot } from '../support/repo';

/**
 * Issue #47: the simulator stands beside the product (sim/, built to dist/sim) and the package
 * ships of it what its commands run (`ampflow-sim`, `ampflow-modbus-sim`, the demo's site), not the
 * in-process site simulator that only the tests and the benches use. package.json's `files` says
 * so with `!dist/sim/...` entries; this reads the sources (no build needed) and checks both ways:
 * every module a shipped command or node reaches is packed, and every simulator module that none
 * reaches is left out. `test/e2e/guides_spec.ts` runs the commands from the packed tarball.
 */

const files = packageJson.files as string[];

/** A `files` entry as a test of a path relative to the package (`*` within one name only). */
function matcher(pattern: string): (path: string) => boolean {
  const body = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  const re = new RegExp(`^${body}(?:/.*)?$`);
  return (path) => re.test(path);
}
const included = files.filter((f) => !f.startsWith('!')).map(matcher);
const excluded = files
  .filter((f) => f.startsWith('!'))
  .map((f) => ({ pattern: f, test: matcher(f.slice(1)) }));
const packed = (path: string) => included.some((test) => test(path)) && !excluded.some((e) => e.test(path));

/** Every relative module a source file imports, re-exports or requires, as a .ts path. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]/g),
    ...text.matchAll(/^\s*import\s*['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/\b(?:require|import)\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].flatMap((match) => {
    const base = resolve(dirname(file), match[1] as string);
    const found = [`${base}.ts`, join(base, 'index.ts')].find((path) => existsSync(path));
    return found ? [found] : [];
  });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The compiled file of a source file, relative to the package (what `files` names). */
const compiled = (source: string) => join('dist', relative(repoRoot, source)).replace(/\.ts$/, '.js');

/** The sources every shipped entry point reaches: all of bin/ (dist/bin ships whole) and the nodes. */
function reached(): Set<string> {
  const entries = [
    ...tsFiles(join(repoRoot, 'bin')),
    ...Object.values(packageJson['node-red'].nodes as Record<string, string>).map((js) =>
      join(repoRoot, js.replace(/^dist\//, '').replace(/\.js$/, '.ts')),
    ),
  ];
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of importsOf(file)) walk(next);
  };
  for (const entry of entries) walk(entry);
  return seen;
}

describe('the package files (issue #47)', () => {
  const reachedSources = reached();

  it('packs every module a command or node of the package reaches', () => {
    const missing = [...reachedSources].map(compiled).filter((path) => !packed(path));
    assert.deepEqual(missing, []);
  });

  it('leaves out the simulator modules no command reaches (the in-process site simulator of the tests)', () => {
    const unneeded = tsFiles(join(repoRoot, 'sim'))
      .filter((source) => !reachedSources.has(source))
      .map(compiled)
      .filter(packed);
    assert.deepEqual(unneeded, []);
    // Each `!` entry leaves out something, so the list says what is true.
    const sim = tsFiles(join(repoRoot, 'sim')).map(compiled);
    assert.deepEqual(
      excluded.filter((e) => !sim.some((path) => e.test(path))).map((e) => e.pattern),
      [],
    );
  });
});
