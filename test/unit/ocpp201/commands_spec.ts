import assert from 'node:assert/strict';
import { CENTRAL_SYSTEM_ACTIONS, type CentralSystemAction } from '../../../lib/ocpp/actions';
import { findViolation } from '../../../lib/ocpp/v16/validation';
import { translateCommand } from '../../../lib/ocpp/v201/commands';
import { findViolation201 } from '../../../lib/ocpp/v201/schemas';

/**
 * Every command the central system sends in the shared (OCPP 1.6) words has an OCPP 2.0.1 form: a
 * valid 1.6 request of each becomes a request the OCA 2.0.1 schema accepts.
 */

const HASH = { hashAlgorithm: 'SHA256', issuerNameHash: 'ab', issuerKeyHash: 'cd', serialNumber: '01' };
const PROFILE = {
  chargingProfileId: 9,
  transactionId: 42,
  stackLevel: 3,
  chargingProfilePurpose: 'TxProfile',
  chargingProfileKind: 'Relative',
  chargingSchedule: {
    chargingRateUnit: 'A',
    chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }],
  },
};
const AT = '2026-11-25T10:00:00.000Z';

/** One valid OCPP 1.6 request per command. */
const SAMPLES: Record<CentralSystemAction, Record<string, unknown>> = {
  CancelReservation: { reservationId: 3 },
  ChangeAvailability: { connectorId: 1, type: 'Inoperative' },
  ChangeConfiguration: { key: 'MeterValueSampleInterval', value: '10' },
  ClearCache: {},
  ClearChargingProfile: { connectorId: 1, chargingProfilePurpose: 'ChargePointMaxProfile', stackLevel: 2 },
  DataTransfer: { vendorId: 'ampflow', messageId: 'x', data: 'y' },
  GetCompositeSchedule: { connectorId: 1, duration: 3600, chargingRateUnit: 'A' },
  GetConfiguration: { key: ['HeartbeatInterval', 'NoSuchKey'] },
  GetDiagnostics: { location: 'ftp://example.org/', startTime: AT, retries: 2 },
  GetLocalListVersion: {},
  RemoteStartTransaction: {
    connectorId: 1,
    idTag: 'TAG-1',
    chargingProfile: { ...PROFILE, transactionId: undefined },
  },
  RemoteStopTransaction: { transactionId: 42 },
  ReserveNow: { connectorId: 1, expiryDate: AT, idTag: 'TAG-1', parentIdTag: 'FLEET', reservationId: 3 },
  Reset: { type: 'Hard' },
  SendLocalList: {
    listVersion: 7,
    updateType: 'Differential',
    localAuthorizationList: [
      { idTag: 'TAG-1', idTagInfo: { status: 'Accepted', expiryDate: AT } },
      { idTag: 'OLD' },
    ],
  },
  SetChargingProfile: { connectorId: 1, csChargingProfiles: PROFILE },
  TriggerMessage: { requestedMessage: 'StatusNotification', connectorId: 1 },
  UnlockConnector: { connectorId: 1 },
  UpdateFirmware: { location: 'https://example.org/fw.bin', retrieveDate: AT, retryInterval: 60 },
  ExtendedTriggerMessage: { requestedMessage: 'SignChargePointCertificate' },
  CertificateSigned: { certificateChain: '-----BEGIN CERTIFICATE-----' },
  InstallCertificate: {
    certificateType: 'CentralSystemRootCertificate',
    certificate: '-----BEGIN CERTIFICATE-----',
  },
  DeleteCertificate: { certificateHashData: HASH },
  GetInstalledCertificateIds: { certificateType: 'ManufacturerRootCertificate' },
  GetLog: { logType: 'SecurityLog', requestId: 1, log: { remoteLocation: 'https://example.org/logs' } },
  SignedUpdateFirmware: {
    requestId: 2,
    firmware: {
      location: 'https://example.org/fw.bin',
      retrieveDateTime: AT,
      signingCertificate: 'c',
      signature: 's',
    },
  },
};

describe('OCPP 2.0.1: the central system’s commands', () => {
  for (const action of CENTRAL_SYSTEM_ACTIONS) {
    it(`${action} in 1.6 words becomes a valid 2.0.1 request`, () => {
      const request = JSON.parse(JSON.stringify(SAMPLES[action])) as Record<string, unknown>;
      assert.equal(findViolation(action, 'request', request), undefined, 'the sample is valid 1.6');
      const wire = translateCommand(
        action,
        request,
        (ledgerId) => (ledgerId === 42 ? 'TX-UUID-42' : undefined),
        () => 77,
      );
      assert.equal(
        findViolation201(wire.action, 'request', wire.request),
        undefined,
        JSON.stringify(wire.request),
      );
    });
  }

  it('names the charger’s own transaction and the device model’s variables', () => {
    const ids = (ledgerId: number) => (ledgerId === 42 ? 'TX-UUID-42' : undefined);
    const profile = translateCommand('SetChargingProfile', SAMPLES.SetChargingProfile, ids, () => 1);
    assert.equal((profile.request.chargingProfile as { transactionId: string }).transactionId, 'TX-UUID-42');
    const stop = translateCommand('RemoteStopTransaction', { transactionId: 42 }, ids, () => 1);
    assert.deepEqual(stop.request, { transactionId: 'TX-UUID-42' });
    assert.throws(
      () => translateCommand('RemoteStopTransaction', { transactionId: 5 }, ids, () => 1),
      /transaction 5/,
    );
    const read = translateCommand('GetConfiguration', SAMPLES.GetConfiguration, ids, () => 1);
    assert.deepEqual(read.request, {
      getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
    });
    assert.deepEqual(
      read.read({
        getVariableResult: [
          {
            attributeStatus: 'Accepted',
            attributeValue: '300',
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'HeartbeatInterval' },
          },
        ],
      }),
      {
        configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
        unknownKey: ['NoSuchKey'],
      },
    );
  });
});
