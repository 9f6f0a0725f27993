import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The garbage collector, so heap figures mean live objects rather than garbage not yet collected:
 * `global.gc` when node runs with --expose-gc, else obtained by switching the flag on at run time
 * (V8 allows it; the function comes from a fresh context). Undefined if neither works, and the
 * caller falls back to a generous bound.
 */
export function garbageCollector(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** Heap in use after a full collection (several, so weak references and finalizers settle). */
export async function settledHeapBytes(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
