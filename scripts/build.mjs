// Builds the package into dist/: TypeScript to CommonJS with tsc, then the editor files Node-RED
// looks for beside each node's .js: <type>.html (put together from its parts in nodes/editor/<type>/
// by nodes/shared/editor-html.ts), locales/<lang>/ and icons/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build: tsc failed');
  process.exit(result.status ?? 1);
}

const nodesSrc = join(root, 'nodes');
const nodesOut = join(dist, 'nodes');
const { composeEditorHtml } = require(join(nodesOut, 'shared', 'editor-html.js'));
for (const file of readdirSync(nodesSrc)) {
  if (file.endsWith('.html')) writeFileSync(join(nodesOut, file), composeEditorHtml(join(nodesSrc, file)));
}
cpSync(join(nodesSrc, 'locales'), join(nodesOut, 'locales'), { recursive: true });
if (existsSync(join(root, 'icons')))
  cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
console.log('build: dist/ ready');
