/**
 * The stateful controller around the pure allocator: it composes the stages (each in the room
 * docs/ARCHITECTURE.md names), each of which owns one concern and its state, and runs them in
 * order on every update. All time comes from the injected Clock; the same inputs at the same
 * times give the same outputs. Every update: (1) the observer (evidence/) sees what each
 * connector does and how it counts, (2) the circuits stage counts the other loads per circuit
 * with each blind meter's fallback (evidence/circuit-loads.ts), (3) PV enable and disable
 * (modes/pv.ts), (4) `allocate` (allocation/, pure), (5) phase switches, (6) the update policy
 * and the invariant on exactly what goes out (control/), (7) the changed set-points go out,
 * decreases first, and the summary (report/). Every input is checked at the boundary (inputs.ts).
 */
import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock';
import type { ConnectorState, Reading, SetPoint } from '../contracts';
import { type Logger, silentLogger, WarnOnce } from '../log';
import {
  type AllocationProblem,
  allocate,
  type ConnectorAllocation,
  type ConnectorDemand,
} from './allocation/allocate';
import { buildProblem, keepOrder } from './allocation/from-update';
import type { DlmCommand } from './commands';
import { capKeptLimits, chooseFallbacks, type OfflineContext, offlineCheck } from './control/offline-fit';
import { decidePhaseSwitches } from './control/phase-switching';
import { UpdatePolicy } from './control/policy';
import { UpdateScheduler } from './control/scheduler';
import { CircuitLoads } from './evidence/circuit-loads';
import { Measurements } from './evidence/measurements';
import { ConnectorObserver } from './evidence/observer';
import { LearnedMemory, type LoadManagerMemoryStore } from './memory';
import { Preferences } from './modes/preferences';
import { PricePlans } from './modes/price-plans';
import { PvSurplus } from './modes/pv';
import { buildSummary, type ExplainContext, reasonFor, reasonsInForce } from './report/explain';
import type { SiteSummary } from './report/summary';
import { ConnectorRuntimes } from './runtime';
import type { SiteConfig } from './site/config';
import { SiteLimits } from './site/limits';
import type { Site } from './site/model';
import { parseSite } from './site/validate';

export type { DlmCommand } from './commands';
export type { LoadManagerMemory, LoadManagerMemoryStore } from './memory';

export interface LoadManagerOptions {
  site: Site | SiteConfig;
  clock?: Clock;
  logger?: Logger;
  /**
   * Readings and connector states that arrive in one turn of the event loop share one update
   * (run on a zero-delay timer of the clock) instead of one update each. An update costs time in
   * proportion to the site (about 2 ms for 1,000 connectors: bench:dlm); a large site whose
   * chargers send meter values every few seconds would otherwise keep a core busy. A decrease
   * waits at most until the next turn. Default false: every input updates at once.
   */
  coalesceInputs?: boolean;
  /**
   * Where what the load manager learns is kept across restarts: the most each circuit's other
   * loads drew (what a blind meter counts them at) and how long each charger takes to follow a
   * decrease. Without it, both are learned anew after every start (a blind meter's circuit then
   * knows only what it saw since). `lib/store/json-memory.ts` keeps it in a file.
   */
  memory?: LoadManagerMemoryStore;
}

export interface LoadManagerEvents {
  setPoint: [SetPoint];
  summary: [SiteSummary];
}

export class LoadManager extends EventEmitter<LoadManagerEvents> {
  private siteModel: Site;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly runtimes = new ConnectorRuntimes();
  private readonly measurements = new Measurements();
  private readonly observer: ConnectorObserver;
  private readonly circuits: CircuitLoads;
  private readonly siteLimits = new SiteLimits();
  private readonly pv = new PvSurplus();
  private readonly prices = new PricePlans();
  private readonly preferences: Preferences;
  private readonly policy: UpdatePolicy;
  private readonly scheduler: UpdateScheduler;
  /** Input problems are logged each once. */
  private readonly inputProblems: WarnOnce;
  private lastSummaryAtMs: number | undefined;
  private lastEvaluationAtMs: number | undefined;
  private lastSummary: SiteSummary | undefined;
  private lastProblem: AllocationProblem | undefined;
  /** The last update's allocation (what the reasons explain), and the site it was made for. */
  private lastAllocation: { site: Site; connectors: readonly ConnectorAllocation[] } | undefined;
  /** The connectors' demands (by connector index): one object each, written again by every problem. */
  private readonly demands: ConnectorDemand[] = [];
  /** The last update's keep order (where the next sort starts). */
  private lastOrder: readonly number[] = [];
  private readonly memory: LearnedMemory | undefined;

  constructor(options: LoadManagerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.inputProblems = new WarnOnce(this.logger);
    this.observer = new ConnectorObserver(this.logger);
    this.circuits = new CircuitLoads(this.logger);
    this.policy = new UpdatePolicy(this.logger);
    this.scheduler = new UpdateScheduler(this.clock, options.coalesceInputs ?? false, {
      tickMs: () => this.siteModel.control.tickMs,
      updateOnce: () => this.updateOnce(),
    });
    this.preferences = new Preferences(
      {
        site: () => this.siteModel,
        runtimes: this.runtimes,
        now: () => this.clock.now(),
        evaluated: (connector) => {
          if (this.scheduler.stopped) return;
          try {
            this.scheduler.update();
          } catch (err) {
            this.logger.error(
              `update after evaluating the expressions of ${connector.key} failed: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        },
      },
      this.logger,
    );
    this.siteModel = isSite(options.site) ? options.site : parseSite(options.site);
    this.adoptSite(this.siteModel);
    this.memory =
      options.memory &&
      new LearnedMemory(options.memory, this.circuits.peaks, this.observer.responseTimes, this.logger);
  }

  get site(): Site {
    return this.siteModel;
  }

  /** Starts the periodic update (staleness, timers) and runs the first update. */
  start(): void {
    this.scheduler.start();
  }

  /** Stops the periodic update; from now on nothing is updated or emitted (not even by an expression that resolves later). */
  stop(): void {
    this.scheduler.stop();
    this.memory?.save(this.clock.now(), true);
  }

  /**
   * A charger confirmed the limit it holds on a connector (a flow that sends set-points another
   * way than ampflow-charging-profile says so; that node's confirmations arrive with the connector
   * states): once a connector has confirmations, a reading proves a decrease only after the
   * decrease was confirmed (evidence/overdraw.ts settleDecrease). Returns whether the connector is known.
   */
  limitConfirmed(input: {
    chargePointId: string;
    connectorId: number;
    limitA: number;
    since?: string;
  }): boolean {
    const accepted = this.observer.confirm(this.siteModel, this.runtimes, input, this.clock.now());
    if (accepted) this.scheduler.afterInput();
    return accepted;
  }

  /** Resolves when every pending expression evaluation has been applied. */
  async settled(): Promise<void> {
    await this.preferences.settled();
  }

  /** The set-points in force, one per connector. */
  setPoints(): SetPoint[] {
    return this.runtimes.setPoints(this.siteModel, this.reasons());
  }

  /** The latest summary (computed by the last update). */
  summary(): SiteSummary {
    if (!this.lastProblem) this.scheduler.update();
    this.lastSummary ??= this.buildSummary();
    return this.lastSummary;
  }

  /**
   * A meter reading: a circuit's meter, a charger's own meter (`<chargePointId>/<connectorId>`), the
   * battery. Values that are not numbers are taken as not measured (and logged, once per source and
   * field); each phase of a circuit's meter keeps its own value and age.
   */
  reading(reading: Reading): void {
    const problems: string[] = [];
    const used = this.measurements.ingest(
      this.siteModel,
      reading,
      this.clock.now(),
      (connector) => this.runtimes.of(connector),
      problems,
      (key) => this.runtimes.connectorOf(this.siteModel, key),
    );
    this.report(problems);
    if (used) this.scheduler.afterInput();
  }

  /** A meter says it is stale (ampflow-meter's `msg.stale`): stale until a newer reading; whether it is a circuit's. */
  meterStale(source: string, why: string): boolean {
    const used = this.measurements.reportStale(this.siteModel, source, why, this.clock.now());
    if (used) this.scheduler.afterInput();
    return used;
  }

  /**
   * A connector state from the central system (status, transaction, measured currents, online).
   * Its currents are stamped with the state's `lastSeen` (else its arrival); a state that repeats
   * the currents, energy and power of the last one with a `lastSeen` is not a new measurement.
   *
   * A state that only confirms a limit (`limitInForce`: the central system republishes the state
   * each time a charger accepts one) is kept without an update of its own: a confirmation can only
   * let a decrease count as followed sooner (evidence/overdraw.ts settleDecrease, which needs a reading after
   * it as well), never lower a limit, so it waits for the next update (the next reading, state or
   * tick). With 100 connectors each change brought 100 confirmations and 4 to 8 updates of the
   * whole site while the change's last limits were still going out (bench:latency).
   */
  connectorState(input: ConnectorState): void {
    const problems: string[] = [];
    const accepted = this.observer.accept(this.siteModel, this.runtimes, input, this.clock.now(), problems);
    this.report(problems);
    if (!accepted) return;
    // An expression may read the whole state, the confirmation too: it updates when it resolved.
    this.preferences.evaluate(accepted.connector, 'input');
    if (accepted.changed) this.scheduler.afterInput();
  }

  private report(problems: string[]): void {
    for (const message of problems) this.inputProblems.warn(message);
  }

  /** A command from the flow; returns what it did (for the node's log). */
  command(command: DlmCommand): string {
    let result: string;
    switch (command.type) {
      case 'mode':
      case 'priority':
        result = this.preferences.command(command);
        break;
      case 'siteLimit':
        result = this.siteLimits.command(this.siteModel, command, this.clock.now());
        break;
      case 'pv':
        result = this.pv.command(command);
        break;
      case 'site':
        this.replaceSite(command.site);
        result = `site replaced: ${this.siteModel.circuits.length} circuits, ${this.siteModel.connectors.length} connectors`;
        break;
      case 'summary':
        this.scheduler.update();
        this.emitSummary();
        return 'summary sent';
      default: // prices, pvForecast, plan
        result = this.prices.command(command, this.siteModel);
    }
    this.scheduler.update();
    return result;
  }

  /**
   * Replaces the site model. Connectors keep their state by key, meters by circuit id (when the
   * circuit keeps the same meter source), site limits (a §14a or tariff limit) by circuit id; a
   * site limit whose circuit is gone is dropped, with a log line.
   */
  replaceSite(config: Site | SiteConfig): void {
    const site = isSite(config) ? config : parseSite(config);
    const oldBatterySource = this.siteModel.pv.batterySource;
    this.siteModel = site;
    this.measurements.adopt(site, oldBatterySource);
    this.siteLimits.adopt(site, this.logger);
    this.preferences.reset();
    this.adoptSite(site);
  }

  /** Re-evaluates now (also called by the periodic timer). */
  tick(): void {
    this.scheduler.update();
  }

  /**
   * Runs `inputs` (several readings and states that arrived together) and updates once after
   * them instead of once per input.
   */
  batch(inputs: () => void): void {
    this.scheduler.batch(inputs);
  }

  /** How many updates have run (each allocates the whole site): for diagnostics and benchmarks. */
  get updateCount(): number {
    return this.scheduler.updateCount;
  }

  private adoptSite(site: Site): void {
    this.runtimes.adopt(site);
    this.circuits.adopt(site);
    for (const connector of site.connectors) this.preferences.evaluate(connector, 'input');
  }

  /** Runs the stages once, in order (see the module comment). */
  private updateOnce(): void {
    const now = this.clock.now();
    const site = this.siteModel;
    const { control } = site;
    this.siteLimits.expire(now);
    if (
      this.lastEvaluationAtMs === undefined ||
      now - this.lastEvaluationAtMs >= control.minUpdateIntervalMs
    ) {
      // Expressions may depend on time ($now()): re-evaluate now and then.
      if (this.lastEvaluationAtMs !== undefined)
        for (const c of site.connectors) this.preferences.evaluate(c, 'time');
      this.lastEvaluationAtMs = now;
    }

    this.prices.decide({ ...this.explainContext(), surplusW: this.pv.state?.surplusW }, now); // modes for now
    this.observer.observeAll(site, this.runtimes, now);
    this.circuits.update(this.circuitContext(), now);
    this.circuits.capConnectors(site, this.observer.views);
    let order = keepOrder(this.explainContext(), this.lastOrder);
    capKeptLimits(this.offlineContext(order));
    const pv = this.pv.decide(
      {
        site,
        logger: this.logger,
        measurements: this.measurements,
        runtimes: this.runtimes,
        views: this.observer.views,
        order,
      },
      now,
    );
    let problem = buildProblem(this.explainContext(), now, order, this.pv.state, pv.budgetW, this.demands);
    let allocation = allocate(problem);
    const switchContext = { site, logger: this.logger, runtimes: this.runtimes, views: this.observer.views };
    // The surplus the pv cars share (less what cars with a departure plan take first: allocation/from-update.ts).
    if (decidePhaseSwitches(switchContext, now, problem, allocation, problem.pvBudgetW)) {
      // The switched connectors count on other phases: view and allocate again (other loads as counted).
      this.observer.observeAll(site, this.runtimes, now);
      this.circuits.capConnectors(site, this.observer.views);
      order = keepOrder(this.explainContext(), order);
      capKeptLimits(this.offlineContext(order));
      this.pv.capResting(site, this.observer.views);
      problem = buildProblem(this.explainContext(), now, order, this.pv.state, pv.budgetW, this.demands);
      allocation = allocate(problem);
    }
    this.lastProblem = problem;
    this.lastAllocation = { site, connectors: allocation.connectors };
    this.lastOrder = order;
    this.pv.allocated(site, problem, allocation);
    const { runtimes, observer, circuits } = this;
    const policyContext = { site, runtimes, views: observer.views, circuitViews: circuits.views };
    const finals = this.policy.apply(
      policyContext,
      now,
      problem,
      allocation.connectors,
      this.preferences.waiting,
    );
    const explain = this.explainContext();
    const changed = this.policy.send(
      policyContext,
      now,
      finals,
      allocation.connectors,
      (connector, view, entry, limitA) => reasonFor(explain, connector, view, entry, limitA),
      (setPoint) => this.emit('setPoint', setPoint),
      chooseFallbacks(this.offlineContext(order), finals),
    );
    const staleChanged = this.circuits.logChanges(site, this.measurements, now);
    this.memory?.save(now, false);
    // Built when someone looks (an emit below, or summary()): most updates change nothing visible.
    this.lastSummary = undefined;
    if (
      changed ||
      staleChanged ||
      this.lastSummaryAtMs === undefined ||
      now - this.lastSummaryAtMs >= control.summaryIntervalMs
    )
      this.emitSummary();
  }

  /** Why each set-point in force is what it is (report/explain.ts), from the last update's allocation. */
  private reasons(): (k: number) => string {
    const allocation = this.lastAllocation;
    return reasonsInForce(
      this.explainContext(),
      allocation?.site === this.siteModel ? allocation : undefined,
    );
  }

  private circuitContext() {
    return {
      site: this.siteModel,
      measurements: this.measurements,
      siteLimits: this.siteLimits,
      runtimes: this.runtimes,
      views: this.observer.views,
    };
  }

  private explainContext(): ExplainContext {
    return {
      site: this.siteModel,
      runtimes: this.runtimes,
      views: this.observer.views,
      circuitViews: this.circuits.views,
      siteLimits: this.siteLimits,
    };
  }

  private offlineContext(order?: readonly number[]): OfflineContext {
    const { siteModel: site, runtimes, circuits } = this;
    return { site, runtimes, views: this.observer.views, peaks: circuits.peaks, ...(order ? { order } : {}) };
  }

  private emitSummary(): void {
    this.lastSummaryAtMs = this.clock.now();
    if (this.listenerCount('summary') === 0) return;
    this.lastSummary ??= this.buildSummary();
    this.emit('summary', this.lastSummary);
  }

  private buildSummary(): SiteSummary {
    return buildSummary(
      this.explainContext(),
      {
        measurements: this.measurements,
        problem: this.lastProblem,
        internalProblems: this.policy.internalProblems,
        unknownConnectors: this.observer.unknownConnectors,
        pv: this.pv.state,
        prices: this.prices.summary(this.clock.now()),
        offline: offlineCheck(this.offlineContext()),
        reasonOf: this.reasons(),
      },
      this.clock.now(),
    );
  }
}

function isSite(value: Site | SiteConfig): value is Site {
  return Array.isArray((value as Site).rootIndexes);
}
