import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  check,
  checkClosedLoop,
  type Plan,
  planArbitrary,
  pvPlanArbitrary,
  replayCommand,
} from '../../support/closed-loop-property';

/**
 * The load manager closed-loop with the site simulator, over random sites (the property and its
 * documented transient bounds: test/support/closed-loop-property.ts). A short form here;
 * test/reliability/closed-loop_spec.ts runs 10,000 sites (npm run test:reliability).
 *
 * PROPERTY_SEED and PROPERTY_RUNS explore other cases; PROPERTY_PATH with PROPERTY_RUNS=1 (and the
 * seed) replays the one case a failure names: the failure prints the command.
 */

/**
 * Counterexamples the property found with other seeds, kept so they stay fixed whatever the seed.
 * Data, not code: each plan is kept as it was found (so it still reproduces), and the plans here and
 * in uncontrolled-properties_spec.ts are alike in shape because they are all Plans. Those found
 * before the simulator's chargers paused for a phase switch under load (2026-11-26) and that switch
 * under load say `phaseSwitchPauseMs: 0`, here and in closed-loop-fixed/: they stay what they were.
 */
const FOUND: { seed: number; what: string; plan: Plan }[] = [
  {
    seed: -1607749443,
    what: 'a charger that offers 3 A more than told, on one phase, switched back to three: the excess comes on the new phases too',
    plan: {
      site: {
        circuits: [
          {
            id: 'c0',
            limitA: [42, 41, 40],
            meter: { source: 'm0', location: 'includesChargers' },
            fallback: { otherLoadA: [0, 0, 0] },
          },
        ],
        connectors: [
          { chargePointId: 'CP-0', circuit: 'c0', phaseRotation: 'STR', maxA: 16, canSwitchPhases: true },
          { chargePointId: 'CP-1', circuit: 'c0', phaseRotation: 'TRS', maxA: 32, canSwitchPhases: true },
          { chargePointId: 'CP-2', circuit: 'c0', phaseRotation: 'RST', maxA: 16, canSwitchPhases: false },
          { chargePointId: 'CP-3', circuit: 'c0', phaseRotation: 'STR', maxA: 16, canSwitchPhases: true },
        ],
        unbalanceLimitA: null,
      },
      loads: {
        c0: [
          { fromMs: 720000, levels: [0, 0, 0] },
          { fromMs: 1260000, levels: [0, 0, 0] },
        ],
      },
      meterIntervalMs: { c0: 1000 },
      chargers: {
        'CP-0/1': { responseDelayMs: 3000, meterIntervalMs: 5000, overOfferA: 3, phaseSwitchPauseMs: 0 },
        'CP-1/1': { responseDelayMs: 1000, meterIntervalMs: 60000, phaseSwitchPauseMs: 0 },
        'CP-2/1': { responseDelayMs: 1000, meterIntervalMs: 60000, phaseSwitchPauseMs: 0 },
        'CP-3/1': {
          responseDelayMs: 7000,
          meterIntervalMs: 60000,
          ignoresPhaseSwitch: true,
          phaseSwitchPauseMs: 0,
        },
      },
      cars: [
        {
          connector: 'CP-0/1',
          arriveMs: 135000,
          leaveMs: 1575000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 42 },
        },
        {
          connector: 'CP-1/1',
          arriveMs: 615000,
          leaveMs: 1875000,
          ev: { phases: 1, maxCurrentA: 16, capacityKWh: 60, socPercent: 41 },
        },
        {
          connector: 'CP-2/1',
          arriveMs: 915000,
          leaveMs: 2115000,
          ev: { phases: 1, maxCurrentA: 32, capacityKWh: 60, socPercent: 49 },
        },
        {
          connector: 'CP-3/1',
          arriveMs: 495000,
          leaveMs: 1575000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 77 },
        },
      ],
    },
  },
  {
    seed: 3,
    what: "a charger's measurement newer than the circuit meter's reading, of an increase the meter had not seen: the other loads looked 1.3 A smaller",
    plan: {
      site: {
        circuits: [
          {
            id: 'c0',
            limitA: [75, 42, 42],
            meter: { source: 'm0', location: 'includesChargers' },
            fallback: { otherLoadA: [0, 13, 13] },
          },
          {
            id: 'c1',
            parent: 'c0',
            limitA: [53, 56, 42],
            meter: { source: 'm1', location: 'otherLoadsOnly' },
            fallback: { otherLoadA: [0, 0, 0] },
          },
          {
            id: 'c2',
            parent: 'c1',
            limitA: [51, 43, 48],
            meter: { source: 'm2', location: 'includesChargers' },
            fallback: { otherLoadA: [0, 0, 0] },
          },
        ],
        connectors: [
          { chargePointId: 'CP-0', circuit: 'c0', phaseRotation: 'RST', maxA: 16, canSwitchPhases: true },
          { chargePointId: 'CP-1', circuit: 'c1', phaseRotation: 'RST', maxA: 16, canSwitchPhases: false },
          { chargePointId: 'CP-2', circuit: 'c0', phaseRotation: 'TRS', maxA: 16, canSwitchPhases: false },
          { chargePointId: 'CP-3', circuit: 'c1', phaseRotation: 'STR', maxA: 32, canSwitchPhases: false },
        ],
        unbalanceLimitA: null,
      },
      loads: {
        c0: [
          { fromMs: 300000, levels: [0, 0, 0] },
          { fromMs: 360000, levels: [0, 0, 12.6] },
          { fromMs: 420000, levels: [0, 12.6, 0] },
        ],
        c1: [
          { fromMs: 360000, levels: [0, 0, 0] },
          { fromMs: 540000, levels: [0, 0, 0] },
          { fromMs: 660000, levels: [0, 0, 0] },
        ],
        c2: [
          { fromMs: 0, levels: [0, 0, 0] },
          { fromMs: 1080000, levels: [0, 0, 0] },
        ],
      },
      meterIntervalMs: { c0: 2000, c1: 1000, c2: 1000 },
      chargers: {
        'CP-0/1': { responseDelayMs: 8000, meterIntervalMs: 10000 },
        'CP-1/1': { responseDelayMs: 7000, meterIntervalMs: 5000 },
        'CP-2/1': { responseDelayMs: 5000, meterIntervalMs: 10000 },
        'CP-3/1': { responseDelayMs: 8000, meterIntervalMs: 60000 },
      },
      cars: [
        {
          connector: 'CP-0/1',
          arriveMs: 15000,
          leaveMs: 1275000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 79 },
        },
        {
          connector: 'CP-1/1',
          arriveMs: 915000,
          leaveMs: 2595000,
          ev: { phases: 3, maxCurrentA: 32, capacityKWh: 60, socPercent: 33 },
        },
        {
          connector: 'CP-2/1',
          arriveMs: 195000,
          leaveMs: 1995000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 15 },
        },
        {
          connector: 'CP-3/1',
          arriveMs: 735000,
          leaveMs: 1635000,
          ev: { phases: 1, maxCurrentA: 16, capacityKWh: 60, socPercent: 23 },
        },
      ],
    },
  },
  {
    seed: 10,
    what: 'a charger whose only reading predates a decrease and an increase, and answers in 7 s: counted at the new set-point, it made the other loads look 5 A smaller',
    plan: {
      site: {
        circuits: [
          {
            id: 'c0',
            limitA: [73, 44, 41],
            meter: { source: 'm0', location: 'includesChargers' },
            fallback: { otherLoadA: [22, 14, 0] },
          },
          { id: 'c1', parent: 'c0', limitA: [79, 41, 45] },
          {
            id: 'c2',
            parent: 'c1',
            limitA: [75, 72, 80],
            meter: { source: 'm2', location: 'otherLoadsOnly' },
            fallback: { otherLoadA: [0, 0, 0] },
          },
        ],
        connectors: [
          { chargePointId: 'CP-0', circuit: 'c1', phaseRotation: 'TRS', maxA: 16, canSwitchPhases: true },
          { chargePointId: 'CP-1', circuit: 'c2', phaseRotation: 'RST', maxA: 16, canSwitchPhases: false },
          { chargePointId: 'CP-2', circuit: 'c0', phaseRotation: 'RST', maxA: 32, canSwitchPhases: false },
        ],
        unbalanceLimitA: null,
      },
      loads: {
        c2: [
          { fromMs: 0, levels: [0, 0, 0] },
          { fromMs: 660000, levels: [0, 0, 0] },
        ],
        c0: [{ fromMs: 1260000, levels: [21.9, 13.2, 0] }],
      },
      meterIntervalMs: { c0: 1000, c2: 3000 },
      chargers: {
        'CP-0/1': { responseDelayMs: 2000, meterIntervalMs: 5000, ignoresPhaseSwitch: true },
        'CP-1/1': { responseDelayMs: 3000, meterIntervalMs: 60000 },
        'CP-2/1': { responseDelayMs: 7000, meterIntervalMs: 300000 },
      },
      cars: [
        {
          connector: 'CP-0/1',
          arriveMs: 195000,
          leaveMs: 1335000,
          ev: { phases: 3, maxCurrentA: 32, capacityKWh: 60, socPercent: 42 },
        },
        {
          connector: 'CP-1/1',
          arriveMs: 675000,
          leaveMs: 2235000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 75 },
        },
        {
          connector: 'CP-2/1',
          arriveMs: 255000,
          leaveMs: 1695000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 75 },
        },
      ],
    },
  },
];

describe('LoadManager closed loop (properties, physical current)', function () {
  this.timeout(120_000);

  /** The property over `runs` sites of a fixed seed (so CI is repeatable), or as PROPERTY_* say. */
  function holds(seed: number, runs: number, pv: boolean): void {
    let excessMs = 0;
    let windowMs = 0;
    const chosenSeed = Number(process.env.PROPERTY_SEED ?? seed);
    const path = process.env.PROPERTY_PATH;
    const details = checkClosedLoop(
      {
        seed: chosenSeed,
        runs: Number(process.env.PROPERTY_RUNS ?? runs),
        ...(path !== undefined ? { path } : {}),
        onCase: (figures) => {
          excessMs += figures.excessMs;
          windowMs += figures.windowMs;
        },
      },
      pv ? pvPlanArbitrary : planArbitrary,
    );
    if (details.failed) {
      assert.fail(
        `${fc.defaultReportMessage(details)}\nreplay: ${replayCommand(chosenSeed, details.counterexamplePath ?? '', pv)}`,
      );
    }
    assert.ok(excessMs <= windowMs);
  }

  it('keeps every breaker within its limit except in the documented transients, bounding the excess time', () => {
    holds(20261122, 12, false);
  });

  it('does the same with a PV plant behind the grid meter, clouds passing, and cars on pv and minpv', () => {
    holds(20261124, 8, true);
  });

  describe('cases found with other seeds', () => {
    for (const found of FOUND) {
      it(`seed ${found.seed}: ${found.what}`, () => {
        check(found.plan);
      });
    }
    // Found by the 10,000-site run (npm run test:reliability) and fixed: kept as found.
    for (const file of readdirSync(join(__dirname, 'closed-loop-fixed')).sort()) {
      const found = JSON.parse(readFileSync(join(__dirname, 'closed-loop-fixed', file), 'utf8')) as {
        seed: number;
        path: string;
        what: string;
        plan: Plan;
      };
      it(`seed ${found.seed} path ${found.path}: ${found.what}`, () => {
        check(found.plan);
      });
    }
  });
});
