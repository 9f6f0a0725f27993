import type { ManualClock } from '../../lib/clock';

/**
 * Advances a simulator's ManualClock in steps of `stepMs`, letting every message the simulator
 * sends be answered after each step.
 */
export async function advance(
  cp: { whenIdle(): Promise<void> },
  clock: ManualClock,
  totalMs: number,
  stepMs = totalMs,
): Promise<void> {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - elapsed));
    await cp.whenIdle();
  }
}
