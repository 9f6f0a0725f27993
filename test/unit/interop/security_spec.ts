import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { FlowRequest } from '../../../lib/ocpp/authorization';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { hashDataOf, readCsr } from '../../../lib/ocpp/x509';
import { authority, issue } from '../../support/sim-certificates';
import {
  bootAfter,
  nextMessage,
  nextWithStatus,
  recordMessages,
  roundTrip,
  simTime,
  useInterop,
} from './support';

/** Answers every SignCertificate the flow is asked with `status`. */
function signCertificateFlow(cs: CentralSystem, status: 'Accepted' | 'Rejected'): FlowRequest[] {
  const asked: FlowRequest[] = [];
  cs.addRequestHandler((request) => {
    if (request.action !== 'SignCertificate') return false;
    asked.push(request);
    cs.respond(request.id, { status });
    return true;
  });
  return asked;
}

describe('interop: security extension (OCPP 1.6 security whitepaper)', () => {
  const interop = useInterop();
  const operator = authority('CPO Root', 'Operator Ltd');
  const manufacturer = authority('Maker Root', 'Maker GmbH');

  it('SignCertificate from the charge point arrives as a message and is Rejected by default', async () => {
    const { cs, cp } = await interop.connected('CP-1', {
      chargePointSerialNumber: 'SN-0042',
      configuration: { CpoName: 'Operator Ltd' },
    });
    const arrived = nextMessage(cs, 'SignCertificate');
    assert.deepEqual(await cp.requestCertificateSigning(), { status: 'Rejected' });
    const message = await arrived;
    assert.deepEqual(message.response, { status: 'Rejected' });
    const { csr } = message.payload as { chargePointId: string; csr: string };
    assert.deepEqual(Object.keys(message.payload as object).sort(), ['chargePointId', 'csr']);
    assert.deepEqual(readCsr(csr).subject, { organization: 'Operator Ltd', commonName: 'SN-0042' });
  });

  it('ExtendedTriggerMessage SignChargePointCertificate → SignCertificate answered by the flow → CertificateSigned installs the chain (A02)', async () => {
    const cs = await interop.harness().centralSystem({ signCertificate: 'flow' });
    const asked = signCertificateFlow(cs, 'Accepted');
    const { cp } = interop.simulator(cs, 'CP-1', {
      chargePointSerialNumber: 'SN-0042',
      configuration: { CpoName: 'Operator Ltd' },
    });
    await cp.connect();
    await cp.whenIdle();
    const messages = recordMessages(cs);
    const signRequest = nextMessage(cs, 'SignCertificate');
    assert.deepEqual(
      await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }),
      { status: 'Accepted' },
    );
    const message = await signRequest;
    assert.deepEqual(message.response, { status: 'Accepted' });
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.chargePointId, 'CP-1');
    const csr = readCsr((message.request as { csr: string }).csr);

    // A chain for another key is refused, with a security event the central system receives (A02.FR.07).
    const event = nextMessage(cs, 'SecurityEventNotification');
    const wrong = issue(operator, { commonName: 'SN-0042', organization: 'Operator Ltd' });
    assert.deepEqual(await roundTrip(cs, cp, 'CertificateSigned', { certificateChain: wrong }), {
      status: 'Rejected',
    });
    const security = (await event).payload as { chargePointId: string; type: string; timestamp: string };
    assert.equal(security.chargePointId, 'CP-1');
    assert.equal(security.type, 'InvalidChargePointCertificate');
    assert.deepEqual((await event).response, {});

    const signed = issue(operator, csr.subject, csr.publicKey);
    assert.deepEqual(await roundTrip(cs, cp, 'CertificateSigned', { certificateChain: signed }), {
      status: 'Accepted',
    });
    assert.equal(cp.installedChargePointCertificate, signed);
    assert.deepEqual(
      messages.map((m) => m.action),
      ['SignCertificate', 'SecurityEventNotification'],
    );
  });

  it('ExtendedTriggerMessage: Heartbeat, StatusNotification and MeterValues arrive; BootNotification is Rejected once accepted', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    await cp.whenIdle();
    let arrived = nextMessage(cs, 'Heartbeat');
    assert.deepEqual(await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'Heartbeat' }), {
      status: 'Accepted',
    });
    await arrived;
    arrived = nextMessage(
      cs,
      'StatusNotification',
      (m) => (m.request as { connectorId: number }).connectorId === 1,
    );
    assert.deepEqual(
      await roundTrip(cs, cp, 'ExtendedTriggerMessage', {
        requestedMessage: 'StatusNotification',
        connectorId: 1,
      }),
      { status: 'Accepted' },
    );
    await arrived;
    arrived = nextMessage(cs, 'MeterValues');
    assert.deepEqual(
      await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }),
      { status: 'Accepted' },
    );
    assert.equal(((await arrived).payload as { connectorId: number }).connectorId, 1);
    assert.deepEqual(
      await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'BootNotification' }),
      { status: 'Rejected' },
    );
  });

  it('InstallCertificate, GetInstalledCertificateIds and DeleteCertificate keep the simulator’s store and the answers in step (M03-M05)', async () => {
    const { cs, cp } = await interop.connected('CP-1');
    const ids = (certificateType: 'CentralSystemRootCertificate' | 'ManufacturerRootCertificate') =>
      roundTrip(cs, cp, 'GetInstalledCertificateIds', { certificateType });

    assert.deepEqual(await ids('ManufacturerRootCertificate'), { status: 'NotFound' });
    assert.deepEqual(
      await roundTrip(cs, cp, 'InstallCertificate', {
        certificateType: 'ManufacturerRootCertificate',
        certificate: manufacturer.certificate,
      }),
      { status: 'Accepted' },
    );
    assert.deepEqual(
      await roundTrip(cs, cp, 'InstallCertificate', {
        certificateType: 'CentralSystemRootCertificate',
        certificate: operator.certificate,
      }),
      { status: 'Accepted' },
    );
    assert.deepEqual(
      await roundTrip(cs, cp, 'InstallCertificate', {
        certificateType: 'ManufacturerRootCertificate',
        certificate: 'not a certificate',
      }),
      { status: 'Rejected' },
    );
    const expected = hashDataOf(new X509Certificate(manufacturer.certificate));
    assert.deepEqual(await ids('ManufacturerRootCertificate'), {
      status: 'Accepted',
      certificateHashData: [expected],
    });
    assert.equal(cp.certificates.size, 2);
    assert.deepEqual(await roundTrip(cs, cp, 'DeleteCertificate', { certificateHashData: expected }), {
      status: 'Accepted',
    });
    assert.deepEqual(await roundTrip(cs, cp, 'DeleteCertificate', { certificateHashData: expected }), {
      status: 'NotFound',
    });
    assert.deepEqual(await ids('ManufacturerRootCertificate'), { status: 'NotFound' });
    assert.equal(cp.certificates.size, 1);
  });

  it('GetLog: the file name comes back, LogStatusNotification Uploading then Uploaded with the requestId (N01)', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', { fileTransferS: 20 });
    const uploading = nextMessage(cs, 'LogStatusNotification');
    assert.deepEqual(
      await roundTrip(cs, cp, 'GetLog', {
        logType: 'SecurityLog',
        requestId: 17,
        log: { remoteLocation: 'https://logs.example.com/upload' },
      }),
      { status: 'Accepted', filename: 'SecurityLog-CP-1-17.log' },
    );
    assert.deepEqual((await uploading).payload, {
      chargePointId: 'CP-1',
      status: 'Uploading',
      requestId: 17,
    });
    const uploaded = nextMessage(cs, 'LogStatusNotification');
    clock.advance(20_000);
    assert.deepEqual((await uploaded).payload, { chargePointId: 'CP-1', status: 'Uploaded', requestId: 17 });
    assert.deepEqual((await uploaded).response, {});

    const idle = nextMessage(cs, 'LogStatusNotification');
    await roundTrip(cs, cp, 'ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' });
    assert.deepEqual((await idle).payload, { chargePointId: 'CP-1', status: 'Idle' });
  });

  it('SignedUpdateFirmware: SignedFirmwareStatusNotification through every state with the requestId, the new version after the reboot (L01)', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1', {
      fileTransferS: 10,
      firmwareInstallS: 10,
      rebootDelayS: 5,
    });
    await roundTrip(cs, cp, 'InstallCertificate', {
      certificateType: 'ManufacturerRootCertificate',
      certificate: manufacturer.certificate,
    });
    const messages = recordMessages(cs);
    const signing = issue(manufacturer, { commonName: 'Firmware signer', organization: 'Maker GmbH' });
    const firmware = {
      location: 'https://fw.example.com/sim-3.0.bin',
      retrieveDateTime: simTime(clock, 60_000),
      signingCertificate: signing,
      signature: 'c2lnbmF0dXJl',
    };
    assert.deepEqual(await roundTrip(cs, cp, 'SignedUpdateFirmware', { requestId: 7, firmware }), {
      status: 'Accepted',
    });
    const installed = nextWithStatus(cs, 'SignedFirmwareStatusNotification', 'Installed');
    for (let step = 0; step < 8; step++) {
      clock.advance(10_000);
      await cp.whenIdle();
    }
    await bootAfter(cs, clock, 5000);
    await installed;
    assert.deepEqual(
      messages
        .filter((m) => m.action === 'SignedFirmwareStatusNotification')
        .map((m) => {
          const payload = m.payload as { chargePointId: string; status: string; requestId?: number };
          return `${payload.chargePointId} ${payload.status}/${payload.requestId}`;
        }),
      [
        'CP-1 DownloadScheduled/7',
        'CP-1 Downloading/7',
        'CP-1 Downloaded/7',
        'CP-1 SignatureVerified/7',
        'CP-1 Installing/7',
        'CP-1 InstallRebooting/7',
        'CP-1 Installed/7',
      ],
    );
    assert.equal(cs.chargePoint('CP-1')?.boot?.request.firmwareVersion, 'sim-3.0');

    // A signing certificate no installed root issued: InvalidCertificate and a security event (L01.FR.02).
    const event = nextMessage(cs, 'SecurityEventNotification');
    const stranger = issue(authority('Other Root', 'Other'), { commonName: 'Firmware signer' });
    assert.deepEqual(
      await roundTrip(cs, cp, 'SignedUpdateFirmware', {
        requestId: 8,
        firmware: { ...firmware, signingCertificate: stranger },
      }),
      { status: 'InvalidCertificate' },
    );
    assert.equal(((await event).payload as { type: string }).type, 'InvalidFirmwareSigningCertificate');
  });

  it('SecurityEventNotification raised on the charge point arrives as a message, is answered, and leaves the queue (A04)', async () => {
    const { cs, cp, clock } = await interop.connected('CP-1');
    const arrived = nextMessage(cs, 'SecurityEventNotification');
    cp.securityEvent('TamperDetectionActivated', 'door opened');
    const message = await arrived;
    assert.deepEqual(message.payload, {
      chargePointId: 'CP-1',
      type: 'TamperDetectionActivated',
      timestamp: simTime(clock),
      techInfo: 'door opened',
    });
    assert.deepEqual(message.response, {});
    await cp.whenIdle();
    assert.equal(cp.idle, true);
  });
});
