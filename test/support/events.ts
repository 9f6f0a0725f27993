import type { EventEmitter } from 'node:events';

/**
 * Resolves with the arguments of the first `event` for which `accept` returns true; rejects after
 * `timeoutMs` with a message naming the event, so a test that waits never hangs silently.
 */
export function waitFor<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  accept: (...args: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      if (!accept(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    emitter.on(event, listener);
  });
}

/** What `until` listens to: an EventEmitter, or anything with its on/off. */
export interface Listenable {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Resolves once `check()` holds: checked now and again after each event in `wakeOn` (the events
 * that can make it hold), never on a timer. Rejects after `timeoutMs` with what `failure` says.
 */
export function until(
  check: () => boolean,
  wakeOn: [Listenable, string][],
  timeoutMs: number,
  failure: () => string | Promise<string> = () => `the condition did not hold within ${timeoutMs} ms`,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      for (const [emitter, event] of wakeOn) emitter.off(event, wake);
    };
    const wake = () => {
      if (!check()) return;
      stop();
      resolve();
    };
    const timer = setTimeout(() => {
      stop();
      Promise.resolve()
        .then(failure)
        .then((message) => reject(new Error(message)), reject);
    }, timeoutMs);
    for (const [emitter, event] of wakeOn) emitter.on(event, wake);
    wake();
  });
}

/**
 * Resolves once the asynchronous `check` holds (true), asking again every `intervalMs`; with false
 * when it still does not after `timeoutMs`, for the test's own assertion to say why. Only for
 * state another process keeps and gives on request alone, with no event to wait for: wait for the
 * event that starts the change first.
 */
export async function eventually(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  return true;
}
