import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createCertificate, generateKeyPair, hashDataOf, readCsr } from '../../../lib/ocpp/x509';
import type { SimulatedChargePoint } from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { authority, DAY, issue, T0 } from '../../support/sim-certificates';
import { advance, simulator, TestCentralSystem } from './harness';

describe('SimulatedChargePoint: security whitepaper', () => {
  // Real TLS checks certificate dates against the real clock: the fixtures span today as well.
  const operator = authority('CPO Root', 'Operator Ltd');
  const manufacturer = authority('Maker Root', 'Maker GmbH');
  const serverKeys = generateKeyPair();
  const serverCertificate = createCertificate({
    subject: { commonName: '127.0.0.1', organization: 'Operator Ltd' },
    publicKey: serverKeys.publicKey,
    issuer: { certificate: operator.certificate, privateKey: operator.keys.privateKey },
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    subjectAltNames: ['127.0.0.1'],
  });
  const serverKey = serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  let cs: TestCentralSystem;
  let cp: SimulatedChargePoint | undefined;

  afterEach(async () => {
    await cp?.close();
    cp = undefined;
    await cs.close();
    cs.assertStrict();
  });

  it('profile 2: connects over TLS with the operator root and HTTP Basic', async () => {
    cs = await TestCentralSystem.start({ tls: { cert: serverCertificate, key: serverKey } });
    const sim = simulator(cs, { password: '0123456789abcdef0123', tls: { ca: operator.certificate } });
    cp = sim.cp;
    assert.equal((await cp.connect())?.status, 'Accepted');
    assert.match(cs.url, /^wss:/);
    assert.equal(cs.handshakes[0]?.password?.toString(), '0123456789abcdef0123');
    assert.equal(cp.configuration.get('SecurityProfile'), '2');
  });

  it('refuses a central system whose certificate it cannot verify', async () => {
    cs = await TestCentralSystem.start({ tls: { cert: serverCertificate, key: serverKey } });
    const sim = simulator(cs, { tls: { ca: manufacturer.certificate } });
    cp = sim.cp;
    await assert.rejects(cp.connect(), /certificate/);
  });

  it('A02 + profile 3: signs a CSR on ExtendedTriggerMessage, installs the CertificateSigned chain and presents it on the next connection', async () => {
    cs = await TestCentralSystem.start({
      tls: { cert: serverCertificate, key: serverKey, ca: operator.certificate },
    });
    const sim = simulator(cs, {
      password: '0123456789abcdef0123',
      tls: { ca: operator.certificate },
      chargePointSerialNumber: 'SN-0042',
      configuration: { CpoName: 'Operator Ltd' },
    });
    cp = sim.cp;
    await cp.connect();
    const signRequest = cs.next('SignCertificate');
    assert.deepEqual(
      await cs.call('CP1', 'ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }),
      { status: 'Accepted' },
    );
    const { csr } = await signRequest;
    const request = readCsr(csr);
    // A02.FR.13 and A00.FR.511: O = CpoName, CN = the serial number.
    assert.deepEqual(request.subject, { organization: 'Operator Ltd', commonName: 'SN-0042' });

    // A certificate for some other key is refused, with a security event (A02.FR.07).
    const event = cs.next('SecurityEventNotification');
    const wrong = issue(operator, { commonName: 'SN-0042', organization: 'Operator Ltd' });
    assert.deepEqual(await cs.call('CP1', 'CertificateSigned', { certificateChain: wrong }), {
      status: 'Rejected',
    });
    assert.equal((await event).type, 'InvalidChargePointCertificate');

    const signed = createCertificate({
      subject: request.subject,
      publicKey: request.publicKey,
      issuer: { certificate: operator.certificate, privateKey: operator.keys.privateKey },
      notBefore: new Date(Math.min(Date.now(), T0) - DAY),
      notAfter: new Date(Math.max(Date.now(), T0) + 365 * DAY),
    });
    assert.deepEqual(await cs.call('CP1', 'CertificateSigned', { certificateChain: signed }), {
      status: 'Accepted',
    });
    assert.equal(cp.installedChargePointCertificate, signed);
    const first = cs.handshakes[0]?.request.socket as TLSSocket;
    assert.equal(first.getPeerCertificate().subject, undefined);

    // The new certificate is used from the next connection on; the security profile may now go to 3.
    assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'SecurityProfile', value: '1' }), {
      status: 'Rejected',
    });
    const reconnected = waitFor(cp, 'connected');
    assert.deepEqual(await cs.call('CP1', 'ChangeConfiguration', { key: 'SecurityProfile', value: '3' }), {
      status: 'Accepted',
    });
    await waitFor(cp, 'disconnected');
    sim.clock.advance(1000);
    await reconnected;
    const second = cs.handshakes[1]?.request.socket as TLSSocket;
    assert.equal(second.getPeerCertificate().subject?.CN, 'SN-0042');
    assert.equal(
      new X509Certificate(second.getPeerCertificate().raw).fingerprint256,
      new X509Certificate(signed).fingerprint256,
    );
    assert.equal(cp.configuration.get('SecurityProfile'), '3');
  });

  describe('over plain ws', () => {
    beforeEach(async () => {
      cs = await TestCentralSystem.start();
    });

    it('installs, lists and deletes root certificates by their hash data (M03-M05)', async () => {
      const sim = simulator(cs, {
        configuration: { CertificateStoreMaxLength: { value: 2, readonly: true } },
      });
      cp = sim.cp;
      await cp.connect();
      const install = (
        certificateType: 'CentralSystemRootCertificate' | 'ManufacturerRootCertificate',
        certificate: string,
      ) => cs.call('CP1', 'InstallCertificate', { certificateType, certificate });
      assert.deepEqual(
        await cs.call('CP1', 'GetInstalledCertificateIds', {
          certificateType: 'CentralSystemRootCertificate',
        }),
        {
          status: 'NotFound',
        },
      );
      assert.deepEqual(await install('CentralSystemRootCertificate', operator.certificate), {
        status: 'Accepted',
      });
      assert.deepEqual(await install('ManufacturerRootCertificate', manufacturer.certificate), {
        status: 'Accepted',
      });
      assert.deepEqual(await install('ManufacturerRootCertificate', 'not a certificate'), {
        status: 'Rejected',
      });
      assert.deepEqual(await install('ManufacturerRootCertificate', authority('Other', 'X').certificate), {
        status: 'Rejected',
      });
      const ids = await cs.call('CP1', 'GetInstalledCertificateIds', {
        certificateType: 'CentralSystemRootCertificate',
      });
      const expected = hashDataOf(new X509Certificate(operator.certificate));
      assert.deepEqual(ids, { status: 'Accepted', certificateHashData: [expected] });
      assert.deepEqual(await cs.call('CP1', 'DeleteCertificate', { certificateHashData: expected }), {
        status: 'Accepted',
      });
      assert.deepEqual(await cs.call('CP1', 'DeleteCertificate', { certificateHashData: expected }), {
        status: 'NotFound',
      });
    });

    it('uploads a log: GetLog answer, LogStatusNotification Uploading/Uploaded with the requestId, AcceptedCanceled over a running one (N01)', async () => {
      const sim = simulator(cs, { fileTransferS: 30 });
      cp = sim.cp;
      await cp.connect();
      const getLog = (requestId: number) =>
        cs.call('CP1', 'GetLog', {
          logType: 'SecurityLog',
          requestId,
          log: { remoteLocation: 'https://logs.example.com/' },
        });
      const uploading = cs.next('LogStatusNotification');
      assert.deepEqual(await getLog(1), { status: 'Accepted', filename: 'SecurityLog-CP1-1.log' });
      assert.deepEqual(await uploading, { status: 'Uploading', requestId: 1 });
      assert.deepEqual(await getLog(2), { status: 'AcceptedCanceled', filename: 'SecurityLog-CP1-2.log' });
      const triggered = cs.next(
        'LogStatusNotification',
        (p) => p.requestId === 2 && p.status === 'Uploading',
      );
      await cs.call('CP1', 'ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' });
      await triggered;
      await advance(cp, sim.clock, 30_000);
      assert.deepEqual(cs.messages('LogStatusNotification').at(-1), { status: 'Uploaded', requestId: 2 });
      const idle = cs.next('LogStatusNotification', (p) => p.status === 'Idle');
      await cs.call('CP1', 'ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' });
      assert.deepEqual(await idle, { status: 'Idle' });
    });

    it('refuses a signed firmware whose certificate no installed manufacturer root issued (L01.FR.24, FR.02)', async () => {
      const sim = simulator(cs);
      cp = sim.cp;
      await cp.connect();
      const event = cs.next('SecurityEventNotification');
      const signing = issue(manufacturer, { commonName: 'Firmware signer', organization: 'Maker GmbH' });
      const answer = await cs.call('CP1', 'SignedUpdateFirmware', {
        requestId: 9,
        firmware: {
          location: 'https://fw.example.com/sim-3.0.bin',
          retrieveDateTime: new Date(T0).toISOString(),
          signingCertificate: signing,
          signature: 'c2lnbmF0dXJl',
        },
      });
      assert.deepEqual(answer, { status: 'InvalidCertificate' });
      assert.equal((await event).type, 'InvalidFirmwareSigningCertificate');
    });

    it('runs a signed firmware update through every L01 state with its requestId, and reports Idle afterwards (L01.FR.28)', async () => {
      const sim = simulator(cs, { fileTransferS: 10, firmwareInstallS: 20, rebootDelayS: 5 });
      cp = sim.cp;
      await cp.connect();
      await cs.call('CP1', 'InstallCertificate', {
        certificateType: 'ManufacturerRootCertificate',
        certificate: manufacturer.certificate,
      });
      const signing = issue(manufacturer, { commonName: 'Firmware signer', organization: 'Maker GmbH' });
      const firmware = {
        location: 'https://fw.example.com/sim-3.0.bin',
        retrieveDateTime: new Date(T0 + 60_000).toISOString(),
        signingCertificate: signing,
        signature: 'c2lnbmF0dXJl',
      };
      assert.deepEqual(await cs.call('CP1', 'SignedUpdateFirmware', { requestId: 7, firmware }), {
        status: 'Accepted',
      });
      await cp.whenIdle();
      await advance(cp, sim.clock, 90_000, 10_000);
      const installed = cs.next('SignedFirmwareStatusNotification', (p) => p.status === 'Installed');
      sim.clock.advance(5000);
      await installed;
      assert.deepEqual(
        cs.messages('SignedFirmwareStatusNotification').map((m) => `${m.status}/${m.requestId}`),
        [
          'DownloadScheduled/7',
          'Downloading/7',
          'Downloaded/7',
          'SignatureVerified/7',
          'Installing/7',
          'InstallRebooting/7',
          'Installed/7',
        ],
      );
      assert.equal(cs.messages('BootNotification').at(-1)?.firmwareVersion, 'sim-3.0');
      const idle = cs.next('SignedFirmwareStatusNotification', (p) => p.status === 'Idle');
      await cs.call('CP1', 'ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' });
      assert.deepEqual(await idle, { status: 'Idle' });

      // A bad signature ends in InvalidSignature and a security event (L01.FR.03).
      const event = cs.next('SecurityEventNotification');
      await cs.call('CP1', 'SignedUpdateFirmware', {
        requestId: 8,
        firmware: {
          ...firmware,
          retrieveDateTime: new Date(sim.clock.now()).toISOString(),
          signature: '%%%',
        },
      });
      await advance(cp, sim.clock, 10_000);
      assert.equal(cs.messages('SignedFirmwareStatusNotification').at(-1)?.status, 'InvalidSignature');
      assert.equal((await event).type, 'InvalidFirmwareSignature');
    });

    it('queues security events while offline and delivers them after reconnecting (A04.FR.02)', async () => {
      const sim = simulator(cs);
      cp = sim.cp;
      await cp.connect();
      await cp.disconnect();
      cp.securityEvent('TamperDetectionActivated', 'door opened');
      assert.equal(cs.messages('SecurityEventNotification').length, 0);
      await cp.connect();
      await cp.whenIdle();
      const [event] = cs.messages('SecurityEventNotification');
      assert.equal(event?.type, 'TamperDetectionActivated');
      assert.equal(event?.techInfo, 'door opened');
      assert.equal(event?.timestamp, new Date(T0).toISOString());
      assert.ok(cp.securityLogEntries.some((e) => e.type === 'TamperDetectionActivated'));
    });

    it('refuses a higher security profile whose prerequisites are missing (A05)', async () => {
      const sim = simulator(cs, { password: '0123456789abcdef0123' });
      cp = sim.cp;
      await cp.connect();
      const change = (value: string) =>
        cs.call('CP1', 'ChangeConfiguration', { key: 'SecurityProfile', value });
      assert.equal(cp.configuration.get('SecurityProfile'), '1');
      assert.deepEqual(await change('0'), { status: 'Rejected' });
      assert.deepEqual(await change('1'), { status: 'Rejected' });
      // No Central System root certificate installed (A05.FR.03).
      assert.deepEqual(await change('2'), { status: 'Rejected' });
    });
  });
});
