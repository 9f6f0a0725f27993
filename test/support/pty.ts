import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Two pseudo-terminals wired to each other by socat: a serial cable without hardware. */
export interface PtyPair {
  /** One end (e.g. the Modbus client's serial port). */
  a: string;
  /** The other end (e.g. the simulated meters). */
  b: string;
  /** The directory holding the links. */
  dir: string;
  /** Stops socat and removes the links; close the serial ports first. */
  close(): Promise<void>;
}

/**
 * Starts `socat` with two raw, non-echoing pseudo-terminals linked at `<tmp>/a` and `<tmp>/b`
 * and resolves once socat says it moves data. socat is a Debian package (.ci/run installs it).
 */
export async function openPtyPair(options: { dir?: string; timeoutMs?: number } = {}): Promise<PtyPair> {
  const timeoutMs = options.timeoutMs ?? 5000;
  // A given directory is reused (a cable plugged in again at the same paths) and left in place.
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ampflow-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`socat did not start within ${timeoutMs} ms: ${output}`)),
        timeoutMs,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run socat (apt-get install socat): ${error.message}`));
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/starting data transfer loop/.test(output) && existsSync(a) && existsSync(b)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socat exited (${code}): ${output}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  child.stderr?.resume();
  return {
    a,
    b,
    dir,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
