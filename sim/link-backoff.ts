import type { ReconnectOptions } from './types';

/**
 * The waits between reconnect attempts (sim/link.ts): exponential from `initialDelayS` up to
 * `maxDelayS`, with a seeded random spread so every run with the same identity waits the same.
 */
export class ReconnectBackoff {
  private attempt = 0;
  private jitterState: number;

  constructor(seed: string) {
    this.jitterState = hashString(seed);
  }

  /** After a connection succeeded or new credentials: start again from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }

  /** The wait before the next attempt, and that attempt's number (1 for the first). */
  next(options: ReconnectOptions | undefined): { delayMs: number; attempt: number } {
    const { initialDelayS = 1, maxDelayS = 60, factor = 2, jitter = 0 } = options ?? {};
    const baseMs = Math.min(maxDelayS, initialDelayS * factor ** this.attempt) * 1000;
    const spread = jitter > 0 ? (this.nextJitter() * 2 - 1) * jitter : 0;
    const delayMs = Math.max(0, Math.round(baseMs * (1 + spread)));
    this.attempt += 1;
    return { delayMs, attempt: this.attempt };
  }

  private nextJitter(): number {
    // mulberry32: a small seeded generator, so the spread is the same on every run.
    this.jitterState = (this.jitterState + 0x6d2b79f5) | 0;
    let t = this.jitterState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** FNV-1a, to seed per-charger generators from an identity. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
