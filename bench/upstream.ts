/**
 * The upstream proxy's cost (issue #14): 200 chargers send MeterValues (one call in flight each,
 * every reply checked) through
 *
 *   plain       the central system (lib/ocpp) in a process of its own, as bench:throughput runs it;
 *   bare-proxy  (floor) a bare ocpp-rpc server that answers and passes each call to the backend over
 *               a bare ocpp-rpc client per charger, in order: what any proxy on ocpp-rpc costs;
 *   proxied     the same central system with an UpstreamProxy (lib/upstream, default settings)
 *               passing every charger through to the operator's backend: a bare ocpp-rpc server in
 *               strict mode (test/support/upstream-backend.ts) in a THIRD process, so its CPU is not
 *               counted;
 *   direct      (reference) the chargers dialing that backend themselves, no ampflow in between.
 *
 *   npm run bench:upstream -- [--active 200] [--idle 2000] [--runs 3] [--messages 50]
 *                             [--rate 1000] [--paced 4] [--direct 1] [--tx 1]
 *
 * With `--tx 1` (the default) each active charger first starts a transaction, so its MeterValues
 * carry the transactionId as a charger's do during a session (the proxy answers those once the
 * backend has them); `--tx 0`: meter values outside a transaction (answered at once).
 * Then again with 2,000 idle chargers connected (proxied: each with its own upstream link).
 * Burst: each charger sends `--messages` MeterValues back to back; a run ends when every one is
 * answered and has reached the backend, and the process's CPU time over the run (from /proc) per
 * message is the CPU figure, proxied ÷ plain. Paced: `--rate` MeterValues a second in all for
 * `--paced` s: how long a MeterValues takes from leaving the load client to reaching the backend's
 * handler (process.hrtime in both processes: one monotonic clock) without a backlog, against
 * direct. Every forwarded MeterValues must reach the backend, and every one the backend got is
 * matched to its sending. Targets: p99 to the backend <= 5 ms more than direct; CPU per message
 * <= 1.5x the plain central system's.
 *
 * The central system and the proxy run the compiled package (dist/, as Node-RED runs them).
 * AMPFLOW_BENCH_CPU_PROF=<dir>: the measured processes run with `--cpu-prof` into <dir>.
 */
import { rmSync } from 'node:fs';
import { BackendProcess } from './support/backend';
import {
  type CpuFigures,
  cpuWindow,
  inBatches,
  loadNow,
  machineLine,
  median,
  percentile,
  wallTime,
} from './support/machine';
import { benchDirectory, buildPackage } from './support/node-red';
import { benchOptions } from './support/options';
import { connectAndBoot, RawCharger, rawStats } from './support/raw-charger';
import { ServerProcess } from './support/servers';

const {
  active: activeCount,
  idle: idleCount,
  runs,
  messages,
  rate,
  paced: pacedS,
  direct,
  tx,
  limit: limitMin,
} = benchOptions(
  {
    active: 200,
    idle: 2000,
    runs: 3,
    messages: 50,
    rate: 1000,
    paced: 4,
    direct: 1,
    tx: 1,
    limit: 20,
  },
  { active: 10, idle: 20, runs: 1, messages: 5, rate: 100, paced: 1 },
);

/** MeterValues per charger before the runs (connections, JIT and caches warm). */
const WARMUP_MESSAGES = 20;

const TARGET_P99_MS = 5;
const TARGET_CPU_RATIO = 1.5;

type Kind = 'direct' | 'plain' | 'bare-proxy' | 'proxied';

const LABELS: Record<Kind, string> = {
  direct: 'chargers -> backend directly (reference)',
  plain: 'central system, no proxy',
  'bare-proxy': 'bare ocpp-rpc proxy -> backend (floor)',
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

type Figures = CpuFigures;

interface Scenario {
  windows: Figures[];
  replyMs: number[];
  /** Leaving the load client -> the backend's handler, ms (with a backend), in the bursts. */
  toBackendMs: number[];
  /** How long the backend still got MeterValues after the chargers had their answers (s), at most. */
  backlogS: number;
  /** The same at the paced rate. */
  pacedReplyMs: number[];
  pacedToBackendMs: number[];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** The compiled package the central system and the proxy run (set in main). */
let packageDir = '';

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
  const server = await ServerProcess.start(kind === 'bare-proxy' ? 'bare' : 'ampflow', {
    packageDir,
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
  pollMs = 100,
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
    await wallTime(pollMs);
  }
}

/** Each charger sends `perCharger` MeterValues back to back; each send is timed into `record`. */
async function burst(chargers: RawCharger[], perCharger: number, record: Timed): Promise<void> {
  await Promise.all(
    chargers.map(async (charger) => {
      for (let n = 0; n < perCharger; n++) await timedSend(charger, record);
    }),
  );
}

/** Each charger sends one MeterValues every `chargers / rate` s (phases spread) for `seconds`. */
async function paced(chargers: RawCharger[], rate: number, seconds: number, record: Timed): Promise<void> {
  const everyMs = (chargers.length / rate) * 1000;
  const endAt = performance.now() + seconds * 1000;
  await Promise.all(
    chargers.map(async (charger, i) => {
      let next = performance.now() + (everyMs * i) / chargers.length;
      for (;;) {
        await wallTime(Math.max(0, next - performance.now()));
        if (performance.now() >= endAt) return;
        await timedSend(charger, record);
        next += everyMs;
      }
    }),
  );
}

interface Timed {
  sentAt: Map<string, number>;
  replyMs: number[];
}
const timed = (): Timed => ({ sentAt: new Map(), replyMs: [] });

async function timedSend(charger: RawCharger, record: Timed): Promise<void> {
  const key = `${charger.identity}#${charger.energyWh + 15}`;
  const t0 = nowUs();
  await charger.sendMeterValues();
  record.sentAt.set(key, t0);
  record.replyMs.push((nowUs() - t0) / 1000);
}

/** How long each timed MeterValues took to reach the backend, ms (all of them must have arrived). */
async function toBackend(target: Target, record: Timed): Promise<number[]> {
  if (!target.backend) return [];
  const { arrivals, badMessages } = await target.backend.arrivals();
  if (badMessages.length > 0) throw new Error(`the strict backend refused: ${badMessages.join('; ')}`);
  const ms: number[] = [];
  for (const [identity, energy, atUs] of arrivals) {
    const sentUs = record.sentAt.get(`${identity}#${energy}`);
    if (sentUs !== undefined) ms.push((atUs - sentUs) / 1000);
  }
  if (ms.length !== record.sentAt.size)
    throw new Error(
      `${LABELS[target.kind]}: ${record.sentAt.size} MeterValues timed, ${ms.length} found at the backend`,
    );
  return ms;
}

/**
 * CPU per message: each active charger sends `messages` MeterValues back to back, and the run ends
 * when every one is answered and, where there is a backend, has reached it (a proxy that answers
 * faster than it forwards pays for the backlog inside the run). Then the added latency at a paced
 * rate (`--rate` msg/s for `--paced` s), where no backlog forms.
 */
async function measure(target: Target, active: RawCharger[]): Promise<Scenario> {
  const backendCount = async () => (await target.backend?.counts())?.MeterValues ?? 0;
  let expected = await backendCount();
  const caughtUp = async () => {
    if (!target.backend) return;
    await until(
      `${LABELS[target.kind]}: every MeterValues at the backend`,
      async () => ({ MeterValues: await backendCount() }),
      (c) => (c.MeterValues ?? 0) >= expected,
      30_000,
      10,
    );
  };
  await burst(active, WARMUP_MESSAGES, timed());
  expected += active.length * WARMUP_MESSAGES;
  await caughtUp();
  await target.backend?.arrivals(); // forget the warm-up's
  const windows: Figures[] = [];
  const bursts = timed();
  let backlogS = 0;
  for (let run = 0; run < runs; run++) {
    const window = cpuWindow(target.pid);
    await burst(active, messages, bursts);
    const answeredAt = performance.now();
    expected += active.length * messages;
    await caughtUp();
    backlogS = Math.max(backlogS, (performance.now() - answeredAt) / 1000);
    windows.push(window(active.length * messages));
  }
  const burstToBackendMs = await toBackend(target, bursts);
  const pace = timed();
  await paced(active, rate, pacedS, pace);
  expected += pace.sentAt.size;
  await caughtUp();
  return {
    windows,
    replyMs: bursts.replyMs,
    toBackendMs: burstToBackendMs,
    backlogS,
    pacedReplyMs: pace.replyMs,
    pacedToBackendMs: await toBackend(target, pace),
  };
}

async function scenarios(kind: Kind): Promise<{ active: Scenario; withIdle?: Scenario }> {
  const target = await startTarget(kind);
  const active = Array.from({ length: activeCount }, (_, i) => new RawCharger(target.url, `ACTIVE-${i}`));
  const idle = Array.from({ length: idleCount }, (_, i) => new RawCharger(target.url, `IDLE-${i}`));
  const linked = async (n: number) => {
    if (kind !== 'proxied' && kind !== 'bare-proxy') return;
    const counts = async () => ({
      links: (await target.counts()).upstreamOpen ?? 0,
      boots: (await target.backend?.counts())?.BootNotification ?? 0,
    });
    await until(
      `${n} upstream links open and introduced`,
      counts,
      (c) => c.links === n && (c.boots ?? 0) >= n,
    );
  };
  try {
    await inBatches(active, 100, async (charger) => {
      await connectAndBoot(charger);
      if (tx) await charger.startTransaction();
    });
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

const p5099 = (values: number[]) =>
  values.length > 0 ? `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}` : '-';

function line(kind: Kind, s: Scenario): string {
  const pick = (f: (x: Figures) => number) => median(s.windows.map(f));
  return (
    `  ${LABELS[kind].padEnd(44)} ${pick((w) => w.perS)
      .toFixed(0)
      .padStart(6)} msg/s ${cpuOf(s).toFixed(0).padStart(4)} µs CPU/msg  ` +
    `server ${pick((w) => w.serverCpuPercent).toFixed(0)} %  generator ${pick((w) => w.generatorCpuPercent).toFixed(0)} %  ` +
    `burst: reply ${p5099(s.replyMs)}, to backend ${p5099(s.toBackendMs)}, backlog ${s.backlogS.toFixed(2)} s  ` +
    `paced: reply ${p5099(s.pacedReplyMs)}, to backend ${p5099(s.pacedToBackendMs)}`
  );
}

function verdicts(label: string, r: Map<Kind, Scenario>): string[] {
  const plain = r.get('plain');
  const proxied = r.get('proxied');
  if (!plain || !proxied) return [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const direct = r.get('direct');
  const floor = r.get('bare-proxy');
  const p99 = percentile(proxied.pacedToBackendMs, 99);
  const added = direct ? p99 - percentile(direct.pacedToBackendMs, 99) : p99;
  const ratio = cpuOf(proxied) / cpuOf(plain);
  return [
    `  ${label}: at ${rate} msg/s, p99 charger -> backend ${ms(p99)}, ${direct ? `added to the direct p99 ${ms(added)}` : '(no direct reference)'} (target <= ${TARGET_P99_MS} ms: ${verdict(added <= TARGET_P99_MS)})`,
    `  ${label}: central system CPU per MeterValues proxied / plain ${ratio.toFixed(2)}x (target <= ${TARGET_CPU_RATIO}x: ${verdict(ratio <= TARGET_CPU_RATIO)})` +
      (floor
        ? `; the bare ocpp-rpc proxy (no validation, durability, ids) / plain ${(cpuOf(floor) / cpuOf(plain)).toFixed(2)}x, proxied / bare proxy ${(cpuOf(proxied) / cpuOf(floor)).toFixed(2)}x`
        : ''),
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
    `command: npm run bench:upstream -- --active ${activeCount} --idle ${idleCount} --runs ${runs} --messages ${messages} --rate ${rate} --paced ${pacedS} --direct ${direct} --tx ${tx}`,
  );
  console.log(
    `${activeCount} active chargers${tx ? ', each in a transaction (its MeterValues carry the transactionId: OCPP 1.6 §4.7 messages, which the proxy answers once the backend has them)' : ', no transaction (MeterValues without transactionId)'}; burst: each sends ${messages} MeterValues back to back (one call in flight), ${runs} runs after ${WARMUP_MESSAGES} each to warm up, ` +
      'a run ends when every one is answered and at the backend; CPU per message: the measured process (central system or proxy; the backend for direct) from /proc. ' +
      `paced: ${rate} MeterValues/s in all for ${pacedS} s, where no backlog forms: the latency figures\n`,
  );
  const dir = benchDirectory();
  packageDir = buildPackage(dir);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const kinds: Kind[] = direct
    ? ['direct', 'plain', 'bare-proxy', 'proxied']
    : ['plain', 'bare-proxy', 'proxied'];
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
    const pick = (key: 'active' | 'withIdle') =>
      new Map(
        [...results].flatMap(([kind, r]): [Kind, Scenario][] => (r[key] ? [[kind, r[key] as Scenario]] : [])),
      );
    for (const l of verdicts(`${activeCount} active`, pick('active'))) console.log(l);
    if (plain.withIdle && proxied.withIdle)
      for (const l of verdicts(`+ ${idleCount} idle`, pick('withIdle'))) console.log(l);
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
