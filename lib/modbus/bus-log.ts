import type { Logger } from '../log';

/**
 * What a bus logs. A flapping connection and an overloaded queue are each logged once per change,
 * not on every connect attempt or every poll: a gateway that accepts and drops connections, or a
 * bus polled faster than it carries, must not flood the log.
 */
export class BusLog {
  /** What the log last said about the connection. */
  private health: 'nothing' | 'working' | 'failing' = 'nothing';
  /** Whether an overloaded queue has been logged since the queue last ran empty. */
  private overloadReported = false;

  constructor(
    private readonly log: Logger,
    private readonly name: string,
  ) {}

  /** "working" (a device answered on this connection) or "failing"; logged when it changes. */
  connection(health: 'working' | 'failing', message: string): void {
    if (this.health === health) return;
    this.health = health;
    this.log.info(`modbus bus "${this.name}": ${message}`);
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
