/**
 * The stateful controller around the pure allocator: it composes the stages (each in the room
 * docs/ARCHITECTURE.md names), each of which owns one concern and its state, and runs them in
 * order on every update. All time comes from the injected Clock; the same inputs at the same
 * times give the same outputs. Every update: (1) the observer (evidence/) sees what each
 * connector does and how it counts, (2) the circuits stage counts the other loads per circuit
 * with each blind meter's fallback (evidence/circuit-view.ts), (3) PV enable and disable
 * (modes/pv.ts), (4) `allocate` (allocation/, pure), (5) phase switches, (6) the update policy
 * and the invariant on exactly what goes out (control/), (7) the changed set-points go out,
 * decreases first, and the summary (report/last-update.ts). Before the observer, the modes
 * (modes/mode-stages.ts) evaluate the expressions again as time passes and the price stage
 * decides. Every input is checked at the boundary (inputs.ts).
 */
import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock';
import type { ConnectorState, Reading, SetPoint, StaleCause } from '../contracts';
import { type Logger, silentLogger, WarnOnce } from '../log';
import type { ConnectorDemand } from './allocation/allocate';
import { allocateKeepingOvershoot, buildProblem, keepOrder } from './allocation/from-update';
import { pvCouldTakeW } from './allocation/pv-could-take';
import type { DlmCommand } from './commands';
import { capKeptLimits, chooseFallbacks, type OfflineContext, offlineCheck } from './control/offline-fit';
import { decidePhaseSwitches } from './control/phase-switching';
import { UpdatePolicy } from './control/policy';
import { UpdateScheduler } from './control/scheduler';
import { CircuitLoads } from './evidence/circuit-view';
import { Measurements } from './evidence/measurements';
import { ConnectorObserver } from './evidence/observer';
import { LearnedMemory, type LoadManagerMemoryStore } from './memory';
import { ModeStages } from './modes/mode-stages';
import { type ExplainContext, reasonFor } from './report/explain';
import { LastUpdate } from './report/last-update';
import type { SiteSummary } from './report/summary';
import { ConnectorRuntimes } from './runtime';
import type { SiteConfig } from './site/config';
import { SiteLimits } from './site/limits';
import type { Site } from './site/model';
import { parseSite } from './site/validate';
import { english, type Reason } from './words';

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
   * Where what the load manager learns and is told is kept across restarts (memory.ts): the most
   * each circuit's other loads drew (what a blind meter counts them at), how long each charger
   * takes to follow a decrease, and the modes, prices, PV forecast, plans and PV settings the flow
   * sent, with each car's PV timers. Without it, all of it is lost at every start (a blind meter's
   * circuit then knows only what it saw since). `lib/store/json-memory.ts` keeps it in a file.
   */
  memory?: LoadManagerMemoryStore;
}

export interface LoadManagerEvents {
  /** A set-point, and its reason in message keys and parameters (lib/dlm/words.ts) beside `reason`'s text. */
  setPoint: [SetPoint, Reason];
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
  /** The modes: preferences, prices and PV (modes/mode-stages.ts). */
  private readonly modes: ModeStages;
  private readonly policy: UpdatePolicy;
  private readonly scheduler: UpdateScheduler;
  /** Input problems are logged each once. */
  private readonly inputProblems: WarnOnce;
  /** The last update's problem, allocation and summary (report/last-update.ts). */
  private readonly lastUpdate: LastUpdate;
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
    this.modes = new ModeStages(
      {
        site: () => this.siteModel,
        runtimes: this.runtimes,
        now: () => this.clock.now(),
        stopped: () => this.scheduler.stopped,
        update: () => this.scheduler.update(),
      },
      this.logger,
    );
    this.lastUpdate = new LastUpdate({
      site: () => this.siteModel,
      now: () => this.clock.now(),
      explainContext: () => this.explainContext(),
      summaryInputs: (now) => ({
        measurements: this.measurements,
        internalProblems: this.policy.internalProblems,
        unknownConnectors: this.observer.unknownConnectors,
        pv: this.modes.pv.state,
        prices: this.modes.prices.summary(now),
        offline: offlineCheck(this.offlineContext()),
      }),
      listening: () => this.listenerCount('summary') > 0,
      send: (summary) => this.emit('summary', summary),
    });
    this.siteModel = isSite(options.site) ? options.site : parseSite(options.site);
    this.adoptSite(this.siteModel, false);
    this.memory =
      options.memory &&
      new LearnedMemory(
        options.memory,
        this.circuits.peaks,
        this.observer.responseTimes,
        this.modes,
        this.logger,
        this.clock.now(),
      );
  }

  get site(): Site {
    return this.siteModel;
  }

  /** Starts the periodic update (staleness, timers) and runs the first update. */
  start(): void {
    this.scheduler.start();
  }

  /**
   * Stops the periodic update; from now on nothing is updated or emitted (not even by an
   * expression that resolves later).
   */
  stop(): void {
    this.scheduler.stop();
    this.memory?.save(this.clock.now(), true);
  }

  /**
   * A charger confirmed the limit it holds on a connector (a flow that sends set-points another
   * way than ampflow-charging-profile says so; that node's confirmations arrive with the connector
   * states): once a connector has confirmations, a reading proves a decrease only after the
   * decrease was confirmed (evidence/decrease-settle.ts settleDecrease). Returns whether the connector is known.
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
    await this.modes.preferences.settled();
  }

  /** The set-points in force, one per connector. */
  setPoints(): SetPoint[] {
    const reasons = this.lastUpdate.reasons();
    return this.runtimes.setPoints(this.siteModel, (k) => english(reasons(k)));
  }

  /** The latest summary (computed by the last update). */
  summary(): SiteSummary {
    if (!this.lastUpdate.ran) this.scheduler.update();
    return this.lastUpdate.latest();
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

  /**
   * A meter says it is stale (ampflow-meter's `msg.stale`): stale until a newer reading. Returns
   * whether it is a circuit's.
   */
  meterStale(source: string, why?: string, cause?: StaleCause): boolean {
    const used = this.measurements.reportStale(this.siteModel, source, { why, cause }, this.clock.now());
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
   * let a decrease count as followed sooner (evidence/decrease-settle.ts settleDecrease, which needs a reading after
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
    this.modes.preferences.evaluate(accepted.connector, 'input');
    if (accepted.changed) this.scheduler.afterInput();
  }

  private report(problems: string[]): void {
    for (const message of problems) this.inputProblems.warn(message);
  }

  /** A command from the flow; returns what it did (for the node's log). */
  command(command: DlmCommand): string {
    let result: string;
    switch (command.type) {
      case 'siteLimit':
        result = this.siteLimits.command(this.siteModel, command, this.clock.now());
        break;
      case 'site': {
        this.replaceSite(command.site);
        const { circuits, connectors } = this.siteModel;
        result = `site replaced: ${circuits.length} circuits, ${connectors.length} connectors`;
        break;
      }
      case 'summary':
        this.scheduler.update();
        this.lastUpdate.send();
        return 'summary sent';
      default: // mode, priority, pv, prices, pvForecast, plan
        result = this.modes.command(command, this.siteModel, this.clock.now());
    }
    this.lastUpdate.command();
    this.scheduler.update();
    // What the flow said is kept at once: a restart right after it must not lose it.
    this.memory?.save(this.clock.now(), false);
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
    this.adoptSite(site, true);
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

  private adoptSite(site: Site, replaced: boolean): void {
    this.runtimes.adopt(site);
    this.circuits.adopt(site);
    this.modes.adopt(site, replaced);
  }

  /** Runs the stages once, in order (see the module comment). */
  private updateOnce(): void {
    const now = this.clock.now();
    const site = this.siteModel;
    const { control } = site;
    const { logger, measurements, siteLimits, runtimes, observer, circuits } = this;
    const { pv } = this.modes;
    // The observer's views: one array, written again by every pass.
    const views = observer.views;
    siteLimits.expire(now);
    this.modes.beforeObserver(this.explainContext(), now);
    observer.observeAll(site, runtimes, now);
    circuits.update({ site, measurements, siteLimits, runtimes, views }, now);
    circuits.capConnectors(site, views);
    let order = keepOrder(this.explainContext(), this.lastOrder);
    let keptA = capKeptLimits(this.offlineContext(order));
    const { budgetW } = pv.decide({ site, logger, measurements, runtimes, views, order }, now);
    let { problem, allocation } = allocateKeepingOvershoot(
      this.explainContext(),
      buildProblem(this.explainContext(), now, order, pv.state, budgetW, this.demands),
    );
    // The surplus the pv cars share (less what cars with a departure plan take first:
    // allocation/from-update.ts).
    if (decidePhaseSwitches({ site, logger, runtimes, views }, now, problem, allocation, problem.pvBudgetW)) {
      // The switched connectors count on other phases: view and allocate again (other loads as counted).
      observer.observeAll(site, runtimes, now);
      circuits.capConnectors(site, views);
      order = keepOrder(this.explainContext(), order);
      keptA = capKeptLimits(this.offlineContext(order));
      pv.capResting(site, views);
      ({ problem, allocation } = allocateKeepingOvershoot(
        this.explainContext(),
        buildProblem(this.explainContext(), now, order, pv.state, budgetW, this.demands),
      ));
    }
    this.lastUpdate.allocated(site, problem, allocation.connectors);
    this.lastOrder = order;
    // A site without PV (no surplus computed this update) skips the pass over its connectors.
    pv.allocated(site, pv.state ? pvCouldTakeW(problem, allocation, pv.couldTakeW) : undefined);
    const policyContext = { site, runtimes, views, circuitViews: circuits.views };
    const { waiting } = this.modes.preferences;
    const finals = this.policy.apply(policyContext, now, problem, allocation.connectors, waiting);
    const explain = this.explainContext();
    const changed = this.policy.send(
      policyContext,
      now,
      finals,
      allocation.connectors,
      (connector, view, entry, limitA) => reasonFor(explain, connector, view, entry, limitA),
      (setPoint, words) => this.emit('setPoint', setPoint, words),
      chooseFallbacks(this.offlineContext(order), finals, keptA),
    );
    const staleChanged = circuits.logChanges(site, measurements, now);
    this.memory?.save(now, false);
    this.lastUpdate.finished(now, changed || staleChanged, control.summaryIntervalMs);
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
    return {
      site,
      runtimes,
      views: this.observer.views,
      peaks: circuits.peaks,
      circuitViews: circuits.views,
      ...(order ? { order } : {}),
    };
  }
}

function isSite(value: Site | SiteConfig): value is Site {
  return Array.isArray((value as Site).rootIndexes);
}
