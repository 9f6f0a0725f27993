import assert from 'node:assert/strict';
import fc from 'fast-check';
import { faultPlanArbitrary, faultsReplayCommand } from '../../support/closed-loop-fault-plans';
import { checkClosedLoop } from '../../support/closed-loop-property';

/**
 * The load manager closed-loop with the site simulator on real-site defaults, with a car park's
 * faults: meters that go silent or lie, chargers that take 1-60 s to follow, that refuse their
 * limits, that confirm none or meter energy only (test/support/closed-loop-faults.ts says which and
 * the windows they may cause). A short form here; test/reliability/closed-loop_spec.ts runs 10,000.
 *
 * FAULTS_SEED, FAULTS_RUNS and FAULTS_PATH (with FAULTS_RUNS=1) replay a case a failure names.
 */

describe('LoadManager closed loop with a car park faults, no setting changed (properties, physical current)', function () {
  this.timeout(300_000);

  it('keeps every breaker within its limit through silent and lying meters, slow and refusing chargers', () => {
    const seed = Number(process.env.FAULTS_SEED ?? 20261124);
    const path = process.env.FAULTS_PATH;
    let excessMs = 0;
    let windowMs = 0;
    const details = checkClosedLoop(
      {
        seed,
        runs: Number(process.env.FAULTS_RUNS ?? 40),
        ...(path !== undefined ? { path } : {}),
        onCase: (figures) => {
          excessMs += figures.excessMs;
          windowMs += figures.windowMs;
        },
      },
      faultPlanArbitrary,
    );
    if (details.failed) {
      assert.fail(
        `${fc.defaultReportMessage(details)}\nreplay: ${faultsReplayCommand(seed, details.counterexamplePath ?? '')}`,
      );
    }
    assert.ok(excessMs <= windowMs);
  });
});
