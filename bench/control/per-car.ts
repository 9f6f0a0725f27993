/**
 * Where the energy went, per car: what the closed loop and the ideal gave each car and how often
 * each started it, with what sets the car and its charger apart (phases, own minimum, a slow or
 * whole-ampere charger), and the day's shortfall against the ideal grouped by those traits: the
 * figure that tells which loss to close first.
 */
import type { SimCar } from '../../sim/site';
import type { Scenario } from '../../sim/site-scenarios';
import { type CarLedger, carName } from './cars';
import type { CarFigures } from './day-result';

/** A charger this slow to follow (ms) counts as slow. */
const SLOW_MS = 30_000;

function traitsOf(scenario: Scenario, car: SimCar): { text: string; group: string } {
  const charger = scenario.chargers?.[car.connector];
  const delayMs = charger?.responseDelayMs ?? 5000;
  const ownMinA = car.ev.minCurrentA ?? 6;
  const parts = [`${car.ev.phases ?? 3}p`, `${car.ev.maxCurrentA ?? 16} A`, `own minimum ${ownMinA} A`];
  parts.push(`charger ${Math.round(delayMs / 1000)} s${charger?.wholeAmps ? ', whole amperes' : ''}`);
  const group =
    ownMinA > 6
      ? 'cars with their own minimum above 6 A'
      : delayMs >= SLOW_MS
        ? 'other cars on a slow charger'
        : charger?.wholeAmps
          ? 'other cars on a whole-ampere charger'
          : 'the other cars';
  return { text: parts.join(', '), group };
}

/** Per car, by its name. */
export function perCar(scenario: Scenario, closed: CarLedger, ideal: CarLedger): Record<string, CarFigures> {
  return Object.fromEntries(
    scenario.cars.map((car) => [
      carName(car, scenario.startOfDayMs),
      {
        deliveredKWh: (closed.energyWh.get(car) ?? 0) / 1000,
        idealKWh: (ideal.energyWh.get(car) ?? 0) / 1000,
        starts: closed.starts.get(car) ?? 0,
        idealStarts: ideal.starts.get(car) ?? 0,
        traits: traitsOf(scenario, car).text,
      },
    ]),
  );
}

/** The shortfall against the ideal by group of cars (each car in the first group it fits), one line. */
export function shortfallByGroup(scenario: Scenario, closed: CarLedger, ideal: CarLedger): string {
  const groups = new Map<string, { cars: number; shortKWh: number; idealKWh: number }>();
  let totalShort = 0;
  for (const car of scenario.cars) {
    const { group } = traitsOf(scenario, car);
    const entry = groups.get(group) ?? { cars: 0, shortKWh: 0, idealKWh: 0 };
    const idealKWh = (ideal.energyWh.get(car) ?? 0) / 1000;
    const shortKWh = idealKWh - (closed.energyWh.get(car) ?? 0) / 1000;
    entry.cars += 1;
    entry.shortKWh += shortKWh;
    entry.idealKWh += idealKWh;
    totalShort += shortKWh;
    groups.set(group, entry);
  }
  const parts = [...groups.entries()]
    .sort((a, b) => b[1].shortKWh - a[1].shortKWh)
    .map(
      ([group, g]) =>
        `${group} (${g.cars}): ${g.shortKWh.toFixed(1)} kWh of their ideal ${g.idealKWh.toFixed(1)} kWh`,
    );
  return `short of the ideal ${totalShort.toFixed(1)} kWh: ${parts.join('; ')} (a car may get more than its ideal when others get less)`;
}
