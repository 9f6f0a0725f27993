import { type Clock, systemClock } from '../clock';
import type { Logger } from '../log';

/**
 * How long a bus that has not worked since it started may fail before that is a warning: the
 * normal start-up (a gateway booting with Node-RED) is information, a meter still unreachable
 * after the load manager's default stale time (30 s) is a dead meter.
 */
export const START_GRACE_MS = 30_000;

/**
 * What a bus logs. A flapping connection and an overloaded queue are each logged once per change,
 * not on every connect attempt or every poll: a gateway that accepts and drops connections, or a
 * bus polled faster than it carries, must not flood the log.
 */
export class BusLog {
  /**
   * What the log last said about the connection: `starting` is failing before it ever worked
   * (information, within {@link START_GRACE_MS}), `failing` was warned about.
   */
  private health: 'nothing' | 'starting' | 'working' | 'failing' = 'nothing';
  /** When the connection first failed before it ever worked. */
  private startedFailingAtMs: number | undefined;
  /** Whether an overloaded queue has been logged since the queue last ran empty. */
  private overloadReported = false;

  constructor(
    private readonly log: Logger,
    private readonly name: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * "working" (a device answered on this connection) or "failing"; logged when it changes: a
   * failing connection once as a warning however often it retries (a log filtered to warnings
   * shows a dead meter), working again as information. A bus that never worked yet fails as
   * information for its first {@link START_GRACE_MS}, then warns once.
   */
  connection(health: 'working' | 'failing', message: string): void {
    const line = `modbus bus "${this.name}": ${message}`;
    if (health === 'working') {
      if (this.health === 'working') return;
      this.health = 'working';
      this.log.info(line);
      return;
    }
    if (this.health === 'failing') return;
    if (this.health === 'working') {
      this.health = 'failing';
      this.log.warn(line);
      return;
    }
    const now = this.clock.now();
    this.startedFailingAtMs ??= now;
    const failingMs = now - this.startedFailingAtMs;
    if (failingMs < START_GRACE_MS) {
      if (this.health === 'nothing')
        this.log.info(`${line} (a warning follows if it fails for ${START_GRACE_MS / 1000} s)`);
      this.health = 'starting';
      return;
    }
    this.health = 'failing';
    this.log.warn(`${line} (failing since it started, ${Math.round(failingMs / 1000)} s)`);
  }

  /** Logged once, until the queue has run empty again ({@link caughtUp}). */
  overloaded(what: string): void {
    if (this.overloadReported) return;
    this.overloadReported = true;
    this.log.warn(
      `modbus bus "${this.name}" is overloaded: ${what}; poll less often or split the devices over more buses`,
    );
  }

  /** The queue ran empty: the next overload is news again. */
  caughtUp(): void {
    this.overloadReported = false;
  }

  warn(message: string): void {
    this.log.warn(`modbus bus "${this.name}": ${message}`);
  }
}
