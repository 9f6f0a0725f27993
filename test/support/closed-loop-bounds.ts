import type { Triple } from '../../lib/dlm/site';
import type { Plan } from './closed-loop-property';

/** What the closed-loop properties' windows bound (closed-loop-property.ts), worked out of a plan. */

/** The same bound on every phase. */
export function everyPhase(a: number): Triple {
  return [a, a, a];
}

/** The levels of load steps at `atMs` (0 before the first). */
export function levelAt(steps: { fromMs: number; levels: Triple }[], atMs: number): Triple {
  let levels: Triple = [0, 0, 0];
  for (const step of steps) if (step.fromMs <= atMs) levels = step.levels;
  return levels;
}

/**
 * What a charger that draws its maximum `maxA` draws at most: its car's overshoot above what it is
 * given included (closed-loop-population.ts), the most of the plan's cars.
 */
export function drawnA(plan: Plan, maxA: number): number {
  const overshoot = Math.max(0, ...plan.cars.map((car) => car.ev.overshootPercent ?? 0));
  return maxA * (1 + overshoot / 100);
}
