/** Starts bench/support/backend-child.ts (the operator's backend) in a process of its own; IPC to it. */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { stopChild } from './child';

/** A MeterValues the backend got: which charger, its energy register, when (µs, CLOCK_MONOTONIC). */
export type Arrival = [identity: string, energy: string, atUs: number];

export class BackendProcess {
  private constructor(
    readonly child: ChildProcess,
    /** Where a proxy dials, `{identity}` at its end. */
    readonly urlTemplate: string,
  ) {}

  static async start(): Promise<BackendProcess> {
    const child = fork(join(__dirname, 'backend-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the backend exited (${code}) before it was ready`)));
      child.on('message', (message: { type: string; url: string }) => {
        if (message.type === 'ready') resolve(message);
      });
    });
    child.removeAllListeners('exit');
    return new BackendProcess(child, ready.url);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Where a charger dials the backend directly (the identity appended). */
  get directUrl(): string {
    return this.urlTemplate.replace('{identity}', '');
  }

  /** Calls per action, `clients` connected, `badMessages` the strict server refused. */
  counts(): Promise<Record<string, number>> {
    return this.ask<{ counts: Record<string, number> }>('counts').then((m) => m.counts);
  }

  /** The MeterValues that arrived since the last call (and what the strict server refused, if any). */
  arrivals(): Promise<{ arrivals: Arrival[]; badMessages: string[] }> {
    return this.ask('arrivals');
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  private ask<T>(type: string): Promise<T> {
    return new Promise((resolve) => {
      const onMessage = (message: { type: string } & T) => {
        if (message.type !== type) return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send(type);
    });
  }
}
