import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import {
  bitString,
  certificateParts,
  childrenOf,
  type DistinguishedName,
  explicit,
  integer,
  name,
  OID,
  objectId,
  octetString,
  pem,
  readNode,
  sequence,
  signatureAlgorithm,
  spki,
  TRUE,
  time,
  tlv,
} from './der';
import type { DeleteCertificateRequest } from './messages';

/**
 * The package's one home for making and reading X.509 (security whitepaper 2.4-2.6, A02/A03,
 * M03-M05, L01): key pairs, certificates (`ampflow-cs certs` makes a central system's CA and
 * certificates with it; tests and the simulator make theirs), PKCS#10 certificate signing
 * requests, the hash data that identifies an installed certificate, chains and validity. Keys are
 * ECDSA P-256 with SHA-256 (A00.FR.503/506). Node has X.509 parsing but no writer, hence the few
 * DER helpers in der.ts. The simulated charge point's trust store is the simulator's own
 * (sim/certificate-store.ts) and imports this, never the other way round.
 */

export type { DistinguishedName } from './der';

export type CertificateHashData = DeleteCertificateRequest['certificateHashData'];
export type HashAlgorithm = CertificateHashData['hashAlgorithm'];

// ---- Public helpers -------------------------------------------------------------------------

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh ECDSA P-256 key pair. */
export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** A PEM-encoded PKCS#10 certificate signing request (RFC 2986), signed with `keys.privateKey`. */
export function createCsr(subject: DistinguishedName, keys: KeyPair): string {
  const info = sequence(
    integer(Buffer.from([0])),
    name(subject),
    spki(keys.publicKey),
    explicit(0, Buffer.alloc(0)),
  );
  const signature = sign('sha256', info, keys.privateKey);
  return pem('CERTIFICATE REQUEST', sequence(info, signatureAlgorithm(), bitString(signature)));
}

/** Reads the subject and public key of a PEM certificate signing request. */
export function readCsr(csrPem: string): { subject: DistinguishedName; publicKey: KeyObject } {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const [info] = childrenOf(der, readNode(der, 0));
  if (!info) throw new Error('not a certificate signing request');
  const [, subjectNode, keyInfo] = childrenOf(der, info);
  if (!subjectNode || !keyInfo) throw new Error('not a certificate signing request');
  const subject: DistinguishedName = {};
  for (const rdn of childrenOf(der, subjectNode)) {
    for (const attribute of childrenOf(der, rdn)) {
      const [type, value] = childrenOf(der, attribute);
      if (!type || !value) continue;
      const oid = der.subarray(type.offset, type.end);
      const text = der.subarray(value.start, value.end).toString('utf8');
      if (oid.equals(objectId(OID.commonName))) subject.commonName = text;
      if (oid.equals(objectId(OID.organizationName))) subject.organization = text;
    }
  }
  const publicKey = createPublicKey({
    key: der.subarray(keyInfo.offset, keyInfo.end),
    format: 'der',
    type: 'spki',
  });
  return { subject, publicKey };
}

export interface CertificateSpec {
  subject: DistinguishedName;
  publicKey: KeyObject;
  /** The signing CA; omit for a self-signed certificate (then `selfSigningKey` signs). */
  issuer?: { certificate: string; privateKey: KeyObject };
  selfSigningKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints cA=true, keyCertSign). */
  ca?: boolean;
  /** DNS names and IP addresses (v4 or v6) for a server certificate. */
  subjectAltNames?: string[];
  /** What the key may be used for in TLS: the server's side, or a client's (a charger's, profile 3). */
  extendedKeyUsage?: 'serverAuth' | 'clientAuth';
  serialNumber?: Buffer;
}

/** The 16 bytes of an IPv6 address (RFC 4291 text form, `::` and an embedded IPv4 tail allowed). */
function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string) => {
    if (part === '') return [] as number[];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (isIPv4(group)) {
        const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
        out.push(a * 256 + b, c * 256 + d);
      } else out.push(Number.parseInt(group, 16));
    }
    return out;
  };
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => {
    bytes.writeUInt16BE(group, i * 2);
  });
  return bytes;
}

/**
 * A PEM X.509 v3 certificate, ECDSA with SHA-256. For tests and for trying a central system's
 * certificate handling before real certificates exist; not a certificate authority.
 */
export function createCertificate(spec: CertificateSpec): string {
  const issuerName = spec.issuer
    ? certificateParts(new X509Certificate(spec.issuer.certificate)).subject
    : name(spec.subject);
  const signingKey = spec.issuer?.privateKey ?? spec.selfSigningKey;
  if (!signingKey) throw new Error('a self-signed certificate needs selfSigningKey');
  const extensions: Buffer[] = [
    sequence(objectId(OID.basicConstraints), TRUE, octetString(spec.ca ? sequence(TRUE) : sequence())),
    sequence(
      objectId(OID.keyUsage),
      TRUE,
      // keyCertSign + cRLSign for a CA, digitalSignature for an end entity.
      octetString(spec.ca ? tlv(0x03, Buffer.from([0x01, 0x06])) : tlv(0x03, Buffer.from([0x07, 0x80]))),
    ),
  ];
  if (spec.subjectAltNames?.length) {
    const names = spec.subjectAltNames.map((entry) =>
      isIPv4(entry)
        ? tlv(0x87, Buffer.from(entry.split('.').map(Number)))
        : isIPv6(entry)
          ? tlv(0x87, ipv6Bytes(entry))
          : tlv(0x82, Buffer.from(entry, 'ascii')),
    );
    extensions.push(sequence(objectId(OID.subjectAltName), octetString(sequence(...names))));
  }
  if (spec.extendedKeyUsage) {
    extensions.push(
      sequence(objectId(OID.extendedKeyUsage), octetString(sequence(objectId(OID[spec.extendedKeyUsage])))),
    );
  }
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(spec.serialNumber ?? Buffer.concat([Buffer.from([0x01]), randomBytes(8)])),
    signatureAlgorithm(),
    issuerName,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki(spec.publicKey),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signingKey);
  return pem('CERTIFICATE', sequence(tbs, signatureAlgorithm(), bitString(signature)));
}

/** Splits a PEM bundle (a certificate chain) into certificates. */
export function splitPem(bundle: string): X509Certificate[] {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** Whether `cert` is within its validity period at `atMs`. */
export function validAt(cert: X509Certificate, atMs: number): boolean {
  return Date.parse(cert.validFrom) <= atMs && atMs <= Date.parse(cert.validTo);
}

/** Whether `issuer` issued and signed `cert`. */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * The hash data identifying a certificate (whitepaper 6.1, after OCSP CertID): hashes of the
 * issuer's name and of the issuer's public key, and the serial number in hex without leading
 * zeroes. `issuer` defaults to the certificate itself, right for the root certificates
 * InstallCertificate installs.
 */
export function hashDataOf(
  cert: X509Certificate,
  hashAlgorithm: HashAlgorithm = 'SHA256',
  issuer: X509Certificate = cert,
): CertificateHashData {
  const digest = (data: Buffer) => createHash(hashAlgorithm.toLowerCase()).update(data).digest('hex');
  return {
    hashAlgorithm,
    issuerNameHash: digest(certificateParts(cert).issuer),
    issuerKeyHash: digest(certificateParts(issuer).publicKeyBits),
    serialNumber: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
  };
}
