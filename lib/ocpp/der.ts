/**
 * The few DER helpers the package's X.509 (x509.ts) needs: Node has X.509 parsing but no
 * writer. Writing: the TLV shapes, names, keys, PEM; reading: the nodes of a
 * certificate, for its issuer, subject and public key bits.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';

export const OID = {
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

export function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
export const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
export const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
export const octetString = (content: Buffer) => tlv(0x04, content);
export const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
export const TRUE = Buffer.from([0x01, 0x01, 0xff]);

export function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const part of rest) {
    const chunk = [part % 128];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n % 128) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

export function integer(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = value.subarray(start);
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

export function time(date: Date): Buffer {
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

export function name(dn: DistinguishedName): Buffer {
  const rdns: Buffer[] = [];
  if (dn.organization) rdns.push(set(sequence(objectId(OID.organizationName), utf8(dn.organization))));
  if (dn.commonName) rdns.push(set(sequence(objectId(OID.commonName), utf8(dn.commonName))));
  return sequence(...rdns);
}

export function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

export const signatureAlgorithm = () => sequence(objectId(OID.ecdsaWithSha256));

export function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---- DER reading ----------------------------------------------------------------------------

export interface Node {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
}

export function readNode(der: Buffer, offset: number): Node {
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

export function childrenOf(der: Buffer, node: Node): Node[] {
  const children: Node[] = [];
  for (let offset = node.start; offset < node.end; ) {
    const child = readNode(der, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The raw issuer Name and the subjectPublicKey bits of a certificate. */
export function certificateParts(cert: X509Certificate): {
  issuer: Buffer;
  subject: Buffer;
  publicKeyBits: Buffer;
} {
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
