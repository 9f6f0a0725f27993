import type { Clock } from '../clock';
import type { Logger } from '../log';
import { type Admission, DEFAULT_PROTOCOLS } from './admission';
import { Authorizer, type FlowRequest } from './authorization';
import { CENTRAL_DEFAULTS, type CentralSystemOptions } from './central-options';
import type { CentralSystemState } from './central-types';
import type { ChargerCalls } from './charger-calls';
import type { ChargerState } from './charger-state';
import { ChargePointHandlers, type HandlerParts } from './handlers';
import type { OcppListener } from './listener';
import type { LiveConnections } from './live-connections';

/** The parts of a central system its life cycle opens and closes. */
export interface LifecycleParts {
  readonly options: Readonly<CentralSystemOptions>;
  readonly log: Logger;
  readonly clock: Clock;
  /** The parts the handlers work with (handlers-host.ts). */
  readonly handlerParts: HandlerParts;
  /** Where a charger's CALL goes (charger-calls.ts): it gets the handlers while the central system runs. */
  readonly calls: ChargerCalls;
  readonly listener: OcppListener;
  readonly charges: ChargerState;
  readonly connections: LiveConnections;
  readonly admission: Admission;
  dispatchFlowRequest(request: FlowRequest): boolean;
  emitState(state: CentralSystemState): void;
  emitFailed(err: Error): void;
}

/**
 * A central system's life cycle: stopped → starting → listening → stopping → stopped (or failed),
 * and the parts that exist only while it runs (the authorizer and the handlers, which need the
 * durable state open). One owner of the state; the façade asks it.
 */
export class CentralLifecycle {
  private current: CentralSystemState = 'stopped';
  /** Why the central system stopped on its own (its durable state failed), if it did. */
  failure: Error | undefined;
  private authorizer: Authorizer | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly parts: LifecycleParts) {}

  get state(): CentralSystemState {
    return this.current;
  }

  /** The handlers while running; undefined otherwise. */
  get runningHandlers(): ChargePointHandlers | undefined {
    return this.parts.calls.handlers;
  }

  requireAuthorizer(): Authorizer {
    if (!this.authorizer) throw new Error('the central system is not started');
    return this.authorizer;
  }

  requireHandlers(): ChargePointHandlers {
    const { handlers } = this.parts.calls;
    if (!handlers) throw new Error('the central system is not started');
    return handlers;
  }

  /** Opens the durable state and binds the port; rejects with a message naming what is wrong. */
  start(): Promise<void> {
    if (this.current !== 'stopped' && this.current !== 'failed') {
      return Promise.reject(new Error(`central system cannot start while ${this.current}`));
    }
    this.starting = this.open().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /**
   * Settles once a start in progress has (rejected with its error if it failed); at once when none
   * is in progress. A command sent while its central system is still starting (a flow's inject
   * that fires a second after deploy, on a slow machine) waits for it instead of failing with
   * "not started".
   */
  whenStarted(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  /** Closes every connection, the listening socket and the durable state. Safe to call any time. */
  stop(): Promise<void> {
    this.stopping ??= this.close().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async open(): Promise<void> {
    const { listener, log, options } = this.parts;
    this.failure = undefined;
    this.setState('starting');
    try {
      await this.openState();
      await listener.listen();
    } catch (err) {
      await this.releaseState();
      this.setState('failed');
      throw err;
    }
    this.setState('listening');
    log.info(
      `OCPP central system listening on ${listener.where()}, chargers dial <url><chargePointId>; ${(options.protocols ?? DEFAULT_PROTOCOLS).join(', ')}; security profile ${options.securityProfile ?? 0}`,
    );
    const weak = options.passwords?.weakPasswords() ?? [];
    if (weak.length > 0) {
      log.warn(
        `passwords shorter than the 16 bytes the OCPP security whitepaper asks for: ${weak.join(', ')}`,
      );
    }
  }

  private async openState(): Promise<void> {
    const { charges, options, clock, log, handlerParts, calls } = this.parts;
    await charges.open((err) => this.onStoreStopped(err));
    const stateLog = charges.requireLog();
    this.authorizer = new Authorizer(
      { clock, log },
      stateLog,
      { open: () => charges.boundTransactions() },
      options.authorization ?? {},
      (request) => this.parts.dispatchFlowRequest(request),
    );
    calls.handlers = new ChargePointHandlers(
      handlerParts,
      stateLog,
      charges.requireLedger(),
      this.authorizer,
    );
    if (options.idTags && options.idTags.length > 0) await this.authorizer.idTags.replaceAll(options.idTags);
    charges.restoreTransactions();
  }

  /**
   * The durable state cannot be written any more (disk full, I/O error): nothing more can be
   * acknowledged safely. The central system stops, so that chargers keep their transactions
   * (OCPP chargers queue them while offline) until it runs again with a working disk.
   */
  private onStoreStopped(err: Error): void {
    this.failure = err;
    this.parts.log.error(
      `the central system stops because its durable state cannot be written: ${err.message} Chargers keep their transactions until it runs again.`,
    );
    this.parts.emitFailed(err);
    void this.stop().then(() => this.setState('failed'));
  }

  private async releaseState(): Promise<void> {
    this.authorizer?.close();
    this.authorizer = undefined;
    this.parts.calls.handlers = undefined;
    await this.parts.charges.close();
  }

  private async close(): Promise<void> {
    const { listener, charges, connections, admission, options } = this.parts;
    await this.starting?.catch(() => undefined);
    if (!listener.isOpen && !charges.isOpen) return;
    this.setState('stopping');
    await listener.close(async () => {
      await connections.closeAll(options.closeGraceMs ?? CENTRAL_DEFAULTS.closeGraceMs);
      // Held refusals are answered now; attempts waiting behind them get 503 (state is 'stopping').
      admission.releaseAll();
    });
    connections.clear();
    await this.releaseState();
    this.setState('stopped');
  }

  private setState(state: CentralSystemState): void {
    if (state === this.current) return;
    this.current = state;
    this.parts.emitState(state);
  }
}
