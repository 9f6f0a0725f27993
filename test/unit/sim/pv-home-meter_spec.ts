/**
 * The home PV day's grid meter (sim/site-scenarios.ts `pvHome`) is truthful, so the load
 * manager's frozen rule (lib/dlm/evidence/meter-plausibility.ts) must never fire on it. With a
 * battery that held the grid exactly at zero it read the same values for minutes and was judged
 * frozen: 3,096 s on the fast-clouds day (seed 11), from 07:38 on; the simulated battery's
 * controller now misses by up to 30 W and follows 2 s late (sim/site-battery.ts).
 */
import assert from 'node:assert/strict';
import { pvHome, runScenario } from '../../../sim/site-scenarios';

const HOUR_MS = 3_600_000;

describe('pvHome grid meter and the frozen rule', () => {
  it('is never judged frozen from 05:00 to 08:30 on the fast-clouds day', function () {
    this.timeout(120_000);
    let frozenS = 0;
    let why = '';
    runScenario(pvHome({ clouds: 'fast', seed: 11 }), {
      durationMs: 3.5 * HOUR_MS,
      onStep: (_sim, manager) => {
        for (const circuit of manager.summary().circuits) {
          const implausible = circuit.meter?.implausible;
          if (implausible && /frozen/.test(implausible)) {
            frozenS += 1;
            why ||= implausible;
          }
        }
      },
    });
    assert.equal(frozenS, 0, `judged frozen for ${frozenS} s: ${why}`);
  });
});
