import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeRed, useStarted, watchNodeRed, writeEditorSettings } from './node-red';
import { freePort } from './ports';
import { run } from './process';
import { repoRoot } from './repo';

/**
 * A real Node-RED process started by `scripts/start.mjs` (what `npm start` runs) in a temporary
 * user directory, with the simulated site (`ampflow-demo-site`) next to it unless told otherwise.
 * The script is the demo's own entry point; its process is handled as every other Node-RED here
 * (test/support/node-red.ts).
 */
export interface Demo extends NodeRed {
  ocppPort: number;
  /** Modbus TCP ports of the simulated grid meter and PV inverter (free ones, whether the site runs or not). */
  gridMeterPort: number;
  inverterPort: number;
}

export interface DemoOptions {
  /** Start the simulated site too (default true); `--no-site` otherwise. */
  site?: boolean;
  /** The Node-RED install to run (AMPFLOW_NODE_RED_DIR for the script; default the environment's). */
  nodeRedDir?: string;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const userDir = mkdtempSync(join(tmpdir(), 'ampflow-demo-'));
  // The editor's tips off, as in every test Node-RED (node-red.ts writeEditorSettings): Node-RED 5
  // threw "Cannot read properties of undefined (reading 'html')" in the demo's editor on a busy CI.
  writeEditorSettings(userDir);
  const editorPort = await freePort();
  const ocppPort = await freePort();
  const gridMeterPort = await freePort();
  const inverterPort = await freePort();
  const args = [
    '--port',
    String(editorPort),
    '--ocpp-port',
    String(ocppPort),
    '--grid-meter-port',
    String(gridMeterPort),
    '--inverter-port',
    String(inverterPort),
    '--user-dir',
    userDir,
    ...(options.site === false ? ['--no-site'] : []),
  ];
  const process_ = run(process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), ...args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      // The script writes its own settings (no `lang`), so Node-RED speaks the language of LC_ALL,
      // LC_MESSAGES or LANG, the first one set; the script and these tests wait for English lines.
      LC_ALL: 'en_US.UTF-8',
      ...(options.nodeRedDir ? { AMPFLOW_NODE_RED_DIR: options.nodeRedDir } : {}),
    },
  });
  const nodeRed = await watchNodeRed(process_, {
    url: `http://127.0.0.1:${editorPort}`,
    userDir,
    ready: [
      { pattern: /ampflow demo: \[4\/4\] demo flow deployed/ },
      { pattern: /\[ampflow-central-system:Demo central system\] .* listening on/ },
    ],
    cleanup: () => rmSync(userDir, { recursive: true, force: true }),
  });
  return { ...nodeRed, ocppPort, gridMeterPort, inverterPort };
}

/**
 * Registers mocha hooks that start the demo Node-RED before the suite's tests and stop it after;
 * returns a getter for it.
 */
export function useDemo(options: DemoOptions = {}): () => Demo {
  return useStarted(() => startDemo(options), 60000);
}
