import assert from 'node:assert/strict';
import { createRPCError, NOREPLY } from 'ocpp-rpc';
import { waitFor } from '../../support/events';
import { advance, useSimulators } from './harness';

describe('SimulatedChargePoint: offline behaviour and transaction-related messages (3.7)', () => {
  const sims = useSimulators();

  it('queues MeterValues and StopTransaction across a dropped connection and sends them in order after reconnecting', async () => {
    const { cs, cp, clock } = sims.simulator({ reconnect: { initialDelayS: 600 } });
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await advance(cp, clock, 60_000);
    assert.equal(cs.messages('MeterValues').length, 1);

    const gone = waitFor(cp, 'disconnected');
    await cs.drop('CP1');
    await gone;
    // Ten minutes offline: nine more samples, then the driver stops.
    await advance(cp, clock, 540_000, 60_000);
    await cp.stopTransaction(1);
    cp.unplug(1);
    assert.equal(cs.messages('MeterValues').length, 1);

    const back = waitFor(cp, 'connected');
    clock.advance(60_000);
    await back;
    await cp.whenIdle();
    const after = cs.received.slice(cs.received.findIndex((m) => m.action === 'MeterValues') + 1);
    const transactionMessages = after.filter((m) => m.action !== 'StatusNotification');
    assert.deepEqual(
      transactionMessages.map((m) => m.action),
      [...Array(9).fill('MeterValues'), 'StopTransaction'],
    );
    const timestamps = cs.messages('MeterValues').map((mv) => mv.meterValue[0]?.timestamp);
    assert.deepEqual(
      timestamps,
      Array.from({ length: 10 }, (_, i) => `2026-01-01T00:${String(i + 1).padStart(2, '0')}:00.000Z`),
    );
    const [stop] = cs.messages('StopTransaction');
    assert.equal(stop?.transactionId, 1000);
    assert.equal(stop?.timestamp, '2026-01-01T00:10:00.000Z');
    // No new BootNotification; the connector's new state is reported.
    assert.equal(cs.messages('BootNotification').length, 1);
    assert.equal(cs.messages('StatusNotification').at(-1)?.status, 'Available');
    cs.assertStrict();
  });

  it('gives a StopTransaction queued before its StartTransaction was answered the id the central system assigns', async () => {
    const { cs, cp, clock } = sims.simulator({ configuration: { MeterValueSampleInterval: 300 } });
    await cp.connect();
    await cp.authorize('TAG-1'); // cached, for the offline start
    await cp.disconnect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    assert.equal(cp.connector(1).status, 'Charging');
    clock.advance(600_000);
    await cp.stopTransaction(1);

    cs.answers.StartTransaction = () => ({ transactionId: 4242, idTagInfo: { status: 'Accepted' } });
    await cp.connect();
    await cp.whenIdle();
    const order = cs.received.filter((m) =>
      ['StartTransaction', 'MeterValues', 'StopTransaction'].includes(m.action),
    );
    assert.deepEqual(
      order.map((m) => m.action),
      ['StartTransaction', 'MeterValues', 'MeterValues', 'StopTransaction'],
    );
    assert.deepEqual(
      cs.messages('MeterValues').map((mv) => mv.transactionId),
      [4242, 4242],
    );
    assert.equal(cs.messages('StopTransaction')[0]?.transactionId, 4242);
    assert.equal(cs.messages('StartTransaction')[0]?.timestamp, '2026-01-01T00:00:00.000Z');
    cs.assertStrict();
  });

  it('resends a message answered with a CALLERROR after RetryInterval × transmissions, and drops it after TransactionMessageAttempts', async () => {
    const { cs, cp, clock } = sims.simulator({
      configuration: {
        TransactionMessageAttempts: 3,
        TransactionMessageRetryInterval: 60,
        MeterValueSampleInterval: 0,
      },
    });
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    cs.answers.StopTransaction = () => {
      throw createRPCError('InternalError', 'database down');
    };
    await cp.stopTransaction(1);
    await cp.whenIdle();
    assert.equal(cs.messages('StopTransaction').length, 1);
    await advance(cp, clock, 59_000);
    assert.equal(cs.messages('StopTransaction').length, 1);
    await advance(cp, clock, 1000);
    assert.equal(cs.messages('StopTransaction').length, 2);
    // "In the case when there is a second failure, the Charge Point SHALL wait for 120 seconds".
    await advance(cp, clock, 119_000);
    assert.equal(cs.messages('StopTransaction').length, 2);
    const dropped = waitFor(cp, 'messageDropped');
    await advance(cp, clock, 1000);
    assert.equal(cs.messages('StopTransaction').length, 3);
    assert.equal(((await dropped)[0] as { action: string }).action, 'StopTransaction');
    await advance(cp, clock, 3_600_000, 600_000);
    assert.equal(cs.messages('StopTransaction').length, 3);
  });

  it('treats an unanswered message like a failed one, and uses transactionId -1 when the StartTransaction never got through (errata 3.18)', async () => {
    const { cs, cp, clock } = sims.simulator({
      callTimeoutMs: 150,
      configuration: {
        TransactionMessageAttempts: 2,
        TransactionMessageRetryInterval: 10,
        MeterValueSampleInterval: 0,
      },
    });
    await cp.connect();
    cs.answers.StartTransaction = () => NOREPLY;
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    assert.equal(cs.messages('StartTransaction').length, 1);
    const dropped = waitFor(cp, 'messageDropped');
    await advance(cp, clock, 10_000);
    await dropped;
    assert.equal(cs.messages('StartTransaction').length, 2);
    await cp.stopTransaction(1);
    await cp.whenIdle();
    assert.equal(cs.messages('StopTransaction')[0]?.transactionId, -1);
  });

  it('lets Authorize and status go out while the transaction queue waits for a retry (3.7)', async () => {
    const { cs, cp, clock } = sims.simulator({
      connectors: 2,
      configuration: { MeterValueSampleInterval: 0 },
    });
    await cp.connect();
    let failures = 0;
    cs.answers.StartTransaction = () => {
      failures += 1;
      if (failures === 1) throw createRPCError('InternalError');
      return { transactionId: 5, idTagInfo: { status: 'Accepted' } };
    };
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    cp.plugIn(2, {});
    await cp.startTransaction(2, 'TAG-2');
    await cp.whenIdle();
    // The second start waits behind the first; Authorize for TAG-2 went out meanwhile.
    assert.deepEqual(
      cs.messages('StartTransaction').map((s) => s.idTag),
      ['TAG-1'],
    );
    assert.deepEqual(
      cs.messages('Authorize').map((a) => a.idTag),
      ['TAG-1', 'TAG-2'],
    );
    await advance(cp, clock, 60_000);
    assert.deepEqual(
      cs.messages('StartTransaction').map((s) => s.idTag),
      ['TAG-1', 'TAG-1', 'TAG-2'],
    );
  });

  it('sends StopTransaction for a soft reset before rebooting, and queues it for after the reboot on a hard reset (5.14)', async () => {
    const { cs, cp, clock } = sims.simulator({
      connectors: 2,
      rebootDelayS: 5,
      configuration: { MeterValueSampleInterval: 0 },
    });
    await cp.connect();
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    const rebooting = waitFor(cp, 'rebooting');
    assert.deepEqual(await cs.call('CP1', 'Reset', { type: 'Soft' }), { status: 'Accepted' });
    await rebooting;
    await waitFor(cp, 'disconnected');
    const actions = cs.received.map((m) => m.action);
    assert.equal(actions.at(-2), 'StopTransaction');
    assert.equal(cs.messages('StopTransaction')[0]?.reason, 'SoftReset');
    const booted = waitFor(cp, 'boot');
    clock.advance(5000);
    await booted;
    await cp.whenIdle();
    assert.equal(cs.messages('BootNotification').length, 2);
    // After the reboot the car is still there, without a transaction.
    assert.equal(cp.connector(1).status, 'Preparing');

    await cp.startTransaction(1, 'TAG-2');
    await cp.whenIdle();
    assert.deepEqual(await cs.call('CP1', 'Reset', { type: 'Hard' }), { status: 'Accepted' });
    await waitFor(cp, 'disconnected');
    const stopsBefore = cs.messages('StopTransaction').length;
    const booted2 = waitFor(cp, 'boot');
    clock.advance(5000);
    await booted2;
    await cp.whenIdle();
    const stops = cs.messages('StopTransaction');
    assert.equal(stops.length, stopsBefore + 1);
    assert.equal(stops.at(-1)?.reason, 'HardReset');
    // The queued stop follows the BootNotification (4.2: nothing before the boot is accepted).
    const sinceBoot = cs.received.slice(cs.received.map((m) => m.action).lastIndexOf('BootNotification'));
    assert.ok(sinceBoot.some((m) => m.action === 'StopTransaction'));
    cs.assertStrict();
  });
});
