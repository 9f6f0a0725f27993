/** Starts bench/support/server-child.ts in a process of its own and talks to it over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { stopChild } from './child';

export type ServerKind = 'ampflow' | 'bare';

export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  cpuMs: number;
  connections: number;
  counts: Record<string, number>;
}

export const SERVER_LABELS: Record<ServerKind, string> = {
  bare: 'bare ocpp-rpc RPCServer (floor)',
  ampflow: 'ampflow CentralSystem (lib/ocpp)',
};

export class ServerProcess {
  private constructor(
    readonly kind: ServerKind,
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /**
   * `nodeOptions`: more Node.js options for the child, e.g. cpuProfileArgs(dir) (profile.ts);
   * `packageDir`: a built package (bench/support/node-red.ts buildPackage) whose compiled
   * CentralSystem the child runs, as Node-RED runs it, instead of lib/ through tsx;
   * `upstream`: the central system passes every charger through to that backend (lib/upstream).
   */
  static async start(
    kind: ServerKind,
    options: { nodeOptions?: string[]; packageDir?: string; upstream?: string } = {},
  ): Promise<ServerProcess> {
    const args = [
      kind,
      ...(options.packageDir ? ['--package', options.packageDir] : []),
      ...(options.upstream ? ['--upstream', options.upstream] : []),
    ];
    const child = fork(join(__dirname, 'server-child.ts'), args, {
      execArgv: ['--import', 'tsx', '--expose-gc', ...(options.nodeOptions ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) before it was ready`)));
      child.on('message', (message: { type: string; url: string }) => {
        if (message.type === 'ready') resolve(message);
      });
    });
    child.removeAllListeners('exit');
    return new ServerProcess(kind, child, ready.url);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Memory after two full GCs, CPU so far and message counts. */
  stats(): Promise<ServerStats> {
    return new Promise((resolve) => {
      const onMessage = (message: { type: string } & ServerStats) => {
        if (message.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send('stats');
    });
  }

  /** Messages handled so far, per action (no GC: cheap enough to ask during a measurement). */
  counts(): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      const onMessage = (message: { type: string; counts: Record<string, number> }) => {
        if (message.type !== 'counts') return;
        this.child.off('message', onMessage);
        resolve(message.counts);
      };
      this.child.on('message', onMessage);
      this.child.send('counts');
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
