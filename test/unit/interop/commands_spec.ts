import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectorState } from '../../../lib/contracts';
import type { MeterValuesPayload } from '../../../lib/ocpp/handlers';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { waitFor } from '../../support/events';
import {
  advance,
  allSessions,
  bootAfter,
  nextMessage,
  nextWithStatus,
  recordMessages,
  recordSessions,
  requestsOf,
  roundTrip,
  simTime,
  useInterop,
  useTempDirectory,
} from './support';

type Profile = SetChargingProfileRequest['csChargingProfiles'];

const statusOf = (connectorId: number, status: string) => (m: { request: unknown }) => {
  const request = m.request as { connectorId: number; status: string };
  return request.connectorId === connectorId && request.status === status;
};

/** Names of the files under `directory` that contain `text`. */
function filesContaining(directory: string, text: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter(
      (entry) => entry.isFile() && readFileSync(join(entry.parentPath, entry.name), 'latin1').includes(text),
    )
    .map((entry) => entry.name);
}

/** An Absolute profile without startSchedule: it starts when the charge point installs it. */
function profile(
  id: number,
  purpose: Profile['chargingProfilePurpose'],
  limitA: number,
  extra = {},
): Profile {
  return {
    chargingProfileId: id,
    stackLevel: 0,
    chargingProfilePurpose: purpose,
    chargingProfileKind: 'Absolute',
    chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }] },
    ...extra,
  };
}

describe('interop: central-system commands (OCPP 1.6 core, firmware, reservation, smart charging)', () => {
  const interop = useInterop();
  const temporary = useTempDirectory();

  describe('remote transactions', () => {
    it('RemoteStartTransaction starts a transaction the central system then records; RemoteStopTransaction stops it', async () => {
      const { cs, cp } = await interop.connected('CP-1');
      cp.plugIn(1, { phases: 3, maxCurrentA: 16 });

      const started = nextMessage(cs, 'StartTransaction');
      assert.deepEqual(
        await roundTrip(cs, cp, 'RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE-1' }),
        { status: 'Accepted' },
      );
      const start = await started;
      const { transactionId } = start.response as { transactionId: number };
      await cp.whenIdle();
      assert.equal(cp.connector(1).transaction?.transactionId, transactionId);
      assert.equal(cp.connector(1).status, 'Charging');
      assert.deepEqual(
        cs.openTransactions().map((tx) => [tx.transactionId, tx.chargePointId, tx.connectorId, tx.idTag]),
        [[transactionId, 'CP-1', 1, 'REMOTE-1']],
      );
      assert.equal(cs.connectors.find('CP-1', 1)?.transaction?.transactionId, transactionId);

      // A second start on the busy connector, and a stop of a transaction it does not run, are refused.
      assert.deepEqual(
        await roundTrip(cs, cp, 'RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE-2' }),
        { status: 'Rejected' },
      );
      assert.deepEqual(
        await roundTrip(cs, cp, 'RemoteStopTransaction', { transactionId: transactionId + 1 }),
        {
          status: 'Rejected',
        },
      );

      const stopped = nextMessage(cs, 'StopTransaction');
      assert.deepEqual(await roundTrip(cs, cp, 'RemoteStopTransaction', { transactionId }), {
        status: 'Accepted',
      });
      const stop = await stopped;
      assert.equal((stop.request as { reason?: string }).reason, 'Remote');
      assert.equal((stop.request as { transactionId: number }).transactionId, transactionId);
      await cp.whenIdle();
      assert.equal(cp.connector(1).transaction, undefined);
      assert.equal(cp.connector(1).status, 'Finishing');
      assert.deepEqual(cs.openTransactions(), []);
      assert.deepEqual(
        (await allSessions(cs)).map((s) => [s.transactionId, s.stopReason]),
        [[transactionId, 'Remote']],
      );
    });
  });

  describe('Reset', () => {
    it('Soft: the transaction is stopped (SoftReset) before the reboot, then the charge point boots again', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', { rebootDelayS: 5 });
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const messages = recordMessages(cs);
      const rebooting = waitFor<[{ reason: string }]>(cp as unknown as EventEmitter, 'rebooting');
      const disconnected = waitFor<[{ chargePointId: string; code: number }]>(cs, 'disconnect');

      assert.deepEqual(await roundTrip(cs, cp, 'Reset', { type: 'Soft' }), { status: 'Accepted' });
      assert.deepEqual((await rebooting)[0], { reason: 'Soft reset' });
      assert.equal((await disconnected)[0].code, 1012);
      assert.deepEqual(
        requestsOf<{ reason?: string }>(messages, 'StopTransaction').map((r) => r.reason),
        ['SoftReset'],
        'StopTransaction went out before the reset (5.14)',
      );
      assert.deepEqual(cs.openTransactions(), []);

      assert.equal(((await bootAfter(cs, clock, 5000)).response as { status: string }).status, 'Accepted');
      await cp.waitForAccepted();
      await cp.whenIdle();
      assert.equal(cs.isConnected('CP-1'), true);
      assert.deepEqual(
        messages.map((m) => m.action).filter((a) => a === 'StopTransaction' || a === 'BootNotification'),
        ['StopTransaction', 'BootNotification'],
      );
      assert.equal((await allSessions(cs)).length, 1);
    });

    it('Hard: the charge point reboots and boots again; the transaction is recorded once (HardReset)', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', { rebootDelayS: 5 });
      cp.plugIn(1, {});
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const [open] = cs.openTransactions();
      const sessions = recordSessions(cs);
      const rebooting = waitFor<[{ reason: string }]>(cp as unknown as EventEmitter, 'rebooting');
      const session = waitFor(cs, 'session');
      const disconnected = waitFor<[{ code: number }]>(cs, 'disconnect');

      assert.deepEqual(await roundTrip(cs, cp, 'Reset', { type: 'Hard' }), { status: 'Accepted' });
      assert.deepEqual((await rebooting)[0], { reason: 'Hard reset' });
      assert.equal((await disconnected)[0].code, 1012);
      await bootAfter(cs, clock, 5000);
      await cp.waitForAccepted();
      await session;
      await cp.whenIdle();
      assert.deepEqual(
        sessions.map((s) => [s.transactionId, s.stopReason]),
        [[open?.transactionId, 'HardReset']],
      );
      assert.equal((await allSessions(cs)).length, 1);
      assert.deepEqual(cs.openTransactions(), []);
    });
  });

  it('UnlockConnector: stops the transaction on the connector first (UnlockCommand); an unknown connector is NotSupported', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    const stopped = nextMessage(cs, 'StopTransaction');
    assert.deepEqual(await roundTrip(cs, cp, 'UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
    assert.equal(((await stopped).request as { reason?: string }).reason, 'UnlockCommand');
    assert.equal(cp.connector(1).transaction, undefined);
    assert.deepEqual(await roundTrip(cs, cp, 'UnlockConnector', { connectorId: 2 }), {
      status: 'NotSupported',
    });
  });

  it('ChangeAvailability: Inoperative makes the connector Unavailable, Scheduled while a transaction runs, Operative brings it back', async () => {
    const { cs, cp } = await interop.connected('CP-1', { connectors: 2 });
    await cp.whenIdle();

    const unavailable = nextMessage(cs, 'StatusNotification', statusOf(2, 'Unavailable'));
    assert.deepEqual(await roundTrip(cs, cp, 'ChangeAvailability', { connectorId: 2, type: 'Inoperative' }), {
      status: 'Accepted',
    });
    await unavailable;
    assert.equal(cp.connector(2).status, 'Unavailable');
    assert.equal(cs.connectors.find('CP-1', 2)?.status, 'Unavailable');

    cp.plugIn(1, {});
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    assert.deepEqual(await roundTrip(cs, cp, 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), {
      status: 'Scheduled',
    });
    assert.equal(cs.connectors.find('CP-1', 1)?.status, 'Charging');
    await cp.stopTransaction(1);
    const unavailableAfterwards = nextMessage(cs, 'StatusNotification', statusOf(1, 'Unavailable'));
    cp.unplug(1);
    await unavailableAfterwards;

    const available = nextMessage(cs, 'StatusNotification', statusOf(2, 'Available'));
    assert.deepEqual(await roundTrip(cs, cp, 'ChangeAvailability', { connectorId: 0, type: 'Operative' }), {
      status: 'Accepted',
    });
    await available;
    await cp.whenIdle();
    assert.deepEqual(
      cs.connectors.all('CP-1').map((c) => [c.connectorId, c.status]),
      [
        [0, 'Available'],
        [1, 'Available'],
        [2, 'Available'],
      ],
    );
  });

  describe('configuration', () => {
    it('GetConfiguration: the full answer is stored as the charger record’s snapshot; a partial one merges into it', async () => {
      const { cs, cp } = await interop.connected('CP-1', { password: '00112233445566778899aabbccddeeff' });
      const full = await roundTrip(cs, cp, 'GetConfiguration', {});
      assert.deepEqual(full, cp.configuration.report());
      const keys = full.configurationKey ?? [];
      assert.ok(keys.length > 40, `${keys.length} keys`);
      assert.deepEqual(cs.chargePoint('CP-1')?.configuration?.keys, keys);
      assert.equal(
        keys.some((k) => k.key === 'AuthorizationKey'),
        false,
        'write-only keys are not reported',
      );

      const partial = await roundTrip(cs, cp, 'GetConfiguration', {
        key: ['HeartbeatInterval', 'NoSuchKey'],
      });
      assert.deepEqual(partial, {
        configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
        unknownKey: ['NoSuchKey'],
      });
      assert.equal(cs.chargePoint('CP-1')?.configuration?.keys.length, keys.length);
    });

    it('GetConfiguration after boot (readConfigurationOnBoot) stores the snapshot without being asked', async () => {
      const cs = await interop.harness().centralSystem({ readConfigurationOnBoot: true });
      const { cp } = interop.simulator(cs, 'CP-1');
      const read = waitFor<[{ action: string; response: unknown }]>(
        cs,
        'command',
        (c: { action: string }) => c.action === 'GetConfiguration',
      );
      await cp.connect();
      const [command] = await read;
      assert.deepEqual(command.response, cp.configuration.report());
      assert.deepEqual(
        cs.chargePoint('CP-1')?.configuration?.keys,
        cp.configuration.report().configurationKey,
      );
    });

    it('ChangeConfiguration: accepted values reach the simulator and the stored snapshot; refused ones neither', async () => {
      const { cs, cp } = await interop.connected('CP-1');
      await roundTrip(cs, cp, 'GetConfiguration', {});
      const stored = (key: string) =>
        cs.chargePoint('CP-1')?.configuration?.keys.filter((entry) => entry.key === key);

      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '120' }),
        { status: 'Accepted' },
      );
      assert.equal(cp.configuration.get('MeterValueSampleInterval'), '120');
      assert.deepEqual(stored('MeterValueSampleInterval'), [
        { key: 'MeterValueSampleInterval', value: '120', readonly: false },
      ]);

      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', {
          key: 'ConnectorPhaseRotation',
          value: '0.RST,1.STR',
        }),
        { status: 'RebootRequired' },
      );
      assert.deepEqual(stored('ConnectorPhaseRotation'), [
        { key: 'ConnectorPhaseRotation', value: '0.RST,1.STR', readonly: false },
      ]);

      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' }),
        { status: 'Rejected' },
      );
      assert.deepEqual(stored('NumberOfConnectors'), [
        { key: 'NumberOfConnectors', readonly: true, value: '1' },
      ]);
      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '-5' }),
        { status: 'Rejected' },
      );
      assert.deepEqual(stored('HeartbeatInterval'), [
        { key: 'HeartbeatInterval', readonly: false, value: '300' },
      ]);
      assert.deepEqual(await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'NoSuchKey', value: 'x' }), {
        status: 'NotSupported',
      });
      assert.deepEqual(stored('NoSuchKey'), []);
    });

    it('ChangeConfiguration of AuthorizationKey: the simulator takes it and reconnects, the central system never stores it', async () => {
      const dataDirectory = temporary();
      const cs = await interop.harness().centralSystem({ dataDirectory });
      const { cp, clock } = interop.simulator(cs, 'CP-1');
      await cp.connect();
      await roundTrip(cs, cp, 'GetConfiguration', {});
      const secret = '00112233445566778899aabbccddeeff';
      const disconnected = waitFor(cp as unknown as EventEmitter, 'disconnected');
      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'AuthorizationKey', value: secret }),
        { status: 'Accepted' },
      );
      assert.equal(cp.configuration.get('AuthorizationKey'), secret);
      assert.doesNotMatch(JSON.stringify(cs.chargePoint('CP-1')), new RegExp(secret));
      assert.deepEqual(filesContaining(dataDirectory, secret), [], 'the journal holds no AuthorizationKey');
      assert.equal(
        cs.chargePoint('CP-1')?.configuration?.keys.some((k) => k.key === 'AuthorizationKey'),
        false,
      );
      // Whitepaper A01: the charge point reconnects with the new password.
      await disconnected;
      const reconnected = waitFor(cs, 'connect');
      clock.advance(1000);
      await reconnected;
      assert.ok(cp.securityLogEntries.some((e) => e.type === 'ReconfigurationOfSecurityParameters'));
    });

    it('ChangeConfiguration of AuthorizationKey spelt in another case (keys are CiString50) is not stored either', async () => {
      const dataDirectory = temporary();
      const cs = await interop.harness().centralSystem({ dataDirectory });
      const { cp } = interop.simulator(cs, 'CP-1');
      await cp.connect();
      const secret = 'ffeeddccbbaa99887766554433221100';
      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'authorizationKey', value: secret }),
        { status: 'Accepted' },
      );
      assert.equal(
        cp.configuration.get('AuthorizationKey'),
        secret,
        'the charge point took it as AuthorizationKey',
      );
      const onDisk = filesContaining(dataDirectory, secret);
      assert.deepEqual(
        {
          record: (cs.chargePoint('CP-1')?.configuration?.keys ?? []).filter((k) => k.value === secret),
          onDisk,
        },
        { record: [], onDisk: [] },
        'the central system stored the AuthorizationKey value',
      );
    });

    it('ChangeConfiguration with a key spelt in another case updates the one stored entry of that key', async () => {
      const { cs, cp } = await interop.connected('CP-1');
      await roundTrip(cs, cp, 'GetConfiguration', {});
      assert.deepEqual(
        await roundTrip(cs, cp, 'ChangeConfiguration', { key: 'heartbeatinterval', value: '120' }),
        { status: 'Accepted' },
      );
      assert.equal(cp.configuration.get('HeartbeatInterval'), '120');
      const entries = cs
        .chargePoint('CP-1')
        ?.configuration?.keys.filter((k) => k.key.toLowerCase() === 'heartbeatinterval')
        .map((k) => [k.key, k.value]);
      assert.deepEqual(
        entries?.length,
        1,
        `stored entries for HeartbeatInterval: ${JSON.stringify(entries)}`,
      );
      assert.equal(entries?.[0]?.[1], '120');
    });
  });

  it('ClearCache: empties the authorization cache the simulator would use offline; Rejected without a cache', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    assert.equal((await cp.authorize('CACHED-1')).status, 'Accepted');
    await cp.disconnect();
    assert.equal((await cp.authorize('CACHED-1')).status, 'Accepted', 'offline: from the cache');
    await cp.connect();
    assert.deepEqual(await roundTrip(cs, cp, 'ClearCache', {}), { status: 'Accepted' });
    await cp.disconnect();
    assert.equal((await cp.authorize('CACHED-1')).status, 'Invalid', 'offline after ClearCache');

    const { cp: noCache } = interop.simulator(cs, 'CP-2', {
      configuration: { AuthorizationCacheEnabled: null },
    });
    await noCache.connect();
    assert.deepEqual(await roundTrip(cs, noCache, 'ClearCache', {}), { status: 'Rejected' });
  });

  it('TriggerMessage: each requested message arrives as a message event; BootNotification is Rejected once accepted', async () => {
    const { cs, cp } = await interop.connected('CP-1', { connectors: 2 });
    await cp.whenIdle();
    const trigger = async (requestedMessage: string, connectorId?: number) => {
      const request = {
        requestedMessage,
        ...(connectorId === undefined ? {} : { connectorId }),
      } as Parameters<typeof cs.call<'TriggerMessage'>>[2];
      return (await roundTrip(cs, cp, 'TriggerMessage', request)).status;
    };

    let arrived = nextMessage(cs, 'Heartbeat');
    assert.equal(await trigger('Heartbeat'), 'Accepted');
    assert.deepEqual(Object.keys((await arrived).payload as object).sort(), ['at', 'chargePointId']);

    arrived = nextMessage(
      cs,
      'StatusNotification',
      (m) => (m.request as { connectorId: number }).connectorId === 2,
    );
    assert.equal(await trigger('StatusNotification', 2), 'Accepted');
    assert.equal(((await arrived).payload as ConnectorState).status, 'Available');

    cp.plugIn(1, { phases: 3, maxCurrentA: 16 });
    await cp.startTransaction(1, 'TAG-1');
    await cp.whenIdle();
    arrived = nextMessage(cs, 'MeterValues');
    assert.equal(await trigger('MeterValues', 1), 'Accepted');
    const meterValues = (await arrived).payload as MeterValuesPayload;
    assert.equal(meterValues.connectorId, 1);
    assert.equal(meterValues.transactionId, cp.connector(1).transaction?.transactionId);
    assert.deepEqual(meterValues.currentA, [16, 16, 16]);
    const request = (await arrived).request as { meterValue: { sampledValue: { context?: string }[] }[] };
    assert.ok(request.meterValue[0]?.sampledValue.every((v) => v.context === 'Trigger'));

    arrived = nextMessage(cs, 'DiagnosticsStatusNotification');
    assert.equal(await trigger('DiagnosticsStatusNotification'), 'Accepted');
    assert.deepEqual((await arrived).payload, { chargePointId: 'CP-1', status: 'Idle' });
    arrived = nextMessage(cs, 'FirmwareStatusNotification');
    assert.equal(await trigger('FirmwareStatusNotification'), 'Accepted');
    assert.deepEqual((await arrived).payload, { chargePointId: 'CP-1', status: 'Idle' });

    // Errata 3.35: once accepted, a triggered BootNotification is RECOMMENDED to be rejected.
    assert.equal(await trigger('BootNotification'), 'Rejected');
    assert.equal(await trigger('StatusNotification', 7), 'Rejected');
  });

  it('DataTransfer: the simulator’s answer comes back (UnknownVendorId by default, a vendor handler’s otherwise)', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    assert.deepEqual(await roundTrip(cs, cp, 'DataTransfer', { vendorId: 'com.example', data: 'ping' }), {
      status: 'UnknownVendorId',
    });
    const { cp: vendor } = interop.simulator(cs, 'CP-2', {
      dataTransfer: (request) =>
        request.vendorId === 'com.ampflow'
          ? { status: 'Accepted', data: `echo ${request.data}` }
          : { status: 'UnknownVendorId' },
    });
    await vendor.connect();
    assert.deepEqual(
      await roundTrip(cs, vendor, 'DataTransfer', {
        vendorId: 'com.ampflow',
        messageId: 'echo',
        data: 'ping',
      }),
      { status: 'Accepted', data: 'echo ping' },
    );
  });

  describe('firmware management', () => {
    it('GetDiagnostics: the file name comes back, DiagnosticsStatusNotification Uploading then Uploaded (or UploadFailed)', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', { fileTransferS: 30 });
      const uploading = nextMessage(cs, 'DiagnosticsStatusNotification');
      assert.deepEqual(
        await roundTrip(cs, cp, 'GetDiagnostics', { location: 'ftp://diag.example.com/in/' }),
        {
          fileName: 'diagnostics-CP-1-20260101T000000000Z.log',
        },
      );
      assert.deepEqual((await uploading).payload, { chargePointId: 'CP-1', status: 'Uploading' });
      const uploaded = nextMessage(cs, 'DiagnosticsStatusNotification');
      clock.advance(30_000);
      assert.deepEqual((await uploaded).payload, { chargePointId: 'CP-1', status: 'Uploaded' });

      const failed = nextMessage(
        cs,
        'DiagnosticsStatusNotification',
        (m) => (m.request as { status: string }).status !== 'Uploading',
      );
      await roundTrip(cs, cp, 'GetDiagnostics', { location: 'gopher://diag.example.com/' });
      clock.advance(30_000);
      assert.deepEqual((await failed).payload, { chargePointId: 'CP-1', status: 'UploadFailed' });
    });

    it('UpdateFirmware: FirmwareStatusNotification through download and install, a reboot, the new version in BootNotification, Installed', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', {
        firmwareVersion: 'sim-1.0',
        fileTransferS: 10,
        firmwareInstallS: 20,
        rebootDelayS: 5,
      });
      const messages = recordMessages(cs);
      assert.deepEqual(
        await roundTrip(cs, cp, 'UpdateFirmware', {
          location: 'https://fw.example.com/sim-2.0.bin',
          retrieveDate: simTime(clock),
        }),
        {},
      );
      const installed = nextWithStatus(cs, 'FirmwareStatusNotification', 'Installed');
      await advance(cp, clock, 30_000, 5000);
      await bootAfter(cs, clock, 5000);
      await installed;
      assert.deepEqual(
        messages
          .filter((m) => m.action === 'FirmwareStatusNotification' || m.action === 'BootNotification')
          .map((m) =>
            m.action === 'BootNotification'
              ? `Boot ${(m.request as { firmwareVersion?: string }).firmwareVersion}`
              : (m.payload as { status: string }).status,
          ),
        ['Downloading', 'Downloaded', 'Installing', 'Boot sim-2.0', 'Installed'],
      );
      assert.equal(cs.chargePoint('CP-1')?.boot?.request.firmwareVersion, 'sim-2.0');
      assert.equal(cp.firmware, 'sim-2.0');
    });
  });

  it('SendLocalList and GetLocalListVersion sent directly: the simulator stores the list, the record its version', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    assert.deepEqual(await roundTrip(cs, cp, 'GetLocalListVersion', {}), { listVersion: 0 });
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, 0);
    assert.deepEqual(
      await roundTrip(cs, cp, 'SendLocalList', {
        listVersion: 5,
        updateType: 'Full',
        localAuthorizationList: [
          { idTag: 'TAG-A', idTagInfo: { status: 'Accepted' } },
          { idTag: 'TAG-B', idTagInfo: { status: 'Blocked' } },
        ],
      }),
      { status: 'Accepted' },
    );
    assert.equal(cp.localAuthorizationList.version, 5);
    assert.deepEqual(
      [...cp.localAuthorizationList.entries],
      [
        ['TAG-A', { status: 'Accepted' }],
        ['TAG-B', { status: 'Blocked' }],
      ],
    );
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, 5);
    assert.deepEqual(
      await roundTrip(cs, cp, 'SendLocalList', { listVersion: 5, updateType: 'Differential' }),
      { status: 'VersionMismatch' },
    );
    assert.equal(cs.chargePoint('CP-1')?.localListVersion, 5);
    assert.deepEqual(await roundTrip(cs, cp, 'GetLocalListVersion', {}), { listVersion: 5 });
  });

  it('ReserveNow and CancelReservation: the connector goes Reserved and back; the reserved tag starts with the reservationId', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1');
    await cp.whenIdle();
    const reserve = (reservationId: number) =>
      roundTrip(cs, cp, 'ReserveNow', {
        connectorId: 1,
        expiryDate: simTime(clock, 3_600_000),
        idTag: 'RES-1',
        reservationId,
      });

    let status = nextMessage(cs, 'StatusNotification', statusOf(1, 'Reserved'));
    assert.deepEqual(await reserve(42), { status: 'Accepted' });
    await status;
    assert.equal(cs.connectors.find('CP-1', 1)?.status, 'Reserved');
    assert.deepEqual(
      cp.activeReservations.map((r) => [r.reservationId, r.connectorId, r.idTag]),
      [[42, 1, 'RES-1']],
    );
    assert.deepEqual(await roundTrip(cs, cp, 'CancelReservation', { reservationId: 43 }), {
      status: 'Rejected',
    });
    status = nextMessage(cs, 'StatusNotification', statusOf(1, 'Available'));
    assert.deepEqual(await roundTrip(cs, cp, 'CancelReservation', { reservationId: 42 }), {
      status: 'Accepted',
    });
    await status;
    assert.deepEqual(cp.activeReservations, []);

    assert.deepEqual(await reserve(44), { status: 'Accepted' });
    await assert.rejects(cp.startTransaction(1, 'OTHER'), /reserved for another id tag/);
    cp.plugIn(1, {});
    const started = nextMessage(cs, 'StartTransaction');
    await cp.startTransaction(1, 'RES-1');
    assert.equal(((await started).request as { reservationId?: number }).reservationId, 44);
    assert.equal(cs.openTransactions()[0]?.reservationId, 44);
    assert.deepEqual(cp.activeReservations, []);
  });

  describe('smart charging', () => {
    it('SetChargingProfile: the offered current follows TxDefaultProfile, then TxProfile; the central system sees it in MeterValues', async () => {
      const { cs, cp, clock } = await interop.connected('CP-1', {
        connectors: [{ phases: 3, maxCurrentA: 32 }],
        configuration: { MeterValueSampleInterval: 60 },
      });
      cp.plugIn(1, { phases: 3, maxCurrentA: 32 });
      await cp.startTransaction(1, 'TAG-1');
      await cp.whenIdle();
      const transactionId = cp.connector(1).transaction?.transactionId;
      assert.equal(cp.offeredCurrentA(1), 32);

      assert.deepEqual(
        await roundTrip(cs, cp, 'SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: profile(1, 'TxDefaultProfile', 10),
        }),
        { status: 'Accepted' },
      );
      assert.equal(cp.offeredCurrentA(1), 10);
      assert.deepEqual(cp.connector(1).currentA, [10, 10, 10]);
      let meterValues = nextMessage(cs, 'MeterValues');
      await advance(cp, clock, 60_000);
      let payload = (await meterValues).payload as MeterValuesPayload;
      assert.equal(payload.offeredCurrentA, 10);
      assert.deepEqual(payload.currentA, [10, 10, 10]);
      assert.equal(cs.connectors.find('CP-1', 1)?.offeredCurrentA, 10);

      assert.deepEqual(
        await roundTrip(cs, cp, 'SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: profile(2, 'TxProfile', 8, { stackLevel: 1, transactionId }),
        }),
        { status: 'Accepted' },
      );
      assert.equal(cp.offeredCurrentA(1), 8);
      meterValues = nextMessage(cs, 'MeterValues');
      await advance(cp, clock, 60_000);
      payload = (await meterValues).payload as MeterValuesPayload;
      assert.equal(payload.offeredCurrentA, 8);
      assert.deepEqual(cs.connectors.find('CP-1', 1)?.currentA, [8, 8, 8]);

      // A TxProfile for another transaction, and a TxProfile on connector 0, are refused (3.13.1).
      assert.deepEqual(
        await roundTrip(cs, cp, 'SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: profile(3, 'TxProfile', 6, { transactionId: (transactionId ?? 0) + 1 }),
        }),
        { status: 'Rejected' },
      );

      const composite = await roundTrip(cs, cp, 'GetCompositeSchedule', {
        connectorId: 1,
        duration: 600,
        chargingRateUnit: 'A',
      });
      assert.equal(composite.status, 'Accepted');
      assert.equal(composite.connectorId, 1);
      assert.equal(composite.chargingSchedule?.chargingRateUnit, 'A');
      assert.equal(composite.chargingSchedule?.chargingSchedulePeriod[0]?.limit, 8);
      assert.deepEqual(await roundTrip(cs, cp, 'GetCompositeSchedule', { connectorId: 4, duration: 600 }), {
        status: 'Rejected',
      });

      assert.deepEqual(await roundTrip(cs, cp, 'ClearChargingProfile', { id: 99 }), { status: 'Unknown' });
      assert.deepEqual(await roundTrip(cs, cp, 'ClearChargingProfile', { id: 2 }), { status: 'Accepted' });
      assert.equal(cp.offeredCurrentA(1), 10);
      assert.deepEqual(await roundTrip(cs, cp, 'ClearChargingProfile', {}), { status: 'Accepted' });
      assert.equal(cp.offeredCurrentA(1), 32);
      assert.deepEqual(cp.chargingProfiles, []);
    });

    it('RemoteStartTransaction with a TxProfile: the new transaction starts at the profile’s limit (5.16.2)', async () => {
      const { cs, cp } = await interop.connected('CP-1');
      cp.plugIn(1, { phases: 3, maxCurrentA: 32 });
      const started = nextMessage(cs, 'StartTransaction');
      assert.deepEqual(
        await roundTrip(cs, cp, 'RemoteStartTransaction', {
          connectorId: 1,
          idTag: 'REMOTE-1',
          chargingProfile: profile(5, 'TxProfile', 12),
        }),
        { status: 'Accepted' },
      );
      await started;
      await cp.whenIdle();
      assert.equal(cp.offeredCurrentA(1), 12);
      assert.deepEqual(cp.connector(1).currentA, [12, 12, 12]);
    });
  });
});
