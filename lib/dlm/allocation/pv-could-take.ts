/**
 * What the PV mode learns from an allocation: what every charging pv/minpv car could take from the
 * surplus, W. The PV mode reads it at the next update (modes/pv.ts): a car a dip stopped starts
 * again only on what the charging cars cannot take.
 */
import type { Allocation, AllocationProblem } from './allocate';

/**
 * Each connector's figure, W: a charging pv/minpv car's maximum where the PV budget held it, what
 * it got where something else did (its own maximum, a breaker, the unbalance limit); 0 for the
 * others. `into`: the last update's array, written again when it has one entry per connector.
 */
export function pvCouldTakeW(
  problem: AllocationProblem,
  allocation: Allocation,
  into?: Float64Array,
): Float64Array {
  const n = problem.connectors.length;
  const w = into?.length === n ? into.fill(0) : new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const entry = allocation.connectors[k];
    const demand = problem.connectors[k];
    if (!entry || !demand?.pv || entry.state !== 'charging') continue;
    const a = entry.bound?.kind === 'pv' ? Math.max(entry.limitA, demand.maxA) : entry.limitA;
    w[k] = a * demand.phases.length * problem.voltageV;
  }
  return w;
}
