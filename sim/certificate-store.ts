import type { X509Certificate } from 'node:crypto';
import type { GetInstalledCertificateIdsRequest } from '../lib/ocpp/messages';
import {
  type CertificateHashData,
  type HashAlgorithm,
  hashDataOf,
  splitPem,
  validAt,
} from '../lib/ocpp/x509';

/**
 * The simulated charge point's trust store of root certificates (M03-M05); certificates are made
 * and read by the package's X.509 (lib/ocpp/x509.ts).
 */

export type CertificateType = GetInstalledCertificateIdsRequest['certificateType'];

interface StoredCertificate {
  type: CertificateType;
  certificate: X509Certificate;
}

export class CertificateStore {
  private readonly certificates: StoredCertificate[] = [];

  get size(): number {
    return this.certificates.length;
  }

  /** PEM of every installed certificate of `type`. */
  pems(type: CertificateType): string[] {
    return this.certificates.filter((c) => c.type === type).map((c) => c.certificate.toString());
  }

  certificatesOf(type: CertificateType): X509Certificate[] {
    return this.certificates.filter((c) => c.type === type).map((c) => c.certificate);
  }

  /**
   * InstallCertificate: Rejected when the certificate is not a valid certificate now (M05.FR.06) or
   * the store is full (M05.FR.03); Accepted otherwise. A certificate already present stays once.
   */
  install(
    type: CertificateType,
    certificatePem: string,
    nowMs: number,
    maxCount: number,
  ): 'Accepted' | 'Rejected' {
    let certificate: X509Certificate;
    try {
      [certificate] = splitPem(certificatePem) as [X509Certificate];
      if (!certificate) return 'Rejected';
    } catch {
      return 'Rejected';
    }
    if (!validAt(certificate, nowMs)) return 'Rejected';
    if (
      this.certificates.some(
        (c) => c.type === type && c.certificate.fingerprint256 === certificate.fingerprint256,
      )
    ) {
      return 'Accepted';
    }
    if (this.certificates.length >= maxCount) return 'Rejected';
    this.certificates.push({ type, certificate });
    return 'Accepted';
  }

  /** GetInstalledCertificateIds: hash data of every certificate of `type`. */
  ids(type: CertificateType, hashAlgorithm: HashAlgorithm = 'SHA256'): CertificateHashData[] {
    return this.certificatesOf(type).map((certificate) => hashDataOf(certificate, hashAlgorithm));
  }

  /** The installed certificate `hashData` identifies, if any. */
  find(hashData: CertificateHashData): StoredCertificate | undefined {
    const same = (a: string, b: string) =>
      a.toLowerCase().replace(/^0+(?=.)/, '') === b.toLowerCase().replace(/^0+(?=.)/, '');
    return this.certificates.find((stored) => {
      const ours = hashDataOf(stored.certificate, hashData.hashAlgorithm);
      return (
        same(ours.issuerNameHash, hashData.issuerNameHash) &&
        same(ours.issuerKeyHash, hashData.issuerKeyHash) &&
        same(ours.serialNumber, hashData.serialNumber)
      );
    });
  }

  remove(stored: { certificate: X509Certificate }): void {
    const index = this.certificates.findIndex((c) => c.certificate === stored.certificate);
    if (index >= 0) this.certificates.splice(index, 1);
  }
}
