import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../lib/clock';
import { CentralSystem } from '../../../lib/ocpp/central-system';
import { PasswordBook } from '../../../lib/ocpp/passwords';
import { useTestPki } from '../../support/certs';
import { rpcChargePoint } from '../../support/charge-point';
import { waitFor } from '../../support/events';
import { useOcppHarness } from '../../support/ocpp';

const PASSWORDS = PasswordBook.parse(
  ['# per-charger AuthorizationKeys', 'CP-1 0123456789abcdef0123', 'CP-2 fedcba9876543210fedc'].join('\n'),
);

/** The HTTP status of a refused handshake, or 101 when the charger got in. */
async function handshakeStatus(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<number> {
  const ws = new WebSocket(url, ['ocpp1.6'], options);
  return await new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => reject(err));
  });
}

function basic(identity: string, password: string) {
  return { headers: { Authorization: `Basic ${Buffer.from(`${identity}:${password}`).toString('base64')}` } };
}

describe('security profiles', () => {
  const harness = useOcppHarness();
  const pki = useTestPki();

  describe('1: HTTP Basic passwords', () => {
    it('lets a charger in with its own password and refuses wrong or missing ones with 401', async () => {
      const cs = await harness().centralSystem({
        securityProfile: 1,
        passwords: PASSWORDS,
        unknownChargePoints: 'reject',
      });
      const url = (id: string) => `ws://127.0.0.1:${cs.port}/${id}`;
      const client = rpcChargePoint(url('').slice(0, -1), 'CP-1', { password: '0123456789abcdef0123' });
      await client.connect();
      await client.close();
      assert.equal(await handshakeStatus(url('CP-1'), basic('CP-1', 'fedcba9876543210fedc')), 401);
      assert.equal(await handshakeStatus(url('CP-1')), 401);
      assert.equal(await handshakeStatus(url('CP-9'), basic('CP-9', '0123456789abcdef0123')), 401);
      // The user name must be the identity, whatever the password.
      assert.equal(await handshakeStatus(url('CP-1'), basic('admin', '0123456789abcdef0123')), 401);
      assert.deepEqual(
        harness()
          .log.matching(/refused charge point/, 'warn')
          .map((line) => line.message.replace(/ from .*: /, ': ').replace(/ \(HTTP \d+.*$/, '')),
        [
          'refused charge point "CP-1": wrong password',
          'refused charge point "CP-1": no password sent (HTTP Basic)',
          'refused charge point "CP-9": no password is configured for this charge point',
          'refused charge point "CP-1": the HTTP Basic user name is not the charge point identity (or the header cannot be read)',
        ],
      );
    });

    it('gives every other charger the * password, without making it a known charger', async () => {
      const cs = await harness().centralSystem({
        securityProfile: 1,
        passwords: PasswordBook.parse('* shared-password-for-all'),
        unknownChargePoints: 'pending',
      });
      const client = rpcChargePoint(`ws://127.0.0.1:${cs.port}`, 'CP-ANY', {
        password: 'shared-password-for-all',
      });
      await client.connect();
      const boot = (await client.call('BootNotification', {
        chargePointVendor: 'a',
        chargePointModel: 'b',
      })) as {
        status: string;
      };
      assert.equal(boot.status, 'Pending', 'a shared password does not make every charger known');
      await client.close();
    });

    it('answers repeated failures from one address more and more slowly', async () => {
      const clock = new ManualClock();
      const cs = await harness().centralSystem({ securityProfile: 1, passwords: PASSWORDS, clock });
      const url = `ws://127.0.0.1:${cs.port}/CP-1`;
      for (let attempt = 1; attempt <= 3; attempt++) {
        assert.equal(await handshakeStatus(url, basic('CP-1', 'guess')), 401);
      }
      let answered = false;
      const fourth = handshakeStatus(url, basic('CP-1', 'guess')).then((status) => {
        answered = true;
        return status;
      });
      await waitFor(cs, 'refused');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(answered, false);
      clock.advance(999);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(answered, false);
      clock.advance(1);
      assert.equal(await fourth, 401);
      assert.equal(harness().log.matching(/answered after 1 s/).length, 1);
    });

    it('warns about passwords shorter than the whitepaper’s 16 bytes', async () => {
      await harness().centralSystem({ securityProfile: 1, passwords: PasswordBook.parse('CP-1 short') });
      assert.equal(harness().log.matching(/shorter than the 16 bytes .*: CP-1/, 'warn').length, 1);
    });
  });

  describe('2: TLS and passwords', () => {
    it('serves wss:// with the configured certificate and still checks passwords', async () => {
      const cs = await harness().centralSystem({
        securityProfile: 2,
        passwords: PASSWORDS,
        tls: { certificate: pki().paths.serverCert, privateKey: pki().serverKey },
      });
      assert.match(cs.url ?? '', /^wss:\/\/127\.0\.0\.1:\d+\/$/);
      const client = rpcChargePoint(`wss://127.0.0.1:${cs.port}`, 'CP-2', {
        password: 'fedcba9876543210fedc',
        wsOpts: { ca: pki().caCert },
      });
      await client.connect();
      await client.close();
      assert.equal(
        await handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-2`, {
          ca: pki().caCert,
          ...basic('CP-2', 'nope'),
        }),
        401,
      );
    });

    it('fails to start with a message naming a missing or unusable certificate file', async () => {
      const missing = new CentralSystem({
        host: '127.0.0.1',
        port: 0,
        securityProfile: 2,
        passwords: PASSWORDS,
        tls: { certificate: join(pki().directory, 'nope.crt'), privateKey: pki().serverKey },
      });
      await assert.rejects(missing.start(), /TLS certificate: cannot read .*nope\.crt: no such file/);
      const notPem = join(pki().directory, 'not-pem.txt');
      writeFileSync(notPem, 'hello');
      const wrong = new CentralSystem({
        host: '127.0.0.1',
        port: 0,
        securityProfile: 2,
        passwords: PASSWORDS,
        tls: { certificate: pki().serverCert, privateKey: notPem },
      });
      await assert.rejects(wrong.start(), /TLS private key: .*not-pem\.txt is not a PEM file/);
      const mismatched = new CentralSystem({
        host: '127.0.0.1',
        port: 0,
        securityProfile: 2,
        passwords: PASSWORDS,
        tls: { certificate: pki().serverCert, privateKey: pki().clientCertificate('X', 'Y').key },
      });
      await assert.rejects(
        mismatched.start(),
        /TLS certificate: certificate and key cannot be used together/,
      );
    });

    it('reads a PEM key pasted into a one-line field', async () => {
      const oneLine = pki().serverKey.replace(/\n/g, ' ');
      const cs = await harness().centralSystem({
        securityProfile: 2,
        passwords: PASSWORDS,
        tls: { certificate: pki().serverCert, privateKey: oneLine },
      });
      assert.equal(cs.state, 'listening');
    });
  });

  describe('3: TLS client certificates', () => {
    async function profile3(options: { certificateOrganization?: string } = {}) {
      return await harness().centralSystem({
        securityProfile: 3,
        tls: { certificate: pki().serverCert, privateKey: pki().serverKey, ca: pki().caCert },
        ...options,
      });
    }

    it('accepts a charger whose certificate the chargers’ CA signed for its identity', async () => {
      const cs = await profile3({ certificateOrganization: 'Example CPO' });
      const { cert, key } = pki().clientCertificate('CP-TLS-1', 'Example CPO');
      const client = rpcChargePoint(`wss://127.0.0.1:${cs.port}`, 'CP-TLS-1', {
        wsOpts: { ca: pki().caCert, cert, key },
      });
      await client.connect();
      await client.close();
    });

    it('refuses a certificate for another identity or organisation with 401', async () => {
      const cs = await profile3({ certificateOrganization: 'Example CPO' });
      const other = pki().clientCertificate('CP-TLS-2', 'Example CPO');
      assert.equal(
        await handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-TLS-1`, { ca: pki().caCert, ...other }),
        401,
      );
      const foreign = pki().clientCertificate('CP-TLS-1', 'Someone Else');
      assert.equal(
        await handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-TLS-1`, { ca: pki().caCert, ...foreign }),
        401,
      );
      assert.equal(harness().log.matching(/is not the charge point identity/).length, 1);
      assert.equal(harness().log.matching(/O "Someone Else" is not "Example CPO"/).length, 1);
    });

    it('wants the CN to be the identity, not merely contain it (CP10 is not CP1)', async () => {
      const cs = await profile3();
      const cp10 = pki().clientCertificate('CP-TLS-10', 'x');
      assert.equal(
        await handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-TLS-1`, { ca: pki().caCert, ...cp10 }),
        401,
      );
      const client = rpcChargePoint(`wss://127.0.0.1:${cs.port}`, 'CP-TLS-10', {
        wsOpts: { ca: pki().caCert, ...cp10 },
      });
      await client.connect();
      await client.close();
    });

    it('does not complete TLS without a client certificate or with one from another CA', async () => {
      const cs = await profile3();
      await assert.rejects(handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-TLS-1`, { ca: pki().caCert }));
      const stranger = pki().clientCertificate('CP-TLS-1', 'x', { signedByStranger: true });
      await assert.rejects(
        handshakeStatus(`wss://127.0.0.1:${cs.port}/CP-TLS-1`, { ca: pki().caCert, ...stranger }),
      );
    });

    it('needs the chargers’ CA', async () => {
      const cs = new CentralSystem({
        host: '127.0.0.1',
        port: 0,
        securityProfile: 3,
        tls: { certificate: pki().serverCert, privateKey: pki().serverKey },
      });
      await assert.rejects(cs.start(), /TLS CA certificate: security profile 3 needs the CA/);
    });
  });

  it('refuses a profile that needs TLS without it, at construction', () => {
    assert.throws(
      () => new CentralSystem({ port: 0, securityProfile: 2, passwords: PASSWORDS }),
      /securityProfile: security profile 2 needs TLS/,
    );
  });

  it('tells a refused charger nothing beyond the HTTP status', async () => {
    const cs = await harness().centralSystem({
      securityProfile: 1,
      passwords: PASSWORDS,
      unknownChargePoints: 'reject',
    });
    for (const [identity, headers, status] of [
      ['CP-1', basic('CP-1', 'wrong-wrong-wrong'), 401],
      ['CP-404', basic('CP-404', 'x'), 401],
    ] as const) {
      const body = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${cs.port}/${identity}`, ['ocpp1.6'], headers);
        ws.once('unexpected-response', (_request, response) => {
          assert.equal(response.statusCode, status);
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve(text));
        });
        ws.once('error', reject);
      });
      assert.equal(body, 'Unauthorized');
    }
  });

  it('refuses identities that are too long or hold control characters with 400', async () => {
    const cs = await harness().centralSystem();
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/${'X'.repeat(49)}`), 400);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/CP%0Afake%20log%20line`), 400);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${cs.port}/${'X'.repeat(48)}`), 101);
  });
});
