/**
 * The stateful controller around the pure allocator: it keeps what arrived (meter readings,
 * connector states, commands), the timers (ramps, update interval, minimum on/off times, PV
 * enable/disable delays, phase switching, staleness), the set-points in force, and decides what
 * goes out. All time comes from the injected Clock; the same inputs at the same times give the
 * same outputs.
 *
 * Every update: (1) turn each connector into a demand (phases through the rotation and the car's
 * detected phases, floors for what it draws beyond our control, caps from fallbacks, overdrawing
 * and under-drawing), (2) count the other loads per circuit, children first (each phase of a
 * meter fresh on its own, or the fallback while it is stale or never read; a circuit counts what
 * its children count unless its meter includes them), (3) decide PV enable/disable, (4) `allocate`,
 * (5) decide phase switches, (6) apply the update policy (decreases at once; increases ramped from
 * the last sent value, at most once per interval, and held while a decrease they need has not
 * taken effect or while expressions are being re-evaluated; small decreases held only while the
 * invariant holds), (7) check the invariant on exactly what is about to go out, (8) emit changed
 * set-points, decreases first, and the summary.
 *
 * Every input is checked at the boundary (inputs.ts): nothing that is not a number gets in.
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
import { commandNumber, finiteOrUndefined, perPhase, sanitizeConnectorState } from './inputs';
import { checkAllocation } from './invariant';
import {
  CHARGING_MODES,
  type ChargingMode,
  type Circuit,
  type Connector,
  describeValue,
  GRID_PHASES,
  type GridPhase,
  parseSite,
  phaseLimitOf,
  type Site,
  type SiteConfig,
  type Triple,
  triple,
} from './site';
import type { CircuitSummary, ConnectorSummary, PvSummary, SiteSummary } from './summary';

/** A phase carries current while charging when it carries more than this (DESIGN: DLM phase detection). */
const ACTIVE_PHASE_A = 1;
const EPS = 1e-6;
/** Measurements kept per connector to compare a circuit meter's older reading with. */
const DRAW_HISTORY = 6;

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
  /**
   * Readings and connector states that arrive in one turn of the event loop share one update
   * (run on a zero-delay timer of the clock) instead of one update each. An update costs time in
   * proportion to the site (about 13 ms for 1,000 connectors); a large site whose chargers send
   * meter values every few seconds would otherwise keep a core busy. A decrease waits at most
   * until the next turn. Default false: every input updates at once.
   */
  coalesceInputs?: boolean;
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

/** A value and when it was measured. */
interface Stamped {
  value: number;
  atMs: number;
}

interface MeterRuntime {
  /** The meter's source when this was recorded (a replaced site may give the circuit another meter). */
  source: string;
  /** Per grid phase: the newest current and when it was measured. Each phase ages on its own. */
  phaseA: [Stamped | undefined, Stamped | undefined, Stamped | undefined];
  /** Total active power (import positive) and when it was measured. */
  powerW?: Stamped;
  /** Per phase: the other loads when the phase was last fresh (the per-connector fallback's guess). */
  lastFreshOtherA: [number | undefined, number | undefined, number | undefined];
  /** `fresh`, or which phases were stale or never read, as the last update saw it (log lines on change). */
  status?: string;
}

/** One measurement of a charger's own currents (a connector state's currents, or its meter's reading). */
interface DrawSample {
  /** Charger phases L1..L3; null where not measured. */
  chargerA: PerPhase;
  /** When it was measured: the reading's timestamp, the state's lastSeen, or its arrival. */
  atMs: number;
  /** Increases with every new sample of the connector (a repeat is not a new sample). */
  seq: number;
  /** What a connector state carried with it, to tell a repeated state from a new measurement. */
  identity?: string;
}

interface SessionRuntime {
  key: string;
  /** The transaction's start (firstStarted shedding). */
  startedAtMs?: number;
  /** The last draw sample this session looked at. */
  lastSeq?: number;
  /** Charger phases (0..2) seen carrying current (or not measured), waiting for confirmation. */
  candidatePhases?: readonly number[];
  /** Measurement time of the first sample of the candidate run. */
  candidateFromMs?: number;
  /** Charger phases the car uses, once two samples at least phaseDetectionMs apart showed them. */
  confirmedPhases?: readonly number[];
  onePhase: boolean;
  switches: number;
  switchedAtMs?: number;
  previousChargerPhases?: readonly number[];
  /** The car kept drawing on phases it was switched off: no more switching this session. */
  phaseSwitchRefused: boolean;
  downSinceMs?: number;
  upSinceMs?: number;
  underDrawSinceMs?: number;
  underDrawCapA?: number;
  /** Measurement time of the first sample of the current run above the set-point. */
  overdrawSinceMs?: number;
  /** The newest sample above the set-point (per grid phase, and the highest charger phase). */
  lastOver?: { gridA: Triple; maxA: number };
  /** Counted at what it draws; its set-point is not raised. */
  overdrawing: boolean;
  /** What it is counted at while overdrawing (kept when its readings stop). */
  overdrawFloorA?: Triple;
  /** Its set-point may not rise above this while overdrawing. */
  overdrawCapA?: number;
  /** Measurement time of the first sample of the current run within the set-point, while overdrawing. */
  compliantSinceMs?: number;
  /** Times it was found overdrawing this session (after the first, a further overdraw counts at once). */
  overdrawEpisodes: number;
  /** Pauses by the load manager in a row (each doubles the minimum off time). */
  pauses: number;
  pvEnabled: boolean;
  pvEnableSinceMs?: number;
  pvDisableSinceMs?: number;
}

interface ConnectorRuntime {
  state?: ConnectorState;
  /** The newest measurement of the charger's own currents. */
  draw?: DrawSample;
  drawSeq: number;
  /**
   * The last few measurements (charger phases), oldest first, and a zero where a set-point above
   * 0 followed none: what a circuit meter's older reading is compared with (chargersDrawBelow).
   */
  drawHistory: { atMs: number; chargerA: PerPhase }[];
  sent?: { limitA: number; phases: 1 | 2 | 3; reason: string; atMs: number };
  /** The set-point before the last change (a charger may still follow it for decreaseSettleMs). */
  previousSent?: { limitA: number; phases: 1 | 2 | 3 };
  lastChangeAtMs?: number;
  /**
   * A decrease the charger may not have followed yet: until its reading shows it did (or
   * decreaseSettleMs passed), it is counted at `fromA` for the increases of the others.
   */
  pendingDecrease?: { fromA: number; atMs: number };
  /** Since when the target is above the set-point (the ramp starts at the later of this and the last change). */
  increaseSinceMs?: number;
  /** The expression input last evaluated (without the time), to tell a changed input. */
  lastExprInput?: string;
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
  /** How much more than its set-point an overdrawing charger draws (0 when it follows). */
  overdrawExcessA: number;
  phasesOut: 1 | 2 | 3;
  keepOn: boolean;
  keepOff: boolean;
  countsForPv: boolean;
  /** Why an increase is held back this update (a decrease not yet in effect, expressions pending). */
  holdReason?: string;
}

interface CircuitView {
  limitA: Triple;
  otherA: Triple;
  otherW: number;
  stale: boolean;
  /** Which phases are stale or never read (`fresh` when none), to log changes. */
  staleKey?: string;
  /** Grid phases without fresh data. */
  stalePhases?: GridPhase[];
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
  /** By circuit id. */
  private meters = new Map<string, MeterRuntime>();
  private connectors = new Map<string, ConnectorRuntime>();
  /** By circuit id (so they survive a replaced site). */
  private siteLimits = new Map<string, SiteLimit>();
  private battery: { powerW?: number; socPercent?: number; atMs: number } | undefined;
  private pvOverrides: { residualPowerW?: number; batteryPrioritySocPercent?: number } = {};
  private readonly unknownChargers = new Set<string>();
  private readonly pendingEvaluations = new Set<Promise<void>>();
  /** Evaluations started by an input that changed what the expressions see: no increase until they are in. */
  private readonly gatingEvaluations = new Set<Promise<void>>();
  /** Input problems already logged (each once). */
  private readonly reportedProblems = new Set<string>();
  /** Circuit indexes, children before their parents. */
  private circuitOrder: number[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  /** After stop(): inputs are kept, nothing is updated or emitted. */
  private stopped = false;
  private startedAtMs: number | undefined;
  private updating = false;
  private batching = 0;
  private readonly coalesceInputs: boolean;
  private coalesceTimer: TimerHandle | undefined;
  private updatesRun = 0;
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
    this.coalesceInputs = options.coalesceInputs ?? false;
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
    this.stopped = false;
    this.update();
    this.schedule();
  }

  /** Stops the periodic update; from now on nothing is updated or emitted (not even by an expression that resolves later). */
  stop(): void {
    this.running = false;
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clock.clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
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

  /**
   * A meter reading: a circuit's meter, a charger's own meter (`<chargePointId>/<connectorId>`), the
   * battery. Values that are not numbers are taken as not measured (and logged, once per source and
   * field); each phase of a circuit's meter keeps its own value and age.
   */
  reading(reading: Reading): void {
    if (typeof reading !== 'object' || reading === null || typeof reading.source !== 'string') {
      throw new Error(`reading: expected { source, timestamp, ... }, got ${describeValue(reading)}`);
    }
    const now = this.clock.now();
    const stampMs = typeof reading.timestamp === 'string' ? Date.parse(reading.timestamp) : Number.NaN;
    const measuredAtMs = Number.isFinite(stampMs) ? Math.min(stampMs, now) : now;
    const problems: string[] = [];
    const where = `reading from "${reading.source}"`;
    const currentA = perPhase(reading.currentA, `${where} currentA`, problems);
    const powerW = perPhase(reading.powerW, `${where} powerW`, problems);
    const totalPowerW = finiteOrUndefined(reading.totalPowerW, `${where} totalPowerW`, problems);
    let used = false;
    for (const circuit of this.siteModel.circuits) {
      if (circuit.meter?.source !== reading.source) continue;
      const meter = this.meterRuntime(circuit);
      const voltageV = this.siteModel.voltageV;
      // Per phase: the current, else the phase's power / V (power factor 1).
      const phases: (number | undefined)[] = GRID_PHASES.map(
        (p) =>
          currentA?.[p] ??
          (powerW?.[p] === null || powerW?.[p] === undefined ? undefined : powerW[p] / voltageV),
      );
      if (phases.some((v) => v === undefined) && totalPowerW !== undefined) {
        if (circuit.meter.noGenerationBelow) {
          // Nothing below generates: the whole total on each phase it does not give is the worst case.
          for (const p of GRID_PHASES) phases[p] ??= Math.max(0, totalPowerW) / voltageV;
        } else if (phases.every((v) => v === undefined)) {
          problems.push(
            `${where}: only a total power; export on one phase could hide import on another, so it gives no current per phase (set meter.noGenerationBelow on circuit "${circuit.id}" if nothing below it generates)`,
          );
        }
      }
      for (const p of GRID_PHASES) {
        const value = phases[p];
        const last = meter.phaseA[p];
        if (value === undefined || (last && measuredAtMs < last.atMs)) continue;
        meter.phaseA[p] = { value, atMs: measuredAtMs };
        used = true;
      }
      const total =
        totalPowerW ??
        (powerW?.every((v) => v !== null) ? sum(powerW as Triple) : undefined) ??
        (currentA?.every((v) => v !== null) ? sum(currentA as Triple) * voltageV : undefined);
      if (total !== undefined && (!meter.powerW || measuredAtMs >= meter.powerW.atMs)) {
        meter.powerW = { value: total, atMs: measuredAtMs };
        used = true;
      }
    }
    const connector = this.siteModel.connectors.find((c) => c.key === reading.source);
    if (connector && currentA) {
      const identity = `reading:${JSON.stringify(currentA)}`;
      if (this.takeDraw(this.runtime(connector), currentA, measuredAtMs, identity, true)) used = true;
    }
    if (this.siteModel.pv.batterySource === reading.source) {
      const batteryW = totalPowerW ?? (powerW?.every((v) => v !== null) ? sum(powerW as Triple) : undefined);
      const soc = finiteOrUndefined(reading.socPercent, `${where} socPercent`, problems);
      this.battery = { powerW: batteryW, socPercent: soc, atMs: measuredAtMs };
      used = true;
    }
    this.report(problems);
    if (used) this.afterInput();
  }

  /**
   * A connector state from the central system (status, transaction, measured currents, online).
   * Its currents are stamped with the state's `lastSeen` (else its arrival); a state that repeats
   * the currents, energy and power of the last one with a `lastSeen` is not a new measurement.
   */
  connectorState(input: ConnectorState): void {
    const problems: string[] = [];
    const state = sanitizeConnectorState(input, problems);
    this.report(problems);
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
    runtime.state = state;
    // A connector state is the whole picture: without currents, no draw is known (a reading from
    // the charger's meter brings one again).
    if (state.currentA) {
      const seenMs = state.lastSeen === undefined ? Number.NaN : Date.parse(state.lastSeen);
      const stamped = Number.isFinite(seenMs);
      const identity = `state:${JSON.stringify([state.currentA, state.energyWh ?? null, state.powerW ?? null])}`;
      this.takeDraw(runtime, state.currentA, stamped ? Math.min(seenMs, now) : now, identity, stamped);
    } else runtime.draw = undefined;
    this.evaluateExpressions(connector, 'input');
    this.afterInput();
  }

  /**
   * Records a measurement of a charger's currents unless it is older than the one held, or (when
   * `dedupe`) the same measurement again. Returns whether it was taken.
   */
  private takeDraw(
    runtime: ConnectorRuntime,
    chargerA: PerPhase,
    atMs: number,
    identity: string,
    dedupe: boolean,
  ): boolean {
    const last = runtime.draw;
    if (last && atMs < last.atMs) return false;
    if (last && dedupe && last.identity === identity && (identity.startsWith('state:') || last.atMs === atMs))
      return false;
    runtime.drawSeq += 1;
    runtime.draw = { chargerA: [...chargerA] as PerPhase, atMs, seq: runtime.drawSeq, identity };
    remember(runtime, atMs, runtime.draw.chargerA);
    return true;
  }

  /** Logs each input problem once. */
  private report(problems: string[]): void {
    for (const message of problems) {
      if (this.reportedProblems.has(message)) continue;
      if (this.reportedProblems.size > 1000) this.reportedProblems.clear();
      this.reportedProblems.add(message);
      this.logger.warn(message);
    }
  }

  private meterRuntime(circuit: Circuit): MeterRuntime {
    let meter = this.meters.get(circuit.id);
    if (!meter || meter.source !== circuit.meter?.source) {
      meter = {
        source: circuit.meter?.source ?? '',
        phaseA: [undefined, undefined, undefined],
        lastFreshOtherA: [undefined, undefined, undefined],
      };
      this.meters.set(circuit.id, meter);
    }
    return meter;
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
      case 'pv': {
        // Both checked before either is taken: a PV budget that is not a number would let pv cars
        // charge from the grid.
        const residualPowerW =
          command.residualPowerW === undefined
            ? undefined
            : commandNumber(command.residualPowerW, 'pv residualPowerW', { min: 0 });
        const prioritySoc =
          command.batteryPrioritySocPercent === undefined
            ? undefined
            : commandNumber(command.batteryPrioritySocPercent, 'pv batteryPrioritySocPercent', {
                min: 0,
                max: 100,
              });
        if (residualPowerW !== undefined) this.pvOverrides.residualPowerW = residualPowerW;
        if (prioritySoc !== undefined) this.pvOverrides.batteryPrioritySocPercent = prioritySoc;
        result = 'PV settings changed';
        break;
      }
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

  /**
   * Replaces the site model. Connectors keep their state by key, meters by circuit id (when the
   * circuit keeps the same meter source), site limits (a §14a or tariff limit) by circuit id; a
   * site limit whose circuit is gone is dropped, with a log line.
   */
  replaceSite(config: Site | SiteConfig): void {
    const site = isSite(config) ? config : parseSite(config);
    const oldConnectors = this.connectors;
    const oldMeters = this.meters;
    const oldLimits = this.siteLimits;
    const oldBatterySource = this.siteModel.pv.batterySource;
    this.siteModel = site;
    this.connectors = new Map();
    this.meters = new Map();
    this.siteLimits = new Map();
    for (const connector of site.connectors) {
      const old = oldConnectors.get(connector.key);
      if (old) this.connectors.set(connector.key, old);
    }
    for (const circuit of site.circuits) {
      const old = oldMeters.get(circuit.id);
      if (old && circuit.meter && old.source === circuit.meter.source) this.meters.set(circuit.id, old);
    }
    for (const [id, limit] of oldLimits) {
      if (site.circuits.some((c) => c.id === id)) {
        this.siteLimits.set(id, limit);
        continue;
      }
      const what = describeSiteLimits(limit)
        .map((l) => `${l.kind} ${Array.isArray(l.value) ? l.value.join('/') : l.value} (${l.reason})`)
        .join(', ');
      this.logger.warn(`site limit on circuit "${id}" dropped: the new site has no such circuit (${what})`);
    }
    if (site.pv.batterySource !== oldBatterySource) this.battery = undefined;
    this.evaluator.reset();
    this.adoptSite(site);
  }

  /** Re-evaluates now (also called by the periodic timer). */
  tick(): void {
    this.update();
  }

  private adoptSite(site: Site): void {
    const depth = (index: number): number => {
      const parent = site.circuits[index]?.parentIndex;
      return parent === undefined ? 0 : 1 + depth(parent);
    };
    this.circuitOrder = site.circuits.map((c) => c.index).sort((a, b) => depth(b) - depth(a) || a - b);
    for (const connector of site.connectors) this.runtime(connector);
    for (const connector of site.connectors) this.evaluateExpressions(connector, 'input');
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
        drawSeq: 0,
        drawHistory: [],
        exprErrors: new Map(),
        wasOnline: false,
        resend: false,
      };
      this.connectors.set(connector.key, runtime);
    }
    return runtime;
  }

  private applySiteLimit(command: Extract<DlmCommand, { type: 'siteLimit' }>, now: number): string {
    if (command.circuit !== undefined && typeof command.circuit !== 'string') {
      throw new Error(`siteLimit circuit: ${describeValue(command.circuit)} is not a circuit id`);
    }
    const circuits = command.circuit
      ? this.siteModel.circuits.filter((c) => c.id === command.circuit)
      : this.siteModel.rootIndexes.flatMap((i) => this.siteModel.circuits[i] ?? []);
    if (circuits.length === 0) throw new Error(`no circuit "${command.circuit}" in the site model`);
    const names = circuits.map((c) => c.id).join(', ');
    if (command.clear) {
      for (const circuit of circuits) this.siteLimits.delete(circuit.id);
      return `site limit of ${names} cleared`;
    }
    // Every value checked before anything is taken: a limit that is not a number (or a short
    // array) would remove the constraint instead of setting it.
    const limitA =
      command.limitA === undefined ? undefined : phaseLimitOf(command.limitA, 'siteLimit limitA');
    const optional = (value: unknown, field: string) =>
      value === undefined ? undefined : commandNumber(value, `siteLimit ${field}`, { min: 0 });
    const powerLimitW = optional(command.powerLimitW, 'powerLimitW');
    const chargersPowerLimitW = optional(command.chargersPowerLimitW, 'chargersPowerLimitW');
    const durationMs = optional(command.durationMs, 'durationMs');
    if (limitA === undefined && powerLimitW === undefined && chargersPowerLimitW === undefined) {
      throw new Error('site limit: give limitA, powerLimitW or chargersPowerLimitW (or clear: true)');
    }
    let untilMs: number | undefined;
    if (durationMs !== undefined) untilMs = now + durationMs;
    else if (command.until !== undefined) {
      untilMs = typeof command.until === 'string' ? Date.parse(command.until) : Number.NaN;
      if (!Number.isFinite(untilMs))
        throw new Error(`siteLimit until: ${describeValue(command.until)} is not a date-time`);
    }
    // Each kind of limit replaces the same kind only: a §14a limit on the chargers' power and a
    // tariff's current limit live side by side, each until its own end.
    const reason = typeof command.reason === 'string' && command.reason ? command.reason : 'site limit';
    const timed = <T>(value: T): TimedLimit<T> =>
      untilMs === undefined ? { value, reason } : { value, untilMs, reason };
    for (const circuit of circuits) {
      const entry = this.siteLimits.get(circuit.id) ?? {};
      if (limitA) entry.limitA = timed(limitA);
      if (powerLimitW !== undefined) entry.powerLimitW = timed(powerLimitW);
      if (chargersPowerLimitW !== undefined) entry.chargersPowerLimitW = timed(chargersPowerLimitW);
      this.siteLimits.set(circuit.id, entry);
    }
    return `site limit on ${names}${untilMs === undefined ? '' : ` until ${new Date(untilMs).toISOString()}`}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions

  /**
   * Starts the evaluation of the connector's priority and mode expressions. `input`: after an input
   * that may change what they see; if it did, no connector is raised until the results are in
   * (a decrease may still go out at once). `time`: a periodic re-evaluation ($now()).
   */
  private evaluateExpressions(connector: Connector, why: 'input' | 'time'): void {
    const runtime = this.runtime(connector);
    const mode = connector.mode ?? this.siteModel.defaultMode;
    if (typeof mode !== 'object' && typeof connector.priority !== 'object') return;
    const jobs: Promise<void>[] = [];
    const { now: _now, ...seen } = this.expressionInput(connector, runtime);
    const seenKey = JSON.stringify(seen);
    const gating = why === 'input' && seenKey !== runtime.lastExprInput;
    runtime.lastExprInput = seenKey;
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
    const finish = () => {
      this.pendingEvaluations.delete(job);
      this.gatingEvaluations.delete(job);
    };
    // Never an unhandled rejection, never an update or an emit after stop().
    const job: Promise<void> = Promise.all(jobs).then(
      () => {
        finish();
        this.afterEvaluation(connector);
      },
      (err: unknown) => {
        finish();
        this.logger.error(
          `evaluating the expressions of ${connector.key} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        this.afterEvaluation(connector);
      },
    );
    this.pendingEvaluations.add(job);
    if (gating) this.gatingEvaluations.add(job);
  }

  private afterEvaluation(connector: Connector): void {
    if (this.stopped) return;
    try {
      this.update();
    } catch (err) {
      this.logger.error(
        `update after evaluating the expressions of ${connector.key} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
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

  /** How many updates have run (each allocates the whole site): for diagnostics and benchmarks. */
  get updateCount(): number {
    return this.updatesRun;
  }

  /** An update after a reading or connector state: at once, or once per turn (coalesceInputs). */
  private afterInput(): void {
    if (!this.coalesceInputs || this.batching > 0) {
      this.update();
      return;
    }
    if (this.coalesceTimer !== undefined || this.stopped) return;
    this.coalesceTimer = this.clock.setTimeout(() => {
      this.coalesceTimer = undefined;
      this.update();
    }, 0);
  }

  private update(): void {
    if (this.stopped) return;
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
    this.updatesRun += 1;
    // This update takes in every input so far: a coalesced one still to come would repeat it.
    this.clock.clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
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
    for (const [id, limit] of this.siteLimits) {
      for (const key of ['limitA', 'powerLimitW', 'chargersPowerLimitW'] as const) {
        const until = limit[key]?.untilMs;
        if (until !== undefined && until <= now) delete limit[key];
      }
      if (!limit.limitA && !limit.powerLimitW && !limit.chargersPowerLimitW) this.siteLimits.delete(id);
    }
    if (
      this.lastEvaluationAtMs === undefined ||
      now - this.lastEvaluationAtMs >= control.minUpdateIntervalMs
    ) {
      // Expressions may depend on time ($now()): re-evaluate now and then.
      if (this.lastEvaluationAtMs !== undefined)
        for (const c of site.connectors) this.evaluateExpressions(c, 'time');
      this.lastEvaluationAtMs = now;
    }

    this.views = site.connectors.map((connector) => this.viewConnector(connector, now));
    this.circuitViews = this.viewCircuits(now);
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
    this.startedAtMs ??= now;
    const startedAtMs = this.startedAtMs;
    site.circuits.forEach((circuit, c) => {
      if (!circuit.meter) return;
      const meter = this.meterRuntime(circuit);
      const view = this.circuitViews[c];
      let status = view?.staleKey ?? 'fresh';
      // Right after start no meter has answered yet: the fallback applies at once, but that is
      // the normal start-up, logged as information; a warning follows if the meter stays silent.
      const startingUp = status === 'never:012 stale:' && now - startedAtMs < circuit.meter.staleAfterMs;
      if (startingUp) status = 'starting';
      if (meter.status === status) return;
      staleChanged = true;
      if (status === 'fresh') {
        if (meter.status !== undefined && meter.status !== 'starting')
          this.logger.info(`meter "${circuit.meter.source}" of ${circuit.name} is fresh again`);
      } else if (startingUp) {
        this.logger.info(
          `${circuit.name}: waiting for the first reading; meanwhile ${view?.fallback ?? 'fallback'}`,
        );
      } else this.logger.warn(`${circuit.name}: ${view?.fallback ?? 'fallback'}`);
      meter.status = status;
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
    const settleMs = this.siteModel.pv.phaseSwitchSettleMs;
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
    // A new car (transaction, or plug-in without one): phase detection, phase switches, the
    // under-draw cap and the overdraw record start over.
    if (runtime.session.key !== sessionKey) {
      runtime.session = newSession(sessionKey);
      // A pause of the previous car does not hold back the next one.
      runtime.offUntilMs = undefined;
      const startedAtMs = state?.transaction ? Date.parse(state.transaction.startedAt) : Number.NaN;
      if (Number.isFinite(startedAtMs)) runtime.session.startedAtMs = startedAtMs;
    }
    const session = runtime.session;
    const settling = session.switchedAtMs !== undefined && now - session.switchedAtMs < settleMs;

    const draw = runtime.draw;
    const drawFresh = draw && now - draw.atMs <= control.connectorDrawStaleAfterMs ? draw : undefined;
    // Each sample is looked at once (phase detection and overdraw work on measurements, not on
    // updates), and only while it is fresh.
    const sample = drawFresh && drawFresh.seq !== session.lastSeq ? drawFresh : undefined;
    if (draw) session.lastSeq = draw.seq;
    const wired = connector.phases === 1 ? ONE_PHASE : THREE_PHASES;
    this.settleDecrease(connector, runtime, now);

    // A car switched to one phase that still draws on another after the settle time: the switch
    // did not happen (a charger or car that ignores it). Counted on every phase and at what it
    // draws at once, and no more switching this session.
    if (sample && online && session.onePhase && session.switchedAtMs !== undefined) {
      const settledAt = session.switchedAtMs + settleMs;
      const stray = wired.filter((i) => i !== 0 && (sample.chargerA[i] ?? 0) > ACTIVE_PHASE_A);
      if (sample.atMs >= settledAt && stray.length > 0) {
        session.onePhase = false;
        session.phaseSwitchRefused = true;
        session.candidatePhases = undefined;
        this.logger.warn(
          `charger ${connector.key} still draws on its ${stray.map((i) => `L${i + 1}`).join(', ')} ${Math.round((sample.atMs - session.switchedAtMs) / 1000)} s after it was switched to one phase: counted on every phase and at what it draws, no more phase switching this session`,
        );
        this.flagOverdraw(connector, runtime, sample, true);
      }
    }

    // Phase detection: a car counts on fewer phases only once two samples at least
    // phaseDetectionMs apart (and none between them different) showed it; a phase not measured
    // counts as used; any phase seen carrying current later is added at once (the safe side).
    if (sample && status === 'Charging' && !settling && !session.onePhase) {
      const active = wired.filter((i) => {
        const value = sample.chargerA[i];
        return value === null || value === undefined || value > ACTIVE_PHASE_A;
      });
      if (active.length > 0) {
        if (session.confirmedPhases) {
          const extra = active.filter((i) => !session.confirmedPhases?.includes(i));
          if (extra.length > 0) session.confirmedPhases = [...session.confirmedPhases, ...extra].sort();
        } else if (session.candidatePhases && sameList(session.candidatePhases, active)) {
          if (sample.atMs - (session.candidateFromMs ?? sample.atMs) >= control.phaseDetectionMs) {
            session.confirmedPhases = active;
          }
        } else {
          session.candidatePhases = active;
          session.candidateFromMs = sample.atMs;
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

    // Overdraw: a charger above its set-point (after the grace, or at once for one that did it
    // before) is counted at what it draws, and its set-point is not raised, until its readings show
    // it following for overdrawClearMs. Its last draw is kept when its readings stop.
    const sentLimit = runtime.sent?.limitA ?? 0;
    if (known && online && runtime.sent) {
      if (sample) this.judgeOverdraw(connector, runtime, sample);
      const over = session.lastOver;
      if (!session.overdrawing && over && session.overdrawSinceMs !== undefined) {
        const grace = session.overdrawEpisodes > 0 ? 0 : control.overdrawGraceMs;
        if (now - session.overdrawSinceMs >= grace) this.flagOverdraw(connector, runtime, undefined, false);
      }
    }
    if (session.overdrawing) session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);

    // Floors: what it may draw whatever we say.
    let floorA = triple(0);
    if (!known || !online) {
      for (const i of wired) floorA[connector.gridPhaseOf[i] ?? 0] = connector.offlineA;
    }
    // An overdrawing charger is counted at what it drew; on a phase it drew nothing on (it has just
    // been switched from one phase to three) at the most it drew on any: the excess comes with it.
    let overdrawExcessA = 0;
    if (session.overdrawing && session.overdrawFloorA) {
      const overdrawFloor = session.overdrawFloorA;
      const highest = Math.max(...overdrawFloor);
      overdrawExcessA = Math.max(0, highest - sentLimit);
      floorA = floorA.map((value, p) =>
        Math.max(value, overdrawFloor[p] || (gridPhases.includes(p as GridPhase) ? highest : 0)),
      ) as Triple;
    }

    // Under-drawing: a car well below its set-point for a while gets its draw plus a margin.
    let capA = connector.maxA;
    let capReason: string | undefined;
    // A car in SuspendedEV draws nothing even when no meter value says so.
    const drawn =
      status === 'SuspendedEV'
        ? (maxKnown(drawFresh?.chargerA, chargerPhases) ?? 0)
        : status === 'Charging' && drawFresh
          ? maxKnown(drawFresh.chargerA, chargerPhases)
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
    if (session.overdrawing && session.overdrawCapA !== undefined && session.overdrawCapA < capA) {
      capA = session.overdrawCapA;
      capReason = 'the charger draws above its set-point: not raised until it follows';
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
      overdrawExcessA,
      phasesOut,
      keepOn,
      keepOff,
      countsForPv: (mode === 'pv' || mode === 'minpv') && status !== 'SuspendedEV',
    };
  }

  /**
   * The current charger phase `i` may carry by the set-point in force at `atMs`: the set-point
   * (0 on a phase a one-phase set-point does not use), or, while the charger may still be following
   * a change (decreaseSettleMs; a phase switch's settle time), the higher of the old and the new.
   */
  private allowedAt(runtime: ConnectorRuntime, i: number, atMs: number, lenient: boolean): number {
    const sent = runtime.sent;
    if (!sent) return Number.POSITIVE_INFINITY;
    const on = (s: { limitA: number; phases: 1 | 2 | 3 }) => (s.phases === 1 && i !== 0 ? 0 : s.limitA);
    let allowed = on(sent);
    if (!lenient) return allowed;
    const previous = runtime.previousSent;
    const changedAt = runtime.lastChangeAtMs;
    if (previous && changedAt !== undefined && atMs < changedAt + this.siteModel.control.decreaseSettleMs) {
      allowed = Math.max(allowed, on(previous));
    }
    const session = runtime.session;
    if (
      session.switchedAtMs !== undefined &&
      atMs < session.switchedAtMs + this.siteModel.pv.phaseSwitchSettleMs &&
      session.previousChargerPhases?.includes(i)
    ) {
      allowed = Math.max(allowed, sent.limitA, previous?.limitA ?? 0);
    }
    return allowed;
  }

  /** Compares one sample of the charger's currents with its set-point (see viewConnector). */
  private judgeOverdraw(connector: Connector, runtime: ConnectorRuntime, sample: DrawSample): void {
    const { control } = this.siteModel;
    const session = runtime.session;
    const wired = connector.phases === 1 ? ONE_PHASE : THREE_PHASES;
    let over = false;
    let unknown = false;
    let maxA = 0;
    for (const i of wired) {
      const value = sample.chargerA[i];
      if (value === null || value === undefined) {
        unknown = true;
        continue;
      }
      maxA = Math.max(maxA, value);
      // While counted at its draw, only the set-point in force shows that it follows.
      if (value > this.allowedAt(runtime, i, sample.atMs, !session.overdrawing) + control.overdrawToleranceA)
        over = true;
    }
    if (over) {
      // A phase it does not report is taken at the highest it reports (the worst case).
      const chargerA = sample.chargerA.map((v) => v ?? maxA) as PerPhase;
      session.lastOver = { gridA: toGrid(connector, chargerA), maxA };
      session.compliantSinceMs = undefined;
      if (session.overdrawing) session.overdrawFloorA = session.lastOver.gridA;
      else session.overdrawSinceMs ??= sample.atMs;
      return;
    }
    if (unknown) return;
    session.lastOver = undefined;
    session.overdrawSinceMs = undefined;
    if (!session.overdrawing || sample.atMs < (runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY)) return;
    session.compliantSinceMs ??= sample.atMs;
    if (sample.atMs - session.compliantSinceMs >= control.overdrawClearMs) {
      session.overdrawing = false;
      session.overdrawFloorA = undefined;
      session.overdrawCapA = undefined;
      session.compliantSinceMs = undefined;
      this.logger.info(
        `charger ${connector.key} follows its set-point again: counted at its set-point, may be raised again`,
      );
    }
  }

  /** Counts the connector at what it draws (`sample`, else its newest sample above the set-point). */
  private flagOverdraw(
    connector: Connector,
    runtime: ConnectorRuntime,
    sample: DrawSample | undefined,
    quiet: boolean,
  ): void {
    const session = runtime.session;
    const gridA = sample ? toGrid(connector, fillUnknown(sample.chargerA)) : session.lastOver?.gridA;
    const maxA = sample ? (maxKnown(sample.chargerA, THREE_PHASES) ?? 0) : (session.lastOver?.maxA ?? 0);
    const sentLimit = runtime.sent?.limitA ?? 0;
    if (!session.overdrawing && !quiet) {
      this.logger.warn(
        `charger ${connector.key} draws ${maxA.toFixed(1)} A, above its set-point ${sentLimit} A: counted at what it draws and not raised until it follows for ${Math.round(this.siteModel.control.overdrawClearMs / 1000)} s, the others are reduced`,
      );
    }
    if (!session.overdrawing) session.overdrawEpisodes += 1;
    session.overdrawing = true;
    session.overdrawFloorA = gridA ? [...gridA] : session.overdrawFloorA;
    session.overdrawCapA = Math.min(session.overdrawCapA ?? sentLimit, sentLimit);
    session.overdrawSinceMs = undefined;
    session.compliantSinceMs = undefined;
  }

  /**
   * A decrease has taken effect once a sample measured at or after it shows the charger within
   * its new set-point on every phase, or decreaseSettleMs after it went out.
   */
  private settleDecrease(connector: Connector, runtime: ConnectorRuntime, now: number): void {
    const pending = runtime.pendingDecrease;
    if (!pending) return;
    const { control } = this.siteModel;
    if (now - pending.atMs >= control.decreaseSettleMs) {
      runtime.pendingDecrease = undefined;
      return;
    }
    const draw = runtime.draw;
    if (!draw || !runtime.sent || draw.atMs < pending.atMs) return;
    const wired = connector.phases === 1 ? ONE_PHASE : THREE_PHASES;
    const followed = wired.every((i) => {
      const value = draw.chargerA[i];
      if (value === null || value === undefined) return false;
      const allowed = this.allowedAt(runtime, i, draw.atMs, false);
      // The measurement tolerance must not reach the old value: after a decrease smaller than the
      // tolerance (9.5 -> 8.6 A), a reading of the old 9.5 A is not a charger that followed.
      const tolerance = Math.min(control.overdrawToleranceA, Math.max(0, (pending.fromA - allowed) / 2));
      return value <= allowed + tolerance;
    });
    if (followed) runtime.pendingDecrease = undefined;
  }

  /** The other loads of every circuit, children first (a circuit counts what its children count). */
  private viewCircuits(now: number): CircuitView[] {
    const site = this.siteModel;
    const views: CircuitView[] = [];
    for (const c of this.circuitOrder) {
      const circuit = site.circuits[c];
      if (!circuit) continue;
      const childA = triple(0);
      let childW = 0;
      for (const child of circuit.childIndexes) {
        const view = views[child];
        if (!view) continue;
        for (const p of GRID_PHASES) childA[p] += view.otherA[p];
        childW += view.otherW;
      }
      views[c] = this.viewCircuit(circuit, now, childA, childW);
    }
    return views;
  }

  /**
   * Other loads of one circuit, per phase. Without a meter: what its children count. With a meter,
   * each phase on its own: fresh, its reading (minus the chargers below for `includesChargers`,
   * never less than the children count; plus the children for `otherLoadsOnly`); stale or never
   * read, the fallback's other load (or the phase's last fresh value) in the same way.
   */
  private viewCircuit(circuit: Circuit, now: number, childA: Triple, childW: number): CircuitView {
    const site = this.siteModel;
    const override = this.siteLimits.get(circuit.id)?.limitA?.value;
    const limitA: Triple = override
      ? (circuit.limitA.map((l, p) => Math.min(l, override[p as GridPhase])) as Triple)
      : [...circuit.limitA];
    if (!circuit.meter) {
      return { limitA, otherA: childA, otherW: childW, stale: false, staleKey: 'fresh', overloaded: false };
    }
    const meter = this.meterRuntime(circuit);
    const includes = circuit.meter.location === 'includesChargers';
    const combine = (own: number, p: GridPhase) => (includes ? Math.max(own, childA[p]) : own + childA[p]);
    const never: GridPhase[] = [];
    const stale: GridPhase[] = [];
    const otherA = triple(0);
    // One reading usually stamps every phase alike: what the chargers drew then, once per time.
    const drawnAt = new Map<number, Triple>();
    const chargersAt = (atMs: number): Triple => {
      let drawn = drawnAt.get(atMs);
      if (!drawn) {
        drawn = this.chargersDrawBelow(circuit, atMs);
        drawnAt.set(atMs, drawn);
      }
      return drawn;
    };
    for (const p of GRID_PHASES) {
      const sample = meter.phaseA[p];
      if (!sample) never.push(p);
      else if (now - sample.atMs > circuit.meter.staleAfterMs) stale.push(p);
      else {
        // Subtract what the chargers below drew when the meter measured, but never more than they
        // may draw: over-subtracting is the unsafe side.
        const subtracted = includes ? chargersAt(sample.atMs)[p] : 0;
        const own = Math.max(0, sample.value - subtracted);
        meter.lastFreshOtherA[p] = own;
        otherA[p] = combine(own, p);
      }
    }
    const missing = [...never, ...stale].sort();
    const { otherLoadA, connectorLimitA } = circuit.fallback;
    for (const p of missing) {
      otherA[p] = combine(otherLoadA ? otherLoadA[p] : (meter.lastFreshOtherA[p] ?? 0), p);
    }
    let otherW = sum(otherA) * site.voltageV;
    const power = meter.powerW;
    if (missing.length === 0 && power && now - power.atMs <= circuit.meter.staleAfterMs) {
      const subtracted = includes ? sum(chargersAt(power.atMs)) : 0;
      const own = Math.max(0, power.value - subtracted * site.voltageV);
      otherW = includes ? Math.max(own, childW) : own + childW;
    }
    if (missing.length === 0) {
      return { limitA, otherA, otherW, stale: false, staleKey: 'fresh', overloaded: false };
    }
    const source = `meter "${circuit.meter.source}" of ${circuit.name}`;
    const phaseList = (phases: GridPhase[]) => phases.map((p) => `L${p + 1}`).join(', ');
    const newest = Math.max(...GRID_PHASES.map((p) => meter.phaseA[p]?.atMs ?? Number.NEGATIVE_INFINITY));
    let why: string;
    if (never.length === 3) why = `no reading yet from ${source}`;
    else if (stale.length === 3) why = `${source} is stale (${Math.round((now - newest) / 1000)} s)`;
    else {
      const parts = [
        ...(never.length > 0 ? [`no value yet for ${phaseList(never)}`] : []),
        ...(stale.length > 0
          ? [
              `${phaseList(stale)} stale (${stale.map((p) => Math.round((now - (meter.phaseA[p]?.atMs ?? now)) / 1000)).join('/')} s)`,
            ]
          : []),
      ];
      why = `${source}: ${parts.join(', ')}`;
    }
    const parts = [
      ...(otherLoadA ? [`other loads taken as ${otherLoadA.join('/')} A`] : []),
      ...(connectorLimitA !== undefined ? [`${connectorLimitA} A per connector`] : []),
    ];
    return {
      limitA,
      otherA,
      otherW,
      stale: true,
      staleKey: `never:${never.join('')} stale:${stale.join('')}`,
      stalePhases: missing,
      fallback: `fallback: ${why}, ${parts.join(', ')}`,
      connectorCapA: connectorLimitA,
      overloaded: false,
    };
  }

  /**
   * What the chargers below a circuit drew per grid phase when a meter measured at `atMs`, each at
   * most what it may draw, and only while its status says it charges: a car that stopped draws
   * nothing, whatever its charger's last reading said (subtracting it would make the other loads
   * look smaller than they are). A charger's measurement newer than the meter's may show a change
   * the meter has not seen yet: the lowest of its measurements since the one in force at `atMs`
   * is taken (for the same reason).
   */
  private chargersDrawBelow(circuit: Circuit, atMs: number): Triple {
    const subtract = triple(0);
    for (const k of circuit.connectorIndexes) {
      const view = this.views[k];
      const connector = this.siteModel.connectors[k];
      if (!view?.drawGridA || !connector) continue;
      const runtime = this.runtime(connector);
      if (runtime.state?.status !== 'Charging') continue;
      const sentLimit = runtime.sent?.limitA ?? 0;
      const drawn = drawSince(connector, runtime, atMs) ?? view.drawGridA;
      for (const p of GRID_PHASES) {
        const allowed = Math.max(view.gridPhases.includes(p) ? sentLimit : 0, view.floorA[p]);
        subtract[p] += Math.max(0, Math.min(drawn[p], view.drawGridA[p], allowed));
      }
    }
    return subtract;
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
      const power = circuit?.meter ? this.meters.get(circuit.id)?.powerW : undefined;
      if (circuit?.meter && power && now - power.atMs <= circuit.meter.staleAfterMs) gridPowerW = power.value;
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
      const override = this.siteLimits.get(circuit.id);
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
    if (session.phaseSwitchRefused) return false;
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
    session.candidatePhases = undefined;
    session.candidateFromMs = undefined;
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
    // Residual per circuit and phase after this allocation; and while decreases are on their way,
    // with each connector at the most it may still draw (its target, what it was sent, a decrease
    // it has not yet shown to follow).
    const usage = site.circuits.map(() => triple(0));
    const usageInFlight = site.circuits.map(() => triple(0));
    problem.connectors.forEach((demand, k) => {
      const limit = allocation.connectors[k]?.limitA ?? 0;
      const runtime = this.runtimeAt(k);
      const inFlight = Math.max(limit, runtime?.sent?.limitA ?? 0, runtime?.pendingDecrease?.fromA ?? 0);
      for (const c of demand.path) {
        for (const p of GRID_PHASES) {
          const own = demand.phases.includes(p);
          const row = usage[c];
          if (row) row[p] += Math.max(demand.floorA[p], own ? limit : 0);
          const flight = usageInFlight[c];
          if (flight) flight[p] += Math.max(demand.floorA[p], own ? inFlight : 0);
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
      const ownInFlight = Math.max(own, runtime.sent?.limitA ?? 0, runtime.pendingDecrease?.fromA ?? 0);
      const residualIn = (used: Triple[], mine: number) => (p: GridPhase) =>
        Math.min(
          ...connector.path.map((c) => {
            const capacity = problem.circuits[c]?.capacityA[p] ?? 0;
            const taken = used[c]?.[p] ?? 0;
            return capacity - taken + (demand.phases.includes(p) ? Math.max(0, mine - demand.floorA[p]) : 0);
          }),
        );
      const residual = residualIn(usage, own);
      const pvLimited = view.mode === 'pv' || view.mode === 'minpv';
      const ownPowerW = own * demand.phases.length * site.voltageV;
      const pvShareW = pvLimited ? Math.max(0, pvBudgetW - pvUsedW + ownPowerW) : Number.POSITIVE_INFINITY;
      // A charger that draws more than its set-point takes its excess to every phase it uses.
      const excessA = view.overdrawExcessA;
      const threeA =
        Math.min(connector.maxA, ...GRID_PHASES.map(residual), pvShareW / (3 * site.voltageV)) - excessA;
      const oneA =
        Math.min(connector.maxA, residual(connector.gridPhaseOf[0]), pvShareW / site.voltageV) - excessA;
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
          // Two more phases must fit without anyone's decrease: one still on its way waits.
          const residualNow = residualIn(usageInFlight, ownInFlight);
          const fitsNow =
            Math.min(...GRID_PHASES.map(residualNow)) - excessA >= connector.minA + pv.phaseSwitchUpMarginA;
          if (fitsNow && (!charging || now - session.upSinceMs >= pv.phaseSwitchUpDelayMs)) {
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
    const lasts = this.siteModel.connectors.map((connector) => this.runtime(connector).sent?.limitA ?? 0);
    const held: number[] = [];
    this.siteModel.connectors.forEach((connector, k) => {
      const runtime = this.runtime(connector);
      const view = this.views[k];
      if (view) view.holdReason = undefined;
      const target = targets[k] ?? 0;
      const last = lasts[k] ?? 0;
      if (!(target > last)) runtime.increaseSinceMs = undefined;
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
        // The ramp starts from the last sent value when the increase became possible (or at the
        // last change, if later): a quiet period does not allow a jump. At most one increase per
        // interval, and a partial step only once the interval since the ramp started has passed.
        runtime.increaseSinceMs ??= now;
        const changedAt = runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY;
        const elapsedMs = now - Math.max(changedAt, runtime.increaseSinceMs);
        const ramped = floorStep(last + (control.rampUpAPerS * elapsedMs) / 1000, control.stepA);
        const next = Math.min(target, ramped);
        if (
          now - changedAt < control.minUpdateIntervalMs ||
          (ramped < target && elapsedMs < control.minUpdateIntervalMs) ||
          next - last < control.minChangeA - EPS
        ) {
          finals[k] = last;
          return;
        }
        finals[k] = next;
      }
    });
    // While expressions re-evaluate after an input changed what they see, nobody is raised on the
    // old results (a decrease may still go out).
    if (this.gatingEvaluations.size > 0) {
      finals.forEach((value, k) => {
        if (value > (lasts[k] ?? 0)) {
          finals[k] = lasts[k] ?? 0;
          const view = this.views[k];
          if (view) view.holdReason = 'waiting for the priority and mode expressions';
        }
      });
    }
    if (held.length > 0 && checkAllocation(problem, finals).length > 0) {
      // A held small decrease is needed after all: send the decreases (before deciding which
      // increases must wait for them).
      for (const k of held) finals[k] = targets[k] ?? 0;
    }
    this.holdForPendingDecreases(problem, finals, lasts);
    const violations = checkAllocation(problem, finals);
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

  /**
   * An increase that needs current a decrease frees waits until the decrease has taken effect: the
   * invariant is checked with every connector decreased in this update, or decreased earlier without
   * a reading that shows it followed (and less than decreaseSettleMs ago), counted at its previous
   * set-point; an increase below a circuit that then fails is held.
   */
  private holdForPendingDecreases(problem: AllocationProblem, finals: number[], lasts: number[]): void {
    let any = false;
    const connectors = problem.connectors.map((demand, k) => {
      const runtime = this.runtimeAt(k);
      const last = lasts[k] ?? 0;
      const from = Math.max((finals[k] ?? 0) < last ? last : 0, runtime?.pendingDecrease?.fromA ?? 0);
      if (!(from > (finals[k] ?? 0))) return demand;
      any = true;
      const floorA = demand.floorA.map((floor, p) =>
        demand.phases.includes(p as GridPhase) ? Math.max(floor, from) : floor,
      ) as Triple;
      return { ...demand, floorA };
    });
    if (!any) return;
    const worst: AllocationProblem = { ...problem, connectors };
    for (let round = 0; round <= finals.length; round++) {
      const violated = new Set(
        checkAllocation(worst, finals)
          .filter((v) => v.kind !== 'minimum' && v.kind !== 'maximum')
          .map((v) => v.index),
      );
      const hold = problem.connectors.flatMap((demand, k) =>
        (finals[k] ?? 0) > (lasts[k] ?? 0) && demand.path.some((c) => violated.has(c)) ? [k] : [],
      );
      if (hold.length === 0) return;
      const waitingFor = this.siteModel.connectors
        .filter((_, k) => connectors[k] !== problem.connectors[k])
        .map((c) => c.key)
        .join(', ');
      for (const k of hold) {
        finals[k] = lasts[k] ?? 0;
        const view = this.views[k];
        if (view) view.holdReason = `waiting for ${waitingFor} to follow a decrease`;
      }
    }
  }

  private emitChanges(now: number, finals: number[], allocation: ConnectorAllocation[]): boolean {
    const changes: { k: number; limitA: number; phases: 1 | 2 | 3; reason: string; decrease: boolean }[] = [];
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
      const before = last?.limitA ?? 0;
      const decrease = limitA < before || (limitA === before && phases < (last?.phases ?? 3));
      changes.push({ k, limitA, phases, reason, decrease });
    });
    // Decreases go out first: a charger that applies its increase before another applies its
    // decrease must not find the circuit full.
    changes.sort((a, b) => Number(b.decrease) - Number(a.decrease) || a.k - b.k);
    for (const { k, limitA, phases, reason } of changes) {
      const connector = this.siteModel.connectors[k];
      const view = this.views[k];
      if (!connector || !view) continue;
      const runtime = this.runtime(connector);
      const last = runtime.sent;
      const before = last?.limitA ?? 0;
      if (limitA > 0 && before === 0) {
        runtime.chargingSinceMs = now;
        runtime.offUntilMs = undefined;
        // Until now it had no current to draw: a meter reading from before this is compared with 0.
        remember(runtime, now, [0, 0, 0]);
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
      // Until the charger shows it followed, it may still draw the higher value: after a decrease,
      // and when it is back online with a car charging (until now it ran on its own fallback).
      const fromA =
        last && runtime.resend && runtime.state?.status === 'Charging'
          ? Math.max(before, connector.offlineA)
          : before;
      if (limitA < fromA) {
        const pending = runtime.pendingDecrease;
        runtime.pendingDecrease = { fromA: Math.max(fromA, pending?.fromA ?? 0), atMs: now };
      }
      runtime.resend = false;
      if (!last || last.limitA !== limitA || last.phases !== phases) {
        runtime.lastChangeAtMs = now;
        if (last) runtime.previousSent = { limitA: last.limitA, phases: last.phases };
        runtime.increaseSinceMs = undefined;
      }
      runtime.sent = { limitA, phases, reason, atMs: now };
      this.emit('setPoint', {
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        limitA,
        phases,
        reason,
      });
    }
    return changes.length > 0;
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
    if (entry.state === 'charging' && limitA === 0 && view.holdReason) {
      return `${prefix}starting at ${entry.limitA} A when possible: ${view.holdReason}`;
    }
    if (entry.state === 'paused' || limitA === 0) {
      const why = entry.bound ? this.describeBound(entry.bound, connector, view) : 'not enough current';
      return `${prefix}paused: ${why} for the minimum ${connector.minA} A`;
    }
    const target = entry.limitA;
    let base: string;
    if (limitA < target - EPS && view.holdReason) base = `${view.holdReason} (then up to ${target} A)`;
    else if (limitA < target - EPS) base = `ramping up to ${target} A`;
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
      case 'chargersPower': {
        const id = this.siteModel.circuits[bound.circuit]?.id ?? '';
        return `${this.siteLimits.get(id)?.chargersPowerLimitW?.reason ?? 'site limit'} on ${circuitName(bound.circuit)}`;
      }
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
      const phaseA = meter?.phaseA ?? [undefined, undefined, undefined];
      const measuredAt = [
        ...phaseA.map((s) => s?.atMs ?? Number.NEGATIVE_INFINITY),
        meter?.powerW?.atMs ?? Number.NEGATIVE_INFINITY,
      ];
      const newestMs = Math.max(...measuredAt);
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
      const override = this.siteLimits.get(circuit.id);
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
                ...(Number.isFinite(newestMs) ? { ageMs: now - newestMs } : {}),
                ...(phaseA.every((s) => s !== undefined)
                  ? { measuredA: phaseA.map((s) => round2(s?.value ?? 0)) as Triple }
                  : {}),
                ...(meter?.powerW === undefined ? {} : { measuredW: Math.round(meter.powerW.value) }),
                ...(view?.stalePhases?.length ? { stalePhases: view.stalePhases.map((p) => p + 1) } : {}),
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

/** Highest of the measured `values` at the given charger phases; undefined when none is measured. */
function maxKnown(values: PerPhase | undefined, phases: readonly number[]): number | undefined {
  let highest: number | undefined;
  if (!values) return highest;
  for (const i of phases) {
    const value = values[i as GridPhase];
    if (value !== null && value !== undefined) highest = Math.max(highest ?? value, value);
  }
  return highest;
}

/** The phases not measured taken at the highest measured one (the worst case for a floor). */
function fillUnknown(values: PerPhase): PerPhase {
  const highest = maxKnown(values, THREE_PHASES) ?? 0;
  return values.map((v) => v ?? highest) as PerPhase;
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
  return {
    key,
    onePhase: false,
    switches: 0,
    phaseSwitchRefused: false,
    overdrawing: false,
    overdrawEpisodes: 0,
    pauses: 0,
    pvEnabled: false,
  };
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

/** Keeps a measurement (or a known zero) in the connector's short history. */
function remember(runtime: ConnectorRuntime, atMs: number, chargerA: PerPhase): void {
  const history = runtime.drawHistory;
  const last = history[history.length - 1];
  if (last && atMs < last.atMs) return;
  history.push({ atMs, chargerA });
  if (history.length > DRAW_HISTORY) history.shift();
}

/**
 * Per grid phase, the lowest the connector drew from the measurement in force at `atMs` (the
 * newest at or before it; all kept when none is that old) to now; undefined without any.
 */
function drawSince(connector: Connector, runtime: ConnectorRuntime, atMs: number): Triple | undefined {
  const history = runtime.drawHistory;
  if (history.length === 0) return undefined;
  let from = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    if ((history[i]?.atMs ?? Number.POSITIVE_INFINITY) <= atMs) {
      from = i;
      break;
    }
  }
  const lowest: Triple = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let i = from; i < history.length; i++) {
    const entry = history[i];
    if (!entry) continue;
    const grid = toGrid(connector, entry.chargerA);
    for (const p of GRID_PHASES) lowest[p] = Math.min(lowest[p], grid[p]);
  }
  return lowest;
}

/** Grid phase currents of the charger's phases through its rotation (a phase not measured: 0). */
function toGrid(connector: Connector, chargerA: PerPhase): Triple {
  const grid = triple(0);
  const wired = connector.phases === 1 ? [0] : [0, 1, 2];
  for (const i of wired) grid[connector.gridPhaseOf[i] ?? 0] += chargerA[i] ?? 0;
  return grid;
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
