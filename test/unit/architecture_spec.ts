import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The house as docs/ARCHITECTURE.md describes it: the load manager in rooms by stage, each room
 * and each file at its top level named there, so a newcomer finds a rule's owner from the folders,
 * and the stages importing one way.
 */

const root = join(__dirname, '..', '..');
const dlm = join(root, 'lib', 'dlm');
const architecture = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');

/**
 * lib/dlm's stages in the order an update runs them (issue #47): each may import the stages before
 * it and the load manager's shared records at the top level (phases.ts, parts.ts, runtime.ts, ...),
 * never a stage after it. Size is no rule: a module is as long as its concept needs.
 */
const STAGES = ['site', 'evidence', 'modes', 'allocation', 'control', 'report'];

/**
 * The imports that still run back up, `<file> -> <imported file>` (lib/dlm-relative), each to be
 * removed; none may join them. The observer and a connector's view ask the control stage's phase
 * switching and minimum times, and a car's mode (modes/preferences.ts) decides what a view counts;
 * the PV mode reads the allocation it shaped and switches phases.
 */
const KNOWN_BACK_ARROWS = new Set<string>([
  'evidence/car-minimum.ts -> modes/preferences.ts',
  'evidence/connector-view.ts -> control/phase-switching.ts',
  'evidence/connector-view.ts -> control/policy.ts',
  'evidence/connector-view.ts -> modes/preferences.ts',
  'evidence/observer.ts -> control/phase-switching.ts',
  'evidence/observer.ts -> control/policy.ts',
  'modes/pv.ts -> allocation/allocate.ts',
  'modes/pv.ts -> control/phase-switching.ts',
]);

/** Every import of a stage's file from a later stage's file, as `<file> -> <imported file>`. */
function backArrows(): string[] {
  const arrows: string[] = [];
  for (const [at, stage] of STAGES.entries()) {
    for (const path of tsFiles(join(dlm, stage))) {
      const source = readFileSync(path, 'utf8');
      for (const match of source.matchAll(/from '(\.[^']+)'/g)) {
        const target = join(dirname(path), match[1] ?? '');
        const room = target.slice(dlm.length + 1).split('/')[0] ?? '';
        if (STAGES.indexOf(room) > at)
          arrows.push(`${path.slice(dlm.length + 1)} -> ${target.slice(dlm.length + 1)}.ts`);
      }
    }
  }
  return [...new Set(arrows)].sort();
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('The house (docs/ARCHITECTURE.md)', () => {
  const entries = readdirSync(dlm);
  const rooms = entries.filter((name) => statSync(join(dlm, name)).isDirectory());
  const files = entries.filter((name) => name.endsWith('.ts'));

  it('keeps at most 15 files at the load manager’s top level; the rest are in rooms', () => {
    assert.ok(files.length <= 15, `${files.length} files in lib/dlm: ${files.join(', ')}`);
    assert.ok(rooms.length >= 5, rooms.join(', '));
  });

  it('names every room of lib/dlm, every file in it and every top-level file', () => {
    const missing = [
      ...rooms.map((room) => `\`${room}/\``),
      ...files.map((file) => `\`${file}\``),
      ...rooms.flatMap((room) =>
        readdirSync(join(dlm, room))
          .filter((file) => file.endsWith('.ts'))
          // The progressive fill's parts are named together (`fill*.ts`).
          .filter((file) => !file.startsWith('fill'))
          .map((file) => `\`${file}\``),
      ),
    ].filter((name) => !architecture.includes(name));
    assert.deepEqual(missing, []);
  });

  it('has its stages import only the stages before them (site, evidence, modes, allocation, control, report), but the back-arrows still listed', () => {
    const arrows = backArrows();
    assert.deepEqual(
      arrows.filter((arrow) => !KNOWN_BACK_ARROWS.has(arrow)),
      [],
      'a stage imports a later one: move the record or rule to the stage that makes it',
    );
    // One that was removed leaves the list.
    assert.deepEqual(
      [...KNOWN_BACK_ARROWS].filter((arrow) => !arrows.includes(arrow)),
      [],
    );
  });
});

/** The product's sources. The simulator (sim/) stands beside them: it imports lib/, never the reverse. */
const PRODUCT = ['lib', 'nodes', 'bin'];
const SIMULATOR = join(root, 'sim');

/**
 * Product files that may import the simulator, each with its reason. The simulator's own commands
 * are its entry points, not the product's: nothing of the product imports them, and they keep the
 * README's no-hardware path working (`ampflow-sim`, `ampflow-modbus-sim`; `npm start`'s site).
 */
const MAY_IMPORT_SIMULATOR = new Map<string, string>([
  ['bin/ampflow-sim.ts', 'the `ampflow-sim` command: the simulated charge points'],
  ['bin/ampflow-modbus-sim.ts', 'the `ampflow-modbus-sim` command: the simulated Modbus meters'],
  ['bin/ampflow-demo-site.ts', "the demo's simulated site, run by `npm start` (scripts/start.mjs)"],
]);

/** Every module a file imports, re-exports, requires or resolves (type-only and side-effect imports too). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"\s]+)['"]/g),
    ...text.matchAll(/^\s*import\s*['"]([^'"\s]+)['"]/gm),
    ...text.matchAll(/\b(?:require(?:\.resolve)?|import)\(\s*['"]([^'"\s]+)['"]\s*\)/g),
  ].map((match) => match[1] as string);
}

function productFiles(): string[] {
  return PRODUCT.flatMap((dir) => tsFiles(join(root, dir))).filter((path) => !path.endsWith('.d.ts'));
}

/** What the package ships compiled: the product and the simulator its commands run (dist/sim). */
function shippedFiles(): string[] {
  return [...productFiles(), ...tsFiles(SIMULATOR)];
}

/**
 * Whether `specifier` names a sub-path its package does not offer: with `exports` in its
 * package.json, one not listed there; without, any sub-path at all (the package's entry point is
 * its API; the files behind it may move in any release). Node's own modules are not packages.
 */
function privatePathOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  if (parts.length <= nameLength) return undefined;
  const pkg = parts.slice(0, nameLength).join('/');
  const subPath = `./${parts.slice(nameLength).join('/')}`;
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    exports?: string | Record<string, unknown>;
  };
  const exported =
    manifest.exports !== undefined &&
    typeof manifest.exports === 'object' &&
    Object.keys(manifest.exports).some((key) =>
      key.includes('*')
        ? subPath.startsWith(key.slice(0, key.indexOf('*'))) &&
          subPath.endsWith(key.slice(key.indexOf('*') + 1))
        : key === subPath,
    );
  return exported ? undefined : `${pkg} does not export ${subPath}`;
}

describe('The product and what it depends on (issue #47)', () => {
  it('never imports the simulator (sim/) from lib/, nodes/ or bin/, but in its own commands', () => {
    const simulatorImports = productFiles().flatMap((path) =>
      specifiersOf(path)
        .filter((specifier) => specifier.startsWith('.'))
        .filter((specifier) => {
          const target = join(dirname(path), specifier);
          return target === SIMULATOR || target.startsWith(`${SIMULATOR}/`);
        })
        .map((specifier) => ({ file: path.slice(root.length + 1), specifier })),
    );
    assert.deepEqual(
      simulatorImports
        .filter(({ file }) => !MAY_IMPORT_SIMULATOR.has(file))
        .map(({ file, specifier }) => `${file} imports ${specifier}`),
      [],
    );
    // One that no longer imports the simulator leaves the list, so the list says what is true.
    assert.deepEqual(
      [...MAY_IMPORT_SIMULATOR.keys()].filter((file) => !simulatorImports.some((i) => i.file === file)),
      [],
    );
  });

  it('keeps the simulator out of lib/ (a file merged into the old lib/sim belongs in sim/)', () => {
    assert.equal(existsSync(join(root, 'lib', 'sim')), false);
  });

  it('imports no path of a dependency that its package.json does not export (product and simulator)', () => {
    const found = shippedFiles().flatMap((path) =>
      specifiersOf(path).flatMap((specifier) => {
        const problem = privatePathOf(specifier);
        return problem ? [`${path.slice(root.length + 1)}: ${specifier} (${problem})`] : [];
      }),
    );
    assert.deepEqual(found, []);
  });

  it('sees every kind of import it judges (a check of the walk itself)', () => {
    const seen = specifiersOf(join(root, 'lib', 'ocpp', 'listener.ts'));
    assert.ok(seen.includes('ocpp-rpc') && seen.includes('./v201/schemas'), seen.join(', '));
    assert.equal(
      privatePathOf('ocpp-rpc/lib/standard-validators'),
      'ocpp-rpc does not export ./lib/standard-validators',
    );
    assert.equal(privatePathOf('ocpp-rpc'), undefined);
    assert.equal(privatePathOf('node:fs/promises'), undefined);
  });
});
