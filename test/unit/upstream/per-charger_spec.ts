import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { upstreamSettingsOfNode } from '../../../lib/upstream/node-settings';
import { UpstreamProxy } from '../../../lib/upstream/proxy';
import { importRegistrations } from '../../../lib/upstream/registrations';
import { useTestPki } from '../../support/certs';
import { until, waitFor } from '../../support/events';
import { type OcppHarness, useOcppHarness } from '../../support/ocpp';
import { useUpstreamRig } from '../../support/upstream-backend';

/**
 * Per-charger upstream credentials (issue #37): a backend that registers every charger with its
 * own password (Bender/Powerstation backend registration, Climkit's remote server) or its own
 * client certificate, reached by two chargers through one central-system node, over real
 * WebSockets on 127.0.0.1 (real certificates made by openssl); and the backend's decision wait as
 * set in the node, on the proxy's ManualClock.
 */
describe('upstream proxy: each charger with its own credentials at the backend', () => {
  const harness = useOcppHarness();
  const pki = useTestPki();
  const { proxies, backendWith } = useUpstreamRig();

  /** A central system with a proxy built from the node's fields and credentials. */
  async function node(
    h: OcppHarness,
    fields: Record<string, unknown>,
    credentials: Record<string, string>,
    clock = new ManualClock(),
  ): Promise<{ cs: CentralSystem; proxy: UpstreamProxy; clock: ManualClock }> {
    const cs = await h.centralSystem();
    const proxy = new UpstreamProxy(cs, upstreamSettingsOfNode(fields, credentials), { clock, log: h.log });
    proxies.push(proxy);
    return { cs, proxy, clock };
  }

  const linkOpen = (proxy: UpstreamProxy, identity: string) =>
    until(
      () => proxy.status().some((link) => link.chargePointId === identity && link.state === 'open'),
      [[proxy, 'link']],
      10_000,
      () => `the link of ${identity} is ${JSON.stringify(proxy.status())}`,
    );

  it('two chargers through one node, each with the password the backend registered it with', async () => {
    const backend = await backendWith({
      passwords: { 'CP-A': 'first-charger-secret-16', 'CP-B': 'second-charger-secret-16' },
    });
    const h = harness();
    const { cs, proxy } = await node(
      h,
      { upstreamUrl: backend.url },
      {
        upstreamPassword: 'the-node-wide-password',
        upstreamRegistrations:
          'identity,password\nCP-A,first-charger-secret-16\n"CP-B";"second-charger-secret-16"\n',
      },
    );
    await h.bootedCharger(cs, 'CP-A');
    await h.bootedCharger(cs, 'CP-B');
    await linkOpen(proxy, 'CP-A');
    await linkOpen(proxy, 'CP-B');
    assert.deepEqual(
      backend.handshakes.map(({ identity, password, refused }) => ({ identity, password, refused })),
      [
        { identity: 'CP-A', password: 'first-charger-secret-16', refused: undefined },
        { identity: 'CP-B', password: 'second-charger-secret-16', refused: undefined },
      ],
    );
    assert.ok(
      backend.of('BootNotification', 'CP-A').length > 0 && backend.of('BootNotification', 'CP-B').length > 0,
    );
    const log = h.log.lines.map((line) => line.message).join('\n');
    for (const secret of ['first-charger-secret-16', 'second-charger-secret-16']) {
      assert.equal(log.includes(secret), false, `the log holds ${secret}`);
    }
  });

  it('a charger not in the registration list uses the node-wide password, next to one that is', async () => {
    const backend = await backendWith({
      passwords: { 'CP-A': 'first-charger-secret-16', 'CP-C': 'the-node-wide-password' },
    });
    const h = harness();
    const { cs, proxy } = await node(
      h,
      { upstreamUrl: backend.url },
      { upstreamPassword: 'the-node-wide-password', upstreamRegistrations: 'CP-A,first-charger-secret-16' },
    );
    await h.bootedCharger(cs, 'CP-A');
    await linkOpen(proxy, 'CP-A');
    await h.bootedCharger(cs, 'CP-C');
    await linkOpen(proxy, 'CP-C');
    assert.deepEqual(
      backend.handshakes.map(({ identity, password, refused }) => ({ identity, password, refused })),
      [
        { identity: 'CP-A', password: 'first-charger-secret-16', refused: undefined },
        { identity: 'CP-C', password: 'the-node-wide-password', refused: undefined },
      ],
    );
  });

  it('profile 3: each charger dials with the client certificate of its registration (a file on the host, or imported into the list)', async () => {
    const backend = await backendWith({
      tls: { cert: pki().serverCert, key: pki().serverKey, clientCa: pki().caCert },
    });
    // CP-A's certificate file stays on the host (a path); CP-B's was chosen with the CSV at the
    // import, so the list holds the PEM itself.
    const a = pki().clientCertificate('CP-A', 'ampflow test');
    const onHost = join(pki().directory, 'CP-A-client.pem');
    writeFileSync(onHost, `${a.cert}\n${a.key}`);
    const b = pki().clientCertificate('CP-B', 'ampflow test');
    const imported = importRegistrations('', `CP-A,,${onHost}\nCP-B,,CP-B-client.pem`, {
      'CP-B-client.pem': `${b.cert}\n${b.key}`,
    });
    assert.deepEqual(imported.problems, []);
    assert.equal(imported.text.includes(onHost), true);
    assert.equal(imported.text.includes('CP-B-client.pem'), false, 'the PEM itself, not its name');
    const h = harness();
    const { cs, proxy } = await node(
      h,
      { upstreamUrl: backend.url, upstreamTlsCa: pki().caCert },
      { upstreamRegistrations: imported.text },
    );
    await h.bootedCharger(cs, 'CP-A');
    await linkOpen(proxy, 'CP-A');
    await h.bootedCharger(cs, 'CP-B');
    await linkOpen(proxy, 'CP-B');
    assert.deepEqual(backend.handshakes, [
      { identity: 'CP-A', certificateCn: 'CP-A', certificateTrusted: true },
      { identity: 'CP-B', certificateCn: 'CP-B', certificateTrusted: true },
    ]);
  });

  it('waits for the backend’s decision as long as the node says, on the injected clock', async () => {
    const backend = await backendWith({});
    backend.hang = (action) => action === 'Authorize';
    const h = harness();
    const { cs, proxy, clock } = await node(h, { upstreamUrl: backend.url, upstreamDecideWithinS: '3' }, {});
    const { client } = await h.bootedCharger(cs, 'CP-A');
    await linkOpen(proxy, 'CP-A');
    const asked = waitFor(backend, 'call', (call: { action: string }) => call.action === 'Authorize');
    let answered = false;
    const answer = client.call('Authorize', { idTag: 'TAG-1' }).then((result) => {
      answered = true;
      return result as { idTagInfo: { status: string } };
    });
    await asked;
    clock.advance(2999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, false, 'still waiting for the backend 1 ms before the 3 s');
    clock.advance(1);
    const { idTagInfo } = await answer;
    assert.equal(typeof idTagInfo.status, 'string', 'ampflow answered in the backend’s place at 3 s');
    assert.ok(
      h.log.matching(/did not answer within 3 s/).length > 0,
      'the log says the backend took too long',
    );
  });

  it('refuses a decision wait outside 1 to 60 s, naming the field; empty is 8 s', () => {
    assert.throws(
      () => upstreamSettingsOfNode({ upstreamUrl: 'ws://127.0.0.1:1/', upstreamDecideWithinS: '0.5' }),
      /upstreamDecideWithinS: 0\.5 s is outside 1 to 60 s/,
    );
    assert.throws(
      () => upstreamSettingsOfNode({ upstreamUrl: 'ws://127.0.0.1:1/', upstreamDecideWithinS: '61' }),
      /upstreamDecideWithinS: 61 s is outside 1 to 60 s/,
    );
    assert.equal(upstreamSettingsOfNode({ upstreamUrl: 'ws://127.0.0.1:1/' }).decideWithinMs, 8000);
  });

  it('names the line and the charger of a registration whose certificate file is unusable', () => {
    const file = join(pki().directory, 'only-a-cert.pem');
    writeFileSync(file, pki().caCert);
    assert.throws(
      () =>
        upstreamSettingsOfNode(
          { upstreamUrl: 'ws://127.0.0.1:1/' },
          { upstreamRegistrations: `CP-A,pw-a\nCP-B,,${file}` },
        ),
      /upstream\.registrations line 2 \(CP-B\): .*only-a-cert\.pem must hold the client certificate and its private key/,
    );
    assert.throws(
      () =>
        upstreamSettingsOfNode(
          { upstreamUrl: 'ws://127.0.0.1:1/' },
          { upstreamRegistrations: 'CP-A,pw\nCP A,pw' },
        ),
      /upstream\.registrations: line 2: the identity has " " \(U\+0020\) at position 3/,
    );
  });
});
