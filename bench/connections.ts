/**
 * Connections: N chargers connect, boot, heartbeat and send MeterValues every 60 s to one central
 * system. Figures per N: connect rate (open + BootNotification answered, per second), memory per
 * connection (the server process's RSS and heap delta after full GCs, divided by N) and the
 * server's CPU at steady state. Side by side in the same run: a bare ocpp-rpc RPCServer
 * configured as the package configures it, with handlers that only answer (the floor), and the
 * package's CentralSystem (lib/ocpp, durable state on disk as in Node-RED).
 *
 *   npm run bench:connections -- [--sizes 1000,5000,10000] [--runs 3] [--window 12] [--concurrency 100]
 *
 * Each server runs in a child process (bench/support/server-child.ts) so the load generator's
 * memory is not counted. The load generator uses raw `ws` clients (bench/support/raw-charger.ts;
 * every reply checked), all on 127.0.0.1. 10,000 connections take 10,000 file descriptors in the
 * generator and as many in the server: `ulimit -n` must be above that (printed below).
 */
import {
  formatKiB,
  inBatches,
  loadNow,
  machineLine,
  median,
  ownCpuMs,
  processUsage,
  wallTime,
} from './support/machine';
import { benchOptions } from './support/options';
import { connectAndBoot, RawCharger, rawStats } from './support/raw-charger';
import { SERVER_LABELS, type ServerKind, ServerProcess } from './support/servers';

const {
  sizes,
  runs,
  window: windowS,
  concurrency,
} = benchOptions(
  { sizes: [1000, 5000, 10000], runs: 3, window: 12, concurrency: 100 },
  { sizes: 20, runs: 1, window: 1.5, concurrency: 20 },
);
interface Sample {
  connectPerS: number;
  rssPerConnBytes: number;
  heapPerConnBytes: number;
  externalPerConnBytes: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  messagesPerS: number;
}

/** The steady load of every charger, and the windows the steady state is measured in. */
const METER_VALUES_PERIOD_MS = 60_000;
const HEARTBEAT_PERIOD_MS = 300_000;
const SUBWINDOWS = 3;

/**
 * Sends each charger's MeterValues every 60 s and Heartbeat every 300 s, spread evenly over the
 * period (charger i at i/N of it), from one 50 ms tick. Returns the function that stops it.
 */
function steadyLoad(chargers: RawCharger[], failures: string[]) {
  const startedMs = performance.now();
  const sent = { meterValues: 0, heartbeats: 0, answered: 0, skipped: 0 };
  const fire = (charger: RawCharger, send: () => Promise<unknown>) => {
    // A charger whose previous call is still in flight skips this one (OCPP-J: one call at a time).
    if (charger.busy) {
      sent.skipped += 1;
      return;
    }
    send().then(
      () => {
        sent.answered += 1;
      },
      (err: Error) => failures.push(err.message),
    );
  };
  const timer = setInterval(() => {
    const elapsed = performance.now() - startedMs;
    const n = chargers.length;
    const meterDue = Math.floor((elapsed / METER_VALUES_PERIOD_MS) * n);
    while (sent.meterValues < meterDue) {
      const charger = chargers[sent.meterValues % n] as RawCharger;
      sent.meterValues += 1;
      fire(charger, () => charger.sendMeterValues());
    }
    const heartbeatDue = Math.floor((elapsed / HEARTBEAT_PERIOD_MS) * n);
    while (sent.heartbeats < heartbeatDue) {
      // Heartbeats start half-way through the list, so they do not line up with the meter values.
      const charger = chargers[(sent.heartbeats + Math.floor(n / 2)) % n] as RawCharger;
      sent.heartbeats += 1;
      fire(charger, () => charger.call('Heartbeat', {}));
    }
  }, 50);
  return { sent, stop: () => clearInterval(timer) };
}

async function measure(kind: ServerKind, size: number): Promise<Sample> {
  const server = await ServerProcess.start(kind);
  const chargers = Array.from(
    { length: size },
    (_, i) => new RawCharger(server.url, `BENCH-${String(i).padStart(5, '0')}`),
  );
  const failures: string[] = [];
  try {
    const before = await server.stats();
    const connectStartedMs = performance.now();
    await inBatches(chargers, concurrency, (charger) => connectAndBoot(charger));
    const connectS = (performance.now() - connectStartedMs) / 1000;
    const after = await server.stats();
    if (after.connections !== size) throw new Error(`${kind}: ${after.connections} of ${size} connected`);

    const load = steadyLoad(chargers, failures);
    await wallTime(2000); // let the first ticks settle
    const serverPercents: number[] = [];
    const generatorPercents: number[] = [];
    const rates: number[] = [];
    const subS = windowS / SUBWINDOWS;
    for (let w = 0; w < SUBWINDOWS; w++) {
      const serverCpu0 = processUsage(server.pid).cpuMs;
      const ownCpu0 = ownCpuMs();
      const answered0 = load.sent.answered;
      const t0 = performance.now();
      await wallTime(subS * 1000);
      const elapsedMs = performance.now() - t0;
      serverPercents.push(((processUsage(server.pid).cpuMs - serverCpu0) / elapsedMs) * 100);
      generatorPercents.push(((ownCpuMs() - ownCpu0) / elapsedMs) * 100);
      rates.push(((load.sent.answered - answered0) / elapsedMs) * 1000);
    }
    load.stop();
    if (load.sent.skipped > 0)
      failures.push(
        `${load.sent.skipped} calls skipped: the previous call of the charger was still unanswered`,
      );
    if (failures.length > 0) throw new Error(`${kind}: ${failures.length} calls failed, e.g. ${failures[0]}`);
    return {
      connectPerS: size / connectS,
      rssPerConnBytes: (after.rssBytes - before.rssBytes) / size,
      heapPerConnBytes: (after.heapUsedBytes - before.heapUsedBytes) / size,
      externalPerConnBytes: (after.externalBytes - before.externalBytes) / size,
      serverCpuPercent: median(serverPercents),
      generatorCpuPercent: median(generatorPercents),
      messagesPerS: median(rates),
    };
  } finally {
    for (const charger of chargers) charger.terminate();
    await server.stop();
  }
}

function row(label: string, s: Sample): string {
  return (
    `${label.padEnd(34)} ${s.connectPerS.toFixed(0).padStart(9)} ` +
    `${formatKiB(s.heapPerConnBytes).padStart(12)} ${formatKiB(s.externalPerConnBytes).padStart(12)} ${formatKiB(s.rssPerConnBytes).padStart(12)} ` +
    `${s.messagesPerS.toFixed(1).padStart(8)} ${s.serverCpuPercent.toFixed(1).padStart(9)} % ${s.generatorCpuPercent.toFixed(1).padStart(9)} %`
  );
}

const HEADER =
  `${'server'.padEnd(34)} ${'connect/s'.padStart(9)} ${'heap/conn'.padStart(12)} ${'ext/conn'.padStart(12)} ${'RSS/conn'.padStart(12)} ` +
  `${'msg/s'.padStart(8)} ${'srv CPU'.padStart(11)} ${'gen CPU'.padStart(11)}`;

async function main(): Promise<void> {
  console.log('ampflow connections benchmark');
  console.log(machineLine());
  console.log(
    `command: npm run bench:connections -- --sizes ${sizes.join(',')} --runs ${runs} --window ${windowS} --concurrency ${concurrency}`,
  );
  console.log(
    `each charger: open + BootNotification (${concurrency} at a time), then MeterValues (8 sampled values) every 60 s and Heartbeat every 300 s, spread evenly; server pings every 60 s`,
  );
  console.log(
    `figures: connect/s over all N; memory = delta of the server process after full GCs / N (heap, external buffers, RSS); steady state = median of ${SUBWINDOWS} windows of ${(windowS / SUBWINDOWS).toFixed(0)} s; CPU in % of one core\n`,
  );
  const kinds: ServerKind[] = ['bare', 'ampflow'];
  const results = new Map<string, Sample[]>();
  for (const size of sizes) {
    console.log(`N = ${size.toLocaleString('en')}`);
    console.log(HEADER);
    for (let run = 0; run < runs; run++) {
      // Alternate which server goes first, so neither always gets the quieter machine.
      const order = run % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const sample = await measure(kind, size);
        const key = `${size}/${kind}`;
        results.set(key, [...(results.get(key) ?? []), sample]);
        console.log(`${row(`  run ${run + 1}: ${kind}`, sample)}   load ${loadNow()}`);
      }
    }
    for (const kind of kinds) {
      const samples = results.get(`${size}/${kind}`) ?? [];
      const pick = (f: (s: Sample) => number) => median(samples.map(f));
      console.log(
        row(`median: ${SERVER_LABELS[kind]}`, {
          connectPerS: pick((s) => s.connectPerS),
          rssPerConnBytes: pick((s) => s.rssPerConnBytes),
          heapPerConnBytes: pick((s) => s.heapPerConnBytes),
          externalPerConnBytes: pick((s) => s.externalPerConnBytes),
          serverCpuPercent: pick((s) => s.serverCpuPercent),
          generatorCpuPercent: pick((s) => s.generatorCpuPercent),
          messagesPerS: pick((s) => s.messagesPerS),
        }),
      );
    }
    console.log('');
  }
  console.log(
    `replies checked: ${rawStats.badReplies} bad, ${rawStats.callErrors} CALLERRORs, ${rawStats.serverCalls} server-initiated calls${rawStats.lastProblem ? ` (last: ${rawStats.lastProblem})` : ''}`,
  );
  console.log(`load average at the end: ${loadNow()}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
