import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import { useTestPki } from '../support/certs';
import { rpcChargePoint } from '../support/charge-point';
import { waitFor } from '../support/events';
import type { NodeRed } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { freePort } from '../support/ports';
import { type Handshake, UpstreamBackend } from '../support/upstream-backend';
import {
  exportedNode,
  registeredAdminRoutes,
  startSecuredNodeRed,
  TOKENS,
} from './support/security-node-red';

/**
 * The operator's backend's credentials in a real Node-RED process with adminAuth: the upstream
 * password and the private key of the client certificate (security profiles 2 and 3) are
 * credentials of the ampflow-central-system node. The proxy uses them (the backend, over wss://
 * with openssl certificates, lets the charger in only with both), and they appear nowhere a user
 * or an attacker can read: the flow export (admin API /flows), the credentials API, flows.json,
 * flows_cred.json in clear, or any line of the log, a refused password included.
 */
const PASSWORD = 'cpo-upstream-S3cret-77';
const WRONG = 'cpo-upstream-wrong-guess';
const CS_ID = 'cs-upstream';
const IDENTITY = 'CP-UP';

/** Every form a password takes on the wire or in a header: plain, and Basic base64 of `id:password`. */
function secretForms(password: string): string[] {
  return [password, Buffer.from(`${IDENTITY}:${password}`).toString('base64')];
}

/** The lines of a PEM private key's base64: not one may show anywhere. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
}

describe('security: the operator’s backend credentials in Node-RED', function () {
  this.timeout(60_000);
  const pki = useTestPki();
  let red: NodeRed;
  let backend: UpstreamBackend;
  let ocppPort: number;
  let client: { cert: string; key: string };
  const chargers: RPCClient[] = [];

  before(async function () {
    this.timeout(90_000);
    red = await startSecuredNodeRed();
    ocppPort = await freePort();
    client = pki().clientCertificate(IDENTITY, 'ampflow test');
    backend = new UpstreamBackend({
      password: PASSWORD,
      tls: { cert: pki().serverCert, key: pki().serverKey, clientCa: pki().caCert },
    });
    await backend.start();
  });

  after(async () => {
    await Promise.all(chargers.map((charger) => charger.close({ force: true }).catch(() => undefined)));
    await backend?.stop();
    await red?.dispose();
  });

  function flow(password: string) {
    return [
      { id: 'tab', type: 'tab', label: 'upstream' },
      {
        id: CS_ID,
        type: 'ampflow-central-system',
        name: 'Upstream',
        host: '127.0.0.1',
        port: String(ocppPort),
        unknownChargePoints: 'accept',
        authorizationPolicy: 'acceptAll',
        readConfigurationOnBoot: false,
        upstreamUrl: backend.url,
        upstreamTlsCa: pki().caCert,
        upstreamTlsCertificate: client.cert,
        credentials: { upstreamPassword: password, upstreamTlsPrivateKey: client.key },
      },
    ];
  }

  /** Deploys the flow with `password`, dials the charger in, resolves with the backend's next handshake. */
  async function deployAndDial(password: string): Promise<Handshake> {
    const deployed = await red.request('/flows', {
      token: TOKENS.admin,
      method: 'POST',
      body: flow(password),
    });
    assert.equal(deployed.status, 204, await deployed.text());
    await red.process.nextLine(/\[ampflow-central-system:Upstream\] .*listening on/);
    const handshake = waitFor<[Handshake]>(backend, 'handshake', (h) => h.identity === IDENTITY, 15_000);
    const charger = rpcChargePoint(`ws://127.0.0.1:${ocppPort}`, IDENTITY);
    chargers.push(charger);
    await charger.connect();
    await charger.call('BootNotification', BOOT);
    return (await handshake)[0];
  }

  it('a wrong upstream password is refused by the backend and logged without it; the right one gets the charger in', async () => {
    const refused = await deployAndDial(WRONG);
    assert.equal(refused.refused, 'wrong password');
    assert.equal(refused.certificateCn, IDENTITY, 'the client certificate from the node’s settings');
    await red.process.waitForLine(
      /\[ampflow-central-system:Upstream\] upstream of CP-UP: the backend refused the password or the client certificate \(HTTP 401\)/,
    );

    const booted = waitFor(backend, 'call', (call: { action: string }) => call.action === 'BootNotification');
    const accepted = await deployAndDial(PASSWORD);
    assert.deepEqual(accepted, {
      identity: IDENTITY,
      password: PASSWORD,
      certificateCn: IDENTITY,
      certificateTrusted: true,
    });
    await booted;

    const log = red.process.lines.join('\n');
    for (const secret of [...secretForms(WRONG), ...secretForms(PASSWORD), ...keyLines(client.key)]) {
      assert.equal(log.includes(secret), false, `the log holds ${secret}`);
    }
  });

  it('exports the flow without the upstream password and key; the credentials API only says they are set', async () => {
    const secrets = [...secretForms(WRONG), ...secretForms(PASSWORD), ...keyLines(client.key)];
    const { text, node } = await exportedNode(red, CS_ID);
    assert.equal(node.upstreamUrl, backend.url, 'the export has the node and its upstream settings');
    assert.equal(node.upstreamTlsCertificate, client.cert, 'the certificate is public, it is exported');
    for (const field of ['upstreamPassword', 'upstreamTlsPrivateKey', 'credentials']) {
      assert.equal(field in node, false, `the export has ${field}`);
    }
    for (const secret of secrets) assert.equal(text.includes(secret), false, `the export holds ${secret}`);

    const credentials = await red.request(`/credentials/ampflow-central-system/${CS_ID}`, {
      token: TOKENS.admin,
    });
    const said = (await credentials.json()) as Record<string, unknown>;
    assert.equal(said.has_upstreamPassword, true);
    assert.equal(said.has_upstreamTlsPrivateKey, true);
    assert.deepEqual(
      Object.keys(said).filter((key) => !key.startsWith('has_')),
      [],
      'the credentials API hands out no value',
    );

    // Nor does any of the package's admin endpoints that read (chargers, links, status) for this node.
    for (const route of registeredAdminRoutes().filter((r) => r.method === 'get')) {
      if (route.path.startsWith('/ampflow-meter/')) continue;
      const path = route.path.replace(/:(\w+)/g, (_match, name: string) =>
        name === 'id' ? CS_ID : name === 'chargePointId' ? IDENTITY : 'x',
      );
      const body = await (await red.request(path, { token: TOKENS.admin })).text();
      for (const secret of secrets)
        assert.equal(body.includes(secret), false, `GET ${path} hands out ${secret}`);
    }

    // On disk: flows.json has neither; flows_cred.json is encrypted.
    const flowsFile = readFileSync(join(red.userDir, 'flows.json'), 'utf8');
    const stored = readFileSync(join(red.userDir, 'flows_cred.json'), 'utf8');
    assert.match(stored, /"\$":/);
    for (const secret of secrets) {
      assert.equal(flowsFile.includes(secret), false, `flows.json holds ${secret}`);
      assert.equal(stored.includes(secret), false, `flows_cred.json holds ${secret} in clear`);
    }
  });
});
