/**
 * The stateful controller around the pure allocator: it keeps what arrived (meter readings,
 * connector states, commands), the timers (ramps, update interval, minimum on/off times, PV
 * enable/disable delays, phase switching, staleness), the set-points in force, and decides what
 * goes out. All time comes from the injected Clock; the same inputs at the same times give the
 * same outputs.
 *
 * Every update: (1) count the other loads per circuit (fresh meter, or the fallback while it is
 * stale), (2) turn each connector into a demand (phases through the rotation and the car's
 * detected phases, floors for what it draws beyond our control, caps from fallbacks and
 * under-drawing), (3) decide PV enable/disable, (4) `allocate`, (5) decide phase switches,
 * (6) apply the update policy (decreases at once, increases ramped and at most once per interval,
 * small decreases held only while the invariant holds), (7) check the invariant on exactly what
 * is about to go out, (8) emit changed set-points and the summary.
 */
import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import type { ConnectorState, ConnectorStatus, PerPhase, Reading, SetPoint } from '../contracts';
import { type Logger, silentLogger } from '../log';
import {
  type AllocationProblem,
  allocate,
  type Bound,
  type ConnectorAllocation,
  type ConnectorDemand,
} from './allocate';
import {
  type ExpressionEvaluator as Evaluator,
  ExpressionEvaluator,
  type ExpressionInput,
} from './expressions';
import { checkAllocation } from './invariant';
import {
  CHARGING_MODES,
  type ChargingMode,
  type Circuit,
  type Connector,
  GRID_PHASES,
  type GridPhase,
  parseSite,
  type Site,
  type SiteConfig,
  type Triple,
  triple,
} from './site';
import type { CircuitSummary, ConnectorSummary, PvSummary, SiteSummary } from './summary';

/** A phase carries current while charging when it carries more than this (DESIGN: DLM phase detection). */
const ACTIVE_PHASE_A = 1;
const EPS = 1e-6;

export type DlmCommand =
  | { type: 'mode'; chargePointId: string; connectorId?: number; mode: ChargingMode | null }
  | { type: 'priority'; chargePointId: string; connectorId?: number; priority: number | null }
  | {
      type: 'siteLimit';
      /** Circuit id; default: every root. */
      circuit?: string;
      limitA?: number | Triple;
      powerLimitW?: number;
      /** Limit on the chargers' own power below the circuit (e.g. §14a), W. */
      chargersPowerLimitW?: number;
      durationMs?: number;
      /** ISO 8601 end; `durationMs` wins when both are given. */
      until?: string;
      reason?: string;
      /** Removes the site limit of the circuit (or of every root). */
      clear?: boolean;
    }
  | { type: 'pv'; residualPowerW?: number; batteryPrioritySocPercent?: number }
  | { type: 'site'; site: SiteConfig }
  | { type: 'summary' };

export interface LoadManagerOptions {
  site: Site | SiteConfig;
  clock?: Clock;
  logger?: Logger;
}

/** One limit a command set on a circuit, with its own end. */
interface TimedLimit<T> {
  value: T;
  untilMs?: number;
  reason: string;
}

/** The site limits in force on a circuit (each set and expiring on its own). */
interface SiteLimit {
  limitA?: TimedLimit<Triple>;
  powerLimitW?: TimedLimit<number>;
  chargersPowerLimitW?: TimedLimit<number>;
}

interface MeterRuntime {
  currentA?: Triple;
  powerW?: number;
  measuredAtMs?: number;
  /** Other loads at the last fresh reading (used by the per-connector fallback). */
  lastFreshOtherA?: Triple;
  wasStale?: boolean;
}

interface SessionRuntime {
  key: string;
  /** The transaction's start (firstStarted shedding). */
  startedAtMs?: number;
  /** Charger phases (0..2) seen carrying current, waiting for confirmation. */
  candidatePhases?: readonly number[];
  candidateSinceMs?: number;
  /** Charger phases the car uses, once seen long enough. */
  confirmedPhases?: readonly number[];
  onePhase: boolean;
  switches: number;
  switchedAtMs?: number;
  previousChargerPhases?: readonly number[];
  downSinceMs?: number;
  upSinceMs?: number;
  underDrawSinceMs?: number;
  underDrawCapA?: number;
  overdrawSinceMs?: number;
  overdrawing: boolean;
  /** Pauses by the load manager in a row (each doubles the minimum off time). */
  pauses: number;
  pvEnabled: boolean;
  pvEnableSinceMs?: number;
  pvDisableSinceMs?: number;
}

interface ConnectorRuntime {
  state?: ConnectorState;
  /** Charger phases L1..L3 as measured by the charger. */
  draw?: { chargerA: Triple; atMs: number };
  sent?: { limitA: number; phases: 1 | 2 | 3; reason: string; atMs: number };
  lastChangeAtMs?: number;
  chargingSinceMs?: number;
  /** Paused by the load manager: stays paused until then (minimum off time). */
  offUntilMs?: number;
  wantingSinceMs?: number;
  session: SessionRuntime;
  modeOverride?: ChargingMode;
  priorityOverride?: number;
  exprMode?: ChargingMode;
  exprPriority?: number;
  exprErrors: Map<string, string>;
  wasOnline: boolean;
  /** Needs a re-send (the charger came back online). */
  resend: boolean;
}

/** What one update derived for a connector (kept for the summary and the reasons). */
interface ConnectorView {
  online: boolean;
  known: boolean;
  wantsByStatus: boolean;
  mode: ChargingMode;
  priority: number;
  chargerPhases: readonly number[];
  gridPhases: GridPhase[];
  unbalancePhases: readonly GridPhase[];
  drawGridA?: Triple;
  floorA: Triple;
  capA: number;
  capReason?: string;
  notWanting?: string;
  pausedByManager: boolean;
  phasesOut: 1 | 2 | 3;
  keepOn: boolean;
  keepOff: boolean;
  countsForPv: boolean;
}

interface CircuitView {
  limitA: Triple;
  otherA: Triple;
  otherW: number;
  stale: boolean;
  fallback?: string;
  connectorCapA?: number;
  overloaded: boolean;
}

export interface LoadManagerEvents {
  setPoint: [SetPoint];
  summary: [SiteSummary];
}

export class LoadManager extends EventEmitter<LoadManagerEvents> {
  private siteModel: Site;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly evaluator: Evaluator;
  private meters = new Map<string, MeterRuntime>();
  private connectors = new Map<string, ConnectorRuntime>();
  private siteLimits = new Map<number, SiteLimit>();
  private battery: { powerW?: number; socPercent?: number; atMs: number } | undefined;
  private pvOverrides: { residualPowerW?: number; batteryPrioritySocPercent?: number } = {};
  private readonly unknownChargers = new Set<string>();
  private readonly pendingEvaluations = new Set<Promise<void>>();
  private timer: TimerHandle | undefined;
  private running = false;
  private updating = false;
  private batching = 0;
  private lastUpdateAtMs: number | undefined;
  private order: number[] = [];
  private updateAgain = false;
  private lastSummaryAtMs: number | undefined;
  private lastEvaluationAtMs: number | undefined;
  private lastSummary: SiteSummary | undefined;
  private views: ConnectorView[] = [];
  private circuitViews: CircuitView[] = [];
  private lastProblem: AllocationProblem | undefined;
  private pvState: PvSummary | undefined;
  private internalProblems: string[] = [];

  constructor(options: LoadManagerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.evaluator = new ExpressionEvaluator(this.logger);
    this.siteModel = isSite(options.site) ? options.site : parseSite(options.site);
    this.adoptSite(this.siteModel);
  }

  get site(): Site {
    return this.siteModel;
  }

  /** Starts the periodic update (staleness, timers) and runs the first update. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.update();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every pending expression evaluation has been applied. */
  async settled(): Promise<void> {
    while (this.pendingEvaluations.size > 0) await Promise.all([...this.pendingEvaluations]);
  }

  /** The set-points in force, one per connector. */
  setPoints(): SetPoint[] {
    return this.siteModel.connectors.flatMap((connector) => {
      const sent = this.runtime(connector).sent;
      return sent
        ? [
            {
              chargePointId: connector.chargePointId,
              connectorId: connector.connectorId,
              limitA: sent.limitA,
              phases: sent.phases,
              reason: sent.reason,
            },
          ]
        : [];
    });
  }

  /** The latest summary (computed by the last update). */
  summary(): SiteSummary {
    if (!this.lastProblem) this.update();
    this.lastSummary ??= this.buildSummary();
    return this.lastSummary;
  }

  /** A meter reading: a circuit's meter, a charger's own meter (`<chargePointId>/<connectorId>`), the battery. */
  reading(reading: Reading): void {
    const now = this.clock.now();
    const stampMs = Date.parse(reading.timestamp);
    const measuredAtMs = Number.isFinite(stampMs) ? Math.min(stampMs, now) : now;
    let used = false;
    for (const circuit of this.siteModel.circuits) {
      if (circuit.meter?.source !== reading.source) continue;
      const meter = this.meters.get(circuit.id) ?? {};
      if (meter.measuredAtMs !== undefined && measuredAtMs < meter.measuredAtMs) continue;
      const currentA = phaseCurrents(reading, this.siteModel.voltageV);
      if (!currentA) continue;
      meter.currentA = currentA;
      meter.powerW = totalPower(reading, currentA, this.siteModel.voltageV);
      meter.measuredAtMs = measuredAtMs;
      this.meters.set(circuit.id, meter);
      used = true;
    }
    const connector = this.siteModel.connectors.find((c) => c.key === reading.source);
    if (connector && reading.currentA) {
      const runtime = this.runtime(connector);
      if (!runtime.draw || measuredAtMs >= runtime.draw.atMs) {
        runtime.draw = { chargerA: nullsToZero(reading.currentA), atMs: measuredAtMs };
        used = true;
      }
    }
    if (this.siteModel.pv.batterySource === reading.source) {
      const powerW = reading.totalPowerW ?? sumKnown(reading.powerW);
      this.battery = { powerW, socPercent: reading.socPercent, atMs: measuredAtMs };
      used = true;
    }
    if (used) this.update();
  }

  /** A connector state from the central system (status, transaction, measured currents, online). */
  connectorState(state: ConnectorState): void {
    const key = `${state.chargePointId}/${state.connectorId}`;
    const connector = this.siteModel.connectors.find((c) => c.key === key);
    if (!connector) {
      if (state.connectorId !== 0 && !this.unknownChargers.has(key)) {
        this.unknownChargers.add(key);
        this.logger.warn(
          `connector ${key} is not in the site model: its load is not managed (only a meter that includes it sees it)`,
        );
      }
      return;
    }
    const runtime = this.runtime(connector);
    const now = this.clock.now();
    runtime.state = structuredClone(state);
    // A connector state is the whole picture: without currents, no draw is known (a reading from
    // the charger's meter brings one again).
    if (state.currentA) runtime.draw = { chargerA: nullsToZero(state.currentA), atMs: now };
    else runtime.draw = undefined;
    this.evaluateExpressions(connector);
    this.update();
  }

  /** A command from the flow; returns what it did (for the node's log). */
  command(command: DlmCommand): string {
    const now = this.clock.now();
    let result: string;
    switch (command.type) {
      case 'mode':
      case 'priority': {
        const targets = this.siteModel.connectors.filter(
          (c) =>
            (command.chargePointId === '*' || c.chargePointId === command.chargePointId) &&
            (command.connectorId === undefined || c.connectorId === command.connectorId),
        );
        if (targets.length === 0) {
          throw new Error(
            `no connector ${command.chargePointId}/${command.connectorId ?? '*'} in the site model`,
          );
        }
        for (const connector of targets) {
          const runtime = this.runtime(connector);
          if (command.type === 'mode') {
            if (command.mode !== null && !(CHARGING_MODES as readonly string[]).includes(command.mode)) {
              throw new Error(
                `mode ${JSON.stringify(command.mode)} is not one of ${CHARGING_MODES.join(', ')}`,
              );
            }
            if (command.mode === null) delete runtime.modeOverride;
            else runtime.modeOverride = command.mode;
          } else {
            if (command.priority !== null && !Number.isFinite(command.priority)) {
              throw new Error(`priority ${JSON.stringify(command.priority)} is not a number`);
            }
            if (command.priority === null) delete runtime.priorityOverride;
            else runtime.priorityOverride = command.priority;
          }
        }
        const value = command.type === 'mode' ? command.mode : command.priority;
        result = `${command.type} of ${targets.map((c) => c.key).join(', ')} ${value === null ? 'back to the configured one' : `set to ${value}`}`;
        break;
      }
      case 'siteLimit':
        result = this.applySiteLimit(command, now);
        break;
      case 'pv':
        if (command.residualPowerW !== undefined) this.pvOverrides.residualPowerW = command.residualPowerW;
        if (command.batteryPrioritySocPercent !== undefined) {
          this.pvOverrides.batteryPrioritySocPercent = command.batteryPrioritySocPercent;
        }
        result = 'PV settings changed';
        break;
      case 'site':
        this.replaceSite(command.site);
        result = `site replaced: ${this.siteModel.circuits.length} circuits, ${this.siteModel.connectors.length} connectors`;
        break;
      case 'summary':
        this.update();
        this.emitSummary();
        return 'summary sent';
    }
    this.update();
    return result;
  }

  /** Replaces the site model; connectors and meters that keep their ids keep their state. */
  replaceSite(config: Site | SiteConfig): void {
    const site = isSite(config) ? config : parseSite(config);
    const oldConnectors = this.connectors;
    const oldMeters = this.meters;
    this.siteModel = site;
    this.connectors = new Map();
    this.meters = new Map();
    this.siteLimits = new Map();
    this.evaluator.reset();
    this.adoptSite(site);
    for (const connector of site.connectors) {
      const old = oldConnectors.get(connector.key);
      if (old) this.connectors.set(connector.key, old);
    }
    for (const circuit of site.circuits) {
      const old = oldMeters.get(circuit.id);
      if (old) this.meters.set(circuit.id, old);
    }
  }

  /** Re-evaluates now (also called by the periodic timer). */
  tick(): void {
    this.update();
  }

  private adoptSite(site: Site): void {
    for (const connector of site.connectors) this.runtime(connector);
    for (const connector of site.connectors) this.evaluateExpressions(connector);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      // An input-driven update a moment ago already did what the tick would do.
      const sinceMs = this.clock.now() - (this.lastUpdateAtMs ?? Number.NEGATIVE_INFINITY);
      if (sinceMs >= this.siteModel.control.tickMs / 2) this.update();
      this.schedule();
    }, this.siteModel.control.tickMs);
  }

  private runtime(connector: Connector): ConnectorRuntime {
    let runtime = this.connectors.get(connector.key);
    if (!runtime) {
      runtime = {
        session: newSession('none'),
        exprErrors: new Map(),
        wasOnline: false,
        resend: false,
      };
      this.connectors.set(connector.key, runtime);
    }
    return runtime;
  }

  private applySiteLimit(command: Extract<DlmCommand, { type: 'siteLimit' }>, now: number): string {
    const circuits = command.circuit
      ? this.siteModel.circuits.filter((c) => c.id === command.circuit)
      : this.siteModel.rootIndexes.flatMap((i) => this.siteModel.circuits[i] ?? []);
    if (circuits.length === 0) throw new Error(`no circuit "${command.circuit}" in the site model`);
    const names = circuits.map((c) => c.id).join(', ');
    if (command.clear) {
      for (const circuit of circuits) this.siteLimits.delete(circuit.index);
      return `site limit of ${names} cleared`;
    }
    const limitA =
      command.limitA === undefined
        ? undefined
        : Array.isArray(command.limitA)
          ? ([...command.limitA] as Triple)
          : triple(command.limitA);
    for (const value of [
      ...(limitA ?? []),
      command.powerLimitW ?? 0,
      command.chargersPowerLimitW ?? 0,
      command.durationMs ?? 0,
    ]) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`site limit: ${value} is not a number ≥ 0`);
    }
    if (
      limitA === undefined &&
      command.powerLimitW === undefined &&
      command.chargersPowerLimitW === undefined
    ) {
      throw new Error('site limit: give limitA, powerLimitW or chargersPowerLimitW (or clear: true)');
    }
    let untilMs: number | undefined;
    if (command.durationMs !== undefined) untilMs = now + command.durationMs;
    else if (command.until !== undefined) {
      untilMs = Date.parse(command.until);
      if (!Number.isFinite(untilMs))
        throw new Error(`site limit: until "${command.until}" is not a date-time`);
    }
    // Each kind of limit replaces the same kind only: a §14a limit on the chargers' power and a
    // tariff's current limit live side by side, each until its own end.
    const reason = command.reason ?? 'site limit';
    const timed = <T>(value: T): TimedLimit<T> =>
      untilMs === undefined ? { value, reason } : { value, untilMs, reason };
    for (const circuit of circuits) {
      const entry = this.siteLimits.get(circuit.index) ?? {};
      if (limitA) entry.limitA = timed(limitA);
      if (command.powerLimitW !== undefined) entry.powerLimitW = timed(command.powerLimitW);
      if (command.chargersPowerLimitW !== undefined)
        entry.chargersPowerLimitW = timed(command.chargersPowerLimitW);
      this.siteLimits.set(circuit.index, entry);
    }
    return `site limit on ${names}${untilMs === undefined ? '' : ` until ${new Date(untilMs).toISOString()}`}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  private evaluateExpressions(connector: Connector): void {
    const runtime = this.runtime(connector);
    const mode = connector.mode ?? this.siteModel.defaultMode;
    const jobs: Promise<void>[] = [];
    const input = () => this.expressionInput(connector, runtime);
    if (typeof mode === 'object') {
      jobs.push(
        this.evaluator
          .evaluate(
            mode.expression,
            input(),
            { connector: connector.key, field: 'mode' },
            (value) =>
              (CHARGING_MODES as readonly unknown[]).includes(value) ? (value as ChargingMode) : undefined,
            'fast' as ChargingMode,
          )
          .then((outcome) => {
            runtime.exprMode = outcome.value;
            setOrDelete(runtime.exprErrors, 'mode', outcome.error);
          }),
      );
    }
    if (typeof connector.priority === 'object') {
      jobs.push(
        this.evaluator
          .evaluate(
            connector.priority.expression,
            input(),
            { connector: connector.key, field: 'priority' },
            (value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined),
            runtime.state?.transaction?.priority ?? 0,
          )
          .then((outcome) => {
            runtime.exprPriority = outcome.value;
            setOrDelete(runtime.exprErrors, 'priority', outcome.error);
          }),
      );
    }
    if (jobs.length === 0) return;
    const job: Promise<void> = Promise.all(jobs).then(
      () => {
        this.pendingEvaluations.delete(job);
        if (!this.updating) this.update();
      },
      (err: Error) => {
        this.pendingEvaluations.delete(job);
        this.logger.error(`evaluating the expressions of ${connector.key} failed: ${err.message}`);
      },
    );
    this.pendingEvaluations.add(job);
  }

  private expressionInput(connector: Connector, runtime: ConnectorRuntime): ExpressionInput {
    const state = runtime.state;
    const tx = state?.transaction;
    return {
      connector: state ? structuredClone(state) : {},
      config: {
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        name: connector.name,
        circuit: this.siteModel.circuits[connector.circuitIndex]?.id ?? '',
        minA: connector.minA,
        maxA: connector.maxA,
        phases: connector.phases,
      },
      chargePointId: connector.chargePointId,
      connectorId: connector.connectorId,
      status: state?.status ?? null,
      idTag: tx?.idTag ?? null,
      tagPriority: tx?.priority ?? null,
      energyWh: sessionEnergyWh(state),
      startedAt: tx?.startedAt ?? null,
      socPercent: state?.socPercent ?? null,
      now: new Date(this.clock.now()).toISOString(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The update

  /**
   * Runs `inputs` (several readings and states that arrived together) and updates once after
   * them instead of once per input.
   */
  batch(inputs: () => void): void {
    this.batching += 1;
    try {
      inputs();
    } finally {
      this.batching -= 1;
    }
    if (this.batching === 0 && this.batchPending) {
      this.batchPending = false;
      this.update();
    }
  }

  private batchPending = false;

  private update(): void {
    if (this.batching > 0) {
      this.batchPending = true;
      return;
    }
    // A listener of our own events may feed an input back (a simulator, a flow): run again after.
    if (this.updating) {
      this.updateAgain = true;
      return;
    }
    this.updating = true;
    try {
      for (let round = 0; round < 3; round++) {
        this.updateAgain = false;
        this.updateOnce();
        if (!this.updateAgain) break;
      }
    } finally {
      this.updating = false;
    }
  }

  private updateOnce(): void {
    const now = this.clock.now();
    this.lastUpdateAtMs = now;
    const site = this.siteModel;
    const { control } = site;
    for (const [index, limit] of this.siteLimits) {
      for (const key of ['limitA', 'powerLimitW', 'chargersPowerLimitW'] as const) {
        const until = limit[key]?.untilMs;
        if (until !== undefined && until <= now) delete limit[key];
      }
      if (!limit.limitA && !limit.powerLimitW && !limit.chargersPowerLimitW) this.siteLimits.delete(index);
    }
    if (
      this.lastEvaluationAtMs === undefined ||
      now - this.lastEvaluationAtMs >= control.minUpdateIntervalMs
    ) {
      // Expressions may depend on time ($now()): re-evaluate now and then.
      if (this.lastEvaluationAtMs !== undefined) for (const c of site.connectors) this.evaluateExpressions(c);
      this.lastEvaluationAtMs = now;
    }

    this.views = site.connectors.map((connector) => this.viewConnector(connector, now));
    this.circuitViews = site.circuits.map((circuit) => this.viewCircuit(circuit, now));
    this.applyFallbackCaps();
    this.order = this.keepOrder();
    const pv = this.decidePv(now);

    let problem = this.buildProblem(now, pv.budgetW);
    let allocation = allocate(problem);
    if (this.decidePhaseSwitches(now, problem, allocation, pv.budgetW)) {
      this.views = site.connectors.map((connector) => this.viewConnector(connector, now));
      this.applyFallbackCaps();
      this.order = this.keepOrder();
      problem = this.buildProblem(now, pv.budgetW);
      allocation = allocate(problem);
    }
    this.lastProblem = problem;
    const finals = this.applyPolicy(now, problem, allocation.connectors);
    const changed = this.emitChanges(now, finals, allocation.connectors);
    let staleChanged = false;
    site.circuits.forEach((circuit, c) => {
      if (!circuit.meter) return;
      const meter = this.meters.get(circuit.id);
      const stale = this.circuitViews[c]?.stale ?? false;
      if (meter?.wasStale !== stale) staleChanged = true;
      if (meter) meter.wasStale = stale;
      else this.meters.set(circuit.id, { wasStale: stale });
    });
    // Built when someone looks (an emit below, or summary()): most updates change nothing visible.
    this.lastSummary = undefined;
    if (
      changed ||
      staleChanged ||
      this.lastSummaryAtMs === undefined ||
      now - this.lastSummaryAtMs >= control.summaryIntervalMs
    ) {
      this.emitSummary();
    }
  }

  private emitSummary(): void {
    this.lastSummaryAtMs = this.clock.now();
    if (this.listenerCount('summary') === 0) return;
    this.lastSummary ??= this.buildSummary();
    this.emit('summary', this.lastSummary);
  }

  private effectiveMode(connector: Connector, runtime: ConnectorRuntime): ChargingMode {
    if (runtime.modeOverride) return runtime.modeOverride;
    const configured = connector.mode ?? this.siteModel.defaultMode;
    if (typeof configured === 'string') return configured;
    return runtime.exprMode ?? 'fast';
  }

  private effectivePriority(connector: Connector, runtime: ConnectorRuntime): number {
    if (runtime.priorityOverride !== undefined) return runtime.priorityOverride;
    if (typeof connector.priority === 'object')
      return runtime.exprPriority ?? runtime.state?.transaction?.priority ?? 0;
    const tagPriority = runtime.state?.transaction?.priority;
    const configured = connector.priority ?? 0;
    return tagPriority === undefined ? configured : Math.max(configured, tagPriority);
  }

  private viewConnector(connector: Connector, now: number): ConnectorView {
    const { control } = this.siteModel;
    const runtime = this.runtime(connector);
    const state = runtime.state;
    const known = state !== undefined;
    const online = state?.online === true;
    if (online && !runtime.wasOnline) runtime.resend = runtime.sent !== undefined;
    runtime.wasOnline = online;
    const status = state?.status;
    const wantsByStatus = online && carWantsCurrent(status, state?.transaction !== undefined);
    if (wantsByStatus) runtime.wantingSinceMs ??= now;
    else runtime.wantingSinceMs = undefined;

    const sessionKey = state?.transaction
      ? `tx:${state.transaction.transactionId}`
      : wantsByStatus
        ? `plug:${runtime.wantingSinceMs}`
        : 'none';
    // A new car (transaction, or plug-in without one): phase detection, phase switches and the
    // under-draw cap start over.
    if (runtime.session.key !== sessionKey) {
      runtime.session = newSession(sessionKey);
      // A pause of the previous car does not hold back the next one.
      runtime.offUntilMs = undefined;
      const startedAtMs = state?.transaction ? Date.parse(state.transaction.startedAt) : Number.NaN;
      if (Number.isFinite(startedAtMs)) runtime.session.startedAtMs = startedAtMs;
    }
    const session = runtime.session;
    const settling =
      session.switchedAtMs !== undefined &&
      now - session.switchedAtMs < this.siteModel.pv.phaseSwitchSettleMs;

    const drawFresh =
      runtime.draw && now - runtime.draw.atMs <= control.connectorDrawStaleAfterMs ? runtime.draw : undefined;
    const wired = connector.phases === 1 ? ONE_PHASE : THREE_PHASES;

    // Phase detection: a car counts on fewer phases only once that was seen for phaseDetectionMs;
    // any phase seen carrying current is added at once (the safe side).
    if (status === 'Charging' && drawFresh && !settling && !session.onePhase) {
      const active = wired.filter((i) => (drawFresh.chargerA[i] ?? 0) > ACTIVE_PHASE_A);
      if (active.length > 0) {
        if (session.confirmedPhases) {
          const extra = active.filter((i) => !session.confirmedPhases?.includes(i));
          if (extra.length > 0) session.confirmedPhases = [...session.confirmedPhases, ...extra].sort();
        } else if (session.candidatePhases && sameList(session.candidatePhases, active)) {
          if (now - (session.candidateSinceMs ?? now) >= control.phaseDetectionMs) {
            session.confirmedPhases = active;
          }
        } else {
          session.candidatePhases = active;
          session.candidateSinceMs = now;
        }
      }
    }
    let chargerPhases = session.onePhase ? ONE_PHASE : (session.confirmedPhases ?? wired);
    if (settling && session.previousChargerPhases) {
      chargerPhases = union(chargerPhases, session.previousChargerPhases);
    }
    const gridPhases = gridPhasesFor(connector, chargerPhases);
    // A car whose phases are not measured yet counts on all wired phases, for the capacity (the
    // safe side) and, by default, for the unbalance too: the unbalance rule is about sustained
    // load, and the detection takes only phaseDetectionMs, during which new cars charge at their
    // minimum. `strictUnbalance` counts such a car on its L1 for the unbalance (the worst case
    // there), which holds cars back until their phases are known.
    const unbalancePhases =
      control.strictUnbalance && connector.phases === 3 && !session.onePhase && !session.confirmedPhases
        ? [connector.gridPhaseOf[0]]
        : gridPhases;
    const drawGridA = drawFresh ? toGrid(connector, drawFresh.chargerA) : undefined;

    // Floors: what it may draw whatever we say.
    let floorA = triple(0);
    const sentLimit = runtime.sent?.limitA ?? 0;
    if (!known || !online) {
      for (const i of wired) floorA[connector.gridPhaseOf[i] ?? 0] = connector.offlineA;
      session.overdrawSinceMs = undefined;
      session.overdrawing = false;
    } else if (drawGridA && runtime.sent) {
      const maxDraw = maxOf(drawFresh?.chargerA, wired);
      if (maxDraw > sentLimit + control.overdrawToleranceA) {
        session.overdrawSinceMs ??= now;
        if (now - session.overdrawSinceMs >= control.overdrawGraceMs) {
          if (!session.overdrawing) {
            this.logger.warn(
              `charger ${connector.key} draws ${maxDraw.toFixed(1)} A, above its set-point ${sentLimit} A: counted at what it draws, the others are reduced`,
            );
          }
          session.overdrawing = true;
        }
      } else {
        session.overdrawSinceMs = undefined;
        session.overdrawing = false;
      }
      if (session.overdrawing) floorA = [...drawGridA];
    }

    // Under-drawing: a car well below its set-point for a while gets its draw plus a margin.
    let capA = connector.maxA;
    let capReason: string | undefined;
    // A car in SuspendedEV draws nothing even when no meter value says so.
    const drawn =
      status === 'SuspendedEV'
        ? maxOf(drawFresh?.chargerA, chargerPhases)
        : status === 'Charging' && drawFresh
          ? maxOf(drawFresh.chargerA, chargerPhases)
          : undefined;
    if (drawn !== undefined && sentLimit > 0 && !settling && !session.overdrawing) {
      const cap = session.underDrawCapA;
      if (cap !== undefined && drawn >= cap - control.underDrawHeadroomA / 2) {
        // It takes what it gets again: it may be raised (through the ramp).
        session.underDrawCapA = undefined;
        session.underDrawSinceMs = undefined;
      } else if (drawn < sentLimit - control.underDrawMarginA) {
        const since = Math.max(session.underDrawSinceMs ?? now, runtime.lastChangeAtMs ?? 0);
        session.underDrawSinceMs = since;
        if (now - since >= control.underDrawAfterMs) {
          session.underDrawCapA = Math.max(
            connector.minA,
            ceilStep(drawn + control.underDrawHeadroomA, control.stepA),
          );
        }
      } else {
        session.underDrawSinceMs = undefined;
      }
    } else if (status !== 'Charging' && status !== 'SuspendedEV') {
      session.underDrawCapA = undefined;
      session.underDrawSinceMs = undefined;
    }
    if (session.underDrawCapA !== undefined && session.underDrawCapA < capA) {
      capA = session.underDrawCapA;
      capReason = `car draws ${(drawn ?? 0).toFixed(1)} A`;
    }

    const mode = this.effectiveMode(connector, runtime);
    const priority = this.effectivePriority(connector, runtime);
    const keepOff = runtime.offUntilMs !== undefined && sentLimit === 0 && now < runtime.offUntilMs;
    const keepOn =
      sentLimit > 0 &&
      runtime.chargingSinceMs !== undefined &&
      now - runtime.chargingSinceMs < control.minOnMs;
    const phasesOut: 1 | 2 | 3 = connector.phases === 1 || session.onePhase ? 1 : 3;
    return {
      online,
      known,
      wantsByStatus,
      mode,
      priority,
      chargerPhases,
      gridPhases,
      unbalancePhases,
      drawGridA,
      floorA,
      capA,
      capReason,
      pausedByManager: false,
      phasesOut,
      keepOn,
      keepOff,
      countsForPv: (mode === 'pv' || mode === 'minpv') && status !== 'SuspendedEV',
    };
  }

  private viewCircuit(circuit: Circuit, now: number): CircuitView {
    const site = this.siteModel;
    const override = this.siteLimits.get(circuit.index)?.limitA?.value;
    const limitA: Triple = override
      ? (circuit.limitA.map((l, p) => Math.min(l, override[p as GridPhase])) as Triple)
      : [...circuit.limitA];
    const meter = this.meters.get(circuit.id);
    if (!circuit.meter) return { limitA, otherA: triple(0), otherW: 0, stale: false, overloaded: false };
    const fresh =
      meter?.measuredAtMs !== undefined &&
      meter.currentA &&
      now - meter.measuredAtMs <= circuit.meter.staleAfterMs;
    if (fresh && meter?.currentA) {
      let otherA: Triple = [...meter.currentA];
      let otherW = meter.powerW ?? sum(meter.currentA) * site.voltageV;
      if (circuit.meter.location === 'includesChargers') {
        // Subtract what the chargers below draw, but never more than they are allowed to draw:
        // a charger's measurement may lag behind a decrease, and over-subtracting is the unsafe side.
        const subtract = triple(0);
        for (const k of circuit.connectorIndexes) {
          const view = this.views[k];
          const connector = site.connectors[k];
          if (!view?.drawGridA || !connector) continue;
          const sentLimit = this.runtime(connector).sent?.limitA ?? 0;
          for (const p of GRID_PHASES) {
            const allowed = Math.max(view.gridPhases.includes(p) ? sentLimit : 0, view.floorA[p]);
            subtract[p] += Math.max(0, Math.min(view.drawGridA[p], allowed));
          }
        }
        otherA = otherA.map((value, p) => value - subtract[p as GridPhase]) as Triple;
        otherW -= sum(subtract) * site.voltageV;
      }
      otherA = otherA.map((value) => Math.max(0, value)) as Triple;
      otherW = Math.max(0, otherW);
      meter.lastFreshOtherA = otherA;
      return { limitA, otherA, otherW, stale: false, overloaded: false };
    }
    const ageS =
      meter?.measuredAtMs === undefined ? undefined : Math.round((now - meter.measuredAtMs) / 1000);
    const why = `meter "${circuit.meter.source}" of ${circuit.name} ${ageS === undefined ? 'has sent nothing' : `is stale (${ageS} s)`}`;
    const { otherLoadA, connectorLimitA } = circuit.fallback;
    const otherA: Triple = otherLoadA ? [...otherLoadA] : [...(meter?.lastFreshOtherA ?? triple(0))];
    const parts = [
      ...(otherLoadA ? [`other loads taken as ${otherLoadA.join('/')} A`] : []),
      ...(connectorLimitA !== undefined ? [`${connectorLimitA} A per connector`] : []),
    ];
    return {
      limitA,
      otherA,
      otherW: sum(otherA) * site.voltageV,
      stale: true,
      fallback: `fallback: ${why}, ${parts.join(', ')}`,
      connectorCapA: connectorLimitA,
      overloaded: false,
    };
  }

  /** A stale circuit's per-connector fallback caps every connector below it. */
  private applyFallbackCaps(): void {
    this.siteModel.connectors.forEach((connector, k) => {
      const view = this.views[k];
      if (!view) return;
      for (const c of connector.path) {
        const circuitView = this.circuitViews[c];
        if (circuitView?.connectorCapA !== undefined && circuitView.connectorCapA < view.capA) {
          view.capA = circuitView.connectorCapA;
          view.capReason = circuitView.fallback ?? 'fallback';
        }
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // PV surplus

  private decidePv(now: number): { budgetW: number } {
    const site = this.siteModel;
    const { pv } = site;
    const residualPowerW = this.pvOverrides.residualPowerW ?? pv.residualPowerW;
    const prioritySoc = this.pvOverrides.batteryPrioritySocPercent ?? pv.batteryPrioritySocPercent;
    const usesPv = this.views.some((view) => view.mode === 'pv' || view.mode === 'minpv');
    if (!usesPv && pv.gridCircuitIndex === undefined) {
      this.pvState = undefined;
      return { budgetW: Number.POSITIVE_INFINITY };
    }
    let gridPowerW: number | undefined;
    if (pv.gridCircuitIndex !== undefined) {
      const circuit = site.circuits[pv.gridCircuitIndex];
      const meter = circuit ? this.meters.get(circuit.id) : undefined;
      const fresh =
        circuit?.meter &&
        meter?.measuredAtMs !== undefined &&
        now - meter.measuredAtMs <= circuit.meter.staleAfterMs;
      if (fresh) gridPowerW = meter?.powerW;
    }
    const batteryFresh =
      this.battery &&
      now - this.battery.atMs <= (site.circuits[pv.gridCircuitIndex ?? -1]?.meter?.staleAfterMs ?? 30_000);
    const batteryW = batteryFresh ? this.battery?.powerW : undefined;
    const batterySoc = batteryFresh ? this.battery?.socPercent : undefined;
    let chargersPowerW = 0;
    this.views.forEach((view) => {
      if ((view.mode === 'pv' || view.mode === 'minpv') && view.drawGridA) {
        chargersPowerW += sum(view.drawGridA) * site.voltageV;
      }
    });
    let surplusW: number | undefined;
    if (gridPowerW !== undefined) {
      surplusW = -gridPowerW + chargersPowerW - residualPowerW;
      if (batteryW !== undefined) {
        // Discharging is never surplus; charging is, unless the battery has priority below its SoC,
        // in which case also what it could take on top is kept back for it.
        const batteryFirst = batterySoc !== undefined && batterySoc < prioritySoc;
        if (batteryW < 0) surplusW += batteryW;
        else if (!batteryFirst) surplusW += batteryW;
        if (batteryFirst) surplusW -= Math.max(0, pv.batteryMaxChargeW - Math.max(0, batteryW));
      }
    }
    this.pvState = {
      gridPowerW,
      batteryPowerW: batteryW,
      batterySocPercent: batterySoc,
      surplusW: surplusW === undefined ? undefined : Math.round(surplusW),
      chargersPowerW: Math.round(chargersPowerW),
    };

    // Enable and disable pv-mode connectors one at a time, in keep order, so that two cars do not
    // both start on a surplus that fits one (and then both stop).
    const order = this.order;
    const minPowerW = (k: number, phases: number) => (site.connectors[k]?.minA ?? 6) * phases * site.voltageV;
    const phasesIfStarted = (k: number) => {
      const view = this.views[k];
      const connector = site.connectors[k];
      if (!view || !connector) return 3;
      return view.phasesOut === 1 ? 1 : view.gridPhases.length;
    };
    const available = surplusW ?? 0;
    // What the charging pv/minpv cars need at their minimum (a car in SuspendedEV needs nothing).
    let committedW = 0;
    for (const k of order) {
      const view = this.views[k];
      const runtime = this.runtimeAt(k);
      if (!view || !runtime || !view.wantsByStatus || !view.countsForPv) continue;
      if (view.mode === 'minpv' || (view.mode === 'pv' && runtime.session.pvEnabled)) {
        committedW += minPowerW(k, phasesIfStarted(k));
      }
    }
    let left = available - committedW;
    for (const k of order) {
      const view = this.views[k];
      const runtime = this.runtimeAt(k);
      const connector = site.connectors[k];
      if (!view || !runtime || !connector || view.mode !== 'pv') continue;
      const session = runtime.session;
      if (!view.wantsByStatus) {
        session.pvEnabled = false;
        session.pvEnableSinceMs = undefined;
        session.pvDisableSinceMs = undefined;
        continue;
      }
      if (session.pvEnabled) continue;
      const switchable = connector.canSwitchPhases && this.canSwitch(connector, runtime);
      const need = minPowerW(k, switchable ? 1 : phasesIfStarted(k));
      if (surplusW !== undefined && left >= need) {
        session.pvEnableSinceMs ??= now;
        left -= need;
        if (now - session.pvEnableSinceMs >= pv.enableDelayMs) {
          session.pvEnabled = true;
          session.pvEnableSinceMs = undefined;
          session.pvDisableSinceMs = undefined;
          if (switchable && !session.onePhase && left + need < minPowerW(k, phasesIfStarted(k))) {
            // Not charging yet: switching now interrupts nothing.
            this.switchPhases(connector, runtime, true, now);
          }
        }
      } else {
        session.pvEnableSinceMs = undefined;
      }
    }
    let deficit = committedW - available;
    for (const k of [...order].reverse()) {
      const view = this.views[k];
      const runtime = this.runtimeAt(k);
      if (!view || !runtime || view.mode !== 'pv' || !runtime.session.pvEnabled) continue;
      const session = runtime.session;
      if (deficit > EPS) {
        session.pvDisableSinceMs ??= now;
        deficit -= minPowerW(k, phasesIfStarted(k));
        if (now - session.pvDisableSinceMs >= pv.disableDelayMs) {
          session.pvEnabled = false;
          session.pvDisableSinceMs = undefined;
          view.pausedByManager = true;
        }
      } else {
        session.pvDisableSinceMs = undefined;
      }
    }
    return { budgetW: surplusW === undefined ? 0 : Math.max(0, surplusW) };
  }

  private runtimeAt(k: number): ConnectorRuntime | undefined {
    const connector = this.siteModel.connectors[k];
    return connector ? this.runtime(connector) : undefined;
  }

  /** Connector indexes in keep order: priority, then the shedding rule, then configuration order. */
  private keepOrder(): number[] {
    const site = this.siteModel;
    const key = (k: number): number => {
      const runtime = this.runtimeAt(k);
      const state = runtime?.state;
      if (site.shedding === 'mostEnergyFirst') {
        const charging = (runtime?.sent?.limitA ?? 0) > 0;
        return sessionEnergyWh(state) - (charging ? site.control.shedHysteresisWh : 0);
      }
      const started = runtime?.session.startedAtMs;
      return started ?? runtime?.wantingSinceMs ?? Number.POSITIVE_INFINITY;
    };
    // Within a priority, a car that takes nothing (SuspendedEV) is the first to give way.
    const resting = (k: number) => Number(this.runtimeAt(k)?.state?.status === 'SuspendedEV');
    return site.connectors
      .map((_, k) => ({ k, priority: this.views[k]?.priority ?? 0, resting: resting(k), key: key(k) }))
      .sort((a, b) => b.priority - a.priority || a.resting - b.resting || a.key - b.key || a.k - b.k)
      .map((entry) => entry.k);
  }

  // ---------------------------------------------------------------------------------------------
  // Allocation problem

  private buildProblem(now: number, pvBudgetW: number): AllocationProblem {
    const site = this.siteModel;
    const order = this.order;
    const rank = new Map(order.map((k, position) => [k, position]));
    const circuits = site.circuits.map((circuit, c) => {
      const view = this.circuitViews[c];
      const override = this.siteLimits.get(c);
      const limitA = view?.limitA ?? circuit.limitA;
      const otherA = view?.otherA ?? triple(0);
      const capacityA = limitA.map((l, p) => l - (circuit.headroomA[p] ?? 0) - (otherA[p] ?? 0)) as Triple;
      const powerLimits = [circuit.powerLimitW, override?.powerLimitW?.value].filter(
        (v): v is number => v !== undefined,
      );
      const headroomW = sum(circuit.headroomA) * site.voltageV;
      const capacityW =
        powerLimits.length === 0
          ? Number.POSITIVE_INFINITY
          : Math.min(...powerLimits) - headroomW - (view?.otherW ?? 0);
      return {
        capacityA,
        capacityW,
        chargersCapacityW: override?.chargersPowerLimitW?.value ?? Number.POSITIVE_INFINITY,
        unbalanceLimitA: circuit.unbalanceLimitA ?? Number.POSITIVE_INFINITY,
      };
    });
    const connectors: ConnectorDemand[] = site.connectors.map((connector, k) => {
      const view = this.views[k];
      const runtime = this.runtime(connector);
      if (!view) throw new Error(`no view of ${connector.key}`);
      view.notWanting = undefined;
      let wants = view.wantsByStatus;
      if (!view.known)
        view.notWanting = `unknown state: counted at ${connector.offlineA} A until the charger reports`;
      else if (!view.online)
        view.notWanting = `offline: counted at ${connector.offlineA} A (its own fallback)`;
      else if (!view.wantsByStatus) view.notWanting = `idle: ${runtime.state?.status ?? 'no status'}`;
      else if (view.mode === 'off') {
        wants = false;
        view.notWanting = 'off: mode off';
      } else if (view.mode === 'pv' && !runtime.session.pvEnabled) {
        wants = false;
        const need = connector.minA * (view.phasesOut === 1 ? 1 : view.gridPhases.length) * site.voltageV;
        const surplus = this.pvState?.surplusW;
        view.notWanting =
          surplus === undefined
            ? 'pv: no fresh grid meter reading'
            : runtime.session.pvEnableSinceMs !== undefined
              ? `pv: enough surplus for ${Math.round((now - runtime.session.pvEnableSinceMs) / 1000)} s, starting after ${Math.round(site.pv.enableDelayMs / 1000)} s`
              : `pv: waiting for surplus (${Math.max(0, surplus)} W of ${need} W)`;
      } else if (view.keepOff) {
        wants = false;
        const leftS = Math.ceil(((runtime.offUntilMs ?? now) - now) / 1000);
        view.notWanting = `paused: minimum off time (${leftS} s left)`;
      }
      return {
        path: connector.path,
        wants,
        phases: view.gridPhases,
        unbalancePhases: view.unbalancePhases,
        minA: connector.minA,
        maxA: view.capA,
        priority: view.priority,
        keepRank: rank.get(k) ?? k,
        keepOn: view.keepOn,
        starting: !((runtime.sent?.limitA ?? 0) > 0),
        floorA: view.floorA,
        pv: view.countsForPv,
      };
    });
    return {
      voltageV: site.voltageV,
      stepA: site.control.stepA,
      startMarginA: site.control.startMarginA,
      circuits,
      connectors,
      pvBudgetW: this.pvState ? pvBudgetW : Number.POSITIVE_INFINITY,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Phase switching

  private canSwitch(connector: Connector, runtime: ConnectorRuntime): boolean {
    const session = runtime.session;
    if (!connector.canSwitchPhases || connector.phases !== 3) return false;
    if (session.switches >= this.siteModel.pv.maxPhaseSwitchesPerSession) return false;
    // A car seen on a single phase while 3 were offered gains nothing from switching.
    if (!session.onePhase && session.confirmedPhases && session.confirmedPhases.length < 3) return false;
    return true;
  }

  private switchPhases(connector: Connector, runtime: ConnectorRuntime, toOne: boolean, now: number): void {
    const session = runtime.session;
    session.previousChargerPhases = session.onePhase ? [0] : (session.confirmedPhases ?? [0, 1, 2]);
    session.onePhase = toOne;
    session.switches += 1;
    session.switchedAtMs = now;
    session.downSinceMs = undefined;
    session.upSinceMs = undefined;
    session.underDrawCapA = undefined;
    session.underDrawSinceMs = undefined;
    this.logger.info(
      `connector ${connector.key}: switching to ${toOne ? 1 : 3} phase(s) (${session.switches} of ${this.siteModel.pv.maxPhaseSwitchesPerSession} this session)`,
    );
  }

  /**
   * Switch down when the 3-phase minimum cannot be met but the 1-phase one can; up when 3 phases
   * give more than 1 can and the 3-phase minimum fits with a margin; each after its own delay (at
   * once while not charging), at most N per session. The switch itself never breaks the invariant:
   * the next allocation counts the connector on both phase sets until the charger has settled.
   */
  private decidePhaseSwitches(
    now: number,
    problem: AllocationProblem,
    allocation: { connectors: ConnectorAllocation[] },
    pvBudgetW: number,
  ): boolean {
    const site = this.siteModel;
    const { pv } = site;
    let switched = false;
    // Residual per circuit and phase after this allocation.
    const usage = site.circuits.map(() => triple(0));
    problem.connectors.forEach((demand, k) => {
      const limit = allocation.connectors[k]?.limitA ?? 0;
      for (const c of demand.path) {
        for (const p of GRID_PHASES) {
          const row = usage[c];
          if (row) row[p] += Math.max(demand.floorA[p], demand.phases.includes(p) ? limit : 0);
        }
      }
    });
    let pvUsedW = 0;
    problem.connectors.forEach((demand, k) => {
      if (demand.pv)
        pvUsedW += (allocation.connectors[k]?.limitA ?? 0) * demand.phases.length * site.voltageV;
    });
    site.connectors.forEach((connector, k) => {
      const runtime = this.runtime(connector);
      const view = this.views[k];
      const demand = problem.connectors[k];
      if (!view || !demand?.wants || !this.canSwitch(connector, runtime)) return;
      const session = runtime.session;
      if (session.switchedAtMs !== undefined && now - session.switchedAtMs < pv.phaseSwitchSettleMs) return;
      const own = allocation.connectors[k]?.limitA ?? 0;
      const residual = (p: GridPhase) =>
        Math.min(
          ...connector.path.map((c) => {
            const capacity = problem.circuits[c]?.capacityA[p] ?? 0;
            const used = usage[c]?.[p] ?? 0;
            return capacity - used + (demand.phases.includes(p) ? Math.max(0, own - demand.floorA[p]) : 0);
          }),
        );
      const pvLimited = view.mode === 'pv' || view.mode === 'minpv';
      const ownPowerW = own * demand.phases.length * site.voltageV;
      const pvShareW = pvLimited ? Math.max(0, pvBudgetW - pvUsedW + ownPowerW) : Number.POSITIVE_INFINITY;
      const threeA = Math.min(connector.maxA, ...GRID_PHASES.map(residual), pvShareW / (3 * site.voltageV));
      const oneA = Math.min(connector.maxA, residual(connector.gridPhaseOf[0]), pvShareW / site.voltageV);
      const charging = (runtime.sent?.limitA ?? 0) > 0;
      if (!session.onePhase) {
        if (threeA < connector.minA - EPS && oneA >= connector.minA) {
          session.downSinceMs ??= now;
          if (!charging || now - session.downSinceMs >= pv.phaseSwitchDownDelayMs) {
            this.switchPhases(connector, runtime, true, now);
            switched = true;
          }
        } else session.downSinceMs = undefined;
      } else {
        const moreAtThree = 3 * threeA > Math.min(oneA, connector.maxA) + EPS;
        if (threeA >= connector.minA + pv.phaseSwitchUpMarginA && moreAtThree) {
          session.upSinceMs ??= now;
          if (!charging || now - session.upSinceMs >= pv.phaseSwitchUpDelayMs) {
            this.switchPhases(connector, runtime, false, now);
            switched = true;
          }
        } else session.upSinceMs = undefined;
      }
    });
    return switched;
  }

  // ---------------------------------------------------------------------------------------------
  // Update policy: ramps, intervals, holds; then the invariant on what goes out

  private applyPolicy(now: number, problem: AllocationProblem, allocation: ConnectorAllocation[]): number[] {
    const { control } = this.siteModel;
    const targets = allocation.map((entry) => entry.limitA);
    const finals = [...targets];
    const held: number[] = [];
    this.siteModel.connectors.forEach((connector, k) => {
      const runtime = this.runtime(connector);
      const target = targets[k] ?? 0;
      const last = runtime.sent?.limitA ?? 0;
      if (target === 0) return;
      if (last === 0) {
        // A start begins at the minimum; the ramp takes it further.
        finals[k] = Math.min(target, connector.minA);
        return;
      }
      if (target < last) {
        if (last - target < control.minChangeA) {
          finals[k] = last;
          held.push(k);
        }
        return;
      }
      if (target > last) {
        const sinceChangeMs = now - (runtime.lastChangeAtMs ?? 0);
        if (sinceChangeMs < control.minUpdateIntervalMs || target - last < control.minChangeA - EPS) {
          finals[k] = last;
          return;
        }
        const ramped = last + (control.rampUpAPerS * sinceChangeMs) / 1000;
        finals[k] = Math.min(target, floorStep(ramped, control.stepA));
      }
    });
    let violations = checkAllocation(problem, finals);
    if (violations.length > 0 && held.length > 0) {
      // A held small decrease is needed after all: send the decreases.
      for (const k of held) finals[k] = targets[k] ?? 0;
      violations = checkAllocation(problem, finals);
    }
    this.internalProblems = [];
    if (violations.length > 0) {
      // Cannot happen unless the allocator has a bug: never let such limits out.
      const message = `internal check failed, pausing the affected connectors: ${violations.map((v) => v.message).join('; ')}`;
      this.logger.error(message);
      this.internalProblems.push(message);
      for (const violation of violations) {
        const affected =
          violation.kind === 'minimum' || violation.kind === 'maximum'
            ? [violation.index]
            : problem.connectors.flatMap((demand, k) => (demand.path.includes(violation.index) ? [k] : []));
        for (const k of affected) finals[k] = 0;
      }
    }
    return finals;
  }

  private emitChanges(now: number, finals: number[], allocation: ConnectorAllocation[]): boolean {
    let changed = false;
    this.siteModel.connectors.forEach((connector, k) => {
      const runtime = this.runtime(connector);
      const view = this.views[k];
      const entry = allocation[k];
      if (!view || !entry) return;
      const limitA = finals[k] ?? 0;
      const reason = this.reasonFor(connector, view, entry, limitA);
      const last = runtime.sent;
      const phases = view.phasesOut;
      if (last && last.limitA === limitA && last.phases === phases && !runtime.resend) {
        last.reason = reason;
        return;
      }
      runtime.resend = false;
      const before = last?.limitA ?? 0;
      if (limitA > 0 && before === 0) {
        runtime.chargingSinceMs = now;
        runtime.offUntilMs = undefined;
      }
      if (limitA === 0 && before > 0) {
        // Only a pause the load manager decided starts the minimum off time (not a car leaving).
        // Each pause that follows a short charge doubles it (up to minOffMaxMs), so a charger that
        // keeps being paused by the same recurring peak does not switch its contactor every minute.
        if (view.wantsByStatus && view.mode !== 'off') {
          const { minOffMs, minOffMaxMs } = this.siteModel.control;
          const chargedMs = now - (runtime.chargingSinceMs ?? now);
          const session = runtime.session;
          session.pauses = chargedMs >= minOffMaxMs ? 1 : session.pauses + 1;
          runtime.offUntilMs = now + Math.min(minOffMaxMs, minOffMs * 2 ** (session.pauses - 1));
        }
        runtime.chargingSinceMs = undefined;
      }
      if (!last || last.limitA !== limitA || last.phases !== phases) runtime.lastChangeAtMs = now;
      runtime.sent = { limitA, phases, reason, atMs: now };
      changed = true;
      this.emit('setPoint', {
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        limitA,
        phases,
        reason,
      });
    });
    return changed;
  }

  private reasonFor(
    connector: Connector,
    view: ConnectorView,
    entry: ConnectorAllocation,
    limitA: number,
  ): string {
    const fallback = connector.path
      .map((c) => this.circuitViews[c]?.fallback)
      .find((text): text is string => text !== undefined);
    const prefix = fallback && view.wantsByStatus ? `${fallback}; ` : '';
    if (view.notWanting) return prefix + view.notWanting;
    if (entry.state === 'paused' || limitA === 0) {
      const why = entry.bound ? this.describeBound(entry.bound, connector, view) : 'not enough current';
      return `${prefix}paused: ${why} for the minimum ${connector.minA} A`;
    }
    const target = entry.limitA;
    let base: string;
    if (limitA < target - EPS) base = `ramping up to ${target} A`;
    else if (limitA > target + EPS)
      base = `holding ${limitA} A (change below ${this.siteModel.control.minChangeA} A)`;
    else if (!entry.bound || entry.bound.kind === 'max') {
      base =
        view.capA < connector.maxA - EPS
          ? (view.capReason ?? `limited to ${view.capA} A`)
          : `maximum ${connector.maxA} A`;
    } else base = `limited: ${this.describeBound(entry.bound, connector, view)}`;
    return prefix + base;
  }

  private describeBound(bound: Bound, connector: Connector, view: ConnectorView): string {
    const circuitName = (c: number) => this.siteModel.circuits[c]?.name ?? `circuit ${c}`;
    switch (bound.kind) {
      case 'max':
        return view.capA < connector.minA ? `${view.capReason ?? 'limit'} (${view.capA} A)` : 'its maximum';
      case 'phase':
        return `${circuitName(bound.circuit)} L${bound.phase + 1} is full`;
      case 'power':
        return `power limit of ${circuitName(bound.circuit)}`;
      case 'chargersPower':
        return `${this.siteLimits.get(bound.circuit)?.chargersPowerLimitW?.reason ?? 'site limit'} on ${circuitName(bound.circuit)}`;
      case 'unbalance':
        return `unbalance limit of ${circuitName(bound.circuit)}`;
      case 'pv':
        return 'PV surplus';
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Summary

  private buildSummary(): SiteSummary {
    const site = this.siteModel;
    const now = this.clock.now();
    const problem = this.lastProblem;
    const problems: string[] = [...this.internalProblems];
    const counted = site.connectors.map((connector, k) => {
      const demand = problem?.connectors[k];
      const limit = this.runtime(connector).sent?.limitA ?? 0;
      return GRID_PHASES.map((p) =>
        Math.max(demand?.floorA[p] ?? 0, demand?.phases.includes(p) ? limit : 0),
      ) as Triple;
    });
    const circuits: CircuitSummary[] = site.circuits.map((circuit, c) => {
      const view = this.circuitViews[c];
      const meter = this.meters.get(circuit.id);
      const chargersA = triple(0);
      for (const k of circuit.connectorIndexes) {
        for (const p of GRID_PHASES) chargersA[p] += counted[k]?.[p] ?? 0;
      }
      const otherA = view?.otherA ?? triple(0);
      const limitA = view?.limitA ?? circuit.limitA;
      const loadA = GRID_PHASES.map((p) => round2(otherA[p] + chargersA[p])) as Triple;
      const availableA = GRID_PHASES.map((p) =>
        round2(limitA[p] - circuit.headroomA[p] - loadA[p]),
      ) as Triple;
      const overloaded = GRID_PHASES.some(
        (p) => otherA[p] + circuit.headroomA[p] > limitA[p] + EPS || availableA[p] < -0.05,
      );
      if (view?.fallback) problems.push(view.fallback);
      if (overloaded) {
        problems.push(
          `${circuit.name}: the loads the load manager does not control exceed the limit (${availableA.join('/')} A left)`,
        );
      }
      const override = this.siteLimits.get(c);
      const unbalance = Math.max(...chargersA) - Math.min(...chargersA);
      return {
        id: circuit.id,
        name: circuit.name,
        ...(circuit.parentIndex === undefined
          ? {}
          : { parent: site.circuits[circuit.parentIndex]?.id ?? '' }),
        limitA,
        configuredLimitA: circuit.limitA,
        headroomA: circuit.headroomA,
        otherA: otherA.map(round2) as Triple,
        chargersA: chargersA.map(round2) as Triple,
        loadA,
        availableA,
        ...(circuit.powerLimitW !== undefined || override?.powerLimitW !== undefined
          ? {
              powerLimitW: Math.min(
                circuit.powerLimitW ?? Number.POSITIVE_INFINITY,
                override?.powerLimitW?.value ?? Number.POSITIVE_INFINITY,
              ),
            }
          : {}),
        ...(override?.chargersPowerLimitW !== undefined
          ? { chargersPowerLimitW: override.chargersPowerLimitW.value }
          : {}),
        unbalanceA: round2(unbalance),
        ...(circuit.unbalanceLimitA === undefined ? {} : { unbalanceLimitA: circuit.unbalanceLimitA }),
        ...(circuit.meter
          ? {
              meter: {
                source: circuit.meter.source,
                location: circuit.meter.location,
                stale: view?.stale ?? true,
                ...(meter?.measuredAtMs === undefined ? {} : { ageMs: now - meter.measuredAtMs }),
                ...(meter?.currentA ? { measuredA: meter.currentA.map(round2) as Triple } : {}),
                ...(meter?.powerW === undefined ? {} : { measuredW: Math.round(meter.powerW) }),
              },
            }
          : {}),
        ...(view?.fallback ? { fallback: view.fallback } : {}),
        ...(override ? { siteLimits: describeSiteLimits(override) } : {}),
        overloaded,
      };
    });
    let charging = 0;
    let totalLimitA = 0;
    const connectors: ConnectorSummary[] = site.connectors.map((connector, k) => {
      const runtime = this.runtime(connector);
      const view = this.views[k];
      const sent = runtime.sent;
      const limitA = sent?.limitA ?? 0;
      totalLimitA += limitA;
      if (limitA > 0 && runtime.state?.status === 'Charging') charging += 1;
      const session = runtime.session;
      if (session.overdrawing) {
        problems.push(
          `charger ${connector.key} draws above its set-point ${limitA} A (counted at what it draws)`,
        );
      }
      for (const error of runtime.exprErrors.values()) problems.push(error);
      const energyWh = sessionEnergyWh(runtime.state);
      return {
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        name: connector.name,
        circuit: site.circuits[connector.circuitIndex]?.id ?? '',
        ...(runtime.state?.status ? { status: runtime.state.status } : {}),
        online: view?.online ?? false,
        mode: view?.mode ?? 'fast',
        priority: view?.priority ?? 0,
        limitA,
        phases: sent?.phases ?? view?.phasesOut ?? 3,
        reason: sent?.reason ?? '',
        gridPhases: (view?.gridPhases ?? []).map((p) => p + 1),
        ...(view?.drawGridA ? { drawA: view.drawGridA.map(round2) as Triple } : {}),
        countedA: (counted[k] ?? triple(0)).map(round2) as Triple,
        ...(session.overdrawing ? { overdrawing: true } : {}),
        ...(session.underDrawCapA !== undefined ? { underDrawing: true } : {}),
        ...(view?.mode === 'pv' ? { pvEnabled: session.pvEnabled } : {}),
        ...(energyWh > 0 ? { energyWh } : {}),
        ...(session.switches > 0 ? { phaseSwitches: session.switches } : {}),
      };
    });
    for (const key of this.unknownChargers) problems.push(`connector ${key} is not in the site model`);
    return {
      at: new Date(now).toISOString(),
      charging,
      totalLimitA: round2(totalLimitA),
      circuits,
      connectors,
      ...(this.pvState ? { pv: this.pvState } : {}),
      problems,
    };
  }
}

function describeSiteLimits(limit: SiteLimit): NonNullable<CircuitSummary['siteLimits']> {
  return (['limitA', 'powerLimitW', 'chargersPowerLimitW'] as const).flatMap((kind) => {
    const entry = limit[kind];
    if (!entry) return [];
    return [
      {
        kind,
        value: entry.value,
        reason: entry.reason,
        ...(entry.untilMs === undefined ? {} : { until: new Date(entry.untilMs).toISOString() }),
      },
    ];
  });
}

const ONE_PHASE: readonly number[] = [0];
const THREE_PHASES: readonly number[] = [0, 1, 2];

/** Highest of `values` at the given charger phases (0 when unknown). */
function maxOf(values: Triple | undefined, phases: readonly number[]): number {
  let highest = 0;
  if (!values) return highest;
  for (const i of phases) highest = Math.max(highest, values[i as GridPhase]);
  return highest;
}

function union(a: readonly number[], b: readonly number[]): number[] {
  return THREE_PHASES.filter((i) => a.includes(i) || b.includes(i));
}

/** Grid phases the given charger phases load, in order. */
function gridPhasesFor(connector: Connector, chargerPhases: readonly number[]): GridPhase[] {
  let mask = 0;
  for (const i of chargerPhases) mask |= 1 << (connector.gridPhaseOf[i as GridPhase] ?? 0);
  const phases: GridPhase[] = [];
  for (const p of GRID_PHASES) if (mask & (1 << p)) phases.push(p);
  return phases;
}

function newSession(key: string): SessionRuntime {
  return { key, onePhase: false, switches: 0, overdrawing: false, pauses: 0, pvEnabled: false };
}

/**
 * A car wants current while it is plugged in and not done: Charging, SuspendedEV (it may resume),
 * SuspendedEVSE (waiting for us); Preparing only with a transaction (authorized, not yet charging).
 */
function carWantsCurrent(status: ConnectorStatus | undefined, hasTransaction: boolean): boolean {
  switch (status) {
    case 'Charging':
    case 'SuspendedEV':
    case 'SuspendedEVSE':
      return true;
    case 'Preparing':
    case undefined:
      return hasTransaction;
    default:
      return false;
  }
}

function sessionEnergyWh(state: ConnectorState | undefined): number {
  const tx = state?.transaction;
  if (!tx || state?.energyWh === undefined) return 0;
  return Math.max(0, state.energyWh - tx.meterStartWh);
}

function isSite(value: Site | SiteConfig): value is Site {
  return Array.isArray((value as Site).rootIndexes);
}

function toGrid(connector: Connector, chargerA: Triple): Triple {
  const grid = triple(0);
  const wired = connector.phases === 1 ? [0] : [0, 1, 2];
  for (const i of wired) grid[connector.gridPhaseOf[i] ?? 0] += chargerA[i] ?? 0;
  return grid;
}

function nullsToZero(values: PerPhase): Triple {
  return [values[0] ?? 0, values[1] ?? 0, values[2] ?? 0];
}

/**
 * Per-phase currents of a reading. Missing phases take the highest known one; without currents,
 * per-phase power / V; with only a total power, the total on every phase (the worst case).
 */
function phaseCurrents(reading: Reading, voltageV: number): Triple | undefined {
  const fill = (values: PerPhase): Triple | undefined => {
    const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
    if (known.length === 0) return undefined;
    const highest = Math.max(...known);
    return values.map((v) => (v === null || !Number.isFinite(v) ? highest : v)) as Triple;
  };
  if (reading.currentA) {
    const currents = fill(reading.currentA);
    if (currents) return currents;
  }
  if (reading.powerW) {
    const powers = fill(reading.powerW);
    if (powers) return powers.map((w) => w / voltageV) as Triple;
  }
  if (reading.totalPowerW !== undefined && Number.isFinite(reading.totalPowerW)) {
    return triple(reading.totalPowerW / voltageV);
  }
  return undefined;
}

function totalPower(reading: Reading, currentA: Triple, voltageV: number): number {
  return reading.totalPowerW ?? sumKnown(reading.powerW) ?? sum(currentA) * voltageV;
}

function sumKnown(values: PerPhase | undefined): number | undefined {
  if (!values || values.every((v) => v === null)) return undefined;
  return values.reduce<number>((total, v) => total + (v ?? 0), 0);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function floorStep(value: number, stepA: number): number {
  return Math.round(Math.floor((value + EPS) / stepA) * stepA * 1000) / 1000;
}

function ceilStep(value: number, stepA: number): number {
  return Math.round(Math.ceil((value - EPS) / stepA) * stepA * 1000) / 1000;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function setOrDelete(map: Map<string, string>, key: string, value: string | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}
