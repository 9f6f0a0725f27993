import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState, SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { CircuitConfig, ConnectorConfig, SiteConfig, Triple } from '../../../lib/dlm/site';
import { silentLogger } from '../../../lib/log';
import type { Overload } from '../../../sim/closed-loop';
import { type SimCar, SiteSimulator } from '../../../sim/site';
import { declareFallbacks, limitsArbitrary, parentOf } from '../../support/site-arbitrary';

/**
 * The load manager closed-loop with the site simulator over random partly installed car parks
 * (issue #12): some connectors the site names were never installed (never connected: the central
 * system tells the load manager so, and they draw nothing), others lose their connection during
 * the run and some of those come back. What is asserted is the physical current (the simulator's
 * truth), not what the load manager counts.
 *
 * An offline charger behaves as the load manager is told it does: after its response delay it
 * offers its own fallback, the site's `offlineA`, to whatever car is there (one that comes while it
 * is offline too), and it hears no set-point until it is back. Back online, it offers that until a
 * set-point reaches it. Everything else is well behaved: chargers follow their set-points after 1-8
 * s, cars arrive and leave, metered circuits have constant other loads the meters see.
 *
 * Safety: a breaker carries more than its limit only
 * - while what the load manager cannot control below it (its other loads, and the offline chargers
 *   at their fallback with a car) alone exceeds its limit, plus the reaction time;
 * - after a charger went offline: it rises to its fallback on its own while the others' decreases
 *   take their response delay (the longest delay plus two steps).
 * Liveness: a connected connector whose car wants current is not left at 0 A for longer than the
 * load manager's own waits (the longest minimum off time, the decrease settle time, the update
 * interval, twice the longest response delay, the longest meter interval) while there is room for
 * its minimum: on every circuit above it and every phase it is wired to, the limit minus the other
 * loads, the offline chargers' fallbacks and every other connected car at its minimum leaves the
 * minimum plus the start margin.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DURATION_MS = 20 * MINUTE;
const START_MARGIN_A = 1;
const MIN_OFF_MS = 30 * SECOND;
const MIN_OFF_MAX_MS = 60 * SECOND;
const DECREASE_SETTLE_MS = 10 * SECOND;

interface Plan {
  site: SiteConfig;
  /** Constant other loads per metered circuit, A per grid phase. */
  loads: Record<string, Triple>;
  meterIntervalMs: Record<string, number>;
  chargers: Record<string, { responseDelayMs: number; meterIntervalMs: number }>;
  cars: SimCar[];
  /** Connectors never installed: the central system has no record of them. */
  neverConnected: string[];
  /** When connectors lose their connection, and when (if) they are back. */
  outages: { connector: string; fromMs: number; toMs?: number }[];
}

const planArbitrary: fc.Arbitrary<Plan> = fc
  .record({
    children: fc.integer({ min: 0, max: 2 }),
    limits: limitsArbitrary(32, 80),
    meters: fc.array(
      fc.record({
        metered: fc.boolean(),
        intervalMs: fc.constantFrom(1000, 2000, 3000),
        share: fc.tuple(
          fc.double({ min: 0, max: 0.25, noNaN: true }),
          fc.double({ min: 0, max: 0.25, noNaN: true }),
          fc.double({ min: 0, max: 0.25, noNaN: true }),
        ),
      }),
      { minLength: 3, maxLength: 3 },
    ),
    minUpdateIntervalMs: fc.constantFrom(5 * SECOND, 10 * SECOND, 30 * SECOND),
    connectors: fc.array(
      fc.record({
        circuit: fc.nat(),
        rotation: fc.constantFrom('RST', 'STR', 'TRS'),
        maxA: fc.constantFrom(16, 32),
        offlineA: fc.constantFrom<number | 'max'>(6, 10, 16, 'max'),
        installed: fc.constantFrom(true, true, true, false),
        responseDelayMs: fc.integer({ min: 1, max: 8 }).map((s) => s * SECOND),
        meterIntervalMs: fc.constantFrom(5 * SECOND, 10 * SECOND, 60 * SECOND),
        outage: fc.option(
          fc.record({
            atMin: fc.integer({ min: 1, max: 15 }),
            forMin: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
          }),
          { nil: undefined },
        ),
        cars: fc.array(
          fc.record({
            arriveMin: fc.integer({ min: 0, max: 16 }),
            stayMin: fc.integer({ min: 2, max: 20 }),
            phases: fc.constantFrom<1 | 3>(1, 3, 3),
            maxCurrentA: fc.constantFrom(16, 32),
            socPercent: fc.integer({ min: 10, max: 80 }),
          }),
          { minLength: 0, maxLength: 2 },
        ),
      }),
      { minLength: 2, maxLength: 6 },
    ),
  })
  .map((r) => {
    const count = 1 + r.children;
    const circuits: CircuitConfig[] = [];
    const loads: Plan['loads'] = {};
    const meterIntervalMs: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      const meter = r.meters[i];
      const limitA = r.limits[i] as Triple;
      const circuit: CircuitConfig = {
        id: `c${i}`,
        ...parentOf(i, r.children),
        limitA,
      };
      // Other loads only where a meter sees them (a circuit without one is taken to have none).
      if (meter?.metered) {
        const level = meter.share.map((s, p) => Math.round(s * (limitA[p] ?? 32) * 10) / 10) as Triple;
        loads[circuit.id] = level;
        meterIntervalMs[circuit.id] = meter.intervalMs;
        circuit.meter = { source: `m${i}`, location: 'includesChargers' };
      }
      circuits.push(circuit);
    }
    // A meter's fallback is what the loads below it can reach (declared, as an installer would).
    declareFallbacks(circuits, (id) => loads[id] ?? [0, 0, 0]);
    // At least one connector is installed.
    const installed = r.connectors.map((c, k) => c.installed || k === 0);
    const connectors: ConnectorConfig[] = r.connectors.map((c, k) => ({
      chargePointId: `CP-${k}`,
      circuit: `c${c.circuit % count}`,
      phaseRotation: c.rotation as ConnectorConfig['phaseRotation'],
      maxA: c.maxA,
      offlineA: c.offlineA === 'max' ? c.maxA : Math.min(c.offlineA, c.maxA),
    }));
    const chargers: Plan['chargers'] = {};
    const cars: SimCar[] = [];
    const outages: Plan['outages'] = [];
    const neverConnected: string[] = [];
    r.connectors.forEach((c, k) => {
      const key = `CP-${k}/1`;
      if (!installed[k]) {
        neverConnected.push(key);
        return;
      }
      chargers[key] = { responseDelayMs: c.responseDelayMs, meterIntervalMs: c.meterIntervalMs };
      // Cars one after the other, a minute apart at least (unplugging, driving off, the next one in):
      // a charger has long applied the 0 A the load manager sends when a car leaves.
      let freeFromMs = 15 * SECOND;
      for (const car of [...c.cars].sort((a, b) => a.arriveMin - b.arriveMin)) {
        const arriveMs = Math.max(freeFromMs, 15 * SECOND + car.arriveMin * MINUTE);
        const leaveMs = arriveMs + car.stayMin * MINUTE;
        cars.push({
          connector: key,
          arriveMs,
          leaveMs,
          ev: {
            phases: car.phases,
            maxCurrentA: car.maxCurrentA,
            capacityKWh: 60,
            socPercent: car.socPercent,
          },
        });
        freeFromMs = leaveMs + MINUTE;
      }
      if (c.outage) {
        const fromMs = c.outage.atMin * MINUTE + 7 * SECOND;
        outages.push({
          connector: key,
          fromMs,
          ...(c.outage.forMin === undefined ? {} : { toMs: fromMs + c.outage.forMin * MINUTE }),
        });
      }
    });
    const site: SiteConfig = {
      circuits,
      connectors,
      unbalanceLimitA: null,
      control: {
        minUpdateIntervalMs: r.minUpdateIntervalMs,
        minOffMs: MIN_OFF_MS,
        minOffMaxMs: MIN_OFF_MAX_MS,
        decreaseSettleMs: DECREASE_SETTLE_MS,
        startMarginA: START_MARGIN_A,
      },
    };
    return { site, loads, meterIntervalMs, chargers, cars, neverConnected, outages };
  });

interface Window {
  circuits: Set<string>;
  fromMs: number;
  toMs: number;
  why: string;
}

interface Starved {
  connector: string;
  fromMs: number;
  durationMs: number;
}

interface Run {
  overloads: Overload[];
  windows: Window[];
  starved: Starved[];
  /** Seconds in which some connected car that wanted current had room and got it. */
  servedS: number;
}

function simulate(plan: Plan): Run {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 8));
  const manager = new LoadManager({ site: plan.site, clock, logger: silentLogger });
  const site = manager.site;
  const sim = new SiteSimulator({
    clock,
    site,
    otherLoads: Object.fromEntries(
      site.circuits.map((c) => [c.id, () => plan.loads[c.id] ?? ([0, 0, 0] as Triple)]),
    ),
    meters: Object.fromEntries(
      Object.entries(plan.meterIntervalMs).map(([id, intervalMs]) => [id, { intervalMs }]),
    ),
    chargers: plan.chargers,
    cars: plan.cars,
  });
  const startMs = clock.now();
  const elapsed = () => clock.now() - startMs;
  const never = new Set(plan.neverConnected);
  const isOffline = (key: string, atMs: number) =>
    plan.outages.some(
      (o) => o.connector === key && atMs >= o.fromMs && (o.toMs === undefined || atMs < o.toMs),
    );
  const offline = new Set<string>();
  const keyOf = (s: { chargePointId: string; connectorId: number }) => `${s.chargePointId}/${s.connectorId}`;
  const maxResponse = Math.max(SECOND, ...Object.values(plan.chargers).map((c) => c.responseDelayMs));
  const ancestors = (index: number): string[] => {
    const circuit = site.circuits[index];
    if (!circuit) return [];
    return [circuit.id, ...(circuit.parentIndex === undefined ? [] : ancestors(circuit.parentIndex))];
  };
  const below = (circuitId: string, connectorIndex: number) =>
    ancestors(site.connectors[connectorIndex]?.circuitIndex ?? -1).includes(circuitId);

  // Set-points reach a charger only while it is connected.
  manager.on('setPoint', (setPoint: SetPoint) => {
    const key = keyOf(setPoint);
    if (never.has(key) || offline.has(key)) return;
    sim.applySetPoint(setPoint);
  });
  // What the central system tells the load manager: the last state it had, and online or not.
  const delivered = new Map<string, ConnectorState>();
  const latest = new Map<string, ConnectorState>();
  const deliver = (state: ConnectorState) => {
    delivered.set(keyOf(state), state);
    manager.connectorState(structuredClone(state));
  };
  const feed = () => {
    for (const state of sim.takeConnectorStates()) {
      const key = keyOf(state);
      if (never.has(key)) continue;
      latest.set(key, state);
      if (!offline.has(key)) deliver(state);
    }
    for (const reading of sim.takeReadings()) manager.reading(reading);
  };
  for (const key of never) {
    const [chargePointId = '', connectorId = '1'] = key.split('/');
    manager.connectorState({
      chargePointId,
      connectorId: Number(connectorId),
      online: false,
      neverConnected: true,
    });
  }
  feed();
  manager.start();

  const windows: Window[] = [];
  const overloads: Overload[] = [];
  const open = new Map<string, Overload>();
  const starved: Starved[] = [];
  const starvedSince = new Map<string, number>();
  let servedS = 0;
  const control = manager.site.control;
  const patienceMs =
    MIN_OFF_MAX_MS +
    DECREASE_SETTLE_MS +
    control.minUpdateIntervalMs +
    2 * maxResponse +
    Math.max(...Object.values(plan.chargers).map((c) => c.meterIntervalMs)) +
    5 * SECOND;

  for (let t = 0; t < DURATION_MS; t += SECOND) {
    clock.advance(SECOND);
    const now = elapsed();
    // Connections lost and back.
    for (const connector of site.connectors) {
      const key = connector.key;
      if (never.has(key)) continue;
      const down = isOffline(key, now);
      if (down && !offline.has(key)) {
        offline.add(key);
        // On its own now: its fallback, after its response delay.
        sim.applySetPoint({
          chargePointId: connector.chargePointId,
          connectorId: connector.connectorId,
          limitA: connector.offlineA,
          phases: connector.phases,
          reason: 'offline: its own fallback',
        });
        const last = delivered.get(key);
        if (last) manager.connectorState(structuredClone({ ...last, online: false }));
        windows.push({
          circuits: new Set(ancestors(connector.circuitIndex)),
          fromMs: now,
          toMs: now + maxResponse + 2 * SECOND,
          why: `${key} went offline and takes its fallback on its own`,
        });
      } else if (!down && offline.has(key)) {
        offline.delete(key);
        // Back: what it queued (the newest state it had), or what the central system still shows.
        const state = latest.get(key) ?? delivered.get(key);
        if (state) deliver({ ...state, online: true });
      }
    }
    sim.step(SECOND);
    manager.batch(feed);

    // Safety: every breaker's physical current.
    const actual = sim.actualA();
    const stats = sim.chargerStats();
    site.circuits.forEach((circuit, c) => {
      // What nothing the load manager says can change: other loads and offline chargers with a car.
      const uncontrolled = [...(plan.loads[circuit.id] ?? [0, 0, 0])] as Triple;
      for (const child of site.circuits)
        if (child.index !== c && ancestors(child.index).includes(circuit.id))
          for (const p of [0, 1, 2] as const) uncontrolled[p] += plan.loads[child.id]?.[p] ?? 0;
      site.connectors.forEach((connector, k) => {
        if (!offline.has(connector.key) || !below(circuit.id, k) || (stats[k]?.drawW ?? 0) <= 0) return;
        for (const i of [0, 1, 2]) {
          if (connector.phases === 1 && i > 0) continue;
          uncontrolled[connector.gridPhaseOf[i] ?? 0] += connector.offlineA;
        }
      });
      if ([0, 1, 2].some((p) => (uncontrolled[p] ?? 0) > (circuit.limitA[p] ?? 0))) {
        windows.push({
          circuits: new Set([circuit.id]),
          fromMs: now,
          toMs: now + maxResponse + 4 * SECOND,
          why: `what the load manager cannot control alone exceeds ${circuit.id}'s limit`,
        });
      }
      for (const p of [0, 1, 2] as const) {
        const key = `${c}:${p}`;
        const excess = Math.abs(actual[c]?.[p] ?? 0) - (circuit.limitA[p] ?? 0);
        const episode = open.get(key);
        if (excess > 1e-6) {
          if (episode) {
            episode.durationMs += SECOND;
            episode.maxExcessA = Math.max(episode.maxExcessA, excess);
          } else {
            const started = {
              circuit: circuit.id,
              phase: p,
              fromMs: now,
              durationMs: SECOND,
              maxExcessA: excess,
            };
            open.set(key, started);
            overloads.push(started);
          }
        } else open.delete(key);
      }
    });

    // Liveness: a connected car that wants current and has room gets it.
    const limits = new Map(manager.setPoints().map((s) => [keyOf(s), s.limitA]));
    site.connectors.forEach((connector, k) => {
      const key = connector.key;
      const stat = stats[k];
      const wants =
        !never.has(key) &&
        !offline.has(key) &&
        stat !== undefined &&
        stat.carSocPercent !== undefined &&
        stat.carMaxW > 0 &&
        stat.status !== 'SuspendedEV';
      const room = wants && roomFor(k);
      if (!room || (limits.get(key) ?? 0) > 0) {
        if (room) servedS += 1;
        const since = starvedSince.get(key);
        if (since !== undefined && now - since > patienceMs)
          starved.push({ connector: key, fromMs: since, durationMs: now - since });
        starvedSince.delete(key);
        return;
      }
      if (!starvedSince.has(key)) starvedSince.set(key, now);
    });
  }
  for (const [connector, since] of starvedSince) {
    if (elapsed() - since > patienceMs)
      starved.push({ connector, fromMs: since, durationMs: elapsed() - since });
  }
  manager.stop();
  return { overloads, windows, starved, servedS };

  /**
   * Whether connector k's minimum fits on every circuit above it, on every phase it is wired to,
   * counting what the load manager can know: the other loads as its meters show them, the offline
   * chargers at their fallback, every other connected car at its minimum (on all its wired phases:
   * the load manager counts a car so until it knows better). A meter that includes the chargers
   * also shows what an offline charger draws now, which the load manager cannot tell from other
   * loads (the charger reports nothing): that is counted as well, beside its fallback, the safe side.
   */
  function roomFor(k: number): boolean {
    const connector = site.connectors[k];
    if (!connector) return false;
    const stats = sim.chargerStats();
    const wiredPhases = (c: typeof connector) =>
      (c.phases === 1 ? [0] : [0, 1, 2]).map((i) => c.gridPhaseOf[i] ?? 0);
    const carAt = (key: string) =>
      plan.cars.find(
        (car) =>
          car.connector === key && car.arriveMs <= elapsed() && elapsed() < (car.leaveMs ?? DURATION_MS),
      );
    // What an offline charger draws now, per grid phase (the meters above it see it).
    const offlineDraw = (j: number): Triple => {
      const other = site.connectors[j];
      const drawW = stats[j]?.drawW ?? 0;
      const draw: Triple = [0, 0, 0];
      if (!other || !offline.has(other.key) || drawW <= 0) return draw;
      const phases = other.phases === 1 || carAt(other.key)?.ev.phases === 1 ? 1 : 3;
      for (let i = 0; i < phases; i++) draw[other.gridPhaseOf[i] ?? 0] += drawW / (site.voltageV * phases);
      return draw;
    };
    const knownOther = (index: number): Triple => {
      const circuit = site.circuits[index];
      const children = site.circuits.filter((c) => c.parentIndex === index).map((c) => knownOther(c.index));
      const childA: Triple = [0, 0, 0];
      for (const child of children) for (const p of [0, 1, 2] as const) childA[p] += child[p];
      if (!circuit?.meter) return childA;
      const own: Triple = [0, 0, 0];
      for (const c of site.circuits)
        if (ancestors(c.index).includes(circuit.id))
          for (const p of [0, 1, 2] as const) own[p] += plan.loads[c.id]?.[p] ?? 0;
      site.connectors.forEach((_, j) => {
        if (!below(circuit.id, j)) return;
        const draw = offlineDraw(j);
        for (const p of [0, 1, 2] as const) own[p] += draw[p];
      });
      return own.map((v, p) => Math.max(v, childA[p] ?? 0)) as Triple;
    };
    for (const circuitId of ancestors(connector.circuitIndex)) {
      const circuit = site.circuits.find((c) => c.id === circuitId);
      if (!circuit) return false;
      const used = [...knownOther(circuit.index)];
      site.connectors.forEach((other, j) => {
        if (j === k || !below(circuitId, j) || never.has(other.key)) return;
        const a = offline.has(other.key) ? other.offlineA : carAt(other.key) ? other.minA : 0;
        for (const p of wiredPhases(other)) used[p] = (used[p] ?? 0) + a;
      });
      for (const p of wiredPhases(connector)) {
        const free = (circuit.limitA[p] ?? 0) - (circuit.headroomA[p] ?? 0) - (used[p] ?? 0);
        if (free < connector.minA + START_MARGIN_A + 1e-9) return false;
      }
    }
    return true;
  }
}

function explained(overload: Overload, windows: readonly Window[]): boolean {
  const endMs = overload.fromMs + overload.durationMs;
  const merged = windows
    .filter((w) => w.circuits.has(overload.circuit))
    .map((w) => [w.fromMs, w.toMs + SECOND] as [number, number])
    .sort((a, b) => a[0] - b[0])
    .reduce<[number, number][]>((list, [from, to]) => {
      const last = list[list.length - 1];
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else list.push([from, to]);
      return list;
    }, []);
  return merged.some(([from, to]) => overload.fromMs >= from && endMs <= to);
}

function check(plan: Plan): Run {
  const run = simulate(plan);
  for (const overload of run.overloads) {
    assert.ok(
      explained(overload, run.windows),
      `unexplained overload ${JSON.stringify(overload)}; plan ${JSON.stringify(plan)}`,
    );
  }
  assert.deepEqual(
    run.starved,
    [],
    `connected cars left at 0 A with room for their minimum; plan ${JSON.stringify(plan)}`,
  );
  return run;
}

/**
 * Counterexamples the property found with other seeds (reduced by hand), kept so they stay fixed
 * whatever the seed. Data, not code: each plan is kept as it was found (so it still reproduces), and
 * the plans here and in closed-loop-properties_spec.ts are alike in shape because they are all Plans.
 */
const FOUND: { seed: number; what: string; plan: Plan }[] = [
  {
    seed: 3,
    what: 'a charger back online with a car, still at its 16 A fallback, is given 6 A and another car 6 A in the same update: the other follows first, 5 A over the breaker',
    plan: {
      site: {
        circuits: [{ id: 'c0', limitA: [33, 45, 48] }],
        connectors: [
          { chargePointId: 'CP-0', circuit: 'c0', phaseRotation: 'STR', maxA: 32, offlineA: 6 },
          { chargePointId: 'CP-1', circuit: 'c0', phaseRotation: 'TRS', maxA: 16, offlineA: 16 },
          { chargePointId: 'CP-3', circuit: 'c0', phaseRotation: 'TRS', maxA: 16, offlineA: 16 },
        ],
        unbalanceLimitA: null,
        control: {
          minUpdateIntervalMs: 10000,
          minOffMs: 30000,
          minOffMaxMs: 60000,
          decreaseSettleMs: 10000,
          startMarginA: 1,
        },
      },
      loads: {},
      meterIntervalMs: {},
      chargers: {
        'CP-0/1': { responseDelayMs: 5000, meterIntervalMs: 10000 },
        'CP-1/1': { responseDelayMs: 7000, meterIntervalMs: 5000 },
        'CP-3/1': { responseDelayMs: 6000, meterIntervalMs: 10000 },
      },
      cars: [
        {
          connector: 'CP-0/1',
          arriveMs: 255000,
          leaveMs: 855000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 69 },
        },
        {
          connector: 'CP-1/1',
          arriveMs: 315000,
          leaveMs: 735000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 27 },
        },
        {
          connector: 'CP-3/1',
          arriveMs: 195000,
          leaveMs: 975000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 52 },
        },
      ],
      neverConnected: [],
      outages: [
        { connector: 'CP-1/1', fromMs: 67000, toMs: 547000 },
        { connector: 'CP-3/1', fromMs: 67000, toMs: 367000 },
      ],
    },
  },
  {
    seed: 10,
    what: "no charger offline at all: the metered line subtracts a charger's measurement from before its decrease (it reports every 60 s) from a newer meter reading, capped by its new, higher set-point: the other loads look smaller than they are and the line is 0.2 A over",
    plan: {
      site: {
        circuits: [
          {
            id: 'c0',
            limitA: [35, 68, 48],
            meter: { source: 'm0', location: 'includesChargers' },
            fallback: { otherLoadA: [0, 0, 17] },
          },
        ],
        connectors: [
          { chargePointId: 'CP-0', circuit: 'c0', phaseRotation: 'TRS', maxA: 16, offlineA: 10 },
          { chargePointId: 'CP-1', circuit: 'c0', phaseRotation: 'RST', maxA: 32, offlineA: 10 },
        ],
        unbalanceLimitA: null,
        control: {
          minUpdateIntervalMs: 5000,
          minOffMs: 30000,
          minOffMaxMs: 60000,
          decreaseSettleMs: 10000,
          startMarginA: 1,
        },
      },
      loads: { c0: [0, 0, 16.2] },
      meterIntervalMs: { c0: 3000 },
      chargers: {
        'CP-0/1': { responseDelayMs: 6000, meterIntervalMs: 60000 },
        'CP-1/1': { responseDelayMs: 5000, meterIntervalMs: 10000 },
      },
      cars: [
        {
          connector: 'CP-0/1',
          arriveMs: 255000,
          leaveMs: 1095000,
          ev: { phases: 3, maxCurrentA: 32, capacityKWh: 60, socPercent: 63 },
        },
        {
          connector: 'CP-1/1',
          arriveMs: 675000,
          leaveMs: 975000,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 75 },
        },
      ],
      neverConnected: [],
      outages: [],
    },
  },
];

describe('LoadManager closed loop over partly installed car parks (properties, physical current)', function () {
  this.timeout(120_000);

  it('keeps every breaker within its limit and every connected car with room charging, whatever is never connected or offline', () => {
    const runs = Number(process.env.PROPERTY_RUNS ?? 10);
    let servedS = 0;
    let bothRuns = 0;
    fc.assert(
      fc.property(planArbitrary, (plan) => {
        const run = check(plan);
        servedS += run.servedS;
        if (plan.outages.length > 0 && plan.neverConnected.length > 0) bothRuns += 1;
      }),
      // A fixed seed, so CI is repeatable; PROPERTY_SEED=<n> (and PROPERTY_RUNS) explores others.
      // No shrinking: one case is 1,200 simulated seconds.
      {
        numRuns: runs,
        seed: Number(process.env.PROPERTY_SEED ?? 20261123),
        endOnFailure: true,
      },
    );
    // The runs did what they are for: cars charged, and some sites had both kinds of missing charger.
    assert.ok(servedS > 0, 'no car ever had room');
    if (runs >= 5) assert.ok(bothRuns > 0, 'no site had both a never connected and an offline charger');
  });

  describe('cases found with other seeds', () => {
    for (const found of FOUND) {
      it(`seed ${found.seed}: ${found.what}`, () => {
        check(found.plan);
      });
    }
  });
});
