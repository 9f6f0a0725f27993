/**
 * The throughput bench's servers (bench/throughput.ts): the bare ocpp-rpc floor and the package's
 * central system, each in a process of its own, and Node-RED with the package, an
 * `ampflow-ocpp-in` node and a counting node of the bench's own; and the load its chargers send.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNodeRed } from '../../test/support/node-red';
import { freePort } from '../../test/support/ports';
import { wallTime } from './machine';
import { cpuProfileArgs } from './profile';
import type { RawCharger } from './raw-charger';
import { ServerProcess } from './servers';

/** A server under load: where chargers dial, how many MeterValues it has delivered, its pid. */
export interface Target {
  label: string;
  kind: 'bare' | 'ampflow' | 'node-red';
  /** Where its CPU profile goes (--profile 1). */
  profileDir?: string;
  url: string;
  pid: number;
  delivered(): Promise<number>;
  stop(): Promise<void>;
}

function benchFlow(ocppPort: number): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'throughput bench' },
    {
      id: 'bench-cs',
      type: 'ampflow-central-system',
      name: 'bench',
      listen: 'port',
      host: '127.0.0.1',
      port: String(ocppPort),
      unknownChargePoints: 'accept',
      authorizationPolicy: 'acceptAll',
      readConfigurationOnBoot: false,
    },
    {
      id: 'bench-in',
      type: 'ampflow-ocpp-in',
      z: 'bench-tab',
      name: 'meter values',
      centralSystem: 'bench-cs',
      mode: 'messages',
      chargePoints: '',
      actions: ['MeterValues'],
      wires: [['bench-count']],
    },
    { id: 'bench-count', type: 'ampflow-bench-count', z: 'bench-tab', name: 'count', wires: [] },
  ];
}

/**
 * The bench's sink, a node of its own in the user directory's nodes/ (Node-RED loads those): it
 * counts what the ampflow-ocpp-in node emitted, MeterValues and anything else apart, and serves
 * the counts on GET /bench/count. A function node would cost more per message than some of what
 * is measured (a vm context and a `node` object per call: about 6 µs in a profile).
 */
const BENCH_COUNT_NODE = `module.exports = function (RED) {
  const counts = { meterValues: 0, other: 0 };
  function BenchCount(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      counts[msg.action === 'MeterValues' && msg.payload ? 'meterValues' : 'other'] += 1;
      done();
    });
  }
  RED.nodes.registerType('ampflow-bench-count', BenchCount);
  RED.httpNode.get('/bench/count', (req, res) => res.json(counts));
};
`;
const BENCH_COUNT_HTML = `<script type="text/javascript">
  RED.nodes.registerType('ampflow-bench-count', { category: 'common', defaults: { name: { value: '' } }, inputs: 1, outputs: 0, label: 'bench count' });
</script>
`;

export async function nodeRedTarget(dir: string, packageDir: string, profileDir?: string): Promise<Target> {
  const ocppPort = await freePort();
  const userDir = mkdtempSync(join(dir, 'user-'));
  mkdirSync(join(userDir, 'nodes'));
  writeFileSync(join(userDir, 'nodes', 'bench-count.js'), BENCH_COUNT_NODE);
  writeFileSync(join(userDir, 'nodes', 'bench-count.html'), BENCH_COUNT_HTML);
  const nodeRed = await startNodeRed({
    package: { dir: packageDir },
    flow: benchFlow(ocppPort),
    userDir,
    ...(profileDir ? { nodeOptions: cpuProfileArgs(profileDir) } : {}),
  });
  await nodeRed.process.waitForLine(new RegExp(`central system listening on ws://.*:${ocppPort}/`));
  return {
    label: 'Node-RED: central system -> ampflow-ocpp-in -> count',
    kind: 'node-red',
    ...(profileDir ? { profileDir } : {}),
    url: `ws://127.0.0.1:${ocppPort}/`,
    pid: nodeRed.process.child.pid as number,
    async delivered() {
      const response = await fetch(`${nodeRed.url}/bench/count`);
      const body = (await response.json()) as { meterValues: number; other: number };
      if (body.other > 0)
        throw new Error(`the ampflow-ocpp-in node emitted ${body.other} messages that are not MeterValues`);
      return body.meterValues;
    },
    stop: () => nodeRed.dispose(),
  };
}

export async function childTarget(
  kind: 'bare' | 'ampflow',
  packageDir: string,
  profileDir?: string,
): Promise<Target> {
  const server = await ServerProcess.start(kind, {
    packageDir,
    ...(profileDir ? { nodeOptions: cpuProfileArgs(profileDir) } : {}),
  });
  return {
    label: kind === 'bare' ? 'bare ocpp-rpc RPCServer (floor)' : 'CentralSystem (lib/ocpp), no Node-RED',
    kind,
    ...(profileDir ? { profileDir } : {}),
    url: server.url,
    pid: server.pid,
    delivered: async () => (await server.counts()).MeterValues ?? 0,
    stop: () => server.stop(),
  };
}

/**
 * The active chargers send MeterValues until stopped, a call only after the last one's answer:
 * back to back (`perS` 0), or `perS` a second in all, each on its own even beat (the beats spread
 * over the period), below every server's capacity, so that each server answers the same messages
 * at the same moments.
 */
export function drive(chargers: RawCharger[], perS: number) {
  const state = { running: true, acked: 0, failures: [] as string[] };
  const periodMs = perS > 0 ? (chargers.length / perS) * 1000 : 0;
  const start = performance.now();
  const loops = chargers.map(async (charger, i) => {
    let due = start + (periodMs * i) / chargers.length;
    while (state.running) {
      const wait = due - performance.now();
      if (periodMs > 0 && wait > 0) await wallTime(wait);
      due += periodMs;
      try {
        await charger.sendMeterValues();
        state.acked += 1;
      } catch (err) {
        state.failures.push((err as Error).message);
        return;
      }
    }
  });
  return {
    state,
    async stop() {
      state.running = false;
      await Promise.all(loops);
    },
  };
}
