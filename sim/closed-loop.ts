/**
 * The closed loop: the site simulator (site.ts, the physical truth) and a LoadManager run against
 * each other on a ManualClock, and every second each breaker's actual current is compared with its
 * limit, so tests can assert a bound on how long an overload may last.
 */
import type { ManualClock } from '../lib/clock';
import type { SetPoint } from '../lib/contracts';
import type { LoadManager } from '../lib/dlm/load-manager';
import type { GridPhase } from '../lib/dlm/site';
import type { SiteSimulator } from './site';

export interface Overload {
  circuit: string;
  phase: GridPhase;
  fromMs: number;
  /** Seconds over the limit (so far, for the open one). */
  durationMs: number;
  maxExcessA: number;
}

export interface ClosedLoopOptions {
  durationMs: number;
  /** Simulation step. Default 1000 ms. */
  stepMs?: number;
  /** Called after every step (for statistics). */
  onStep?: (sim: SiteSimulator) => void;
  /**
   * ampflow stops then (ms from the start): nothing reaches the load manager any more and every
   * charger falls to its fallback (SiteSimulator.centralGone); the breakers are still watched.
   */
  goneAtMs?: number;
}

export interface ClosedLoopResult {
  /** Every episode in which a breaker carried more than its limit (magnitude), per circuit and phase. */
  overloads: Overload[];
  /** Time during which at least one breaker carried more than its limit, ms. */
  overloadedMs: number;
  /** Set-points the load manager emitted. */
  setPoints: number;
}

/**
 * Runs the simulator and the load manager against each other: set-points go to the chargers,
 * readings and connector states to the load manager, the clock moves one step at a time, and
 * every step each breaker's actual current is compared with its limit.
 */
export function runClosedLoop(
  clock: ManualClock,
  sim: SiteSimulator,
  manager: LoadManager,
  options: ClosedLoopOptions,
): ClosedLoopResult {
  const stepMs = options.stepMs ?? 1000;
  let setPoints = 0;
  const listener = (setPoint: SetPoint) => {
    setPoints += 1;
    sim.applySetPoint(setPoint);
  };
  manager.on('setPoint', listener);
  const overloads: Overload[] = [];
  const open = new Map<string, Overload>();
  let overloadedMs = 0;
  try {
    for (const state of sim.takeConnectorStates()) manager.connectorState(state);
    for (const reading of sim.takeReadings()) manager.reading(reading);
    manager.start();
    let gone = false;
    for (let elapsed = 0; elapsed < options.durationMs; elapsed += stepMs) {
      if (!gone && options.goneAtMs !== undefined && elapsed >= options.goneAtMs) {
        gone = true;
        manager.off('setPoint', listener);
        manager.stop();
        sim.centralGone();
      }
      // The step's readings reach the load manager at its end before the timers due then: its
      // periodic update, due at the same instant, finds an update that took them in a moment ago
      // and is not run again with the readings of a second before (one update a step, not two;
      // a step without readings still gets its periodic update).
      clock.advanceBefore(stepMs);
      sim.step(stepMs);
      // What the meters and chargers report in the same second reaches the load manager together.
      const states = sim.takeConnectorStates();
      const readings = sim.takeReadings();
      if (!gone)
        manager.batch(() => {
          for (const state of states) manager.connectorState(state);
          for (const reading of readings) manager.reading(reading);
        });
      clock.advance(0);
      const actual = sim.actualA();
      let over = false;
      sim.site.circuits.forEach((circuit, c) => {
        for (const p of [0, 1, 2] as GridPhase[]) {
          const key = `${c}:${p}`;
          const excess = Math.abs(actual[c]?.[p] ?? 0) - (circuit.limitA[p] ?? 0);
          const episode = open.get(key);
          if (excess > 1e-6) {
            over = true;
            if (episode) {
              episode.durationMs += stepMs;
              episode.maxExcessA = Math.max(episode.maxExcessA, excess);
            } else {
              const started: Overload = {
                circuit: circuit.id,
                phase: p,
                fromMs: sim.elapsedMs,
                durationMs: stepMs,
                maxExcessA: excess,
              };
              open.set(key, started);
              overloads.push(started);
            }
          } else open.delete(key);
        }
      });
      if (over) overloadedMs += stepMs;
      options.onStep?.(sim);
    }
  } finally {
    manager.off('setPoint', listener);
    manager.stop();
  }
  return { overloads, overloadedMs, setPoints };
}
