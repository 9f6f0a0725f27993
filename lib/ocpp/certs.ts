import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config-error';
import type { CliIo } from './cli';
import { certificateProblem, clientCertificateCommonName, identityProblem } from './handshake';
import { createCertificate, type DistinguishedName, generateKeyPair } from './x509';

/**
 * `ampflow-cs certs`: a small certificate authority for security profiles 2 and 3 (OCPP 1.6
 * security whitepaper 2.4-2.6), made with Node's own crypto (no openssl, no dependency): a CA, the
 * central system's certificate for the names and addresses in the URL the chargers dial, and one
 * client certificate per charger whose CN is its identity (handshake.ts, the CN rule). Keys are
 * ECDSA P-256 with SHA-256. Private keys are written readable by their owner only; no file is
 * overwritten without --force; an existing CA in the directory is reused, so chargers added later
 * get certificates from the CA the central system already trusts.
 */

export const CERTS_HELP = `ampflow-cs certs: make the certificates for security profiles 2 and 3.

Usage: ampflow-cs certs [options]

  --dir <dir>               where the files go (default ./ampflow-certs); made if missing
  --host <names>            the host names and IP addresses in the URL the chargers dial, separated
                            by commas (wss://<one of them>:<port>/...): the server certificate's
                            names (CN: the first host name, A00.FR.510); no server certificate
                            without it
  --charger <ids>           charger identities, separated by commas: one client certificate each
                            for profile 3, CN = the identity exactly (case included)
  --organization <name>     O of every certificate: the CPO name; profile 3 checks it when the
                            central system's CPO name is set (A00.FR.404)
  --days <n>                validity of the server and charger certificates (default 825);
                            the CA is valid 10 years
  --force                   overwrite files that exist (the CA is reused whenever ca.crt and
                            ca.key exist: delete them to start a new CA)
  --help                    this text

Files: ca.crt, ca.key (the CA: keep ca.key offline once done), server.crt, server.key,
chargers/<identity>.crt and .key (characters other than a-z A-Z 0-9 . _ - = + @ written as %XX).
Keys are ECDSA P-256 (SHA-256), readable by their owner only (mode 600).
Then: ampflow-cs --security-profile 3 --tls-cert <dir>/server.crt --tls-key <dir>/server.key
      --tls-ca <dir>/ca.crt, and install ca.crt in each charger as its CentralSystemRootCertificate
      and chargers/<identity>.crt + .key as its own certificate.`;

const OPTIONS = {
  dir: { type: 'string' },
  host: { type: 'string' },
  charger: { type: 'string' },
  organization: { type: 'string' },
  days: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const DEFAULT_DAYS = 825;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

export interface CertsRequest {
  directory: string;
  hosts: string[];
  chargers: string[];
  organization?: string;
  days: number;
  force: boolean;
  now?: Date;
}

/** The file name a charger identity gets: identities may hold `*`, `:` or `|`. */
export function chargerFileName(identity: string): string {
  return identity.replace(/[^A-Za-z0-9._\-=+@]/g, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

/** Reads the command line into a request; throws ConfigError naming the option. undefined: --help. */
export function parseCertsArgs(argv: string[]): CertsRequest | undefined {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    throw new ConfigError('command line', (err as Error).message);
  }
  if (values.help) return undefined;
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const hosts = list(values.host);
  for (const host of hosts) {
    if (
      !isIP(host) &&
      !/^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
        host,
      )
    )
      throw new ConfigError('--host', `${JSON.stringify(host)} is neither a host name nor an IP address`);
  }
  const chargers = list(values.charger);
  for (const identity of chargers) {
    const problem = identityProblem(identity);
    if (problem) throw new ConfigError('--charger', `${JSON.stringify(identity)}: ${problem}`);
    // A00.FR.511: a charger's CN must not look like a URL or an IP address (a server's would).
    if (isIP(identity))
      throw new ConfigError(
        '--charger',
        `${JSON.stringify(identity)} is an IP address; a charger's CN must not be one (A00.FR.511)`,
      );
  }
  if (new Set(chargers).size !== chargers.length)
    throw new ConfigError('--charger', 'an identity is listed twice');
  const days = values.days === undefined ? DEFAULT_DAYS : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > CA_DAYS)
    throw new ConfigError('--days', `${values.days} is not a whole number of days from 1 to ${CA_DAYS}`);
  if (hosts.length === 0 && chargers.length === 0)
    throw new ConfigError(
      'command line',
      'nothing to make: give --host (the server certificate) and/or --charger',
    );
  return {
    directory: values.dir ?? 'ampflow-certs',
    hosts,
    chargers,
    ...(values.organization ? { organization: values.organization } : {}),
    days,
    force: values.force === true,
  };
}

interface PlannedFile {
  path: string;
  content: string;
  mode: number;
}

/**
 * Makes the CA (or reuses the one in the directory) and the certificates asked for; returns the
 * files written. Nothing is written when a file exists and `force` is not set.
 */
export function makeCertificates(request: CertsRequest): { written: string[]; caReused: boolean } {
  const now = request.now ?? new Date();
  const dir = request.directory;
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const haveCert = existsSync(caCertPath);
  const haveKey = existsSync(caKeyPath);
  if (haveCert !== haveKey)
    throw new ConfigError(
      '--dir',
      `${haveCert ? caCertPath : caKeyPath} exists without its ${haveCert ? 'ca.key' : 'ca.crt'}: restore it, or remove both to start a new CA`,
    );
  const files: PlannedFile[] = [];
  let ca: { certificate: string; privateKey: KeyObject };
  if (haveCert) {
    const certificate = readFileSync(caCertPath, 'utf8');
    ca = { certificate, privateKey: createPrivateKey(readFileSync(caKeyPath, 'utf8')) };
    if (!new X509Certificate(certificate).checkPrivateKey(ca.privateKey))
      throw new ConfigError('--dir', `${caKeyPath} is not the key of ${caCertPath}`);
  } else {
    const keys = generateKeyPair();
    const subject: DistinguishedName = { commonName: `${request.organization ?? 'ampflow'} charging CA` };
    if (request.organization) subject.organization = request.organization;
    const certificate = createCertificate({
      subject,
      publicKey: keys.publicKey,
      selfSigningKey: keys.privateKey,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
      ca: true,
    });
    ca = { certificate, privateKey: keys.privateKey };
    files.push({ path: caCertPath, content: certificate, mode: CERT_MODE });
    files.push({ path: caKeyPath, content: pemKey(keys.privateKey), mode: KEY_MODE });
  }
  const leaf = (subject: DistinguishedName, usage: 'serverAuth' | 'clientAuth', names?: string[]) => {
    const keys = generateKeyPair();
    const certificate = createCertificate({
      subject: request.organization ? { ...subject, organization: request.organization } : subject,
      publicKey: keys.publicKey,
      issuer: ca,
      // A day back: a charger whose clock is a little behind still takes it.
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + request.days * DAY_MS),
      extendedKeyUsage: usage,
      ...(names ? { subjectAltNames: names } : {}),
    });
    return { certificate, key: pemKey(keys.privateKey) };
  };
  if (request.hosts.length > 0) {
    // A00.FR.510: the FQDN in the CN; every name and address the chargers may dial in the SANs.
    const commonName = request.hosts.find((host) => !isIP(host)) ?? (request.hosts[0] as string);
    const server = leaf({ commonName }, 'serverAuth', request.hosts);
    files.push({ path: join(dir, 'server.crt'), content: server.certificate, mode: CERT_MODE });
    files.push({ path: join(dir, 'server.key'), content: server.key, mode: KEY_MODE });
  }
  for (const identity of request.chargers) {
    const made = leaf({ commonName: clientCertificateCommonName(identity) }, 'clientAuth');
    // The handshake's own check, so the file can never disagree with what profile 3 accepts.
    const subject = new X509Certificate(made.certificate).subject;
    const problem = certificateProblem(
      identity,
      { subject: parseSubject(subject) } as never,
      request.organization,
    );
    if (problem) throw new Error(`made a certificate profile 3 would refuse: ${problem}`);
    const base = join(dir, 'chargers', chargerFileName(identity));
    files.push({ path: `${base}.crt`, content: made.certificate, mode: CERT_MODE });
    files.push({ path: `${base}.key`, content: made.key, mode: KEY_MODE });
  }
  const existing = files.filter((file) => existsSync(file.path)).map((file) => file.path);
  if (existing.length > 0 && !request.force)
    throw new ConfigError(
      '--force',
      `not given, and ${existing.join(', ')} ${existing.length === 1 ? 'exists' : 'exist'}: nothing was written`,
    );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (request.chargers.length > 0) mkdirSync(join(dir, 'chargers'), { recursive: true, mode: 0o700 });
  for (const file of files) writeNew(file, request.force);
  return { written: files.map((file) => file.path), caReused: haveCert };
}

/** Writes a file created with its mode (an existing one is removed first under --force). */
function writeNew(file: PlannedFile, force: boolean): void {
  if (force && existsSync(file.path)) unlinkSync(file.path);
  const fd = openSync(file.path, 'wx', file.mode);
  try {
    writeSync(fd, file.content);
  } finally {
    closeSync(fd);
  }
}

function pemKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** X509Certificate.subject ("CN=...\nO=...") as tls.PeerCertificate's subject. */
function parseSubject(subject: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of subject.split('\n')) {
    const at = line.indexOf('=');
    // Special characters come escaped (`+49*...` comes as `\+49*...`): the value without the escapes.
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).replace(/\\(.)/g, '$1');
  }
  return out;
}

/** The `ampflow-cs certs` program; returns the exit code. */
export function runCertsCli(argv: string[], io: CliIo): number {
  let request: CertsRequest | undefined;
  try {
    request = parseCertsArgs(argv);
    if (!request) {
      io.out(CERTS_HELP);
      return 0;
    }
    const { written, caReused } = makeCertificates(request);
    if (caReused) io.out(`using the CA in ${join(request.directory, 'ca.crt')}`);
    for (const path of written) io.out(`wrote ${path}`);
    return 0;
  } catch (err) {
    io.err(`ampflow-cs certs: ${(err as Error).message}`);
    if (err instanceof ConfigError) io.err('ampflow-cs certs --help lists the options');
    return 1;
  }
}
