/**
 * A central system in a process of its own, so that the load generator's memory and CPU are not
 * counted: forked by bench/support/servers.ts with `--import tsx --expose-gc`.
 *
 *   ampflow  lib/ocpp CentralSystem as the Node-RED node runs it (durable state in a temporary
 *            directory, unknown chargers accepted, every id tag accepted)
 *   bare     a bare ocpp-rpc RPCServer configured as the package configures it (strictMode off,
 *            same ping interval), with handlers that only answer: the floor
 *   bare-proxy  the same bare server that also passes each charger's calls to `--upstream` over an
 *            ocpp-rpc client of its own per charger, in order, one in flight (as OCPP-J wants),
 *            answering the charger at once: no validation, no durability, no ids, no events. The
 *            floor of a proxy built on ocpp-rpc (bench:upstream).
 *
 * `--package <dir>` names a built package (bench/support/node-red.ts buildPackage): the ampflow
 * server then runs its compiled dist/lib, the code Node-RED runs, rather than lib/ through tsx
 * (whose transpiled functions differ, e.g. a `__name` call for every closure made).
 * `--upstream <url>`: the same central system with an UpstreamProxy passing every charger through
 * to the operator's backend at <url> (lib/upstream, default settings); 'counts' then also says how
 * many requests wait for the backend (`upstreamQueued`) and how many links are open.
 *
 * IPC: the parent sends 'stats' (answered after two full GCs with memory, CPU and counts),
 * 'counts' (the message counts only, no GC) and 'stop'. The child sends { type: 'ready', url } once listening.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPCClient, RPCServer } from 'ocpp-rpc';
import type { ServerClient } from '../../lib/ocpp/rpc-types';

const mode = process.argv[2];
const option = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const packageDir = option('--package');
const upstreamUrl = option('--upstream');
type CentralSystemModule = typeof import('../../lib/ocpp/central-system');
type ProxyModule = typeof import('../../lib/upstream/proxy');
type SettingsModule = typeof import('../../lib/upstream/settings');
/** lib/<path> as the child runs it: compiled from the package, or through tsx. */
const fromLib = <T>(path: string): T =>
  require(packageDir ? join(packageDir, 'dist', 'lib', `${path}.js`) : `../../lib/${path}`) as T;
const { CentralSystem } = fromLib<CentralSystemModule>('ocpp/central-system');
const { UpstreamProxy } = fromLib<ProxyModule>('upstream/proxy');
const { parseUpstreamSettings } = fromLib<SettingsModule>('upstream/settings');
const PING_INTERVAL_S = 60;
const HEARTBEAT_INTERVAL_S = 300;
const counts: Record<string, number> = {};
const count = (action: string) => {
  counts[action] = (counts[action] ?? 0) + 1;
};

interface Running {
  url: string;
  connections: () => number;
  /** With an upstream: requests waiting for the backend, links open. */
  upstream?: () => { upstreamQueued: number; upstreamOpen: number };
  stop: () => Promise<void>;
}

async function startAmpflow(): Promise<Running> {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'ampflow-bench-cs-'));
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    unknownChargePoints: 'accept',
    authorization: { policy: 'acceptAll' },
    readConfigurationOnBoot: false,
    heartbeatIntervalS: HEARTBEAT_INTERVAL_S,
    pingIntervalS: PING_INTERVAL_S,
    dataDirectory,
  });
  cs.on('message', (message: { action: string }) => count(message.action));
  await cs.start();
  const proxy = upstreamUrl ? new UpstreamProxy(cs, parseUpstreamSettings({ url: upstreamUrl })) : undefined;
  return {
    url: cs.url as string,
    connections: () => cs.connectedChargePoints().length,
    ...(proxy
      ? {
          upstream: () => {
            const links = proxy.status();
            return {
              upstreamQueued: links.reduce((sum, link) => sum + link.queued, 0),
              upstreamOpen: links.filter((link) => link.state === 'open').length,
            };
          },
        }
      : {}),
    stop: async () => {
      await proxy?.close();
      await cs.stop();
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** Each bare-proxy charger's requests waiting or in flight; links open. */
const forwarders: (() => number)[] = [];
let linksOpen = 0;

/** Passes one charger's calls to its upstream in order, one in flight; the charger is not kept waiting. */
function forwarder(identity: string): (action: string, params: unknown) => void {
  const client = new RPCClient({
    identity,
    endpoint: (upstreamUrl as string).replace(/\{identity\}$/, ''),
    protocols: ['ocpp1.6'],
    reconnect: false,
    strictMode: false,
    // No timeout: ocpp-rpc's per-call timer (an AbortController, a TimeoutError and a promise
    // timer per call) is the largest part of its call's cost; a floor does without it.
    callTimeoutMs: 0,
  } as ConstructorParameters<typeof RPCClient>[0]);
  const waiting: [string, unknown][] = [];
  forwarders.push(() => waiting.length + (sending ? 1 : 0));
  let open = false;
  let sending = false;
  const drain = async () => {
    if (sending || !open) return;
    sending = true;
    for (let next = waiting.shift(); next; next = waiting.shift()) {
      await client.call(next[0], next[1]).catch(() => undefined);
      count(`upstream${next[0]}`);
    }
    sending = false;
  };
  void client.connect().then(() => {
    open = true;
    linksOpen += 1;
    void drain();
  });
  return (action, params) => {
    waiting.push([action, params]);
    void drain();
  };
}

async function startBare(): Promise<Running> {
  const server = new RPCServer({
    protocols: ['ocpp1.6'],
    strictMode: false,
    pingIntervalMs: PING_INTERVAL_S * 1000,
  } as ConstructorParameters<typeof RPCServer>[0]);
  let connections = 0;
  let nextTransactionId = 0;
  server.on('client', (client: ServerClient) => {
    connections += 1;
    client.once('close', () => {
      connections -= 1;
    });
    const forward = upstreamUrl ? forwarder(String(client.identity)) : () => undefined;
    client.handle('BootNotification', async ({ params }: { params?: unknown }) => {
      forward('BootNotification', params);
      count('BootNotification');
      return { status: 'Accepted', currentTime: new Date().toISOString(), interval: HEARTBEAT_INTERVAL_S };
    });
    client.handle('Heartbeat', async ({ params }: { params?: unknown }) => {
      forward('Heartbeat', params);
      count('Heartbeat');
      return { currentTime: new Date().toISOString() };
    });
    client.handle('MeterValues', async ({ params }: { params?: unknown }) => {
      forward('MeterValues', params);
      count('MeterValues');
      return {};
    });
    client.handle('StartTransaction', async ({ params }: { params?: unknown }) => {
      forward('StartTransaction', params);
      count('StartTransaction');
      nextTransactionId += 1;
      return { transactionId: nextTransactionId, idTagInfo: { status: 'Accepted' } };
    });
    client.handle('StatusNotification', async ({ params }: { params?: unknown }) => {
      forward('StatusNotification', params);
      count('StatusNotification');
      return {};
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/`,
    connections: () => connections,
    ...(upstreamUrl
      ? {
          upstream: () => ({
            upstreamQueued: forwarders.reduce((sum, waiting) => sum + waiting(), 0),
            upstreamOpen: linksOpen,
          }),
        }
      : {}),
    stop: () => server.close({ force: true }),
  };
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

async function main(): Promise<void> {
  if (mode !== 'ampflow' && mode !== 'bare') throw new Error(`server-child: unknown mode ${mode}`);
  const running = mode === 'ampflow' ? await startAmpflow() : await startBare();
  const send = (message: unknown) => process.send?.(message);
  process.on('message', (message: string) => {
    if (message === 'stats') {
      collect();
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        externalBytes: memory.external,
        cpuMs: (cpu.user + cpu.system) / 1000,
        connections: running.connections(),
        counts: { ...counts },
      });
    } else if (message === 'counts') {
      send({ type: 'counts', counts: { ...counts, ...running.upstream?.() } });
    } else if (message === 'stop') {
      void running.stop().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: running.url });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
