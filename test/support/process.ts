import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process whose output lines are kept and can be waited for. */
export class RunningProcess {
  readonly lines: string[] = [];
  private readonly waiters = new Set<{ pattern: RegExp; skip: number; resolve: (line: string) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (process.env.AMPFLOW_TEST_VERBOSE) console.log(`    | ${line}`);
        for (const waiter of this.waiters) {
          if (!waiter.pattern.test(line)) continue;
          if (waiter.skip > 0) {
            waiter.skip -= 1;
            continue;
          }
          this.waiters.delete(waiter);
          waiter.resolve(line);
        }
      });
    }
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  /**
   * Resolves with the first line, already printed or still to come, that matches `pattern`, after
   * passing over `skip` matching lines (to wait for the next "Started flows", say).
   */
  waitForLine(pattern: RegExp, timeoutMs = 30000, skip = 0): Promise<string> {
    const seen = this.lines.filter((line) => pattern.test(line));
    if (seen.length > skip) return Promise.resolve(seen[skip] as string);
    return new Promise((resolve, reject) => {
      const waiter = {
        pattern,
        skip: skip - seen.length,
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

  /** Resolves with the next line matching `pattern` printed from now on (not one already printed). */
  nextLine(pattern: RegExp, timeoutMs = 30000): Promise<string> {
    return this.waitForLine(pattern, timeoutMs, this.lines.filter((line) => pattern.test(line)).length);
  }

  /**
   * Sends `signal` and resolves when the process has exited. After `timeoutMs` the process and
   * everything it started are killed, so no Node-RED is left running behind a test.
   */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 15000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return await this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => killTree(this.child.pid), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  for (const child of children.split('\n').map(Number).filter(Boolean)) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: boolean } = {},
) {
  const { input, ...spawnOptions } = options;
  return new RunningProcess(
    // `input`: a standard input the test types into (child.stdin), else none.
    spawn(command, args, { ...spawnOptions, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] }),
  );
}
