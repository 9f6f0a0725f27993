import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_PROFILES } from '../../lib/modbus/profiles';
import { rpcChargePoint } from '../support/charge-point';
import type { NodeRed } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { freePort } from '../support/ports';
import { packageJson } from '../support/repo';
import { basic, handshakeStatus } from './support/security';
import {
  type AdminRoute,
  exportedNode,
  registeredAdminRoutes,
  startSecuredNodeRed,
  TOKENS,
} from './support/security-node-red';

/**
 * Credentials and admin permissions in a real Node-RED process with adminAuth: the per-charger
 * passwords are credentials of the ampflow-central-system node and must appear nowhere a user or
 * an attacker can read (flow export, credentials API, log, admin endpoints); every admin endpoint
 * of the package wants a token with its permission.
 */
const SECRET = 'sup3r-secret-charger-password';
const WRONG = 'a-wrong-guess-for-the-password';
const CS_ID = 'cs-secured';

/** Every form a password takes on the wire or in a header: plain, and Basic base64 of `id:password`. */
function secretForms(identity: string, password: string): string[] {
  return [password, Buffer.from(`${identity}:${password}`).toString('base64'), `Basic ${password}`];
}

describe('security: credentials and admin permissions in Node-RED', function () {
  this.timeout(30000);
  let red: NodeRed;
  let ocppPort: number;

  before(async function () {
    this.timeout(90000);
    red = await startSecuredNodeRed();
    ocppPort = await freePort();
    const flows = [
      { id: 'tab', type: 'tab', label: 'security' },
      {
        id: CS_ID,
        type: 'ampflow-central-system',
        name: 'Secured',
        host: '127.0.0.1',
        port: String(ocppPort),
        securityProfile: '1',
        unknownChargePoints: 'reject',
        authorizationPolicy: 'acceptAll',
        readConfigurationOnBoot: false,
        credentials: { passwords: `CP-1 ${SECRET}` },
      },
    ];
    const deployed = await red.request('/flows', { token: TOKENS.admin, method: 'POST', body: flows });
    assert.equal(deployed.status, 204, await deployed.text());
    await red.process.waitForLine(/\[ampflow-central-system:Secured\] .*listening on/);
    // Every node of the package loaded (the endpoints below come with them).
    const nodes = (await (await red.request('/nodes', { token: TOKENS.admin })).json()) as {
      module: string;
      types: string[];
      enabled: boolean;
      err?: string;
    }[];
    const ours = nodes.filter((set) => set.module === 'ampflow-under-test');
    assert.deepEqual(
      ours.flatMap((set) => (set.enabled && !set.err ? set.types : [])).sort(),
      Object.keys(packageJson['node-red'].nodes).sort(),
    );
  });

  after(async () => {
    await red?.dispose();
  });

  it('the charger gets in with the password from the credentials; wrong ones are refused and logged without the secret', async () => {
    const charger = rpcChargePoint(`ws://127.0.0.1:${ocppPort}`, 'CP-1', { password: SECRET });
    await charger.connect();
    assert.equal(((await charger.call('BootNotification', BOOT)) as { status: string }).status, 'Accepted');
    await charger.close();
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${ocppPort}/CP-1`, basic('CP-1', WRONG)), 401);
    assert.equal(await handshakeStatus(`ws://127.0.0.1:${ocppPort}/CP-1`), 401);
    await red.process.waitForLine(/refused charge point "CP-1" from 127\.0\.0\.1: no password sent/);
    const log = red.process.lines.join('\n');
    assert.match(log, /refused charge point "CP-1" from 127\.0\.0\.1: wrong password/);
    for (const secret of [...secretForms('CP-1', SECRET), ...secretForms('CP-1', WRONG), 'Authorization']) {
      assert.equal(log.includes(secret), false, `the log holds ${secret}`);
    }
  });

  it('exports the flow without the passwords, and the credentials API only says one is set', async () => {
    const { text, node } = await exportedNode(red, CS_ID);
    assert.equal(node.securityProfile, '1', 'the export has the node');
    assert.equal('passwords' in node || 'credentials' in node, false);
    assert.equal(text.includes(SECRET), false);

    const credentials = await red.request(`/credentials/ampflow-central-system/${CS_ID}`, {
      token: TOKENS.admin,
    });
    assert.deepEqual(await credentials.json(), {
      has_passwords: true,
      has_tlsPrivateKey: false,
      has_tlsPassphrase: false,
      has_upstreamPassword: false,
      has_upstreamRegistrations: false,
      has_upstreamTlsPrivateKey: false,
    });

    // On disk: flows.json has no password; flows_cred.json is encrypted.
    assert.equal(readFileSync(join(red.userDir, 'flows.json'), 'utf8').includes(SECRET), false);
    const stored = readFileSync(join(red.userDir, 'flows_cred.json'), 'utf8');
    assert.match(stored, /"\$":/);
    assert.equal(stored.includes(SECRET), false);
  });

  describe('admin endpoints', () => {
    const routes = registeredAdminRoutes();
    const profileId = SHIPPED_PROFILES[0]?.id as string;
    const examples: Record<string, string> = { chargePointId: 'CP-1', decision: 'approve' };

    /** The route's path with real values for its parameters (the deployed node, a shipped profile). */
    function concrete(route: AdminRoute): string {
      return route.path.replace(/:(\w+)/g, (_match, name: string) => {
        if (name === 'id') return route.path.startsWith('/ampflow-meter/') ? profileId : CS_ID;
        return examples[name] ?? 'x';
      });
    }

    /** What a route that needs a body gets: the upstream registrations' import merges into the stored list. */
    const bodies: Record<string, unknown> = {
      '/ampflow-central-system/upstream-registrations': {
        id: CS_ID,
        stored: true,
        imported: 'CP-9,backend-password-9',
      },
    };
    const call = (route: AdminRoute, token?: string) =>
      red.request(concrete(route), {
        method: route.method.toUpperCase(),
        ...(token ? { token } : {}),
        ...(route.method === 'get' ? {} : { body: bodies[route.path] ?? {} }),
      });

    it('finds the endpoints the package registers, each behind a permission of its own node', () => {
      assert.ok(routes.length >= 7, `found ${routes.map((r) => r.path).join(', ')}`);
      for (const route of routes) {
        assert.match(
          route.permission ?? 'none',
          /^ampflow-[a-z-]+\.(read|write)$/,
          `${route.method.toUpperCase()} ${route.path} asks for permission ${route.permission ?? 'none'}`,
        );
        const owner = route.path.split('/')[1];
        assert.equal(route.permission?.split('.')[0], owner, `${route.path} asks another node's permission`);
      }
      // Changing things needs write; reading needs read.
      for (const route of routes.filter((r) => r.method !== 'get' && !r.path.endsWith('/validate'))) {
        assert.match(route.permission ?? '', /\.write$/, `${route.method.toUpperCase()} ${route.path}`);
      }
    });

    it('answers 401 without a token, with an unknown token, and with a token lacking the permission', async () => {
      for (const route of routes) {
        const name = `${route.method.toUpperCase()} ${route.path}`;
        assert.equal((await call(route)).status, 401, `${name} without a token`);
        assert.equal((await call(route, 'not-a-token')).status, 401, `${name} with an unknown token`);
        assert.equal(
          (await call(route, TOKENS.only('flows.read'))).status,
          401,
          `${name} with flows.read only`,
        );
        const other = route.permission?.startsWith('ampflow-meter.')
          ? 'ampflow-dlm.read'
          : 'ampflow-meter.read';
        assert.equal((await call(route, TOKENS.only(other))).status, 401, `${name} with ${other} only`);
        if (route.permission?.endsWith('.write')) {
          const read = route.permission.replace(/\.write$/, '.read');
          assert.equal((await call(route, TOKENS.only(read))).status, 401, `${name} with ${read} only`);
        }
      }
    });

    it('works with a token that has exactly the permission, and never hands out the password', async () => {
      for (const route of routes) {
        const name = `${route.method.toUpperCase()} ${concrete(route)}`;
        const response = await call(route, TOKENS.only(route.permission as string));
        const body = await response.text();
        assert.equal(response.status, 200, `${name}: ${response.status} ${body}`);
        assert.equal(body.includes(SECRET), false, `${name} hands out the password`);
      }
    });
  });
});
