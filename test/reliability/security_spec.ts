import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocket } from 'ws';
import { ManualClock } from '../../lib/clock';
import { CentralSystem } from '../../lib/ocpp/central-system';
import { PasswordBook } from '../../lib/ocpp/passwords';
import { useTestPki } from '../support/certs';
import { answer, rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import { BOOT, useOcppHarness } from '../support/ocpp';
import { basic, type ClientOptions, handshakeStatus, tlsProbe } from './support/security';

/**
 * Who gets in, with real certificates made by openssl (test/support/certs.ts), for each security
 * profile: every way in that must fail, next to the one that must work, so that a test of a
 * refusal cannot pass merely because nothing works. test/unit/ocpp/security_spec.ts has the
 * log lines and the certificate-field checks; this file is the attacker's view.
 */
const PASSWORDS = PasswordBook.parse('CP-1 0123456789abcdef0123\nCP-2 fedcba9876543210fedc');
const CP1 = '0123456789abcdef0123';
const CP2 = 'fedcba9876543210fedc';

describe('security: who gets in (profiles 1-3, real certificates)', () => {
  const harness = useOcppHarness();
  const pki = useTestPki();

  /** A charger that must get in: connects, boots Accepted, closes. */
  async function bootsAccepted(endpoint: string, identity: string, options: object) {
    const client = rpcChargePoint(endpoint, identity, options);
    await client.connect();
    const boot = (await client.call('BootNotification', BOOT)) as { status: string };
    await client.close();
    assert.equal(boot.status, 'Accepted', `${identity} boots`);
  }

  for (const profile of [1, 2] as const) {
    it(`profile ${profile}: only the charger's own password opens its identity`, async () => {
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
      await bootsAccepted(`${scheme}://127.0.0.1:${cs.port}`, 'CP-1', {
        password: CP1,
        ...(profile === 2 ? { wsOpts: tls } : {}),
      });
      const attempts: [string, string, ClientOptions][] = [
        ['wrong password', 'CP-1', basic('CP-1', 'wrong-wrong-wrong-wrong')],
        ['no password', 'CP-1', {}],
        ['empty password', 'CP-1', basic('CP-1', '')],
        ["another charger's password", 'CP-1', basic('CP-1', CP2)],
        ['the password with one byte more', 'CP-1', basic('CP-1', `${CP1}x`)],
        ['the password but one byte', 'CP-1', basic('CP-1', CP1.slice(0, -1))],
        ['another identity as the Basic user', 'CP-1', basic('CP-1', CP2, 'CP-2')],
        ['an unknown identity', 'CP-9', basic('CP-9', CP1)],
        ['a Bearer token instead of Basic', 'CP-1', { headers: { Authorization: `Bearer ${CP1}` } }],
      ];
      // Each from an address of its own; failures for CP-1 after its third are answered later and
      // later from any address (security-brute-force_spec.ts): the clock is moved on for them.
      for (const [index, [what, identity, options]] of attempts.entries()) {
        const localAddress = `127.0.1.${index + 1}`;
        const refused = waitFor(
          cs,
          'refused',
          (r: { remoteAddress: string }) => r.remoteAddress === localAddress,
        );
        const status = handshakeStatus(url(identity), { ...tls, localAddress, ...options });
        await refused;
        clock.advance(30_000);
        assert.equal(await status, 401, what);
      }
      assert.deepEqual(cs.connectedChargePoints(), []);
      if (profile === 2) {
        // Plain ws:// to the TLS port, and wss:// to a client that does not trust the CA, get nowhere.
        await assert.rejects(handshakeStatus(`ws://127.0.0.1:${cs.port}/CP-1`, basic('CP-1', CP1)));
        await assert.rejects(
          handshakeStatus(url('CP-1'), basic('CP-1', CP1)),
          /self[- ]signed|unable to verify/,
        );
      }
    });
  }

  it('profile 3: only a certificate from the chargers’ CA, for this identity, for a listed charger', async () => {
    const cs = await harness().centralSystem({
      securityProfile: 3,
      unknownChargePoints: 'reject',
      chargePoints: { 'CP-TLS-1': {}, 'CP-TLS-2': {} },
      tls: { certificate: pki().serverCert, privateKey: pki().serverKey, ca: pki().caCert },
    });
    const url = (id: string) => `wss://127.0.0.1:${cs.port}/${id}`;
    const own = pki().clientCertificate('CP-TLS-1', 'Example CPO');
    await bootsAccepted(`wss://127.0.0.1:${cs.port}`, 'CP-TLS-1', { wsOpts: { ca: pki().caCert, ...own } });

    const neighbour = pki().clientCertificate('CP-TLS-2', 'Example CPO');
    assert.equal(await handshakeStatus(url('CP-TLS-1'), { ca: pki().caCert, ...neighbour }), 401);
    const unknown = pki().clientCertificate('CP-TLS-9', 'Example CPO');
    assert.equal(await handshakeStatus(url('CP-TLS-9'), { ca: pki().caCert, ...unknown }), 404);

    // Below HTTP: TLS itself is refused, whatever password comes with it.
    const stranger = pki().clientCertificate('CP-TLS-1', 'Example CPO', { signedByStranger: true });
    const refusedBelowHttp: [string, ClientOptions][] = [
      ['another CA', { ca: pki().caCert, ...stranger }],
      ['no certificate, with the right kind of password', { ca: pki().caCert, ...basic('CP-TLS-1', CP1) }],
    ];
    for (const [what, options] of refusedBelowHttp) {
      await assert.rejects(handshakeStatus(url('CP-TLS-1'), options), Error, what);
    }
    // The server, not the client, broke those off: it logged each failed TLS handshake.
    assert.equal(harness().log.matching(/^TLS handshake from .* failed/, 'warn').length, 2);
    assert.deepEqual(cs.connectedChargePoints(), []);
  });

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
});
