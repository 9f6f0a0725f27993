import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createTlsServer } from 'node:tls';
import type { RPCClient } from 'ocpp-rpc';
import { WebSocket } from 'ws';
import { ManualClock } from '../../lib/clock';
import { CentralSystem } from '../../lib/ocpp/central-system';
import { PasswordBook } from '../../lib/ocpp/passwords';
import { type TestPki, useTestPki } from '../support/certs';
import { answer, rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { waitFor } from '../support/events';
import { BOOT, type OcppHarness, useOcppHarness } from '../support/ocpp';
import { basic, type ClientOptions, handshakeStatus, tlsProbe } from './support/security';

/**
 * Who gets in, with real certificates made by openssl (test/support/certs.ts), for each security
 * profile and each OCPP version: every way in that must fail, next to the one that must work, so
 * that a test of a refusal cannot pass merely because nothing works. The security profiles are
 * decided at the WebSocket upgrade, before any OCPP message, so a charger offering `ocpp2.0.1` must
 * be let in, and kept out, exactly as one offering `ocpp1.6`. Profile 1 (and 2, over TLS): HTTP
 * Basic with the charger's identity as the user name and its own password (OCPP 2.0.1 part 2,
 * A00.FR.203-205; the 1.6 security whitepaper); anything else is HTTP 401. Profile 3: a client
 * certificate from the chargers' CA whose CN is the identity. TLS versions and secrets in the log
 * do not depend on the version: they are tested once, with the 1.6 chargers.
 * test/unit/ocpp/security_spec.ts has the log lines and the certificate-field checks; this file is
 * the attacker's view.
 */
const PASSWORDS = PasswordBook.parse('CP-1 0123456789abcdef0123\nCP-2 fedcba9876543210fedc');
const CP1 = '0123456789abcdef0123';
const CP2 = 'fedcba9876543210fedc';
const BOOT_201 = { reason: 'PowerUp', chargingStation: { model: 'EVSE-2', vendorName: 'Vendor201' } };

/** One upgrade offering `protocols`: the HTTP status of a refusal, or 101 with the sub-protocol agreed. */
function handshake(
  url: string,
  protocols: string[],
  options: ClientOptions = {},
): Promise<{ status: number; protocol?: string }> {
  const ws = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('open', () => {
      resolve({ status: 101, protocol: ws.protocol });
      ws.close();
    });
    ws.once('error', reject);
  });
}

/** What differs between the versions; everything else is one test. */
interface Version {
  /** The describe's title. */
  title: string;
  passwordTitle(profile: 1 | 2): string;
  certificateTitle: string;
  /** The sub-protocol its chargers offer. */
  protocol: string;
  /**
   * The way in that must work, before the refusals: the charger boots Accepted (`endpoint`
   * without the identity; `wsOpts`: TLS material).
   */
  bootsAccepted(
    endpoint: string,
    identity: string,
    options: { password?: string; wsOpts?: ClientOptions },
    profile: 1 | 2 | 3,
    /** Clients left open by a failure, closed after the test. */
    clients: (RPCClient | Charger201)[],
  ): Promise<void>;
  /** Ways in that must fail with HTTP 401: what, the identity dialled, the client's options. */
  attempts: [string, string, ClientOptions][];
  /** Each attempt is offered with these sub-protocols, from address `addressBase` + its number + the offset. */
  offers: readonly (readonly [number, string])[];
  addressBase: string;
  /** A second charger's own password opens its own identity too (101 with the version's sub-protocol). */
  secondOpens: boolean;
}

/** The attempts both versions share, in 1.6's order. */
const SHARED: [string, string, ClientOptions][] = [
  ['wrong password', 'CP-1', basic('CP-1', 'wrong-wrong-wrong-wrong')],
  ['no password', 'CP-1', {}],
  ['empty password', 'CP-1', basic('CP-1', '')],
  ["another charger's password", 'CP-1', basic('CP-1', CP2)],
  ['the password with one byte more', 'CP-1', basic('CP-1', `${CP1}x`)],
  ['the password but one byte', 'CP-1', basic('CP-1', CP1.slice(0, -1))],
];

/** A 1.6 charger that must get in: connects, boots Accepted, closes. */
const bootsAccepted16: Version['bootsAccepted'] = async (endpoint, identity, options) => {
  const client = rpcChargePoint(endpoint, identity, options);
  await client.connect();
  const boot = (await client.call('BootNotification', BOOT)) as { status: string };
  await client.close();
  assert.equal(boot.status, 'Accepted', `${identity} boots`);
};

/** ocpp-rpc's client in strict 2.0.1 mode (every frame checked against the OCA 2.0.1 schemas). */
async function bootsAccepted201(
  endpoint: string,
  identity: string,
  options: object,
  clients: (RPCClient | Charger201)[],
): Promise<void> {
  const client = rpcChargePoint(endpoint, identity, {
    protocols: ['ocpp2.0.1'],
    strictMode: true,
    ...options,
  });
  clients.push(client);
  await client.connect();
  assert.equal(client.protocol, 'ocpp2.0.1', `${identity} speaks 2.0.1`);
  const boot = (await client.call('BootNotification', BOOT_201)) as { status: string };
  assert.equal(boot.status, 'Accepted', `${identity} boots`);
  await client.close();
}

const VERSIONS: Version[] = [
  {
    title: 'security: who gets in (profiles 1-3, real certificates)',
    passwordTitle: (profile) => `profile ${profile}: only the charger's own password opens its identity`,
    certificateTitle:
      'profile 3: only a certificate from the chargers’ CA, for this identity, for a listed charger',
    protocol: 'ocpp1.6',
    bootsAccepted: bootsAccepted16,
    attempts: [
      ...SHARED,
      ['another identity as the Basic user', 'CP-1', basic('CP-1', CP2, 'CP-2')],
      ['an unknown identity', 'CP-9', basic('CP-9', CP1)],
      ['a Bearer token instead of Basic', 'CP-1', { headers: { Authorization: `Bearer ${CP1}` } }],
    ],
    offers: [[0, 'ocpp1.6']],
    addressBase: '127.0.1.',
    secondOpens: false,
  },
  {
    title: 'security: who gets in, OCPP 2.0.1 chargers (profiles 1-3, real certificates)',
    passwordTitle: (profile) =>
      `profile ${profile}: a 2.0.1 charger's own password opens its identity, with the identity as the Basic user (A00.FR.203-205); nothing else does, as for 1.6`,
    certificateTitle:
      'profile 3: a 2.0.1 charger gets in with its own certificate from the chargers’ CA only',
    protocol: 'ocpp2.0.1',
    // For profile 1 the plain-ws 2.0.1 station of test/support (not ocpp-rpc), which sends
    // `Basic base64(identity:password)`; over TLS ocpp-rpc's strict 2.0.1 client.
    bootsAccepted: async (endpoint, identity, options, profile, clients) => {
      if (profile !== 1) return bootsAccepted201(endpoint, identity, options, clients);
      const station = new Charger201({ url: `${endpoint}/`, identity, password: options.password });
      clients.push(station);
      await station.connect();
      assert.equal(station.protocol, 'ocpp2.0.1');
      assert.equal((await station.boot()).status, 'Accepted');
      assert.deepEqual(station.violations, []);
      await station.close();
    },
    attempts: [
      ...SHARED,
      // A00.FR.203-205: the user name is the charging station's identity, nothing else.
      [
        "another identity as the Basic user, with that charger's own password",
        'CP-1',
        basic('CP-1', CP2, 'CP-2'),
      ],
      ['the right password under another identity as the Basic user', 'CP-1', basic('CP-1', CP1, 'CP-2')],
      ['the identity in lower case as the Basic user', 'CP-1', basic('CP-1', CP1, 'cp-1')],
      ['an empty Basic user', 'CP-1', basic('CP-1', CP1, '')],
      ['the identity with a space as the Basic user', 'CP-1', basic('CP-1', CP1, 'CP-1 ')],
      ['a longer identity as the Basic user', 'CP-1', basic('CP-1', CP1, 'CP-10')],
      ['an unknown identity', 'CP-9', basic('CP-9', CP1)],
      ['a Bearer token instead of Basic', 'CP-1', { headers: { Authorization: `Bearer ${CP1}` } }],
      ['Basic without base64', 'CP-1', { headers: { Authorization: `Basic CP-1:${CP1}` } }],
    ],
    // Each offering 2.0.1, then the same offering 1.6: the sub-protocol changes nothing.
    offers: [
      [0, 'ocpp2.0.1'],
      [100, 'ocpp1.6'],
    ],
    addressBase: '127.0.7.',
    secondOpens: true,
  },
];

for (const v of VERSIONS) {
  describe(v.title, () => {
    const harness = useOcppHarness();
    const pki = useTestPki();
    const clients: (RPCClient | Charger201)[] = [];
    afterEach(async () => {
      await Promise.all(
        clients
          .splice(0)
          .map((client) =>
            client instanceof Charger201
              ? client.close()
              : client.close({ force: true }).then(() => undefined),
          ),
      );
    });

    for (const profile of [1, 2] as const) {
      it(v.passwordTitle(profile), async () => {
        const clock = new ManualClock();
        const cs = await harness().centralSystem({
          clock,
          securityProfile: profile,
          passwords: PASSWORDS,
          unknownChargePoints: 'reject',
          ...(profile === 2 ? { tls: { certificate: pki().serverCert, privateKey: pki().serverKey } } : {}),
        });
        const scheme = profile === 2 ? 'wss' : 'ws';
        const tls: ClientOptions = profile === 2 ? { ca: pki().caCert } : {};
        const url = (id: string) => `${scheme}://127.0.0.1:${cs.port}/${id}`;
        await v.bootsAccepted(
          `${scheme}://127.0.0.1:${cs.port}`,
          'CP-1',
          { password: CP1, ...(profile === 2 ? { wsOpts: tls } : {}) },
          profile,
          clients,
        );
        if (v.secondOpens) {
          assert.deepEqual(
            await handshake(url('CP-2'), [v.protocol], { ...tls, ...basic('CP-2', CP2) }),
            { status: 101, protocol: v.protocol },
            "CP-2's own password opens CP-2",
          );
        }
        // Each from an address of its own; failures for an identity beyond its third are answered
        // later and later from any address (security-brute-force_spec.ts): the clock is moved on
        // once each refusal is decided.
        const answers: string[] = [];
        for (const [index, [what, identity, options]] of v.attempts.entries()) {
          const statuses: string[] = [];
          for (const [offset, protocol] of v.offers) {
            const localAddress = `${v.addressBase}${index + 1 + offset}`;
            const refused = waitFor(
              cs,
              'refused',
              (r: { remoteAddress: string }) => r.remoteAddress === localAddress,
            );
            const answered = handshake(url(identity), [protocol], { ...tls, localAddress, ...options });
            answered.catch(() => undefined);
            await refused;
            clock.advance(30_000);
            statuses.push(`${(await answered).status} (${protocol})`);
          }
          answers.push(`${what}: ${statuses.join(', ')}`);
        }
        assert.deepEqual(
          answers,
          v.attempts.map(
            ([what]) => `${what}: ${v.offers.map(([, protocol]) => `401 (${protocol})`).join(', ')}`,
          ),
          'every other way in is HTTP 401, whatever the sub-protocol',
        );
        assert.deepEqual(cs.connectedChargePoints(), []);
        if (profile === 2) {
          // Plain ws:// to the TLS port, and wss:// to a client that does not trust the CA, get nowhere.
          await assert.rejects(handshake(`ws://127.0.0.1:${cs.port}/CP-1`, [v.protocol], basic('CP-1', CP1)));
          await assert.rejects(
            handshake(url('CP-1'), [v.protocol], basic('CP-1', CP1)),
            /self[- ]signed|unable to verify/,
          );
        }
      });
    }

    it(v.certificateTitle, async () => {
      const cs = await harness().centralSystem({
        securityProfile: 3,
        unknownChargePoints: 'reject',
        chargePoints: { 'CP-TLS-1': {}, 'CP-TLS-2': {} },
        tls: { certificate: pki().serverCert, privateKey: pki().serverKey, ca: pki().caCert },
      });
      const url = (id: string) => `wss://127.0.0.1:${cs.port}/${id}`;
      const own = pki().clientCertificate('CP-TLS-1', 'Example CPO');
      await v.bootsAccepted(
        `wss://127.0.0.1:${cs.port}`,
        'CP-TLS-1',
        { wsOpts: { ca: pki().caCert, ...own } },
        3,
        clients,
      );

      const neighbour = pki().clientCertificate('CP-TLS-2', 'Example CPO');
      assert.deepEqual(await handshake(url('CP-TLS-1'), [v.protocol], { ca: pki().caCert, ...neighbour }), {
        status: 401,
      });
      // An unlisted identity, with a certificate of the chargers' CA: unknown (404).
      const unknown = pki().clientCertificate('CP-TLS-9', 'Example CPO');
      assert.deepEqual(await handshake(url('CP-TLS-9'), [v.protocol], { ca: pki().caCert, ...unknown }), {
        status: 404,
      });

      // Below HTTP: TLS itself is refused, whatever password comes with it.
      const stranger = pki().clientCertificate('CP-TLS-1', 'Example CPO', { signedByStranger: true });
      const refusedBelowHttp: [string, ClientOptions][] = [
        ['another CA', { ca: pki().caCert, ...stranger }],
        ['no certificate, with the right kind of password', { ca: pki().caCert, ...basic('CP-TLS-1', CP1) }],
      ];
      for (const [what, options] of refusedBelowHttp) {
        await assert.rejects(handshake(url('CP-TLS-1'), [v.protocol], options), Error, what);
      }
      // The server, not the client, broke those off: it logged each failed TLS handshake.
      assert.equal(harness().log.matching(/^TLS handshake from .* failed/, 'warn').length, 2);
      assert.deepEqual(cs.connectedChargePoints(), []);
    });

    if (v.protocol === 'ocpp1.6') tlsAndSecrets(harness, pki);
  });
}

/** What does not depend on the OCPP version: TLS versions, and no secret in the log or an error. */
function tlsAndSecrets(harness: () => OcppHarness, pki: () => TestPki): void {
  it('refuses TLS 1.0 and 1.1 on profiles 2 and 3 (whitepaper A00.FR.312), serves 1.2 and 1.3', async () => {
    // The probe can speak TLS 1.0: a server that allows it answers, so a refusal below is the server's.
    const permissive = createTlsServer({
      cert: pki().serverCert,
      key: pki().serverKey,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    permissive.on('secureConnection', (socket) => socket.on('error', () => undefined));
    permissive.listen(0, '127.0.0.1');
    await once(permissive, 'listening');
    const permissivePort = (permissive.address() as { port: number }).port;
    try {
      assert.deepEqual(await tlsProbe(permissivePort, 'TLSv1'), { protocol: 'TLSv1' });
      assert.deepEqual(await tlsProbe(permissivePort, 'TLSv1.1'), { protocol: 'TLSv1.1' });
    } finally {
      permissive.close();
    }

    const client = pki().clientCertificate('CP-TLS-1', 'x');
    for (const profile of [2, 3] as const) {
      const cs = await harness().centralSystem({
        securityProfile: profile,
        passwords: PASSWORDS,
        tls: { certificate: pki().serverCert, privateKey: pki().serverKey, ca: pki().caCert },
      });
      const port = cs.port as number;
      const cert = profile === 3 ? client : {};
      for (const old of ['TLSv1', 'TLSv1.1'] as const) {
        assert.deepEqual(
          await tlsProbe(port, old, cert),
          { error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
          `profile ${profile}, ${old}`,
        );
      }
      assert.deepEqual(await tlsProbe(port, 'TLSv1.2', { ca: pki().caCert, ...cert }), {
        protocol: 'TLSv1.2',
      });
      assert.deepEqual(await tlsProbe(port, 'TLSv1.3', { ca: pki().caCert, ...cert }), {
        protocol: 'TLSv1.3',
      });
    }
    assert.equal(
      harness().log.matching(/TLS handshake from 127\.0\.0\.1 failed: .*unsupported protocol/).length,
      4,
    );

    // minVersion TLSv1.3 refuses 1.2 as well.
    const strict = await harness().centralSystem({
      securityProfile: 2,
      passwords: PASSWORDS,
      tls: { certificate: pki().serverCert, privateKey: pki().serverKey, minVersion: 'TLSv1.3' },
    });
    assert.deepEqual(await tlsProbe(strict.port as number, 'TLSv1.2'), {
      error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    });
  });

  it('never logs a password: refusals, odd Authorization headers, a new AuthorizationKey, a charger reporting its key', async () => {
    const cs = await harness().centralSystem({ securityProfile: 1, passwords: PASSWORDS });
    const url = `ws://127.0.0.1:${cs.port}/CP-1`;
    const NEW_KEY = 'the-next-authorization-key-0042';
    const attempts = [
      basic('CP-1', 'wrong-wrong-wrong-wrong'),
      basic('CP-1', CP2, 'CP-2'),
      { headers: { Authorization: `Basic ${CP1}` } }, // not base64 of id:password
      { headers: { Authorization: `Bearer ${CP1}` } },
    ];
    for (const [index, options] of attempts.entries()) {
      assert.equal(await handshakeStatus(url, { localAddress: `127.0.3.${index + 1}`, ...options }), 401);
    }
    const client = harness().charger(cs, 'CP-1', { password: CP1 });
    answer(client, 'ChangeConfiguration', () => ({ status: 'Accepted' }));
    answer(client, 'GetConfiguration', () => ({
      configurationKey: [
        { key: 'AuthorizationKey', readonly: false, value: NEW_KEY },
        { key: 'HeartbeatInterval', readonly: false, value: '300' },
      ],
    }));
    await client.connect();
    await client.call('BootNotification', BOOT);
    await cs.call('CP-1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: NEW_KEY });
    await cs.call('CP-1', 'GetConfiguration', {});
    // A frame the central system cannot read, holding a password.
    const raw = new WebSocket(`ws://127.0.0.1:${cs.port}/CP-2`, ['ocpp1.6'], basic('CP-2', CP2));
    await once(raw, 'open');
    raw.send(`[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"${CP2}"`);
    await once(raw, 'message');
    raw.close();

    const log = harness()
      .log.lines.map((line) => line.message)
      .join('\n');
    assert.match(log, /wrong password/);
    for (const [identity, password] of [
      ['CP-1', CP1],
      ['CP-1', 'wrong-wrong-wrong-wrong'],
      ['CP-2', CP2],
      ['CP-1', NEW_KEY],
    ] as const) {
      for (const form of [password, Buffer.from(`${identity}:${password}`).toString('base64')]) {
        assert.equal(log.includes(form), false, `the log holds ${form}:\n${log}`);
      }
    }
    assert.equal(/authorization:/i.test(log), false);
    // Nor is the key kept with the charger's configuration (what the admin endpoints list).
    assert.equal(JSON.stringify(cs.chargePoints()).includes(NEW_KEY), false);
    assert.deepEqual(
      cs.chargePoint('CP-1')?.configuration?.keys.map((key) => key.key),
      ['HeartbeatInterval'],
    );
  });

  it('never repeats a private key pasted without its PEM header in an error', async () => {
    // The body of a PEM key on one line (what a paste into a one-line field can leave) is not
    // PEM, so it is taken for a file name; the error must not print it back.
    const body = pki()
      .serverKey.split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
    const cs = new CentralSystem({
      host: '127.0.0.1',
      port: 0,
      securityProfile: 2,
      passwords: PASSWORDS,
      tls: { certificate: pki().serverCert, privateKey: body, passphrase: 'secret-passphrase-123' },
    });
    const err = (await cs.start().then(
      () => assert.fail('started with a broken key'),
      (e: Error) => e,
    )) as Error;
    await cs.stop();
    assert.match(err.message, /^TLS private key: /);
    for (const secret of [body, body.slice(0, 24), 'secret-passphrase-123']) {
      assert.equal(err.message.includes(secret), false, `the message repeats the key: ${err.message}`);
    }
  });
}
