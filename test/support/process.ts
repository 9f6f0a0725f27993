import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process whose output lines are kept and can be waited for. */
export class RunningProcess {
  readonly lines: string[] = [];
  private readonly waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (process.env.AMPFLOW_TEST_VERBOSE) console.log(`    | ${line}`);
        for (const waiter of this.waiters) {
          if (waiter.pattern.test(line)) {
            this.waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      });
    }
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  /** Resolves with the first line (already printed or still to come) that matches `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 30000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.lines.join('\n')}`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
      this.exited.then(({ code, signal }) => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(
          new Error(
            `process exited (${signal ?? code}) before printing ${pattern}; output:\n${this.lines.join('\n')}`,
          ),
        );
      });
    });
  }

  /** Sends `signal` and resolves when the process has exited; kills it after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 15000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return await this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return new RunningProcess(spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] }));
}
