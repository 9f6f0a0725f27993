import fc from 'fast-check';
import { withPhaseSwitchPauses } from './closed-loop-pause';
import { IT_POPULATION, withPopulation } from './closed-loop-population';
import { type Plan, siteArbitrary } from './closed-loop-property';

/**
 * The closed-loop property's random sites (siteArbitrary, its draws unchanged) on an IT network
 * (3×230 V without a neutral, lib/dlm/phases.ts `Network`), with a share of single-phase
 * connectors and of single-phase cars: test/unit/dlm/closed-loop-it_spec.ts (short form) and
 * test/reliability/closed-loop_spec.ts (2,000 sites).
 */

/** The property's sites as IT sites: each connector single-phase or not, each car single-phase or not. */
const itSitesArbitrary: fc.Arbitrary<Plan> = withPhaseSwitchPauses(
  fc
    .tuple(
      siteArbitrary,
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    )
    .map(([plan, onePhaseConnector, onePhaseCar]) => {
      plan.site.network = 'IT';
      plan.site.connectors = plan.site.connectors.map((c, k) =>
        onePhaseConnector[k] ? { ...c, phases: 1, canSwitchPhases: false } : c,
      );
      for (const [k, connector] of plan.site.connectors.entries()) {
        const key = `${connector.chargePointId}/1`;
        if (connector.phases === 1) {
          const options = plan.chargers[key];
          if (options) delete options.ignoresPhaseSwitch;
        }
        for (const car of plan.cars) if (car.connector === key && onePhaseCar[k]) car.ev.phases = 1;
      }
      return plan;
    }),
);

/**
/**
 * Those sites, each charger with its habits of the fleet, drawn last (closed-loop-population.ts:
 * its table says which the IT property plays; IT seed 20261126 path 1946, with stations without
 * SmartCharging, is fixed: the judge's window for a charger that offers more than told starts when
 * it draws, closed-loop-property.ts).
 */
export const itPlanArbitrary: fc.Arbitrary<Plan> = withPopulation(itSitesArbitrary, IT_POPULATION);

/** The short form's command that replays one IT case (closed-loop-it_spec.ts's environment variables). */
export function itReplayCommand(seed: number, path: string): string {
  return `IT_PROPERTY_SEED=${seed} IT_PROPERTY_PATH=${path} IT_PROPERTY_RUNS=1 npx mocha test/unit/dlm/closed-loop-it_spec.ts --grep "random IT"`;
}
