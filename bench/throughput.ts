/**
 * Throughput: MeterValues per second carried end to end, from the charger sockets to the output
 * of an `ampflow-ocpp-in` node in a running Node-RED (central system + ampflow-ocpp-in(MeterValues)
 * -> a counting node of the bench's own; the count is read over HTTP), against the bare ocpp-rpc
 * floor and the package's CentralSystem without Node-RED. Once with 200 active chargers, once with
 * the same 200 plus 2,000 idle connections: the cost per message must not grow with the number of
 * connected chargers.
 *
 *   npm run bench:throughput -- [--active 200] [--idle 2000] [--runs 3] [--window 4] [--rate 4000]
 *                               [--flood 1] [--profile 1]
 *
 * Every active charger sends MeterValues (8 sampled values) back to back, one call in flight at a
 * time as OCPP-J asks, on a raw `ws` WebSocket; every reply is checked. The generator's own CPU is
 * printed: while it stays well below 100 % of a core the figure measures the server. Then the same
 * chargers send `--rate` MeterValues a second in all, each on an even beat of its own, below every
 * server's capacity: each server then answers the same messages at the same moments, as on a site
 * (where chargers send every 10-60 s). Back to back, a server that answers more slowly finds the
 * generator asleep more often, and on loopback its reply's `writev` pays for waking it (the
 * receiving side of TCP runs in the sender's system call): that part of its cost per message comes
 * from the bench, not from the server. `--flood 0` measures only the paced load (to profile it;
 * `--rate 0` leaves the paced rows out). Each server
 * runs in a process of its own; CPU figures come from /proc. The central system without Node-RED
 * runs the package's compiled code, built once for the run, as Node-RED does.
 *
 * Targets (issue #15), printed next to each ratio and never asserted: the CPU per MeterValues of
 * the central system alone at most 1.3x the floor's, into an `ampflow-ocpp-in` node at most 1.5x,
 * both measured in the same run; and flat with the idle connections.
 *
 * `--profile 1` runs every server under `node --cpu-prof` and prints, per server, the functions
 * with the most self time and the package's functions by inclusive time (the profiles are kept in
 * a directory the bench names). The profiler costs CPU: read the ratios of such a run as rough.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeRed } from '../test/support/node-red';
import { freePort } from '../test/support/ports';
import {
  type CpuFigures,
  cpuWindow,
  inBatches,
  loadNow,
  machineLine,
  median,
  wallTime,
} from './support/machine';
import { benchDirectory, buildPackage } from './support/node-red';
import { benchOptions } from './support/options';
import { cpuProfileArgs, profileLines, profilesIn, summariseProfile } from './support/profile';
import { connectAndBoot, RawCharger, rawStats } from './support/raw-charger';
import { ServerProcess } from './support/servers';

const {
  active: activeCount,
  idle: idleCount,
  runs,
  window: windowS,
  profile,
  rate,
  flood: floodToo,
} = benchOptions({ active: 200, idle: 2000, runs: 3, window: 4, profile: 0, rate: 4000, flood: 1 });

/** CPU per message of a server / the floor's, at most (issue #15). */
const TARGETS: Record<'ampflow' | 'node-red', number> = { ampflow: 1.3, 'node-red': 1.5 };

/** A server under load: where chargers dial, how many MeterValues it has delivered, its pid. */
interface Target {
  label: string;
  kind: 'bare' | 'ampflow' | 'node-red';
  /** Where its CPU profile goes (--profile 1). */
  profileDir?: string;
  url: string;
  pid: number;
  delivered(): Promise<number>;
  stop(): Promise<void>;
}

type Figures = CpuFigures;

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

async function nodeRedTarget(dir: string, packageDir: string, profileDir?: string): Promise<Target> {
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

async function childTarget(
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
function drive(chargers: RawCharger[], perS: number) {
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

async function measureWindows(target: Target, active: RawCharger[], perS = 0): Promise<Figures[]> {
  const load = drive(active, perS);
  await wallTime(2000); // warm-up
  const figures: Figures[] = [];
  for (let run = 0; run < runs; run++) {
    const delivered0 = await target.delivered();
    const window = cpuWindow(target.pid);
    await wallTime(windowS * 1000);
    figures.push(window((await target.delivered()) - delivered0));
  }
  await load.stop();
  if (load.state.failures.length > 0)
    throw new Error(
      `${target.label}: ${load.state.failures.length} calls failed, e.g. ${load.state.failures[0]}`,
    );
  // End to end: every acknowledged MeterValues came out of the server (the node's output).
  const deadline = Date.now() + 15_000;
  let delivered = await target.delivered();
  const expected = totalAcked(active);
  while (delivered < expected && Date.now() < deadline) {
    await wallTime(100);
    delivered = await target.delivered();
  }
  if (delivered !== expected)
    throw new Error(`${target.label}: ${expected} MeterValues answered, but ${delivered} came out`);
  return figures;
}

function totalAcked(chargers: RawCharger[]): number {
  return chargers.reduce((sum, charger) => sum + charger.meterValuesAnswered, 0);
}

function summarise(figures: Figures[]): Figures {
  const pick = (f: (x: Figures) => number) => median(figures.map(f));
  return {
    perS: pick((x) => x.perS),
    cpuUsPerMessage: pick((x) => x.cpuUsPerMessage),
    serverCpuPercent: pick((x) => x.serverCpuPercent),
    generatorCpuPercent: pick((x) => x.generatorCpuPercent),
  };
}

async function scenarios(
  target: Target,
): Promise<{ active: Figures; paced: Figures | undefined; withIdle: Figures }> {
  const active = Array.from({ length: activeCount }, (_, i) => new RawCharger(target.url, `ACTIVE-${i}`));
  const idle = Array.from({ length: idleCount }, (_, i) => new RawCharger(target.url, `IDLE-${i}`));
  try {
    await inBatches(active, 100, (charger) => connectAndBoot(charger));
    // --flood 0: only the paced load (to profile it); the "back to back" rows are paced then too.
    const main = floodToo ? 0 : rate;
    const alone = summarise(await measureWindows(target, active, main));
    const atRate = rate > 0 && floodToo ? summarise(await measureWindows(target, active, rate)) : undefined;
    await inBatches(idle, 100, (charger) => connectAndBoot(charger));
    const withIdle = summarise(await measureWindows(target, active, main));
    return { active: alone, paced: atRate, withIdle };
  } finally {
    for (const charger of [...active, ...idle]) charger.terminate();
    await target.stop();
  }
}

/**
 * msg/s is what got through on this machine at the time; on a shared machine the server may not
 * get its core, so the CPU time per message (and the rate one whole core would carry at that
 * cost) is the figure that compares servers.
 */
function line(label: string, f: Figures, floor: Figures): string {
  const perCore = 1e6 / f.cpuUsPerMessage;
  const floorPerCore = 1e6 / floor.cpuUsPerMessage;
  return (
    `${label.padEnd(58)} ${f.perS.toFixed(0).padStart(6)} msg/s (${((f.perS / floor.perS) * 100).toFixed(0).padStart(3)} %)  ` +
    `${f.cpuUsPerMessage.toFixed(0).padStart(4)} µs CPU/msg = ${perCore.toFixed(0).padStart(5)} msg/s per core (${((perCore / floorPerCore) * 100).toFixed(0).padStart(3)} % of floor)  ` +
    `server ${f.serverCpuPercent.toFixed(0).padStart(3)} %  generator ${f.generatorCpuPercent.toFixed(0).padStart(3)} %`
  );
}

async function main(): Promise<void> {
  console.log(
    'ampflow throughput benchmark: MeterValues from charger sockets to an ampflow-ocpp-in node output',
  );
  console.log(machineLine());
  console.log(
    `command: npm run bench:throughput -- --active ${activeCount} --idle ${idleCount} --runs ${runs} --window ${windowS} --rate ${rate} --flood ${floodToo}${profile ? ' --profile 1' : ''}`,
  );
  console.log(
    `${activeCount} active chargers send MeterValues ${floodToo ? 'back to back' : `at ${rate}/s in all`} (one call in flight each)${floodToo && rate > 0 ? `, then at a paced ${rate}/s in all (each on its own beat)` : ''}; medians of ${runs} windows of ${windowS} s after 2 s warm-up; CPU in % of one core (from /proc)\n`,
  );
  const dir = benchDirectory();
  try {
    process.stdout.write('building the package into a temporary directory... ');
    const packageDir = buildPackage(dir);
    console.log('done');
    const profiles = profile ? mkdtempSync(join(tmpdir(), 'ampflow-throughput-profiles-')) : undefined;
    const profileDir = (name: string) => (profiles ? join(profiles, name) : undefined);
    const results: {
      label: string;
      kind: Target['kind'];
      active: Figures;
      paced: Figures | undefined;
      withIdle: Figures;
    }[] = [];
    for (const make of [
      () => childTarget('bare', packageDir, profileDir('bare')),
      () => childTarget('ampflow', packageDir, profileDir('ampflow')),
      () => nodeRedTarget(dir, packageDir, profileDir('node-red')),
    ]) {
      const target = await make();
      const { label, kind } = target;
      const figures = await scenarios(target);
      results.push({ label, kind, ...figures });
      console.log(`measured: ${label} (load ${loadNow()})`);
      if (target.profileDir) {
        // The main thread's profile (a loader thread writes a small one of its own).
        for (const file of profilesIn(target.profileDir).slice(0, 1))
          console.log(
            [`CPU profile of ${label}: ${file}`, ...profileLines(summariseProfile(file))].join('\n'),
          );
      }
    }
    const floor = results[0] as (typeof results)[number];
    console.log(
      '\nmsg/s: carried end to end in the windows (in brackets: of the floor); CPU per message: server process CPU time / messages carried',
    );
    const how = floodToo ? 'back to back' : `paced at ${rate} MeterValues/s in all`;
    console.log(`\n${activeCount} active chargers, ${how}:`);
    for (const r of results) console.log(line(r.label, r.active, floor.active));
    if (rate > 0 && floor.paced) {
      console.log(`\n${activeCount} active chargers, paced at ${rate} MeterValues/s in all:`);
      for (const r of results) if (r.paced) console.log(line(r.label, r.paced, floor.paced));
    }
    console.log(`\n${activeCount} active + ${idleCount} idle connections, ${how}:`);
    for (const r of results) console.log(line(r.label, r.withIdle, floor.withIdle));
    console.log("\nCPU per message / the floor's in the same run (target, issue #15):");
    for (const r of results) {
      const target = r.kind === 'bare' ? undefined : TARGETS[r.kind];
      if (target === undefined) continue;
      const ratio = (f: Figures, floorFigures: Figures) => f.cpuUsPerMessage / floorFigures.cpuUsPerMessage;
      const verdict = (x: number) => `${x.toFixed(2)}x ${x <= target ? '(met)' : '(not met)'}`;
      console.log(
        `  ${r.label.padEnd(58)} ${verdict(ratio(r.active, floor.active))}; with ${idleCount} idle ${verdict(ratio(r.withIdle, floor.withIdle))}${r.paced && floor.paced ? `; paced ${verdict(ratio(r.paced, floor.paced))}` : ''}  target <= ${target}x`,
      );
    }
    console.log('\nCPU per message with the idle connections / without (target: flat, as the floor):');
    for (const r of results)
      console.log(
        `  ${r.label.padEnd(58)} ${(r.withIdle.cpuUsPerMessage / r.active.cpuUsPerMessage).toFixed(2)}`,
      );
    console.log(
      `\nreplies checked: ${rawStats.badReplies} bad, ${rawStats.callErrors} CALLERRORs, ${rawStats.serverCalls} server-initiated calls${rawStats.lastProblem ? ` (last: ${rawStats.lastProblem})` : ''}`,
    );
    console.log(`load average at the end: ${loadNow()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
