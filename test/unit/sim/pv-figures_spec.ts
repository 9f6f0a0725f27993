/**
 * The PV surplus share (sim/pv-figures.ts PvDayAccount) on a day of a few seconds computed by
 * hand: the surplus available to the cars is PV − house, less the battery's priority share while it
 * has priority (what it would store if no car drew, up to its maximum charge); taken is, each
 * second, the smaller of that and what the cars draw.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import { PvDayAccount } from '../../../sim/pv-figures';
import { SiteSimulator } from '../../../sim/site';

const V = 230;
const START_OF_DAY_MS = 12 * 3_600_000;
/** 6 A on three phases. */
const CAR_W = 6 * 3 * V;

/**
 * A home with 1000 W of house on L1, 8000 W of PV for the first 2 s and 5000 W for the next 2 s,
 * a 10 kWh battery at `socPercent` (2500 W at most), and a `pv` car offered 6 A on three phases.
 */
function day(socPercent: number) {
  const clock = new ManualClock(Date.UTC(2026, 5, 21) + START_OF_DAY_MS);
  const sim = new SiteSimulator({
    clock,
    startOfDayMs: START_OF_DAY_MS,
    site: {
      voltageV: V,
      circuits: [{ id: 'home', limitA: 35 }],
      connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, mode: 'pv' }],
    },
    otherLoads: { home: () => [1000 / V, 0, 0] },
    chargers: { 'WB-1/1': { responseDelayMs: 0 } },
    cars: [{ connector: 'WB-1/1', arriveMs: 0, ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60 } }],
    pv: { peakW: 10_000, profile: (atMs) => (atMs - START_OF_DAY_MS <= 2000 ? 0.8 : 0.5) },
    battery: {
      source: 'battery',
      capacityWh: 10_000,
      socPercent,
      maxChargeW: 2500,
      maxDischargeW: 2500,
    },
  });
  const keys = new Set(['WB-1/1']);
  const account = new PvDayAccount(keys, keys, 50, () => 16);
  const setPoint: SetPoint = { chargePointId: 'WB-1', connectorId: 1, limitA: 6, phases: 3, reason: 'test' };
  sim.applySetPoint(setPoint);
  const drawn: number[] = [];
  for (let second = 0; second < 4; second++) {
    clock.advance(1000);
    sim.step(1000);
    drawn.push(sim.chargerStats()[0]?.drawW ?? 0);
    account.step(sim, [setPoint], 1000);
  }
  assert.deepEqual(drawn, [CAR_W, CAR_W, CAR_W, CAR_W], 'the car draws 4140 W every second');
  return account.finish(sim);
}

const wh = (wattSeconds: number) => wattSeconds / 3600;
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

describe('PvDayAccount: the PV surplus share', () => {
  it("leaves the battery's priority share to the battery: a car drawing from it took no surplus", () => {
    // The battery (20 %) has priority. 8000 W: PV − house 7000 W, the battery's share 2500 W,
    // 4500 W for the cars, which take 4140 W. 5000 W: PV − house 4000 W, the battery's share
    // 2500 W, 1500 W for the cars; the car draws 4140 W, the battery discharges 140 W. The old
    // account took the battery's actual charge (0 W) off and counted 4000 W as surplus taken.
    const figures = day(20);
    close(figures.surplusWh, wh(2 * 4500 + 2 * 1500), 'surplus');
    close(figures.bestPossibleWh, wh(2 * 4500 + 2 * 1500), 'best possible');
    close(figures.carsFromPvWh, wh(2 * CAR_W + 2 * 1500), 'taken');
    close(figures.share, (2 * CAR_W + 2 * 1500) / (2 * 4500 + 2 * 1500), 'share');
    close(figures.batteryToPvCarsWh, wh(2 * 140), 'battery to the pv car');
  });

  it('counts the whole of PV − house as surplus once the battery has no priority', () => {
    // At 60 % the battery's charge is surplus: 7000 W then 4000 W for the cars.
    const figures = day(60);
    close(figures.surplusWh, wh(2 * 7000 + 2 * 4000), 'surplus');
    close(figures.carsFromPvWh, wh(2 * CAR_W + 2 * 4000), 'taken');
    close(figures.share, (2 * CAR_W + 2 * 4000) / (2 * 7000 + 2 * 4000), 'share');
  });
});
