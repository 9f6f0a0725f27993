import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, ManualClock, type TimerHandle } from '../../lib/clock';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { UpstreamProxy } from '../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../lib/upstream/settings';
import { useTestPki } from '../support/certs';
import { until, waitFor } from '../support/events';
import { type OcppHarness, useOcppHarness } from '../support/ocpp';
import { type Handshake, type UpstreamBackend, useUpstreamRig } from '../support/upstream-backend';

/**
 * The upstream proxy (keep the operator's backend, issue #14) as the operator's backend sees it,
 * over real sockets on 127.0.0.1 with real certificates made by openssl (test/support/certs.ts):
 * security profiles 1 (ws + Basic auth), 2 (wss + Basic auth, the backend's CA given to the
 * proxy) and 3 (wss + a client certificate the backend checks), each next to a way in that must
 * fail; a refused password is logged without the password and retried with growing, jittered
 * delays on the proxy's ManualClock. The credentials in a Node-RED flow:
 * security-upstream-node-red_spec.ts.
 */

const PASSWORD = 'cpo-S3cret-upstream-pass';
const WRONG = 'not-the-cpo-password-42';

/** A ManualClock that tells each timer set on it (event `timer`, with its delay) and keeps the delays. */
class WatchedClock extends ManualClock {
  readonly events = new EventEmitter();
  readonly delays: number[] = [];

  /** `decisionMs`: the charger's boot waits this long for the first link (decideWithinMs): not a retry. */
  constructor(private readonly decisionMs?: number) {
    super();
  }

  override setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = super.setTimeout(callback, delayMs);
    if (delayMs === this.decisionMs) return handle;
    this.delays.push(delayMs);
    this.events.emit('timer', delayMs);
    return handle;
  }
}

/** Every form a password takes on the wire: plain, and Basic base64 of `identity:password`. */
function secretForms(identity: string, password: string): string[] {
  return [password, Buffer.from(`${identity}:${password}`).toString('base64')];
}

function privateKeyBody(pem: string): string {
  // A line from the middle of the key's base64: no log line may hold any part of the key.
  return pem.split('\n')[2] as string;
}

describe('security: the upstream proxy and the operator’s backend (profiles 1-3, real certificates)', () => {
  const harness = useOcppHarness();
  const pki = useTestPki();
  const { proxies, backendWith } = useUpstreamRig();

  /**
   * A central system with a proxy to `backend`, and the charger `identity` connected and booted:
   * the proxy dials the backend as that charger.
   */
  async function site(
    h: OcppHarness,
    backend: UpstreamBackend,
    settings: Record<string, unknown>,
    identity = 'CP-1',
    clock: Clock = new ManualClock(),
  ): Promise<{ cs: CentralSystem; proxy: UpstreamProxy }> {
    const cs = await h.centralSystem();
    const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url, ...settings }), {
      clock,
      log: h.log,
    });
    proxies.push(proxy);
    await h.bootedCharger(cs, identity);
    return { cs, proxy };
  }

  const linkOpen = (proxy: UpstreamProxy, identity: string) =>
    until(
      () => proxy.status().some((link) => link.chargePointId === identity && link.state === 'open'),
      [[proxy, 'link']],
      10_000,
      () => `the link of ${identity} is ${JSON.stringify(proxy.status())}`,
    );

  const nextHandshake = (backend: UpstreamBackend) => waitFor<[Handshake]>(backend, 'handshake');

  /** The log holds none of these strings. */
  function assertLogHoldsNone(h: OcppHarness, secrets: string[]): void {
    const log = h.log.lines.map((line) => line.message).join('\n');
    for (const secret of secrets) assert.equal(log.includes(secret), false, `the log holds ${secret}`);
  }

  it('profile 1 (ws + Basic auth): the backend sees the charger as itself, with the upstream password', async () => {
    const backend = await backendWith({ password: PASSWORD });
    const booted = waitFor(backend, 'call', (call: { action: string }) => call.action === 'BootNotification');
    const { proxy } = await site(harness(), backend, { password: PASSWORD });
    await linkOpen(proxy, 'CP-1');
    await booted;
    assert.deepEqual(backend.handshakes, [{ identity: 'CP-1', password: PASSWORD }]);
    assert.match(backend.url, /^ws:/);
    assertLogHoldsNone(harness(), secretForms('CP-1', PASSWORD));
  });

  it('profile 2 (wss + Basic auth): the proxy trusts the backend through the CA it is given', async () => {
    const backend = await backendWith({
      password: PASSWORD,
      tls: { cert: pki().serverCert, key: pki().serverKey },
    });
    assert.match(backend.url, /^wss:/);
    const { proxy } = await site(harness(), backend, { password: PASSWORD, tlsCa: pki().caCert });
    await linkOpen(proxy, 'CP-1');
    assert.deepEqual(
      backend.handshakes.map(({ identity, password }) => ({ identity, password })),
      [{ identity: 'CP-1', password: PASSWORD }],
    );
    assertLogHoldsNone(harness(), secretForms('CP-1', PASSWORD));
  });

  it('a backend whose certificate the given CA did not sign: refused before any password is sent, with a clear message', async () => {
    const backend = await backendWith({
      password: PASSWORD,
      tls: { cert: pki().serverCert, key: pki().serverKey },
    });
    // The stranger CA's certificate where the backend's CA belongs (the operator's CA mixed up).
    const stranger = readFileSync(join(pki().directory, 'stranger.crt'), 'utf8');
    const clock = new WatchedClock();
    const retry = waitFor(clock.events, 'timer');
    const { proxy } = await site(harness(), backend, { password: PASSWORD, tlsCa: stranger }, 'CP-1', clock);
    await retry;
    assert.equal(proxy.status()[0]?.state, 'connecting');
    assert.deepEqual(backend.handshakes, [], 'the TLS handshake failed: the backend never saw a password');
    const warnings = harness().log.matching(/upstream of CP-1/, 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(harness().log.lines));
    assert.match(
      warnings[0]?.message ?? '',
      /: the backend's TLS certificate is not trusted \([A-Z_]+: .+\); is the upstream CA the one that signed it\?/,
      `the operator reads that the backend's certificate is not trusted: ${warnings[0]?.message}`,
    );
    assertLogHoldsNone(harness(), secretForms('CP-1', PASSWORD));
  });

  it('profile 3 (wss + client certificate): the backend accepts the charger’s certificate from its CA, for its identity only', async () => {
    const backend = await backendWith({
      tls: { cert: pki().serverCert, key: pki().serverKey, clientCa: pki().caCert },
    });
    const own = pki().clientCertificate('CP-3', 'ampflow test');
    const h = harness();
    const { proxy } = await site(
      h,
      backend,
      { tlsCa: pki().caCert, tlsCertificate: own.cert, tlsPrivateKey: own.key },
      'CP-3',
    );
    await linkOpen(proxy, 'CP-3');
    assert.deepEqual(backend.handshakes, [
      { identity: 'CP-3', certificateCn: 'CP-3', certificateTrusted: true },
    ]);

    // Next to the way in that works, the ways that must not: no certificate, another identity's,
    // one the backend's CA did not sign. Each is a charger of its own behind a proxy of its own.
    const forged = pki().clientCertificate('CP-6', 'ampflow test', { signedByStranger: true });
    const refusedCertificate = /: the backend refused the client certificate \(HTTP 401\);/;
    const cases: [string, string, Record<string, unknown>, string, RegExp][] = [
      [
        'no client certificate',
        'CP-4',
        {},
        'no client certificate of its CA',
        /: the backend wants credentials \(HTTP 401\); no upstream password or client certificate is set/,
      ],
      [
        'the certificate of another charger',
        'CP-5',
        { tlsCertificate: own.cert, tlsPrivateKey: own.key },
        'a certificate of another identity',
        refusedCertificate,
      ],
      [
        'a certificate of a stranger CA',
        'CP-6',
        { tlsCertificate: forged.cert, tlsPrivateKey: forged.key },
        'no client certificate of its CA',
        refusedCertificate,
      ],
    ];
    for (const [what, identity, material, refusal, logged] of cases) {
      const clock = new WatchedClock();
      const seen = nextHandshake(backend);
      const retry = waitFor(clock.events, 'timer');
      const { proxy: other } = await site(h, backend, { tlsCa: pki().caCert, ...material }, identity, clock);
      const [handshake] = await seen;
      assert.equal(handshake.identity, identity, what);
      assert.equal(handshake.refused, refusal, what);
      await retry;
      assert.equal(other.status()[0]?.state, 'connecting', `${what}: the link stays down, retried later`);
      assert.match(
        h.log.matching(new RegExp(`upstream of ${identity}`), 'warn')[0]?.message ?? '',
        logged,
        what,
      );
    }
    assertLogHoldsNone(h, [privateKeyBody(own.key), privateKeyBody(forged.key)]);
    if (process.env.AMPFLOW_TEST_VERBOSE)
      for (const line of h.log.lines) console.log(`    | ${line.message}`);
  });

  it('profile 3, a backend that refuses the client certificate in the TLS handshake: the log says so', async () => {
    const backend = await backendWith({
      tls: { cert: pki().serverCert, key: pki().serverKey, clientCa: pki().caCert, refuseAtTls: true },
    });
    const forged = pki().clientCertificate('CP-7', 'ampflow test', { signedByStranger: true });
    const clock = new WatchedClock();
    const retry = waitFor(clock.events, 'timer');
    const { proxy } = await site(
      harness(),
      backend,
      { tlsCa: pki().caCert, tlsCertificate: forged.cert, tlsPrivateKey: forged.key },
      'CP-7',
      clock,
    );
    await retry;
    assert.equal(proxy.status()[0]?.state, 'connecting');
    assert.deepEqual(backend.handshakes, [], 'refused before any WebSocket handshake');
    const warnings = harness().log.matching(/upstream of CP-7/, 'warn');
    assert.match(
      warnings[0]?.message ?? '',
      /: the backend (refused the client certificate during the TLS handshake \(.+\)|reset the connection during the TLS handshake \(ECONNRESET\): it may refuse the client certificate);/,
      JSON.stringify(harness().log.lines),
    );
    assertLogHoldsNone(harness(), [privateKeyBody(forged.key)]);
  });

  it('a wrong upstream password: refused by the backend, logged once without the password, retried with growing jittered delays', async () => {
    const backend = await backendWith({ password: PASSWORD });
    const initialDelayMs = 1000;
    const maxDelayMs = 8000;
    const decideWithinMs = 9_999;
    const clock = new WatchedClock(decideWithinMs);
    const firstRetry = waitFor<[number]>(clock.events, 'timer');
    const { cs, proxy } = await site(
      harness(),
      backend,
      { password: WRONG, initialDelayMs, maxDelayMs, decideWithinMs },
      'CP-1',
      clock,
    );
    await firstRetry;
    const attempts = 7;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      assert.equal(backend.handshakes.length, attempt, `attempt ${attempt} reached the backend`);
      assert.equal(backend.handshakes[attempt - 1]?.refused, 'wrong password');
      assert.equal(clock.delays.length, attempt, 'one retry timer per failed attempt');
      // Exponential from initialDelayMs, capped at maxDelayMs; jitter takes it down to half.
      const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const delay = clock.delays[attempt - 1] as number;
      assert.ok(
        delay >= base / 2 && delay <= base,
        `retry ${attempt} after ${delay} ms, not within [${base / 2}, ${base}]`,
      );
      if (attempt === attempts) break;
      // Not a moment before the delay: no new handshake is started.
      clock.advance(delay - 1);
      assert.equal(clock.pendingTimers, 1, `retry ${attempt} waits its full delay`);
      const next = nextHandshake(backend);
      const nextRetry = waitFor<[number]>(clock.events, 'timer');
      clock.advance(1);
      assert.equal(clock.pendingTimers, 0, `retry ${attempt} is under way`);
      await next;
      await nextRetry;
    }
    assert.equal(proxy.status()[0]?.state, 'connecting');
    assert.deepEqual(
      [...new Set(backend.handshakes.map((handshake) => handshake.password))],
      [WRONG],
      'the proxy sent the password it was given, nothing else',
    );
    // Growing delays: each base doubles until the cap, so the later delays are longer.
    const delays = clock.delays;
    assert.ok((delays[3] as number) > (delays[0] as number), `delays ${delays.join(', ')}`);
    assert.ok(
      delays.slice(4).every((delay) => delay >= maxDelayMs / 2 && delay <= maxDelayMs),
      `capped at ${maxDelayMs}: ${delays.join(', ')}`,
    );
    // One warning for the cause, however often it is retried; no secret in any line.
    const warnings = harness().log.matching(/upstream of CP-1/, 'warn');
    assert.deepEqual(
      warnings.map((line) => line.message),
      ['upstream of CP-1: the backend refused the password (HTTP 401); trying again with backoff'],
    );
    assertLogHoldsNone(harness(), [...secretForms('CP-1', WRONG), ...secretForms('CP-1', PASSWORD)]);

    // The right password (a redeploy with the corrected credential): the same backend lets it in.
    await proxy.close();
    const good = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url, password: PASSWORD }), {
      clock: new ManualClock(),
      log: harness().log,
    });
    proxies.push(good);
    await linkOpen(good, 'CP-1');
    assert.equal(backend.handshakes.at(-1)?.refused, undefined);
  });
});
