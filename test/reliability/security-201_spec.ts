import assert from 'node:assert/strict';
import type { RPCClient } from 'ocpp-rpc';
import { WebSocket } from 'ws';
import { ManualClock } from '../../lib/clock';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { PasswordBook } from '../../lib/ocpp/passwords';
import { useTestPki } from '../support/certs';
import { rpcChargePoint } from '../support/charge-point';
import { Charger201 } from '../support/charger201';
import { waitFor } from '../support/events';
import { useOcppHarness } from '../support/ocpp';
import { basic, type ClientOptions } from './support/security';

/**
 * security_spec.ts for OCPP 2.0.1 chargers: the security profiles are decided at the WebSocket
 * upgrade, before any OCPP message, so a charger offering `ocpp2.0.1` must be let in, and kept out,
 * exactly as one offering `ocpp1.6`. Profile 1 (and 2, over TLS): HTTP Basic with the charging
 * station's identity as the user name and its own password (OCPP 2.0.1 part 2, A00.FR.203-205);
 * anything else is HTTP 401, whichever sub-protocol is offered. Profile 3: a client certificate
 * from the chargers' CA whose CN is the identity. Real certificates made by openssl
 * (test/support/certs.ts); the good way in next to the bad ones, so that no refusal passes merely
 * because nothing works.
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

describe('security: who gets in, OCPP 2.0.1 chargers (profiles 1-3, real certificates)', () => {
  const harness = useOcppHarness();
  const pki = useTestPki();
  const clients: (RPCClient | Charger201)[] = [];
  afterEach(async () => {
    await Promise.all(
      clients
        .splice(0)
        .map((client) =>
          client instanceof Charger201 ? client.close() : client.close({ force: true }).then(() => undefined),
        ),
    );
  });

  /** ocpp-rpc's client in strict 2.0.1 mode (every frame checked against the OCA 2.0.1 schemas). */
  async function bootsAccepted201(endpoint: string, identity: string, options: object): Promise<void> {
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

  for (const profile of [1, 2] as const) {
    it(`profile ${profile}: a 2.0.1 charger's own password opens its identity, with the identity as the Basic user (A00.FR.203-205); nothing else does, as for 1.6`, async () => {
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

      // The way in: for profile 1 the plain-ws 2.0.1 station of test/support (not ocpp-rpc), which
      // sends `Basic base64(identity:password)`; over TLS ocpp-rpc's strict 2.0.1 client.
      if (profile === 1) {
        const station = new Charger201({
          url: `ws://127.0.0.1:${cs.port}/`,
          identity: 'CP-1',
          password: CP1,
        });
        clients.push(station);
        await station.connect();
        assert.equal(station.protocol, 'ocpp2.0.1');
        assert.equal((await station.boot()).status, 'Accepted');
        assert.deepEqual(station.violations, []);
        await station.close();
      } else {
        await bootsAccepted201(`wss://127.0.0.1:${cs.port}`, 'CP-1', { password: CP1, wsOpts: tls });
      }
      assert.deepEqual(
        await handshake(url('CP-2'), ['ocpp2.0.1'], { ...tls, ...basic('CP-2', CP2) }),
        { status: 101, protocol: 'ocpp2.0.1' },
        "CP-2's own password opens CP-2",
      );

      const attempts: [string, string, ClientOptions][] = [
        ['wrong password', 'CP-1', basic('CP-1', 'wrong-wrong-wrong-wrong')],
        ['no password', 'CP-1', {}],
        ['empty password', 'CP-1', basic('CP-1', '')],
        ["another charger's password", 'CP-1', basic('CP-1', CP2)],
        ['the password with one byte more', 'CP-1', basic('CP-1', `${CP1}x`)],
        ['the password but one byte', 'CP-1', basic('CP-1', CP1.slice(0, -1))],
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
      ];
      // Each offering 2.0.1, then the same offering 1.6, each from an address of its own; failures
      // for an identity beyond its third are answered later and later (security-brute-force_spec.ts):
      // the clock is moved on once each refusal is decided.
      const answers: string[] = [];
      for (const [index, [what, identity, options]] of attempts.entries()) {
        const statuses: number[] = [];
        for (const [offset, protocol] of [
          [0, 'ocpp2.0.1'],
          [100, 'ocpp1.6'],
        ] as const) {
          const localAddress = `127.0.7.${index + 1 + offset}`;
          const refused = waitFor(
            cs,
            'refused',
            (r: { remoteAddress: string }) => r.remoteAddress === localAddress,
          );
          const answered = handshake(url(identity), [protocol], { ...tls, localAddress, ...options });
          answered.catch(() => undefined);
          await refused;
          clock.advance(30_000);
          statuses.push((await answered).status);
        }
        answers.push(`${what}: ${statuses.join(' (2.0.1), ')} (1.6)`);
      }
      assert.deepEqual(
        answers,
        attempts.map(([what]) => `${what}: 401 (2.0.1), 401 (1.6)`),
        'every other way in is HTTP 401, whatever the sub-protocol',
      );
      assert.deepEqual(cs.connectedChargePoints(), []);
      if (profile === 2) {
        // Plain ws:// to the TLS port, and wss:// to a client that does not trust the CA, get nowhere.
        await assert.rejects(handshake(`ws://127.0.0.1:${cs.port}/CP-1`, ['ocpp2.0.1'], basic('CP-1', CP1)));
        await assert.rejects(
          handshake(url('CP-1'), ['ocpp2.0.1'], basic('CP-1', CP1)),
          /self[- ]signed|unable to verify/,
        );
      }
    });
  }

  it('profile 3: a 2.0.1 charger gets in with its own certificate from the chargers’ CA only', async () => {
    const cs: CentralSystem = await harness().centralSystem({
      securityProfile: 3,
      unknownChargePoints: 'reject',
      chargePoints: { 'CP-TLS-1': {}, 'CP-TLS-2': {} },
      tls: { certificate: pki().serverCert, privateKey: pki().serverKey, ca: pki().caCert },
    });
    const url = (id: string) => `wss://127.0.0.1:${cs.port}/${id}`;
    const own = pki().clientCertificate('CP-TLS-1', 'Example CPO');
    await bootsAccepted201(`wss://127.0.0.1:${cs.port}`, 'CP-TLS-1', {
      wsOpts: { ca: pki().caCert, ...own },
    });

    const neighbour = pki().clientCertificate('CP-TLS-2', 'Example CPO');
    assert.deepEqual(await handshake(url('CP-TLS-1'), ['ocpp2.0.1'], { ca: pki().caCert, ...neighbour }), {
      status: 401,
    });
    // Below HTTP: TLS itself is refused, a certificate from another CA as much as none.
    const stranger = pki().clientCertificate('CP-TLS-1', 'Example CPO', { signedByStranger: true });
    await assert.rejects(handshake(url('CP-TLS-1'), ['ocpp2.0.1'], { ca: pki().caCert, ...stranger }));
    await assert.rejects(
      handshake(url('CP-TLS-1'), ['ocpp2.0.1'], { ca: pki().caCert, ...basic('CP-TLS-1', CP1) }),
    );
    assert.equal(harness().log.matching(/^TLS handshake from .* failed/, 'warn').length, 2);
    assert.deepEqual(cs.connectedChargePoints(), []);
  });
});
