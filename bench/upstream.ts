/**
 * The upstream proxy's cost (issue #14): 200 chargers send MeterValues back to back (one call in
 * flight each, every reply checked) through
 *
 *   plain    the central system (lib/ocpp) in a process of its own, as bench:throughput runs it;
 *   proxied  the same central system with an UpstreamProxy (lib/upstream, default settings) passing
 *            every charger through to the operator's backend: a bare ocpp-rpc server in strict
 *            mode (test/support/upstream-backend.ts) in a THIRD process, so its CPU is not counted;
 *   direct   (reference) the chargers dialing that backend themselves, no ampflow in between.
 *
 *   npm run bench:upstream -- [--active 200] [--idle 2000] [--runs 3] [--window 4] [--direct 1]
 *
 * Then again with 2,000 idle chargers connected (proxied: each with its own upstream link).
 * Figures: how long a MeterValues takes from leaving the load client to reaching the backend's
 * handler (process.hrtime in both processes: one monotonic clock), the charger-visible reply time,
 * and the central system's CPU time per MeterValues (from /proc), proxied ÷ plain. Every forwarded
 * MeterValues must reach the backend, and every one the backend got is matched to its sending.
 * Targets: p99 to the backend <= 5 ms; CPU per message <= 1.5x the plain central system's.
 *
 * AMPFLOW_BENCH_CPU_PROF=<dir>: the central-system processes run with `--cpu-prof` into <dir>.
 */
import { BackendProcess } from './support/backend';
import {
  inBatches,
  loadNow,
  machineLine,
  median,
  ownCpuMs,
  percentile,
  processUsage,
  wallTime,
} from './support/machine';
import { benchOptions } from './support/options';
import { connectAndBoot, RawCharger, rawStats } from './support/raw-charger';
import { ServerProcess } from './support/servers';

const {
  active: activeCount,
  idle: idleCount,
  runs,
  window: windowS,
  direct,
  limit: limitMin,
} = benchOptions({
  active: 200,
  idle: 2000,
  runs: 3,
  window: 4,
  direct: 1,
  limit: 20,
});

const TARGET_P99_MS = 5;
const TARGET_CPU_RATIO = 1.5;

type Kind = 'direct' | 'plain' | 'proxied';

const LABELS: Record<Kind, string> = {
  direct: 'chargers -> backend directly (reference)',
  plain: 'central system, no proxy',
  proxied: 'central system + UpstreamProxy -> backend',
};

/** Where chargers dial, whose CPU is measured, what it has handled, the backend if any. */
interface Target {
  kind: Kind;
  url: string;
  pid: number;
  backend?: BackendProcess;
  counts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

interface Figures {
  perS: number;
  cpuUsPerMessage: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  /** Requests waiting for the backend at the end of the window (proxied). */
  queued: number;
}

interface Scenario {
  windows: Figures[];
  replyMs: number[];
  /** Leaving the load client -> the backend's handler, ms (direct and proxied). */
  toBackendMs: number[];
  /** How long the backend still got MeterValues after the chargers stopped (s). */
  backlogS: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function startTarget(kind: Kind): Promise<Target> {
  const backend = kind === 'plain' ? undefined : await BackendProcess.start();
  if (kind === 'direct' && backend) {
    return {
      kind,
      url: backend.directUrl,
      pid: backend.pid,
      backend,
      counts: () => backend.counts(),
      stop: () => backend.stop(),
    };
  }
  const profileDir = process.env.AMPFLOW_BENCH_CPU_PROF;
  const server = await ServerProcess.start('ampflow', {
    ...(backend ? { upstream: backend.urlTemplate } : {}),
    ...(profileDir ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  return {
    kind,
    url: server.url,
    pid: server.pid,
    ...(backend ? { backend } : {}),
    counts: () => server.counts(),
    async stop() {
      await server.stop();
      await backend?.stop();
    },
  };
}

/**
 * Waits until `ready` holds for the counts; throws when they stop changing for `stallMs` (the
 * --limit watchdog bounds the whole run).
 */
async function until(
  what: string,
  read: () => Promise<Record<string, number>>,
  ready: (c: Record<string, number>) => boolean,
  stallMs = 30_000,
): Promise<Record<string, number>> {
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    const counts = await read();
    if (ready(counts)) return counts;
    const now = JSON.stringify(counts);
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    } else if (Date.now() - changedAt > stallMs)
      throw new Error(`${what}: no progress for ${stallMs} ms (${now})`);
    await wallTime(100);
  }
}

/** Each active charger sends MeterValues back to back; while `recording`, each send is timed. */
function flood(chargers: RawCharger[]) {
  const state = {
    running: true,
    recording: false,
    acked: 0,
    failures: [] as string[],
    sentAt: new Map<string, number>(),
    replyMs: [] as number[],
  };
  const loops = chargers.map(async (charger) => {
    while (state.running) {
      const recording = state.recording;
      const key = `${charger.identity}#${charger.energyWh + 15}`;
      const t0 = nowUs();
      try {
        await charger.sendMeterValues();
      } catch (err) {
        state.failures.push((err as Error).message);
        return;
      }
      state.acked += 1;
      if (recording) {
        state.sentAt.set(key, t0);
        state.replyMs.push((nowUs() - t0) / 1000);
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

async function measure(target: Target, active: RawCharger[]): Promise<Scenario> {
  const backendCount = async () => (await target.backend?.counts())?.MeterValues ?? 0;
  const delivered = async () => (await target.counts()).MeterValues ?? 0;
  const backendBefore = await backendCount();
  const load = flood(active);
  await wallTime(2000); // warm-up
  await target.backend?.arrivals(); // forget the warm-up's
  const windows: Figures[] = [];
  load.state.recording = true;
  for (let run = 0; run < runs; run++) {
    const delivered0 = await delivered();
    const server0 = processUsage(target.pid).cpuMs;
    const own0 = ownCpuMs();
    const t0 = performance.now();
    await wallTime(windowS * 1000);
    const elapsedMs = performance.now() - t0;
    const serverMs = processUsage(target.pid).cpuMs - server0;
    const ownMs = ownCpuMs() - own0;
    const counts = await target.counts();
    const n = (counts.MeterValues ?? 0) - delivered0;
    windows.push({
      perS: (n / elapsedMs) * 1000,
      cpuUsPerMessage: (serverMs * 1000) / n,
      serverCpuPercent: (serverMs / elapsedMs) * 100,
      generatorCpuPercent: (ownMs / elapsedMs) * 100,
      queued: counts.upstreamQueued ?? 0,
    });
  }
  load.state.recording = false;
  await load.stop();
  if (load.state.failures.length > 0)
    throw new Error(
      `${LABELS[target.kind]}: ${load.state.failures.length} calls failed, e.g. ${load.state.failures[0]}`,
    );
  const toBackendMs: number[] = [];
  let backlogS = 0;
  if (target.backend) {
    const stoppedAt = performance.now();
    // Every MeterValues answered reached the backend (the proxy forwards them all).
    await until(
      `${LABELS[target.kind]}: every MeterValues at the backend`,
      async () => ({ MeterValues: (await backendCount()) - backendBefore }),
      (c) => (c.MeterValues ?? 0) >= load.state.acked,
    );
    backlogS = (performance.now() - stoppedAt) / 1000;
    const { arrivals, badMessages } = await target.backend.arrivals();
    if (badMessages.length > 0) throw new Error(`the strict backend refused: ${badMessages.join('; ')}`);
    for (const [identity, energy, atUs] of arrivals) {
      const sentUs = load.state.sentAt.get(`${identity}#${energy}`);
      if (sentUs !== undefined) toBackendMs.push((atUs - sentUs) / 1000);
    }
    if (toBackendMs.length !== load.state.sentAt.size)
      throw new Error(
        `${LABELS[target.kind]}: ${load.state.sentAt.size} MeterValues timed, ${toBackendMs.length} found at the backend`,
      );
  }
  return { windows, replyMs: load.state.replyMs, toBackendMs, backlogS };
}

async function scenarios(kind: Kind): Promise<{ active: Scenario; withIdle?: Scenario }> {
  const target = await startTarget(kind);
  const active = Array.from({ length: activeCount }, (_, i) => new RawCharger(target.url, `ACTIVE-${i}`));
  const idle = Array.from({ length: idleCount }, (_, i) => new RawCharger(target.url, `IDLE-${i}`));
  const linked = async (n: number) => {
    if (kind !== 'proxied') return;
    await until(
      `${n} upstream links open and introduced`,
      async () => ({ ...(await target.counts()), ...(await target.backend?.counts()) }),
      (c) => c.upstreamOpen === n && (c.BootNotification ?? 0) >= n,
    );
  };
  try {
    await inBatches(active, 100, (charger) => connectAndBoot(charger));
    await linked(activeCount);
    const alone = await measure(target, active);
    if (idleCount === 0) return { active: alone };
    await inBatches(idle, 100, (charger) => connectAndBoot(charger));
    await linked(activeCount + idleCount);
    const withIdle = await measure(target, active);
    return { active: alone, withIdle };
  } finally {
    for (const charger of [...active, ...idle]) charger.terminate();
    await target.stop();
  }
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '-');

function cpuOf(s: Scenario): number {
  return median(s.windows.map((w) => w.cpuUsPerMessage));
}

function line(kind: Kind, s: Scenario): string {
  const pick = (f: (x: Figures) => number) => median(s.windows.map(f));
  const toBackend =
    s.toBackendMs.length > 0
      ? `${ms(percentile(s.toBackendMs, 50))} / ${ms(percentile(s.toBackendMs, 99))}`
      : '-';
  return (
    `  ${LABELS[kind].padEnd(44)} ${pick((w) => w.perS)
      .toFixed(0)
      .padStart(6)} msg/s  ` +
    `${cpuOf(s).toFixed(0).padStart(4)} µs CPU/msg  ` +
    `reply p50/p99 ${ms(percentile(s.replyMs, 50))} / ${ms(percentile(s.replyMs, 99))}  ` +
    `to backend p50/p99 ${toBackend}  ` +
    `server ${pick((w) => w.serverCpuPercent).toFixed(0)} %  generator ${pick((w) => w.generatorCpuPercent).toFixed(0)} %` +
    (kind === 'proxied'
      ? `  queued ${Math.max(...s.windows.map((w) => w.queued))}, backlog ${s.backlogS.toFixed(1)} s`
      : '')
  );
}

function verdicts(label: string, plain: Scenario, proxied: Scenario): string[] {
  const p99 = percentile(proxied.toBackendMs, 99);
  const ratio = cpuOf(proxied) / cpuOf(plain);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  return [
    `  ${label}: p99 charger -> backend ${ms(p99)} (target <= ${TARGET_P99_MS} ms: ${verdict(p99 <= TARGET_P99_MS)}); ` +
      `central system CPU per MeterValues proxied / plain ${ratio.toFixed(2)}x (target <= ${TARGET_CPU_RATIO}x: ${verdict(ratio <= TARGET_CPU_RATIO)})`,
  ];
}

async function main(): Promise<void> {
  // Bounded in time: whatever happens, the bench (and with it its children) stops.
  setTimeout(() => {
    console.error(`bench:upstream did not finish within ${limitMin} min; stopping`);
    process.exit(2);
  }, limitMin * 60_000).unref();
  console.log(
    'ampflow upstream-proxy benchmark: MeterValues through the central system to the operator’s backend',
  );
  console.log(machineLine());
  console.log(
    `command: npm run bench:upstream -- --active ${activeCount} --idle ${idleCount} --runs ${runs} --window ${windowS} --direct ${direct}`,
  );
  console.log(
    `${activeCount} active chargers send MeterValues back to back (one call in flight each); ${runs} windows of ${windowS} s after 2 s warm-up; ` +
      'CPU per message: the measured process (central system, or the backend for direct) from /proc; latencies pooled over the windows\n',
  );
  const kinds: Kind[] = direct ? ['direct', 'plain', 'proxied'] : ['plain', 'proxied'];
  const results = new Map<Kind, { active: Scenario; withIdle?: Scenario }>();
  for (const kind of kinds) {
    results.set(kind, await scenarios(kind));
    console.log(`measured: ${LABELS[kind]} (load ${loadNow()})`);
  }
  for (const [title, key] of [
    [`${activeCount} active chargers`, 'active'],
    [
      `${activeCount} active + ${idleCount} idle chargers (proxied: ${idleCount} more upstream links)`,
      'withIdle',
    ],
  ] as const) {
    if (key === 'withIdle' && idleCount === 0) continue;
    console.log(`\n${title}:`);
    for (const [kind, r] of results) {
      const scenario = r[key];
      if (scenario) console.log(line(kind, scenario));
    }
  }
  const plain = results.get('plain');
  const proxied = results.get('proxied');
  if (plain && proxied) {
    console.log('\ntargets:');
    for (const l of verdicts(`${activeCount} active`, plain.active, proxied.active)) console.log(l);
    if (plain.withIdle && proxied.withIdle)
      for (const l of verdicts(`+ ${idleCount} idle`, plain.withIdle, proxied.withIdle)) console.log(l);
  }
  console.log(
    `\nreplies checked: ${rawStats.badReplies} bad, ${rawStats.callErrors} CALLERRORs, ${rawStats.serverCalls} server-initiated calls${rawStats.lastProblem ? ` (last: ${rawStats.lastProblem})` : ''}`,
  );
  console.log(`load average at the end: ${loadNow()}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
