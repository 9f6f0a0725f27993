/**
 * Load manager figures: how long one allocation takes for 1,000 connectors in a three-level tree
 * (the pure allocator, and a whole LoadManager update around it), and the simulated PV day: how
 * much of the PV surplus went into the cars against the best possible, grid import in pv mode,
 * starts/stops and phase switches. Run: `node_modules/.bin/tsx bench/dlm.ts` (not part of npm test).
 */
import { cpus } from 'node:os';
import { ManualClock } from '../lib/clock';
import type { ConnectorState } from '../lib/contracts';
import { type AllocationProblem, allocate, type ConnectorDemand } from '../lib/dlm/allocate';
import { LoadManager } from '../lib/dlm/load-manager';
import type { ConnectorConfig, GridPhase, SiteConfig } from '../lib/dlm/site';
import { silentLogger } from '../lib/log';
import { seededRandom } from '../lib/sim/fleet';
import { pvHome, runScenario } from '../lib/sim/site-scenarios';

const ROUNDS = 5;
const PER_ROUND = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summarise(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `median ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`;
}

/** 1 grid connection → 10 sub-distributions → 100 supply lines → 1,000 connectors. */
function bigSite(): SiteConfig {
  const rotations = ['RST', 'STR', 'TRS'] as const;
  const circuits: SiteConfig['circuits'] = [
    { id: 'grid', limitA: 2000, meter: { source: 'grid-meter', location: 'includesChargers' } },
  ];
  const connectors: ConnectorConfig[] = [];
  for (let s = 0; s < 10; s++) {
    circuits.push({ id: `sub-${s}`, parent: 'grid', limitA: 250 });
    for (let l = 0; l < 10; l++) {
      circuits.push({ id: `line-${s}-${l}`, parent: `sub-${s}`, limitA: 63 });
      for (let c = 0; c < 10; c++) {
        const n = connectors.length;
        connectors.push({
          chargePointId: `CP-${n}`,
          circuit: `line-${s}-${l}`,
          phaseRotation: rotations[n % 3],
          phases: n % 7 === 0 ? 1 : 3,
          maxA: n % 5 === 0 ? 16 : 32,
          priority: n % 20 === 0 ? 1 : 0,
        });
      }
    }
  }
  return { circuits, connectors };
}

/** The allocator alone, on problems shaped like the big site with random cars and loads. */
function allocatorBench(): number[] {
  const random = seededRandom(1000);
  const site = bigSite();
  const index = new Map(site.circuits.map((c, i) => [c.id, i]));
  const pathOf = (id: string): number[] => {
    const circuit = site.circuits[index.get(id) ?? 0];
    const own = index.get(id) ?? 0;
    return circuit?.parent ? [own, ...pathOf(circuit.parent)] : [own];
  };
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND; i++) {
      const problem: AllocationProblem = {
        voltageV: 230,
        stepA: 0.1,
        startMarginA: 1,
        pvBudgetW: Number.POSITIVE_INFINITY,
        circuits: site.circuits.map((c) => {
          const limit = typeof c.limitA === 'number' ? c.limitA : c.limitA[0];
          const other = () => random() * limit * 0.2;
          return {
            capacityA: [limit - other(), limit - other(), limit - other()],
            capacityW: Number.POSITIVE_INFINITY,
            chargersCapacityW: Number.POSITIVE_INFINITY,
            unbalanceLimitA: c.parent ? Number.POSITIVE_INFINITY : 20,
          };
        }),
        connectors: site.connectors.map((c, k): ConnectorDemand => {
          const rotation = { RST: 0, STR: 1, TRS: 2 }[c.phaseRotation as 'RST' | 'STR' | 'TRS'] as GridPhase;
          const singlePhaseCar = c.phases === 1 || random() < 0.2;
          return {
            path: pathOf(c.circuit),
            wants: random() < 0.7,
            phases: singlePhaseCar ? [rotation] : [0, 1, 2],
            minA: 6,
            maxA: c.maxA ?? 32,
            priority: typeof c.priority === 'number' ? c.priority : 0,
            keepRank: k,
            keepOn: random() < 0.1,
            starting: random() < 0.3,
            floorA: [0, 0, 0],
            pv: false,
          };
        }),
      };
      const started = performance.now();
      allocate(problem);
      samples.push(performance.now() - started);
    }
  }
  return samples;
}

/** A whole LoadManager update (views, meters, PV, allocation, ramps, invariant check, emits). */
function managerBench(): number[] {
  const random = seededRandom(7);
  const clock = new ManualClock(Date.UTC(2026, 5, 21, 18));
  const site = bigSite();
  const manager = new LoadManager({ site, clock, logger: silentLogger });
  const iso = () => new Date(clock.now()).toISOString();
  manager.batch(() => {
    site.connectors.forEach((c, n) => {
      const charging = random() < 0.7;
      const state: ConnectorState = {
        chargePointId: c.chargePointId,
        connectorId: 1,
        online: true,
        status: charging ? 'Charging' : 'Available',
        ...(charging
          ? {
              transaction: { transactionId: n + 1, idTag: 'TAG', startedAt: iso(), meterStartWh: 0 },
              currentA: [6, 6, 6] as [number, number, number],
            }
          : {}),
      };
      manager.connectorState(state);
    });
    manager.reading({ source: 'grid-meter', timestamp: iso(), currentA: [900, 880, 910] });
  });
  manager.start();
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND / 4; i++) {
      clock.advance(1000);
      const load = 800 + random() * 200;
      const started = performance.now();
      manager.reading({ source: 'grid-meter', timestamp: iso(), currentA: [load, load - 20, load + 10] });
      samples.push(performance.now() - started);
    }
  }
  manager.stop();
  return samples;
}

function main(): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `machine: ${cpu}, ${cpus().length} cores, Node.js ${process.version}, ${process.platform}/${process.arch}`,
  );
  console.log('command: node_modules/.bin/tsx bench/dlm.ts\n');

  allocatorBench(); // warm-up
  const allocation = allocatorBench();
  console.log(
    `allocate(), 1,000 connectors, 111 circuits in 3 levels (${ROUNDS} × ${PER_ROUND} problems): ${summarise(allocation)}`,
  );
  const update = managerBench();
  console.log(
    `LoadManager update on a reading, same site (${update.length} updates): ${summarise(update)}\n`,
  );

  for (const [label, phaseSwitching] of [
    ['with 1p/3p switching', true],
    ['without 1p/3p switching', false],
  ] as const) {
    const started = performance.now();
    const result = runScenario(pvHome({ phaseSwitching }));
    const pv = result.pv;
    if (!pv) continue;
    const kWh = (wh: number) => `${(wh / 1000).toFixed(1)} kWh`;
    console.log(
      `PV day (${label}; ${result.scenario}), simulated in ${((performance.now() - started) / 1000).toFixed(1)} s:`,
    );
    console.log(
      `  PV produced ${kWh(pv.pvProducedWh)}, surplus after house and battery priority ${kWh(pv.surplusWh)}`,
    );
    console.log(
      `  PV surplus into cars: ${kWh(pv.carsFromPvWh)} of ${kWh(pv.bestPossibleWh)} possible = ${(pv.share * 100).toFixed(1)} %`,
    );
    console.log(
      `  grid import while pv-mode cars charged: ${pv.gridImportDuringPvWh.toFixed(0)} Wh (${((pv.gridImportDuringPvWh / Math.max(1, pv.pvModeCarsWh)) * 100).toFixed(2)} % of the ${kWh(pv.pvModeCarsWh)} they took); all-day grid import ${kWh(pv.gridImportWh)}, export ${kWh(pv.gridExportWh)}`,
    );
    for (const key of Object.keys(result.starts)) {
      console.log(
        `  ${key}: ${kWh(result.energyWh[key] ?? 0)}, ${result.starts[key]} starts / ${result.stops[key]} stops, ${result.phaseSwitches[key]} phase switches`,
      );
    }
    console.log(`  breaker excursions: ${result.overloads.length}\n`);
  }
}

main();
