import fc from 'fast-check';
import { DEFAULT_PHASE_SWITCH_PAUSE_MS } from '../../sim/site-charger';
import type { Plan } from './closed-loop-property';

/**
 * The closed-loop properties' chargers pause for a switch of the phases while the car draws, as
 * real ones do (sim/site-charger.ts: the car stopped, the contactor opened, switched, the car
 * asking for current again): most at the simulator's default (20 s), some anywhere from 5 to 30 s,
 * a few at once (0 s, the sites as drawn until 2026-11-26).
 *
 * Drawn after everything else of a site, so that a seed draws the sites it drew before the pause
 * was drawn (same loads, chargers and cars), each now with its chargers' pauses; a seed and a
 * path still replay one case, pauses included.
 */

const SECOND = 1000;

/** One charger's pause: mostly the default, some 5-30 s, a few none. */
export const phaseSwitchPauseArbitrary: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constant(DEFAULT_PHASE_SWITCH_PAUSE_MS), weight: 6 },
  { arbitrary: fc.integer({ min: 5, max: 30 }).map((s) => s * SECOND), weight: 3 },
  { arbitrary: fc.constant(0), weight: 1 },
);

/**
 * The plans of `plans`, each charger with its own pause (`phaseSwitchPauseMs`, explicit so that a
 * saved plan keeps it): the drawn site's four chargers one each; more chargers (a faults site's
 * crowd) take them in turn.
 */
export function withPhaseSwitchPauses(plans: fc.Arbitrary<Plan>): fc.Arbitrary<Plan> {
  return fc
    .tuple(plans, fc.array(phaseSwitchPauseArbitrary, { minLength: 4, maxLength: 4 }))
    .map(([plan, pauses]) => ({
      ...plan,
      chargers: Object.fromEntries(
        Object.entries(plan.chargers).map(([key, options], k) => [
          key,
          { ...options, phaseSwitchPauseMs: pauses[k % pauses.length] ?? DEFAULT_PHASE_SWITCH_PAUSE_MS },
        ]),
      ),
    }));
}
