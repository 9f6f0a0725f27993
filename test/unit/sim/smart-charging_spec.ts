import assert from 'node:assert/strict';
import type { SimulatedChargePointOptions } from '../../../sim/charge-point';
import {
  advance,
  type ChargingProfile as Profile,
  chargingProfile as profile,
  useSimulators,
} from './harness';

const iso = (ms: number) => new Date(ms).toISOString();

describe('Smart charging: SetChargingProfile, GetCompositeSchedule and the offered current', () => {
  const sims = useSimulators({ assertStrict: true });
  /** The simulator with two connectors, connected. */
  const start = (options: Partial<SimulatedChargePointOptions> = {}) =>
    sims.connected({ connectors: 2, ...options });
  const set = (connectorId: number, p: Profile) =>
    sims.centralSystem().call('CP1', 'SetChargingProfile', { connectorId, csChargingProfiles: p });

  it('follows a TxDefaultProfile: limit, pause at 0 A (SuspendedEVSE), and back, as the schedule moves on', async () => {
    const { cs, cp, clock } = await start({ configuration: { MeterValueSampleInterval: 600 } });
    assert.deepEqual(
      await set(
        0,
        profile({
          chargingProfileKind: 'Relative',
          limits: [
            [0, 10],
            [600, 0],
            [1200, 16],
          ],
        }),
      ),
      { status: 'Accepted' },
    );
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG');
    assert.equal(cp.connector(1).offeredA, 10);
    assert.deepEqual(cp.connector(1).currentA, [10, 10, 10]);
    await advance(cp, clock, 600_000);
    assert.equal(cp.connector(1).status, 'SuspendedEVSE');
    assert.equal(cp.connector(1).offeredA, 0);
    await advance(cp, clock, 600_000);
    assert.equal(cp.connector(1).status, 'Charging');
    assert.equal(cp.connector(1).offeredA, 16);
    const offered = cs
      .messages('MeterValues')
      .map((mv) => mv.meterValue[0]?.sampledValue.find((v) => v.measurand === 'Current.Offered')?.value);
    // A sample at a period boundary already sees the new period.
    assert.deepEqual(offered, ['0.0', '16.0']);
    // 10 A × 3 × 230 V for 600 s = 1150 Wh, then nothing.
    assert.ok(Math.abs(cp.connector(1).energyWh - 1150) < 1e-6);
    assert.deepEqual(
      cs
        .messages('StatusNotification')
        .filter((s) => s.connectorId === 1)
        .map((s) => s.status),
      ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'Charging'],
    );
  });

  it('takes a TxProfile for the running transaction only, and refuses one without a transaction (3.13.1)', async () => {
    const { cs, cp, clock } = await start();
    const tx = profile({
      chargingProfileId: 5,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      limits: [[0, 8]],
    });
    assert.deepEqual(await set(1, tx), { status: 'Rejected' });
    await set(0, profile({ chargingProfileKind: 'Relative', limits: [[0, 20]] }));
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG');
    await cp.whenIdle();
    const id = cp.connector(1).transaction?.transactionId;
    assert.deepEqual(await set(1, { ...tx, transactionId: 999 }), { status: 'Rejected' });
    assert.deepEqual(await set(0, tx), { status: 'Rejected' });
    assert.deepEqual(await set(1, { ...tx, transactionId: id as number }), { status: 'Accepted' });
    assert.equal(cp.connector(1).offeredA, 8);
    const composite = await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 1, duration: 300 });
    assert.deepEqual(composite.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 8 }]);
    assert.equal(composite.scheduleStart, iso(clock.now()));
    await cp.stopTransaction(1);
    cp.unplug(1);
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG');
    assert.equal(cp.connector(1).offeredA, 20);
  });

  it('shares a ChargePointMaxProfile between charging connectors (3.13.3: all connectors together)', async () => {
    const { cs, cp } = await start();
    assert.deepEqual(
      await set(1, profile({ chargingProfilePurpose: 'ChargePointMaxProfile', limits: [[0, 24]] })),
      {
        status: 'Rejected',
      },
    );
    assert.deepEqual(
      await set(0, profile({ chargingProfilePurpose: 'ChargePointMaxProfile', limits: [[0, 24]] })),
      {
        status: 'Accepted',
      },
    );
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'A');
    assert.equal(cp.connector(1).offeredA, 24);
    cp.plugIn(2, { maxCurrentA: 32 });
    await cp.startTransaction(2, 'B');
    assert.equal(cp.connector(1).offeredA, 12);
    assert.equal(cp.connector(2).offeredA, 12);
    const site = await cs.call('CP1', 'GetCompositeSchedule', {
      connectorId: 0,
      duration: 60,
      chargingRateUnit: 'W',
    });
    assert.deepEqual(site.chargingSchedule?.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 24 * 230 * 3 },
    ]);
  });

  it('rejects what the charge point cannot do, as its configuration keys announce (3.13.5)', async () => {
    const { cs } = await start({
      configuration: { ChargingScheduleAllowedChargingRateUnit: { value: 'Current', readonly: true } },
    });
    assert.deepEqual(await set(0, profile({ unit: 'W', limits: [[0, 11000]] })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ stackLevel: 9 })), { status: 'Rejected' });
    assert.deepEqual(await set(0, profile({ limits: [[60, 16]] })), { status: 'Rejected' });
    assert.deepEqual(
      await set(
        0,
        profile({ limits: Array.from({ length: 25 }, (_, i) => [i * 60, 16] as [number, number]) }),
      ),
      {
        status: 'Rejected',
      },
    );
    assert.deepEqual(await set(0, profile({ chargingProfileKind: 'Recurring' })), { status: 'Rejected' });
    await assert.rejects(
      set(3, profile({})),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'PropertyConstraintViolation',
    );
    assert.deepEqual(await cs.call('CP1', 'GetCompositeSchedule', { connectorId: 3, duration: 60 }), {
      status: 'Rejected',
    });
  });

  it('answers smart-charging messages with CALLERROR NotSupported without the SmartCharging profile (errata 3.39)', async () => {
    const { cs } = await start({ configuration: { SupportedFeatureProfiles: 'Core' } });
    await assert.rejects(
      set(0, profile({})),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'NotSupported',
    );
    await assert.rejects(
      cs.call('CP1', 'ClearChargingProfile', {}),
      (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'NotSupported',
    );
  });

  it('clears profiles (Accepted / Unknown) and the offered current goes back to the rating', async () => {
    const { cs, cp } = await start();
    await set(0, profile({ chargingProfileId: 4, limits: [[0, 7]] }));
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG');
    assert.equal(cp.connector(1).offeredA, 7);
    assert.deepEqual(await cs.call('CP1', 'ClearChargingProfile', { id: 5 }), { status: 'Unknown' });
    assert.deepEqual(await cs.call('CP1', 'ClearChargingProfile', { id: 4 }), { status: 'Accepted' });
    assert.equal(cp.connector(1).offeredA, 32);
  });

  it('switches a three-phase EV to one phase when numberPhases says so and ConnectorSwitch3to1PhaseSupported', async () => {
    const { cp } = await start({
      configuration: { ConnectorSwitch3to1PhaseSupported: { value: true, readonly: true } },
    });
    await set(0, profile({ unit: 'W', numberPhases: 1, limits: [[0, 3680]] }));
    cp.plugIn(1, { phases: 3, maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG');
    assert.deepEqual(cp.connector(1).currentA, [16, 0, 0]);
  });
});
