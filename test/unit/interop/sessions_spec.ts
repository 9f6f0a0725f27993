import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState } from '../../../lib/contracts';
import type { SessionRecord } from '../../../lib/ocpp/central-state';
import type { MeterValuesPayload } from '../../../lib/ocpp/handlers';
import type { TransactionEvent } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { freePort } from '../../support/ports';
import {
  advance,
  allSessions,
  nextMessage,
  payloadsOf,
  recordMessages,
  recordSessions,
  requestsOf,
  simTime,
  useInterop,
  useTempDirectory,
} from './support';

/** The statuses a connector went through as the central system saw them, repeats folded. */
function recordStatuses(cs: EventEmitter, chargePointId: string, connectorId: number): string[] {
  const statuses: string[] = [];
  cs.on('connector', (state: ConnectorState) => {
    if (state.chargePointId !== chargePointId || state.connectorId !== connectorId || !state.status) return;
    if (statuses.at(-1) !== state.status) statuses.push(state.status);
  });
  return statuses;
}

describe('interop: charging sessions', () => {
  const interop = useInterop();
  const temporary = useTempDirectory();

  it('a full session: Authorize, start, meter values on the simulator’s clock, a full battery, stop; the record matches the meter', async () => {
    const cs = await interop.harness().centralSystem();
    const statuses = recordStatuses(cs, 'CP-1', 1);
    const messages = recordMessages(cs);
    const { cp, clock } = interop.simulator(cs, 'CP-1', {
      connectors: [{ phases: 3, maxCurrentA: 32, initialEnergyWh: 12_345 }],
      configuration: { MeterValueSampleInterval: 300 },
    });
    await cp.connect();
    // 5 kWh to go at 11.04 kW: full after about 27 minutes of the hour.
    cp.plugIn(1, { phases: 3, maxCurrentA: 16, capacityKWh: 10, socPercent: 50 });
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    const [open] = cs.openTransactions();
    assert.equal(open?.meterStartWh, 12_345);

    for (let minute = 5; minute <= 60; minute += 5) {
      await advance(cp, clock, 300_000);
      assert.equal(
        cs.connectors.find('CP-1', 1)?.energyWh,
        Math.round(cp.connector(1).energyWh),
        `energy after ${minute} minutes`,
      );
    }
    assert.equal(cp.connector(1).status, 'SuspendedEV');
    const session = waitFor<[SessionRecord]>(cs, 'session');
    await cp.stopTransaction(1);
    cp.unplug(1);
    await cp.whenIdle();
    const [record] = await session;

    const meterStop = Math.round(cp.connector(1).energyWh);
    assert.equal(meterStop, 12_345 + 5000, 'the car took exactly what it had room for');
    assert.equal(record.transactionId, open?.transactionId);
    assert.equal(record.meterStopWh, meterStop);
    assert.equal(record.energyWh, 5000);
    assert.equal(record.stopReason, 'Local');
    assert.deepEqual(await allSessions(cs), [record]);

    assert.deepEqual(statuses, [
      'Available',
      'Preparing',
      'Charging',
      'SuspendedEV',
      'Finishing',
      'Available',
    ]);
    const transactionMessages = messages
      .map((m) => m.action)
      .filter((action) => !['StatusNotification', 'BootNotification', 'Heartbeat'].includes(action));
    assert.deepEqual(transactionMessages, [
      'Authorize',
      'StartTransaction',
      ...Array<string>(12).fill('MeterValues'),
      'StopTransaction',
    ]);
    const meterValues = payloadsOf<MeterValuesPayload>(messages, 'MeterValues');
    assert.ok(meterValues.every((mv) => mv.transactionId === open?.transactionId));
    assert.deepEqual(
      meterValues.map((mv) => mv.importWh),
      meterValues.map((mv) => mv.importWh).sort((a, b) => (a ?? 0) - (b ?? 0)),
      'the register only grows',
    );
    assert.equal(meterValues.at(-1)?.importWh, meterStop);
    assert.deepEqual(cs.connectors.find('CP-1', 1)?.transaction, undefined);
  });

  it('a single-phase EV on a three-phase charger: currents on L1 only, activePhases [1]', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      configuration: { MeterValueSampleInterval: 60 },
    });
    cp.plugIn(1, { phases: 1, maxCurrentA: 32 });
    await cp.startTransaction(1, 'TAG-1');
    const meterValues = nextMessage(cs, 'MeterValues');
    await advance(cp, clock, 60_000);
    const payload = (await meterValues).payload as MeterValuesPayload;
    assert.deepEqual(payload.currentA, [32, 0, 0]);
    assert.equal(payload.totalPowerW, 7360);
    const state = cs.connectors.find('CP-1', 1);
    assert.equal(state?.status, 'Charging');
    assert.deepEqual(state?.activePhases, [1]);
    assert.deepEqual(state?.currentA, [32, 0, 0]);
  });

  it('a single-phase EV on a connector wired S-T-R draws on L2: activePhases [2]', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      configuration: { MeterValueSampleInterval: 60, ConnectorPhaseRotation: '0.RST,1.STR' },
    });
    cp.plugIn(1, { phases: 1, maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-1');
    await advance(cp, clock, 60_000);
    assert.deepEqual(cs.connectors.find('CP-1', 1)?.activePhases, [2]);
    assert.deepEqual(cs.connectors.find('CP-1', 1)?.currentA, [0, 16, 0]);
  });

  it('after a reboot that set the charger’s clock back (4.2: it syncs to currentTime), its statuses and readings still count', async () => {
    const cs = await interop.harness().centralSystem();
    /** CP-1 with its clock at `hour`, charging a car on `phases` for a minute with `idTag`. */
    const chargeAt = async (hour: number, phases: 1 | 3, idTag: string) => {
      const sim = interop.simulator(cs, 'CP-1', {
        clock: new ManualClock(Date.UTC(2026, 0, 1, hour)),
        configuration: { MeterValueSampleInterval: 60 },
      });
      await sim.cp.connect();
      sim.cp.plugIn(1, { phases, maxCurrentA: 16 });
      await sim.cp.startTransaction(1, idTag);
      await advance(sim.cp, sim.clock, 60_000);
      return sim;
    };
    const before = await chargeAt(2, 3, 'TAG-1');
    await before.cp.stopTransaction(1);
    before.cp.unplug(1);
    await before.cp.whenIdle();
    await before.cp.close();
    assert.equal(cs.connectors.find('CP-1', 1)?.status, 'Available');

    // The same charger after a reboot, its clock two hours earlier than before.
    await chargeAt(0, 1, 'TAG-2');
    const state = cs.connectors.find('CP-1', 1);
    const ignored = interop
      .harness()
      .log.matching(/is older than/)
      .map((line) => line.message);
    assert.deepEqual(
      [state?.status, state?.currentA, state?.activePhases],
      ['Charging', [16, 0, 0], [1]],
      `connector state ${JSON.stringify(state)}; logged: ${ignored.join(' | ')}`,
    );
  });

  describe('offline', () => {
    it('the connection drops mid-transaction, the driver stops offline; after reconnecting the queued messages arrive and the session is recorded once', async () => {
      const cs = await interop.harness().centralSystem();
      const sessions = recordSessions(cs);
      const { cp, clock } = interop.simulator(cs, 'CP-1', {
        reconnect: { initialDelayS: 600 },
        configuration: { MeterValueSampleInterval: 60 },
      });
      await cp.connect();
      cp.plugIn(1, { phases: 3, maxCurrentA: 16 });
      await cp.startTransaction(1, 'TAG-1');
      await advance(cp, clock, 60_000);
      const [open] = cs.openTransactions();
      const transactionId = open?.transactionId;
      assert.equal(cp.connector(1).transaction?.transactionId, transactionId);

      const gone = waitFor(cs, 'disconnect');
      const lost = waitFor(cp as unknown as EventEmitter, 'disconnected');
      cp.dropConnection();
      await Promise.all([gone, lost]);
      assert.equal(cs.isConnected('CP-1'), false);
      assert.equal(cs.connectors.find('CP-1', 1)?.online, false);
      assert.equal(cs.openTransactions().length, 1, 'a lost connection does not end the transaction');

      // Five minutes offline, then the driver stops and leaves.
      await advance(cp, clock, 300_000, 60_000);
      const stopped = waitFor<[TransactionEvent]>(cp as unknown as EventEmitter, 'transactionStopped');
      await cp.stopTransaction(1);
      assert.equal((await stopped)[0].transactionId, transactionId);
      cp.unplug(1);
      const stoppedAt = simTime(clock);
      const meterStop = Math.round(cp.connector(1).energyWh);
      assert.equal(sessions.length, 0, 'no session while the stop is queued');

      const messages = recordMessages(cs);
      const back = waitFor(cp as unknown as EventEmitter, 'connected');
      await advance(cp, clock, 300_000, 60_000);
      await back;
      await cp.whenIdle();
      assert.equal(
        messages.filter((m) => m.action === 'BootNotification').length,
        0,
        'a reconnect is not a reboot',
      );
      const queued = messages.filter((m) => m.action === 'MeterValues' || m.action === 'StopTransaction');
      assert.deepEqual(
        queued.map((m) => m.action),
        [...Array<string>(5).fill('MeterValues'), 'StopTransaction'],
      );
      assert.ok(
        payloadsOf<MeterValuesPayload>(messages, 'MeterValues').every(
          (mv) => mv.transactionId === transactionId,
        ),
      );
      const [stop] = requestsOf<{ transactionId: number; timestamp: string; meterStop: number }>(
        messages,
        'StopTransaction',
      );
      assert.deepEqual(
        [stop?.transactionId, stop?.timestamp, stop?.meterStop],
        [transactionId, stoppedAt, meterStop],
      );
      assert.equal(sessions.length, 1);
      assert.deepEqual(
        (await allSessions(cs)).map((s) => [s.transactionId, s.stoppedAt, s.meterStopWh, s.anomaly]),
        [[transactionId, stoppedAt, meterStop, undefined]],
      );
      assert.equal(sessions[0]?.energyWh, meterStop - (open?.meterStartWh ?? 0));
      assert.deepEqual(cs.openTransactions(), []);
      assert.equal(cs.connectors.find('CP-1', 1)?.status, 'Available');
    });

    it('a transaction started offline gets its id from the central system when the StartTransaction arrives', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', {
        reconnect: { initialDelayS: 600 },
        configuration: { MeterValueSampleInterval: 120 },
      });
      // The tag is cached online, so the charge point may authorize it offline (LocalAuthorizeOffline).
      assert.equal((await cp.authorize('TAG-OFF')).status, 'Accepted');
      const lost = waitFor(cp as unknown as EventEmitter, 'disconnected');
      cp.dropConnection();
      await lost;

      cp.plugIn(1, { phases: 3, maxCurrentA: 16 });
      const started = await cp.startTransaction(1, 'TAG-OFF');
      assert.deepEqual(started, { connectorId: 1, idTag: 'TAG-OFF' });
      assert.equal(cp.connector(1).transaction?.transactionId, undefined);
      const startedAt = simTime(clock);
      await advance(cp, clock, 240_000, 60_000);
      assert.deepEqual(cs.openTransactions(), []);

      const messages = recordMessages(cs);
      const assigned = waitFor<[TransactionEvent]>(cp as unknown as EventEmitter, 'transactionId');
      await advance(cp, clock, 360_000, 60_000);
      const [event] = await assigned;
      await cp.whenIdle();
      const [open] = cs.openTransactions();
      assert.ok(open);
      assert.equal(event.transactionId, open.transactionId);
      assert.equal(cp.connector(1).transaction?.transactionId, open.transactionId);
      assert.equal(open.startedAt, startedAt, 'the start time is the charge point’s, not the arrival');
      assert.ok(Date.parse(open.receivedAt) > Date.parse(open.startedAt));
      const order = messages
        .map((m) => m.action)
        .filter((action) => action === 'StartTransaction' || action === 'MeterValues');
      assert.equal(order[0], 'StartTransaction');
      assert.ok(order.length >= 3, order.join(', '));
      assert.ok(
        payloadsOf<MeterValuesPayload>(messages, 'MeterValues').every(
          (mv) => mv.transactionId === open.transactionId,
        ),
        'MeterValues queued before the id was known carry it',
      );

      const session = waitFor<[SessionRecord]>(cs, 'session');
      await cp.stopTransaction(1);
      const [record] = await session;
      assert.equal(record.transactionId, open.transactionId);
      assert.equal(record.anomaly, undefined);
      assert.equal(record.meterStopWh, Math.round(cp.connector(1).energyWh));
    });
  });

  describe('lost answers', () => {
    /** Cuts the simulator's connection the moment the central system has handled its first `action`. */
    function dropAfterHandling(cs: EventEmitter, cp: { dropConnection(): void }, action: string): void {
      let dropped = false;
      cs.on('message', (message: { action: string }) => {
        if (message.action !== action || dropped) return;
        dropped = true;
        cp.dropConnection();
      });
    }

    it('a StartTransaction whose answer was lost is sent again and gets the same id; one transaction', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', { reconnect: { initialDelayS: 1 } });
      const messages = recordMessages(cs);
      cp.plugIn(1, {});
      dropAfterHandling(cs, cp, 'StartTransaction');
      const lost = waitFor(cp as unknown as EventEmitter, 'disconnected');
      await cp.startTransaction(1, 'TAG-1');
      await lost;
      assert.equal(cp.connector(1).transaction?.transactionId, undefined, 'the answer never arrived');
      assert.equal(cs.openTransactions().length, 1);

      const assigned = waitFor<[TransactionEvent]>(cp as unknown as EventEmitter, 'transactionId');
      clock.advance(1000);
      const [event] = await assigned;
      await cp.whenIdle();
      const starts = messages.filter((m) => m.action === 'StartTransaction');
      assert.equal(starts.length, 2);
      assert.deepEqual(
        starts.map((m) => (m.response as { transactionId: number }).transactionId),
        [event.transactionId, event.transactionId],
      );
      assert.equal((starts[1]?.payload as { duplicate?: boolean } | undefined)?.duplicate, true);
      assert.deepEqual(
        cs.openTransactions().map((tx) => tx.transactionId),
        [event.transactionId],
      );

      await cp.stopTransaction(1);
      await cp.whenIdle();
      assert.deepEqual(
        (await allSessions(cs)).map((s) => [s.transactionId, s.anomaly]),
        [[event.transactionId, undefined]],
      );
    });

    it('a StopTransaction whose answer was lost is sent again and recorded once', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', { reconnect: { initialDelayS: 1 } });
      const sessions = recordSessions(cs);
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const transactionId = cp.connector(1).transaction?.transactionId;
      dropAfterHandling(cs, cp, 'StopTransaction');
      const lost = waitFor(cp as unknown as EventEmitter, 'disconnected');
      await cp.stopTransaction(1);
      await lost;
      assert.equal(sessions.length, 1);

      const again = nextMessage(cs, 'StopTransaction');
      clock.advance(1000);
      const repeated = await again;
      assert.deepEqual(repeated.payload, { chargePointId: 'CP-1', transactionId, duplicate: true });
      await cp.whenIdle();
      assert.equal(cp.idle, true);
      assert.equal(sessions.length, 1);
      assert.deepEqual(
        (await allSessions(cs)).map((s) => s.transactionId),
        [transactionId],
      );
    });
  });

  describe('restart of the central system', () => {
    it('a running transaction survives the restart, stops cleanly afterwards, and the next id is larger than every earlier one', async () => {
      const dataDirectory = temporary();
      const port = await freePort();
      const first = await interop.harness().centralSystem({ dataDirectory, port });
      const { cp, clock } = interop.simulator(first, 'CP-1', {
        connectors: 2,
        reconnect: { initialDelayS: 1 },
        configuration: { MeterValueSampleInterval: 60 },
      });
      await cp.connect();
      // One finished session, one running across the restart.
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await advance(cp, clock, 60_000);
      await cp.stopTransaction(1);
      cp.unplug(1);
      cp.plugIn(2, { phases: 3, maxCurrentA: 16 });
      await cp.startTransaction(2, 'TAG-2');
      await advance(cp, clock, 60_000);
      const [running] = first.openTransactions();
      assert.ok(running);
      const earlier = [(await allSessions(first))[0]?.transactionId ?? 0, running.transactionId];

      const lost = waitFor(cp as unknown as EventEmitter, 'disconnected');
      await first.stop();
      await lost;
      // The charge point charges on while the central system is away.
      clock.advance(500);

      const second = await interop.harness().centralSystem({ dataDirectory, port });
      assert.deepEqual(second.openTransactions(), [running]);
      assert.equal(second.connectors.find('CP-1', 2)?.transaction?.transactionId, running.transactionId);
      const messages = recordMessages(second);
      const back = waitFor(cp as unknown as EventEmitter, 'connected');
      await advance(cp, clock, 1000);
      await back;
      await cp.whenIdle();

      const meterValues = nextMessage(second, 'MeterValues');
      await advance(cp, clock, 60_000);
      assert.equal(((await meterValues).payload as MeterValuesPayload).transactionId, running.transactionId);
      assert.equal(messages.filter((m) => m.action === 'BootNotification').length, 0);

      const session = waitFor<[SessionRecord]>(second, 'session');
      await cp.stopTransaction(2);
      const [record] = await session;
      assert.equal(record.transactionId, running.transactionId);
      assert.equal(record.anomaly, undefined);
      assert.equal(record.meterStartWh, running.meterStartWh);
      assert.equal(record.energyWh, Math.round(cp.connector(2).energyWh) - running.meterStartWh);
      assert.deepEqual(second.openTransactions(), []);
      assert.deepEqual(
        (await allSessions(second)).map((s) => s.transactionId),
        earlier,
      );

      cp.unplug(2);
      cp.plugIn(1, {});
      const started = nextMessage(second, 'StartTransaction');
      await cp.startTransaction(1, 'TAG-3');
      const { transactionId } = (await started).response as { transactionId: number };
      assert.ok(
        earlier.every((id) => transactionId > id),
        `new id ${transactionId}, earlier ${earlier.join(', ')}`,
      );
    });
  });
});
