import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import { answer, rpcChargePoint } from '../support/charge-point';
import type { NodeRed } from '../support/node-red';
import { BOOT } from '../support/ocpp';
import { freePort } from '../support/ports';
import { exchange, type FuzzRequest, fuzzRequest, type LiveLinks } from './support/http-fuzz';
import { Random, seedFor } from './support/random';
import { registeredAdminRoutes, startSecuredNodeRed, TOKENS } from './support/security-node-red';

/**
 * Every HTTP route the package adds, fuzzed in a real Node-RED process (adminAuth on, the package
 * from its sources): the chargers' own port (plain requests and the file links, with live
 * tokens), the file route of a central system on Node-RED's shared server (under its HTTP nodes)
 * and the admin routes. Raw requests from a seeded generator (support/http-fuzz.ts): broken
 * percent escapes, overlong UTF-8, NUL, odd methods and versions, broken multipart, conflicting and
 * huge headers, bodies slow, chunked wrong or broken off, from the charger's address and another.
 * The process must stay up throughout, every request get a status of the client's making (4xx) or
 * success, never a server error, and a link made after the fuzz must work end to end.
 * AMPFLOW_HTTP_FUZZ_SEED repeats a run, AMPFLOW_HTTP_FUZZ_REQUESTS sets the count (default 400, a
 * few seconds; 20000 for a long run).
 */

const SEED = seedFor('HTTP_FUZZ', 20261126);
const REQUESTS = Number(process.env.AMPFLOW_HTTP_FUZZ_REQUESTS ?? 400);
const LANES = 6;
const FIRMWARE = Buffer.from('firmware image \u0000\u0001 for the fuzz '.repeat(200));

/** One central system and the inject nodes that ask its charger for a file link. */
function centralSystemFlow(
  id: string,
  chargePointId: string,
  listen: Record<string, unknown>,
  firmware: string,
) {
  const command = (action: string, payload: unknown) => [
    {
      id: `${id}-${action}-inject`,
      type: 'inject',
      z: 'fuzz-tab',
      props: [{ p: 'payload' }],
      payload: JSON.stringify(payload),
      payloadType: 'json',
      wires: [[`${id}-${action}`]],
    },
    {
      id: `${id}-${action}`,
      type: 'ampflow-ocpp-command',
      z: 'fuzz-tab',
      centralSystem: id,
      chargePointId,
      action,
      payload: '',
      timeoutS: '',
      wires: [[]],
    },
  ];
  return [
    {
      id,
      type: 'ampflow-central-system',
      name: `fuzz ${chargePointId}`,
      ...listen,
      unknownChargePoints: 'accept',
      authorizationPolicy: 'acceptAll',
      readConfigurationOnBoot: false,
    },
    ...command('GetDiagnostics', { location: 'ampflow' }),
    ...command('UpdateFirmware', { location: 'ampflow', file: firmware }),
  ];
}

/** A charger that hands each file link it is given to whoever waits for one. */
class LinkedCharger {
  private readonly waiting = new Map<string, ((location: string) => void)[]>();

  constructor(readonly client: RPCClient) {
    answer(client, 'GetDiagnostics', (params) => {
      this.take('GetDiagnostics', (params as { location: string }).location);
      return { fileName: 'diag.log' };
    });
    answer(client, 'UpdateFirmware', (params) => {
      this.take('UpdateFirmware', (params as { location: string }).location);
      return {};
    });
  }

  /** The link of the next `action` sent to it. */
  next(action: string): Promise<string> {
    return new Promise((resolve) => this.waiting.set(action, [...(this.waiting.get(action) ?? []), resolve]));
  }

  private take(action: string, location: string): void {
    this.waiting.get(action)?.shift()?.(location);
  }
}

const tokenOf = (location: string) => /\/ampflow-files\/([^/]+)\//.exec(location)?.[1] ?? '';

describe('fuzzing every HTTP route of the package in a real Node-RED', function () {
  this.timeout(120_000);
  let red: NodeRed;
  let ownPort: number;
  let nodeRedPort: number;
  const chargers: Record<'own' | 'shared', LinkedCharger> = {} as never;
  let exited: string | undefined;

  before(async function () {
    this.timeout(90_000);
    red = await startSecuredNodeRed();
    red.process.exited.then(({ code, signal }) => {
      exited = `Node-RED exited (${signal ?? code})`;
    });
    nodeRedPort = Number(new URL(red.url).port);
    ownPort = await freePort();
    const firmware = join(red.userDir, 'firmware.bin');
    writeFileSync(firmware, FIRMWARE);
    await red.deploy(
      [
        { id: 'fuzz-tab', type: 'tab', label: 'fuzz' },
        ...centralSystemFlow('cs-own', 'CP-OWN', { host: '127.0.0.1', port: String(ownPort) }, firmware),
        ...centralSystemFlow('cs-shared', 'CP-SH', { listen: 'shared', path: '/ocpp' }, firmware),
      ],
      { token: TOKENS.admin },
    );
    await red.process.waitForLine(/\[ampflow-central-system:fuzz CP-OWN\] .*listening on/);
    await red.process.waitForLine(/\[ampflow-central-system:fuzz CP-SH\] .*listening on/);
    for (const [key, url, identity] of [
      ['own', `ws://127.0.0.1:${ownPort}`, 'CP-OWN'],
      ['shared', `ws://127.0.0.1:${nodeRedPort}/ocpp`, 'CP-SH'],
    ] as const) {
      const client = rpcChargePoint(url, identity);
      chargers[key] = new LinkedCharger(client);
      await client.connect();
      await client.call('BootNotification', BOOT);
    }
  });

  after(async () => {
    await Promise.all(Object.values(chargers).map((charger) => charger.client.close({ force: true })));
    await red?.dispose();
  });

  /** A new link from the central system `key` to its charger, through the flow's inject and command nodes. */
  async function link(key: 'own' | 'shared', action: 'GetDiagnostics' | 'UpdateFirmware'): Promise<string> {
    const location = chargers[key].next(action);
    const injected = await red.request(`/inject/cs-${key}-${action}-inject`, {
      method: 'POST',
      token: TOKENS.admin,
    });
    assert.equal(injected.status, 200);
    return location;
  }

  const alive = () => {
    assert.equal(exited, undefined, exited);
    assert.deepEqual(
      red.process.lines.filter((line) => /Uncaught Exception|\[error\]/.test(line)),
      [],
      'no uncaught exception, no handler failed',
    );
  };

  it(`answers ${REQUESTS} broken requests to the chargers' port, the shared server's file route and the admin routes (seed ${SEED}); Node-RED stays up and a new link works after`, async () => {
    const live: LiveLinks = {
      own: { upload: [], download: [] },
      shared: { upload: [], download: [] },
    };
    for (const key of ['own', 'shared'] as const) {
      for (let i = 0; i < 8; i++) live[key].upload.push(tokenOf(await link(key, 'GetDiagnostics')));
      for (let i = 0; i < 2; i++) live[key].download.push(tokenOf(await link(key, 'UpdateFirmware')));
    }
    const routes = registeredAdminRoutes().map((route) => ({
      method: route.method,
      path: route.path
        .replace(':id', route.path.startsWith('/ampflow-central-system/') ? 'cs-own' : 'x')
        .replace(/:(\w+)/g, (_match, name: string) => (name === 'decision' ? 'approve' : 'CP-OWN')),
    }));
    const random = new Random(SEED);
    // Drawn up front, so a seed gives the same requests however the lanes interleave.
    const requests = Array.from({ length: REQUESTS }, (_, index) =>
      fuzzRequest(random, index, { ownPort, nodeRedPort, sharedCsId: 'cs-shared' }, live, {
        paths: routes,
        token: TOKENS.admin,
      }),
    );
    const problems: string[] = [];
    const statuses = new Map<string, number>();
    const check = (request: FuzzRequest, outcome: Awaited<ReturnType<typeof exchange>>) => {
      const key = `${request.target} ${'status' in outcome ? outcome.status : 'closed'}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if ('closed' in outcome) {
        if (!request.brokenOff && !request.mayClose)
          problems.push(`#${request.index} closed without an answer: ${request.summary}`);
      } else if (outcome.status >= 500 || outcome.status < 100)
        problems.push(`#${request.index} answered ${outcome.status}: ${request.summary}`);
    };
    const startedAt = Date.now();
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let index = lane; index < requests.length; index += LANES) {
          const request = requests[index] as FuzzRequest;
          check(request, await exchange(request));
          if (exited) return;
        }
      }),
    );
    const fuzzMs = Date.now() - startedAt;
    if (process.env.AMPFLOW_TEST_VERBOSE || problems.length > 0)
      console.log(
        `    seed ${SEED}: ${REQUESTS} requests in ${fuzzMs} ms:`,
        Object.fromEntries([...statuses].sort()),
      );
    alive();
    assert.deepEqual(
      problems.slice(0, 10),
      [],
      `seed ${SEED}: ${problems.length} requests not answered sensibly`,
    );

    // Still up and serving: the editor's API, both chargers' connections, the chargers' port.
    assert.equal((await red.request('/settings', { token: TOKENS.admin })).status, 200);
    for (const charger of Object.values(chargers))
      assert.ok('currentTime' in ((await charger.client.call('Heartbeat', {})) as object));
    assert.equal((await fetch(`http://127.0.0.1:${ownPort}/CP-X`)).status, 426);

    // A new link made after the fuzz works end to end: an upload stored, a firmware served, once.
    for (const key of ['own', 'shared'] as const) {
      const upload = await link(key, 'GetDiagnostics');
      const put = await fetch(`${upload}after-the-fuzz.log`, {
        method: 'PUT',
        body: `diagnostics of ${key}`,
      });
      assert.equal(put.status, 201, `${key}: ${await put.text()}`);
      const identity = key === 'own' ? 'CP-OWN' : 'CP-SH';
      await red.process.waitForLine(
        new RegExp(`diagnostics of ${identity} uploaded by 127\\.0\\.0\\.1: after-the-fuzz\\.log`),
      );
      const download = await link(key, 'UpdateFirmware');
      const got = await fetch(download);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), FIRMWARE);
      assert.equal((await fetch(download)).status, 410);
    }
    alive();
    // Refused requests are summed up: per central system one line for each address, then a summary
    // a minute, not a line per request.
    const firstLines = red.process.lines
      .map((line) =>
        /\[ampflow-central-system:([^\]]+)\] (?:file request \S+|\S+ link of \S+ used) from (.+?) refused/.exec(
          line,
        ),
      )
      .filter((match) => match !== null)
      .map((match) => `${match[1]} ${match[2]}`);
    assert.deepEqual(firstLines, [...new Set(firstLines)], firstLines.join('\n'));
  });

  it("an upload Node-RED's admin API read first (a JSON or form body) is 415 on the shared server; the link stays good", async () => {
    const location = await link('shared', 'GetDiagnostics');
    for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
      const read = await fetch(`${location}d.log`, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: type === 'application/json' ? '{"a":1}' : 'a=1',
      });
      assert.equal(read.status, 415, type);
    }
    await red.process.waitForLine(/diagnostics upload of CP-SH from 127\.0\.0\.1 refused \(415\)/);
    const put = await fetch(`${location}d.log`, { method: 'PUT', body: 'raw' });
    assert.equal(put.status, 201);
    alive();
  });
});
