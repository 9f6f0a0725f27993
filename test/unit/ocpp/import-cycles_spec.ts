import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * lib/ has no import cycle (issue #13, "one owner per rule"): a module that needs another's
 * services asks through a narrow interface instead of importing the class that implements it. A
 * cycle, even through `import type`, means two modules each know the other's insides. This walks
 * every relative import of every lib/ file and fails naming the modules of each cycle it finds.
 */

const root = resolve(__dirname, '..', '..', '..');
const lib = join(root, 'lib');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative module a file imports, re-exports or requires, type-only ones included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]/g),
    ...text.matchAll(/\b(?:require|import)\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] as string);
  return specifiers.flatMap((specifier) => {
    const base = resolve(dirname(file), specifier);
    const candidate = [`${base}.ts`, join(base, 'index.ts'), base].find(
      (path) => path.endsWith('.ts') && existsSync(path),
    );
    return candidate ? [candidate] : [];
  });
}

/** The cycles of the import graph, each as the list of its modules (Tarjan's components). */
function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = graph.get(file)?.includes(file) ?? false;
    if (component.length > 1 || selfImport) found.push(component);
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

describe('lib/ imports', () => {
  it('form no cycle (nor do those of the simulator, sim/, beside it)', () => {
    const found = cycles([...sourceFiles(lib), ...sourceFiles(join(root, 'sim'))]).map((component) =>
      component.map((file) => relative(root, file)).sort(),
    );
    assert.deepEqual(found, [], `import cycles in lib/:\n${found.map((c) => c.join(' <-> ')).join('\n')}`);
  });

  it('are found by this walk (it sees type-only and multi-line imports)', () => {
    const imports = importsOf(join(lib, 'ocpp', 'handlers.ts')).map((file) => relative(lib, file));
    assert.ok(imports.includes(join('ocpp', 'messages.ts')), imports.join(', '));
  });
});
