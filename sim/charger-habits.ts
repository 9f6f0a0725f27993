/**
 * The habits of chargers as found in the field (issue #45, docs/chargers.md), one distribution
 * that the closed-loop properties (test/support/closed-loop-population.ts, through fast-check) and
 * `bench:control --fleet` (bench/control/fleet.ts, from a day's seed) both draw from, and how a
 * charger's habits change the site simulator's charger and the car plugged into it: stations
 * without `ChargeProfileMaxStackLevel` (limits at stack level 0: they keep their last one when
 * ampflow is gone) or with a vendor key that keeps it; stations without SmartCharging (they reject
 * every SetChargingProfile); meters per phase, one current without a phase (EVlink) or energy only
 * (OCPP 1.6's default measurand kept); readings every 5-60 s; a limit followed in 1-60 s; cars
 * that draw up to 3 % above their limit, or less than it (their own maximum, 6-32 A).
 */
import type { SimCar, SimChargerOptions } from './site';

const SECOND = 1000;
/** The simulated charger's own meter interval when none is given (site-charger.ts). */
const DEFAULT_METER_INTERVAL_MS = 10 * SECOND;

/** One switch per habit: on, the chargers have it where drawn. */
export interface Population {
  /** No ChargeProfileMaxStackLevel, or a vendor key: it keeps its last limit when ampflow is gone. */
  keepers: boolean;
  /** No SmartCharging: it rejects its limits and draws what its car takes. */
  noSmartCharging: boolean;
  /** Its meter reports one current without a phase. */
  unphased: boolean;
  /** Its meter reports energy only. */
  energyOnly: boolean;
  /** It reports every 5-60 s (a meter interval of 5 min or more stays as it was). */
  reporting: boolean;
  /** It follows a limit in 1-60 s. */
  following: boolean;
  /** Its cars draw 0-3 % above their limit. */
  overshoot: boolean;
  /** Its cars take at most 6-32 A (their own maximum), often less than their limit. */
  ownMaximum: boolean;
}

/** The habits by name, in the order they are listed (`POPULATION=`, `--fleet`). */
export const HABIT_NAMES = [
  'keepers',
  'noSmartCharging',
  'unphased',
  'energyOnly',
  'reporting',
  'following',
  'overshoot',
  'ownMaximum',
] as const satisfies readonly (keyof Population)[];

/** Every habit on: the fleet as found. */
export const WHOLE_POPULATION: Population = Object.fromEntries(
  HABIT_NAMES.map((name) => [name, true]),
) as unknown as Population;

/** One charger's habits as drawn (whether each is played is the Population's switch). */
export interface Habits {
  keeps: boolean;
  smartCharging: boolean;
  meter: 'perPhase' | 'unphased' | 'energyOnly';
  reportingS: number;
  followingS: number;
  overshootPercent: number;
  ownMaximumA: number | null;
}

/** How one habit is drawn. */
export type HabitDraw =
  | { kind: 'boolean' }
  | { kind: 'oneOf'; values: readonly (string | boolean)[] }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'real'; min: number; max: number }
  /** None one time in `noneOneIn`, else a whole number between min and max. */
  | { kind: 'optionalInteger'; min: number; max: number; noneOneIn: number };

/**
 * The distribution, in the order a charger's habits are drawn (the properties' fast-check record
 * draws its keys in this order: reordering it changes every site a seed draws). Most per phase,
 * smart charging, no overshoot to speak of.
 */
export const HABIT_DISTRIBUTION: { readonly [K in keyof Habits]: HabitDraw } = {
  keeps: { kind: 'boolean' },
  smartCharging: { kind: 'oneOf', values: [true, true, true, false] },
  meter: { kind: 'oneOf', values: ['perPhase', 'perPhase', 'unphased', 'energyOnly'] },
  reportingS: { kind: 'integer', min: 5, max: 60 },
  followingS: { kind: 'integer', min: 1, max: 60 },
  overshootPercent: { kind: 'real', min: 0, max: 3 },
  ownMaximumA: { kind: 'optionalInteger', min: 6, max: 32, noneOneIn: 2 },
};

/** One charger's habits from `random` (uniform on [0, 1)), each by HABIT_DISTRIBUTION. */
export function drawHabits(random: () => number): Habits {
  const whole = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const draw = (how: HabitDraw): unknown => {
    switch (how.kind) {
      case 'boolean':
        return random() < 0.5;
      case 'oneOf':
        return how.values[Math.floor(random() * how.values.length)];
      case 'integer':
        return whole(how.min, how.max);
      case 'real':
        return how.min + random() * (how.max - how.min);
      case 'optionalInteger':
        return random() < 1 / how.noneOneIn ? null : whole(how.min, how.max);
    }
  };
  return Object.fromEntries(
    Object.entries(HABIT_DISTRIBUTION).map(([name, how]) => [name, draw(how)]),
  ) as unknown as Habits;
}

/**
 * Gives the charger `options` (and the cars plugged into it, `cars`) the habits `on` plays.
 * A `revealer` (a charger whose readings find out a lying meter above it) keeps reporting per phase.
 * A rogue charger keeps its own way (it ignores its limits already). A car's own maximum is never
 * below its own minimum (the simulator's car refuses that).
 */
export function applyHabits(
  options: SimChargerOptions,
  cars: readonly SimCar[],
  habits: Habits,
  on: Population,
  revealer = false,
): void {
  if (on.keepers && habits.keeps) options.keepsLastLimit = true;
  if (on.noSmartCharging && !habits.smartCharging && !options.rogue) {
    options.refusesLimits = 'reject';
    delete options.overOfferA;
  }
  if (!revealer) {
    if (on.unphased && habits.meter === 'unphased') options.unphasedCurrent = true;
    if (on.energyOnly && habits.meter === 'energyOnly') options.reportsCurrents = false;
  }
  if (on.reporting && (options.meterIntervalMs ?? DEFAULT_METER_INTERVAL_MS) < 300 * SECOND)
    options.meterIntervalMs = habits.reportingS * SECOND;
  if (on.following) options.responseDelayMs = habits.followingS * SECOND;
  for (const car of cars) {
    if (on.overshoot) car.ev.overshootPercent = habits.overshootPercent;
    if (on.ownMaximum && habits.ownMaximumA !== null)
      car.ev.maxCurrentA = Math.max(habits.ownMaximumA, car.ev.minCurrentA ?? 0);
  }
}
