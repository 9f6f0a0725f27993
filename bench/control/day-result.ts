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
  /** The most starts (not charging → charging) any one car made. */
  maxStartsPerCar: number;
  /** Starts per car, by the car's name. */
  startsPerCar: Record<string, number>;
  /** Price days: the closed loop's cost ÷ the reference solver's optimal cost. */
  costRatio?: number;
  /** Price days: whether every car had its energy by its departure. */
  reachedByDeparture?: boolean;
  /** Anything a reader needs to judge the row (surplus share on PV days, wall time…). */
  notes?: string[];
}

/** Options every day runner accepts. */
export interface DayOptions {
  seed: number;
}
