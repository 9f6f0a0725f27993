/**
 * The logging surface `lib/` writes to. Node-RED nodes pass their own `log`/`warn`/`error`
 * (so messages carry the node's type and name); a plain program passes `consoleLogger`.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** What only someone looking into a problem wants (Node-RED's debug level); left out by default. */
  debug?(message: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** For library users who want no output at all. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * Warns of each cause once: an input that keeps coming wrong, a backend that keeps refusing, is
 * said once, not once per message. The causes remembered are bounded (after 1,000 it starts over,
 * so a cause may be said again then).
 */
export class WarnOnce {
  private readonly said = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Warns `message` unless it was said already. */
  warn(message: string): void {
    if (this.said.has(message)) return;
    if (this.said.size > 1000) this.said.clear();
    this.said.add(message);
    this.logger.warn(message);
  }
}
