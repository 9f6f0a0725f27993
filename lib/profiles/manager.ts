import { EventEmitter } from 'node:events';
import type { Clock } from '../clock';
import type { ChargePointPort, SetPoint } from '../contracts';
import type { Logger } from '../log';
import { SetPointAnswers } from './answers';
import { AttemptRunner } from './attempts';
import { Commands } from './commands';
import { Confirmations } from './confirmations';
import { ConnectorLimits } from './connector-limits';
import { ProfileContext } from './context';
import { CentralSystemEvents } from './events';
import { Learning } from './learning';
import { LimitFailures } from './limit-failures';
import { tellLimitStep } from './limit-step';
import type { Target } from './limits';
import { OfflineFallback } from './offline-fallback';
import type { ProfileManagerOptions } from './options';
import { QueueStarts } from './queue-starts';
import { ChargerRegistry } from './registry';
import { RemoteStarts } from './remote-start';
import {
  type ChargerProfileState,
  checkSetPoint,
  type LimitReport,
  type RemoteStartReport,
  SetPointError,
  type SetPointInput,
} from './reports';
import { Resender } from './resend';
import { Sampling } from './sampling';
import { Scheduler } from './scheduler';
import { Sender } from './sender';
import type { Wanted } from './state';
import { resolveStrategy } from './strategies';
import { Verifier } from './verifier';

export type { ProfileManagerOptions } from './options';

export { REMOTE_START_BIND_MS } from './remote-start';

/**
 * Turns set-points into the commands each charger obeys, through a ChargePointPort (the central
 * system), and checks that they took effect. Per connector it keeps what the load manager wants
 * and what the charger was given; per charger what it can do (read at boot), its strategy, what
 * worked, and the charger-wide limits (ChargePointMaxProfile, a vendor key) it holds.
 *
 * This class is the façade: it takes set-points and composes the parts that own each rule —
 * ConnectorLimits (what each connector is to have and holds), Scheduler (when a limit goes),
 * Sender and AttemptRunner (one command in flight per charger, the plan's ways), Commands,
 * Verifier (composite schedule, meter values), Learning (capabilities, strategy, the memory kept in
 * the charger's record), Resender (retries, re-sending after a reconnect or boot), RemoteStarts,
 * and CentralSystemEvents (what the central system reports).
 *
 * The rules that keep a breaker safe:
 * - a connector's limit is the lowest of its own set-point and connector 0's;
 * - decreases go at once (and first), increases wait for the rate limit;
 * - a limit counts as in force only when the charger accepted a command that applies it now; a
 *   command without an answer leaves the limit unknown, and anything not in force is sent again
 *   with backoff while the charger is connected;
 * - a profile is cleared only when what replaced it applies now; a charger-wide limit carries the
 *   lowest limit of every connector with one, and goes once nothing needs it;
 * - a composite schedule above the limit counts as a refusal: the next way is tried.
 *
 * Events: `limit` (LimitReport: a set-point that went out as a command, or failed);
 * `verification` (VerificationReport: the composite schedule or the meter said something new);
 * `learned` ({chargePointId, strategy, capabilities}); `fallback` ({chargePointId, connectorId,
 * from, to, reasons}). None after close().
 */
export class ChargingProfileManager extends EventEmitter {
  readonly clock: Clock;
  readonly log: Logger;
  readonly voltageV: number;
  private readonly ctx: ProfileContext;
  private readonly limits: ConnectorLimits;
  private readonly learning: Learning;
  private readonly registry: ChargerRegistry;
  private readonly answers: SetPointAnswers;
  private readonly commands: Commands;
  private readonly scheduler: Scheduler;
  private readonly sender: Sender;
  private readonly starts: QueueStarts;
  private readonly verifier: Verifier;
  private readonly resender: Resender;
  private readonly remoteStarts: RemoteStarts;
  private readonly events: CentralSystemEvents;
  private readonly fallback: OfflineFallback;
  private readonly sampling: Sampling;

  constructor(
    readonly cs: ChargePointPort,
    options: ProfileManagerOptions = {},
  ) {
    super();
    this.ctx = new ProfileContext(cs, options, (event, payload) => this.emit(event, payload));
    this.clock = this.ctx.clock;
    this.log = this.ctx.log;
    this.voltageV = this.ctx.voltageV;
    OfflineFallback.check(options);
    this.limits = new ConnectorLimits(this.ctx);
    this.fallback = new OfflineFallback(this.ctx, this.limits, (charger, connector) =>
      this.scheduler.schedule(charger, connector),
    );
    this.learning = new Learning(this.ctx);
    this.registry = new ChargerRegistry(this.ctx, this.learning, (charger) =>
      this.resender.retryNow(charger),
    );
    this.answers = new SetPointAnswers(this.ctx, this.limits);
    this.commands = new Commands(this.ctx, this.limits, this.learning, this.fallback);
    const confirmations = new Confirmations(this.ctx);
    const failures = new LimitFailures(this.ctx);
    const sampling = new Sampling(this.ctx, (charger) => {
      void this.sender.pump(charger);
    });
    this.sampling = sampling;
    this.scheduler = new Scheduler(
      this.ctx,
      this.limits,
      this.answers,
      this.registry,
      confirmations,
      (charger, connector) => this.starts.enqueue(charger, connector),
    );
    const attempts = new AttemptRunner(this.ctx, this.limits, this.commands, this.learning);
    this.verifier = new Verifier(
      this.ctx,
      this.limits,
      this.learning,
      attempts,
      this.answers,
      this.scheduler,
      this.registry,
    );
    this.sender = new Sender(
      this.ctx,
      this.limits,
      this.learning,
      this.commands,
      attempts,
      this.answers,
      this.scheduler,
      this.verifier,
      this.fallback,
      confirmations,
      failures,
      sampling,
    );
    this.starts = new QueueStarts(this.limits, (charger) => {
      void this.sender.pump(charger);
    });
    this.resender = new Resender(this.ctx, this.limits, this.scheduler, this.sender, this.fallback);
    this.remoteStarts = new RemoteStarts(
      this.ctx,
      this.limits,
      this.learning,
      this.commands,
      this.scheduler,
      this.registry,
    );
    // Settings errors show at once, not with the first set-point.
    resolveStrategy(options.strategy);
    for (const [id, choice] of Object.entries(options.chargers ?? {}))
      resolveStrategy(choice, undefined, `chargers.${id}`);
    this.events = new CentralSystemEvents(this.ctx, {
      limits: this.limits,
      registry: this.registry,
      learning: this.learning,
      answers: this.answers,
      scheduler: this.scheduler,
      resender: this.resender,
      remoteStarts: this.remoteStarts,
      verifier: this.verifier,
      fallback: this.fallback,
      failures,
      sampling,
    });
    this.events.attach();
  }

  // ---- public API ------------------------------------------------------------------------------

  /**
   * Applies set-points (one or a list); resolves with one report each, once the charger answered
   * (and its composite schedule was read, where asked). Throws SetPointError for an invalid one;
   * then none of the list is applied.
   */
  apply(input: SetPointInput | readonly SetPointInput[]): Promise<LimitReport[]> {
    // One set-point (how the load manager's node hands them over, one per message): no list
    // mapped twice and no Promise.all for it.
    if (!Array.isArray(input)) {
      const setPoint = checkSetPoint(input as SetPointInput, undefined);
      return this.starts.together(() => this.submit(setPoint)).then(listOfOne);
    }
    const list = input as readonly SetPointInput[];
    const setPoints = list.map((setPoint, index) =>
      checkSetPoint(setPoint, list.length > 1 ? index : undefined),
    );
    // Seen together: a charger's first command already knows every limit of the list (a
    // charger-wide limit carries the lowest; decreases go first).
    return Promise.all(this.starts.together(() => setPoints.map((setPoint) => this.submit(setPoint))));
  }

  /** Pauses a connector: limit 0 A. `resume` restores the limit it had. */
  async pause(chargePointId: string, connectorId: number, reason = 'pause'): Promise<LimitReport> {
    const resume = this.registry.get(chargePointId)?.connectors.get(connectorId)?.resume;
    const [report] = await this.apply({
      chargePointId,
      connectorId,
      limitA: 0,
      ...phasesOf(resume),
      reason,
    });
    return report as LimitReport;
  }

  /** Restores the last limit above 0 of a connector. */
  async resume(chargePointId: string, connectorId: number, reason = 'resume'): Promise<LimitReport> {
    const resume = this.registry.get(chargePointId)?.connectors.get(connectorId)?.resume;
    if (!resume) throw new SetPointError(`${chargePointId} connector ${connectorId} has no limit to resume`);
    const [report] = await this.apply({
      chargePointId,
      connectorId,
      limitA: resume.limitA,
      ...phasesOf(resume),
      reason,
    });
    return report as LimitReport;
  }

  /**
   * RemoteStartTransaction with the connector's current limit embedded as a TxProfile (5.16.2),
   * where the strategy allows it; a charger that refuses the embedded profile is asked again
   * without one, and is not sent one again. The embedded limit is bound only to the transaction
   * this start begins (same id tag and connector, within REMOTE_START_BIND_MS); a set-point that
   * arrives meanwhile is checked against it then.
   */
  remoteStart(request: {
    chargePointId: string;
    connectorId?: number;
    idTag: string;
  }): Promise<RemoteStartReport> {
    return this.remoteStarts.start(request);
  }

  /** What the manager knows about a charger; undefined before its first set-point. */
  charger(chargePointId: string): ChargerProfileState | undefined {
    const charger = this.registry.get(chargePointId);
    if (!charger) return undefined;
    return {
      chargePointId,
      strategy: charger.strategy.name,
      ...(charger.capabilities ? { capabilities: structuredClone(charger.capabilities) } : {}),
      memory: structuredClone(charger.memory),
      compositeSchedule: !charger.compositeUnsupported,
      connectors: [...charger.connectors.values()]
        .sort((a, b) => a.connectorId - b.connectorId)
        .map((connector) => {
          const target = this.limits.limitOf(charger, connector);
          const wanted = this.limits.wantedOf(charger, connector);
          return {
            connectorId: connector.connectorId,
            ...(wanted ? { requestedLimitA: wanted.requestedLimitA, reason: wanted.reason } : {}),
            ...(target ? { limitA: target.limitA } : {}),
            ...(target?.phases === undefined ? {} : { phases: target.phases }),
            ...(connector.lastMethod ? { method: connector.lastMethod } : {}),
            held: connector.holdTimer !== undefined,
            confirmed: target !== undefined && this.limits.inForce(charger, connector, target),
            verification: { ...connector.verification },
          };
        }),
    };
  }

  /** Every charger the manager has had a set-point for. */
  chargerIds(): string[] {
    return this.registry.ids().sort();
  }

  /**
   * Resolves once nothing is on its way to the charger: no command queued or waiting for an
   * answer, no composite schedule being read. Held increases and retries wait on the clock and do
   * not count.
   */
  whenSettled(chargePointId: string): Promise<void> {
    const charger = this.registry.get(chargePointId);
    if (!charger || this.scheduler.isSettled(charger)) return Promise.resolve();
    return new Promise((resolve) => charger.settled.push(resolve));
  }

  /** Stops listening and drops every timer; set-points still waiting resolve as deferred. */
  close(): void {
    if (!this.ctx.close()) return;
    this.events.detach();
    for (const charger of this.registry.values()) {
      this.ctx.clock.clearTimeout(charger.settleTimer);
      charger.retry.cancel();
      this.fallback.stop(charger);
      this.sampling.fast.stop(charger);
      for (const connector of charger.connectors.values()) {
        this.ctx.clock.clearTimeout(connector.holdTimer);
        connector.holdTimer = undefined;
        this.answers.settle(charger, connector, 'deferred', 'the profile manager was closed');
      }
      for (const resolve of charger.settled.splice(0)) resolve();
    }
  }

  // ---- set-points ------------------------------------------------------------------------------

  private submit(setPoint: SetPointInput): Promise<LimitReport> {
    const charger = this.registry.charger(setPoint.chargePointId);
    const connector = this.registry.connector(charger, setPoint.connectorId);
    tellLimitStep(this.ctx, charger, connector);
    charger.siteVoltageV = setPoint.voltageV;
    this.fallback.planned(charger, connector, setPoint.fallbackA);
    const phases = setPoint.phases as number | undefined;
    // A limit that moves asks for readings more often (fast-sampling.ts).
    this.sampling.fast.moved(
      charger,
      connector.connectorId,
      connector.wanted?.requestedLimitA,
      setPoint.limitA,
    );
    connector.wanted = {
      requestedLimitA: setPoint.limitA,
      ...(phases === undefined ? {} : { phases }),
      reason: setPoint.reason ?? '',
    };
    if (this.limits.ownTarget(charger, connector.wanted).limitA > 0) {
      connector.resume = { limitA: setPoint.limitA, ...(phases === undefined ? {} : { phases }) };
    }
    return new Promise<LimitReport>((resolve) => {
      const previous = connector.waiter;
      // Object.assign, not a spread followed by a field: optimized, such a spread gives every object
      // a hidden class of its own (~1 µs each on Node 20, and every read of a waiter goes slow then).
      connector.waiter = Object.assign({ resolve }, connector.wanted as Wanted);
      if (previous) previous.resolve(this.answers.report(charger, connector, previous, 'superseded'));
      if (this.ctx.closed) {
        this.answers.settle(charger, connector, 'deferred', 'the profile manager was closed');
        return;
      }
      this.scheduler.schedule(charger, connector);
      // Every connector's limit depends on connector 0's, whether or not its own command goes out now.
      if (connector.connectorId === 0) this.scheduler.fanOut(charger);
    });
  }
}

function listOfOne(report: LimitReport): LimitReport[] {
  return [report];
}

function phasesOf(target: Target | undefined): { phases?: SetPoint['phases'] } {
  return target?.phases === undefined ? {} : { phases: target.phases as SetPoint['phases'] };
}
