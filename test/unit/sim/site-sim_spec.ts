import assert from 'node:assert/strict';
import { ManualClock } from '../../../lib/clock';
import { SiteSimulator } from '../../../sim/site';

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

describe('SiteSimulator habits of the fleet (issue 45)', () => {
  const run = (
    charger: { unphasedCurrent?: boolean },
    ev: { maxCurrentA: number; overshootPercent?: number },
  ) => {
    const clock = new ManualClock(Date.UTC(2026, 5, 21, 12));
    const sim = new SiteSimulator({
      clock,
      site: {
        circuits: [{ id: 'home', limitA: 35 }],
        connectors: [{ chargePointId: 'WB-1', circuit: 'home', maxA: 32 }],
      },
      chargers: { 'WB-1/1': { responseDelayMs: 1000, meterIntervalMs: 5000, ...charger } },
      cars: [{ connector: 'WB-1/1', arriveMs: 0, leaveMs: 600_000, ev: { phases: 3, ...ev } }],
    });
    sim.applySetPoint({ chargePointId: 'WB-1', connectorId: 1, reason: 'test', limitA: 20, phases: 3 });
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      sim.step(1000);
    }
    const states = sim.takeConnectorStates();
    return { actual: sim.actualA()[0], state: states[states.length - 1] };
  };

  it('a car that overshoots draws that share above the limit it is given, or its own maximum below it', () => {
    assert.deepEqual(run({}, { maxCurrentA: 32, overshootPercent: 3 }).actual, [20.6, 20.6, 20.6]);
    assert.deepEqual(run({}, { maxCurrentA: 13 }).actual, [13, 13, 13]);
  });

  it('a charger that reports one current without a phase says it as currentUnphasedA, with no per-phase currents', () => {
    const { state } = run({ unphasedCurrent: true }, { maxCurrentA: 32 });
    assert.equal(state?.currentUnphasedA, 20);
    assert.equal(state?.currentA, undefined);
    assert.equal(state?.activePhases, undefined);
  });
});
