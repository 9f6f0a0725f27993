import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Stops a bench's child process (a server, the chargers, the backend): asks it to stop over IPC,
 * and kills it if it has not exited within 15 s.
 */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
