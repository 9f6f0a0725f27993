import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../config-error';

/**
 * TLS settings for security profiles 2 and 3. Each of certificate, key and CA is given either as
 * PEM text or as the path of a PEM file, so that the Node-RED editor can hold them as credentials
 * and a command line can point at files.
 */
export interface TlsSettings {
  /** The central system's certificate (chain): PEM text or a file path. */
  certificate: string;
  /** Its private key: PEM text or a file path. */
  privateKey: string;
  passphrase?: string;
  /** CA certificate(s) that signed the chargers' client certificates (profile 3): PEM text or path. */
  ca?: string;
  /** Lowest TLS version accepted; the whitepaper requires 1.2 (A00.FR.312). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  passphrase?: string;
  ca?: Buffer;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * Reads and checks the TLS material; throws a ConfigError naming the setting and the file (a
 * missing file, an unreadable one, a key that does not belong to the certificate).
 */
export function loadTlsMaterial(settings: TlsSettings, needsCa: boolean): TlsMaterial {
  const cert = readPem('TLS certificate', settings.certificate);
  const key = readPem('TLS private key', settings.privateKey, { secret: true });
  const ca = settings.ca ? readPem('TLS CA certificate', settings.ca) : undefined;
  if (needsCa && !ca) {
    throw new ConfigError(
      'TLS CA certificate',
      'security profile 3 needs the CA that signed the chargers’ certificates',
    );
  }
  const material: TlsMaterial = { cert, key, minVersion: settings.minVersion ?? 'TLSv1.2' };
  if (settings.passphrase) material.passphrase = settings.passphrase;
  if (ca) material.ca = ca;
  try {
    createSecureContext(material as SecureContextOptions);
  } catch (err) {
    throw new ConfigError(
      'TLS certificate',
      `certificate and key cannot be used together: ${(err as Error).message}`,
    );
  }
  return material;
}

/**
 * Settings hold either PEM text or a file path. PEM blocks are found wherever they are in the
 * text (openssl's "Bag Attributes" lines may precede them); only a short single line is taken for
 * a path. An error never repeats the value itself: it may be a private key. For a secret field
 * the path is not repeated either when no file has that name: the value may be the key's base64
 * body pasted without its -----BEGIN line.
 */
export function readPem(field: string, value: string, options: { secret?: boolean } = {}): Buffer {
  const text = value.trim();
  if (text === '') throw new ConfigError(field, 'is empty');
  if (text.includes('-----BEGIN')) return pemBlocks(field, text);
  if (text.includes('\n') || text.length > 1024) {
    throw new ConfigError(field, 'is neither PEM text (-----BEGIN ...) nor the path of a PEM file');
  }
  let content: Buffer;
  try {
    content = readFileSync(text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    if (options.secret) {
      throw new ConfigError(
        field,
        `is not PEM text (-----BEGIN ...) and no file of that name can be read (${why}); the value is not shown, as it may be the key itself`,
      );
    }
    throw new ConfigError(field, `cannot read ${text}: ${why}`);
  }
  if (!content.toString('utf8').includes('-----BEGIN')) {
    throw new ConfigError(field, `${text} is not a PEM file`);
  }
  return content;
}

function pemBlocks(field: string, text: string): Buffer {
  const blocks = restoreLineBreaks(text).match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g);
  if (!blocks) throw new ConfigError(field, 'has a -----BEGIN line but no complete PEM block');
  return Buffer.from(`${blocks.join('\n')}\n`);
}

/**
 * PEM text pasted into a one-line field (the editor's password input) loses its line breaks;
 * OpenSSL needs them, so each block's base64 body is wrapped at 64 characters again.
 */
export function restoreLineBreaks(pem: string): string {
  if (pem.includes('\n')) return pem;
  return pem.replace(
    /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----/g,
    (_block, label: string, body: string) =>
      `-----BEGIN ${label}-----\n${(body.replace(/\s+/g, '').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`,
  );
}
