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
