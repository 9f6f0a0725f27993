/**
 * The logging surface `lib/` writes to. Node-RED nodes pass their own `log`/`warn`/`error`
 * (so messages carry the node's type and name); a plain program passes `consoleLogger`.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** For library users who want no output at all. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
