import assert from 'node:assert/strict';
import type { MeterValuesRequest } from '../../../lib/ocpp/messages';
import { AuthorizationError } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { advance, useSimulators } from './harness';

type SampledValue = MeterValuesRequest['meterValue'][number]['sampledValue'][number];

const value = (values: SampledValue[], measurand: string, phase?: string) =>
  values.find((v) => v.measurand === measurand && v.phase === phase)?.value;

describe('SimulatedChargePoint: charging sessions', () => {
  const sims = useSimulators();

  it('runs a session: Authorize, StartTransaction, Charging, MeterValues every interval, StopTransaction with Begin/End values', async () => {
    const { cs, cp, clock } = sims.simulator({
      connectors: [{ phases: 3, maxCurrentA: 32, initialEnergyWh: 1000 }],
    });
    await cp.connect();
    cp.plugIn(1, { phases: 3, maxCurrentA: 16, capacityKWh: 100, socPercent: 10 });
    const started = await cp.startTransaction(1, 'TAG-1');
    assert.deepEqual(started, { connectorId: 1, idTag: 'TAG-1' });
    await cp.whenIdle();
    assert.deepEqual(cs.messages('Authorize'), [{ idTag: 'TAG-1' }]);
    const [start] = cs.messages('StartTransaction');
    assert.deepEqual(start, {
      connectorId: 1,
      idTag: 'TAG-1',
      meterStart: 1000,
      timestamp: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(cp.connector(1).transaction?.transactionId, 1000);
    assert.equal(cp.connector(1).status, 'Charging');

    // 16 A on three phases at 230 V: 11 040 W.
    await advance(cp, clock, 3_600_000, 60_000);
    const meterValues = cs.messages('MeterValues');
    assert.equal(meterValues.length, 60);
    const first = meterValues[0];
    assert.equal(first?.transactionId, 1000);
    assert.equal(first?.meterValue[0]?.timestamp, '2026-01-01T00:01:00.000Z');
    const sampled = first?.meterValue[0]?.sampledValue ?? [];
    assert.equal(value(sampled, 'Energy.Active.Import.Register'), String(1000 + 184));
    assert.equal(value(sampled, 'Power.Active.Import'), '11040');
    assert.equal(value(sampled, 'Current.Import', 'L1'), '16.0');
    assert.equal(value(sampled, 'Current.Import', 'L2'), '16.0');
    assert.equal(value(sampled, 'Current.Import', 'L3'), '16.0');
    assert.equal(value(sampled, 'Voltage', 'L1-N'), '230.0');
    assert.equal(value(sampled, 'Current.Offered'), '32.0');
    assert.equal(sampled.find((v) => v.measurand === 'SoC')?.unit, 'Percent');
    assert.ok(sampled.every((v) => v.context === 'Sample.Periodic'));
    const last = meterValues[59]?.meterValue[0]?.sampledValue ?? [];
    assert.equal(value(last, 'Energy.Active.Import.Register'), String(1000 + 11040));
    // The car took what the meter counted: 10 % of 100 kWh plus 11.04 kWh.
    assert.ok(Math.abs((cp.connector(1).ev?.socPercent ?? 0) - 21.04) < 1e-9);

    const stop = cs.next('StopTransaction');
    await cp.stopTransaction(1);
    const stopped = await stop;
    assert.equal(stopped.transactionId, 1000);
    assert.equal(stopped.meterStop, 12040);
    assert.equal(stopped.reason, 'Local');
    assert.equal(stopped.idTag, 'TAG-1');
    assert.deepEqual(
      stopped.transactionData?.map((mv) => [mv.sampledValue[0]?.context, mv.sampledValue[0]?.value]),
      [
        ['Transaction.Begin', '1000'],
        ...Array.from({ length: 60 }, (_, i) => ['Sample.Periodic', String(1000 + 184 * (i + 1))]),
        ['Transaction.End', '12040'],
      ],
    );
    await cp.whenIdle();
    assert.equal(cp.connector(1).status, 'Finishing');
    cp.unplug(1);
    await cp.whenIdle();
    assert.deepEqual(
      cs.messages('StatusNotification').map((s) => `${s.connectorId}:${s.status}`),
      ['0:Available', '1:Available', '1:Preparing', '1:Charging', '1:Finishing', '1:Available'],
    );
    cs.assertStrict();
  });

  it('meters a single-phase EV on a three-phase connector on L1 only', async () => {
    const { cs, cp, clock } = sims.simulator({ configuration: { MeterValueSampleInterval: 900 } });
    await cp.connect();
    cp.plugIn(1, { phases: 1, maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG-1');
    await advance(cp, clock, 900_000);
    const sampled = cs.messages('MeterValues')[0]?.meterValue[0]?.sampledValue ?? [];
    assert.equal(value(sampled, 'Current.Import', 'L1'), '32.0');
    assert.equal(value(sampled, 'Current.Import', 'L2'), '0.0');
    assert.equal(value(sampled, 'Current.Import', 'L3'), '0.0');
    assert.equal(value(sampled, 'Power.Active.Import'), '7360');
    // 7 360 W for a quarter of an hour.
    assert.equal(value(sampled, 'Energy.Active.Import.Register'), '1840');
    assert.deepEqual(cp.connector(1).currentA, [32, 0, 0]);
    cs.assertStrict();
  });

  it('puts a single-phase EV on the grid phase the connector rotation names', async () => {
    const { cp } = sims.simulator({ configuration: { ConnectorPhaseRotation: '0.RST,1.STR' } });
    await cp.connect();
    cp.plugIn(1, { phases: 1, maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-1', { authorize: false });
    assert.deepEqual(cp.connector(1).currentA, [0, 16, 0]);
  });

  it('goes SuspendedEV when the battery is full and stops counting energy', async () => {
    const { cp, clock } = sims.simulator({ configuration: { MeterValueSampleInterval: 0 } });
    await cp.connect();
    // 5 kWh missing at 11 040 W: full after 1630.4 s.
    cp.plugIn(1, { capacityKWh: 50, socPercent: 90, maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-1');
    const suspended = waitFor(cp, 'status', (s: { status: string }) => s.status === 'SuspendedEV');
    clock.advance(1631_000);
    await suspended;
    assert.ok(Math.abs(cp.connector(1).energyWh - 5000) < 1e-6);
    assert.equal(cp.connector(1).ev?.full, true);
    clock.advance(600_000);
    assert.ok(Math.abs(cp.connector(1).energyWh - 5000) < 1e-6);
    assert.equal(cp.connector(1).powerW, 0);
  });

  it('never charges a car below its minimum current: 8 A car on a 6 A offer is SuspendedEV', async () => {
    const { cp } = sims.simulator({ maxCurrentA: 6 });
    await cp.connect();
    cp.plugIn(1, { minCurrentA: 8 });
    await cp.startTransaction(1, 'TAG-1');
    assert.equal(cp.connector(1).status, 'SuspendedEV');
    assert.equal(cp.connector(1).offeredA, 6);
    assert.equal(cp.connector(1).powerW, 0);
  });

  it('waits for the EV after authorization, and gives up after ConnectionTimeOut', async () => {
    const { cs, cp, clock } = sims.simulator({ configuration: { ConnectionTimeOut: 60 } });
    await cp.connect();
    const pending = cp.startTransaction(1, 'TAG-1');
    await waitFor(cp, 'status', (s: { status: string }) => s.status === 'Preparing');
    clock.advance(60_000);
    await assert.rejects(pending, /ConnectionTimeOut/);
    assert.equal(cp.connector(1).status, 'Available');

    const second = cp.startTransaction(1, 'TAG-2');
    await waitFor(cp, 'status', (s: { status: string }) => s.status === 'Preparing');
    cp.plugIn(1, {});
    assert.equal((await second).idTag, 'TAG-2');
    await cp.whenIdle();
    assert.equal(cs.messages('StartTransaction')[0]?.idTag, 'TAG-2');
  });

  it('goes Finishing when an EV is plugged in but no id tag comes within ConnectionTimeOut (errata 3.20)', async () => {
    const { cp, clock } = sims.simulator({ configuration: { ConnectionTimeOut: 30 } });
    await cp.connect();
    cp.plugIn(1, {});
    clock.advance(30_000);
    assert.equal(cp.connector(1).status, 'Finishing');
    await assert.rejects(cp.startTransaction(1, 'TAG-1'), /Finishing/);
    cp.unplug(1);
    assert.equal(cp.connector(1).status, 'Available');
  });

  it('sends clock-aligned meter values every ClockAlignedDataInterval from midnight, and StopTxnAlignedData in the StopTransaction', async () => {
    const { cs, cp, clock } = sims.simulator({
      configuration: {
        MeterValueSampleInterval: 0,
        ClockAlignedDataInterval: 900,
        MeterValuesAlignedData: 'Energy.Active.Import.Register',
        StopTxnSampledData: '',
        StopTxnAlignedData: 'Energy.Active.Import.Register',
      },
    });
    clock.advance(300_000); // 00:05
    await cp.connect();
    cp.plugIn(1, { maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-1');
    await advance(cp, clock, 1_800_000, 300_000); // to 00:35
    const aligned = cs.messages('MeterValues');
    assert.deepEqual(
      aligned.map((mv) => [
        mv.meterValue[0]?.timestamp,
        mv.meterValue[0]?.sampledValue[0]?.context,
        mv.transactionId,
      ]),
      [
        ['2026-01-01T00:15:00.000Z', 'Sample.Clock', 1000],
        ['2026-01-01T00:30:00.000Z', 'Sample.Clock', 1000],
      ],
    );
    const stop = cs.next('StopTransaction');
    await cp.stopTransaction(1);
    assert.deepEqual(
      (await stop).transactionData?.map((mv) => mv.sampledValue[0]?.context),
      ['Transaction.Begin', 'Sample.Clock', 'Sample.Clock', 'Transaction.End'],
    );
    cs.assertStrict();
  });

  it('refuses an id tag the central system does not accept', async () => {
    const cs = sims.centralSystem();
    cs.answers.Authorize = () => ({ idTagInfo: { status: 'Blocked' } });
    const { cp } = sims.simulator();
    await cp.connect();
    cp.plugIn(1, {});
    await assert.rejects(
      cp.startTransaction(1, 'BAD'),
      (err: AuthorizationError) => err.status === 'Blocked',
    );
    assert.equal(cs.messages('StartTransaction').length, 0);
  });

  it('stops with DeAuthorized when StartTransaction.conf is not Accepted (errata 3.17), or only suspends when told not to stop', async () => {
    const cs = sims.centralSystem();
    cs.answers.StartTransaction = () => ({ transactionId: 7, idTagInfo: { status: 'Invalid' } });
    const { cp } = sims.simulator({ connectors: 2 });
    await cp.connect();
    cp.plugIn(1, {});
    const stop = cs.next('StopTransaction');
    await cp.startTransaction(1, 'TAG-1', { authorize: false });
    assert.equal((await stop).reason, 'DeAuthorized');

    await cs.call('CP1', 'ChangeConfiguration', { key: 'StopTransactionOnInvalidId', value: 'false' });
    cp.plugIn(2, {});
    await cp.startTransaction(2, 'TAG-2', { authorize: false });
    await cp.whenIdle();
    assert.equal(cp.connector(2).status, 'SuspendedEVSE');
    assert.equal(cp.connector(2).transaction?.transactionId, 7);
    cs.assertStrict();
  });

  it('stops with EVDisconnected when the EV leaves, or suspends with StopTransactionOnEVSideDisconnect false (4.10)', async () => {
    const { cs, cp } = sims.simulator();
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    const stop = cs.next('StopTransaction');
    cp.unplug(1);
    assert.equal((await stop).reason, 'EVDisconnected');
    await cp.whenIdle();
    const statuses = cs.messages('StatusNotification').slice(-2);
    assert.deepEqual(
      statuses.map((s) => [s.status, s.info]),
      [
        ['Finishing', 'EV side disconnected'],
        ['Available', undefined],
      ],
    );

    await cs.call('CP1', 'ChangeConfiguration', { key: 'StopTransactionOnEVSideDisconnect', value: 'false' });
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-2');
    cp.unplug(1);
    assert.equal(cp.connector(1).status, 'SuspendedEV');
    assert.ok(cp.connector(1).transaction);
    cp.plugIn(1, {});
    assert.equal(cp.connector(1).status, 'Charging');
    await cp.whenIdle();
    cs.assertStrict();
  });

  it('stops for another id tag of the same group only after authorizing it (4.1, 3.10)', async () => {
    const cs = sims.centralSystem();
    cs.answers.Authorize = (params: { idTag: string }) => ({
      idTagInfo: {
        status: 'Accepted',
        parentIdTag: params.idTag.startsWith('FAMILY') ? 'FAMILY' : params.idTag,
      },
    });
    const { cp } = sims.simulator();
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'FAMILY-1');
    await assert.rejects(cp.stopTransaction(1, 'Local', { idTag: 'STRANGER' }), AuthorizationError);
    await cp.stopTransaction(1, 'Local', { idTag: 'FAMILY-2' });
    await cp.whenIdle();
    assert.deepEqual(
      cs.messages('Authorize').map((a) => a.idTag),
      ['FAMILY-1', 'STRANGER', 'FAMILY-2'],
    );
    assert.equal(cs.messages('StopTransaction')[0]?.idTag, 'FAMILY-2');
  });

  it('authorizes offline from the local list and the cache, and refuses unknown tags unless AllowOfflineTxForUnknownId', async () => {
    const { cs, cp } = sims.simulator({ connectors: 3 });
    await cp.connect();
    await cs.call('CP1', 'SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [
        { idTag: 'LISTED', idTagInfo: { status: 'Accepted' } },
        { idTag: 'BLOCKED', idTagInfo: { status: 'Blocked' } },
      ],
    });
    assert.deepEqual(await cp.authorize('CACHED'), { status: 'Accepted' });
    await cp.disconnect();
    assert.deepEqual(await cp.authorize('LISTED'), { status: 'Accepted' });
    assert.deepEqual(await cp.authorize('BLOCKED'), { status: 'Blocked' });
    assert.deepEqual(await cp.authorize('CACHED'), { status: 'Accepted' });
    assert.deepEqual(await cp.authorize('UNKNOWN'), { status: 'Invalid' });
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'LISTED');
    assert.equal(cp.connector(1).status, 'Charging');
  });
});
