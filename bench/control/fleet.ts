/**
 * `bench:control --fleet`: a day's chargers with the habits of the fleet as found (issue #45),
 * drawn from the population the closed-loop properties draw from (sim/charger-habits.ts) with
 * the day's seed, and the day's figures per behaviour: delivered ÷ ideal of the cars on the
 * chargers that have each habit (a charger has several, so a car counts in several groups).
 */
import {
  applyHabits,
  drawHabits,
  HABIT_NAMES,
  type Habits,
  type Population,
  WHOLE_POPULATION,
} from '../../sim/charger-habits';
import { seededRandom } from '../../sim/fleet';
import type { SimChargerOptions } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';
import type { CarLedger } from './cars';
import type { HabitFigures } from './day-result';

/**
 * `--fleet`: `simulator` (the default: the simulator's chargers as each day has them), `mixed`
 * (every habit of the population), or a comma-separated list of habits (those alone: what costs
 * what). Undefined for the simulator's chargers.
 */
export function parseFleet(value: string | undefined): Population | undefined {
  if (value === undefined || value === 'simulator') return undefined;
  if (value === 'mixed') return WHOLE_POPULATION;
  const wanted = value.split(',').filter((name) => name.length > 0);
  for (const name of wanted)
    if (!(HABIT_NAMES as readonly string[]).includes(name))
      throw new Error(
        `--fleet: no habit "${name}" (simulator, mixed, or habits of ${HABIT_NAMES.join(', ')})`,
      );
  return Object.fromEntries(
    HABIT_NAMES.map((name) => [name, wanted.includes(name)]),
  ) as unknown as Population;
}

/** The `--fleet` value that gives `on` (for the command line the bench prints). */
export function fleetArgument(on: Population): string {
  const names = HABIT_NAMES.filter((name) => on[name]);
  return names.length === HABIT_NAMES.length ? 'mixed' : names.join(',');
}

export interface FleetDay {
  scenario: Scenario;
  /** Each connector's habits as drawn, by its key. */
  habits: Map<string, Habits>;
  /** The population the day plays. */
  on: Population;
}

/**
 * The day with each charger's habits drawn (in the site's order of connectors) from its own stream
 * of the day's seed: the day's truth (arrivals, cars, loads) stays what the seed draws without them.
 * The scenario given is not changed.
 */
export function withFleet(scenario: Scenario, seed: number, on: Population): FleetDay {
  const random = seededRandom((seed ^ 0x45ca11ed) >>> 0);
  const chargers: Record<string, SimChargerOptions> = { ...scenario.chargers };
  const cars = scenario.cars.map((car) => ({ ...car, ev: { ...car.ev } }));
  const habits = new Map<string, Habits>();
  for (const connector of scenario.site.connectors) {
    const key = `${connector.chargePointId}/${connector.connectorId ?? 1}`;
    const drawn = drawHabits(random);
    // The product's path: the load manager hears from the central system what each charger
    // confirmed (its limit, its fallback), as the shipped examples wire it.
    const options: SimChargerOptions = { confirms: true, ...chargers[key] };
    applyHabits(
      options,
      cars.filter((car) => car.connector === key),
      drawn,
      on,
    );
    chargers[key] = options;
    habits.set(key, drawn);
  }
  return { scenario: { ...scenario, chargers, cars }, habits, on };
}

/** The label of the first range `value` is at most the top of ([label, top] in order). */
const bucket = (value: number, ranges: readonly [string, number][]): string =>
  ranges.find(([, top]) => value <= top)?.[0] ?? ranges[ranges.length - 1]?.[0] ?? '';

/** The behaviours a charger with `habits` plays under `on`, as the per-behaviour groups name them. */
export function behaviours(habits: Habits, on: Population): string[] {
  const names: string[] = [];
  if (on.keepers && habits.keeps) names.push('keeps its last limit');
  if (on.noSmartCharging && !habits.smartCharging) names.push('no SmartCharging');
  if (on.unphased && habits.meter === 'unphased') names.push('meter: one current, no phase');
  if (on.energyOnly && habits.meter === 'energyOnly') names.push('meter: energy only');
  if (on.reporting)
    names.push(
      `reports every ${bucket(habits.reportingS, [
        ['5-20 s', 20],
        ['21-40 s', 40],
        ['41-60 s', 60],
      ])}`,
    );
  if (on.following)
    names.push(
      `follows in ${bucket(habits.followingS, [
        ['1-10 s', 10],
        ['11-30 s', 30],
        ['31-60 s', 60],
      ])}`,
    );
  if (on.overshoot)
    names.push(
      `cars ${bucket(habits.overshootPercent, [
        ['0-1 %', 1],
        ['1-2 %', 2],
        ['2-3 %', 3],
      ])} above their limit`,
    );
  if (on.ownMaximum && habits.ownMaximumA !== null)
    names.push(
      `cars' own maximum ${bucket(habits.ownMaximumA, [
        ['6-15 A', 15],
        ['16-32 A', 32],
      ])}`,
    );
  return names;
}

/** Delivered and ideal energy per behaviour (the cars on the chargers that have it). */
export function byBehaviour(
  day: FleetDay,
  closed: CarLedger,
  ideal: CarLedger,
): Record<string, HabitFigures> {
  const groups: Record<string, HabitFigures> = {};
  const chargers = new Map<string, Set<string>>();
  for (const car of day.scenario.cars) {
    const habits = day.habits.get(car.connector);
    if (!habits) continue;
    for (const name of behaviours(habits, day.on)) {
      const group = groups[name] ?? { chargers: 0, cars: 0, deliveredKWh: 0, idealKWh: 0 };
      const seen = chargers.get(name) ?? new Set<string>();
      seen.add(car.connector);
      chargers.set(name, seen);
      group.chargers = seen.size;
      group.cars += 1;
      group.deliveredKWh += (closed.energyWh.get(car) ?? 0) / 1000;
      group.idealKWh += (ideal.energyWh.get(car) ?? 0) / 1000;
      groups[name] = group;
    }
  }
  return Object.fromEntries(Object.entries(groups).sort(([a], [b]) => a.localeCompare(b)));
}

/** One line per charger: its habits as played, for the day's notes. */
export function fleetNotes(day: FleetDay): string[] {
  return [...day.habits.entries()].map(
    ([key, habits]) => `${key}: ${behaviours(habits, day.on).join(', ') || 'as the simulator has it'}`,
  );
}
