import {
  createCertificate,
  type DistinguishedName,
  generateKeyPair,
  type KeyPair,
} from '../../lib/ocpp/x509';

/**
 * Certificate authorities and certificates made with the package's own X.509 code
 * (lib/ocpp/x509.ts, no openssl), for the security-whitepaper tests.
 */

/** The simulators' ManualClock starts here; certificates must be valid then. */
export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

export interface Authority {
  keys: KeyPair;
  certificate: string;
}

/** A self-signed root, valid from a year before T0 for ten years. */
export function authority(commonName: string, organization: string): Authority {
  const keys = generateKeyPair();
  const certificate = createCertificate({
    subject: { commonName, organization },
    publicKey: keys.publicKey,
    selfSigningKey: keys.privateKey,
    notBefore: new Date(T0 - 365 * DAY),
    notAfter: new Date(T0 + 3650 * DAY),
    ca: true,
  });
  return { keys, certificate };
}

/** A certificate `ca` issues for `subject` (and `names`), valid from a day before T0 for a year. */
export function issue(
  ca: Authority,
  subject: DistinguishedName,
  publicKey = generateKeyPair().publicKey,
  names?: string[],
): string {
  return createCertificate({
    subject,
    publicKey,
    issuer: { certificate: ca.certificate, privateKey: ca.keys.privateKey },
    notBefore: new Date(T0 - DAY),
    notAfter: new Date(T0 + 365 * DAY),
    ...(names ? { subjectAltNames: names } : {}),
  });
}
