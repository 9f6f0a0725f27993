import assert from 'node:assert/strict';
import {
  type SimulatedChargePoint,
  SimulatedEv,
  STANDARD_BEHAVIOUR,
  VENDOR_BEHAVIOURS,
} from '../../../sim/charge-point';
import {
  advance,
  chargingProfile,
  type ChargingProfile as Profile,
  type ProfileFields,
  useSimulators,
} from './harness';

/** A one-period profile (10 A unless given) that started the day before the simulator's clock. */
function profile({ limit = 10, ...fields }: ProfileFields & { limit?: number } = {}): Profile {
  return chargingProfile({ startSchedule: '2025-12-31T00:00:00.000Z', limits: [[0, limit]], ...fields });
}

const rpcCode = (code: string) => (err: { rpcErrorCode?: string }) => err.rpcErrorCode === code;

describe('Simulator: vendor behaviour in smart charging', () => {
  const sims = useSimulators({ assertStrict: true });
  const start = sims.connected;
  const set = (connectorId: number, p: Profile) =>
    sims.centralSystem().call('CP1', 'SetChargingProfile', { connectorId, csChargingProfiles: p });

  /** Plugs a car into connector 1 and charges it. */
  async function charge(
    cp: SimulatedChargePoint,
    ev: ConstructorParameters<typeof SimulatedEv>[0] = { maxCurrentA: 32 },
  ) {
    cp.plugIn(1, ev);
    await cp.startTransaction(1, 'TAG');
    await cp.whenIdle();
  }

  it('behaves by the spec unless told otherwise, and takes a named model or single switches', async () => {
    let { cp } = await start();
    assert.deepEqual(cp.vendorBehaviour, STANDARD_BEHAVIOUR);
    await cp.close();
    ({ cp } = await start({ vendorBehaviour: 'wallbox' }));
    assert.equal(cp.vendorBehaviour.stackLevelZeroOnly, true);
    assert.equal(cp.vendorBehaviour.rejectProfileInRemoteStart, true);
    assert.equal(cp.vendorBehaviour.refuseWatts, false);
    assert.throws(() => sims.simulator({ vendorBehaviour: 'nonsense' as never }), /unknown vendor behaviour/);
    assert.ok(Object.keys(VENDOR_BEHAVIOURS).length >= 7);
  });

  it('stackLevelZeroOnly rejects stack levels above 0 although ChargeProfileMaxStackLevel allows them (ABB Terra AC)', async () => {
    const { cs } = await start({ vendorBehaviour: 'abb-terra-ac' });
    assert.deepEqual(await set(0, profile({ stackLevel: 3 })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ stackLevel: 0 })), { status: 'Accepted' });
    const keys = await cs.call('CP1', 'GetConfiguration', { key: ['ChargeProfileMaxStackLevel'] });
    assert.equal(keys.configurationKey?.[0]?.value, '8');
  });

  it('refuseWatts announces Current only and rejects W; refuseAmps announces Power only and rejects A', async () => {
    const cs = sims.centralSystem();
    let { cp } = await start({ vendorBehaviour: { refuseWatts: true } });
    let keys = await cs.call('CP1', 'GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit'] });
    assert.equal(keys.configurationKey?.[0]?.value, 'Current');
    assert.deepEqual(await set(0, profile({ unit: 'W', limit: 7360 })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ unit: 'A' })), { status: 'Accepted' });
    await cp.close();
    // A charger that spells the key "W" still refuses amps: the behaviour, not the key, decides.
    ({ cp } = await start({
      vendorBehaviour: 'huawei',
      configuration: { ChargingScheduleAllowedChargingRateUnit: { value: 'W', readonly: true } },
    }));
    keys = await cs.call('CP1', 'GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit'] });
    assert.equal(keys.configurationKey?.[0]?.value, 'W');
    assert.deepEqual(await set(0, profile({ unit: 'A' })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ unit: 'W', limit: 3680, numberPhases: 1 })), {
      status: 'Accepted',
    });
    await charge(cp, { phases: 1, maxCurrentA: 32 });
    assert.equal(cp.connector(1).offeredA, 16);
  });

  it('ignoreNumberPhases spreads W over three phases: a single-phase limit gives a third of the current', async () => {
    const { cp } = await start({ vendorBehaviour: { ignoreNumberPhases: true } });
    await set(0, profile({ unit: 'W', limit: 3680, numberPhases: 1 }));
    await charge(cp, { phases: 1, maxCurrentA: 32 });
    assert.equal(cp.connector(1).offeredA, 5.3);
    assert.equal(cp.connector(1).status, 'SuspendedEVSE');
  });

  it('ignoreNumberPhases keeps a three-phase car on three phases where the spec would switch it', async () => {
    const switching = { ConnectorSwitch3to1PhaseSupported: { value: true, readonly: true } };
    const { cp } = await start({ vendorBehaviour: { ignoreNumberPhases: true }, configuration: switching });
    await set(0, profile({ limit: 16, numberPhases: 1 }));
    await charge(cp, { phases: 3, maxCurrentA: 32 });
    assert.deepEqual(cp.connector(1).currentA, [16, 16, 16]);
  });

  it('Schneider EVlink R6/R7 rejects W, numberPhases and minChargingRate, and takes plain amps', async () => {
    const { cp } = await start({ vendorBehaviour: 'schneider-evlink-r6-r7' });
    assert.deepEqual(await set(0, profile({ numberPhases: 3 })), { status: 'Rejected' });
    const withMinimum = profile();
    withMinimum.chargingSchedule.minChargingRate = 6;
    assert.deepEqual(await set(0, withMinimum), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ unit: 'W', limit: 7360 })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ limit: 13 })), { status: 'Accepted' });
    await charge(cp);
    assert.equal(cp.connector(1).offeredA, 13);
  });

  it('onlyRelativeProfiles rejects Absolute and Recurring profiles (Wallbox Pulsar)', async () => {
    await start({ vendorBehaviour: 'wallbox-pulsar' });
    assert.deepEqual(await set(0, profile()), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ chargingProfileKind: 'Relative' })), { status: 'Accepted' });
  });

  it('ignoreLimits accepts and reports a profile, but keeps offering the rated current', async () => {
    const { cs, cp } = await start({ vendorBehaviour: { ignoreLimits: true } });
    assert.deepEqual(await set(0, profile({ limit: 8 })), { status: 'Accepted' });
    await charge(cp);
    assert.equal(cp.connector(1).offeredA, 32);
    assert.deepEqual(cp.connector(1).currentA, [32, 32, 32]);
    const composite = await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 60 });
    assert.deepEqual(composite.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 8 }]);
  });

  it('noSmartCharging answers profiles with NotSupported and lets maxIntensitySocket set the current (EVlink R4/R5)', async () => {
    const { cs, cp } = await start({ vendorBehaviour: 'schneider-evlink-r4-r5', maxCurrentA: 32 });
    await assert.rejects(set(0, profile()), rpcCode('NotSupported'));
    await assert.rejects(
      cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 60 }),
      rpcCode('NotSupported'),
    );
    const keys = await cs.call('CP1', 'GetConfiguration', {
      key: ['SupportedFeatureProfiles', 'maxIntensitySocket', 'ChargeProfileMaxStackLevel'],
    });
    assert.deepEqual(keys.unknownKey, ['ChargeProfileMaxStackLevel']);
    assert.doesNotMatch(keys.configurationKey?.[0]?.value ?? '', /SmartCharging/);
    assert.deepEqual(keys.configurationKey?.[1], { key: 'maxIntensitySocket', readonly: false, value: '32' });
    await charge(cp);
    assert.equal(cp.connector(1).offeredA, 32);
    assert.deepEqual(
      await cs.call('CP1', 'ChangeConfiguration', { key: 'maxIntensitySocket', value: '10' }),
      {
        status: 'Accepted',
      },
    );
    assert.equal(cp.connector(1).offeredA, 10);
    assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'maxIntensitySocket', value: '0' }), {
      status: 'Accepted',
    });
    assert.equal(cp.connector(1).status, 'SuspendedEVSE');
    for (const value of ['33', '-1', '7.5']) {
      assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'maxIntensitySocket', value }), {
        status: 'Rejected',
      });
    }
  });

  it('a Schneider EVlink reports plain Current.Import as one value without a phase, the phase forms only where listed (003 §8)', async () => {
    /** Connector 1's Current.Import values in a triggered MeterValues, as `phase:value` (`-` for none). */
    const currents = async (cs: ReturnType<typeof sims.centralSystem>) => {
      const next = cs.next('MeterValues');
      await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 });
      const values = (await next).meterValue[0]?.sampledValue ?? [];
      return values
        .filter((v) => v.measurand === 'Current.Import')
        .map((v) => `${v.phase ?? '-'}:${v.value}`);
    };
    // By the spec (3.16.3) a meter that measures three phases reports each: 0 A on L2 and L3.
    let { cs, cp, clock } = await start();
    await charge(cp, { maxCurrentA: 16, phases: 1 });
    clock.advance(30_000);
    assert.deepEqual(await currents(cs), ['L1:16.0', 'L2:0.0', 'L3:0.0']);
    await cp.close();
    // An EVlink: one value, no phase, whatever phases the car uses ("Phase can be configured").
    ({ cs, cp, clock } = await start({ vendorBehaviour: 'schneider-evlink-r6-r7' }));
    await charge(cp, { maxCurrentA: 16, phases: 1 });
    clock.advance(30_000);
    assert.deepEqual(await currents(cs), ['-:16.0']);
    // Asked for the phase forms (what the EVlink presets ask), it reports each with its phase.
    assert.deepEqual(
      await cs.call('CP1', 'ChangeConfiguration', {
        key: 'MeterValuesSampledData',
        value: 'Energy.Active.Import.Register,Current.Import.L1,Current.Import.L2,Current.Import.L3',
      }),
      { status: 'Accepted' },
    );
    assert.deepEqual(await currents(cs), ['L1:16.0', 'L2:0.0', 'L3:0.0']);
  });

  it('rejectProfileInRemoteStart answers a RemoteStartTransaction with a profile with CALLERROR ProtocolError', async () => {
    const { cs, cp } = await start({ vendorBehaviour: 'wallbox' });
    cp.plugIn(1, {});
    const chargingProfile = profile({ chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative' });
    await assert.rejects(
      cs.call('CP1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'TAG', chargingProfile }),
      rpcCode('ProtocolError'),
    );
    assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'TAG' }), {
      status: 'Accepted',
    });
  });

  it('by the spec (errata 3.8) a new TxDefaultProfile changes the running session at once', async () => {
    const { cp } = await start();
    await set(1, profile({ limit: 16 }));
    await charge(cp);
    await set(1, profile({ limit: 8 }));
    assert.equal(cp.connector(1).offeredA, 8);
  });

  it('txDefaultFromNextSession keeps the running session on its profile; a TxProfile changes it; the next session gets the new one', async () => {
    const { cs, cp, clock } = await start({ vendorBehaviour: { txDefaultFromNextSession: true } });
    await set(1, profile({ limit: 16 }));
    await charge(cp);
    clock.advance(1000);
    assert.deepEqual(await set(1, profile({ limit: 8 })), { status: 'Accepted' });
    assert.equal(cp.connector(1).offeredA, 16);
    let composite = await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 60 });
    assert.equal(composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit, 16);
    const transactionId = cp.connector(1).transaction?.transactionId as number;
    await set(
      1,
      profile({ chargingProfileId: 2, chargingProfilePurpose: 'TxProfile', transactionId, limit: 10 }),
    );
    assert.equal(cp.connector(1).offeredA, 10);
    await cp.stopTransaction(1);
    cp.unplug(1);
    clock.advance(1000);
    await charge(cp);
    assert.equal(cp.connector(1).offeredA, 8);
    composite = await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 60 });
    assert.equal(composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit, 8);
  });

  it('currentStepsA rounds a limit down to the currents the charger offers (NEcharge)', async () => {
    const { cp } = await start({ vendorBehaviour: 'necharge' });
    await set(0, profile({ limit: 12.5 }));
    await charge(cp);
    assert.equal(cp.connector(1).offeredA, 10);
    await set(0, profile({ limit: 5.9 }));
    assert.equal(cp.connector(1).offeredA, 0);
  });

  it('an EV follows a new offer after its follow delay, on one or three phases', async () => {
    const { cp, clock } = await start({
      connectors: [{ phases: 3 }, { phases: 1 }],
      configuration: { MeterValueSampleInterval: 0 },
    });
    await set(0, profile({ limit: 16 }));
    const threePhase = new SimulatedEv({ phases: 3, maxCurrentA: 32, followDelayMs: 4000 });
    cp.plugIn(1, threePhase);
    await cp.startTransaction(1, 'A');
    assert.deepEqual(cp.connector(1).currentA, [0, 0, 0]);
    await advance(cp, clock, 4000);
    assert.deepEqual(cp.connector(1).currentA, [16, 16, 16]);
    await set(0, profile({ limit: 10 }));
    assert.equal(cp.connector(1).offeredA, 10);
    assert.deepEqual(cp.connector(1).currentA, [16, 16, 16], 'the car still draws the old current');
    await advance(cp, clock, 3999);
    assert.deepEqual(cp.connector(1).currentA, [16, 16, 16]);
    await advance(cp, clock, 1);
    assert.deepEqual(cp.connector(1).currentA, [10, 10, 10]);
    // Energy follows what the car drew (16 A for the 4 s it took to follow), not what was offered.
    assert.ok(Math.abs(cp.connector(1).energyWh - (16 * 3 * 230 * 4) / 3600) < 1e-6);

    cp.plugIn(2, { phases: 3, maxCurrentA: 32, followDelayMs: 2000 });
    await cp.startTransaction(2, 'B');
    await advance(cp, clock, 2000);
    assert.deepEqual(cp.connector(2).currentA, [10, 0, 0], 'a three-phase car on a one-phase connector');
    // A pause stops the car at once (the charger withdraws the offer); resuming follows the delay again.
    await set(0, profile({ limit: 0 }));
    assert.deepEqual(cp.connector(2).currentA, [0, 0, 0]);
    await set(0, profile({ limit: 12 }));
    assert.deepEqual(cp.connector(2).currentA, [0, 0, 0]);
    await advance(cp, clock, 2000);
    assert.deepEqual(cp.connector(2).currentA, [12, 0, 0]);
    cp.unplug(2);
    assert.equal(cp.connector(2).powerW, 0);
  });
});
