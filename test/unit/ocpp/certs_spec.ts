import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { WebSocket } from 'ws';
import { chargerFileName } from '../../../lib/ocpp/certs';
import { useOcppHarness } from '../../support/ocpp';
import { repoRoot } from '../../support/repo';

/**
 * The bin's TypeScript source bundled once by esbuild (as tsx builds it; its packages stay in
 * node_modules): each of the 10 runs started it through tsx's loader before, 2-4 s each on a
 * loaded machine, which took a test with four runs past its timeout.
 */
let bundleDir: string | undefined;
function ampflowCsBundle(): string {
  if (!bundleDir) {
    bundleDir = mkdtempSync(join(tmpdir(), 'ampflow-cs-bin-'));
    buildSync({
      entryPoints: [join(repoRoot, 'bin', 'ampflow-cs.ts')],
      outfile: join(bundleDir, 'ampflow-cs.cjs'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
    });
  }
  return join(bundleDir, 'ampflow-cs.cjs');
}

/** `ampflow-cs <args>` as a real process (the bin's TypeScript source, bundled). */
function ampflowCs(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [ampflowCsBundle(), ...args], {
    cwd: repoRoot,
    // The bundle is outside the checkout: its packages are found in the checkout's node_modules.
    env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The HTTP status of a TLS WebSocket handshake (101 when the charger got in), or the TLS error's code. */
async function dial(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2],
): Promise<number | string> {
  const ws = new WebSocket(url, ['ocpp1.6'], options);
  return await new Promise<number | string>((resolve) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('ampflow-cs certs', () => {
  after(() => {
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });
  const harness = useOcppHarness();
  let dir = '';
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'ampflow-certs-')), 'pki');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('--help prints the usage and exits 0', () => {
    const run = ampflowCs(['certs', '--help']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^ampflow-cs certs: make the certificates/);
    assert.match(run.stdout, /--host <names>/);
    assert.match(run.stdout, /CN = the identity exactly/);
    assert.match(ampflowCs(['--help']).stdout, /ampflow-cs certs \[options\]/);
  });

  it('makes a CA, a server certificate for the dialled names and a client certificate per charger; a charger gets in under profile 3 with the server name verified', async () => {
    const bender = '+49*839*0000000001';
    const run = ampflowCs([
      'certs',
      '--dir',
      dir,
      '--host',
      'localhost,127.0.0.1,::1',
      '--charger',
      `CP-1,CP-10,${bender}`,
      '--organization',
      'Example CPO',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const file = (name: string) => readFileSync(join(dir, name), 'utf8');
    const mode = (name: string) => statSync(join(dir, name)).mode & 0o777;
    for (const key of [
      'ca.key',
      'server.key',
      'chargers/CP-1.key',
      `chargers/${chargerFileName(bender)}.key`,
    ])
      assert.equal(mode(key), 0o600, `${key} is readable by its owner only`);
    assert.equal(chargerFileName(bender), '+49%2A839%2A0000000001');
    const server = new X509Certificate(file('server.crt'));
    assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.match(server.subject, /CN=localhost/);
    assert.ok(server.checkIssued(new X509Certificate(file('ca.crt'))));
    assert.match(new X509Certificate(file('chargers/CP-1.crt')).subject, /^O=Example CPO\nCN=CP-1$/);

    const cs = await harness().centralSystem({
      securityProfile: 3,
      // Paths, as ampflow-cs --tls-cert/--tls-key/--tls-ca and the node take them.
      tls: {
        certificate: join(dir, 'server.crt'),
        privateKey: join(dir, 'server.key'),
        ca: join(dir, 'ca.crt'),
      },
      certificateOrganization: 'Example CPO',
      unknownChargePoints: 'accept',
    });
    const as = (identity: string) => ({
      ca: file('ca.crt'),
      cert: file(`chargers/${chargerFileName(identity)}.crt`),
      key: file(`chargers/${chargerFileName(identity)}.key`),
    });
    // The host name is checked against the certificate (rejectUnauthorized and checkServerIdentity: ws's defaults).
    assert.equal(await dial(`wss://localhost:${cs.port}/CP-1`, as('CP-1')), 101);
    assert.equal(await dial(`wss://127.0.0.1:${cs.port}/CP-1`, as('CP-1')), 101);
    assert.equal(await dial(`wss://localhost:${cs.port}/${encodeURIComponent(bender)}`, as(bender)), 101);
    // A name the certificate was not made for fails the charger's check, before any handshake.
    assert.equal(
      await dial(`wss://127.0.0.1:${cs.port}/CP-1`, {
        ...as('CP-1'),
        servername: 'cs.example.net',
      } as ConstructorParameters<typeof WebSocket>[2]),
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    // The CN rule: equal to the identity, never merely contained in it or containing it.
    assert.equal(await dial(`wss://localhost:${cs.port}/CP-1`, as('CP-10')), 401);
    assert.equal(await dial(`wss://localhost:${cs.port}/CP-10`, as('CP-1')), 401);
    assert.equal(await dial(`wss://localhost:${cs.port}/CP-10`, as('CP-10')), 101);
  });

  it('never overwrites without --force, and keeps the CA for chargers added later', () => {
    assert.equal(
      ampflowCs(['certs', '--dir', dir, '--host', 'cs.example.net', '--charger', 'CP-1']).status,
      0,
    );
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const serverCert = readFileSync(join(dir, 'server.crt'), 'utf8');
    const again = ampflowCs(['certs', '--dir', dir, '--host', 'cs.example.net']);
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      /--force: not given, and .*server\.crt, .*server\.key exist: nothing was written/,
    );
    assert.equal(readFileSync(join(dir, 'server.crt'), 'utf8'), serverCert);
    const added = ampflowCs(['certs', '--dir', dir, '--charger', 'CP-2']);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /using the CA in/);
    assert.ok(
      new X509Certificate(readFileSync(join(dir, 'chargers/CP-2.crt'))).checkIssued(new X509Certificate(ca)),
    );
    const forced = ampflowCs(['certs', '--dir', dir, '--host', 'cs.example.net', '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.notEqual(readFileSync(join(dir, 'server.crt'), 'utf8'), serverCert);
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca, 'the CA is reused, not replaced');
    assert.equal(statSync(join(dir, 'server.key')).mode & 0o777, 0o600, 'a rewritten key is still 600');
  });

  it('refuses identities a profile-3 CN cannot be, naming the option', () => {
    const run = ampflowCs(['certs', '--dir', dir, '--charger', '10.0.0.7']);
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /--charger: "10\.0\.0\.7" is an IP address; a charger's CN must not be one \(A00\.FR\.511\)/,
    );
    assert.match(
      ampflowCs(['certs', '--dir', dir, '--charger', 'CP 1']).stderr,
      /--charger: "CP 1": the identity has " "/,
    );
    assert.match(ampflowCs(['certs', '--dir', dir]).stderr, /nothing to make/);
  });

  it('every doc states the one CN rule: the CN equals the identity exactly (never "contains")', () => {
    const files = [
      'README.md',
      ...readdirSync(join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.md'))
        .map((name) => join('docs', name)),
      ...['en-US', 'de'].flatMap((language) =>
        readdirSync(join(repoRoot, 'nodes', 'locales', language)).map((name) =>
          join('nodes', 'locales', language, name),
        ),
      ),
    ];
    const contradicting = files.filter((name) => {
      const text = readFileSync(join(repoRoot, name), 'utf8');
      return /\bCN\s+(must\s+)?contains?\b/i.test(text) || /\bCN\b[^.<]*\benth(a|ä)lt/i.test(text);
    });
    assert.deepEqual(contradicting, [], 'these say the CN contains the identity');
    const stating = {
      'docs/security.md': /CN equals the charger identity exactly/,
      'docs/central-system.md': /CN must equal its identity exactly/,
      'docs/nodes/ampflow-central-system.md': /CN must equal the charger's identity exactly/,
      'nodes/locales/en-US/ampflow-central-system.html': /CN must equal the charger's identity exactly/,
      'nodes/locales/en-US/ampflow-central-system.json': /CN equals the charger's identity exactly/,
      'nodes/locales/de/ampflow-central-system.html': /CN genau der Kennung der Ladestation entsprechen/,
      'nodes/locales/de/ampflow-central-system.json': /CN genau der Kennung der Ladestation entspricht/,
    };
    for (const [name, rule] of Object.entries(stating))
      assert.match(readFileSync(join(repoRoot, name), 'utf8'), rule, `${name} states the rule`);
  });
});
