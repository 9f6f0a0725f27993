import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { SiteSimulator } from '../../../lib/sim/site';

describe('SiteSimulator phase switches', () => {
  it('counts a switch of the phases only while a car is plugged in', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 21, 12));
    const sim = new SiteSimulator({
      clock,
      site: {
        circuits: [{ id: 'home', limitA: 35 }],
        connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, canSwitchPhases: true }],
      },
      cars: [{ connector: 'WB-1/1', arriveMs: 10_000, leaveMs: 60_000, ev: { phases: 3 } }],
    });
    const step = (setPoint?: { limitA: number; phases: 1 | 3 }) => {
      if (setPoint) sim.applySetPoint({ chargePointId: 'WB-1', connectorId: 1, reason: 'test', ...setPoint });
      for (let i = 0; i < 6; i++) {
        clock.advance(1000);
        sim.step(1000);
      }
    };
    step({ limitA: 0, phases: 1 }); // no car yet
    step(); // the car arrives
    step({ limitA: 6, phases: 3 });
    step({ limitA: 6, phases: 1 });
    clock.advance(60_000);
    sim.step(60_000); // the car leaves
    step({ limitA: 0, phases: 3 });
    assert.equal(sim.chargerStats()[0]?.phaseSwitches, 2);
  });
});

describe('SiteSimulator phase switch pause', () => {
  const run = (phaseSwitchPauseMs?: number) => {
    const clock = new ManualClock(Date.UTC(2026, 5, 21, 12));
    const sim = new SiteSimulator({
      clock,
      site: {
        circuits: [{ id: 'home', limitA: 35 }],
        connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 16, canSwitchPhases: true }],
      },
      chargers: {
        'WB-1/1': { responseDelayMs: 0, ...(phaseSwitchPauseMs === undefined ? {} : { phaseSwitchPauseMs }) },
      },
      cars: [{ connector: 'WB-1/1', arriveMs: 0, ev: { phases: 3 } }],
    });
    const drawn: number[] = [];
    const step = (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        clock.advance(1000);
        sim.step(1000);
        drawn.push(sim.chargerStats()[0]?.drawW ?? 0);
      }
    };
    sim.applySetPoint({ chargePointId: 'WB-1', connectorId: 1, reason: 'test', limitA: 10, phases: 3 });
    step(10);
    sim.applySetPoint({ chargePointId: 'WB-1', connectorId: 1, reason: 'test', limitA: 10, phases: 1 });
    step(40);
    return { sim, drawn };
  };

  it('stops the car for 20 s when it switches phases under load, without a new start', () => {
    const { sim, drawn } = run();
    const stats = sim.chargerStats()[0];
    assert.equal(stats?.phaseSwitches, 1);
    assert.equal(stats?.starts, 1);
    assert.equal(stats?.stops, 0);
    const zero = drawn.slice(10).filter((a) => a === 0).length;
    assert.equal(zero, 20, `drew nothing for ${zero} s`);
    assert.equal(drawn.at(-1), 10 * 230, 'draws again, on one phase, after the pause');
    assert.equal(sim.chargerStats()[0]?.status, 'Charging');
  });

  it('switches at once when its pause is 0 (the ideal)', () => {
    const { drawn } = run(0);
    assert.equal(drawn.slice(10).filter((a) => a === 0).length, 0);
  });
});
