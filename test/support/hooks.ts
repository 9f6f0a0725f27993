/**
 * Mocha hooks that make something before each test (`each`) or before the suite (`all`) and close
 * it after; returns a getter for it, which throws `missing` when there is none (outside a test, or
 * when making it failed). `timeoutMs` is the time the making may take.
 */
export function useMade<T>(
  scope: 'each' | 'all',
  make: () => T | Promise<T>,
  close: (made: T) => Promise<void>,
  options: { missing: string; timeoutMs?: number },
): () => T {
  let made: T | undefined;
  const [setUp, tearDown] = scope === 'each' ? [beforeEach, afterEach] : [before, after];
  setUp(async function () {
    if (options.timeoutMs !== undefined) this.timeout(options.timeoutMs);
    made = await make();
  });
  tearDown(async () => {
    if (made !== undefined) await close(made);
  });
  return () => {
    if (made === undefined) throw new Error(options.missing);
    return made;
  };
}
