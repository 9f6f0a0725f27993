import assert from 'node:assert/strict';
import type { VerificationReport } from '../../../lib/profiles';
import { advance } from '../interop/support';
import { setPoint, startCharging, useProfileRig } from './support';

/**
 * The meter decides: a charger that accepts a limit but whose car keeps drawing more is flagged
 * "ignores limit", so the load manager can compensate; a car that is merely slow to follow is not.
 * Meter values every 10 s; the car needs 30 s to follow (default), 30 s over the limit flags it.
 */
describe('Profiles: "ignores limit" detection from MeterValues', () => {
  const { rig } = useProfileRig();

  it('flags a charger that accepts the limit and reports it, while the car keeps drawing the rated current', async () => {
    const { cp, clock, manager, log } = await rig({ sim: { vendorBehaviour: { ignoreLimits: true } } });
    await startCharging(cp, 1, { maxCurrentA: 32 });
    const reports: VerificationReport[] = [];
    manager.on('verification', (report: VerificationReport) => reports.push(report));
    const [applied] = await manager.apply(setPoint(10));
    assert.equal(applied?.outcome, 'applied');
    assert.equal(applied?.verification.schedule, 'matches', 'the composite schedule cannot tell');
    await advance(cp, clock, 20_000, 10_000);
    assert.equal(reports.length, 0, 'within the time a car needs to follow');
    // Over the limit from the reading at 30 s; flagged at 60 s, 30 s and four readings later.
    await advance(cp, clock, 40_000, 10_000);
    assert.deepEqual(
      reports.map((report) => [report.verification.meter, report.verification.measuredA]),
      [
        ['above', 32],
        ['ignoresLimit', 32],
      ],
    );
    const last = reports[reports.length - 1];
    assert.equal(last?.verification.ignoresLimit, true);
    assert.equal(last?.verification.verified, false);
    assert.equal(last?.limitA, 10);
    assert.equal(manager.charger('CP1')?.connectors[0]?.verification.ignoresLimit, true);
    assert.equal(
      log.matching(/CP1 connector 1 ignores its limit: 32 A measured, 10 A allowed/, 'warn').length,
      1,
    );
  });

  it('flags it also when the load manager changes the limit every 5 s (the watch keeps counting across limits)', async () => {
    const { cp, clock, manager, log } = await rig({ sim: { vendorBehaviour: { ignoreLimits: true } } });
    await startCharging(cp, 1, { maxCurrentA: 32 });
    const reports: VerificationReport[] = [];
    manager.on('verification', (report: VerificationReport) => reports.push(report));
    // 8 and 12 A in turn, a new set-point every 5 s for 150 s (the manager paces what it sends);
    // meter values every 10 s.
    const applied = [];
    for (let step = 0; step < 30; step += 1) {
      applied.push(manager.apply(setPoint(step % 2 === 0 ? 12 : 8)));
      await advance(cp, clock, 5_000, 5_000);
    }
    const outcomes = (await Promise.all(applied)).map(([result]) => result?.outcome);
    assert.ok(outcomes.filter((outcome) => outcome === 'applied').length >= 4, outcomes.join());
    assert.deepEqual(
      reports.map((report) => report.verification.meter),
      ['above', 'ignoresLimit'],
    );
    assert.equal(manager.charger('CP1')?.connectors[0]?.verification.ignoresLimit, true);
    assert.equal(
      log.matching(/CP1 connector 1 ignores its limit: 32 A measured, 12 A allowed/, 'warn').length,
      1,
      'the warning names the highest limit the car may still have been following',
    );
  });

  it('does not flag a car that follows a limit changed every 5 s', async () => {
    const { cp, clock, manager } = await rig();
    await startCharging(cp, 1, { maxCurrentA: 32, followDelayMs: 3_000 });
    const flags: string[] = [];
    manager.on('verification', (report: VerificationReport) => flags.push(report.verification.meter));
    const applied = [];
    for (let step = 0; step < 18; step += 1) {
      applied.push(manager.apply(setPoint(step % 2 === 0 ? 12 : 8)));
      await advance(cp, clock, 5_000, 5_000);
    }
    await Promise.all(applied);
    assert.ok(!flags.includes('above') && !flags.includes('ignoresLimit'), flags.join());
    assert.equal(flags[0], 'within');
  });

  it('does not flag a car that takes 20 s to follow a decrease', async () => {
    const { cp, clock, manager } = await rig();
    await startCharging(cp, 1, { maxCurrentA: 32, followDelayMs: 20_000 });
    await advance(cp, clock, 20_000, 10_000);
    assert.deepEqual(cp.connector(1).currentA, [32, 32, 32]);
    const flags: string[] = [];
    manager.on('verification', (report: VerificationReport) => flags.push(report.verification.meter));
    await manager.apply(setPoint(10));
    await advance(cp, clock, 60_000, 10_000);
    assert.deepEqual(flags, ['within']);
    assert.equal(manager.charger('CP1')?.connectors[0]?.verification.verified, true);
  });

  it('a car slower than the follow delay is "above" for a while, never "ignores limit", and then within', async () => {
    const { cp, clock, manager } = await rig({ manager: { verification: { followDelayMs: 10_000 } } });
    await startCharging(cp, 1, { maxCurrentA: 32, followDelayMs: 25_000 });
    await advance(cp, clock, 30_000, 10_000);
    const flags: string[] = [];
    manager.on('verification', (report: VerificationReport) => flags.push(report.verification.meter));
    await manager.apply(setPoint(10));
    await advance(cp, clock, 60_000, 10_000);
    assert.deepEqual(flags, ['above', 'within']);
  });

  it('measures single-phase cars on their phase, and tolerates 1 A of meter error', async () => {
    const { cp, clock, manager } = await rig({
      sim: {
        connectors: [{ phases: 1 }],
        configuration: { ConnectorPhaseRotation: '0.RST,1.NotApplicable' },
      },
    });
    await startCharging(cp, 1, { phases: 1, maxCurrentA: 32 });
    await manager.apply(setPoint(16, { phases: 1 }));
    await advance(cp, clock, 40_000, 10_000);
    const verification = manager.charger('CP1')?.connectors[0]?.verification;
    assert.equal(verification?.measuredA, 16);
    assert.equal(verification?.meter, 'within');
    assert.equal(manager.charger('CP1')?.capabilities?.phaseRotation?.[1], 'NotApplicable');
  });
});
