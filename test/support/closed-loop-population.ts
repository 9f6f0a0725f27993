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

/** One habit's row: on by default or not, where the IT property differs, and why it is off. */
interface Row {
  /** Played by the base and PV properties (closed-loop-property.ts), and the others unless they differ. */
  on: boolean;
  /** Played by the faults property (closed-loop-fault-plans.ts), where it differs. */
  faults?: boolean;
  /** Played by the IT property (closed-loop-it-plans.ts), where it differs. */
  it?: boolean;
  /** Where it is off: what breaks (the replay that shows it), until it is diagnosed. */
  off?: string;
}

/**
 * The habits the properties play by default, one row each. Off: those that break a property on
 * main today (the seed that shows it in the module's report, /work/reports and the commit that sets it).
 */
export const HABITS: Record<keyof Population, Row> = {
  keepers: { on: true },
  noSmartCharging: {
    on: true,
    it: false,
    off: 'IT: 1.00 A over c0 L1 for 7 s in 2,000 sites, passes with every other habit on, not diagnosed (issue 45): POPULATION=noSmartCharging IT_PROPERTY_SEED=20261126 IT_PROPERTY_PATH=1946',
  },
  unphased: {
    on: false,
    off: 'a charger that ignores its limits, one current without a phase every 5 min, its car taking 7 A (its own maximum): 2.6 A over a breaker for 275 s, no window (either habit alone passes): POPULATION=unphased,ownMaximum PROPERTY_SEED=45005 PROPERTY_PATH=157',
  },
  energyOnly: {
    on: false,
    off: 'a rogue charger that reports energy only is never measured, its overdraw unseen (issue 45 item 3), 2 A over for 640 s: POPULATION=energyOnly PROPERTY_SEED=4501 PROPERTY_PATH=227',
  },
  reporting: { on: true },
  // On since the ramp waits for a start to show that its charger follows (startTested in
  // control/measured-headroom.ts: a charger slower than the ramp's interval hid its over-offer under
  // its next raise) and the judge has a window for a car at a charger that has not taken its first
  // limit yet (closed-loop-property.ts); found on seed 20261123 paths 202, 1834, 1954, 2034, 2920,
  // 3274, 3748 and PV 20261124 paths 111, 266, and 1307 after (closed-loop-fixed/ keeps five). The faults property
  // keeps its own 10-60 s chargers.
  following: {
    on: true,
    faults: false,
    off: 'faults: its short form fails with 1-60 s chargers in place of its own 10-60 s: 0.0004 A over c0 L3 for 15 s where the allocation filled the limit exactly beside a PV plant whose inverter reads whole watts, not diagnosed: POPULATION=keepers,noSmartCharging,reporting,ownMaximum,following FAULTS_SEED=20261124 FAULTS_PATH=32 FAULTS_RUNS=1',
  },
  overshoot: {
    on: false,
    off: "nothing budgets a car's draw above its limit yet (issue 45 item 4), 0.58 A over for 2 s: POPULATION=overshoot PROPERTY_SEED=4501 PROPERTY_PATH=120",
  },
  ownMaximum: { on: true },
};

/** What the base and PV properties play (POPULATION, if given, says instead). */
export const POPULATION: Population = fromEnvironment(defaults('on'));

/** What the faults property plays (POPULATION, if given, says instead). */
export const FAULTS_POPULATION: Population = fromEnvironment(defaults('faults'));

/** What the IT property plays (POPULATION, if given, says instead). */
export const IT_POPULATION: Population = fromEnvironment(defaults('it'));

function defaults(property: 'on' | 'faults' | 'it'): Population {
  const names = Object.keys(HABITS) as (keyof Population)[];
  return Object.fromEntries(
    names.map((name) => [name, HABITS[name][property] ?? HABITS[name].on]),
  ) as unknown as Population;
}

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
