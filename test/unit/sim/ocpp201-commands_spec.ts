import assert from 'node:assert/strict';
import type { RepliedMessage, SimulatedChargePointOptions } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { nextMessage, useInterop } from '../interop/support';
import { useBareCsms201 } from './csms201';

/**
 * The simulator speaking OCPP 2.0.1 takes a CSMS's commands through its device model and its 1.6
 * handlers: against the package's central system, and against a bare 2.0.1 CSMS on ocpp-rpc's
 * strict mode for the 2.0.1 rules the translation keeps where they differ from 1.6 (and the valid
 * refusals of what it has no model of). Simulators run on a ManualClock.
 */

type Json = Record<string, unknown>;

const V201: Partial<SimulatedChargePointOptions> = { ocppVersion: '2.0.1' };

describe('SimulatedChargePoint speaking OCPP 2.0.1', () => {
  describe('against the central system', () => {
    const interop = useInterop();

    /** Warnings and errors the central system logged (a 2.0.1 message it found wrong, ...). */
    const complaints = () => interop.harness().log.lines.filter((line) => line.level !== 'info');

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
    const { server, simulator } = useBareCsms201();

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
  });
});
