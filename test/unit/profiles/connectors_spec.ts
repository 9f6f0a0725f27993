import assert from 'node:assert/strict';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import type { LimitReport } from '../../../lib/profiles';
import { advance } from '../interop/support';
import { refuseProfiles, STACK_LEVEL_0 } from './refusals';
import { installed, offered, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * Chargers with several connectors: charger-wide limits (ChargePointMaxProfile, EVlink's
 * maxIntensitySocket) carry the lowest limit of every connector that has one, and connector 0's
 * limit reaches every connector, whatever profile of its own it has. Each case failed before its fix.
 */

const period = (report: LimitReport | undefined) =>
  (report?.request as SetChargingProfileRequest | undefined)?.csChargingProfiles.chargingSchedule
    .chargingSchedulePeriod[0];

describe('Profiles: chargers with several connectors', () => {
  const { rig } = useProfileRig();

  describe('the configuration key caps every socket: it carries the lowest limit', () => {
    it('sets maxIntensitySocket to the lowest limit, idle connectors included, and dedupes on the value sent', async () => {
      const { cp, manager, commands } = await rig({
        sim: { vendorBehaviour: 'schneider-evlink-r4-r5', connectors: 2 },
        manager: { strategy: 'schneider-evlink-r4-r5', increaseIntervalMs: 0 },
      });
      await startCharging(cp, 1);
      const [one] = await manager.apply(setPoint(16, { connectorId: 1 }));
      assert.deepEqual(one?.request, { key: 'maxIntensitySocket', value: '16' });
      const [two] = await manager.apply(setPoint(6, { connectorId: 2 }));
      // Before the fix: the lowest among charging connectors only, 16, and connector 2 later charged at 16 A.
      assert.deepEqual(two?.request, { key: 'maxIntensitySocket', value: '6' });
      assert.deepEqual(offered(cp, 1), [6], 'the key is charger-wide: connector 1 gets the lowest limit too');
      await startCharging(cp, 2);
      await settled({ cp, manager });
      assert.deepEqual(offered(cp, 1, 2), [6, 6]);

      const before = commands.length;
      assert.equal((await manager.apply(setPoint(6, { connectorId: 2 })))[0]?.outcome, 'duplicate');
      assert.equal((await manager.apply(setPoint(16, { connectorId: 1 })))[0]?.outcome, 'duplicate');
      assert.equal(commands.length, before, 'the key already has the lowest limit');
      const [up] = await manager.apply(setPoint(10, { connectorId: 2 }));
      assert.deepEqual(up?.request, { key: 'maxIntensitySocket', value: '10' });
      await settled({ cp, manager });
      assert.deepEqual(offered(cp, 1, 2), [10, 10]);
    });
  });

  describe('ChargePointMaxProfile as a fallback caps the charger as a whole', () => {
    /**
     * A car charging on connector 1 of two, on a charger that takes only ChargePointMaxProfile (its
     * Tx profiles are refused, as with some load balancers).
     */
    async function chargingOnChargePointMaxOnly() {
      const rigged = await rig({
        sim: { connectors: 2, configuration: STACK_LEVEL_0 },
        manager: { increaseIntervalMs: 0 },
      });
      refuseProfiles(rigged.cp, (purpose) => purpose !== 'ChargePointMaxProfile');
      await startCharging(rigged.cp, 1);
      return rigged;
    }

    it('carries the lowest limit, never a sum over connectors with other phase counts', async () => {
      const { cp, manager } = await chargingOnChargePointMaxOnly();
      const [two] = await manager.apply(setPoint(16, { connectorId: 2, phases: 1 }));
      assert.equal(two?.method, 'ChargePointMaxProfile');
      const [one] = await manager.apply(setPoint(6, { connectorId: 1, phases: 3 }));
      assert.equal(one?.method, 'ChargePointMaxProfile');
      // Before the fix: 6 + 16 = 22 A, all of it for connector 1 while connector 2 was idle.
      assert.equal(period(one)?.limit, 6);
      assert.deepEqual(offered(cp, 1), [6]);
      await startCharging(cp, 2, { phases: 1, maxCurrentA: 32 });
      await settled({ cp, manager });
      const [c1, c2] = offered(cp, 1, 2);
      assert.ok((c1 as number) <= 6 && (c2 as number) <= 16, `offered ${c1} A and ${c2} A`);
    });

    it('takes a connector-0 limit as it is, not once per connector', async () => {
      const { cp, manager } = await chargingOnChargePointMaxOnly();
      const [all] = await manager.apply(setPoint(10, { connectorId: 0 }));
      await settled({ cp, manager });
      // Before the fix: 10 A × 2 connectors, and the one charging car got 20 A.
      assert.equal(all?.method, 'ChargePointMaxProfile');
      assert.equal(period(all)?.limit, 10);
      assert.deepEqual(offered(cp, 1), [10]);
    });

    it('converts to W for the phases the car uses, for one phase where they are unknown (the lowest watts)', async () => {
      const { cp, clock, manager } = await rig({
        sim: { vendorBehaviour: 'huawei' },
        manager: { strategy: 'huawei', increaseIntervalMs: 0 },
      });
      const noPhases = { chargePointId: 'CP1', connectorId: 1, limitA: 16, reason: 'no phases given' };
      const [idle] = await manager.apply(noPhases);
      // Before the fix: 3 phases assumed, 11040 W, 48 A on one phase for a charger that limits power.
      assert.deepEqual(period(idle), { startPeriod: 0, limit: 3680, numberPhases: 1 });
      await startCharging(cp, 1, { phases: 3, maxCurrentA: 32 });
      await advance(cp, clock, 10_000);
      const [charging] = await manager.apply({ ...noPhases, limitA: 10 });
      // The meter shows the car on three phases.
      assert.deepEqual(period(charging), { startPeriod: 0, limit: 6900, numberPhases: 3 });
    });
  });

  describe('connector 0 limits every connector', () => {
    it('reaches a connector with a TxProfile of its own, and never raises it above its own limit', async () => {
      const { cp, manager } = await rig({ sim: { connectors: 2 }, manager: { increaseIntervalMs: 0 } });
      await startCharging(cp, 1);
      await manager.apply(setPoint(16, { connectorId: 1 }));
      assert.deepEqual(offered(cp, 1), [16]);
      await manager.apply(setPoint(6, { connectorId: 0 }));
      await settled({ cp, manager });
      // Before the fix the TxProfile of 16 A overruled connector 0's TxDefaultProfile.
      assert.deepEqual(offered(cp, 1), [6]);
      const state = manager.charger('CP1')?.connectors.find((connector) => connector.connectorId === 1);
      assert.equal(state?.limitA, 6);
      assert.equal(state?.confirmed, true);
      await manager.apply(setPoint(32, { connectorId: 0 }));
      await settled({ cp, manager });
      assert.deepEqual(offered(cp, 1), [16], 'back to its own limit, not connector 0’s');
    });

    it('checks that connector 0’s TxDefaultProfile reached a running session where the strategy counts on it, and sends it a limit of its own where not', async () => {
      const { cp, clock, manager, log } = await rig({
        sim: { connectors: 2, vendorBehaviour: { txDefaultFromNextSession: true } },
        manager: { strategy: 'txdefault', increaseIntervalMs: 0 },
      });
      await manager.apply(setPoint(32, { connectorId: 0 }));
      clock.advance(60_000);
      await startCharging(cp, 1);
      clock.advance(5000);
      await manager.apply(setPoint(6, { connectorId: 0 }));
      await settled({ cp, manager });
      // The preset says a new TxDefaultProfile reaches running sessions; this charger's composite
      // schedule says otherwise, so connector 1 gets a TxProfile (found by the property test).
      assert.deepEqual(offered(cp, 1), [6]);
      assert.ok(installed(cp).includes('TxProfile@1:6'));
      assert.equal(log.matching(/does not reach the session on connector 1/, 'warn').length, 1);
    });

    it('goes back down on every connector when connector 0 drops again while its own increase was still held', async () => {
      const { cp, clock, manager } = await rig({ sim: { connectors: 2 } });
      await manager.apply(setPoint(0, { connectorId: 0 }));
      clock.advance(1000);
      // Held for connector 0 itself (an increase within 10 s), but connector 1 may take its share of it.
      const up = manager.apply(setPoint(20, { connectorId: 0 }));
      const [one] = await manager.apply(setPoint(13, { connectorId: 1 }));
      assert.equal(one?.limitA, 13);
      const [down] = await manager.apply(setPoint(0, { connectorId: 0 }));
      assert.equal((await up)[0]?.outcome, 'superseded');
      assert.equal(down?.outcome, 'duplicate', 'connector 0 never left 0 A');
      await settled({ cp, manager });
      // Found by the property test: connector 1 stayed at 13 A, as connector 0's own limit had not changed.
      assert.ok(installed(cp).includes('TxDefaultProfile@1:0'), installed(cp).join(', '));
      await startCharging(cp, 1);
      assert.deepEqual(offered(cp, 1), [0]);
    });

    it('reaches running sessions on a charger that applies a new TxDefaultProfile from the next session only', async () => {
      const { cp, clock, manager } = await rig({
        sim: { connectors: 2, vendorBehaviour: { txDefaultFromNextSession: true } },
        manager: { increaseIntervalMs: 0 },
      });
      await manager.apply(setPoint(32, { connectorId: 0 }));
      // Time passes between the TxDefaultProfile and the session: the session keeps 32 A on this charger.
      clock.advance(60_000);
      await startCharging(cp, 1);
      assert.deepEqual(offered(cp, 1), [32]);
      clock.advance(5000);
      const [all] = await manager.apply(setPoint(6, { connectorId: 0 }));
      assert.equal(all?.method, 'TxDefaultProfile');
      await settled({ cp, manager });
      // Before the fix: only the TxDefaultProfile, and the running session stayed at 32 A.
      assert.deepEqual(offered(cp, 1), [6]);
      assert.ok(installed(cp).includes('TxProfile@1:6'));
      // A session that starts now takes the new TxDefaultProfile, no profile of its own needed.
      clock.advance(5000);
      await startCharging(cp, 2);
      await settled({ cp, manager });
      assert.deepEqual(offered(cp, 1, 2), [6, 6]);
      assert.ok(!installed(cp).some((profile) => profile.startsWith('TxProfile@2')));
    });
  });
});
