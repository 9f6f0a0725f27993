import assert from 'node:assert/strict';
import { createRPCError } from 'ocpp-rpc';
import { type LimitReport, RETRY_REFUSED_AFTER_MS } from '../../../lib/profiles';
import type { InteropChargePoint } from '../interop/support';
import { gaveUp, pauseSession, refuseProfiles, STACK_LEVEL_0 } from './refusals';
import { installed, offered, profilesSent, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * Regression tests for what an independent review found in the profile manager: ways in which a
 * pause, a fallback or a verification could leave a car with more current than the load manager
 * allowed (or, wrongly reported as verified, with less). Each case failed before its fix.
 */

/** A charger that refuses 0 A in a TxProfile (evcc #16768) and takes everything else. */
function refuseZeroTxProfile(cp: InteropChargePoint): void {
  refuseProfiles(cp, (purpose, limit) => purpose === 'TxProfile' && limit === 0);
}

const steps = (report: LimitReport | undefined) =>
  report?.attempts.map(
    (attempt) => `${attempt.action}/${attempt.method ?? ''}${attempt.refused ? ' refused' : ''}`,
  );

describe('Profiles: safety of pauses, fallbacks and verification', () => {
  const { rig } = useProfileRig();

  describe('a pause never raises the current', () => {
    it('pauses a session on a charger that refuses a 0 A TxProfile and applies TxDefaultProfile from the next session only', async () => {
      const { cp, clock, manager } = await rig({
        sim: { vendorBehaviour: { txDefaultFromNextSession: true }, configuration: STACK_LEVEL_0 },
      });
      refuseZeroTxProfile(cp);
      await manager.apply(setPoint(32));
      // The TxDefaultProfile was in place a minute before the session: the session keeps it for good.
      clock.advance(60_000);
      await startCharging(cp);
      assert.deepEqual(offered(cp, 1), [32]);
      clock.advance(20_000);
      const [down] = await manager.apply(setPoint(16));
      assert.equal(down?.method, 'TxProfile');
      assert.deepEqual(offered(cp, 1), [16]);

      const paused = await manager.pause('CP1', 1);
      await settled({ cp, manager });
      // Before the fix: TxDefaultProfile 0 (which this charger keeps for the next session) and the
      // TxProfile cleared, so the session went back to the 32 A it started with.
      assert.deepEqual(offered(cp, 1), [0]);
      assert.equal(cp.connector(1).status, 'SuspendedEVSE');
      assert.equal(paused.method, 'ChargePointMaxProfile');
      assert.deepEqual(steps(paused), [
        'SetChargingProfile/TxProfile refused',
        'SetChargingProfile/ChargePointMaxProfile',
      ]);
      assert.ok(installed(cp).includes('TxProfile@1:16'), 'the TxProfile stays: nothing replaced it');
    });

    it('forgets a transient refusal after RETRY_REFUSED_AFTER_MS; meanwhile decreases in the session still reach the car', async () => {
      const { cp, clock, manager } = await rig({
        sim: { vendorBehaviour: { txDefaultFromNextSession: true }, configuration: STACK_LEVEL_0 },
      });
      await manager.apply(setPoint(32));
      clock.advance(60_000);
      await startCharging(cp);
      clock.advance(20_000);
      let refuseOnce = true;
      cp.override('SetChargingProfile', (request, next) => {
        if (refuseOnce && request.csChargingProfiles.chargingProfilePurpose === 'TxProfile') {
          refuseOnce = false;
          return { status: 'Rejected' };
        }
        return next();
      });
      const [first] = await manager.apply(setPoint(16));
      assert.deepEqual(offered(cp, 1), [16]);
      assert.equal(first?.method, 'ChargePointMaxProfile');
      clock.advance(20_000);
      // Before the fix every later decrease went out as a TxDefaultProfile this charger keeps for the
      // next session: accepted, and the car stayed at 32 A.
      const [second] = await manager.apply(setPoint(8));
      assert.deepEqual(offered(cp, 1), [8]);
      assert.equal(second?.method, 'ChargePointMaxProfile');

      clock.advance(RETRY_REFUSED_AFTER_MS);
      const [later] = await manager.apply(setPoint(7));
      assert.deepEqual(steps(later), [
        'SetChargingProfile/TxProfile',
        'ClearChargingProfile/ChargePointMaxProfile',
      ]);
      assert.deepEqual(offered(cp, 1), [7]);
      assert.deepEqual(installed(cp), ['TxDefaultProfile@1:32', 'TxProfile@1:7']);
      assert.equal(manager.charger('CP1')?.memory.refused['session/limit'], undefined);
    });

    it('clears a TxProfile after a TxDefaultProfile took over only when the clear works; otherwise the next way', async () => {
      const { cp, manager } = await rig({
        sim: { configuration: STACK_LEVEL_0 },
        manager: { strategy: { txDefaultAppliesToRunningSession: true } },
      });
      refuseZeroTxProfile(cp);
      // A charger that answers Unknown and keeps the profile.
      cp.override('ClearChargingProfile', () => ({ status: 'Unknown' }));
      const paused = await pauseSession({ cp, manager });
      await settled({ cp, manager });
      // Before the fix: reported applied (TxDefaultProfile 0) while the TxProfile kept the car at 16 A.
      assert.deepEqual(steps(paused), [
        'SetChargingProfile/TxProfile refused',
        'SetChargingProfile/TxDefaultProfile',
        'ClearChargingProfile/TxProfile refused',
        'SetChargingProfile/ChargePointMaxProfile',
      ]);
      assert.equal(paused.method, 'ChargePointMaxProfile');
      assert.deepEqual(offered(cp, 1), [0]);
    });

    it('a clear of the TxProfile that gets no answer is a failure, and the pause is sent again', async () => {
      const { cs, cp, clock, manager } = await rig({
        sim: { configuration: STACK_LEVEL_0 },
        manager: { strategy: { txDefaultAppliesToRunningSession: true }, callTimeoutMs: 200 },
      });
      refuseZeroTxProfile(cp);
      let silent = true;
      cp.override('ClearChargingProfile', async (_request, next) => {
        if (silent) {
          silent = false;
          // Its answer comes only after the manager gave up waiting.
          await gaveUp(cs, 'ClearChargingProfile');
          return { status: 'Unknown' };
        }
        return next();
      });
      const paused = await pauseSession({ cp, manager });
      assert.equal(paused.outcome, 'failed');
      assert.match(paused.error ?? '', /did not answer ClearChargingProfile/);
      await settled({ cp, manager });
      clock.advance(5000);
      await settled({ cp, manager });
      assert.deepEqual(offered(cp, 1), [0]);
      assert.equal(manager.charger('CP1')?.connectors[0]?.confirmed, true);
    });
  });

  describe('a stale ChargePointMaxProfile goes, and a schedule below the limit is no match', () => {
    /** A session paused on a charger that takes 0 A only as a ChargePointMaxProfile. */
    async function pausedByChargePointMax() {
      const rigged = await rig({ sim: { configuration: STACK_LEVEL_0 } });
      refuseProfiles(rigged.cp, (purpose, limit) => purpose !== 'ChargePointMaxProfile' && limit === 0);
      const paused = await pauseSession(rigged);
      assert.equal(paused.method, 'ChargePointMaxProfile');
      return rigged;
    }

    it('clears the ChargePointMaxProfile of a pause when a TxProfile takes over again', async () => {
      const { cp, clock, manager } = await pausedByChargePointMax();
      assert.deepEqual(offered(cp, 1), [0]);
      clock.advance(20_000);
      const resumed = await manager.resume('CP1', 1);
      // Before the fix the ChargePointMaxProfile of 0 A stayed, and "at or below" verified it.
      assert.deepEqual(offered(cp, 1), [16]);
      assert.deepEqual(steps(resumed), [
        'SetChargingProfile/TxProfile',
        'ClearChargingProfile/ChargePointMaxProfile',
      ]);
      assert.deepEqual(installed(cp), ['TxProfile@1:16']);
      assert.equal(resumed.verification.schedule, 'matches');
      assert.equal(resumed.verification.scheduleLimit, 16);
    });

    it('keeps a ChargePointMaxProfile whose clear was refused on record, says so once, and clears it on the retry', async () => {
      const { cp, clock, manager, log } = await pausedByChargePointMax();
      let refusals = 1;
      cp.override('ClearChargingProfile', (_request, next) => {
        if (refusals-- > 0) throw createRPCError('InternalError', 'profile store busy');
        return next();
      });
      clock.advance(20_000);
      const resumed = await manager.resume('CP1', 1);
      assert.deepEqual(steps(resumed), [
        'SetChargingProfile/TxProfile',
        'ClearChargingProfile/ChargePointMaxProfile refused',
      ]);
      // Before the fix the profile was forgotten here, and the car stayed at 0 A for good.
      assert.deepEqual(installed(cp), ['ChargePointMaxProfile@0:0', 'TxProfile@1:16']);
      assert.equal(log.matching(/refused to lift a charger-wide limit/, 'warn').length, 1);
      clock.advance(60_000);
      await settled({ cp, manager });
      assert.deepEqual(installed(cp), ['TxProfile@1:16']);
      assert.deepEqual(offered(cp, 1), [16]);
      assert.equal(log.matching(/refused to lift a charger-wide limit/, 'warn').length, 1);
    });

    it('reports a composite schedule clearly below the limit as lower, never verified', async () => {
      const { cp, cs, clock, manager } = await rig({ manager: { verification: { followDelayMs: 10_000 } } });
      await startCharging(cp);
      // Someone else's ChargePointMaxProfile holds the charger at 6 A.
      await cs.call('CP1', 'SetChargingProfile', {
        connectorId: 0,
        csChargingProfiles: {
          chargingProfileId: 1,
          stackLevel: 0,
          chargingProfilePurpose: 'ChargePointMaxProfile',
          chargingProfileKind: 'Absolute',
          chargingSchedule: {
            startSchedule: new Date(clock.now() - 60_000).toISOString(),
            chargingRateUnit: 'A',
            chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }],
          },
        },
      });
      const [report] = await manager.apply(setPoint(16));
      assert.equal(report?.outcome, 'applied');
      assert.equal(report?.verification.schedule, 'lower');
      assert.equal(report?.verification.scheduleLimit, 6);
      clock.advance(20_000);
      await cp.whenIdle();
      const state = manager.charger('CP1')?.connectors[0]?.verification;
      assert.equal(state?.meter, 'within');
      assert.equal(state?.verified, false, 'the car gets 6 A of the 16 A allowed');
    });
  });

  describe('a decrease that comes with a phase change goes at once', () => {
    it('sends 16 A on one phase → 6 A on three at once; holds 6 A on one → 6 A on three', async () => {
      const { cp, clock, manager, commands } = await rig();
      await startCharging(cp);
      await manager.apply(setPoint(16, { phases: 1 }));
      clock.advance(1000);
      let before = commands.length;
      const down = manager.apply(setPoint(6, { phases: 3 }));
      await settled({ cp, manager });
      // Before the fix the total (16 A < 18 A) made it an increase, held for 10 s.
      assert.equal(manager.charger('CP1')?.connectors[0]?.held, false);
      assert.equal(profilesSent(commands, before).length, 1);
      assert.equal((await down)[0]?.outcome, 'applied');
      assert.deepEqual(offered(cp, 1), [6]);

      clock.advance(1000);
      await manager.apply(setPoint(6, { phases: 1 }));
      clock.advance(1000);
      before = commands.length;
      const up = manager.apply(setPoint(6, { phases: 3 }));
      await settled({ cp, manager });
      assert.equal(
        manager.charger('CP1')?.connectors[0]?.held,
        true,
        'more phases and nothing lower: an increase',
      );
      assert.deepEqual(profilesSent(commands, before), []);
      clock.advance(10_000);
      assert.equal((await up)[0]?.outcome, 'applied');
    });
  });
});
