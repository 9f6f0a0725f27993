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
