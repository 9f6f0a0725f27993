/**
 * The load-manager benches' sites and problems (bench/dlm.ts, bench/dlm-compare.ts): a three-level
 * tree of circuits with connectors, random allocation problems shaped like it, and a random
 * sequence of inputs for a whole LoadManager.
 */
import type { ConnectorState } from '../../lib/contracts';
import type { AllocationProblem, ConnectorDemand } from '../../lib/dlm/allocation/allocate';
import type { DlmCommand } from '../../lib/dlm/commands';
import type { ConnectorConfig, GridPhase, SiteConfig } from '../../lib/dlm/site';

/**
 * A three-level tree: 1 grid connection → n/100 sub-distributions → 10 supply lines each → 10
 * connectors each (100 connectors: 1 sub-distribution; 1,000: 10; 5,000: 50). `rich` adds what
 * the plain tree leaves out, for comparisons of every stage: meters on the sub-distributions (either
 * location), power and unbalance limits, pv/minpv/off modes, phase switching, offline currents,
 * the PV stage on the grid meter and the other shedding rule.
 */
export function bigSite(connectorCount: number, rich = false): SiteConfig {
  const rotations = ['RST', 'STR', 'TRS'] as const;
  const modes = ['fast', 'fast', 'pv', 'minpv', 'fast', 'off'] as const;
  const subs = Math.max(1, Math.round(connectorCount / 100));
  const circuits: SiteConfig['circuits'] = [
    { id: 'grid', limitA: 200 * subs, meter: { source: 'grid-meter', location: 'includesChargers' } },
  ];
  const connectors: ConnectorConfig[] = [];
  for (let s = 0; s < subs; s++) {
    circuits.push({
      id: `sub-${s}`,
      parent: 'grid',
      limitA: 250,
      ...(rich && s % 3 === 0
        ? { meter: { source: `meter-${s}`, location: s % 2 ? 'otherLoadsOnly' : 'includesChargers' } }
        : {}),
      ...(rich && s % 4 === 1 ? { powerLimitW: 120_000, fallback: { otherLoadA: 20 } } : {}),
    });
    for (let l = 0; l < 10; l++) {
      circuits.push({
        id: `line-${s}-${l}`,
        parent: `sub-${s}`,
        limitA: 63,
        ...(rich && l % 3 === 0 ? { unbalanceLimitA: 16 } : {}),
      });
      for (let c = 0; c < 10; c++) {
        const n = connectors.length;
        connectors.push({
          chargePointId: `CP-${n}`,
          circuit: `line-${s}-${l}`,
          phaseRotation: rotations[n % 3],
          phases: n % 7 === 0 ? 1 : 3,
          maxA: n % 5 === 0 ? 16 : 32,
          priority: n % 20 === 0 ? 1 : 0,
          ...(rich
            ? {
                mode: modes[n % modes.length],
                ...(n % 11 === 3 && n % 7 !== 0 ? { canSwitchPhases: true } : {}),
                ...(n % 9 === 4 ? { offlineA: 10 } : {}),
              }
            : {}),
        });
      }
    }
  }
  return rich
    ? {
        circuits,
        connectors,
        shedding: connectorCount % 2 ? 'mostEnergyFirst' : 'firstStarted',
        pv: { gridCircuit: 'grid' },
        control: { minUpdateIntervalMs: 5_000, minOnMs: 20_000, minOffMs: 10_000 },
      }
    : { circuits, connectors };
}

/**
 * The starting state both load-manager benches (bench:dlm, bench:dlm-compare) give a site: 70 % of
 * the connectors charging at 6 A, and the grid meter at 0.9 A per connector.
 */
export function fillSite(
  manager: {
    batch(inputs: () => void): void;
    connectorState(state: ConnectorState): void;
    reading(reading: { source: string; timestamp: string; currentA: [number, number, number] }): void;
  },
  site: SiteConfig,
  random: () => number,
  iso: () => string,
): void {
  manager.batch(() => {
    site.connectors.forEach((c, n) => {
      const charging = random() < 0.7;
      manager.connectorState({
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
      });
    });
    const base = site.connectors.length * 0.9;
    manager.reading({ source: 'grid-meter', timestamp: iso(), currentA: [base, base - 20, base + 10] });
  });
}

/** A random allocation problem shaped like `site` (random cars and loads; `varied`: floors, PV, power limits too). */
export function randomProblem(site: SiteConfig, random: () => number, varied = false): AllocationProblem {
  const index = new Map(site.circuits.map((c, i) => [c.id, i]));
  const pathOf = (id: string): number[] => {
    const circuit = site.circuits[index.get(id) ?? 0];
    const own = index.get(id) ?? 0;
    return circuit?.parent ? [own, ...pathOf(circuit.parent)] : [own];
  };
  const pv = varied && random() < 0.5;
  // The random numbers are drawn in the order they always were; the objects are made with the
  // fields, in the order, that the load manager's problems have (buildProblem), so that the allocator
  // here sees the one kind of object it sees in a running load manager.
  const pvBudgetW = pv ? random() * 200_000 : Number.POSITIVE_INFINITY;
  return {
    voltageV: 230,
    stepA: 0.1,
    startMarginA: 1,
    circuits: site.circuits.map((c) => {
      const limit = typeof c.limitA === 'number' ? c.limitA : c.limitA[0];
      const other = () => random() * limit * 0.2;
      const powerLimited = varied && random() < 0.2;
      return {
        capacityA: [limit - other(), limit - other(), limit - other()],
        capacityW: powerLimited ? limit * 230 * 2.5 : Number.POSITIVE_INFINITY,
        chargersCapacityW: varied && random() < 0.1 ? limit * 230 * 2 : Number.POSITIVE_INFINITY,
        unbalanceLimitA: c.parent ? (varied && random() < 0.3 ? 10 : Number.POSITIVE_INFINITY) : 20,
      };
    }),
    connectors: site.connectors.map((c, k): ConnectorDemand => {
      const rotation = { RST: 0, STR: 1, TRS: 2 }[c.phaseRotation as 'RST' | 'STR' | 'TRS'] as GridPhase;
      const singlePhaseCar = c.phases === 1 || random() < 0.2;
      const floor = varied && random() < 0.05 ? random() * 20 : 0;
      return {
        path: pathOf(c.circuit),
        wants: random() < 0.7,
        phases: singlePhaseCar ? [rotation] : [0, 1, 2],
        unbalancePhases: varied && !singlePhaseCar && random() < 0.1 ? [rotation] : undefined,
        minA: 6,
        maxA: varied && random() < 0.1 ? random() * 10 : (c.maxA ?? 32),
        priority: typeof c.priority === 'number' ? c.priority : 0,
        keepRank: varied ? Math.floor(random() * site.connectors.length) : k,
        keepOn: random() < 0.1,
        starting: random() < 0.3,
        floorA: [floor, varied && random() < 0.02 ? 25 : 0, 0],
        pv: pv && random() < 0.3,
      };
    }),
    pvBudgetW,
  };
}

/** What a LoadManager is driven with: the inputs of one step, after the clock moved. */
export interface DriveStep {
  advanceMs: number;
  states: ConnectorState[];
  readings: {
    source: string;
    timestamp: string;
    currentA?: [number, number, number];
    powerW?: [number, number, number];
  }[];
  commands: DlmCommand[];
}

const STATUSES = [
  'Available',
  'Preparing',
  'Charging',
  'Charging',
  'Charging',
  'SuspendedEV',
  'SuspendedEVSE',
  'Finishing',
] as const;

/**
 * A random sequence of inputs for `site` (see bigSite(n, true)): chargers that come and go, go
 * offline, draw less or more than they may, switch to one phase; meters that go stale; PV surplus
 * and import; mode commands. `fraction` of the connectors report in each step.
 */
export function* randomInputs(
  site: SiteConfig,
  random: () => number,
  startMs: number,
  steps: number,
  fraction = 0.05,
): Generator<DriveStep> {
  let now = startMs;
  let tx = 1;
  const txOf = new Map<number, number>();
  const iso = (ms: number) => new Date(ms).toISOString();
  const subs = site.circuits.filter((c) => c.meter && c.id !== 'grid');
  for (let step = 0; step < steps; step++) {
    const advanceMs = step === 0 ? 0 : Math.floor(200 + random() * 4800);
    now += advanceMs;
    const states: ConnectorState[] = [];
    site.connectors.forEach((c, n) => {
      if (step > 0 && random() >= fraction) return;
      const status = STATUSES[Math.floor(random() * STATUSES.length)] ?? 'Available';
      const plugged = status !== 'Available';
      if (!plugged) txOf.delete(n);
      else if (!txOf.has(n) && random() < 0.8) txOf.set(n, tx++);
      const transaction = txOf.get(n);
      const amps = random() < 0.15 ? 16 + random() * 20 : random() * 16;
      const onePhase = random() < 0.2;
      states.push({
        chargePointId: c.chargePointId,
        connectorId: 1,
        online: random() > 0.01,
        ...(random() < 0.01 ? { neverConnected: true as const } : {}),
        status,
        ...(transaction !== undefined
          ? {
              transaction: {
                transactionId: transaction,
                idTag: 'TAG',
                startedAt: iso(now - Math.floor(random() * 3_600_000)),
                meterStartWh: 0,
              },
              energyWh: Math.floor(random() * 40_000),
            }
          : {}),
        ...(status === 'Charging' && random() < 0.9
          ? {
              currentA: [amps, onePhase ? 0 : amps, onePhase ? 0 : random() < 0.05 ? null : amps] as [
                number,
                number,
                number | null,
              ],
            }
          : {}),
        lastSeen: iso(now - Math.floor(random() * 2000)),
      });
    });
    const subCount = (site.circuits.length - 1) / 11;
    const load = subCount * (10 + random() * 60);
    const pvW = random() < 0.4 ? -random() * 30_000 : 0;
    const readings: DriveStep['readings'] = [
      {
        source: 'grid-meter',
        timestamp: iso(now - Math.floor(random() * 1500)),
        currentA: [load + pvW / 690, load - 20 + pvW / 690, load + 10 + pvW / 690],
        powerW: [load * 230 + pvW / 3, (load - 20) * 230 + pvW / 3, (load + 10) * 230 + pvW / 3],
      },
    ];
    for (const circuit of subs) {
      if (random() < 0.2) continue; // goes stale now and then
      const a = 40 + random() * 150;
      readings.push({
        source: circuit.meter?.source ?? '',
        timestamp: iso(now),
        currentA: [a, a * 0.9, a * 1.1],
      });
    }
    const commands: DlmCommand[] = [];
    if (random() < 0.05) {
      const c = site.connectors[Math.floor(random() * site.connectors.length)];
      const modes = ['fast', 'pv', 'minpv', 'off', null] as const;
      if (c)
        commands.push({
          type: 'mode',
          chargePointId: c.chargePointId,
          mode: modes[Math.floor(random() * 5)] ?? null,
        });
    }
    yield { advanceMs, states, readings, commands };
  }
}
