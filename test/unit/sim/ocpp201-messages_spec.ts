import assert from 'node:assert/strict';
import type { SentMessage } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { advance } from '../interop/support';
import { useBareCsms201 } from './csms201';

/**
 * The simulator speaking OCPP 2.0.1, message by message, against a bare 2.0.1 CSMS on ocpp-rpc's
 * strict mode (not the package's central system): a session as TransactionEvents, the reports of
 * logs, firmware, security events and certificates, what happened offline, its CALLERRORs, and the
 * handshake. Simulators run on a ManualClock.
 */

type Json = Record<string, unknown>;

describe('SimulatedChargePoint speaking OCPP 2.0.1', () => {
  describe('against a bare OCPP 2.0.1 CSMS (ocpp-rpc strict mode)', () => {
    const { server, simulator, restart } = useBareCsms201();

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
      await restart(['ocpp1.6']);
      const { cp } = simulator();
      const failed = waitFor<[Error]>(cp, 'connectFailed');
      await assert.rejects(cp.connect());
      const [error] = await failed;
      // ws refuses an upgrade without the sub-protocol offered.
      assert.match(error.message, /no subprotocol/);
    });
  });
});
