/**
 * The PV specs' home: a grid meter, the PV plant, an optional battery and wallboxes whose cars
 * take what they are offered (pv_spec.ts, pv-sharing_spec.ts).
 */
import assert from 'node:assert/strict';
import type { PerPhase } from '../../../lib/contracts';
import type { ConnectorConfig, SiteConfig } from '../../../lib/dlm/site';
import { harness } from './support';

/**
 * A house with a grid meter (import positive) that sees the house, the PV plant, an optional
 * battery and (`includesChargers`) the wallboxes, whose cars take what they are offered on their
 * phases.
 */
export function home(
  connectors: ConnectorConfig[],
  pv: SiteConfig['pv'] = {},
  location: 'includesChargers' | 'otherLoadsOnly' = 'includesChargers',
  options: Parameters<typeof harness>[1] = {},
) {
  const h = harness(
    {
      circuits: [{ id: 'home', limitA: 35, meter: { source: 'grid', location } }],
      connectors,
      pv,
    },
    options,
  );
  const world = {
    pvW: 0,
    houseW: 300,
    batteryW: 0,
    batterySoc: 30,
    carPhases: new Map<string, number>(),
    /** The chargers report what their cars draw (false: the cars follow, their meters are late). */
    chargersReport: true,
  };
  h.feed(() => {
    let carsW = 0;
    for (const connector of connectors) {
      const key = `${connector.chargePointId}/1`;
      const setPoint = h.setPoint(key);
      const state = h.manager.summary().connectors.find((c) => c.chargePointId === connector.chargePointId);
      if (!state || state.status === 'Available' || !setPoint) continue;
      const phases = setPoint.phases === 1 ? 1 : (world.carPhases.get(key) ?? 3);
      const drawn = setPoint.limitA;
      const currentA = [drawn, phases >= 2 ? drawn : 0, phases >= 3 ? drawn : 0] as PerPhase;
      if (world.chargersReport) h.draw(key, currentA, drawn > 0 ? 'Charging' : 'SuspendedEVSE');
      carsW += drawn * phases * 230;
    }
    // A meter of the other loads only (the wallboxes fed beside it) does not see the cars.
    const gridW = world.houseW + (location === 'includesChargers' ? carsW : 0) + world.batteryW - world.pvW;
    h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
    if (pv.batterySource) {
      h.manager.reading({
        source: pv.batterySource,
        timestamp: h.iso(),
        totalPowerW: world.batteryW,
        socPercent: world.batterySoc,
      });
    }
  });
  return { h, world };
}

export const wallbox = (id: string, extra: Partial<ConnectorConfig> = {}): ConnectorConfig => ({
  chargePointId: id,
  circuit: 'home',
  maxA: 16,
  mode: 'pv',
  ...extra,
});

/** A started home with a switchable pv car (WB-1) charging on three phases under 9000 W of PV (8600 W of surplus). */
export function onThreePhases() {
  const setup = home([wallbox('WB-1', { canSwitchPhases: true })]);
  setup.h.start();
  setup.h.plugIn('WB-1/1');
  setup.world.pvW = 9000;
  setup.h.run(400_000);
  assert.equal(setup.h.setPoint('WB-1/1')?.phases, 3);
  return setup;
}

/** Runs `h` for each step's time, then expects `key`'s limit: a timeline of [ms, limitA, why?]. */
export function expectLimits(
  h: ReturnType<typeof harness>,
  key: string,
  steps: [number, number, string?][],
): void {
  for (const [ms, limitA, why] of steps) {
    h.run(ms);
    assert.equal(h.limit(key), limitA, why);
  }
}
