import { SimulatedChargePoint, type SimulatedChargePointOptions } from '../../sim/charge-point';

/**
 * Simulated chargers `identities` dial the central system at `url` one after the other; resolves
 * once each was accepted. They are pushed to `into` as they connect, so an after hook closes even
 * those of a start that failed half way.
 */
export async function dialIn(
  url: string,
  identities: string[],
  into: SimulatedChargePoint[],
  options:
    | Partial<SimulatedChargePointOptions>
    | ((identity: string) => Partial<SimulatedChargePointOptions>) = {},
): Promise<SimulatedChargePoint[]> {
  const started: SimulatedChargePoint[] = [];
  for (const identity of identities) {
    const own = typeof options === 'function' ? options(identity) : options;
    const cp = new SimulatedChargePoint({ ...own, centralSystemUrl: url, identity });
    into.push(cp);
    started.push(cp);
    await cp.connect();
    await cp.waitForAccepted();
  }
  return started;
}
