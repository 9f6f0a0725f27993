/**
 * The simulated home battery's controller (sim/site-battery.ts): it holds the grid at zero, and,
 * when told to, a few tens of watts off and a moment late, as a real one does, so that a truthful
 * grid meter does not read the same value for hours (which the load manager's frozen rule would
 * take for a gateway repeating its cache).
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import type { Reading } from '../../../lib/contracts';
import { SiteSimulator } from '../../../sim/site';
import type { SimBattery } from '../../../sim/site-options';

const V = 230;
const START_OF_DAY_MS = 12 * 3_600_000;

/**
 * A home under a grid meter: 430 W of house, `pvW` of PV (2500 W: the battery charges 2070 W; with
 * the car it gives 2070 W), a 10 kWh battery at 30 % (2500 W at most), and a car that arrives at
 * `carAtMs` and draws 6 A on three phases (4140 W).
 */
function home(battery: Partial<SimBattery>, carAtMs = Number.POSITIVE_INFINITY, pvW = 2500) {
  const clock = new ManualClock(Date.UTC(2026, 5, 21) + START_OF_DAY_MS);
  const sim = new SiteSimulator({
    clock,
    startOfDayMs: START_OF_DAY_MS,
    site: {
      voltageV: V,
      circuits: [{ id: 'home', limitA: 35, meter: { source: 'grid', location: 'includesChargers' } }],
      connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16 }],
    },
    otherLoads: { home: () => [220 / V, 120 / V, 90 / V] },
    chargers: { 'WB-1/1': { responseDelayMs: 0 } },
    cars: [{ connector: 'WB-1/1', arriveMs: carAtMs, ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60 } }],
    pv: { peakW: 10_000, profile: () => pvW / 10_000 },
    battery: {
      source: 'battery',
      capacityWh: 10_000,
      socPercent: 30,
      maxChargeW: 2500,
      maxDischargeW: 2500,
      ...battery,
    },
  });
  sim.applySetPoint({ chargePointId: 'WB-1', connectorId: 1, limitA: 6, phases: 3, reason: 'test' });
  const grid: { powerW: number; reading: Reading | undefined }[] = [];
  const run = (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      sim.step(1000);
      grid.push({ powerW: sim.gridPowerW, reading: sim.takeReadings().find((r) => r.source === 'grid') });
    }
  };
  return { sim, grid, run };
}

/** The most readings in a row that repeat the first of them to the last digit on every phase. */
function longestRepeat(grid: readonly { reading: Reading | undefined }[]): number {
  let longest = 1;
  let run = 1;
  for (let i = 1; i < grid.length; i++) {
    const same =
      JSON.stringify(grid[i]?.reading?.currentA) === JSON.stringify(grid[i - 1]?.reading?.currentA);
    run = same ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

describe('SiteSimulator home battery controller', () => {
  it('holds the grid exactly at zero by default: the grid meter repeats itself', () => {
    // With the car the battery gives 2070 W and the grid stays flat.
    const { grid, run } = home({}, 0);
    run(600);
    assert.ok(
      grid.every((g) => Math.abs(g.powerW) < 1e-9),
      'the grid at 0 W every second',
    );
    assert.equal(longestRepeat(grid), 600);
  });

  it('misses a flat grid by up to its controlErrorW, a new deviation each second, and the meter moves', () => {
    const { grid, run } = home({ controlErrorW: 30, seed: 11 }, 0);
    run(600);
    const powers = grid.map((g) => g.powerW);
    assert.ok(
      powers.every((w) => Math.abs(w) <= 30 + 1e-9),
      `within ±30 W: ${Math.min(...powers)}..${Math.max(...powers)}`,
    );
    assert.ok(Math.max(...powers) > 20 && Math.min(...powers) < -20, 'both ways, most of its range');
    // 30 W over three phases is 0.04 A a phase; the meter reads hundredths of an ampere. The
    // frozen rule wants the same values for 10 s (readings every second here).
    assert.ok(longestRepeat(grid) <= 3, `${longestRepeat(grid)} readings in a row the same`);
  });

  it('deviates the same way for the same seed and another way for another seed', () => {
    const trace = (seed: number) => {
      const { grid, run } = home({ controlErrorW: 30, seed }, 0);
      run(60);
      return grid.map((g) => g.powerW);
    };
    assert.deepEqual(trace(11), trace(11));
    assert.notDeepEqual(trace(11), trace(12));
  });

  it('follows a step of the load only after its controlLagMs', () => {
    // The battery closes half the gap each second (2 s lag): from its start (0 W) to its charge of
    // 2070 W, the grid exports 1035 W, then 517 W, ... The car comes at 30 s: 4140 W more, and the
    // grid imports 2070 W, then 1035 W, ... then nothing (the deviation is 0).
    const { grid, run } = home({ controlLagMs: 2000 }, 30_000);
    run(60);
    const powers = grid.map((g) => Math.round(g.powerW) + 0);
    assert.deepEqual(powers.slice(0, 3), [-1035, -517, -259]);
    assert.deepEqual(powers.slice(19, 29), new Array(10).fill(0), 'flat before the car');
    assert.deepEqual(powers.slice(29, 33), [2070, 1035, 517, 259], 'the car draws from the 30th second');
    assert.ok(Math.abs(powers.at(-1) ?? 0) <= 1, `settled: ${powers.at(-1)} W`);
    // Without the lag it covers the car in the same second.
    const exact = home({}, 30_000);
    exact.run(60);
    assert.ok(exact.grid.every((g) => Math.abs(g.powerW) < 1e-9));
  });

  it('runs up to its controlErrorW below its maximum when that is not enough: the meter still moves', () => {
    // In the dark the house and the car take 4570 W; the battery gives at most 2500 W of it.
    const { grid, run } = home({ controlErrorW: 30, seed: 5 }, 0, 0);
    run(300);
    const powers = grid.map((g) => g.powerW);
    assert.ok(
      powers.every((w) => w >= 2070 - 1e-9 && w <= 2100 + 1e-9),
      `2070..2100 W: ${Math.min(...powers)}..${Math.max(...powers)}`,
    );
    assert.ok(longestRepeat(grid) <= 3, `${longestRepeat(grid)} readings in a row the same`);
  });

  it('never charges beyond its maximum nor discharges below its minimum SoC, deviation or not', () => {
    // An empty battery (its 10 % minimum) in the dark: the house comes from the grid, exactly.
    const { sim, grid, run } = home({ controlErrorW: 50, seed: 3, socPercent: 10 }, undefined, 0);
    run(60);
    assert.ok(grid.every((g) => g.powerW >= 430 - 1e-9 && g.powerW <= 430 + 50 + 1e-9));
    assert.ok((sim.batterySocPercent ?? 0) >= 10 - 1e-9);
  });
});
