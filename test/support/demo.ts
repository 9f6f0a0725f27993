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

/** A real Node-RED process started by `scripts/start.mjs` (what `npm start` runs) in a temporary user directory. */
export interface Demo {
  process: RunningProcess;
  editorUrl: string;
  ocppPort: number;
  userDir: string;
  /** Log lines at warn or error level that are not Node-RED's own start-up notices. */
  problems(): string[];
  /** Stops Node-RED if still running (SIGTERM, then kills it) and removes the user directory. */
  dispose(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  const userDir = mkdtempSync(join(tmpdir(), 'ampflow-demo-'));
  const editorPort = await freePort();
  const ocppPort = await freePort();
  const args = ['--port', String(editorPort), '--ocpp-port', String(ocppPort), '--user-dir', userDir];
  const process_ = run(process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), ...args], {
    cwd: repoRoot,
  });
  await process_.waitForLine(/ampflow demo: \[3\/3\] demo flow deployed/);
  await process_.waitForLine(/\[ampflow-central-system:Demo central system\] .* listening on/);
  return {
    process: process_,
    editorUrl: `http://127.0.0.1:${editorPort}`,
    ocppPort,
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
export function useDemo(): () => Demo {
  let demo: Demo | undefined;
  before(async function () {
    this.timeout(60000);
    demo = await startDemo();
  });
  after(async () => {
    await demo?.dispose();
  });
  return () => {
    if (!demo) throw new Error('the demo Node-RED did not start');
    return demo;
  };
}
