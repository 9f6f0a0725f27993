import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../../lib/clock';
import {
  type RepliedMessage,
  type SentMessage,
  SimulatedChargePoint,
  type SimulatedChargePointOptions,
} from '../../../lib/sim/charge-point';
import { CliError, HELP, parseCliArgs, runCli } from '../../../lib/sim/cli';
import { waitFor } from '../../support/events';
import {
  controlLoop,
  describeDraws,
  lineA,
  supplyLine,
  type WatchedCharger,
  watchLine,
} from '../../support/peer-site';
import { advance, allSessions, nextMessage, recordMessages, urlOf, useInterop } from '../interop/support';
import { TestCsms201 } from './csms201';

/**
 * The simulator speaking OCPP 2.0.1 (`ocppVersion: '2.0.1'`, `ampflow-sim --ocpp 2.0.1`): against
 * the package's central system, which serves 2.0.1 (sessions, the load manager and the profile
 * manager, remote start), against a bare 2.0.1 CSMS on ocpp-rpc's strict mode (the exact messages,
 * the 2.0.1 rules the translation keeps), and from the command line. Simulators run on a
 * ManualClock; where the load manager takes part, the central system and the managers share it.
 */

type Json = Record<string, unknown>;

const V201: Partial<SimulatedChargePointOptions> = { ocppVersion: '2.0.1' };

/** A simulator as the car-park helpers watch it: `change` when a draw may have changed, `reported` after an answer. */
function watched(cp: SimulatedChargePoint): WatchedCharger {
  const events = new EventEmitter();
  cp.on('status', () => events.emit('change'));
  cp.on('replied', () => events.emit('change'));
  cp.on('result', () => events.emit('reported'));
  return {
    identity: cp.identity,
    hasConnector: (id) => id >= 1 && id <= cp.connectorCount,
    drawA: (id) => cp.connector(id).currentA,
    offeredA: (id) => cp.connector(id).offeredA,
    statusOf: (id) => cp.connector(id).status,
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
  };
}

/** The raw 2.0.1 requests among the central system's messages, each once (one may become several shared messages). */
function raw201(
  messages: readonly { ocpp?: { action: string; request: unknown } }[],
  action: string,
): Json[] {
  return [...new Set(messages.filter((m) => m.ocpp?.action === action).map((m) => m.ocpp?.request as Json))];
}

describe('SimulatedChargePoint speaking OCPP 2.0.1', () => {
  describe('against the central system', () => {
    const interop = useInterop();

    /** Warnings and errors the central system logged (a 2.0.1 message it found wrong, ...). */
    const complaints = () => interop.harness().log.lines.filter((line) => line.level !== 'info');

    it('boots as an OCPP 2.0.1 charging station and reports its EVSE', async () => {
      const cs = await interop.harness().centralSystem();
      const messages = recordMessages(cs);
      const { cp } = interop.simulator(cs, 'SIM201-1', { ...V201, chargePointSerialNumber: 'SN-201' });
      const boot = await cp.connect();
      assert.equal(boot?.status, 'Accepted');
      assert.equal(cp.protocol, 'ocpp2.0.1');
      assert.equal(cs.chargePoint('SIM201-1')?.protocol, 'ocpp2.0.1');
      assert.equal(cs.bootOf('SIM201-1')?.chargePointSerialNumber, 'SN-201');
      await cp.whenIdle();
      const [raw] = raw201(messages, 'BootNotification');
      assert.deepEqual(raw, {
        chargingStation: {
          vendorName: 'ampflow',
          model: 'SimCharger',
          serialNumber: 'SN-201',
          firmwareVersion: '1.0.0',
        },
        reason: 'PowerUp',
      });
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Available');
      assert.deepEqual(complaints(), []);
    });

    it('runs a car session: start, meter values, stop, recorded with the charger transaction id', async () => {
      const cs = await interop.harness().centralSystem();
      const { cp, clock } = interop.simulator(cs, 'SIM201-1', {
        ...V201,
        connectors: [{ initialEnergyWh: 5000 }],
        configuration: { MeterValueSampleInterval: 60 },
      });
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16, capacityKWh: 100, socPercent: 10 });
      const assigned = waitFor<[{ transactionId: number }]>(cp, 'transactionId');
      await cp.startTransaction(1, 'TAG-1');
      const [{ transactionId }] = await assigned;
      const chargerTransactionId = cp.transactionId201(transactionId);
      assert.match(chargerTransactionId ?? '', /^[0-9a-f-]{36}$/);
      await cp.whenIdle();
      assert.equal(cs.connectorOf('SIM201-1', 1)?.transaction?.idTag, 'TAG-1');

      // Half an hour at 16 A on three phases: 5 520 Wh, a TransactionEvent Updated every minute.
      await advance(cp, clock, 1_800_000, 60_000);
      const state = cs.connectorOf('SIM201-1', 1);
      assert.equal(state?.status, 'Charging');
      assert.deepEqual(state?.currentA, [16, 16, 16]);
      assert.equal(state?.energyWh, 5000 + 5520);

      const stopped = nextMessage(cs, 'StopTransaction');
      await cp.stopTransaction(1);
      await stopped;
      await cp.whenIdle();
      cp.unplug(1);
      await cp.whenIdle();
      const sessions = await allSessions(cs);
      assert.equal(sessions.length, 1);
      const [session] = sessions;
      assert.equal(session?.chargerTransactionId, chargerTransactionId);
      assert.equal(session?.idTag, 'TAG-1');
      assert.equal(session?.meterStartWh, 5000);
      assert.equal(session?.meterStopWh, 10_520);
      assert.equal(session?.energyWh, 5520);
      assert.equal(session?.stopReason, 'Local');
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Available');
      assert.deepEqual(complaints(), []);
    });

    it('shares a supply line with an OCPP 1.6 simulator under the load manager', async function () {
      this.timeout(20_000);
      const clock = new ManualClock();
      const cs = await interop.harness().centralSystem({ clock });
      const loop = controlLoop(cs, supplyLine(['SIM16-1', 'SIM201-1'], 32), clock, { clock });
      interop.track({ close: () => loop.stop() });
      const cp16 = interop.simulator(cs, 'SIM16-1', { clock }).cp;
      const cp201 = interop.simulator(cs, 'SIM201-1', { ...V201, clock }).cp;
      const sims = [cp16, cp201];
      const all = sims.map(watched);
      const watch = watchLine(all);
      interop.track({ close: async () => watch.stop() });
      /** Time moves a second at a time, everything answered in between, until `done` holds. */
      const runUntil = async (done: () => boolean, maxS: number) => {
        for (let s = 0; ; s++) {
          for (let round = 0; round < 3; round++) {
            for (const cp of sims) {
              await loop.profiles.whenSettled(cp.identity);
              await cp.whenIdle();
            }
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (done()) return;
          if (s >= maxS) assert.fail(`not within ${maxS} s: ${describeDraws(all)}`);
          clock.advance(1000);
        }
      };
      await cp16.connect();
      await cp201.connect();
      cp16.plugIn(1, { maxCurrentA: 32 });
      cp201.plugIn(1, { maxCurrentA: 32 });
      await cp16.startTransaction(1, 'TAG-16');
      await cp201.startTransaction(1, 'TAG-201');

      // Both charge, half the line each; the line never carries more than it may.
      const drawA = (cp: SimulatedChargePoint) => cp.connector(1).currentA[0];
      await runUntil(() => drawA(cp16) === 16 && drawA(cp201) === 16, 120);
      assert.ok(lineA(all).every((a) => a <= 32));
      assert.equal(cs.chargePoint('SIM201-1')?.protocol, 'ocpp2.0.1');
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Charging');

      // The 1.6 car leaves: the 2.0.1 car gets the whole line (its TxProfile names the 2.0.1 id).
      await cp16.stopTransaction(1);
      cp16.unplug(1);
      await runUntil(() => drawA(cp201) === 32, 120);
      const txProfile = cp201.chargingProfiles.find(
        ({ profile }) => profile.chargingProfilePurpose === 'TxProfile',
      );
      const txId = cp201.connector(1).transaction?.transactionId;
      assert.equal(txProfile?.profile.transactionId, txId);
      assert.ok(watch.highestA <= 32, `at one moment ${watch.highestA} A: ${watch.at}`);

      await cp201.stopTransaction(1);
      await cp201.whenIdle();
      const sessions = await allSessions(cs);
      const ours = sessions.find((session) => session.chargePointId === 'SIM201-1');
      assert.equal(ours?.chargerTransactionId, cp201.transactionId201(txId as number));
      assert.ok((ours?.energyWh ?? 0) > 0);
      assert.deepEqual(loop.feedErrors, []);
      assert.deepEqual(complaints(), []);
    });

    it('starts a session on RemoteStartTransaction and stops it on RemoteStopTransaction', async () => {
      const cs = await interop.harness().centralSystem();
      const messages = recordMessages(cs);
      const { cp } = interop.simulator(cs, 'SIM201-1', V201);
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.whenIdle();
      const started = nextMessage(cs, 'StartTransaction');
      const answer = await cs.call('SIM201-1', 'RemoteStartTransaction', {
        connectorId: 1,
        idTag: 'REMOTE-1',
      });
      assert.equal(answer.status, 'Accepted');
      await started;
      await cp.whenIdle();
      const [start] = raw201(messages, 'TransactionEvent').filter((e) => e.eventType === 'Started');
      assert.equal(start?.triggerReason, 'RemoteStart');
      assert.equal(typeof (start?.transactionInfo as Json | undefined)?.remoteStartId, 'number');
      assert.deepEqual(start?.idToken, { idToken: 'REMOTE-1', type: 'Central' });
      const [open] = cs.openTransactions().filter((tx) => tx.chargePointId === 'SIM201-1');
      assert.equal(open?.idTag, 'REMOTE-1');
      assert.equal(cp.connector(1).status, 'Charging');

      const stopped = nextMessage(cs, 'StopTransaction');
      const stop = await cs.call('SIM201-1', 'RemoteStopTransaction', {
        transactionId: open?.transactionId as number,
      });
      assert.equal(stop.status, 'Accepted');
      await stopped;
      await cp.whenIdle();
      const [end] = raw201(messages, 'TransactionEvent').filter((e) => e.eventType === 'Ended');
      assert.equal(end?.triggerReason, 'RemoteStop');
      assert.equal((end?.transactionInfo as Json | undefined)?.stoppedReason, 'Remote');
      const [session] = await allSessions(cs);
      assert.equal(session?.stopReason, 'Remote');
      assert.equal(session?.idTag, 'REMOTE-1');
      assert.deepEqual(complaints(), []);
    });

    it("answers the central system's commands through the device model and its 1.6 handlers", async () => {
      const cs = await interop.harness().centralSystem();
      const { cp, clock } = interop.simulator(cs, 'SIM201-1', { ...V201, rebootDelayS: 5 });
      await cp.connect();
      await cp.whenIdle();

      const config = await cs.call('SIM201-1', 'GetConfiguration', {
        key: ['HeartbeatInterval', 'ChargingScheduleAllowedChargingRateUnit', 'MeterValueSampleInterval'],
      });
      assert.deepEqual(
        Object.fromEntries((config.configurationKey ?? []).map((entry) => [entry.key, entry.value])),
        {
          HeartbeatInterval: '300',
          ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
          MeterValueSampleInterval: '60',
        },
      );
      assert.equal(
        (await cs.call('SIM201-1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '15' }))
          .status,
        'Accepted',
      );
      assert.equal(cp.configuration.get('MeterValueSampleInterval'), '15');

      const profile = {
        chargingProfileId: 11,
        stackLevel: 1,
        chargingProfilePurpose: 'TxDefaultProfile' as const,
        chargingProfileKind: 'Absolute' as const,
        chargingSchedule: {
          startSchedule: new Date(clock.now()).toISOString(),
          chargingRateUnit: 'A' as const,
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
        },
      };
      assert.equal(
        (await cs.call('SIM201-1', 'SetChargingProfile', { connectorId: 1, csChargingProfiles: profile }))
          .status,
        'Accepted',
      );
      const composite = await cs.call('SIM201-1', 'GetCompositeSchedule', {
        connectorId: 1,
        duration: 600,
        chargingRateUnit: 'A',
      });
      assert.equal(composite.status, 'Accepted');
      assert.deepEqual(composite.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 10 }]);
      assert.equal((await cs.call('SIM201-1', 'ClearChargingProfile', { id: 11 })).status, 'Accepted');
      assert.deepEqual(cp.chargingProfiles, []);

      const unavailable = waitFor(
        cp,
        'result',
        (m: { action: string; request: Json }) =>
          m.action === 'StatusNotification' && m.request.status === 'Unavailable',
      );
      assert.equal(
        (await cs.call('SIM201-1', 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).status,
        'Accepted',
      );
      await unavailable;
      assert.equal(cs.connectorOf('SIM201-1', 1)?.status, 'Unavailable');
      assert.equal(
        (await cs.call('SIM201-1', 'ChangeAvailability', { connectorId: 0, type: 'Operative' })).status,
        'Accepted',
      );
      assert.equal((await cs.call('SIM201-1', 'UnlockConnector', { connectorId: 1 })).status, 'Unlocked');
      assert.equal(
        (await cs.call('SIM201-1', 'DataTransfer', { vendorId: 'com.example' })).status,
        'UnknownVendorId',
      );
      // Checked at the simulator: its 1.6 handler's answer (the central system hands on the
      // 2.0.1 answer, versionNumber, as it came).
      const listVersion = waitFor<[RepliedMessage]>(cp, 'replied', (m) => m.action === 'GetLocalListVersion');
      await cs.call('SIM201-1', 'GetLocalListVersion', {});
      assert.deepEqual((await listVersion)[0].response, { listVersion: 0 });
      assert.equal(
        (
          await cs.call('SIM201-1', 'SendLocalList', {
            listVersion: 3,
            updateType: 'Full',
            localAuthorizationList: [{ idTag: 'LISTED', idTagInfo: { status: 'Accepted' } }],
          })
        ).status,
        'Accepted',
      );
      assert.equal(cp.localAuthorizationList.entries.get('LISTED')?.status, 'Accepted');
      const expiryDate = new Date(clock.now() + 3_600_000).toISOString();
      assert.equal(
        (
          await cs.call('SIM201-1', 'ReserveNow', {
            connectorId: 1,
            expiryDate,
            idTag: 'R-1',
            reservationId: 7,
          })
        ).status,
        'Accepted',
      );
      assert.equal(cp.connector(1).status, 'Reserved');
      assert.equal((await cs.call('SIM201-1', 'CancelReservation', { reservationId: 7 })).status, 'Accepted');

      const triggered = waitFor(cp, 'result', (m: { action: string }) => m.action === 'StatusNotification');
      assert.equal(
        (
          await cs.call('SIM201-1', 'TriggerMessage', {
            requestedMessage: 'StatusNotification',
            connectorId: 1,
          })
        ).status,
        'Accepted',
      );
      await triggered;

      // A hard reset is Reset Immediate: the charger reboots and says why.
      const rebooted = waitFor(cp, 'rebooting');
      assert.equal((await cs.call('SIM201-1', 'Reset', { type: 'Hard' })).status, 'Accepted');
      await rebooted;
      const booted = nextMessage(cs, 'BootNotification');
      clock.advance(5000);
      const boot = await booted;
      assert.equal((boot.ocpp?.request as Json | undefined)?.reason, 'RemoteReset');
      assert.deepEqual(complaints(), []);
    });
  });

  describe('against a bare OCPP 2.0.1 CSMS (ocpp-rpc strict mode)', () => {
    let csms: TestCsms201 | undefined;
    const made: SimulatedChargePoint[] = [];
    beforeEach(async () => {
      csms = await TestCsms201.start();
    });
    afterEach(async () => {
      for (const cp of made.splice(0)) await cp.close();
      await csms?.close();
    });
    const server = () => csms as TestCsms201;
    const simulator = (options: Partial<SimulatedChargePointOptions> = {}) => {
      const clock = new ManualClock();
      const cp = new SimulatedChargePoint({
        ...V201,
        centralSystemUrl: server().url,
        identity: 'SIM201-1',
        clock,
        ...options,
        configuration: { WebSocketPingInterval: 0, ...options.configuration },
      });
      made.push(cp);
      return { cp, clock };
    };

    it('sends a session as TransactionEvents: Started, ChargingStateChanged, periodic values, Ended', async () => {
      const { cp, clock } = simulator({
        connectors: [{ initialEnergyWh: 1000 }],
        configuration: {
          MeterValueSampleInterval: 60,
          MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import,Temperature',
        },
      });
      const sent: SentMessage[] = [];
      cp.on('sent', (message) => sent.push(message));
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.startTransaction(1, 'TAG-1');
      await advance(cp, clock, 120_000, 60_000);
      await cp.stopTransaction(1);
      await cp.whenIdle();
      cp.unplug(1);
      await cp.whenIdle();
      const csmsNow = server();
      const events = csmsNow.messages('TransactionEvent');
      const id = cp.transactionId201(cp.connector(1).transaction?.transactionId ?? 1);
      assert.deepEqual(
        events.map((e) => [e.seqNo, e.eventType, e.triggerReason, (e.transactionInfo as Json).chargingState]),
        [
          [0, 'Started', 'Authorized', 'EVConnected'],
          [1, 'Updated', 'ChargingStateChanged', 'Charging'],
          [2, 'Updated', 'MeterValuePeriodic', undefined],
          [3, 'Updated', 'MeterValuePeriodic', undefined],
          [4, 'Ended', 'StopAuthorized', 'EVConnected'],
        ],
      );
      assert.ok(events.every((e) => (e.transactionInfo as Json).transactionId === id));
      const [started, , periodic, , ended] = events;
      assert.deepEqual(started?.evse, { id: 1, connectorId: 1 });
      assert.deepEqual(started?.idToken, { idToken: 'TAG-1', type: 'ISO14443' });
      assert.deepEqual(started?.meterValue, [
        {
          timestamp: '2026-01-01T00:00:00.000Z',
          sampledValue: [
            {
              value: 1000,
              context: 'Transaction.Begin',
              measurand: 'Energy.Active.Import.Register',
              unitOfMeasure: { unit: 'Wh' },
            },
          ],
        },
      ]);
      // Numbers with a unit of measure; Temperature is no 2.0.1 measurand and stays out.
      const sampled = ((periodic?.meterValue as Json[] | undefined)?.[0]?.sampledValue ?? []) as Json[];
      assert.deepEqual(
        sampled.map((v) => [v.measurand, v.phase, v.value, (v.unitOfMeasure as Json | undefined)?.unit]),
        [
          ['Energy.Active.Import.Register', undefined, 1184, 'Wh'],
          ['Current.Import', 'L1', 16, 'A'],
          ['Current.Import', 'L2', 16, 'A'],
          ['Current.Import', 'L3', 16, 'A'],
        ],
      );
      assert.deepEqual(ended?.transactionInfo, {
        transactionId: id,
        stoppedReason: 'Local',
        chargingState: 'EVConnected',
      });
      assert.deepEqual(ended?.idToken, { idToken: 'TAG-1', type: 'ISO14443' });
      const endValues = ended?.meterValue as Json[];
      assert.equal((endValues.at(-1)?.sampledValue as Json[] | undefined)?.[0]?.value, 1368);
      assert.deepEqual(
        csmsNow
          .messages('StatusNotification')
          .map((s) => `${s.evseId}/${s.connectorId}:${s.connectorStatus}`),
        ['1/1:Available', '1/1:Occupied', '1/1:Available'],
      );
      // The simulator's own messages, as its events tell them: Charging went out as the TransactionEvent
      // alone, Finishing not at all (the connector was Occupied already, the transaction over).
      assert.deepEqual(
        sent.map((m) =>
          m.action === 'StatusNotification' ? `${m.request.connectorId}:${m.request.status}` : m.action,
        ),
        [
          'BootNotification',
          '1:Available',
          '1:Preparing',
          'Authorize',
          'StartTransaction',
          '1:Charging',
          'MeterValues',
          'MeterValues',
          'StopTransaction',
          '1:Available',
        ],
      );
      csmsNow.assertStrict();
    });

    it('keeps the 2.0.1 rules where they differ and refuses validly what it has no model of', async () => {
      const csmsNow = server();
      const { cp } = simulator();
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const id = cp.transactionId201(cp.connector(1).transaction?.transactionId as number) as string;
      const call = (action: string, params: Json) => csmsNow.call('SIM201-1', action, params);

      // F05.FR.02: no unlocking during a transaction.
      assert.deepEqual(await call('UnlockConnector', { evseId: 1, connectorId: 1 }), {
        status: 'OngoingAuthorizedTransaction',
      });
      assert.deepEqual(await call('UnlockConnector', { evseId: 2, connectorId: 1 }), {
        status: 'UnknownConnector',
      });
      assert.deepEqual(await call('GetTransactionStatus', { transactionId: id }), {
        messagesInQueue: false,
        ongoingIndicator: true,
      });
      assert.deepEqual(await call('RequestStopTransaction', { transactionId: 'no-such-transaction' }), {
        status: 'Rejected',
      });

      const variables = await call('GetVariables', {
        getVariableData: [
          { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
          { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'RateUnit' } },
          { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'NoSuchVariable' } },
          { component: { name: 'NoSuchCtrlr' }, variable: { name: 'Enabled' } },
          { component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } },
          {
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'HeartbeatInterval' },
            attributeType: 'MaxSet',
          },
        ],
      });
      assert.deepEqual(
        (variables.getVariableResult as Json[]).map((r) => [r.attributeStatus, r.attributeValue]),
        [
          ['Accepted', '300'],
          ['Accepted', 'A,W'],
          ['UnknownVariable', undefined],
          ['UnknownComponent', undefined],
          ['Rejected', undefined],
          ['NotSupportedAttributeType', undefined],
        ],
      );
      const set = await call('SetVariables', {
        setVariableData: [
          {
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'HeartbeatInterval' },
            attributeValue: '120',
          },
          { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'RateUnit' }, attributeValue: 'A' },
          {
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'HeartbeatInterval' },
            attributeValue: 'soon',
          },
        ],
      });
      assert.deepEqual(
        (set.setVariableResult as Json[]).map((r) => r.attributeStatus),
        ['Accepted', 'Rejected', 'Rejected'],
      );
      assert.equal(cp.configuration.get('HeartbeatInterval'), '120');

      // A TxProfile for the 2.0.1 id reaches the simulator's transaction; external constraints have no 1.6 counterpart.
      const schedule = [
        { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8.55 }] },
      ];
      const txProfile = {
        id: 5,
        stackLevel: 0,
        chargingProfilePurpose: 'TxProfile',
        chargingProfileKind: 'Relative',
        transactionId: id,
        chargingSchedule: schedule,
      };
      assert.deepEqual(await call('SetChargingProfile', { evseId: 1, chargingProfile: txProfile }), {
        status: 'Accepted',
      });
      assert.equal(cp.connector(1).offeredA, 8.5);
      const external = {
        ...txProfile,
        id: 6,
        chargingProfilePurpose: 'ChargingStationExternalConstraints',
        transactionId: undefined,
      };
      assert.deepEqual(await call('SetChargingProfile', { evseId: 0, chargingProfile: external }), {
        status: 'Rejected',
      });
      const composite = await call('GetCompositeSchedule', {
        evseId: 1,
        duration: 300,
        chargingRateUnit: 'A',
      });
      assert.equal(composite.status, 'Accepted');
      assert.deepEqual((composite.schedule as Json).chargingSchedulePeriod, [{ startPeriod: 0, limit: 8.5 }]);
      assert.equal((composite.schedule as Json).evseId, 1);

      // TriggerMessage: TransactionEvent is the running transaction's values as an Updated, MeterValues a MeterValues.
      const updated = csmsNow.next('TransactionEvent', (e) => e.triggerReason === 'Trigger');
      assert.deepEqual(
        await call('TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } }),
        { status: 'Accepted' },
      );
      assert.equal(((await updated).transactionInfo as Json).transactionId, id);
      const meterValues = csmsNow.next('MeterValues');
      assert.deepEqual(await call('TriggerMessage', { requestedMessage: 'MeterValues', evse: { id: 1 } }), {
        status: 'Accepted',
      });
      assert.equal((await meterValues).evseId, 1);
      assert.deepEqual(await call('TriggerMessage', { requestedMessage: 'SignV2GCertificate' }), {
        status: 'NotImplemented',
      });

      const vendor = {
        vendorId: 'com.example',
        data: { any: ['json'] },
        customData: { vendorId: 'com.example' },
      };
      assert.deepEqual(await call('DataTransfer', vendor), { status: 'UnknownVendorId' });
      assert.deepEqual(await call('GetBaseReport', { requestId: 1, reportBase: 'FullInventory' }), {
        status: 'NotSupported',
      });
      assert.equal(
        await csmsNow.callError('SIM201-1', 'GetChargingProfiles', { requestId: 2, chargingProfile: {} }),
        'NotSupported',
      );
      assert.deepEqual(await call('Reset', { type: 'Immediate', evseId: 1 }), { status: 'Rejected' });

      // The stop: RequestStopTransaction by the 2.0.1 id.
      const ended = csmsNow.next('TransactionEvent', (e) => e.eventType === 'Ended');
      assert.deepEqual(await call('RequestStopTransaction', { transactionId: id }), { status: 'Accepted' });
      assert.equal(((await ended).transactionInfo as Json as Json).stoppedReason, 'Remote');
      await cp.whenIdle();
      csmsNow.assertStrict();
    });

    it('resets OnIdle once the transaction has ended (Scheduled), Immediate at once', async () => {
      const csmsNow = server();
      const { cp, clock } = simulator({ rebootDelayS: 5 });
      const call = (action: string, params: Json) => csmsNow.call('SIM201-1', action, params);
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      assert.deepEqual(await call('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
      await cp.whenIdle();
      assert.ok(cp.connector(1).transaction, 'the transaction goes on');
      const rebooting = waitFor(cp, 'rebooting');
      await cp.stopTransaction(1);
      await rebooting;
      const booted = csmsNow.next('BootNotification');
      const accepted = waitFor(cp, 'boot');
      clock.advance(5000);
      assert.equal((await booted).reason, 'RemoteReset');
      await accepted;
      await cp.whenIdle();

      await cp.startTransaction(1, 'TAG-2');
      await cp.whenIdle();
      const ended = csmsNow.next('TransactionEvent', (e) => e.eventType === 'Ended');
      const rebootingAgain = waitFor(cp, 'rebooting');
      assert.deepEqual(await call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
      await rebootingAgain;
      clock.advance(5000);
      const end = await ended;
      assert.deepEqual(
        [(end.transactionInfo as Json).stoppedReason, end.triggerReason],
        ['ImmediateReset', 'ResetCommand'],
      );
      await cp.whenIdle();
      csmsNow.assertStrict();
    });

    it('reports log uploads, firmware, security events and certificate requests in 2.0.1 shapes', async () => {
      const csmsNow = server();
      const { cp, clock } = simulator({ fileTransferS: 1, firmwareInstallS: 1, rebootDelayS: 1 });
      const call = (action: string, params: Json) => csmsNow.call('SIM201-1', action, params);
      await cp.connect();
      const log = { remoteLocation: 'https://example.com/logs' };
      const logAnswer = await call('GetLog', { logType: 'SecurityLog', requestId: 21, log });
      assert.equal(logAnswer.status, 'Accepted');
      await advance(cp, clock, 1000);
      assert.deepEqual(csmsNow.messages('LogStatusNotification'), [
        { status: 'Uploading', requestId: 21 },
        { status: 'Uploaded', requestId: 21 },
      ]);

      const retrieveDateTime = new Date(clock.now()).toISOString();
      const firmware = { location: 'https://example.com/fw-2.0.bin', retrieveDateTime };
      assert.deepEqual(await call('UpdateFirmware', { requestId: 22, firmware }), { status: 'Accepted' });
      const installed = csmsNow.next('FirmwareStatusNotification', (m) => m.status === 'Installed');
      const booted = csmsNow.next('BootNotification');
      await advance(cp, clock, 4000, 1000);
      assert.equal((await booted).reason, 'FirmwareUpdate');
      await installed;
      assert.deepEqual(
        csmsNow.messages('FirmwareStatusNotification').map((m) => `${m.status}#${m.requestId}`),
        ['Downloading#22', 'Downloaded#22', 'Installing#22', 'Installed#22'],
      );
      assert.equal(cp.firmware, 'fw-2.0');

      cp.securityEvent('SettingSystemTime', 'set by the test');
      await cp.whenIdle();
      assert.deepEqual(csmsNow.messages('SecurityEventNotification').at(-1), {
        type: 'SettingSystemTime',
        timestamp: new Date(clock.now()).toISOString(),
        techInfo: 'set by the test',
      });

      // A certificate needs the organization (SecurityCtrlr.OrganizationName, 1.6's CpoName).
      const name = { component: { name: 'SecurityCtrlr' }, variable: { name: 'OrganizationName' } };
      const setName = await call('SetVariables', {
        setVariableData: [{ ...name, attributeValue: 'ampflow' }],
      });
      assert.equal((setName.setVariableResult as Json[])[0]?.attributeStatus, 'Accepted');
      const signing = csmsNow.next('SignCertificate');
      const trigger = await call('TriggerMessage', { requestedMessage: 'SignChargingStationCertificate' });
      assert.deepEqual(trigger, { status: 'Accepted' });
      const request = await signing;
      assert.equal(request.certificateType, 'ChargingStationCertificate');
      assert.match(String(request.csr), /BEGIN CERTIFICATE REQUEST/);
      await cp.whenIdle();
      csmsNow.assertStrict();
    });

    it('sends what happened offline marked offline, in order, once back', async () => {
      const csmsNow = server();
      const { cp, clock } = simulator({
        configuration: { MeterValueSampleInterval: 60 },
        reconnect: { initialDelayS: 90 },
      });
      await cp.connect();
      cp.plugIn(1, { maxCurrentA: 16 });
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const gone = waitFor(cp, 'disconnected');
      cp.dropConnection();
      await gone;
      // The values of minute 1 wait in the queue; at 1.5 minutes the charger is back.
      clock.advance(60_000);
      const back = waitFor(cp, 'connected');
      clock.advance(30_000);
      await back;
      await cp.whenIdle();
      await cp.stopTransaction(1);
      await cp.whenIdle();
      const events = csmsNow.messages('TransactionEvent');
      assert.deepEqual(
        events.map((e) => [e.seqNo, e.eventType, e.offline ?? false]),
        [
          [0, 'Started', false],
          [1, 'Updated', false],
          [2, 'Updated', true],
          [3, 'Ended', false],
        ],
      );
      csmsNow.assertStrict();
    });

    it('puts its CALLERRORs in 2.0.1 spelling', async () => {
      const csmsNow = server();
      const { cp } = simulator();
      await cp.connect();
      // A ChangeAvailability whose evse lacks its id: OccurrenceConstraintViolation (2.0.1 spelling).
      const client = csmsNow.clients.get('SIM201-1');
      const code = await new Promise<string>((resolve) => {
        client?.sendRaw(
          JSON.stringify([2, 'x1', 'ChangeAvailability', { operationalStatus: 'Operative', evse: {} }]),
        );
        const onMessage = ({ message, outbound }: { message: Buffer | string; outbound: boolean }) => {
          const frame = JSON.parse(String(message));
          if (outbound || frame[0] !== 4 || frame[1] !== 'x1') return;
          client?.off('message', onMessage);
          resolve(frame[2]);
        };
        client?.on('message', onMessage);
      });
      assert.equal(code, 'OccurrenceConstraintViolation');
    });

    it('does not talk to a central system that does not agree to OCPP 2.0.1', async () => {
      await server().close();
      csms = await TestCsms201.start(['ocpp1.6']);
      const { cp } = simulator();
      const failed = waitFor<[Error]>(cp, 'connectFailed');
      await assert.rejects(cp.connect());
      const [error] = await failed;
      // ws refuses an upgrade without the sub-protocol offered.
      assert.match(error.message, /no subprotocol/);
    });
  });

  describe('ampflow-sim --ocpp', () => {
    const interop = useInterop();

    it('parses the version, a list of them, and refuses others', () => {
      const parse = (...args: string[]) => parseCliArgs(['--url', 'ws://host:9000/', ...args]);
      assert.deepEqual((parse('--ocpp', '2.0.1') as { ocppVersions?: string[] }).ocppVersions, ['2.0.1']);
      assert.deepEqual((parse('--ocpp', '1.6,ocpp2.0.1') as { ocppVersions?: string[] }).ocppVersions, [
        '1.6',
        '2.0.1',
      ]);
      assert.equal('ocppVersions' in (parse() as object), false);
      assert.equal(parseCliArgs(['--ocpp', '2.0.1', '--help']), 'help');
      for (const bad of ['2.1', '', '1.5']) {
        assert.throws(
          () => parse('--ocpp', bad),
          (err) => err instanceof CliError && err.option === '--ocpp',
        );
      }
      assert.ok(HELP.includes('  --ocpp <version>'));
    });

    it('runs a mixed site: OCPP 1.6 and 2.0.1 chargers in turn', async function () {
      this.timeout(10_000);
      const cs = await interop.harness().centralSystem();
      const out: string[] = [];
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let accepted = 0;
      const code = await runCli(
        [
          '--url',
          urlOf(cs),
          '--count',
          '2',
          '--prefix',
          'MIX-',
          '--ocpp',
          '1.6,2.0.1',
          '--session-minutes',
          '0',
          '--quirk',
          'celciusSpelling',
        ],
        {
          out: (line) => {
            out.push(line);
            if (/BootNotification Accepted/.test(line) && ++accepted === 2) stop();
          },
          err: (line) => out.push(`ERR ${line}`),
          stopped,
        },
      );
      assert.equal(code, 0);
      assert.match(out[0] ?? '', /2 charge point\(s\) MIX-1\.\.MIX-2 -> .* \(OCPP 1\.6, 2\.0\.1\)/);
      assert.ok(out.some((line) => /MIX-1 connected \(sub-protocol "ocpp1\.6"\)/.test(line)));
      assert.ok(out.some((line) => /MIX-2 connected \(sub-protocol "ocpp2\.0\.1"\)/.test(line)));
      assert.match(out.at(-1) ?? '', /2 accepted/);
      assert.ok(out.includes('ampflow-sim: --quirk applies to the OCPP 1.6 chargers only'));
    });
  });
});
