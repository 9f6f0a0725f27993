/**
 * No pv car is ever sent more than its PV budget (issue 39): random homes (a grid meter that counts
 * the wallboxes, a PV plant under passing clouds, a house, some a home battery that holds the grid
 * at zero within its power), one to three wallboxes in pv mode (some
 * beside a minpv or fast car), cars with their own minimum (6-10 A, whole amperes), one or three
 * phases, some full already. A car offered less than its minimum does not charge and its charger
 * says SuspendedEV, as a real one does (IEC 61851 state B: the car does not ask for current).
 *
 * The budget of a pv connector at an update, from the load manager's own figure (its PV surplus,
 * `summary().pv.surplusW`, as that update computed it): the surplus on the phases the car draws on,
 * or the car's minimum where that is more (a charging pv car keeps its minimum through a dip until
 * the dip has spent its grid budget: the enable/disable hysteresis). Every set-point sent to a pv
 * connector is at most that.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PerPhase, SetPoint } from '../../../lib/contracts';
import type { ConnectorConfig } from '../../../lib/dlm/site';
import { harness } from './support';

const V = 230;

interface CarPlan {
  mode: 'pv' | 'minpv' | 'fast';
  maxA: 16 | 32;
  canSwitchPhases: boolean;
  phases: 1 | 3;
  minA: number;
  carMaxA: number;
  full: boolean;
  arriveS: number;
}

interface HomePlan {
  cars: CarPlan[];
  /** A home battery that holds the grid at zero within its power (its SoC, its priority SoC), or none. */
  battery: { socPercent: number; prioritySocPercent: number; maxW: number } | null;
  houseW: number;
  peakW: number;
  sun: { atS: number; level: number }[];
}

const carArbitrary: fc.Arbitrary<CarPlan> = fc.record({
  mode: fc.constantFrom('pv', 'pv', 'pv', 'minpv', 'fast'),
  maxA: fc.constantFrom(16, 32),
  canSwitchPhases: fc.boolean(),
  phases: fc.constantFrom(1, 3),
  minA: fc.constantFrom(6, 6, 7, 8, 8, 10),
  carMaxA: fc.constantFrom(10, 16, 32),
  full: fc.constantFrom(false, false, false, true),
  arriveS: fc.integer({ min: 0, max: 600 }),
});

const planArbitrary: fc.Arbitrary<HomePlan> = fc.record({
  cars: fc
    .array(carArbitrary, { minLength: 1, maxLength: 3 })
    .filter((cars) => cars.some((car) => car.mode === 'pv')),
  battery: fc.option(
    fc.record({
      socPercent: fc.integer({ min: 5, max: 95 }),
      prioritySocPercent: fc.constantFrom(0, 30, 50, 80),
      maxW: fc.constantFrom(1500, 2500, 5000),
    }),
  ),
  houseW: fc.integer({ min: 150, max: 2500 }),
  peakW: fc.integer({ min: 2000, max: 14_000 }),
  sun: fc.array(
    fc.record({ atS: fc.integer({ min: 0, max: 1800 }), level: fc.double({ min: 0, max: 1, noNaN: true }) }),
    { minLength: 1, maxLength: 12 },
  ),
});

/** Runs one home for 30 minutes; returns the first set-point above its budget, if any. */
function check(plan: HomePlan): string | undefined {
  const connectors: ConnectorConfig[] = plan.cars.map((car, i) => ({
    chargePointId: `WB-${i + 1}`,
    circuit: 'home',
    maxA: car.maxA,
    mode: car.mode,
    canSwitchPhases: car.canSwitchPhases,
  }));
  const h = harness({
    circuits: [{ id: 'home', limitA: 63, meter: { source: 'grid', location: 'includesChargers' } }],
    connectors,
    ...(plan.battery
      ? { pv: { batterySource: 'battery', batteryPrioritySocPercent: plan.battery.prioritySocPercent } }
      : {}),
  });
  const battery = plan.battery ? { ...plan.battery, storedWh: plan.battery.socPercent * 100 } : undefined;
  const levelAt = (s: number) => {
    let level = 0.5;
    for (const step of [...plan.sun].sort((a, b) => a.atS - b.atS)) if (step.atS <= s) level = step.level;
    return level;
  };
  const startMs = h.clock.now();
  const keyOf = (i: number) => `WB-${i + 1}/1`;
  const plugged = new Set<number>();
  let found: string | undefined;
  // The PV stage, in the load manager's modes (lib/dlm/modes/mode-stages.ts).
  const { pv } = (h.manager as unknown as { modes: { pv: { state?: { surplusW?: number } } } }).modes;
  h.manager.on('setPoint', (setPoint: SetPoint) => {
    const i = Number(setPoint.chargePointId.slice(3)) - 1;
    const car = plan.cars[i];
    if (car?.mode !== 'pv' || !(setPoint.limitA > 0) || found) return;
    // The surplus this update computed: the set-point goes out during the update, before the
    // summary is made anew, so read the PV stage's figure (what the summary shows once done).
    const surplusW = pv.state?.surplusW ?? 0;
    const phases = setPoint.phases === 1 ? 1 : car.phases;
    const budgetA = Math.max(car.minA, Math.max(0, surplusW) / (phases * V));
    if (setPoint.limitA > budgetA + 1e-9) {
      found = `${keyOf(i)} sent ${setPoint.limitA} A ("${setPoint.reason}") at ${(h.clock.now() - startMs) / 1000} s: its budget ${budgetA.toFixed(2)} A (surplus ${surplusW} W on ${phases} phase(s), its minimum ${car.minA} A)`;
    }
  });
  h.feed(() => {
    const elapsedS = (h.clock.now() - startMs) / 1000;
    let carsW = 0;
    plan.cars.forEach((car, i) => {
      const key = keyOf(i);
      if (!plugged.has(i)) {
        if (elapsedS < car.arriveS) return;
        plugged.add(i);
        h.plugIn(key);
      }
      const setPoint = h.setPoint(key);
      const offered = setPoint?.limitA ?? 0;
      const phases = setPoint?.phases === 1 ? 1 : car.phases;
      const drawn = car.full || offered < car.minA ? 0 : Math.min(offered, car.carMaxA);
      const currentA = [drawn, phases >= 2 ? drawn : 0, phases >= 3 ? drawn : 0] as PerPhase;
      h.draw(key, currentA, drawn > 0 ? 'Charging' : offered > 0 ? 'SuspendedEV' : 'SuspendedEVSE');
      carsW += drawn * phases * V;
    });
    let gridW = plan.houseW + carsW - levelAt(elapsedS) * plan.peakW;
    if (battery) {
      // It charges from export and covers import, within its power and its 10 kWh.
      const roomW = (10_000 - battery.storedWh) * 3600;
      const haveW = Math.max(0, battery.storedWh - 500) * 3600;
      const batteryW =
        gridW < 0 ? Math.min(-gridW, battery.maxW, roomW) : -Math.min(gridW, battery.maxW, haveW);
      battery.storedWh += batteryW / 3600;
      gridW += batteryW;
      h.manager.reading({
        source: 'battery',
        timestamp: h.iso(),
        totalPowerW: batteryW,
        socPercent: battery.storedWh / 100,
      });
    }
    h.meter('grid', [gridW / 690, gridW / 690, gridW / 690], { totalPowerW: gridW });
  });
  try {
    h.start();
    h.run(1_800_000);
  } finally {
    h.stop();
  }
  return found;
}

describe('LoadManager PV budget (property)', () => {
  it('never sends a pv car more than its PV budget: the surplus on its phases, or its minimum', function () {
    const runs = Number(process.env.PROPERTY_RUNS ?? 40);
    // About 0.2 s of CPU a home; a machine shared by other work takes several times longer.
    this.timeout(60_000 + runs * 5_000);
    const seed = Number(process.env.PROPERTY_SEED ?? 20261126);
    fc.assert(
      fc.property(planArbitrary, (plan) => {
        const found = check(plan);
        assert.equal(found, undefined, found);
      }),
      {
        seed,
        numRuns: runs,
        endOnFailure: true,
        ...(process.env.PROPERTY_PATH ? { path: process.env.PROPERTY_PATH } : {}),
      },
    );
  });
});
