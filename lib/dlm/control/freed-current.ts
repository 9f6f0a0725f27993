/**
 * The current a departure freed, for the ramp (control/policy.ts). A car that left (evidence/car-left.ts,
 * `ObservedConnector.departed`) drew its current through its circuits a moment ago: the others
 * below a circuit it was under may take that much in one step instead of ramping up to it (the
 * ramp is there so meters and other chargers catch up with new load; this is no new load). Each
 * amp once, per phase (counted on every phase, whatever phases the car used), and only within
 * one `minUpdateIntervalMs` after it left, whenever the one taking it last changed (a car that
 * arrived 10 s before another left waited 20 s for its current; with a meter that still showed the
 * departed car's current at the departure, 31 s: issue 39); what they are given beyond it ramps as
 * any other rise.
 */
import type { ConnectorRuntime } from '../parts';
import type { ConnectorRuntimes } from '../runtime';
import type { Connector, Site } from '../site/model';

interface Budget {
  /** The circuits the car that left was under. */
  path: readonly number[];
  leftA: number;
}

export class FreedCurrent {
  /** What the others took so far of each departure (by the record of the connector the car left). */
  private readonly taken = new WeakMap<ConnectorRuntime, { atMs: number; takenA: number }>();
  private budgets: { runtime: ConnectorRuntime; atMs: number; budget: Budget }[] = [];

  /** The departures of the last interval with current left to take (a pass over the records). */
  open(site: Site, runtimes: ConnectorRuntimes, now: number): void {
    this.budgets.length = 0;
    const windowMs = site.control.minUpdateIntervalMs;
    for (let k = 0; k < site.connectors.length; k++) {
      const runtime = runtimes.at(k);
      const departed = runtime?.departed;
      if (!runtime || !departed || now - departed.atMs >= windowMs) continue;
      const taken = this.taken.get(runtime);
      const takenA = taken?.atMs === departed.atMs ? taken.takenA : 0;
      const leftA = departed.freedA - takenA;
      if (leftA <= 0) continue;
      this.budgets.push({
        runtime,
        atMs: departed.atMs,
        budget: { path: site.connectors[k]?.path ?? [], leftA },
      });
    }
  }

  /** How much of `wantA` `connector` may take in one step (taken from the budgets it shares a circuit with). */
  take(connector: Connector, wantA: number): number {
    let granted = 0;
    for (const entry of this.budgets) {
      if (wantA - granted <= 0) break;
      const { budget } = entry;
      if (budget.leftA <= 0 || !budget.path.some((c) => connector.path.includes(c))) continue;
      const amps = Math.min(wantA - granted, budget.leftA);
      budget.leftA -= amps;
      granted += amps;
      const taken = this.taken.get(entry.runtime);
      this.taken.set(entry.runtime, {
        atMs: entry.atMs,
        takenA: (taken?.atMs === entry.atMs ? taken.takenA : 0) + amps,
      });
    }
    return granted;
  }

  /** Whether any departure has current left to take in this update. */
  get any(): boolean {
    return this.budgets.length > 0;
  }
}
