import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The house as docs/ARCHITECTURE.md describes it: the load manager in rooms by stage importing one
 * way, and sequence diagrams whose every arrow is an import (a map of concepts, not a file index).
 */

const root = join(__dirname, '..', '..');
const dlm = join(root, 'lib', 'dlm');
const architecture = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');

/**
 * lib/dlm's stages in the order an update runs them (issue #47): each may import the stages before
 * it and the load manager's shared records at the top level (phases.ts, parts.ts, runtime.ts, ...),
 * never a stage after it, neither directly nor through a top-level file that imports one (parts.ts
 * importing a mode's record would let every evidence file that reads parts.ts reach the modes).
 * Size is no rule: a module is as long as its concept needs.
 */
const STAGES = ['site', 'evidence', 'modes', 'allocation', 'control', 'report'];

/** The stage a lib/dlm file belongs to (its folder), or undefined for a top-level file. */
function stageOf(path: string): string | undefined {
  const relative = path.slice(dlm.length + 1);
  return relative.includes('/') ? relative.split('/')[0] : undefined;
}

/** The lib/dlm files a file imports (any kind of import: specifiersOf), resolved as Node does. */
function dlmImportsOf(path: string): string[] {
  return specifiersOf(path)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const target = join(dirname(path), specifier);
      return existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
    })
    .filter((target) => target.startsWith(`${dlm}/`) && existsSync(target));
}

/**
 * The stage files a file reaches: those it imports, and those it reaches through the top-level
 * files it imports (a detour through a shared module is an import all the same), each with the
 * way it took (`a.ts -> phases.ts -> modes/b.ts`).
 */
function stageFilesReached(from: string, imports: (path: string) => string[]): Map<string, string> {
  const reached = new Map<string, string>();
  const seen = new Set<string>([from]);
  const queue: { path: string; way: string }[] = [{ path: from, way: from.slice(dlm.length + 1) }];
  for (let item = queue.shift(); item; item = queue.shift()) {
    for (const target of imports(item.path)) {
      if (seen.has(target)) continue;
      seen.add(target);
      const way = `${item.way} -> ${target.slice(dlm.length + 1)}`;
      if (stageOf(target) === undefined) queue.push({ path: target, way });
      else reached.set(target, way);
    }
  }
  return reached;
}

/**
 * Every way a stage's file reaches a later stage's file (`<file> -> ... -> <file>`), and the
 * folders' import graph: folder A imports folder B when a file of A reaches a file of B.
 */
function stageImports(imports: (path: string) => string[] = dlmImportsOf): {
  backArrows: string[];
  folders: Map<string, Set<string>>;
} {
  const backArrows: string[] = [];
  const folders = new Map(STAGES.map((stage) => [stage, new Set<string>()]));
  for (const [at, stage] of STAGES.entries()) {
    for (const path of tsFiles(join(dlm, stage))) {
      for (const [target, way] of stageFilesReached(path, imports)) {
        const room = stageOf(target) ?? '';
        if (room !== stage) folders.get(stage)?.add(room);
        if (STAGES.indexOf(room) > at) backArrows.push(way);
      }
    }
  }
  return { backArrows: backArrows.sort(), folders };
}

/** The pairs of stage folders that import each other, directly or through other stage folders. */
function foldersInCycles(folders: Map<string, Set<string>>): string[] {
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(folders.get(from) ?? [])];
    for (let room = stack.pop(); room !== undefined; room = stack.pop()) {
      if (room === to) return true;
      if (seen.has(room)) continue;
      seen.add(room);
      stack.push(...(folders.get(room) ?? []));
    }
    return false;
  };
  return STAGES.flatMap((a, i) =>
    STAGES.slice(i + 1)
      .filter((b) => reaches(a, b) && reaches(b, a))
      .map((b) => `${a} <-> ${b}`),
  );
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The arrows of docs/ARCHITECTURE.md's sequence diagrams that no import makes: each diagram names
 * modules as participants (`participant X as lib/a.ts`) and `X ->> Y` says X calls Y through its
 * own import of Y.
 */
function wrongArrows(markdown: string): string[] {
  const wrong: string[] = [];
  for (const block of markdown.match(/```mermaid\n[\s\S]*?```/g) ?? []) {
    if (!block.includes('sequenceDiagram')) continue;
    const files = new Map<string, string>();
    for (const [, alias = '', file = ''] of block.matchAll(/^\s*participant\s+(\S+)\s+as\s+(\S+)\s*$/gm))
      files.set(alias, file);
    // Replies (`-->>`) are not checked: they go back along the call.
    for (const [, from = '', to = ''] of block.matchAll(/^\s*(\S+)\s*->>\s*(\S+?)\s*:/gm)) {
      const a = files.get(from) ?? from;
      const b = files.get(to) ?? to;
      const path = join(root, a);
      const target = join(root, b).replace(/(\/index)?\.ts$/, '');
      const imported =
        existsSync(path) &&
        specifiersOf(path)
          .filter((specifier) => specifier.startsWith('.'))
          .some((specifier) => join(dirname(path), specifier) === target);
      if (!imported) wrong.push(`${a} ->> ${b}`);
    }
  }
  return wrong;
}

describe('The house (docs/ARCHITECTURE.md)', () => {
  const entries = readdirSync(dlm);
  const rooms = entries.filter((name) => statSync(join(dlm, name)).isDirectory());
  const files = entries.filter((name) => name.endsWith('.ts'));

  it('keeps at most 15 files at the load manager’s top level; the rest are in rooms', () => {
    assert.ok(files.length <= 15, `${files.length} files in lib/dlm: ${files.join(', ')}`);
    assert.ok(rooms.length >= 5, rooms.join(', '));
  });

  it('draws only arrows that the imports make: in each sequence diagram, A ->> B where A imports B', () => {
    assert.deepEqual(wrongArrows(architecture), []);
  });

  it('names a wrong arrow (a check of the check itself)', () => {
    const wrong =
      '```mermaid\nsequenceDiagram\n  participant LM as lib/dlm/load-manager.ts\n  participant H as lib/ocpp/handlers.ts\n  LM ->> H: nothing\n```';
    assert.deepEqual(wrongArrows(wrong), ['lib/dlm/load-manager.ts ->> lib/ocpp/handlers.ts']);
  });

  it('has its stages import only the stages before them (site, evidence, modes, allocation, control, report), also through top-level files', () => {
    assert.deepEqual(
      stageImports().backArrows,
      [],
      'a stage reaches a later one: move the record or rule to the stage that makes it',
    );
  });

  it('has no two stage folders that import each other, directly or through other stage folders', () => {
    const { folders } = stageImports();
    assert.deepEqual(foldersInCycles(folders), []);
    // Each stage but the first reads a stage before it: the walk sees the imports it judges.
    for (const stage of STAGES.slice(1)) assert.ok((folders.get(stage)?.size ?? 0) > 0, stage);
  });

  it('finds a back-arrow through a top-level file, and the folder cycle it makes (a check of the walk itself)', () => {
    // evidence/observer.ts made to import the top-level load-manager.ts, which imports the report.
    const observer = join(dlm, 'evidence', 'observer.ts');
    const loadManager = join(dlm, 'load-manager.ts');
    const { backArrows, folders } = stageImports((path) => [
      ...dlmImportsOf(path),
      ...(path === observer ? [loadManager] : []),
    ]);
    assert.ok(
      backArrows.includes('evidence/observer.ts -> load-manager.ts -> report/explain.ts'),
      backArrows.join('\n'),
    );
    assert.ok(foldersInCycles(folders).includes('evidence <-> report'), foldersInCycles(folders).join(', '));
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
