/** Starts bench/support/charger-child.ts (simulated chargers in their own process) and talks to it over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { stopChild } from './child';

export interface ChargerFleetOptions {
  url: string;
  count: number;
  connectors: number;
  prefix: string;
  maxCurrentA: number;
}

/** One run's arrivals: per connector (`LAT-1/2`), monotonicMs() of its first SetChargingProfile, and the newest limit. */
export interface Arrivals {
  atMs: Record<string, number>;
  limits: Record<string, number>;
}

export class ChargerProcess {
  private constructor(
    readonly child: ChildProcess,
    /** Every connector, `<identity>/<connectorId>`, all with a transaction running. */
    readonly keys: string[],
  ) {}

  /** Forks the child, connects its chargers to `options.url` and starts a transaction on every connector. */
  static async start(options: ChargerFleetOptions): Promise<ChargerProcess> {
    const child = fork(join(__dirname, 'charger-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = (code: number | null) => new Error(`charger process exited (${code}) before it was ready`);
    const ready = new Promise<{ keys: string[] }>((resolve, reject) => {
      child.once('exit', (code) => reject(exited(code)));
      child.on('message', (message: { type: string; keys: string[] }) => {
        if (message.type === 'ready') resolve(message);
      });
    });
    child.send({ type: 'start', ...options });
    const { keys } = await ready;
    child.removeAllListeners('exit');
    child.removeAllListeners('message');
    return new ChargerProcess(child, keys);
  }

  /** The newest SetChargingProfile limit each connector got (since the last watch()). */
  limits(): Promise<Record<string, number>> {
    return this.ask({ type: 'limits' }, 'limits').then((m) => m.limits as Record<string, number>);
  }

  /**
   * Starts watching run `run` (resolves once the child is watching, before the change is made); the
   * returned `arrived` resolves when every connector has had a SetChargingProfile in it.
   */
  async watch(run: number): Promise<{ arrived: Promise<Arrivals> }> {
    const arrived = this.next((m) => m.type === 'arrived' && m.run === run) as Promise<Arrivals & Reply>;
    await this.ask({ type: 'watch', run }, 'watching');
    return { arrived };
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  private ask(message: { type: string } & Record<string, unknown>, answer: string): Promise<Reply> {
    const reply = this.next((m) => m.type === answer);
    this.child.send(message);
    return reply;
  }

  private next(matches: (message: Reply) => boolean): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => {
        this.child.off('message', onMessage);
        reject(new Error(`charger process exited (${code})`));
      };
      const onMessage = (message: Reply) => {
        if (!matches(message)) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

type Reply = { type: string; run?: number } & Record<string, unknown>;
