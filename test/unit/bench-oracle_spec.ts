/**
 * bench:control's oracle core (bench/control/oracle-dp.ts) on tiny days done by hand: one car that
 * switches between 1 phase (1.38-3.68 kW) and 3 phases (4.14-11.04 kW), no other car, 10 s slots,
 * a 20 s pause (two slots) to switch under load.
 */
import assert from 'node:assert/strict';
import { type OracleSlot, solveOracle } from '../../bench/control/oracle-dp';

const STEP_MS = 10_000;
const slot = (surplusW: number): OracleSlot => ({
  surplusW,
  present: true,
  capW: [0, 3680, 11_040],
  minW: [1380, 4140],
});
/** `minutes` of 10 s slots at `surplusW`. */
const minutes = (count: number, surplusW: number) => Array.from({ length: count * 6 }, () => slot(surplusW));
const wh = (w: number, min: number) => (w * min) / 60;

describe('bench:control oracle (perfect knowledge, limited starts)', () => {
  it('with one start takes one sunny block of two, with two starts both', () => {
    // 10 min at 8 kW, 10 min with nothing, 10 min at 8 kW; no grid import allowed.
    const day = [...minutes(10, 8000), ...minutes(10, 0), ...minutes(10, 8000)];
    const one = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 1, dips: 'none' });
    assert.equal(one.starts, 1);
    assert.ok(Math.abs(one.takenWh - wh(8000, 10)) < 1e-6, `took ${one.takenWh} Wh`);
    const two = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 2, dips: 'none' });
    assert.equal(two.starts, 2);
    assert.ok(Math.abs(two.takenWh - 2 * wh(8000, 10)) < 1e-6, `took ${two.takenWh} Wh`);
  });

  it('counts the restart after a switch under load as a start, and pauses the car for it', () => {
    // 10 min at 3 kW (one phase), then 10 min at 8 kW (three).
    const day = [...minutes(10, 3000), ...minutes(10, 8000)];
    // One start: one phase all along (500 + 613.3 Wh) beats three phases for the second half only (1333.3).
    const one = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 1, dips: 'none' });
    assert.ok(Math.abs(one.takenWh - wh(8000, 10)) < 1e-6, `took ${one.takenWh} Wh`);
    assert.equal(one.switches, 0);
    // Two: one phase for 9 min 40 s, the switch's 20 s of nothing while the sun is weak, three
    // phases for all of the 10 min at 8 kW.
    const two = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 2, dips: 'none' });
    assert.ok(Math.abs(two.takenWh - (wh(3000, 10 - 1 / 3) + wh(8000, 10))) < 1e-6, `took ${two.takenWh} Wh`);
    assert.equal(two.switches, 1);
    assert.equal(two.starts, 2);
    assert.deepEqual(two.modes.slice(57, 61), [1, -1, -1, 3]);
  });

  it('rides a dip with grid import only where the rule allows', () => {
    // 5 min at 5 kW, 1 min at 1 kW, 5 min at 5 kW, with one start: without import one block of
    // 5 min on three phases; with it three phases all along, the minute at 1 kW included.
    const day = [...minutes(5, 5000), ...minutes(1, 1000), ...minutes(5, 5000)];
    const none = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 1, dips: 'none' });
    assert.ok(Math.abs(none.takenWh - wh(5000, 5)) < 1e-6, `took ${none.takenWh} Wh`);
    const any = solveOracle(day, { stepMs: STEP_MS, pauseMs: 20_000, maxStarts: 1, dips: 'any' });
    assert.ok(Math.abs(any.takenWh - (wh(5000, 10) + wh(1000, 1))) < 1e-6, `took ${any.takenWh} Wh`);
  });
});
