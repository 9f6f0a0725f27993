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
import type { DeleteCertificateRequest, GetInstalledCertificateIdsRequest } from '../ocpp/messages';

/**
 * Just enough X.509 for a simulated charge point (security whitepaper 2.6, A02/A03, M03-M05, L01):
 * a PKCS#10 certificate signing request, the hash data that identifies an installed certificate,
 * a certificate store, and a small certificate builder so that tests and integrators can make the
 * certificates the central system would send. Keys are ECDSA P-256 with SHA-256 (A00.FR.503/506).
 * Node has X.509 parsing but no writer, hence the few DER helpers below.
 */

export type CertificateType = GetInstalledCertificateIdsRequest['certificateType'];
export type CertificateHashData = DeleteCertificateRequest['certificateHashData'];
export type HashAlgorithm = CertificateHashData['hashAlgorithm'];

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

// ---- DER writing ----------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const octetString = (content: Buffer) => tlv(0x04, content);
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const part of rest) {
    const chunk = [part % 128];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n % 128) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function integer(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = value.subarray(start);
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // RFC 5280 4.1.2.5: UTCTime until 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

export interface DistinguishedName {
  /** CN: a charge point's serial number (A00.FR.511), a server's host name (A00.FR.510). */
  commonName?: string;
  /** O: the owner's organisation (A00.FR.509); the CpoName in a charge point's CSR (A02.FR.13). */
  organization?: string;
}

function name(dn: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  if (dn.organization) rdns.push(set(sequence(objectId(OID.organizationName), utf8(dn.organization))));
  if (dn.commonName) rdns.push(set(sequence(objectId(OID.commonName), utf8(dn.commonName))));
  return sequence(...rdns);
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

const signatureAlgorithm = () => sequence(objectId(OID.ecdsaWithSha256));

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---- DER reading ----------------------------------------------------------------------------

interface Node {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
}

function readNode(der: Buffer, offset: number): Node {
  const tag = der[offset] ?? 0;
  let lengthByte = der[offset + 1] ?? 0;
  let start = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    lengthByte &= 0x7f;
    length = 0;
    for (let i = 0; i < lengthByte; i++) length = length * 256 + (der[start + i] ?? 0);
    start += lengthByte;
  }
  return { tag, offset, start, end: start + length };
}

function childrenOf(der: Buffer, node: Node): Node[] {
  const children: Node[] = [];
  for (let offset = node.start; offset < node.end; ) {
    const child = readNode(der, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The raw issuer Name and the subjectPublicKey bits of a certificate. */
function certificateParts(cert: X509Certificate): { issuer: Buffer; subject: Buffer; publicKeyBits: Buffer } {
  const der = cert.raw;
  const [tbs] = childrenOf(der, readNode(der, 0));
  if (!tbs) throw new Error('not a certificate');
  const fields = childrenOf(der, tbs);
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const [, , issuer, , subject, info] = rest;
  if (!issuer || !subject || !info) throw new Error('not a certificate');
  const [, bits] = childrenOf(der, info);
  if (!bits) throw new Error('not a certificate');
  return {
    issuer: der.subarray(issuer.offset, issuer.end),
    subject: der.subarray(subject.offset, subject.end),
    // The BIT STRING value without its unused-bits byte, as OCSP's issuerKeyHash takes it (RFC 6960 4.1.1).
    publicKeyBits: der.subarray(bits.start + 1, bits.end),
  };
}

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

interface StoredCertificate {
  type: CertificateType;
  certificate: X509Certificate;
}

/** The charge point's trust store of root certificates (M03-M05). */
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
