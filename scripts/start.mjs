// `npm start`: runs Node-RED on http://127.0.0.1:1880 with this checkout installed into a local
// user directory (.demo/, git-ignored) and the demo flow deployed, next to a simulated site (a
// separate process: grid meter and PV inverter over Modbus TCP, five OCPP chargers with cars)
// that the flow reaches over the same sockets real devices use. Ctrl-C stops both cleanly.
// The options are in USAGE below (`npm start -- --help` prints them).
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
const USAGE = `Usage: npm start -- [options]   (or: node scripts/start.mjs [options])

Runs Node-RED with this checkout installed and the demo flow deployed, next to a simulated site
(grid meter and PV inverter over Modbus TCP, five OCPP chargers with cars). Ctrl-C stops both.

Options:
  --port <n>              editor and admin API port (default 1880)
  --ocpp-port <n>         port of the demo's central system (default 9000)
  --grid-meter-port <n>   Modbus TCP port of the simulated grid meter (default 1502)
  --inverter-port <n>     Modbus TCP port of the simulated PV inverter (default 1503)
  --day-minutes <m>       real minutes one simulated day takes (default 15)
  --no-site               no simulated site: the flow talks to whatever its nodes name
  --user-dir <dir>        Node-RED user directory (default .demo)
  --reset                 replace the flows in the user directory with the shipped demo flow
  -h, --help              print this and exit

Environment: AMPFLOW_NODE_RED_DIR selects another Node-RED install.`;

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const say = (line) => console.log(`ampflow demo: ${line}`);

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '1880' },
      'ocpp-port': { type: 'string', default: '9000' },
      'grid-meter-port': { type: 'string', default: '1502' },
      'inverter-port': { type: 'string', default: '1503' },
      'day-minutes': { type: 'string', default: '15' },
      'no-site': { type: 'boolean', default: false },
      'user-dir': { type: 'string', default: join(root, '.demo') },
      reset: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
  if (args.help) {
    console.log(USAGE);
    process.exit(0);
  }
  for (const name of ['port', 'ocpp-port', 'grid-meter-port', 'inverter-port']) {
    const port = Number(args[name]);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`--${name} ${args[name]}: expected a port number from 1 to 65535`);
  }
  if (!(Number(args['day-minutes']) >= 0.1))
    throw new Error(`--day-minutes ${args['day-minutes']}: expected a number of minutes, at least 0.1`);
} catch (error) {
  console.error(`ampflow demo: ${error.message} (--help lists the options)`);
  process.exit(2);
}
const withSite = !args['no-site'];
const steps = 4;
const step = (n, line) => say(`[${n}/${steps}] ${line}`);
const userDir = resolve(args['user-dir']);
const nodeRedDir =
  process.env.AMPFLOW_NODE_RED_DIR ||
  dirname(createRequire(import.meta.url).resolve('node-red/package.json'));
const nodeRedVersion = JSON.parse(readFileSync(join(nodeRedDir, 'package.json'), 'utf8')).version;
const siteBin = join(root, 'dist', 'bin', 'ampflow-demo-site.js');
if (withSite && !existsSync(siteBin)) {
  say(`${relative(root, siteBin)} is missing: run npm run build first (npm start does)`);
  process.exit(1);
}

// 1. The user directory: this checkout linked in as an installed module (what
//    `npm install <path>` does, without touching the network), settings and the demo flow.
step(
  1,
  `installing the package into the Node-RED user directory ${userDir.startsWith(root) ? relative(root, userDir) : userDir}`,
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

// The shipped flow names the default ports; the options move them.
const shippedFlow = JSON.parse(readFileSync(join(root, 'demo', 'flows.json'), 'utf8'));
for (const node of shippedFlow) {
  if (node.type === 'ampflow-central-system') node.port = args['ocpp-port'];
  if (node.type === 'ampflow-modbus-bus' && node.port === '1502') node.port = args['grid-meter-port'];
  else if (node.type === 'ampflow-modbus-bus' && node.port === '1503') node.port = args['inverter-port'];
}
// The facility dashboard needs FlowFuse Dashboard 2.0 (a devDependency, so `npm install` brings it;
// Node-RED finds it in this checkout's node_modules). Without it the dashboard tab is left out:
// Node-RED would otherwise hold the whole flow back, waiting for the missing node types.
const DASHBOARD_TAB = 'ampflow-demo-ui-tab';
let withDashboard = true;
try {
  createRequire(join(nodeRedDir, 'package.json')).resolve('@flowfuse/node-red-dashboard/package.json');
} catch {
  withDashboard = false;
}
const demoFlow = withDashboard
  ? shippedFlow
  : shippedFlow
      .filter((node) => node.id !== DASHBOARD_TAB && node.z !== DASHBOARD_TAB && !node.type.startsWith('ui-'))
      .filter((node) => !(node.type === 'link out' && node.id.startsWith('ampflow-demo-ui-')))
      .map((node) =>
        Array.isArray(node.wires)
          ? {
              ...node,
              wires: node.wires.map((out) => out.filter((id) => !id.startsWith('ampflow-demo-ui-'))),
            }
          : node,
      );
if (!withDashboard)
  say('      @flowfuse/node-red-dashboard is not installed: the demo runs without its dashboard');
const flowText = `${JSON.stringify(demoFlow, null, 4)}\n`;
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

/** Child processes: both are stopped when either ends or on Ctrl-C. */
const children = new Map();
let stopping = false;
let exitCode = 0;
function stopAll(signal) {
  stopping = true;
  for (const child of children.values()) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
function watchChild(name, child, onLine) {
  children.set(name, child);
  createInterface({ input: child.stdout }).on('line', (line) => {
    console.log(line);
    onLine?.(line);
  });
  return new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (!stopping) {
        say(`${name} ${signal ? `stopped by ${signal}` : `exited with code ${code}`}; stopping the demo`);
        exitCode = 1;
        stopAll('SIGTERM');
      } else if (code && code !== 0 && name === 'Node-RED') exitCode = code;
      resolveExit();
      if (children.size === 0) {
        say('stopped');
        process.exit(exitCode);
      }
    });
  });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(signal));

// 2. The simulated site, as its own process: the flow reaches it only over Modbus TCP and OCPP.
if (withSite) {
  step(
    2,
    `starting the simulated site: grid meter and PV inverter on Modbus TCP 127.0.0.1:${args['grid-meter-port']} and :${args['inverter-port']}, chargers CP-1..CP-5 dialling ws://127.0.0.1:${args['ocpp-port']}/`,
  );
  const site = spawn(
    process.execPath,
    [
      siteBin,
      '--url',
      `ws://127.0.0.1:${args['ocpp-port']}/`,
      '--grid-meter-port',
      args['grid-meter-port'],
      '--inverter-port',
      args['inverter-port'],
      '--day-minutes',
      args['day-minutes'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let ready;
  const siteReady = new Promise((resolveReady) => {
    ready = resolveReady;
  });
  watchChild('the simulated site', site, (line) => {
    if (/^ampflow-demo-site: ready/.test(line)) ready();
  });
  site.on('exit', () => ready());
  await siteReady;
  if (stopping || children.size === 0) await new Promise(() => {});
} else {
  step(2, 'no simulated site (--no-site): the flow talks to the meters and chargers its nodes name');
}

// 3. Node-RED itself, as its own process so that its log and its Ctrl-C handling are the real ones.
step(3, `starting Node-RED ${nodeRedVersion} on http://127.0.0.1:${args.port}`);
const nodeRed = spawn(
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

// 4. Wait for the first deploy by watching Node-RED's own log line.
// Node-RED logs in the machine's language: where that is not English, the demo's central system
// answering as listening on the admin API says the same.
let deployed = false;
const announce = () => {
  if (deployed) return;
  deployed = true;
  clearInterval(listening);
  step(4, `demo flow deployed: open http://127.0.0.1:${args.port} (Ctrl-C stops)`);
  if (withDashboard) say(`      facility dashboard: http://127.0.0.1:${args.port}/dashboard`);
};
const listening = setInterval(() => {
  fetch(`http://127.0.0.1:${args.port}/ampflow-central-system/chargers`)
    .then((res) => (res.ok ? res.json() : []))
    .then((systems) => {
      if (Array.isArray(systems) && systems.some((cs) => cs.state === 'listening')) announce();
    })
    .catch(() => undefined);
}, 500);
listening.unref();
watchChild('Node-RED', nodeRed, (line) => {
  if (/\[info\] Started flows/.test(line)) announce();
});
