import { seededRandom } from '../../../sim/fleet';

/**
 * A seeded source of choices for the reliability tests: the same seed always gives the same
 * frames, kills and outages, so a failure can be repeated with the seed printed in its message.
 */
export class Random {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Printable ASCII, `length` characters. */
  ascii(length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(32 + Math.floor(this.next() * 95));
    return text;
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let i = 0; i < length; i++) buffer[i] = Math.floor(this.next() * 256);
    return buffer;
  }
}

/** The seed of a reliability test: `AMPFLOW_<NAME>_SEED` when set (to repeat a failure), else fixed. */
export function seedFor(name: string, fixed: number): number {
  const text = process.env[`AMPFLOW_${name}_SEED`];
  return text ? Number(text) : fixed;
}
