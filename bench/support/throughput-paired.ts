/**
 * The throughput bench's paired mode (`--paired N`): every server runs at once, each with its own
 * chargers, and the paced load goes to one server at a time, window after window: floor, central
 * system, Node-RED, then the other way round, N cycles. Each cycle's ratios compare windows a few
 * seconds apart, so a host that gets slower or faster over minutes (other tenants, another core
 * busy) moves both sides of a ratio alike; measured one server after the other, the same code had
 * measured 1.24-1.84x the floor from run to run.
 */
import { cpuWindow, median, wallTime } from './machine';
import type { RawCharger } from './raw-charger';
import { drive, type Target } from './throughput-targets';

export interface PairedOptions {
  cycles: number;
  windowS: number;
  /** MeterValues a second in all, to the server measured. */
  rate: number;
  /** Load before each window, not measured (the server's caches back from the others' turns). */
  warmS: number;
}

/** CPU µs per message of each target (in `targets` order), one row per cycle. */
export async function pairedWindows(
  targets: readonly Target[],
  chargers: ReadonlyMap<Target, RawCharger[]>,
  options: PairedOptions,
  onCycle?: (cycle: number, row: readonly number[]) => void,
): Promise<number[][]> {
  const rows: number[][] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const row: number[] = new Array(targets.length).fill(Number.NaN);
    const order = targets.map((_, i) => i);
    if (cycle % 2 === 1) order.reverse();
    for (const i of order) {
      const target = targets[i] as Target;
      const load = drive(chargers.get(target) ?? [], options.rate);
      await wallTime(options.warmS * 1000);
      const delivered0 = await target.delivered();
      const window = cpuWindow(target.pid);
      await wallTime(options.windowS * 1000);
      row[i] = window((await target.delivered()) - delivered0).cpuUsPerMessage;
      await load.stop();
      if (load.state.failures.length > 0)
        throw new Error(
          `${target.label}: ${load.state.failures.length} calls failed, e.g. ${load.state.failures[0]}`,
        );
    }
    rows.push(row);
    onCycle?.(cycle, row);
  }
  return rows;
}

/** Median, lowest and highest of each cycle's ratio of target i to target 0 (the floor). */
export function pairedRatios(
  rows: readonly number[][],
  i: number,
): { median: number; low: number; high: number } {
  const ratios = rows.map((row) => (row[i] ?? Number.NaN) / (row[0] ?? Number.NaN));
  return { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}
