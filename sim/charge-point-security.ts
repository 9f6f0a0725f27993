import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Clock } from '../lib/clock';
import type { OcppRequest } from '../lib/ocpp/messages';
import { createCsr, generateKeyPair, issuedBy, type KeyPair, splitPem, validAt } from '../lib/ocpp/x509';
import type { CertificateStore } from './certificate-store';
import type { ConfigurationStore } from './configuration';
import type { Maintenance } from './maintenance';
import type { CommandOutcome } from './types';

/** What the security commands need from the charge point. */
export interface SecurityHost {
  readonly clock: Clock;
  readonly configuration: ConfigurationStore;
  readonly certificates: CertificateStore;
  securityEvent(type: string, techInfo?: string): void;
  securityLog(type: string, techInfo?: string): void;
  /** Online over TLS trusting only the installed Central System roots (no configured CA). */
  tlsReliesOnInstalledRoots(): boolean;
}

/**
 * The simulated charge point's security whitepaper state: the key of its last CSR and the client
 * certificate CertificateSigned installed, and the checks of CertificateSigned (A02/A03),
 * InstallCertificate (M05) and the firmware signing certificate (L01).
 */
export class ChargePointSecurity {
  private pendingCsrKey: KeyPair | undefined;
  private chargePointCertificate: { chain: string; privateKey: KeyObject } | undefined;

  constructor(private readonly host: SecurityHost) {}

  /** The client certificate installed through CertificateSigned, if any. */
  get clientCertificate(): { chain: string; privateKey: KeyObject } | undefined {
    return this.chargePointCertificate;
  }

  /** A new key pair and a CSR for it; the CertificateSigned that follows must certify this key. */
  newCsr(subject: { commonName: string; organization: string }): string {
    const keys = generateKeyPair();
    this.pendingCsrKey = keys;
    return createCsr(subject, keys);
  }

  /** CertificateSigned (A02/A03): the chain must certify the key of our last CSR, be valid now and chain to a trusted root. */
  certificateSigned(request: OcppRequest<'CertificateSigned'>): CommandOutcome<'CertificateSigned'> {
    const { configuration, certificates } = this.host;
    const reject = (why: string): CommandOutcome<'CertificateSigned'> => {
      // A02.FR.07: discard, and an InvalidChargePointCertificate security event.
      this.host.securityEvent('InvalidChargePointCertificate', why);
      return { response: { status: 'Rejected' } };
    };
    if (request.certificateChain.length > configuration.int('CertificateSignedMaxChainSize', 10_000)) {
      return reject('certificate chain longer than CertificateSignedMaxChainSize');
    }
    let chain: X509Certificate[];
    try {
      chain = splitPem(request.certificateChain);
    } catch {
      return reject('not a PEM certificate chain');
    }
    const [leaf] = chain;
    if (!leaf) return reject('no certificate');
    const key = this.pendingCsrKey;
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    if (!key || !spki(leaf.publicKey).equals(spki(key.publicKey))) {
      return reject('the certificate is not for the key of the last CSR');
    }
    const now = this.host.clock.now();
    if (!chain.every((cert) => validAt(cert, now))) return reject('outside its validity period');
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!issuedBy(chain[i] as X509Certificate, chain[i + 1] as X509Certificate))
        return reject('broken chain');
    }
    const roots = certificates.certificatesOf('CentralSystemRootCertificate');
    const top = chain[chain.length - 1] as X509Certificate;
    if (
      roots.length > 0 &&
      !roots.some((root) => issuedBy(top, root) || root.fingerprint256 === top.fingerprint256)
    ) {
      return reject('not issued within the operator hierarchy');
    }
    this.pendingCsrKey = undefined;
    this.chargePointCertificate = { chain: request.certificateChain, privateKey: key.privateKey };
    this.host.securityLog('ReconfigurationOfSecurityParameters', 'charge point certificate installed');
    return { response: { status: 'Accepted' } };
  }

  installCertificate(request: OcppRequest<'InstallCertificate'>): CommandOutcome<'InstallCertificate'> {
    const { configuration, certificates } = this.host;
    const max = configuration.int('CertificateStoreMaxLength', 10);
    if (
      request.certificateType === 'CentralSystemRootCertificate' &&
      configuration.bool('AdditionalRootCertificateCheck', false)
    ) {
      // M05.FR.09/10: the new root must be signed by the one it replaces.
      const old = certificates.certificatesOf('CentralSystemRootCertificate');
      try {
        const [incoming] = splitPem(request.certificate);
        if (!incoming || (old.length > 0 && !old.some((root) => issuedBy(incoming, root)))) {
          return { response: { status: 'Rejected' } };
        }
      } catch {
        return { response: { status: 'Rejected' } };
      }
    }
    return {
      response: {
        status: certificates.install(
          request.certificateType,
          request.certificate,
          this.host.clock.now(),
          max,
        ),
      },
    };
  }

  deleteCertificate(request: OcppRequest<'DeleteCertificate'>): CommandOutcome<'DeleteCertificate'> {
    const { certificates } = this.host;
    const stored = certificates.find(request.certificateHashData);
    if (!stored) return { response: { status: 'NotFound' } };
    // M04.FR.06: not the Central System root the current TLS connection relies on.
    const inUse =
      stored.type === 'CentralSystemRootCertificate' &&
      this.host.tlsReliesOnInstalledRoots() &&
      certificates.pems('CentralSystemRootCertificate').length === 1;
    if (inUse) return { response: { status: 'Failed' } };
    certificates.remove(stored);
    return { response: { status: 'Accepted' } };
  }

  signedUpdateFirmware(
    request: OcppRequest<'SignedUpdateFirmware'>,
    maintenance: Pick<Maintenance, 'firmwareInProgress' | 'startSignedFirmware'>,
  ): CommandOutcome<'SignedUpdateFirmware'> {
    // L01.FR.23-25: the signing certificate first, against the installed manufacturer roots.
    if (!this.firmwareSignerTrusted(request.firmware.signingCertificate)) {
      // L01.FR.02: InvalidFirmwareSigningCertificate.
      return {
        response: { status: 'InvalidCertificate' },
        after: () =>
          this.host.securityEvent('InvalidFirmwareSigningCertificate', `requestId ${request.requestId}`),
      };
    }
    // L01.FR.26: a new update cancels the one in progress.
    const status = maintenance.firmwareInProgress ? 'AcceptedCanceled' : 'Accepted';
    return { response: { status }, after: () => maintenance.startSignedFirmware(request) };
  }

  /** L01.FR.23-25: the firmware's signing certificate is valid now and issued by an installed manufacturer root. */
  private firmwareSignerTrusted(signingCertificate: string): boolean {
    let certificate: X509Certificate | undefined;
    try {
      [certificate] = splitPem(signingCertificate);
    } catch {
      certificate = undefined;
    }
    const roots = this.host.certificates.certificatesOf('ManufacturerRootCertificate');
    return (
      !!certificate &&
      validAt(certificate, this.host.clock.now()) &&
      roots.some((root) => issuedBy(certificate as X509Certificate, root))
    );
  }
}
