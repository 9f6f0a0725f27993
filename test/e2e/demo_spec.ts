import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { nodeRedVersion } from '../support/node-red';
import { freePort } from '../support/ports';
import { type RunningProcess, run } from '../support/process';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Warnings every fresh Node-RED user directory prints at start, whatever is installed. Anything
 * else at warn or error level fails the test.
 */
const NODE_RED_STARTUP_NOTICES = [
  /\[warn\] Projects disabled : /,
  /\[warn\] Encrypted credentials not found$/,
  /\[warn\]\s*-*\s*$/,
];

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

describe(`npm start (Node-RED ${nodeRedVersion()} on Node.js ${process.version})`, function () {
  this.timeout(60000);
  let userDir: string;
  let editorPort: number;
  let ocppPort: number;
  let demo: RunningProcess;

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'ampflow-demo-'));
    editorPort = await freePort();
    ocppPort = await freePort();
    demo = run(
      process.execPath,
      [
        join(root, 'scripts', 'start.mjs'),
        '--port',
        String(editorPort),
        '--ocpp-port',
        String(ocppPort),
        '--user-dir',
        userDir,
      ],
      { cwd: root },
    );
    await demo.waitForLine(/ampflow demo: \[3\/3\] demo flow deployed/);
    await demo.waitForLine(/\[ampflow-central-system:Demo central system\] .* listening on/);
  });

  after(async () => {
    await demo?.stop('SIGKILL');
    rmSync(userDir, { recursive: true, force: true });
  });

  it('has every node of the package in the palette, loaded without error', async () => {
    const response = await fetch(`http://127.0.0.1:${editorPort}/nodes`, {
      headers: { Accept: 'application/json' },
    });
    assert.equal(response.status, 200);
    const sets = ((await response.json()) as NodeSet[]).filter((set) => set.module === pkg.name);
    const expectedTypes = Object.keys(pkg['node-red'].nodes).sort();
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), expectedTypes);
    for (const set of sets) {
      assert.equal(set.enabled, true, `${set.id} is disabled`);
      assert.equal(set.err, undefined, `${set.id} failed to load: ${set.err}`);
    }
  });

  it('serves the editor definition, help text and messages of every node', async () => {
    const response = await fetch(`http://127.0.0.1:${editorPort}/nodes`, {
      headers: { Accept: 'text/html' },
    });
    const html = await response.text();
    for (const type of Object.keys(pkg['node-red'].nodes)) {
      assert.match(html, new RegExp(`registerType\\('${type}'`), `${type} editor definition missing`);
      assert.match(html, new RegExp(`data-help-name="${type}"`), `${type} help text missing`);
    }
    const messages = await fetch(
      `http://127.0.0.1:${editorPort}/locales/${pkg.name}/ampflow-central-system?lng=en-US`,
    );
    assert.equal(messages.status, 200);
    const catalogue = (await messages.json()) as Record<string, { label?: Record<string, string> }>;
    assert.equal(catalogue['ampflow-central-system']?.label?.port, 'Port');
  });

  it('runs the demo flow: the central system accepts a charger', async () => {
    const charger = rpcChargePoint(`ws://127.0.0.1:${ocppPort}/`, 'DEMO-CP-1');
    await charger.connect();
    await charger.close();
  });

  it('prints no warning or error beyond Node-RED start-up notices', () => {
    const problems = demo.lines.filter(
      (line) =>
        /\[(warn|error)\]/.test(line) && !NODE_RED_STARTUP_NOTICES.some((notice) => notice.test(line)),
    );
    assert.deepEqual(problems, []);
  });

  it('stops cleanly on Ctrl-C (SIGINT), closing charger connections with 1001', async () => {
    const charger = rpcChargePoint(`ws://127.0.0.1:${ocppPort}/`, 'DEMO-CP-2');
    await charger.connect();
    const closed = waitFor<[{ code: number }]>(charger, 'close', () => true, 15000);
    const { code, signal } = await demo.stop('SIGINT');
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.equal((await closed)[0].code, 1001);
    assert.ok(demo.lines.some((line) => /\[info\] Stopped flows/.test(line)));
  });
});
