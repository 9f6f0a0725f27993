import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState, ConnectorStatus } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { CircuitConfig, ConnectorConfig, SiteConfig, Triple } from '../../../lib/dlm/site';
import { silentLogger } from '../../../lib/log';

/**
 * The load manager against random sites and random input sequences (meter readings, connector
 * states, commands, time passing, meters going stale). After every input the set-points in force
 * are checked against the invariant, with the counted loads rebuilt here from the inputs alone:
 *
 * - other loads of a circuit: none without a meter; a fresh meter that measures only other loads
 *   counts its reading; one that includes the chargers counts its reading minus what the chargers
 *   below reported drawing (never below 0); a stale meter with `fallback.otherLoadA` counts that;
 * - a connector counts its set-point on the grid phases it is counted on, or its offline current on
 *   its wired phases while it is offline or has not reported;
 * - Σ counted + other + headroom ≤ the limit in force (site limits included), per phase and in power,
 *   unless every connector below that loads the phase is at 0;
 * - with a stale meter and only a per-connector fallback, every connector below gets at most it;
 * - no set-point between 0 and the minimum, none above the maximum;
 * - a connector is counted at least on every grid phase its car was last seen drawing on.
 */

const ROTATION: Record<string, number[]> = {
  RST: [0, 1, 2],
  STR: [1, 2, 0],
  TRS: [2, 0, 1],
  RTS: [0, 2, 1],
  SRT: [1, 0, 2],
  TSR: [2, 1, 0],
};
const STATUSES: ConnectorStatus[] = [
  'Available',
  'Preparing',
  'Charging',
  'Charging',
  'SuspendedEV',
  'SuspendedEVSE',
  'Finishing',
];

type Event =
  | { kind: 'advance'; ms: number }
  | { kind: 'meter'; circuit: number; currentA: Triple }
  | {
      kind: 'state';
      connector: number;
      status: ConnectorStatus;
      online: boolean;
      newTransaction: boolean;
      transaction: boolean;
      currentA: Triple | undefined;
      energyWh: number;
    }
  | { kind: 'mode'; connector: number; mode: 'fast' | 'pv' | 'minpv' | 'off' | null }
  | { kind: 'siteLimit'; circuit: number; limitA: number; durationMs: number }
  | { kind: 'chargersLimit'; powerW: number; durationMs: number };

const amps = (min: number, max: number) => fc.integer({ min: min * 10, max: max * 10 }).map((v) => v / 10);

const siteArbitrary: fc.Arbitrary<SiteConfig> = fc
  .record({
    circuits: fc.array(
      fc.record({
        parent: fc.nat(),
        limitA: fc.tuple(
          fc.integer({ min: 10, max: 80 }),
          fc.integer({ min: 10, max: 80 }),
          fc.integer({ min: 10, max: 80 }),
        ),
        headroomA: fc.integer({ min: 0, max: 3 }),
        powerLimitW: fc.option(fc.integer({ min: 5_000, max: 50_000 }), { freq: 4 }),
        meter: fc.option(
          fc.record({
            location: fc.constantFrom('includesChargers' as const, 'otherLoadsOnly' as const),
            staleAfterMs: fc.constantFrom(10_000, 30_000, 60_000),
          }),
          { freq: 2 },
        ),
        fallback: fc.constantFrom<CircuitConfig['fallback']>(
          { otherLoadA: 20 },
          { connectorLimitA: 6 },
          { otherLoadA: [10, 5, 30], connectorLimitA: 8 },
          undefined,
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    connectors: fc.array(
      fc.record({
        circuit: fc.nat(),
        phaseRotation: fc.constantFrom('RST', 'STR', 'TRS', 'RTS', 'SRT', 'TSR'),
        phases: fc.constantFrom<1 | 3>(3, 3, 1),
        minA: fc.constantFrom(6, 6, 7, 8),
        maxA: fc.integer({ min: 10, max: 32 }),
        priority: fc.integer({ min: 0, max: 1 }),
        mode: fc.constantFrom('fast', 'fast', 'fast', 'pv', 'minpv', 'off'),
        canSwitchPhases: fc.boolean(),
        offlineA: fc.option(fc.integer({ min: 0, max: 32 })),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    shedding: fc.constantFrom('firstStarted' as const, 'mostEnergyFirst' as const),
    unbalanceLimitA: fc.constantFrom(20, null),
  })
  .map((r) => ({
    shedding: r.shedding,
    unbalanceLimitA: r.unbalanceLimitA,
    circuits: r.circuits.map((c, i) => ({
      id: `c${i}`,
      ...(i === 0 ? {} : { parent: `c${c.parent % i}` }),
      limitA: c.limitA,
      headroomA: c.headroomA,
      ...(c.powerLimitW === null ? {} : { powerLimitW: c.powerLimitW }),
      ...(c.meter ? { meter: { source: `meter-${i}`, ...c.meter } } : {}),
      ...(c.fallback ? { fallback: c.fallback } : {}),
    })),
    connectors: r.connectors.map(
      (c, i): ConnectorConfig => ({
        chargePointId: `CP-${i}`,
        circuit: `c${c.circuit % r.circuits.length}`,
        phaseRotation: c.phaseRotation as ConnectorConfig['phaseRotation'],
        phases: c.phases,
        minA: c.minA,
        maxA: Math.max(c.maxA, c.minA),
        priority: c.priority,
        mode: c.mode,
        canSwitchPhases: c.canSwitchPhases,
        ...(c.offlineA === null ? {} : { offlineA: c.offlineA }),
      }),
    ),
  }));

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(500, 1000, 5000, 20_000, 35_000, 70_000),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('meter' as const),
      circuit: fc.nat(),
      currentA: fc.tuple(amps(-5, 60), amps(-5, 60), amps(-5, 60)),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('state' as const),
      connector: fc.nat(),
      status: fc.constantFrom(...STATUSES),
      online: fc.oneof(
        { weight: 9, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      newTransaction: fc.oneof(
        { weight: 1, arbitrary: fc.constant(true) },
        { weight: 5, arbitrary: fc.constant(false) },
      ),
      transaction: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      currentA: fc
        .option(
          fc.oneof(
            fc.tuple(amps(0, 35), amps(0, 35), amps(0, 35)),
            fc.tuple(amps(0, 35), fc.constant(0), fc.constant(0)),
          ),
        )
        .map((v) => v ?? undefined),
      energyWh: fc.integer({ min: 0, max: 50_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('mode' as const),
      connector: fc.nat(),
      mode: fc.constantFrom('fast' as const, 'pv' as const, 'minpv' as const, 'off' as const, null),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('siteLimit' as const),
      circuit: fc.nat(),
      limitA: fc.integer({ min: 5, max: 60 }),
      durationMs: fc.integer({ min: 1_000, max: 300_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('chargersLimit' as const),
      powerW: fc.integer({ min: 0, max: 30_000 }),
      durationMs: fc.integer({ min: 1_000, max: 300_000 }),
    }),
  },
);

interface World {
  meter: Map<number, { currentA: Triple; totalW: number; atMs: number }>;
  state: Map<number, ConnectorState>;
  siteLimits: Map<number, { limitA: number; untilMs: number }>;
  chargersLimit?: { powerW: number; untilMs: number };
}

function check(site: SiteConfig, manager: LoadManager, world: World, now: number): void {
  const V = 230;
  const summary = manager.summary();
  const setPoints = new Map(manager.setPoints().map((s) => [`${s.chargePointId}/${s.connectorId}`, s]));
  const validated = manager.site;
  const counted = validated.connectors.map((connector, k) => {
    const setPoint = setPoints.get(connector.key);
    const limit = setPoint?.limitA ?? 0;
    const config = site.connectors[k] as ConnectorConfig;
    // The minimum rule and the maximum.
    assert.ok(
      limit === 0 || limit >= connector.minA - 1e-9,
      `${connector.key}: ${limit} A below its minimum`,
    );
    assert.ok(limit <= connector.maxA + 1e-9, `${connector.key}: ${limit} A above its maximum`);
    const rotation = ROTATION[config.phaseRotation ?? 'RST'] as number[];
    const wired = (config.phases ?? 3) === 1 ? [rotation[0] as number] : rotation;
    const gridPhases = (summary.connectors[k]?.gridPhases ?? []).map((p) => p - 1);
    const state = world.state.get(k);
    // Counted at least where the car was last seen drawing (unless switched to one phase).
    if (state?.online && state.status === 'Charging' && state.currentA && setPoint?.phases === 3) {
      state.currentA.forEach((value, i) => {
        if ((value ?? 0) > 1 && i < wired.length) {
          const grid = rotation[i] as number;
          assert.ok(
            gridPhases.includes(grid),
            `${connector.key} draws on grid L${grid + 1} but is not counted there`,
          );
        }
      });
    }
    const floor = !state?.online ? connector.offlineA : 0;
    return [0, 1, 2].map((p) =>
      Math.max(gridPhases.includes(p) ? limit : 0, wired.includes(p) ? floor : 0),
    ) as Triple;
  });
  const drawnGrid = (k: number): Triple => {
    const state = world.state.get(k);
    const config = site.connectors[k] as ConnectorConfig;
    const rotation = ROTATION[config.phaseRotation ?? 'RST'] as number[];
    const grid: Triple = [0, 0, 0];
    if (!state?.currentA) return grid;
    const wired = (config.phases ?? 3) === 1 ? 1 : 3;
    for (let i = 0; i < wired; i++) grid[rotation[i] as 0 | 1 | 2] += state.currentA[i] ?? 0;
    return grid;
  };
  validated.circuits.forEach((circuit, c) => {
    const config = site.circuits[c] as CircuitConfig;
    const below = circuit.connectorIndexes;
    const siteLimit = world.siteLimits.get(c);
    const limitA = circuit.limitA.map((l) =>
      siteLimit && siteLimit.untilMs > now ? Math.min(l, siteLimit.limitA) : l,
    );
    let otherA: Triple | undefined = [0, 0, 0];
    let otherW = 0;
    if (circuit.meter) {
      const reading = world.meter.get(c);
      const fresh = reading && now - reading.atMs <= circuit.meter.staleAfterMs;
      if (fresh) {
        const drawn: Triple = [0, 0, 0];
        if (circuit.meter.location === 'includesChargers') {
          for (const k of below) {
            drawnGrid(k).forEach((value, p) => {
              drawn[p as 0 | 1 | 2] += value;
            });
          }
        }
        otherA = reading.currentA.map((value, p) => Math.max(0, value - (drawn[p] ?? 0))) as Triple;
        otherW = Math.max(0, reading.totalW - drawn.reduce((a, b) => a + b, 0) * V);
      } else {
        const fallback = circuit.fallback;
        if (fallback.connectorLimitA !== undefined) {
          for (const k of below) {
            const limit = setPoints.get(validated.connectors[k]?.key ?? '')?.limitA ?? 0;
            assert.ok(
              limit <= fallback.connectorLimitA + 1e-9,
              `stale ${config.id}: connector ${k} at ${limit} A`,
            );
            if (limit > 0)
              assert.match(setPoints.get(validated.connectors[k]?.key ?? '')?.reason ?? '', /fallback/);
          }
        }
        otherA = fallback.otherLoadA ? [...fallback.otherLoadA] : undefined;
        otherW = otherA ? otherA.reduce((a, b) => a + b, 0) * V : 0;
      }
    }
    const load = [0, 1, 2].map((p) => below.reduce((sum, k) => sum + (counted[k]?.[p] ?? 0), 0));
    const on = (p?: number) =>
      below.some((k) => {
        const key = validated.connectors[k]?.key ?? '';
        const limit = setPoints.get(key)?.limitA ?? 0;
        const phases = (summary.connectors[k]?.gridPhases ?? []).map((x) => x - 1);
        return limit > 0 && (p === undefined || phases.includes(p));
      });
    if (otherA) {
      for (const p of [0, 1, 2] as const) {
        const total = (load[p] ?? 0) + otherA[p] + circuit.headroomA[p];
        assert.ok(
          total <= (limitA[p] ?? 0) + 1e-6 || !on(p),
          `${config.id} L${p + 1}: connectors ${load[p]} + other ${otherA[p]} + headroom ${circuit.headroomA[p]} > ${limitA[p]}`,
        );
      }
      if (circuit.powerLimitW !== undefined) {
        const totalW =
          load.reduce((a, b) => a + b, 0) * V + otherW + circuit.headroomA.reduce((a, b) => a + b, 0) * V;
        assert.ok(
          totalW <= circuit.powerLimitW + 1e-3 || !on(),
          `${config.id}: ${totalW} W > ${circuit.powerLimitW} W`,
        );
      }
    }
    if (world.chargersLimit && world.chargersLimit.untilMs > now && circuit.parentIndex === undefined) {
      const chargersW = load.reduce((a, b) => a + b, 0) * V;
      assert.ok(
        chargersW <= world.chargersLimit.powerW + 1e-3 || !on(),
        `chargers ${chargersW} W above the site limit`,
      );
    }
  });
}

describe('LoadManager (properties)', () => {
  it('keeps the invariant after every input, over random sites and input sequences', () => {
    fc.assert(
      fc.property(
        siteArbitrary,
        fc.array(eventArbitrary, { minLength: 5, maxLength: 40 }),
        (site, events) => {
          const clock = new ManualClock(Date.UTC(2026, 5, 1));
          const manager = new LoadManager({ site, clock, logger: silentLogger });
          const world: World = { meter: new Map(), state: new Map(), siteLimits: new Map() };
          let transactionId = 1;
          manager.start();
          try {
            check(site, manager, world, clock.now());
            for (const event of events) {
              const now = clock.now();
              switch (event.kind) {
                case 'advance':
                  clock.advance(event.ms);
                  break;
                case 'meter': {
                  const c = event.circuit % site.circuits.length;
                  const meter = site.circuits[c]?.meter;
                  if (!meter) break;
                  const totalW = event.currentA.reduce((a, b) => a + b, 0) * 230;
                  world.meter.set(c, { currentA: event.currentA, totalW, atMs: now });
                  manager.reading({
                    source: meter.source,
                    timestamp: new Date(now).toISOString(),
                    currentA: event.currentA,
                    totalPowerW: totalW,
                  });
                  break;
                }
                case 'state': {
                  const k = event.connector % site.connectors.length;
                  const config = site.connectors[k] as ConnectorConfig;
                  const previous = world.state.get(k);
                  if (event.newTransaction || !previous?.transaction) transactionId += 1;
                  const state: ConnectorState = {
                    chargePointId: config.chargePointId,
                    connectorId: 1,
                    status: event.status,
                    online: event.online,
                    energyWh: event.energyWh,
                    ...(event.currentA ? { currentA: event.currentA } : {}),
                    ...(event.transaction
                      ? {
                          transaction: {
                            transactionId:
                              event.newTransaction || !previous?.transaction
                                ? transactionId
                                : previous.transaction.transactionId,
                            idTag: 'TAG',
                            startedAt: new Date(now).toISOString(),
                            meterStartWh: 0,
                          },
                        }
                      : {}),
                  };
                  world.state.set(k, state);
                  manager.connectorState(state);
                  break;
                }
                case 'mode': {
                  const config = site.connectors[event.connector % site.connectors.length] as ConnectorConfig;
                  manager.command({ type: 'mode', chargePointId: config.chargePointId, mode: event.mode });
                  break;
                }
                case 'siteLimit': {
                  const c = event.circuit % site.circuits.length;
                  world.siteLimits.set(c, { limitA: event.limitA, untilMs: now + event.durationMs });
                  manager.command({
                    type: 'siteLimit',
                    circuit: `c${c}`,
                    limitA: event.limitA,
                    durationMs: event.durationMs,
                  });
                  break;
                }
                case 'chargersLimit':
                  world.chargersLimit = { powerW: event.powerW, untilMs: now + event.durationMs };
                  manager.command({
                    type: 'siteLimit',
                    chargersPowerLimitW: event.powerW,
                    durationMs: event.durationMs,
                  });
                  break;
              }
              check(site, manager, world, clock.now());
            }
          } finally {
            manager.stop();
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('gives the same set-points for the same inputs at the same times (deterministic)', () => {
    fc.assert(
      fc.property(
        siteArbitrary,
        fc.array(eventArbitrary, { minLength: 5, maxLength: 30 }),
        (site, events) => {
          const run = () => {
            const clock = new ManualClock(Date.UTC(2026, 5, 1));
            const manager = new LoadManager({ site, clock, logger: silentLogger });
            const out: string[] = [];
            manager.on('setPoint', (s) => out.push(`${clock.now()} ${JSON.stringify(s)}`));
            manager.start();
            let tx = 1;
            for (const event of events) {
              if (event.kind === 'advance') clock.advance(event.ms);
              else if (event.kind === 'meter') {
                const meter = site.circuits[event.circuit % site.circuits.length]?.meter;
                if (meter)
                  manager.reading({
                    source: meter.source,
                    timestamp: new Date(clock.now()).toISOString(),
                    currentA: event.currentA,
                  });
              } else if (event.kind === 'state') {
                const config = site.connectors[event.connector % site.connectors.length] as ConnectorConfig;
                manager.connectorState({
                  chargePointId: config.chargePointId,
                  connectorId: 1,
                  status: event.status,
                  online: event.online,
                  ...(event.currentA ? { currentA: event.currentA } : {}),
                  ...(event.transaction
                    ? {
                        transaction: {
                          transactionId: event.newTransaction ? ++tx : tx,
                          idTag: 'T',
                          startedAt: new Date(clock.now()).toISOString(),
                          meterStartWh: 0,
                        },
                      }
                    : {}),
                });
              }
            }
            manager.stop();
            return out;
          };
          assert.deepEqual(run(), run());
        },
      ),
      { numRuns: 150 },
    );
  });
});
