/**
 * One day of `npm run bench:control`: what the closed loop delivered against the ideal (the same
 * allocation policy with perfect, instant knowledge) for the same truth. Every day module
 * (car park, home PV, tariff) returns this shape; bench/control.ts prints it as one table row.
 */
export interface DayResult {
  /** The day's name as printed and as `--day` selects it (e.g. "carpark", "pv-sunny-cloudy"). */
  day: string;
  /** The seed the day's truth (arrivals, loads, clouds) was drawn from. */
  seed: number;
  /** Energy the closed loop delivered to the cars, kWh. */
  deliveredKWh: number;
  /** Energy the ideal delivered for the same truth, kWh. */
  idealKWh: number;
  /** deliveredKWh ÷ idealKWh (1 when the ideal delivered nothing). */
  ratio: number;
  /** Seconds in which any circuit's true current was over its limit (closed loop). */
  secondsOver: number;
  /**
   * Of secondsOver, those no rise of the other loads within the chargers' pace explains
   * (days.ts `beyondPace`): the load manager's own, where the issue's "0 s over" applies.
   */
  secondsOverBeyondPace?: number;
  /** The most starts (not charging → charging) any one car made. */
  maxStartsPerCar: number;
  /** Starts per car, by the car's name. */
  startsPerCar: Record<string, number>;
  /** Starts per car, averaged over the day's cars. */
  meanStartsPerCar?: number;
  /** PV days: what the cars took of the PV surplus ÷ what they could have taken (as bench:dlm counts it). */
  surplusShare?: number;
  /** PV days: the same share for the ideal. */
  idealSurplusShare?: number;
  /** How long the day took to compute (closed loop and ideal), s. */
  wallSeconds?: number;
  /** Price days: the closed loop's cost ÷ the reference solver's optimal cost. */
  costRatio?: number;
  /** Price days: whether every car had its energy by its departure. */
  reachedByDeparture?: boolean;
  /** Per car, by its name: what each got in the closed loop and in the ideal (`--cars` prints it). */
  perCar?: Record<string, CarFigures>;
  /** `--fleet`: the habits the day's chargers played (`mixed`, or their names). */
  fleet?: string;
  /** `--fleet`: delivered and ideal energy of the cars on the chargers with each behaviour (fleet.ts). */
  byBehaviour?: Record<string, HabitFigures>;
  /** Anything a reader needs to judge the row (surplus share on PV days, wall time…). */
  notes?: string[];
}

/** One car's figures in a day. */
export interface CarFigures {
  deliveredKWh: number;
  idealKWh: number;
  starts: number;
  idealStarts: number;
  /** What sets the car and its charger apart: phases, maximum, own minimum, the charger's delay. */
  traits: string;
}

/** The cars on the chargers that have one behaviour (bench:control --fleet). */
export interface HabitFigures {
  chargers: number;
  cars: number;
  deliveredKWh: number;
  idealKWh: number;
}

/** Options every day runner accepts. */
export interface DayOptions {
  seed: number;
}
