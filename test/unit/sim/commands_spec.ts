import assert from 'node:assert/strict';
import type { SendLocalListRequest } from '../../../lib/ocpp/messages';
import type { SimulatedChargePointOptions } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { advance, type Simulated, useSimulators } from './harness';

type Status = NonNullable<
  NonNullable<SendLocalListRequest['localAuthorizationList']>[number]['idTagInfo']
>['status'];

const at = (clockMs: number, offsetS: number) => new Date(clockMs + offsetS * 1000).toISOString();

describe('SimulatedChargePoint: central-system commands', () => {
  const sims = useSimulators({ assertStrict: true });

  /** The simulator with two connectors, connected and idle. */
  async function start(options: Partial<SimulatedChargePointOptions> = {}): Promise<Simulated> {
    const sim = await sims.connected({ connectors: 2, ...options });
    await sim.cp.whenIdle();
    return sim;
  }

  describe('RemoteStartTransaction / RemoteStopTransaction', () => {
    it('starts at once on a connector with an EV, without Authorize by default', async () => {
      const { cs, cp } = await start();
      cp.plugIn(2, {});
      const started = cs.next('StartTransaction');
      assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { idTag: 'APP-1' }), {
        status: 'Accepted',
      });
      assert.deepEqual(await started, {
        connectorId: 2,
        idTag: 'APP-1',
        meterStart: 0,
        timestamp: '2026-01-01T00:00:00.000Z',
      });
      await cp.whenIdle();
      assert.equal(cs.messages('Authorize').length, 0);
      const stop = cs.next('StopTransaction');
      assert.deepEqual(await cs.call('CP1', 'RemoteStopTransaction', { transactionId: 1000 }), {
        status: 'Accepted',
      });
      const stopped = await stop;
      assert.equal(stopped.reason, 'Remote');
      assert.equal(stopped.transactionId, 1000);
      assert.deepEqual(await cs.call('CP1', 'RemoteStopTransaction', { transactionId: 1000 }), {
        status: 'Rejected',
      });
    });

    it('authorizes first with AuthorizeRemoteTxRequests, and waits for the EV up to ConnectionTimeOut', async () => {
      const { cs, cp, clock } = await start({
        configuration: { AuthorizeRemoteTxRequests: true, ConnectionTimeOut: 90 },
      });
      assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP-1' }), {
        status: 'Accepted',
      });
      await waitFor(
        cp,
        'status',
        (s: { connectorId: number; status: string }) => s.connectorId === 1 && s.status === 'Preparing',
      );
      assert.deepEqual(cs.messages('Authorize'), [{ idTag: 'APP-1' }]);
      clock.advance(89_000);
      const started = cs.next('StartTransaction');
      cp.plugIn(1, {});
      assert.equal((await started).idTag, 'APP-1');
    });

    it('is Rejected when no connector can start, or the named one does not exist', async () => {
      const { cs, cp } = await start({ connectors: 1 });
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'LOCAL');
      assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { idTag: 'APP-1' }), {
        status: 'Rejected',
      });
      assert.deepEqual(await cs.call('CP1', 'RemoteStartTransaction', { connectorId: 5, idTag: 'APP-1' }), {
        status: 'Rejected',
      });
    });

    it('applies the TxProfile of the request to the new transaction (5.16.2) and rejects other purposes', async () => {
      const { cs, cp } = await start();
      cp.plugIn(1, {});
      const profile = {
        chargingProfileId: 7,
        stackLevel: 0,
        chargingProfilePurpose: 'TxProfile' as const,
        chargingProfileKind: 'Relative' as const,
        chargingSchedule: {
          chargingRateUnit: 'A' as const,
          chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
        },
      };
      assert.deepEqual(
        await cs.call('CP1', 'RemoteStartTransaction', {
          idTag: 'APP-1',
          chargingProfile: { ...profile, chargingProfilePurpose: 'TxDefaultProfile' },
        }),
        { status: 'Rejected' },
      );
      const started = cs.next('StartTransaction');
      assert.deepEqual(
        await cs.call('CP1', 'RemoteStartTransaction', { idTag: 'APP-1', chargingProfile: profile }),
        {
          status: 'Accepted',
        },
      );
      await started;
      assert.equal(cp.connector(1).offeredA, 10);
      assert.equal(cp.chargingProfiles.length, 1);
      await cp.stopTransaction(1);
      // "After the transaction is stopped, the profile SHOULD be deleted" (3.13.1).
      assert.equal(cp.chargingProfiles.length, 0);
    });
  });

  describe('ChangeAvailability', () => {
    it('makes a connector Unavailable, schedules it during a transaction, and applies to all for connector 0', async () => {
      const { cs, cp } = await start();
      assert.deepEqual(await cs.call('CP1', 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), {
        status: 'Accepted',
      });
      assert.equal(cp.connector(1).status, 'Unavailable');
      assert.deepEqual(await cs.call('CP1', 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), {
        status: 'Accepted',
      });
      assert.deepEqual(await cs.call('CP1', 'ChangeAvailability', { connectorId: 3, type: 'Inoperative' }), {
        status: 'Rejected',
      });
      cp.plugIn(2, {});
      await cp.startTransaction(2, 'TAG');
      assert.deepEqual(await cs.call('CP1', 'ChangeAvailability', { connectorId: 0, type: 'Inoperative' }), {
        status: 'Scheduled',
      });
      assert.equal(cp.chargePointState, 'Unavailable');
      assert.equal(cp.connector(2).status, 'Charging');
      await cp.stopTransaction(2);
      cp.unplug(2);
      assert.equal(cp.connector(2).status, 'Unavailable');
      await assert.rejects(cp.startTransaction(2, 'TAG'), /Unavailable/);
      assert.deepEqual(await cs.call('CP1', 'ChangeAvailability', { connectorId: 0, type: 'Operative' }), {
        status: 'Accepted',
      });
      await cp.whenIdle();
      assert.deepEqual(
        cs
          .messages('StatusNotification')
          .slice(-3)
          .map((s) => `${s.connectorId}:${s.status}`),
        ['0:Available', '1:Available', '2:Available'],
      );
    });

    it('keeps Unavailable across a reset (5.2 "Persistent states")', async () => {
      const { cs, cp, clock } = await start({ rebootDelayS: 1 });
      await cs.call('CP1', 'ChangeAvailability', { connectorId: 2, type: 'Inoperative' });
      await cs.call('CP1', 'Reset', { type: 'Soft' });
      await waitFor(cp, 'disconnected');
      const booted = waitFor(cp, 'boot');
      clock.advance(1000);
      await booted;
      await cp.whenIdle();
      assert.equal(cs.messages('StatusNotification').at(-1)?.status, 'Unavailable');
      assert.equal(cp.connector(2).status, 'Unavailable');
    });
  });

  describe('Get/ChangeConfiguration, ClearCache, DataTransfer', () => {
    it('answers NotSupported, Rejected, RebootRequired and Accepted as 5.3 says, keys without regard to case', async () => {
      const { cs } = await start();
      const change = (key: string, value: string) => cs.call('CP1', 'ChangeConfiguration', { key, value });
      assert.deepEqual(await change('NoSuchKey', '1'), { status: 'NotSupported' });
      assert.deepEqual(await change('NumberOfConnectors', '4'), { status: 'Rejected' });
      assert.deepEqual(await change('MeterValueSampleInterval', 'soon'), { status: 'Rejected' });
      assert.deepEqual(await change('WebSocketPingInterval', '-1'), { status: 'Rejected' });
      assert.deepEqual(await change('MeterValuesSampledData', 'Energy.Active.Import.Register,RPM'), {
        status: 'Rejected',
      });
      assert.deepEqual(await change('meterValuessampleddata', 'Voltage.L1, Current.Import'), {
        status: 'Accepted',
      });
      assert.deepEqual(await change('StopTransactionOnInvalidId', 'TRUE'), { status: 'Accepted' });
      assert.deepEqual(await change('ConnectorPhaseRotation', '0.RST,1.RST,2.TRS'), {
        status: 'RebootRequired',
      });
      assert.deepEqual(await change('ConnectorPhaseRotation', '1.XYZ'), { status: 'Rejected' });
      const report = await cs.call('CP1', 'GetConfiguration', {
        key: ['MeterValuesSampledData', 'StopTransactionOnInvalidId', 'NumberOfConnectors', 'Bogus'],
      });
      assert.deepEqual(report, {
        configurationKey: [
          { key: 'MeterValuesSampledData', readonly: false, value: 'Voltage.L1,Current.Import' },
          { key: 'StopTransactionOnInvalidId', readonly: false, value: 'true' },
          { key: 'NumberOfConnectors', readonly: true, value: '2' },
        ],
        unknownKey: ['Bogus'],
      });
      const all = await cs.call('CP1', 'GetConfiguration', {});
      const keys = new Map(all.configurationKey?.map((k) => [k.key, k]));
      for (const required of [
        'HeartbeatInterval',
        'MeterValueSampleInterval',
        'ClockAlignedDataInterval',
        'SupportedFeatureProfiles',
        'ChargeProfileMaxStackLevel',
        'ChargingScheduleAllowedChargingRateUnit',
        'ChargingScheduleMaxPeriods',
        'MaxChargingProfilesInstalled',
        'ConnectorPhaseRotation',
        'TransactionMessageAttempts',
        'TransactionMessageRetryInterval',
        'LocalAuthListMaxLength',
        'SendLocalListMaxLength',
      ]) {
        assert.ok(keys.has(required), required);
      }
      assert.equal(
        keys.get('SupportedFeatureProfiles')?.value,
        'Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger',
      );
      assert.equal(keys.get('SupportedFeatureProfiles')?.readonly, true);
    });

    it('takes initial keys, vendor keys and removed keys from the options', async () => {
      const { cs } = await start({
        configuration: {
          ClockAlignedDataInterval: { value: 900, readonly: true },
          VendorMode: 'eco',
          AuthorizationCacheEnabled: null,
        },
      });
      assert.deepEqual(
        await cs.call('CP1', 'ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '0' }),
        {
          status: 'Rejected',
        },
      );
      assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'VendorMode', value: 'fast' }), {
        status: 'Accepted',
      });
      // Errata 3.23: no authorization cache, so ClearCache is Rejected.
      assert.deepEqual(await cs.call('CP1', 'ClearCache', {}), { status: 'Rejected' });
    });

    it('clears the authorization cache', async () => {
      const { cs, cp } = await start();
      await cp.authorize('TAG');
      assert.deepEqual(await cs.call('CP1', 'ClearCache', {}), { status: 'Accepted' });
      await cp.disconnect();
      assert.deepEqual(await cp.authorize('TAG'), { status: 'Invalid' });
    });

    it('keeps a bounded authorization cache: the entry used least recently goes first', async () => {
      const { cp } = await start({ authorizationCacheSize: 2 });
      await cp.authorize('A');
      await cp.authorize('B');
      await cp.disconnect();
      assert.deepEqual(await cp.authorize('A'), { status: 'Accepted' }, 'A is used: B is now the oldest');
      await cp.connect();
      await cp.authorize('C');
      await cp.disconnect();
      assert.deepEqual(await cp.authorize('B'), { status: 'Invalid' }, 'B made room for C');
      assert.deepEqual(await cp.authorize('A'), { status: 'Accepted' });
      assert.deepEqual(await cp.authorize('C'), { status: 'Accepted' });
    });

    it('answers DataTransfer with UnknownVendorId unless given a handler', async () => {
      const { cs, cp } = await start();
      assert.deepEqual(await cs.call('CP1', 'DataTransfer', { vendorId: 'com.example', messageId: 'x' }), {
        status: 'UnknownVendorId',
      });
      await cp.close();
      await start({
        identity: 'CP1',
        dataTransfer: (request) => ({ status: 'Accepted', data: `echo ${request.data}` }),
      });
      assert.deepEqual(await cs.call('CP1', 'DataTransfer', { vendorId: 'com.example', data: 'ping' }), {
        status: 'Accepted',
        data: 'echo ping',
      });
    });
  });

  describe('SendLocalList / GetLocalListVersion', () => {
    it('replaces with Full, applies Differential on top, and refuses an older differential version', async () => {
      const { cs, cp } = await start();
      assert.deepEqual(await cs.call('CP1', 'GetLocalListVersion', {}), { listVersion: 0 });
      /** SendLocalList with `entries` as [idTag, status] (no status: the tag is removed). */
      const send = (
        listVersion: number,
        updateType: 'Full' | 'Differential',
        entries?: [string, Status?][],
      ) =>
        cs.call('CP1', 'SendLocalList', {
          listVersion,
          updateType,
          ...(entries && {
            localAuthorizationList: entries.map(([idTag, status]) =>
              status ? { idTag, idTagInfo: { status } } : { idTag },
            ),
          }),
        });
      assert.deepEqual(
        await send(5, 'Full', [
          ['A', 'Accepted'],
          ['B', 'Accepted'],
        ]),
        { status: 'Accepted' },
      );
      assert.deepEqual(await cs.call('CP1', 'GetLocalListVersion', {}), { listVersion: 5 });
      assert.deepEqual(await send(6, 'Differential', [['A'], ['C', 'Blocked']]), { status: 'Accepted' });
      assert.deepEqual([...cp.localAuthorizationList.entries.keys()].sort(), ['B', 'C']);
      assert.deepEqual(await send(6, 'Differential', []), { status: 'VersionMismatch' });
      assert.deepEqual(await send(0, 'Full'), { status: 'Failed' });
      assert.deepEqual(await send(9, 'Full'), { status: 'Accepted' });
      assert.deepEqual(await cs.call('CP1', 'GetLocalListVersion', {}), { listVersion: 0 });
    });

    it('reports -1 and NotSupported without LocalAuthListManagement', async () => {
      const { cs } = await start({ configuration: { SupportedFeatureProfiles: 'Core,SmartCharging' } });
      assert.deepEqual(await cs.call('CP1', 'GetLocalListVersion', {}), { listVersion: -1 });
      assert.deepEqual(await cs.call('CP1', 'SendLocalList', { listVersion: 1, updateType: 'Full' }), {
        status: 'NotSupported',
      });
    });
  });

  describe('ReserveNow / CancelReservation', () => {
    it('reserves a connector for one id tag, ends with that tag starting, and frees it on expiry or cancel', async () => {
      const { cs, cp, clock } = await start();
      const now = clock.now();
      const reserve = (reservationId: number, connectorId: number, idTag: string, expiresInS = 600) =>
        cs.call('CP1', 'ReserveNow', { connectorId, expiryDate: at(now, expiresInS), idTag, reservationId });
      assert.deepEqual(await reserve(1, 1, 'RESERVED'), { status: 'Accepted' });
      assert.equal(cp.connector(1).status, 'Reserved');
      assert.deepEqual(await reserve(2, 1, 'OTHER'), { status: 'Occupied' });
      assert.deepEqual(await reserve(3, 0, 'ANY'), { status: 'Rejected' });
      cp.plugIn(1, {});
      await assert.rejects(cp.startTransaction(1, 'OTHER'), /reserved/);
      const started = cs.next('StartTransaction');
      await cp.startTransaction(1, 'RESERVED');
      assert.equal((await started).reservationId, 1);
      assert.equal(cp.activeReservations.length, 0);

      assert.deepEqual(await reserve(4, 2, 'LATER', 60), { status: 'Accepted' });
      assert.deepEqual(await cs.call('CP1', 'CancelReservation', { reservationId: 4 }), {
        status: 'Accepted',
      });
      assert.deepEqual(await cs.call('CP1', 'CancelReservation', { reservationId: 4 }), {
        status: 'Rejected',
      });
      assert.deepEqual(await reserve(5, 2, 'LATER', 60), { status: 'Accepted' });
      assert.equal(cp.connector(2).status, 'Reserved');
      await advance(cp, clock, 60_000);
      assert.equal(cp.connector(2).status, 'Available');
      assert.deepEqual(
        cs
          .messages('StatusNotification')
          .filter((s) => s.connectorId === 2)
          .map((s) => s.status),
        ['Available', 'Reserved', 'Available', 'Reserved', 'Available'],
      );
      await cs.call('CP1', 'ChangeAvailability', { connectorId: 2, type: 'Inoperative' });
      assert.deepEqual(await reserve(6, 2, 'X'), { status: 'Unavailable' });
      cp.setFault(2, 'GroundFailure');
      assert.deepEqual(await reserve(7, 2, 'X'), { status: 'Faulted' });
    });
  });

  describe('TriggerMessage', () => {
    it('answers first, then sends the requested message (5.17)', async () => {
      const { cs } = await start();
      const client = await cs.connected('CP1');
      const order: string[] = [];
      client.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
        if (outbound) return;
        const [type, , action] = JSON.parse(String(message)) as [number, string, string];
        order.push(type === 2 ? action : 'reply');
      });
      const status = cs.next('StatusNotification');
      assert.deepEqual(
        await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 2 }),
        {
          status: 'Accepted',
        },
      );
      assert.equal((await status).connectorId, 2);
      assert.deepEqual(order, ['reply', 'StatusNotification']);
    });

    it('sends StatusNotification for the charge point and every connector without connectorId', async () => {
      const { cs, cp } = await start();
      const before = cs.messages('StatusNotification').length;
      await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'StatusNotification' });
      await cp.whenIdle();
      assert.deepEqual(
        cs
          .messages('StatusNotification')
          .slice(before)
          .map((s) => s.connectorId),
        [0, 1, 2],
      );
    });

    it('sends MeterValues with context Trigger, Heartbeat, Idle diagnostics and firmware status, and rejects BootNotification once accepted', async () => {
      const { cs, cp, clock } = await start();
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG');
      await cp.whenIdle();
      clock.advance(30_000);
      const trigger = (
        requestedMessage:
          | 'MeterValues'
          | 'Heartbeat'
          | 'BootNotification'
          | 'DiagnosticsStatusNotification'
          | 'FirmwareStatusNotification',
        connectorId?: number,
      ) =>
        cs.call('CP1', 'TriggerMessage', {
          requestedMessage,
          ...(connectorId === undefined ? {} : { connectorId }),
        });
      const meterValues = cs.next('MeterValues');
      assert.deepEqual(await trigger('MeterValues', 1), { status: 'Accepted' });
      const triggered = await meterValues;
      assert.equal(triggered.transactionId, 1000);
      assert.ok(triggered.meterValue[0]?.sampledValue.every((v) => v.context === 'Trigger'));
      assert.deepEqual(await trigger('MeterValues', 0), { status: 'Rejected' });
      assert.deepEqual(await trigger('MeterValues', 9), { status: 'Rejected' });
      const heartbeat = cs.next('Heartbeat');
      assert.deepEqual(await trigger('Heartbeat'), { status: 'Accepted' });
      await heartbeat;
      assert.deepEqual(await trigger('BootNotification'), { status: 'Rejected' });
      const diagnostics = cs.next('DiagnosticsStatusNotification');
      await trigger('DiagnosticsStatusNotification');
      assert.deepEqual(await diagnostics, { status: 'Idle' });
      const firmware = cs.next('FirmwareStatusNotification');
      await trigger('FirmwareStatusNotification');
      assert.deepEqual(await firmware, { status: 'Idle' });
    });

    it('sends a triggered BootNotification while Pending, and NotImplemented without RemoteTrigger', async () => {
      const cs = sims.centralSystem();
      cs.answerBoots(['Pending'], 3600);
      const { cp } = await start();
      assert.equal(cp.registration, 'Pending');
      // While Pending only what the central system asks for goes out (4.2).
      const status = cs.next('StatusNotification');
      await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 });
      await status;
      const accepted = waitFor(cp, 'boot', (boot: { status: string }) => boot.status === 'Accepted');
      assert.deepEqual(await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'BootNotification' }), {
        status: 'Accepted',
      });
      await accepted;
      await cp.close();
      cs.answers.BootNotification = undefined;
      await start({ configuration: { SupportedFeatureProfiles: 'Core' } });
      assert.deepEqual(await cs.call('CP1', 'TriggerMessage', { requestedMessage: 'Heartbeat' }), {
        status: 'NotImplemented',
      });
    });
  });

  describe('UnlockConnector', () => {
    it('stops the transaction first with UnlockCommand, and is NotSupported for an unknown connector (errata 3.85)', async () => {
      const { cs, cp } = await start();
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG');
      const stop = cs.next('StopTransaction');
      assert.deepEqual(await cs.call('CP1', 'UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
      assert.equal((await stop).reason, 'UnlockCommand');
      assert.deepEqual(await cs.call('CP1', 'UnlockConnector', { connectorId: 3 }), {
        status: 'NotSupported',
      });
    });
  });

  describe('GetDiagnostics / UpdateFirmware', () => {
    it('uploads diagnostics: file name in the answer, then Uploading and Uploaded (or UploadFailed)', async () => {
      const { cs, clock } = await start({ fileTransferS: 20 });
      const uploading = cs.next('DiagnosticsStatusNotification');
      const answer = await cs.call('CP1', 'GetDiagnostics', { location: 'ftp://diag.example.com/upload' });
      assert.match(answer.fileName ?? '', /^diagnostics-CP1-20260101T000000000Z\.log$/);
      assert.deepEqual(await uploading, { status: 'Uploading' });
      const uploaded = cs.next('DiagnosticsStatusNotification');
      clock.advance(20_000);
      assert.deepEqual(await uploaded, { status: 'Uploaded' });
      const failed = cs.next('DiagnosticsStatusNotification', (p) => p.status !== 'Uploading');
      await cs.call('CP1', 'GetDiagnostics', { location: 'sftp://diag.example.com/upload' });
      clock.advance(20_000);
      assert.deepEqual(await failed, { status: 'UploadFailed' });
    });

    it('updates firmware: waits for retrieveDate and for the transaction to end, installs, reboots with the new version, Installed', async () => {
      const { cs, cp, clock } = await start({ fileTransferS: 30, firmwareInstallS: 60, rebootDelayS: 5 });
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG');
      const retrieveDate = at(clock.now(), 3600);
      assert.deepEqual(
        await cs.call('CP1', 'UpdateFirmware', {
          location: 'https://fw.example.com/sim-2.0.1.bin',
          retrieveDate,
        }),
        {},
      );
      await advance(cp, clock, 3_599_000, 600_000);
      assert.equal(cs.messages('FirmwareStatusNotification').length, 0);
      await advance(cp, clock, 1000);
      await advance(cp, clock, 30_000);
      assert.deepEqual(cs.messages('FirmwareStatusNotification'), [
        { status: 'Downloading' },
        { status: 'Downloaded' },
      ]);
      // The transaction goes on; the free connector is held Unavailable until installation (5.19).
      assert.equal(cp.connector(1).status, 'Charging');
      assert.equal(cp.connector(2).status, 'Unavailable');
      await cp.stopTransaction(1);
      await cp.whenIdle();
      assert.deepEqual(cs.messages('FirmwareStatusNotification').at(-1), { status: 'Installing' });
      const rebooting = waitFor(cp, 'rebooting');
      clock.advance(60_000);
      await rebooting;
      await waitFor(cp, 'disconnected');
      const installed = cs.next('FirmwareStatusNotification', (p) => p.status === 'Installed');
      clock.advance(5000);
      await installed;
      assert.equal(cs.messages('BootNotification').at(-1)?.firmwareVersion, 'sim-2.0.1');
      await cp.whenIdle();
      assert.equal(cp.connector(2).status, 'Available');
    });

    it('answers UpdateFirmware with CALLERROR NotSupported when only signed firmware is allowed (L01.FR.20)', async () => {
      const { cs, clock } = await start({ signedFirmwareOnly: true });
      await assert.rejects(
        cs.call('CP1', 'UpdateFirmware', {
          location: 'https://fw.example.com/x.bin',
          retrieveDate: at(clock.now(), 0),
        }),
        (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'NotSupported',
      );
    });
  });

  describe('override', () => {
    it('lets a test replace an answer (here: a charger that only takes stackLevel 0) and still use the default', async () => {
      const { cs, cp } = await start();
      cp.override('SetChargingProfile', (request, next) =>
        request.csChargingProfiles.stackLevel > 0 ? { status: 'Rejected' } : next(),
      );
      const profile = (stackLevel: number) => ({
        connectorId: 0,
        csChargingProfiles: {
          chargingProfileId: stackLevel + 1,
          stackLevel,
          chargingProfilePurpose: 'TxDefaultProfile' as const,
          chargingProfileKind: 'Relative' as const,
          chargingSchedule: {
            chargingRateUnit: 'A' as const,
            chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }],
          },
        },
      });
      assert.deepEqual(await cs.call('CP1', 'SetChargingProfile', profile(1)), { status: 'Rejected' });
      assert.deepEqual(await cs.call('CP1', 'SetChargingProfile', profile(0)), { status: 'Accepted' });
      assert.equal(cp.chargingProfiles.length, 1);
      const replied = waitFor(cp, 'replied');
      cp.override('SetChargingProfile', undefined);
      assert.deepEqual(await cs.call('CP1', 'SetChargingProfile', profile(1)), { status: 'Accepted' });
      const [event] = (await replied) as [{ action: string; response: unknown }];
      assert.equal(event.action, 'SetChargingProfile');
    });
  });
});
