import fc from 'fast-check';
import {
  applyHabits,
  HABIT_DISTRIBUTION,
  type HabitDraw,
  type Habits,
  type Population,
} from '../../sim/charger-habits';
import type { Plan } from './closed-loop-property';

export type { Population } from '../../sim/charger-habits';

/**
 * The closed-loop properties' chargers drawn from the fleet as found (issue #45, docs/chargers.md):
 * the habits, their distribution and what each does to a simulated charger are
 * sim/charger-habits.ts's (bench:control --fleet draws from the same); here, which habits the
 * properties play by default, and the draw through fast-check.
 * (2.0.1 stations that do not implement SetChargingProfile: the properties model no protocol; a
 * station that rejects its limits is the same to the load manager.)
 *
 * Drawn after everything else of a site, its phase-switch pauses included (closed-loop-pause.ts),
 * so that a seed draws the sites it drew before (same loads, chargers and cars), each charger then
 * given its habits: the drawn site's four chargers one each, more (a faults site's crowd) in turn.
 * Every habit is drawn whether it is on or not (POPULATION says which are), so that turning one
 * on or off leaves the others' draws alone.
 */

/** One habit's row: on by default or not, where a property differs, and why it is off. */
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
  // (IT seed 20261126 path 1946 is fixed: the judge's over-offer window starts when it draws.)
  noSmartCharging: { on: true },
  // (POPULATION=unphased,ownMaximum PROPERTY_SEED=45005 PROPERTY_PATH=157, and base 956, IT 829: a
  // current without a phase counts on every wired phase, and such a charger is not switched to one.)
  unphased: { on: true },
  // The cases found (seed 4501 path 227, 4601 paths 63, 256, 478, 4611 path 808) are fixed and kept
  // (closed-loop-fixed/).
  // On since one whose deltas may mean more than its set-point is counted at the most any count of
  // phases puts on a phase until a settled delta shows it at its set-point, a count that takes room
  // from the others only (seed 4831 path 617). Also fixed and kept: 4712 path 559 (a switch to one
  // phase before the first reading); 4611 paths 47, 255, 792, 1128, 4712 paths 273, 397, 574, 609
  // and 4815 path 363 pass.
  // IT seed 5420 path 366 is fixed (energy-draw.ts wattsPerAmpere: a car's watts per ampere on IT)
  // and kept.
  // Fixed and kept: a charger that takes no limits is counted at its fallback with the unread
  // overshoot (seed 20261123 path 5006), a register's decrease is not settled by time before a delta
  // that began after its follow time (seed 7031 path 181), and what a meter that counts the chargers
  // reads beyond its circuits below is counted on each circuit between it and a charger whose draw no
  // current reading shows (seed 20261123 path 5737, seed 7031 path 1605).
  // On since a charger read by its energy register alone is not raised on time before a delta that
  // began after its start's follow time (or that time and energy-draw.ts MAX_INTERVAL_MS for a
  // register that gives none: control/measured-headroom.ts startTested). Before, its register
  // readings gave no draw until it charged, and "no reading" ramped it on time alone: raised before
  // its start landed, an over-offer or a one-phase car 3 % above its set-point hidden under the
  // raise (seed 8123 paths 1776, 410; IT 7020 path 433, 8132 paths 200, 385; all kept). On fresh
  // seeds 2,000 base (9471) and 1,000 faults (9473) sites pass. On for the IT property too since
  // (IT seed 9474 paths 216, 431, 774, kept): a current reported without a phase is what a meter
  // that counts the chargers must read at least only where every car draws (evidence/draws.ts
  // unphasedSurelyOn: counted on every phase, the meter was judged implausible and fell back); a
  // register's delta at a one-phase connector is judged since its set-point settled as at a
  // three-phase one (evidence/overdraw.ts registerBeyond: one 5 s delta of whole Wh hid a 3 A
  // over-offer); and what a one-phase count puts on IT's closing conductor is counted there
  // (energy-draw.ts countCarries, in overdraw.ts beyondCounts too).
  energyOnly: { on: true },
  reporting: { on: true },
  // On since the ramp waits for a start to show that its charger follows (startTested in
  // control/measured-headroom.ts: a charger slower than the ramp's interval hid its over-offer under
  // its next raise) and the judge has a window for a car at a charger that has not taken its first
  // limit yet (closed-loop-property.ts); found on seed 20261123 paths 202, 1834, 1954, 2034, 2920,
  // 3274, 3748 and PV 20261124 paths 111, 266, and 1307 after (closed-loop-fixed/ keeps five). On
  // for the faults property (1-60 s chargers in place of its own 10-60 s) since the allocation
  // leaves what a reading's rounding to hundredths may hide (faults seed 20261124 path 32, kept).
  following: { on: true },
  // The learned overshoot is kept on every circuit (seed 4601 paths 83, 128, 148, faults 4602 path
  // 241 fixed and kept). On since an energy register's delta is no longer capped at maxA, a car
  // whose readings were refused is taken at 3 %, and the judge has a window for an overshoot no
  // reading below a raise showed (seed 20261123 path 8031, faults 20261125 paths 1664 and 8049, kept).
  overshoot: { on: true },
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

/** HABIT_DISTRIBUTION as fast-check draws it (the same draws as before it moved to the simulator). */
function arbitraryOf(how: HabitDraw): fc.Arbitrary<unknown> {
  switch (how.kind) {
    case 'boolean':
      return fc.boolean();
    case 'oneOf':
      return fc.constantFrom(...how.values);
    case 'integer':
      return fc.integer({ min: how.min, max: how.max });
    case 'real':
      return fc.double({ min: how.min, max: how.max, noNaN: true });
    case 'optionalInteger':
      return fc.option(fc.integer({ min: how.min, max: how.max }), { freq: how.noneOneIn });
  }
}

/** One charger's habits as found. */
const habitsArbitrary = fc.record(
  Object.fromEntries(Object.entries(HABIT_DISTRIBUTION).map(([name, how]) => [name, arbitraryOf(how)])),
) as unknown as fc.Arbitrary<Habits>;

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
    const cars = plan.cars.filter((car) => car.connector === key);
    applyHabits(options, cars, drawn[k % drawn.length] as Habits, on, revealers.has(key));
  });
  return plan;
}
