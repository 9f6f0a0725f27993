import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ManualClock } from '../../../lib/clock';
import type { ConnectorState, ConnectorStatus, Reading, SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { CircuitConfig, ConnectorConfig, SiteConfig } from '../../../lib/dlm/site';
import { silentLogger } from '../../../lib/log';
import {
  flagIfDue,
  flagRefusal,
  gridOf,
  judge,
  newOverdraw,
  type OverdrawRecord,
  overdrawFloor,
  type SentHistory,
} from './overdraw-model';

/**
 * The load manager against random sites and random input sequences: meter readings (whole, with a
 * phase missing or not a number, too short, power per phase only, total power only, late), connector
 * states and charger readings (currents missing, not a number, too short; a charger drawing more than
 * it is told), commands (modes, site limits, malformed site limits and PV settings, replaced sites),
 * time passing, meters going stale, phase switches.
 *
 * After every update the set-points in force are checked against the documented rules, with every
 * counted quantity rebuilt HERE from the raw inputs alone (nothing is read back from the load
 * manager but its set-points, and its site validation is not used either):
 *
 * - a connector is counted on every phase it is wired with, unless two of its charger's readings in
 *   the same session, at least 30 s apart, fresh when they arrived, taken while it was charging on
 *   three phases and not within 60 s of a phase switch, showed the same set of phases in use (a
 *   phase above 1 A or not measured); then on that set and every phase any later such reading
 *   showed in use. Switched to one phase: its L1 after the 60 s settle time (all of them within it),
 *   or all of them again once a reading after the settle time shows another phase above 1 A;
 * - it counts its set-point on those grid phases (through its rotation), and at least (its floor) its
 *   offline current on its wired phases while it is offline or has not reported, and, while it
 *   overdraws, its newest reading above its set-point per grid phase (a phase not reported at the
 *   highest reported; a phase it counts on that shows at most 1 A, at the highest). It overdraws once a
 *   reading (fresh, while online) above its set-point + 1 A on a phase (within 10 s of a change, the
 *   higher of the old and the new; within a phase switch's settle time, on the phases it used, the
 *   higher of both) arrived, or when it refused a switch to one phase, until readings measured after
 *   its last change, of a car drawing under a set-point above 0, show it within its set-point for
 *   60 s (overdraw-model.ts);
 * - a circuit's other loads per phase: without a meter, what its children count; with one, each
 *   phase on its own: fresh (≤ staleAfterMs), the reading (a phase not a number or missing keeps its
 *   last value; power / 230 V where there is no current; a total power alone only with
 *   noGenerationBelow) minus, for a meter that includes the chargers, what each charging charger
 *   below last reported (fresh, ≤ 180 s) capped at what it is counted at (its set-point before the
 *   update on the phases it counts on, or its floor), never below 0, and never less than its
 *   children count; for an otherLoadsOnly meter plus what its children count. A stale or never read
 *   phase: the fallback's other load (or the phase's last fresh value) in the same way;
 * - Σ counted + other + headroom ≤ the limit in force (site limits included) per phase, and the same
 *   in power and for a limit on the chargers' power, unless no connector below loads that phase;
 * - while a meter has a stale phase, a per-connector fallback caps every connector below it;
 * - no set-point between 0 and the minimum, none above the maximum;
 * - malformed commands are refused and change nothing.
 */

const V = 230;
const DETECTION_MS = 30_000;
const SETTLE_MS = 60_000;
const DRAW_STALE_MS = 180_000;
/** The grid phase (0 = L1) of each charger phase: R, S, T are grid L1, L2, L3, in the rotation's order. */
const gridPhasesOfRotation = (rotation: string) => [...rotation].map((letter) => 'RST'.indexOf(letter));
const STATUSES: ConnectorStatus[] = [
  'Available',
  'Preparing',
  'Charging',
  'Charging',
  'Charging',
  'SuspendedEV',
  'SuspendedEVSE',
  'Finishing',
];

type Three = [number, number, number];
type Values = (number | null)[];

// ---------------------------------------------------------------------------------------------
// Inputs

/** A value per phase as a flow may send it, good or bad. */
type RawPhases = unknown;

type Event =
  | { kind: 'advance'; seconds: number }
  | {
      kind: 'meter';
      circuit: number;
      currentA?: RawPhases;
      powerW?: RawPhases;
      totalPowerW?: number;
      ageMs: number;
    }
  | {
      kind: 'state';
      connector: number;
      status: ConnectorStatus;
      online: boolean;
      newTransaction: boolean;
      transaction: boolean;
      currentA: RawPhases | undefined;
      energyWh: number;
    }
  | { kind: 'chargerReading'; connector: number; currentA: RawPhases; ageMs: number }
  | { kind: 'mode'; connector: number; mode: 'fast' | 'pv' | 'minpv' | 'off' | null }
  | { kind: 'siteLimit'; circuit: number; limitA: number | Three; durationMs: number }
  | { kind: 'badSiteLimit'; circuit: number; limitA: unknown }
  | { kind: 'chargersLimit'; powerW: number; durationMs: number }
  | { kind: 'badPv'; residualPowerW: unknown }
  | { kind: 'replaceSite'; limits: Three[]; dropLeaf: boolean };

const amps = (min: number, max: number) => fc.integer({ min: min * 10, max: max * 10 }).map((v) => v / 10);

const phasesArbitrary = (max: number): fc.Arbitrary<RawPhases> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(amps(-5, max), amps(-5, max), amps(-5, max)) },
    { weight: 3, arbitrary: fc.tuple(amps(0, max), fc.constantFrom(0, 0.4, 0.9), fc.constantFrom(0, 0.4)) },
    {
      weight: 2,
      arbitrary: fc.tuple(
        amps(0, max),
        fc.constantFrom<number | null>(null, Number.NaN, 3),
        fc.constantFrom<number | null>(0, null, Number.NaN),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(amps(0, max), amps(0, max)) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'x', [1, 2, 3, 4], Number.NaN) },
  );

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
            noGenerationBelow: fc.boolean(),
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

const tripleArbitrary = fc.tuple(
  fc.integer({ min: 10, max: 80 }),
  fc.integer({ min: 10, max: 80 }),
  fc.integer({ min: 10, max: 80 }),
);

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      seconds: fc.constantFrom(1, 1, 5, 20, 35, 70),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('meter' as const),
        circuit: fc.nat(),
        currentA: phasesArbitrary(60),
        powerW: fc.tuple(amps(-2000, 12000), amps(-2000, 12000), amps(-2000, 12000)),
        totalPowerW: fc.integer({ min: -20_000, max: 40_000 }),
        ageMs: fc.constantFrom(0, 0, 0, 0, 3_000, 40_000),
      },
      { requiredKeys: ['kind', 'circuit', 'ageMs'] },
    ),
  },
  {
    weight: 6,
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
        { weight: 6, arbitrary: fc.constant(false) },
      ),
      transaction: fc.oneof(
        { weight: 5, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      currentA: fc.option(phasesArbitrary(35), { freq: 5 }).map((v) => v ?? undefined),
      energyWh: fc.integer({ min: 0, max: 50_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('chargerReading' as const),
      connector: fc.nat(),
      currentA: phasesArbitrary(35),
      ageMs: fc.constantFrom(0, 0, 2_000, 60_000, 200_000),
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
      limitA: fc.oneof(
        fc.integer({ min: 5, max: 60 }),
        fc.tuple(
          fc.integer({ min: 5, max: 60 }),
          fc.integer({ min: 5, max: 60 }),
          fc.integer({ min: 5, max: 60 }),
        ),
      ),
      durationMs: fc.integer({ min: 1_000, max: 300_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('badSiteLimit' as const),
      circuit: fc.nat(),
      limitA: fc.constantFrom<unknown>(
        [10],
        [10, Number.NaN, 10],
        [10, 10],
        Number.NaN,
        -3,
        '16',
        [5, 5, 5, 5],
      ),
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
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('badPv' as const),
      residualPowerW: fc.constantFrom<unknown>('abc', Number.NaN, -5, Number.POSITIVE_INFINITY),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replaceSite' as const),
      limits: fc.array(tripleArbitrary, { minLength: 4, maxLength: 4 }),
      dropLeaf: fc.boolean(),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// The checker's own reading of a site configuration (the documented defaults)

interface ModelCircuit {
  id: string;
  parent?: string;
  children: string[];
  limitA: Three;
  headroomA: Three;
  powerLimitW?: number;
  meter?: { source: string; location: string; staleAfterMs: number; noGenerationBelow: boolean };
  otherLoadA?: Three;
  connectorLimitA?: number;
  /** Connector keys anywhere below. */
  below: string[];
}

interface ModelConnector {
  key: string;
  chargePointId: string;
  /** Charger phase → grid phase. */
  rotation: number[];
  /** Charger phases wired. */
  wired: number[];
  minA: number;
  maxA: number;
  offlineA: number;
}

interface Model {
  circuits: ModelCircuit[];
  connectors: ModelConnector[];
  roots: string[];
}

const asThree = (value: number | number[] | undefined, fallback: number): Three =>
  value === undefined
    ? [fallback, fallback, fallback]
    : Array.isArray(value)
      ? [value[0] ?? fallback, value[1] ?? fallback, value[2] ?? fallback]
      : [value, value, value];

function modelOf(config: SiteConfig): Model {
  const circuits: ModelCircuit[] = config.circuits.map((c) => ({
    id: c.id,
    ...(c.parent ? { parent: c.parent } : {}),
    children: [],
    limitA: asThree(c.limitA as number | number[], 0),
    headroomA: asThree(c.headroomA as number | number[] | undefined, 0),
    ...(c.powerLimitW === undefined ? {} : { powerLimitW: c.powerLimitW }),
    ...(c.meter
      ? {
          meter: {
            source: c.meter.source,
            location: c.meter.location,
            staleAfterMs: c.meter.staleAfterMs ?? 30_000,
            noGenerationBelow: c.meter.noGenerationBelow === true,
          },
        }
      : {}),
    ...(c.fallback?.otherLoadA === undefined
      ? {}
      : { otherLoadA: asThree(c.fallback.otherLoadA as number | number[], 0) }),
    ...(c.fallback?.connectorLimitA !== undefined
      ? { connectorLimitA: c.fallback.connectorLimitA }
      : c.fallback?.otherLoadA === undefined
        ? { connectorLimitA: 6 }
        : {}),
    below: [],
  }));
  const byId = new Map(circuits.map((c) => [c.id, c]));
  for (const c of circuits) if (c.parent) byId.get(c.parent)?.children.push(c.id);
  const connectors = config.connectors.map((c): ModelConnector => {
    const key = `${c.chargePointId}/${c.connectorId ?? 1}`;
    for (let at = byId.get(c.circuit); at; at = at.parent ? byId.get(at.parent) : undefined)
      at.below.push(key);
    const maxA = c.maxA ?? 32;
    return {
      key,
      chargePointId: c.chargePointId,
      rotation: gridPhasesOfRotation(c.phaseRotation ?? 'RST'),
      wired: (c.phases ?? 3) === 1 ? [0] : [0, 1, 2],
      minA: c.minA ?? 6,
      maxA,
      offlineA: c.offlineA ?? maxA,
    };
  });
  return { circuits, connectors, roots: circuits.filter((c) => !c.parent).map((c) => c.id) };
}

// ---------------------------------------------------------------------------------------------
// The world as the inputs describe it

interface Stamped {
  value: number;
  atMs: number;
}

interface Sample {
  chargerA: Values;
  atMs: number;
  /** Usable for phase detection (see the header). */
  eligible: boolean;
  /** Charger phases in use (above 1 A or not measured). */
  active: number[];
}

interface ConnectorWorld extends SentHistory {
  state?: ConnectorState;
  draw?: { chargerA: Values; atMs: number };
  session: string;
  wantingSinceMs?: number;
  samples: Sample[];
  /** Phases of the set-point in force, and since when (a switch in the same session). */
  phases: number;
  refused: boolean;
  overdraw: OverdrawRecord;
}

interface World {
  config: SiteConfig;
  model: Model;
  meters: Map<string, { phases: (Stamped | undefined)[]; power?: Stamped }>;
  /** Per circuit id: the other loads of each phase when it was last fresh. */
  lastFreshOwn: Map<string, (number | undefined)[]>;
  connectors: Map<string, ConnectorWorld>;
  siteLimits: Map<
    string,
    { limitA?: [Three, number]; powerLimitW?: [number, number]; chargersW?: [number, number] }
  >;
  setPoints: Map<string, SetPoint>;
  /** Set-points before the update being checked (a meter that includes the chargers is capped by them). */
  before: Map<string, SetPoint>;
}

/** Three values: finite numbers, null where not measured; anything else is not measured at all. */
function values(raw: RawPhases): Values | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length !== 3) return [null, null, null];
  return raw.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

function connectorWorld(world: World, key: string): ConnectorWorld {
  let c = world.connectors.get(key);
  if (!c) {
    c = { session: 'none', samples: [], phases: 3, refused: false, overdraw: newOverdraw() };
    world.connectors.set(key, c);
  }
  return c;
}

/** A car wants current while it charges or is suspended, and while a transaction is about to begin. */
function carWants(state: ConnectorState | undefined): boolean {
  if (!state?.online) return false;
  if (['Charging', 'SuspendedEV', 'SuspendedEVSE'].includes(state.status ?? '')) return true;
  return (state.status === 'Preparing' || state.status === undefined) && state.transaction !== undefined;
}

/** Session bookkeeping at an update; a new session forgets the samples and the switches. */
function sessionAt(world: World, key: string, now: number): void {
  const c = connectorWorld(world, key);
  const wants = carWants(c.state);
  if (wants) c.wantingSinceMs ??= now;
  else c.wantingSinceMs = undefined;
  const session = c.state?.transaction
    ? `tx:${c.state.transaction.transactionId}`
    : wants
      ? `plug:${c.wantingSinceMs}`
      : 'none';
  if (session === c.session) return;
  c.session = session;
  c.samples = [];
  c.switchedAtMs = undefined;
  c.phasesBeforeSwitch = undefined;
  c.refused = false;
  c.overdraw = newOverdraw();
  // The newest draw is the new session's first sample.
  if (c.draw) takeSample(world, key, c.draw, now);
}

function takeSample(world: World, key: string, draw: { chargerA: Values; atMs: number }, now: number): void {
  const c = connectorWorld(world, key);
  const connector = world.model.connectors.find((m) => m.key === key);
  if (!connector || now - draw.atMs > DRAW_STALE_MS) return;
  const active = connector.wired.filter((i) => {
    const v = draw.chargerA[i];
    return v === null || v === undefined || v > 1;
  });
  const settling = c.switchedAtMs !== undefined && now - c.switchedAtMs < SETTLE_MS;
  // A car switched to one phase that shows another phase after the settle time refused it.
  if (
    !c.refused &&
    c.phases === 1 &&
    connector.wired.length === 3 &&
    c.state?.online &&
    c.switchedAtMs !== undefined &&
    draw.atMs >= c.switchedAtMs + SETTLE_MS &&
    connector.wired.some((i) => i !== 0 && (draw.chargerA[i] ?? 0) > 1)
  ) {
    c.refused = true;
    flagRefusal(c.overdraw);
  }
  if (c.state?.online && c.sent) judge(c.overdraw, connector, c, draw);
  c.samples.push({
    chargerA: draw.chargerA,
    atMs: draw.atMs,
    active,
    eligible: c.state?.status === 'Charging' && !settling && c.phases !== 1 && active.length > 0,
  });
}

/** Charger phases a connector must be counted on (see the header). */
function chargerPhases(world: World, connector: ModelConnector, now: number): number[] {
  if (connector.wired.length === 1) return [0];
  const c = connectorWorld(world, connector.key);
  const settling = c.switchedAtMs !== undefined && now - c.switchedAtMs < SETTLE_MS;
  if (c.phases === 1) return settling || c.refused ? [0, 1, 2] : [0];
  if (settling) return [0, 1, 2];
  const eligible = c.samples.filter((s) => s.eligible);
  // The latest proof: two samples with the same set, at least 30 s apart.
  for (let i = eligible.length - 2; i >= 0; i--) {
    const first = eligible[i] as Sample;
    const proven = eligible
      .slice(i + 1)
      .some((s) => s.atMs - first.atMs >= DETECTION_MS && sameSet(s.active, first.active));
    if (!proven) continue;
    const used = new Set<number>();
    for (const s of eligible.slice(i)) for (const p of s.active) used.add(p);
    return [...used].sort();
  }
  return [0, 1, 2];
}

const sameSet = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

// ---------------------------------------------------------------------------------------------
// The check

function check(manager: LoadManager, world: World, now: number, label: () => string): void {
  const { model } = world;
  for (const connector of model.connectors) sessionAt(world, connector.key, now);
  const setPoints = world.setPoints;
  const limitOf = (key: string) => setPoints.get(key)?.limitA ?? 0;
  const info = new Map(
    model.connectors.map((connector) => {
      const c = connectorWorld(world, connector.key);
      const grid = chargerPhases(world, connector, now).map((i) => connector.rotation[i] as number);
      const offline = !c.state?.online;
      const floor: Three = [0, 0, 0];
      if (offline)
        for (const i of connector.wired) floor[connector.rotation[i] as 0 | 1 | 2] = connector.offlineA;
      const overdrawn = overdrawFloor(c.overdraw, grid);
      for (const p of [0, 1, 2] as const) floor[p] = Math.max(floor[p], overdrawn[p]);
      const draw =
        c.draw && now - c.draw.atMs <= DRAW_STALE_MS ? gridOf(connector, c.draw.chargerA) : undefined;
      return [connector.key, { connector, grid, floor, draw }] as const;
    }),
  );
  const counted = (key: string, p: number) => {
    const k = info.get(key);
    if (!k) return 0;
    return Math.max(k.grid.includes(p) ? limitOf(key) : 0, k.floor[p] ?? 0);
  };
  // Set-points: the minimum rule and the maximum.
  for (const connector of model.connectors) {
    const limit = limitOf(connector.key);
    assert.ok(
      limit === 0 || limit >= connector.minA - 1e-9,
      `${label()}: ${connector.key} ${limit} A below its minimum`,
    );
    assert.ok(limit <= connector.maxA + 1e-9, `${label()}: ${connector.key} ${limit} A above its maximum`);
  }
  const byId = new Map(model.circuits.map((c) => [c.id, c]));
  const others = new Map<string, { a: Three; w: number; stale: boolean }>();
  const otherOf = (circuit: ModelCircuit): { a: Three; w: number; stale: boolean } => {
    const known = others.get(circuit.id);
    if (known) return known;
    const child: Three = [0, 0, 0];
    let childW = 0;
    for (const id of circuit.children) {
      const o = otherOf(byId.get(id) as ModelCircuit);
      for (const p of [0, 1, 2] as const) child[p] += o.a[p];
      childW += o.w;
    }
    let result: { a: Three; w: number; stale: boolean };
    const meter = circuit.meter;
    if (!meter) result = { a: child, w: childW, stale: false };
    else {
      const includes = meter.location === 'includesChargers';
      const data = world.meters.get(meter.source);
      // What the chargers below reported, each capped at its set-point before the update.
      const subtract: Three = [0, 0, 0];
      if (includes) {
        for (const key of circuit.below) {
          const k = info.get(key);
          if (!k?.draw || connectorWorld(world, key).state?.status !== 'Charging') continue;
          const before = world.before.get(key)?.limitA ?? 0;
          for (const p of [0, 1, 2] as const) {
            const allowed = Math.max(k.grid.includes(p) ? before : 0, k.floor[p]);
            subtract[p] += Math.max(0, Math.min(k.draw[p], allowed));
          }
        }
      }
      const lastFresh = world.lastFreshOwn.get(circuit.id) ?? [undefined, undefined, undefined];
      world.lastFreshOwn.set(circuit.id, lastFresh);
      const a: Three = [0, 0, 0];
      let stale = false;
      for (const p of [0, 1, 2] as const) {
        const sample = data?.phases[p];
        let own: number;
        if (sample && now - sample.atMs <= meter.staleAfterMs) {
          own = Math.max(0, sample.value - subtract[p]);
          lastFresh[p] = own;
        } else {
          stale = true;
          own = circuit.otherLoadA ? circuit.otherLoadA[p] : (lastFresh[p] ?? 0);
        }
        a[p] = includes ? Math.max(own, child[p]) : own + child[p];
      }
      let w = (a[0] + a[1] + a[2]) * V;
      if (!stale && data?.power && now - data.power.atMs <= meter.staleAfterMs) {
        const own = Math.max(
          0,
          data.power.value - (includes ? (subtract[0] + subtract[1] + subtract[2]) * V : 0),
        );
        w = includes ? Math.max(own, childW) : own + childW;
      }
      result = { a, w, stale };
    }
    others.set(circuit.id, result);
    return result;
  };
  for (const circuit of model.circuits) {
    const other = otherOf(circuit);
    const limits = world.siteLimits.get(circuit.id);
    const inForce = <T>(entry: [T, number] | undefined) => (entry && entry[1] > now ? entry[0] : undefined);
    const siteLimitA = inForce(limits?.limitA);
    const limitA = circuit.limitA.map((l, p) => Math.min(l, siteLimitA?.[p] ?? Number.POSITIVE_INFINITY));
    const load = [0, 1, 2].map((p) => circuit.below.reduce((sum, key) => sum + counted(key, p), 0));
    const on = (p?: number) =>
      circuit.below.some(
        (key) => limitOf(key) > 0 && (p === undefined || (info.get(key)?.grid.includes(p) ?? false)),
      );
    for (const p of [0, 1, 2] as const) {
      const total = (load[p] ?? 0) + other.a[p] + circuit.headroomA[p];
      assert.ok(
        total <= (limitA[p] ?? 0) + 1e-6 || !on(p),
        `${label()}: ${circuit.id} L${p + 1}: connectors ${load[p]} + other ${other.a[p]} + headroom ${circuit.headroomA[p]} > ${limitA[p]} (${circuit.below.map((k) => `${k}=${limitOf(k)}@${info.get(k)?.grid.join('')}`).join(' ')})`,
      );
    }
    const powerLimits = [circuit.powerLimitW, inForce(limits?.powerLimitW)].filter(
      (v): v is number => v !== undefined,
    );
    if (powerLimits.length > 0) {
      const headroomW = (circuit.headroomA[0] + circuit.headroomA[1] + circuit.headroomA[2]) * V;
      const totalW = load.reduce((a, b) => a + b, 0) * V + other.w + headroomW;
      assert.ok(
        totalW <= Math.min(...powerLimits) + 1e-3 || !on(),
        `${label()}: ${circuit.id}: ${totalW} W > ${Math.min(...powerLimits)} W`,
      );
    }
    const chargersW = inForce(limits?.chargersW);
    if (chargersW !== undefined) {
      const w = load.reduce((a, b) => a + b, 0) * V;
      assert.ok(
        w <= chargersW + 1e-3 || !on(),
        `${label()}: chargers ${w} W above the site limit ${chargersW} W`,
      );
    }
    if (other.stale && circuit.meter && circuit.connectorLimitA !== undefined) {
      for (const key of circuit.below) {
        const limit = limitOf(key);
        assert.ok(
          limit <= circuit.connectorLimitA + 1e-9,
          `${label()}: stale ${circuit.id}: ${key} at ${limit} A`,
        );
        // (A reason can change without a new set-point: read the one in force.)
        const reason = manager
          .setPoints()
          .find((sp) => `${sp.chargePointId}/${sp.connectorId}` === key)?.reason;
        if (limit > 0) assert.match(reason ?? '', /fallback/, `${label()}: ${key}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a sequence

function replaced(config: SiteConfig, event: Extract<Event, { kind: 'replaceSite' }>): SiteConfig {
  const next = structuredClone(config);
  next.circuits.forEach((c, i) => {
    c.limitA = event.limits[i % event.limits.length] as Three;
  });
  const last = next.circuits[next.circuits.length - 1];
  if (
    event.dropLeaf &&
    last &&
    next.circuits.length > 1 &&
    !next.circuits.some((c) => c.parent === last.id) &&
    next.connectors.some((c) => c.circuit !== last.id)
  ) {
    next.circuits.pop();
    next.connectors = next.connectors.filter((c) => c.circuit !== last.id);
  }
  return next;
}

/** Runs `events` on a fresh load manager, calling `after(now)` after every update. */
function run(
  site: SiteConfig,
  events: Event[],
  onUpdate: ((manager: LoadManager, world: World, now: number, label: () => string) => void) | undefined,
): string[] {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const manager = new LoadManager({ site, clock, logger: silentLogger });
  const world: World = {
    config: site,
    model: modelOf(site),
    meters: new Map(),
    lastFreshOwn: new Map(),
    connectors: new Map(),
    siteLimits: new Map(),
    setPoints: new Map(),
    before: new Map(),
  };
  const out: string[] = [];
  manager.on('setPoint', (s) => {
    const key = `${s.chargePointId}/${s.connectorId}`;
    out.push(`${clock.now()} ${JSON.stringify(s)}`);
    const c = connectorWorld(world, key);
    if (s.phases !== c.phases) {
      // A switch in the same session (not a refusal, which keeps the switch time, nor a new car).
      const sessionBefore = c.session;
      sessionAt(world, key, clock.now());
      const connector = world.model.connectors.find((m) => m.key === key);
      if (connector && c.session === sessionBefore && !(c.phases === 1 && c.refused)) {
        c.phasesBeforeSwitch = c.phases === 1 ? [0] : chargerPhases(world, connector, clock.now());
        c.switchedAtMs = clock.now();
      }
      c.phases = s.phases;
    }
    if (c.sent?.limitA !== s.limitA || c.sent?.phases !== s.phases) {
      c.changedAtMs = clock.now();
      c.previous = c.sent;
    }
    c.resend = false;
    c.sent = { limitA: s.limitA, phases: s.phases };
    world.setPoints.set(key, s);
  });
  let transactionId = 1;
  let step = 0;
  const label = () => `event ${step} (${JSON.stringify(events[step - 1] ?? 'start')})`;
  /** Runs `input`; if the load manager updated, checks the outcome. */
  const updateAndCheck = (input: () => void) => {
    const before = new Map(world.setPoints);
    const summary = manager.summary();
    input();
    if (manager.summary() === summary) return;
    // The update judged the overdraws its readings showed.
    for (const c of world.connectors.values()) if (c.state?.online && c.sent) flagIfDue(c.overdraw);
    world.before = before;
    onUpdate?.(manager, world, clock.now(), label);
  };
  updateAndCheck(() => manager.start());
  try {
    for (const event of events) {
      step += 1;
      const now = clock.now();
      const config = world.config;
      switch (event.kind) {
        case 'advance':
          for (let s = 0; s < event.seconds; s++) updateAndCheck(() => clock.advance(1000));
          break;
        case 'meter': {
          const circuit = config.circuits[event.circuit % config.circuits.length];
          const meter = circuit?.meter;
          if (!circuit || !meter) break;
          const atMs = now - event.ageMs;
          const reading: Reading = {
            source: meter.source,
            timestamp: new Date(atMs).toISOString(),
            ...(event.currentA === undefined ? {} : { currentA: event.currentA as Reading['currentA'] }),
            ...(event.powerW === undefined ? {} : { powerW: event.powerW as Reading['powerW'] }),
            ...(event.totalPowerW === undefined ? {} : { totalPowerW: event.totalPowerW }),
          };
          // The world's reading of it.
          const data = world.meters.get(meter.source) ?? { phases: [undefined, undefined, undefined] };
          world.meters.set(meter.source, data);
          const currents = values(event.currentA);
          const powers = values(event.powerW);
          const phases = [0, 1, 2].map((p) => {
            const current = currents?.[p];
            if (current !== null && current !== undefined) return current;
            const power = powers?.[p];
            return power === null || power === undefined ? undefined : power / V;
          });
          if (
            phases.some((v) => v === undefined) &&
            event.totalPowerW !== undefined &&
            meter.noGenerationBelow
          ) {
            for (const p of [0, 1, 2]) phases[p] ??= Math.max(0, event.totalPowerW) / V;
          }
          phases.forEach((value, p) => {
            const last = data.phases[p];
            if (value !== undefined && !(last && atMs < last.atMs)) data.phases[p] = { value, atMs };
          });
          const total =
            event.totalPowerW ??
            (powers?.every((v) => v !== null)
              ? (powers as number[]).reduce((a, b) => a + b, 0)
              : undefined) ??
            (currents?.every((v) => v !== null)
              ? (currents as number[]).reduce((a, b) => a + b, 0) * V
              : undefined);
          if (total !== undefined && !(data.power && atMs < data.power.atMs))
            data.power = { value: total, atMs };
          updateAndCheck(() => manager.reading(reading));
          break;
        }
        case 'state': {
          const connector = config.connectors[event.connector % config.connectors.length] as ConnectorConfig;
          const key = `${connector.chargePointId}/1`;
          const c = connectorWorld(world, key);
          const previous = c.state;
          if (event.newTransaction || !previous?.transaction) transactionId += 1;
          const state: ConnectorState = {
            chargePointId: connector.chargePointId,
            connectorId: 1,
            status: event.status,
            online: event.online,
            energyWh: event.energyWh,
            ...(event.currentA === undefined
              ? {}
              : { currentA: event.currentA as ConnectorState['currentA'] }),
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
          // Back online: until its set-point is sent again, it may offer its offline current.
          if (state.online && !previous?.online && c.sent) c.resend = true;
          c.state = state;
          const currents = values(event.currentA);
          c.draw = currents ? { chargerA: currents, atMs: now } : undefined;
          sessionAt(world, key, now);
          if (c.draw) takeSample(world, key, c.draw, now);
          updateAndCheck(() => manager.connectorState(structuredClone(state)));
          break;
        }
        case 'chargerReading': {
          const connector = config.connectors[event.connector % config.connectors.length] as ConnectorConfig;
          const key = `${connector.chargePointId}/1`;
          const c = connectorWorld(world, key);
          const atMs = now - event.ageMs;
          const currents = values(event.currentA);
          if (currents && !(c.draw && atMs < c.draw.atMs)) {
            c.draw = { chargerA: currents, atMs };
            sessionAt(world, key, now);
            takeSample(world, key, c.draw, now);
          }
          updateAndCheck(() =>
            manager.reading({
              source: key,
              timestamp: new Date(atMs).toISOString(),
              currentA: event.currentA as Reading['currentA'],
            }),
          );
          break;
        }
        case 'mode': {
          const connector = config.connectors[event.connector % config.connectors.length] as ConnectorConfig;
          updateAndCheck(() =>
            manager.command({ type: 'mode', chargePointId: connector.chargePointId, mode: event.mode }),
          );
          break;
        }
        case 'siteLimit': {
          const circuit = config.circuits[event.circuit % config.circuits.length];
          if (!circuit) break;
          const entry = world.siteLimits.get(circuit.id) ?? {};
          entry.limitA = [asThree(event.limitA, 0), now + event.durationMs];
          world.siteLimits.set(circuit.id, entry);
          updateAndCheck(() =>
            manager.command({
              type: 'siteLimit',
              circuit: circuit.id,
              limitA: event.limitA,
              durationMs: event.durationMs,
            }),
          );
          break;
        }
        case 'badSiteLimit': {
          const circuit = config.circuits[event.circuit % config.circuits.length];
          assert.throws(
            () =>
              manager.command({ type: 'siteLimit', circuit: circuit?.id, limitA: event.limitA as number }),
            /siteLimit limitA/,
          );
          break;
        }
        case 'chargersLimit':
          for (const id of world.model.roots) {
            const entry = world.siteLimits.get(id) ?? {};
            entry.chargersW = [event.powerW, now + event.durationMs];
            world.siteLimits.set(id, entry);
          }
          updateAndCheck(() =>
            manager.command({
              type: 'siteLimit',
              chargersPowerLimitW: event.powerW,
              durationMs: event.durationMs,
            }),
          );
          break;
        case 'badPv':
          assert.throws(
            () => manager.command({ type: 'pv', residualPowerW: event.residualPowerW as number }),
            /pv residualPowerW/,
          );
          break;
        case 'replaceSite': {
          const next = replaced(config, event);
          world.config = next;
          world.model = modelOf(next);
          for (const id of [...world.siteLimits.keys()]) {
            if (!world.model.circuits.some((c) => c.id === id)) world.siteLimits.delete(id);
          }
          for (const key of [...world.connectors.keys()]) {
            if (!world.model.connectors.some((c) => c.key === key)) {
              world.connectors.delete(key);
              world.setPoints.delete(key);
            }
          }
          updateAndCheck(() => manager.command({ type: 'site', site: next }));
          break;
        }
      }
    }
  } finally {
    manager.stop();
  }
  return out;
}

/** Checks `property` for `numRuns` random sites, each with 5 to `maxEvents` random events. */
function forSitesAndEvents(
  { maxEvents, numRuns }: { maxEvents: number; numRuns: number },
  property: (site: SiteConfig, events: Event[]) => void,
): void {
  fc.assert(
    fc.property(siteArbitrary, fc.array(eventArbitrary, { minLength: 5, maxLength: maxEvents }), property),
    // A fixed seed, so CI is repeatable (as the other properties); PROPERTY_SEED (and PROPERTY_RUNS)
    // explores others, and with the PROPERTY_PATH a failure prints replays it.
    {
      numRuns: Number(process.env.PROPERTY_RUNS ?? numRuns),
      seed: Number(process.env.PROPERTY_SEED ?? 20261123),
      ...(process.env.PROPERTY_PATH ? { path: process.env.PROPERTY_PATH } : {}),
    },
  );
}

describe('LoadManager (properties)', function () {
  // CPU-bound: thousands of random sites; on a shared machine that takes longer than mocha's 10 s.
  this.timeout(Math.max(120_000, Number(process.env.PROPERTY_RUNS ?? 0) * 500));
  it('keeps the invariant after every update, counted from the raw inputs alone', () => {
    forSitesAndEvents({ maxEvents: 40, numRuns: 250 }, (site, events) => {
      run(site, events, (manager, world, now, label) => check(manager, world, now, label));
    });
  });

  it('gives the same set-points for the same inputs at the same times (deterministic)', () => {
    forSitesAndEvents({ maxEvents: 30, numRuns: 60 }, (site, events) => {
      assert.deepEqual(run(site, events, undefined), run(site, events, undefined));
    });
  });

  // Found by wider runs (PROPERTY_SEED, PROPERTY_RUNS) and settled: kept as found.
  for (const file of readdirSync(join(__dirname, 'load-manager-fixed')).sort()) {
    const found = JSON.parse(readFileSync(join(__dirname, 'load-manager-fixed', file), 'utf8')) as {
      seed: number;
      what: string;
      site: SiteConfig;
      events: Event[];
    };
    it(`seed ${found.seed}: ${found.what}`, () => {
      run(found.site, found.events, (manager, world, now, label) => check(manager, world, now, label));
    });
  }
});
