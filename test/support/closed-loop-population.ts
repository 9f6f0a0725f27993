import fc from 'fast-check';
import type { Plan } from './closed-loop-property';

/**
 * The closed-loop properties' chargers drawn from the fleet as found (issue #45, docs/chargers.md):
 * stations without `ChargeProfileMaxStackLevel` (limits at stack level 0: they keep their last one
 * when ampflow is gone) or with a vendor key that keeps it; stations without SmartCharging (they
 * reject every SetChargingProfile); meters per phase, one current without a phase (EVlink) or
 * energy only (OCPP 1.6's default measurand kept); readings every 5-60 s; a limit followed in
 * 1-60 s; cars that draw up to 3 % above their limit, or less than it (their own maximum, 6-32 A).
 * (2.0.1 stations that do not implement SetChargingProfile: the properties model no protocol; a
 * station that rejects its limits is the same to the load manager.)
 *
 * Drawn after everything else of a site, its phase-switch pauses included (closed-loop-pause.ts),
 * so that a seed draws the sites it drew before (same loads, chargers and cars), each charger then
 * given its habits: the drawn site's four chargers one each, more (a faults site's crowd) in turn.
 * Every habit is drawn whether it is on or not (POPULATION says which are), so that turning one
 * on or off leaves the others' draws alone.
 */

const SECOND = 1000;

/** One switch per habit: on, the properties' chargers have it where drawn. */
export interface Population {
  /** No ChargeProfileMaxStackLevel, or a vendor key: it keeps its last limit when ampflow is gone. */
  keepers: boolean;
  /** No SmartCharging: it rejects its limits and draws what its car takes. */
  noSmartCharging: boolean;
  /** Its meter reports one current without a phase. */
  unphased: boolean;
  /** Its meter reports energy only. */
  energyOnly: boolean;
  /** It reports every 5-60 s (a property's 5 min stays where it drew it). */
  reporting: boolean;
  /** It follows a limit in 1-60 s. */
  following: boolean;
  /** Its cars draw 0-3 % above their limit. */
  overshoot: boolean;
  /** Its cars take at most 6-32 A (their own maximum), often less than their limit. */
  ownMaximum: boolean;
}

/**
 * The habits the properties play by default. Off: those that break the property on main today
 * (the seed that shows it in the module's report, /work/reports and the commit that sets it).
 */
export const POPULATION: Population = fromEnvironment({
  keepers: true,
  noSmartCharging: true,
  // (POPULATION=unphased,ownMaximum PROPERTY_SEED=45005 PROPERTY_PATH=157, a charger that ignores
  // its limits counted on one phase after a switch it never made, is fixed: draws.ts unphasedOn.)
  unphased: true,
  // Energy-only meters: the cases found (seed 4501 path 227, 4601 paths 63, 256, 478, 4611 path 808)
  // are fixed and kept (closed-loop-fixed/), but with every default habit and energyOnly on, seed 4611
  // still fails: POPULATION=keepers,noSmartCharging,reporting,ownMaximum,energyOnly PROPERTY_SEED=4611
  // PROPERTY_PATH=255 (6 A over for 540 s: a rogue whose one-phase car its register cannot tell from a
  // three-phase car within its limit), also 362 and 1128, not diagnosed yet.
  energyOnly: false,
  reporting: true,
  // Chargers that take 1-60 s to follow a limit break the base property on 22 of 10,000 sites of
  // its reliability seed and the PV property on 2 of 2,000 (the faults property, whose sites have
  // 10-60 s chargers of their own, passed 10,000 each on 45001 and 45002): e.g. POPULATION=following
  // PROPERTY_SEED=20261123 PROPERTY_PATH=1487 (also 202, 2920, 3274, 3748), or the default habits with
  // following on: PROPERTY_PATH=1834, 1954, 2034, 2663; PV PROPERTY_SEED=20261124 paths 111, 266.
  // Not yet diagnosed (the load manager or a window the judge lacks): off until it is.
  following: false,
  // Cars above their limit: the learned overshoot is kept on every circuit (seed 4601 paths 83, 128,
  // 148, faults 4602 path 241 fixed and kept), but a new car's first set-point may fill a breaker
  // before its overshoot is learned: POPULATION=keepers,noSmartCharging,reporting,ownMaximum,overshoot
  // PROPERTY_SEED=4611 PROPERTY_PATH=904 (0.32 A over for 7 s); with energyOnly too, paths 47, 792.
  overshoot: false,
  ownMaximum: true,
});

/**
 * POPULATION=<habit>,<habit> (or `none`, or `all`) turns on those habits alone: what a replay of a
 * failure of a habit that is off by default needs, and what tries one on its own.
 */
function fromEnvironment(defaults: Population): Population {
  const given = process.env.POPULATION;
  if (given === undefined) return defaults;
  const names = Object.keys(defaults) as (keyof Population)[];
  const wanted = given === 'all' ? names : given.split(',').filter((n) => n && n !== 'none');
  for (const name of wanted)
    if (!names.includes(name as keyof Population))
      throw new Error(`POPULATION: no habit '${name}' (habits: ${names.join(', ')})`);
  return Object.fromEntries(names.map((n) => [n, wanted.includes(n)])) as unknown as Population;
}

interface Habits {
  keeps: boolean;
  smartCharging: boolean;
  meter: 'perPhase' | 'unphased' | 'energyOnly';
  reportingS: number;
  followingS: number;
  overshootPercent: number;
  ownMaximumA: number | null;
}

/** One charger's habits as found: most per phase, smart charging, no overshoot to speak of. */
const habitsArbitrary: fc.Arbitrary<Habits> = fc.record({
  keeps: fc.boolean(),
  smartCharging: fc.constantFrom(true, true, true, false),
  meter: fc.constantFrom<Habits['meter']>('perPhase', 'perPhase', 'unphased', 'energyOnly'),
  reportingS: fc.integer({ min: 5, max: 60 }),
  followingS: fc.integer({ min: 1, max: 60 }),
  overshootPercent: fc.double({ min: 0, max: 3, noNaN: true }),
  ownMaximumA: fc.option(fc.integer({ min: 6, max: 32 }), { freq: 2 }),
});

/** The plans of `plans`, each charger with habits of the fleet (those `population` turns on). */
export function withPopulation(plans: fc.Arbitrary<Plan>, population = POPULATION): fc.Arbitrary<Plan> {
  return fc
    .tuple(plans, fc.array(habitsArbitrary, { minLength: 4, maxLength: 4 }))
    .map(([plan, drawn]) => withHabits(plan, drawn, population));
}

function withHabits(given: Plan, drawn: Habits[], on: Population): Plan {
  const plan = structuredClone(given);
  // A lying meter that counts the chargers is found out by their readings (closed-loop-fault-plans.ts):
  // those below it keep reporting per phase.
  const revealers = new Set<string>();
  for (const [id, faults] of Object.entries(plan.meterFaults ?? {})) {
    if (!faults.lies?.some((l) => l.kind !== 'negative')) continue;
    const below = (c: string): boolean => {
      const circuit = plan.site.circuits.find((x) => x.id === c);
      return c === id || (circuit?.parent !== undefined && below(circuit.parent));
    };
    for (const c of plan.site.connectors) if (below(c.circuit)) revealers.add(`${c.chargePointId}/1`);
  }
  Object.entries(plan.chargers).forEach(([key, options], k) => {
    const habits = drawn[k % drawn.length] as Habits;
    if (on.keepers && habits.keeps) options.keepsLastLimit = true;
    if (on.noSmartCharging && !habits.smartCharging && !options.rogue) {
      options.refusesLimits = 'reject';
      delete options.overOfferA;
    }
    if (!revealers.has(key)) {
      if (on.unphased && habits.meter === 'unphased') options.unphasedCurrent = true;
      if (on.energyOnly && habits.meter === 'energyOnly') options.reportsCurrents = false;
    }
    if (on.reporting && options.meterIntervalMs < 300 * SECOND)
      options.meterIntervalMs = habits.reportingS * SECOND;
    if (on.following) options.responseDelayMs = habits.followingS * SECOND;
    for (const car of plan.cars) {
      if (car.connector !== key) continue;
      if (on.overshoot) car.ev.overshootPercent = habits.overshootPercent;
      if (on.ownMaximum && habits.ownMaximumA !== null) car.ev.maxCurrentA = habits.ownMaximumA;
    }
  });
  return plan;
}
