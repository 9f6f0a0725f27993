/**
 * Time from a set-point entering the profile manager (lib/profiles, what the node calls) to its
 * SetChargingProfile frame leaving the central system's socket, for 100 connectors: 50 simulated
 * chargers with 2 connectors each, every connector charging, all on 127.0.0.1.
 *
 *   node_modules/.bin/tsx bench/profiles.ts [runs]
 *
 * Scenarios: a burst (one list of 100 set-points, as the load manager sends them each cycle) with
 * the composite-schedule check on (default) and off, and single set-points one after the other.
 * Each run sends new, lower limits (decreases go out at once), after a warm-up that lets the
 * manager learn every charger. Figures: the median over runs of each run's median and p99.
 */
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../lib/clock';
import type { SetPoint } from '../lib/contracts';
import { silentLogger } from '../lib/log';
import { ChargingProfileManager } from '../lib/profiles';
import { SimulatedChargePoint } from '../sim/charge-point';
import { benchCentralSystem, onProfileFrameOut } from './support/central-system';
import { tinyCap } from './support/options';

const CHARGERS = 50;
const CONNECTORS_PER_CHARGER = 2;
const ROUNDS_PER_RUN = 10;
const runs = tinyCap(Number(process.argv[2] ?? 5), 1);

interface Scenario {
  name: string;
  verifySchedule: boolean;
  burst: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'burst of 100, composite check on', verifySchedule: true, burst: true },
  { name: 'burst of 100, composite check off', verifySchedule: false, burst: true },
  { name: 'one at a time', verifySchedule: true, burst: false },
];

async function main(): Promise<void> {
  const cs = await benchCentralSystem();
  const clock = new ManualClock(Date.now());
  const chargers: SimulatedChargePoint[] = [];
  for (let i = 0; i < CHARGERS; i++) {
    const cp = new SimulatedChargePoint({
      centralSystemUrl: cs.url as string,
      identity: `BENCH-${String(i).padStart(3, '0')}`,
      clock,
      connectors: CONNECTORS_PER_CHARGER,
      configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 0 },
    });
    chargers.push(cp);
  }
  await Promise.all(chargers.map((cp) => cp.connect()));
  for (const cp of chargers) {
    for (let connectorId = 1; connectorId <= CONNECTORS_PER_CHARGER; connectorId++) {
      cp.plugIn(connectorId, { maxCurrentA: 32 });
      await cp.startTransaction(connectorId, `${cp.identity}-${connectorId}`.slice(-20));
    }
  }
  await Promise.all(chargers.map((cp) => cp.whenIdle()));

  // When each connector's SetChargingProfile frame left the socket.
  let waiting = new Map<string, { startedMs: number; resolve: (latencyMs: number) => void }>();
  onProfileFrameOut(cs, (key, leftMs) => {
    const entry = waiting.get(key);
    if (!entry) return;
    waiting.delete(key);
    entry.resolve(leftMs - entry.startedMs);
  });
  const frameLeft = (setPoint: SetPoint, startedMs: number) =>
    new Promise<number>((resolve) =>
      waiting.set(`${setPoint.chargePointId}/${setPoint.connectorId}`, { startedMs, resolve }),
    );

  const setPoints = (limitA: number): SetPoint[] =>
    chargers.flatMap((cp) =>
      Array.from({ length: CONNECTORS_PER_CHARGER }, (_, index) => ({
        chargePointId: cp.identity,
        connectorId: index + 1,
        limitA,
        phases: 3 as const,
        reason: 'bench',
      })),
    );

  const results: { name: string; medianMs: number; p99Ms: number }[] = [];
  let limitA = 32;
  for (const scenario of SCENARIOS) {
    const manager = new ChargingProfileManager(cs, {
      verifySchedule: scenario.verifySchedule,
      increaseIntervalMs: 0,
      log: silentLogger,
    });
    await manager.apply(setPoints(limitA)); // warm-up: learns every charger
    const runMedians: number[] = [];
    const runP99s: number[] = [];
    for (let run = 0; run < runs; run++) {
      const latencies: number[] = [];
      for (let round = 0; round < ROUNDS_PER_RUN; round++) {
        // Half amps: every one is a tenth the profile manager sends as it is (lib/profiles
        // floorToSchemaTenth lowers 31.9 to 31.8, and the next 31.8 would be a duplicate: no frame).
        limitA = limitA > 8 ? limitA - 0.5 : 32;
        const list = setPoints(limitA);
        waiting = new Map();
        if (scenario.burst) {
          const startedMs = performance.now();
          const frames = list.map((setPoint) => frameLeft(setPoint, startedMs));
          const applied = manager.apply(list);
          latencies.push(...(await Promise.all(frames)));
          await applied;
        } else {
          for (const setPoint of list) {
            const startedMs = performance.now();
            const frame = frameLeft(setPoint, startedMs);
            const applied = manager.apply(setPoint);
            latencies.push(await frame);
            await applied;
          }
        }
      }
      runMedians.push(percentile(latencies, 50));
      runP99s.push(percentile(latencies, 99));
    }
    manager.close();
    results.push({
      name: scenario.name,
      medianMs: percentile(runMedians, 50),
      p99Ms: percentile(runP99s, 50),
    });
  }

  await Promise.all(chargers.map((cp) => cp.close()));
  await cs.stop();

  const cpu = cpus();
  console.log('Set-point in -> SetChargingProfile frame out (lib/profiles ChargingProfileManager)');
  console.log(
    `${CHARGERS} chargers x ${CONNECTORS_PER_CHARGER} connectors = ${CHARGERS * CONNECTORS_PER_CHARGER} connectors, all charging (TxProfile), loopback WebSockets`,
  );
  console.log(
    `${runs} runs x ${ROUNDS_PER_RUN} rounds of 100 set-points; median over runs of each run's median and p99`,
  );
  console.log('');
  for (const result of results) {
    console.log(
      `${result.name.padEnd(36)} median ${result.medianMs.toFixed(2).padStart(7)} ms   p99 ${result.p99Ms.toFixed(2).padStart(7)} ms`,
    );
  }
  console.log('');
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version} on ${process.platform}/${process.arch}`,
  );
  console.log(`command: node_modules/.bin/tsx bench/profiles.ts ${process.argv[2] ?? ''}`.trimEnd());
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
