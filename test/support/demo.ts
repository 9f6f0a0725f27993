import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { type RunningProcess, run } from './process';

export const repoRoot = join(__dirname, '..', '..');
export const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

/**
 * Warnings every fresh Node-RED user directory prints at start, whatever is installed. Tests
 * treat any other warn or error line as a failure.
 */
const NODE_RED_STARTUP_NOTICES = [
  /\[warn\] Projects disabled : /,
  /\[warn\] Encrypted credentials not found$/,
  /\[warn\]\s*-*\s*$/,
];

/**
 * A real Node-RED process started by `scripts/start.mjs` (what `npm start` runs) in a temporary
 * user directory, with the simulated site (`ampflow-demo-site`) next to it unless told otherwise.
 */
export interface Demo {
  process: RunningProcess;
  editorUrl: string;
  ocppPort: number;
  /** Modbus TCP ports of the simulated grid meter and PV inverter (free ones, whether the site runs or not). */
  gridMeterPort: number;
  inverterPort: number;
  userDir: string;
  /** Log lines at warn or error level that are not Node-RED's own start-up notices. */
  problems(): string[];
  /** Stops Node-RED if still running (SIGTERM, then kills it) and removes the user directory. */
  dispose(): Promise<void>;
}

export interface DemoOptions {
  /** Start the simulated site too (default true); `--no-site` otherwise. */
  site?: boolean;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const userDir = mkdtempSync(join(tmpdir(), 'ampflow-demo-'));
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
  });
  try {
    await process_.waitForLine(/ampflow demo: \[4\/4\] demo flow deployed/);
    await process_.waitForLine(/\[ampflow-central-system:Demo central system\] .* listening on/);
  } catch (error) {
    // Nothing is left running behind a demo that did not come up.
    await process_.stop('SIGTERM');
    rmSync(userDir, { recursive: true, force: true });
    throw error;
  }
  return {
    process: process_,
    editorUrl: `http://127.0.0.1:${editorPort}`,
    ocppPort,
    gridMeterPort,
    inverterPort,
    userDir,
    problems: () =>
      process_.lines.filter(
        (line) =>
          /\[(warn|error)\]/.test(line) && !NODE_RED_STARTUP_NOTICES.some((notice) => notice.test(line)),
      ),
    async dispose() {
      await process_.stop('SIGTERM');
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers mocha hooks that start the demo Node-RED before the suite's tests and stop it after;
 * returns a getter for it.
 */
export function useDemo(options: DemoOptions = {}): () => Demo {
  let demo: Demo | undefined;
  before(async function () {
    this.timeout(60000);
    demo = await startDemo(options);
  });
  after(async () => {
    await demo?.dispose();
  });
  return () => {
    if (!demo) throw new Error('the demo Node-RED did not start');
    return demo;
  };
}
