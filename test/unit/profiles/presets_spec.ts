import assert from 'node:assert/strict';
import type { ChargingProfile } from '../../../lib/profiles';
import type { SimulatedChargePointOptions } from '../../../sim/charge-point';
import { advance } from '../interop/support';
import { offered, profilesSent, setPoint, settled, startCharging, useProfileRig } from './support';

/**
 * Each preset end to end: a simulated charger that behaves like the model, picked by its
 * BootNotification (`auto`), limited while idle and during a session, and verified by its
 * composite schedule and its meter.
 */

interface Case {
  preset: string;
  sim: Partial<SimulatedChargePointOptions>;
  phases?: 1 | 3;
  /** The set-point during the session, and the current the car should then get. */
  limitA: number;
  offeredA: number;
  /** What the TxProfile (or the command) must look like. */
  check(sent: ChargingProfile | undefined): void;
}

const period = (profile: ChargingProfile | undefined) => profile?.chargingSchedule.chargingSchedulePeriod[0];

const CASES: Case[] = [
  {
    preset: 'abb-terra-ac',
    sim: {
      vendorBehaviour: 'abb-terra-ac',
      chargePointVendor: 'ABB',
      chargePointModel: 'Terra AC W22-T-R-0',
    },
    limitA: 10,
    offeredA: 10,
    check(sent) {
      assert.equal(sent?.stackLevel, 0);
      assert.equal(sent?.chargingProfilePurpose, 'TxProfile');
    },
  },
  {
    preset: 'wallbox',
    sim: { vendorBehaviour: 'wallbox', chargePointVendor: 'Wall Box Chargers', chargePointModel: 'CMX1' },
    limitA: 10,
    offeredA: 10,
    check(sent) {
      assert.equal(sent?.stackLevel, 0);
    },
  },
  {
    preset: 'wallbox-pulsar',
    sim: { vendorBehaviour: 'wallbox-pulsar', chargePointVendor: 'Wallbox', chargePointModel: 'Pulsar Plus' },
    limitA: 10,
    offeredA: 10,
    check(sent) {
      assert.equal(sent?.chargingProfileKind, 'Relative');
      assert.equal(sent?.chargingSchedule.startSchedule, undefined);
      assert.equal(sent?.stackLevel, 0);
    },
  },
  {
    preset: 'schneider-evlink-r6-r7',
    sim: {
      vendorBehaviour: 'schneider-evlink-r6-r7',
      chargePointVendor: 'Schneider Electric',
      chargePointModel: 'EVlink Parking',
      firmwareVersion: 'v3.3.0.7',
      // It can switch phases, but must not be sent numberPhases (003 §4).
      configuration: { ConnectorSwitch3to1PhaseSupported: { value: true, readonly: true } },
    },
    phases: 1,
    limitA: 13,
    offeredA: 13,
    check(sent) {
      assert.equal(sent?.chargingSchedule.chargingRateUnit, 'A');
      assert.equal(period(sent)?.numberPhases, undefined);
      assert.equal(sent?.chargingSchedule.minChargingRate, undefined);
    },
  },
  {
    preset: 'schneider-evlink-r4-r5',
    sim: {
      vendorBehaviour: 'schneider-evlink-r4-r5',
      chargePointVendor: 'Schneider Electric',
      chargePointModel: 'EVlink Smart Wallbox',
      firmwareVersion: '2.7.4.18',
    },
    limitA: 10.7,
    offeredA: 10,
    check(sent) {
      assert.equal(sent, undefined, 'no SetChargingProfile at all');
    },
  },
  {
    preset: 'huawei',
    sim: { vendorBehaviour: 'huawei', chargePointVendor: 'HUAWEI', chargePointModel: 'SCharger-7KS-S0' },
    phases: 1,
    limitA: 10,
    offeredA: 10,
    check(sent) {
      assert.equal(sent?.chargingSchedule.chargingRateUnit, 'W');
      assert.deepEqual(period(sent), { startPeriod: 0, limit: 2300, numberPhases: 1 });
    },
  },
  {
    preset: 'necharge',
    sim: { vendorBehaviour: 'necharge' },
    limitA: 12.5,
    offeredA: 10,
    check(sent) {
      assert.equal(period(sent)?.limit, 10, 'rounded down to a step the charger offers');
    },
  },
];

describe('Profiles: every preset end to end against the simulated charger model', () => {
  const { rig } = useProfileRig();

  for (const preset of CASES) {
    it(`${preset.preset}: limits idle and charging connectors the way the model takes, verified`, async () => {
      const { cp, clock, manager, commands } = await rig({
        sim: preset.sim,
        manager: {
          ...(preset.preset === 'necharge' ? { strategy: 'necharge' } : {}),
          verification: { followDelayMs: 10_000, ignoreAfterMs: 20_000 },
        },
      });
      const phases = preset.phases ?? 3;
      const [idle] = await manager.apply(setPoint(16, { phases }));
      assert.equal(idle?.outcome, 'applied', idle?.error);
      assert.equal(idle?.strategy, preset.preset);
      assert.equal(idle?.attempts.length, 1, 'no refusal on the way');
      assert.equal(
        idle?.method,
        preset.preset === 'schneider-evlink-r4-r5' ? 'ConfigurationKey' : 'TxDefaultProfile',
      );

      await startCharging(cp, 1, { phases, maxCurrentA: 32, followDelayMs: 5000 });
      assert.equal(cp.connector(1).offeredA, 16);
      const before = commands.length;
      const [during] = await manager.apply(setPoint(preset.limitA, { phases }));
      assert.equal(during?.outcome, 'applied', during?.error);
      assert.equal(during?.attempts.length, 1);
      assert.equal(
        during?.method,
        preset.preset === 'schneider-evlink-r4-r5' ? 'ConfigurationKey' : 'TxProfile',
      );
      preset.check(profilesSent(commands, before)[0]?.csChargingProfiles);
      assert.equal(cp.connector(1).offeredA, preset.offeredA);
      if (preset.preset === 'schneider-evlink-r4-r5') {
        assert.deepEqual(during?.request, { key: 'maxIntensitySocket', value: '10' });
        assert.equal(during?.verification.schedule, 'notChecked');
      } else {
        assert.equal(during?.verification.schedule, 'matches');
      }

      await advance(cp, clock, 30_000, 10_000);
      const state = manager.charger('CP1')?.connectors[0];
      assert.equal(state?.verification.meter, 'within');
      assert.equal(state?.verification.verified, true);
      assert.equal(state?.verification.measuredA, preset.offeredA);
      assert.equal(state?.verification.ignoresLimit, false);
    });
  }

  for (const preset of CASES) {
    it(`${preset.preset}: two connectors, one charging and one idle, each at or below its own limit`, async () => {
      const { cp, clock, manager } = await rig({
        sim: { ...preset.sim, connectors: 2 },
        manager: {
          ...(preset.preset === 'necharge' ? { strategy: 'necharge' } : {}),
          increaseIntervalMs: 0,
        },
      });
      const phases = preset.phases ?? 3;
      const limits = () => [
        setPoint(13, { connectorId: 1, phases }),
        setPoint(8, { connectorId: 2, phases }),
      ];
      const idle = await manager.apply(limits());
      // The key of EVlink R4/R5 is one for both sockets: the first command already carries the lower limit.
      assert.deepEqual(
        idle.map((report) => report.outcome),
        ['applied', preset.preset === 'schneider-evlink-r4-r5' ? 'duplicate' : 'applied'],
        idle.map((report) => report.error).join('; '),
      );
      await startCharging(cp, 1, { phases, maxCurrentA: 32 });
      clock.advance(1000);
      const [one, two] = await manager.apply([
        setPoint(10, { connectorId: 1, phases }),
        setPoint(16, { connectorId: 2, phases }),
      ]);
      assert.equal(one?.outcome, 'applied', one?.error);
      assert.notEqual(two?.outcome, 'failed', two?.error);
      await startCharging(cp, 2, { phases, maxCurrentA: 32 });
      await settled({ cp, manager });
      const [c1, c2] = offered(cp, 1, 2) as [number, number];
      assert.ok(c1 <= 10 && c2 <= 16, `offered ${c1} A and ${c2} A for limits of 10 A and 16 A`);
      assert.ok(c1 >= 6, 'connector 1 still charges');
      if (preset.preset === 'schneider-evlink-r4-r5') {
        // The key caps every socket alike: both get the lower limit.
        assert.deepEqual([c1, c2], [10, 10]);
      } else {
        assert.deepEqual([c1, c2], [10, 16]);
      }
    });
  }

  it('schneider-evlink-r4-r5: pause sets the key to 0 and resume restores the limit', async () => {
    const { cp, clock, manager } = await rig({ sim: CASES[4]?.sim as Partial<SimulatedChargePointOptions> });
    await startCharging(cp);
    await manager.apply(setPoint(16));
    const paused = await manager.pause('CP1', 1);
    assert.deepEqual(paused.request, { key: 'maxIntensitySocket', value: '0' });
    assert.equal(cp.connector(1).status, 'SuspendedEVSE');
    // Resuming is an increase: it waits out the 10 s since the pause.
    const resuming = manager.resume('CP1', 1);
    clock.advance(9_999);
    assert.equal(manager.charger('CP1')?.connectors[0]?.held, true);
    clock.advance(1);
    const resumed = await resuming;
    assert.equal(resumed.outcome, 'applied');
    assert.deepEqual(resumed.request, { key: 'maxIntensitySocket', value: '16' });
    assert.equal(cp.connector(1).offeredA, 16);
  });

  it('wallbox: RemoteStartTransaction goes without an embedded profile; other chargers get the limit in it', async () => {
    const { cp, cs, manager } = await rig({ sim: CASES[1]?.sim as Partial<SimulatedChargePointOptions> });
    await manager.apply(setPoint(10));
    cp.plugIn(1, { maxCurrentA: 32 });
    const started = await manager.remoteStart({ chargePointId: 'CP1', connectorId: 1, idTag: 'TAG' });
    assert.equal(started.status, 'Accepted');
    assert.equal(started.attempts.length, 1);
    assert.deepEqual(started.attempts[0]?.request, { connectorId: 1, idTag: 'TAG' });
    await cp.whenIdle();
    assert.ok(cs.connectors.find('CP1', 1)?.transaction);
    assert.equal(cp.connector(1).offeredA, 10, 'the TxDefaultProfile limits the new session');
  });
});
