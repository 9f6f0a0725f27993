/**
 * Per car, from outside the simulator: which car is on which connector at a moment (the
 * scenario's arrivals and departures, by the simulator's own rule), the energy each car took and
 * its starts (a start: the car goes from not drawing to drawing). The same ledger watches the
 * closed loop and the ideal, so both are counted alike. A restart after a switch of the phases
 * under load (the charger's pause, sim/site-charger.ts) is a start; `afterSwitch` counts those.
 */
import type { SimCar, SiteSimulator } from '../../sim/site';

/** The car's name in the tables: its connector and arrival, `CP-03/1@09:12`. */
export function carName(car: SimCar, startOfDayMs: number): string {
  const minutes = Math.round((startOfDayMs + car.arriveMs) / 60_000);
  const hh = String(Math.floor(minutes / 60) % 24).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${car.connector}@${hh}:${mm}`;
}

/**
 * The car plugged into `connector` during the step that ends at `elapsedMs` (ms since the start):
 * the simulator lets a car in from its arrival and takes it away at the first step at or after its
 * departure (sim/site.ts stepCharger).
 */
export function carAt(cars: readonly SimCar[], connector: string, elapsedMs: number): SimCar | undefined {
  return cars.find(
    (car) =>
      car.connector === connector &&
      car.arriveMs <= elapsedMs &&
      (car.leaveMs === undefined || car.leaveMs > elapsedMs),
  );
}

/** Energy and starts per car, summed step by step. */
export class CarLedger {
  readonly energyWh = new Map<SimCar, number>();
  readonly starts = new Map<SimCar, number>();
  /** Of `starts`, those after a switch of the phases under load. */
  readonly afterSwitch = new Map<SimCar, number>();
  private readonly pauses = new Map<string, number>();
  private readonly drawing = new Map<string, SimCar | undefined>();

  constructor(private readonly cars: readonly SimCar[]) {
    for (const car of cars) {
      this.energyWh.set(car, 0);
      this.starts.set(car, 0);
    }
  }

  /** One step of `stepMs` that just ran (the simulator's clock at its end). */
  step(sim: SiteSimulator, stepMs: number): void {
    const elapsed = sim.elapsedMs;
    for (const stats of sim.chargerStats()) {
      const car = carAt(this.cars, stats.key, elapsed);
      const draws = stats.drawW > 0;
      if (car && draws) {
        this.energyWh.set(car, (this.energyWh.get(car) ?? 0) + (stats.drawW * stepMs) / 3_600_000);
        if (this.drawing.get(stats.key) !== car) {
          this.starts.set(car, (this.starts.get(car) ?? 0) + 1);
          if (stats.phaseSwitchesUnderLoad > (this.pauses.get(stats.key) ?? 0))
            this.afterSwitch.set(car, (this.afterSwitch.get(car) ?? 0) + 1);
        }
      }
      // Its switches under load as of the last step it drew: one more at a start is the pause's.
      if (draws) this.pauses.set(stats.key, stats.phaseSwitchesUnderLoad);
      this.drawing.set(stats.key, draws ? car : undefined);
    }
  }

  totalWh(): number {
    let total = 0;
    for (const wh of this.energyWh.values()) total += wh;
    return total;
  }

  /** Starts by car name (`afterSwitch`: only those after a switch of the phases under load). */
  startsByName(startOfDayMs: number, afterSwitch = false): Record<string, number> {
    const from = afterSwitch ? this.afterSwitch : this.starts;
    return Object.fromEntries(this.cars.map((car) => [carName(car, startOfDayMs), from.get(car) ?? 0]));
  }
}
