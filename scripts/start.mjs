// `npm start`: runs Node-RED on http://127.0.0.1:1880 with this checkout installed into a local
// user directory (.demo/, git-ignored) and the demo flow deployed. Ctrl-C stops it cleanly.
//
// Options (after `npm start --`):
//   --port <n>         editor and admin API port (default 1880)
//   --ocpp-port <n>    port of the demo's central system (default 9000)
//   --user-dir <dir>   Node-RED user directory (default .demo)
//   --reset            replace the flows in the user directory with the shipped demo flow
// AMPFLOW_NODE_RED_DIR selects another Node-RED install (the Node-RED 5 leg of .ci/run).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const say = (line) => console.log(`ampflow demo: ${line}`);

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '1880' },
    'ocpp-port': { type: 'string', default: '9000' },
    'user-dir': { type: 'string', default: join(root, '.demo') },
    reset: { type: 'boolean', default: false },
  },
});
const userDir = resolve(args['user-dir']);
const nodeRedDir =
  process.env.AMPFLOW_NODE_RED_DIR ||
  dirname(createRequire(import.meta.url).resolve('node-red/package.json'));
const nodeRedVersion = JSON.parse(readFileSync(join(nodeRedDir, 'package.json'), 'utf8')).version;

// 1. The user directory: this checkout linked in as an installed module (what
//    `npm install <path>` does, without touching the network), settings and the demo flow.
say(
  `[1/3] preparing the Node-RED user directory ${userDir.startsWith(root) ? relative(root, userDir) : userDir}`,
);
mkdirSync(userDir, { recursive: true });
writeFileSync(
  join(userDir, 'package.json'),
  `${JSON.stringify({ name: 'ampflow-demo', private: true, dependencies: { [pkg.name]: `file:${relative(userDir, root) || '.'}` } }, null, 2)}\n`,
);
const link = join(userDir, 'node_modules', ...pkg.name.split('/'));
mkdirSync(dirname(link), { recursive: true });
rmSync(link, { recursive: true, force: true });
symlinkSync(relative(dirname(link), root), link, 'dir');

writeFileSync(
  join(userDir, 'settings.js'),
  `// Written by ampflow's scripts/start.mjs on every start; edit that script, not this file.
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  flowFilePretty: true,
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: {
    tours: false,
    palette: { categories: ['EV charging', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
  },
};
`,
);

const shippedFlow = JSON.parse(readFileSync(join(root, 'demo', 'flows.json'), 'utf8'));
for (const node of shippedFlow) {
  if (node.type === 'ampflow-central-system') node.port = args['ocpp-port'];
}
const flowText = `${JSON.stringify(shippedFlow, null, 4)}\n`;
const flowFile = join(userDir, 'flows.json');
const stampFile = join(userDir, '.demo-flow-sha256');
const shippedHash = createHash('sha256').update(flowText).digest('hex');
const deployedHash = existsSync(flowFile)
  ? createHash('sha256').update(readFileSync(flowFile)).digest('hex')
  : undefined;
const lastShippedHash = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : undefined;
if (args.reset || !deployedHash || (deployedHash === lastShippedHash && deployedHash !== shippedHash)) {
  writeFileSync(flowFile, flowText);
  writeFileSync(stampFile, shippedHash);
  say('      demo flow written');
} else if (deployedHash !== shippedHash) {
  say('      keeping your edited flows (npm start -- --reset restores the demo flow)');
}

// 2. Node-RED itself, as its own process so that its log and its Ctrl-C handling are the real ones.
say(`[2/3] starting Node-RED ${nodeRedVersion} on http://127.0.0.1:${args.port}`);
const child = spawn(
  process.execPath,
  [
    join(nodeRedDir, 'red.js'),
    '--userDir',
    userDir,
    '--settings',
    join(userDir, 'settings.js'),
    '--port',
    args.port,
  ],
  { stdio: ['inherit', 'pipe', 'inherit'] },
);

// 3. Wait for the first deploy by watching Node-RED's own log line.
let deployed = false;
createInterface({ input: child.stdout }).on('line', (line) => {
  console.log(line);
  if (!deployed && /\[info\] Started flows/.test(line)) {
    deployed = true;
    say(`[3/3] demo flow deployed: open http://127.0.0.1:${args.port} (Ctrl-C stops)`);
  }
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  say(signal ? `Node-RED stopped by ${signal}` : `Node-RED exited with code ${code}`);
  process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
});
