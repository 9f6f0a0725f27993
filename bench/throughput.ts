/**
 * Throughput: MeterValues per second carried end to end, from the charger sockets to the output
 * of an `ampflow-ocpp-in` node in a running Node-RED (central system + ampflow-ocpp-in(MeterValues)
 * -> a counting node of the bench's own; the count is read over HTTP), against the bare ocpp-rpc
 * floor and the package's CentralSystem without Node-RED. Once with 200 active chargers, once with
 * the same 200 plus 2,000 idle connections: the cost per message must not grow with the number of
 * connected chargers.
 *
 *   npm run bench:throughput -- [--active 200] [--idle 2000] [--runs 3] [--window 4] [--rate 4000]
 *                               [--flood 1] [--profile 1] [--paired 0]
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
 * `--paired N` (N cycles, e.g. 12) measures the paced load only, the three servers side by side,
 * window after window (bench/support/throughput-paired.ts): the ratios of one cycle are taken
 * seconds apart, so they do not move with the host's speed over minutes as the rows of the other
 * mode do.
 *
 * `--profile 1` runs every server under `node --cpu-prof` and prints, per server, the functions
 * with the most self time and the package's functions by inclusive time (the profiles are kept in
 * a directory the bench names). The profiler costs CPU: read the ratios of such a run as rough.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { profileLines, profilesIn, summariseProfile } from './support/profile';
import { connectAndBoot, RawCharger, rawStats } from './support/raw-charger';
import { pairedRatios, pairedWindows } from './support/throughput-paired';
import { childTarget, drive, nodeRedTarget, type Target } from './support/throughput-targets';

type Figures = CpuFigures;

const {
  active: activeCount,
  idle: idleCount,
  runs,
  window: windowS,
  profile,
  rate,
  flood: floodToo,
  paired,
} = benchOptions(
  {
    active: 200,
    idle: 2000,
    runs: 3,
    window: 4,
    profile: 0,
    rate: 4000,
    flood: 1,
    paired: 0,
  },
  { active: 10, idle: 20, runs: 1, window: 0.5, rate: 200, paired: 2 },
);

/** CPU per message of a server / the floor's, at most (issue #15). */
const TARGETS: Record<'ampflow' | 'node-red', number> = { ampflow: 1.3, 'node-red': 1.5 };

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
  await expectAllDelivered(target, active);
  return figures;
}

/** End to end: every MeterValues the chargers had answered came out of the server (the node's output). */
async function expectAllDelivered(target: Target, chargers: RawCharger[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  let delivered = await target.delivered();
  const expected = totalAcked(chargers);
  while (delivered < expected && Date.now() < deadline) {
    await wallTime(100);
    delivered = await target.delivered();
  }
  if (delivered !== expected)
    throw new Error(`${target.label}: ${expected} MeterValues answered, but ${delivered} came out`);
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

/**
 * `--paired N`: the three servers at once, each with its own active chargers, the paced load to
 * one at a time (bench/support/throughput-paired.ts); prints each cycle and the ratios' median and
 * range. Every answered MeterValues must have come out of its server, as in the other mode.
 */
async function pairedMain(dir: string, packageDir: string): Promise<void> {
  const targets: Target[] = [];
  const chargers = new Map<Target, RawCharger[]>();
  try {
    for (const make of [
      () => childTarget('bare', packageDir),
      () => childTarget('ampflow', packageDir),
      () => nodeRedTarget(dir, packageDir),
    ]) {
      const target = await make();
      targets.push(target);
      const active = Array.from({ length: activeCount }, (_, i) => new RawCharger(target.url, `ACTIVE-${i}`));
      chargers.set(target, active);
      await inBatches(active, 100, (charger) => connectAndBoot(charger));
    }
    // Warm-up: every server's code compiled before the first window.
    for (const target of targets) {
      const load = drive(chargers.get(target) ?? [], rate);
      await wallTime(3000);
      await load.stop();
    }
    console.log(
      `cycle  ${targets.map((t) => t.kind.padStart(9)).join('')}   µs CPU per message; ratio to the floor`,
    );
    const rows = await pairedWindows(
      targets,
      chargers,
      { cycles: paired, windowS, rate, warmS: 1 },
      (c, row) =>
        console.log(
          `${String(c + 1).padStart(5)}  ${row.map((us) => us.toFixed(1).padStart(9)).join('')}   ${row
            .slice(1)
            .map((us) => `${(us / (row[0] ?? Number.NaN)).toFixed(2)}x`)
            .join('  ')}  (load ${loadNow()})`,
        ),
    );
    for (const target of targets) await expectAllDelivered(target, chargers.get(target) ?? []);
    console.log(
      `\nCPU per message / the floor's, median (lowest-highest) of ${paired} cycles (target, issue #15):`,
    );
    targets.forEach((target, i) => {
      if (target.kind === 'bare') return;
      const goal = TARGETS[target.kind];
      const { median: mid, low, high } = pairedRatios(rows, i);
      console.log(
        `  ${target.label.padEnd(58)} ${mid.toFixed(2)}x (${low.toFixed(2)}-${high.toFixed(2)}) ${mid <= goal ? '(met)' : '(not met)'}  target <= ${goal}x`,
      );
    });
    console.log(
      `  floor: ${median(rows.map((row) => row[0] ?? Number.NaN)).toFixed(1)} µs CPU per message (median)`,
    );
    console.log(
      `replies checked: ${rawStats.badReplies} bad, ${rawStats.callErrors} CALLERRORs; load average at the end: ${loadNow()}`,
    );
  } finally {
    for (const active of chargers.values()) for (const charger of active) charger.terminate();
    for (const target of targets) await target.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    'ampflow throughput benchmark: MeterValues from charger sockets to an ampflow-ocpp-in node output',
  );
  console.log(machineLine());
  console.log(
    `command: npm run bench:throughput -- --active ${activeCount} --idle ${idleCount} --runs ${runs} --window ${windowS} --rate ${rate} --flood ${floodToo}${profile ? ' --profile 1' : ''}${paired ? ` --paired ${paired}` : ''}`,
  );
  if (!paired)
    console.log(
      `${activeCount} active chargers send MeterValues ${floodToo ? 'back to back' : `at ${rate}/s in all`} (one call in flight each)${floodToo && rate > 0 ? `, then at a paced ${rate}/s in all (each on its own beat)` : ''}; medians of ${runs} windows of ${windowS} s after 2 s warm-up; CPU in % of one core (from /proc)\n`,
    );
  const dir = benchDirectory();
  try {
    process.stdout.write('building the package into a temporary directory... ');
    const packageDir = buildPackage(dir);
    console.log('done');
    if (paired > 0) {
      console.log(
        `paired: the three servers at once, ${activeCount} chargers each; ${paired} cycles of a ${windowS} s window per server (after 1 s of load), paced at ${rate} MeterValues/s in all (each charger on its own beat, one call in flight), the order reversed every other cycle; CPU from /proc\n`,
      );
      await pairedMain(dir, packageDir);
      return;
    }
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
