import { EventEmitter } from 'node:events';
import type { RPCClient } from 'ocpp-rpc';
import { type Clock, systemClock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { silentLogger } from '../lib/log';
import type { BootNotificationResponse, OcppRequest, OcppResponse } from '../lib/ocpp/messages';
import type { RpcClientOptions } from '../lib/ocpp/rpc-types';
import { ConfigurationStore } from './configuration';
import { LinkCalls } from './link-calls';
import { createClient, initialSecurityProfile, linkEndpoint, tlsOptions } from './link-client';
import { CommandDispatcher } from './link-commands';
import { LinkRegistration } from './link-registration';
import { LinkSocket } from './link-socket';
import { OutageQueues } from './message-queue';
import {
  type ChargePointEvents,
  type CommandOutcome,
  type CommandOverride,
  type CpAction,
  type CsAction,
  type LinkOptions,
  NO_QUIRKS,
  NotConnectedError,
  type OcppVersion,
  type Quirks,
  type RegistrationStatus,
} from './types';
import type { EvseState } from './v201';
import { Link201 } from './v201/link';

export { hashString } from './link-backoff';
export * from './types';

/**
 * The charge point's OCPP-J link: the WebSocket (through ocpp-rpc), registration with
 * BootNotification, heartbeats, reconnects, the queues of messages that must survive outages, and
 * the events that report every message. Everything that waits runs on the injected Clock; only
 * ocpp-rpc's own call timeouts and WebSocket pings use real timers.
 */

const OPEN = 1;

export abstract class ChargePointLink extends EventEmitter<ChargePointEvents> {
  readonly identity: string;
  readonly clock: Clock;
  protected readonly log: Logger;
  readonly quirks: Readonly<Quirks>;
  /** The OCPP version spoken (2.0.1: the same charger, translated at the link by sim/v201). */
  readonly ocppVersion: OcppVersion;
  readonly configuration: ConfigurationStore;
  protected readonly endpoint: string;
  protected readonly linkOptions: LinkOptions;
  /** Transaction-related messages (3.7) and security events (whitepaper A04.FR.02). */
  protected readonly queues: OutageQueues;

  private readonly socket: LinkSocket;
  private readonly registrar: LinkRegistration;
  private callTimeoutMs: number;
  private readonly calls: LinkCalls;
  private readonly commands = new CommandDispatcher({
    registration: () => this.registrar.status,
    selfValidate: () => this.socket.client?.protocol !== 'ocpp1.6',
    handleCommand: (action, request) => this.handleCommand(action, request),
    received: (message) => this.emit('received', message),
    replied: (message) => this.emit('replied', message),
  });
  /** The link's OCPP 2.0.1 side (sim/v201); undefined under 1.6. */
  private readonly v201: Link201 | undefined;

  protected constructor(options: LinkOptions, connectorPhases: readonly (1 | 3)[]) {
    super();
    this.endpoint = linkEndpoint(options);
    this.linkOptions = options;
    this.identity = options.identity;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    // Built before the queues: the 2.0.1 side reads the link only when it asks.
    this.v201 = Link201.ifAsked(options, this, {
      log: this.log,
      evse: (connectorId) => this.evseState(connectorId),
      connectorIds: () => this.connectorIds(),
      transactionMessagesQueued: () => this.queues.transactions.length > 0,
      runCommand: (action, request, invalid) => this.commands.run(action, request, true, invalid),
      afterReply: (messageId, fn) => this.commands.afterReply(messageId, fn),
    });
    this.ocppVersion = this.v201 ? '2.0.1' : '1.6';
    this.quirks = this.v201 ? NO_QUIRKS : { ...NO_QUIRKS, ...options.quirks };
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    const securityProfile = initialSecurityProfile(options, this.endpoint);
    this.configuration = new ConfigurationStore(
      { connectorPhases, securityProfile, ...(options.password ? { password: options.password } : {}) },
      { MessageTimeout: String(Math.max(1, Math.ceil(this.callTimeoutMs / 1000))), ...options.configuration },
    );
    this.calls = new LinkCalls({
      log: this.log,
      identity: this.identity,
      v201: this.v201,
      client: () => this.socket.client,
      registration: () => this.registrar.status,
      result: (message) => this.emit('result', message),
      callError: (message) => this.emit('callError', message),
      ended: () => this.checkIdle(),
    });
    this.registrar = new LinkRegistration({
      clock: this.clock,
      configuration: this.configuration,
      log: this.log,
      identity: this.identity,
      connection: () => this.socket.client,
      isOnline: () => this.isOnline,
      bootPayload: () => this.bootPayload(),
      callBoot: (payload, deviates) =>
        this.call('BootNotification', payload, { deviates, beforeAccepted: true }),
      callHeartbeat: (triggered) => this.call('Heartbeat', {}, { triggered }),
      settle: (outcome) => this.socket.settle(outcome),
      booted: (response) => this.emit('boot', response),
      accepted: () => {
        this.onAccepted();
        this.resumeQueues();
      },
    });
    this.socket = new LinkSocket({
      clock: this.clock,
      identity: this.identity,
      endpoint: this.endpoint,
      log: this.log,
      reconnectOptions: () => this.linkOptions.reconnect,
      createClient: () =>
        createClient(
          {
            endpoint: this.endpoint,
            identity: this.identity,
            v201: this.v201,
            noSubProtocol: this.quirks.noSubProtocol,
            callTimeoutMs: this.callTimeoutMs,
            pingIntervalMs: this.configuration.int('WebSocketPingInterval', 0) * 1000,
            password: this.configuration.get('AuthorizationKey') || undefined,
            wsOpts: this.webSocketOptions(),
          },
          {
            exchange: () => this.rearmHeartbeat(),
            sent: (message) => this.emit('sent', message),
            answering: (messageId) => this.commands.answered(messageId),
            request: (action, params, messageId) => this.onRequest(action, params, messageId),
          },
        ),
      connectFailed: (error) => {
        this.log.warn(`${this.identity}: cannot connect to ${this.endpoint}: ${error.message}`);
        this.emit('connectFailed', error);
        if (error.code === 401) this.securityLog('FailedToAuthenticateAtCentralSystem', error.message);
      },
      opening: () => this.v201?.connected(),
      opened: (client) => this.onOpened(client),
      closed: (code, reason) => this.onClosed(code, reason),
      afterClosed: () => this.checkIdle(),
      reconnecting: (delayMs, attempt) => this.emit('reconnecting', { delayMs, attempt }),
    });
    this.queues = new OutageQueues({
      clock: this.clock,
      ready: () => this.isOnline && this.registrar.status === 'Accepted',
      send: (action: string, payload: object, deviates: boolean) =>
        this.call(action as CpAction, payload as never, { deviates }),
      attempts: () => this.configuration.int('TransactionMessageAttempts', 3),
      retryIntervalS: () => this.configuration.int('TransactionMessageRetryInterval', 60),
      changed: () => this.checkIdle(),
    });
  }

  /** A connector as the 2.0.1 translation sees it; undefined when there is none. */
  protected abstract evseState(connectorId: number): EvseState | undefined;
  /** The connectors' ids. */
  protected abstract connectorIds(): number[];

  /** The OCPP 2.0.1 transactionId (the charger's string) of the simulator's `transactionId`; else undefined. */
  transactionId201(transactionId: number): string | undefined {
    return this.v201?.transactionId(transactionId);
  }

  // ---- State -------------------------------------------------------------------------------

  /** Whether the WebSocket is open. */
  get isOnline(): boolean {
    return this.socket.client?.state === OPEN;
  }

  /** The status of the last BootNotification answer; undefined before the first one. */
  get registration(): RegistrationStatus | undefined {
    return this.registrar.status;
  }

  /** The last BootNotification answer. */
  get bootResponse(): BootNotificationResponse | undefined {
    return this.registrar.last;
  }

  /** The agreed WebSocket sub-protocol ('' when none was agreed). */
  get protocol(): string | undefined {
    return this.socket.client?.protocol;
  }

  /** Whether no call is outstanding and no queued message can go out right now. */
  get idle(): boolean {
    return this.calls.outstanding === 0 && this.queues.settled;
  }

  /** Resolves when {@link idle} (at once if it is). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  /** Resolves when the central system has accepted the charge point (at once if it has). */
  waitForAccepted(): Promise<BootNotificationResponse> {
    return this.registrar.whenAccepted(this, () => this.socket.running);
  }

  // ---- Connection lifecycle ----------------------------------------------------------------

  /**
   * Opens the WebSocket and registers. Resolves with the first BootNotification answer (whatever
   * its status), or at once with the standing registration when the charge point was accepted
   * before and merely reconnects (a reconnect is not a reboot: OCPP-J 5.4). Rejects when the first
   * attempt fails; the charge point keeps trying on the Clock until {@link disconnect}.
   */
  connect(): Promise<BootNotificationResponse | undefined> {
    return this.socket.connect();
  }

  /**
   * Takes the charge point off the network: closes the WebSocket and stops reconnecting. The charge
   * point keeps running (sessions, meter values, queued messages); {@link connect} brings it back
   * without a BootNotification if it was accepted.
   */
  async disconnect(): Promise<void> {
    await this.socket.disconnect();
  }

  /** Switches the charge point off: disconnects and cancels every timer. It cannot be used afterwards. */
  async close(): Promise<void> {
    this.socket.markClosed();
    await this.disconnect();
    this.socket.cancelRestart();
    this.registrar.stopTimers();
    this.queues.interrupt();
    this.powerDown();
  }

  /** Drops the connection as a network failure would (no close handshake); the charge point reconnects with backoff. For tests of outage behaviour. */
  dropConnection(): void {
    this.socket.drop();
  }

  /** Answers a central-system request with `handler` instead of the default behaviour; undefined removes it. */
  override<A extends CsAction>(action: A, handler: CommandOverride<A> | undefined): void {
    this.commands.override(action, handler);
  }

  /** TLS options for ws (overridden where installed certificates come into play). */
  protected webSocketOptions(): Record<string, unknown> {
    return tlsOptions(this.linkOptions.tls);
  }

  private onOpened(client: RPCClient): void {
    this.log.info(
      `${this.identity}: connected to ${this.endpoint} (sub-protocol "${client.protocol ?? ''}")`,
    );
    this.emit('connected');
    if (this.registrar.needed) {
      void this.registrar.sendBoot();
    } else {
      this.socket.settle(this.registrar.last);
      this.onReconnected();
      this.resumeQueues();
      this.rearmHeartbeat();
    }
  }

  private onClosed(code: number, reason: string): void {
    // A Pending or Rejected charge point registers again on the next connection.
    this.registrar.disconnected();
    this.queues.interrupt();
    this.log.info(`${this.identity}: disconnected (${code}${reason ? ` ${reason}` : ''})`);
    this.emit('disconnected', { code, reason: reason ?? '' });
    this.onDisconnected();
  }

  // ---- Registration ------------------------------------------------------------------------

  /** BootNotification payload, and whether a quirk made it deviate from the schema. */
  protected abstract bootPayload(): { payload: OcppRequest<'BootNotification'>; deviates: boolean };

  /** A BootNotification the central system asked for with (Extended)TriggerMessage. */
  protected triggerBoot(): void {
    this.v201?.bootTriggered();
    this.registrar.sendBootNow();
  }

  /** After BootNotification Accepted: report statuses (errata 3.22). */
  protected abstract onAccepted(): void;
  /** After a reconnect without BootNotification: report what changed while offline (4.9). */
  protected abstract onReconnected(): void;
  protected abstract onDisconnected(): void;
  /** Before a reboot comes back up: forget volatile state. */
  protected abstract onRestart(): void;
  /** Stops everything that runs on the clock (close()). */
  protected abstract powerDown(): void;

  /**
   * Restarts the charge point: drops the connection, stays away `rebootDelayS`, then registers
   * again with BootNotification.
   */
  protected async reboot(reason: string): Promise<void> {
    const socket = this.socket;
    if (socket.rebooting) return;
    socket.rebooting = true;
    this.v201?.rebooting(reason);
    this.log.info(`${this.identity}: rebooting (${reason})`);
    this.emit('rebooting', { reason });
    socket.cancelReconnect();
    this.registrar.forget();
    await socket.rebootFor((this.linkOptions.rebootDelayS ?? 5) * 1000, reason, () => this.onRestart());
  }

  /** Closes and reopens the connection, as after a new password (whitepaper A01) or security profile (A05). */
  protected async reconnectNow(): Promise<void> {
    await this.socket.closeClient(1000, 'Reconnecting with new credentials', true);
  }

  /** Applies MessageTimeout and WebSocketPingInterval to the open connection (and later ones). */
  protected applyTimings(): void {
    this.callTimeoutMs = this.configuration.int('MessageTimeout', 30) * 1000;
    const pingIntervalMs = this.configuration.int('WebSocketPingInterval', 0) * 1000;
    this.socket.client?.reconfigure({
      callTimeoutMs: this.callTimeoutMs,
      pingIntervalMs,
    } as RpcClientOptions);
  }

  // ---- Heartbeat ---------------------------------------------------------------------------

  /** (Re)starts the heartbeat countdown; called on every exchange and when HeartbeatInterval changes. */
  protected rearmHeartbeat(): void {
    this.registrar.rearmHeartbeat();
  }

  protected sendHeartbeat(triggered = false): void {
    this.registrar.sendHeartbeat(triggered);
  }

  // ---- Calls -------------------------------------------------------------------------------

  /**
   * Sends a request and returns the answer. Throws {@link NotConnectedError} when offline, or when
   * not accepted (only a triggered message may go out while Pending, 4.2).
   */
  protected call<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { deviates?: boolean; triggered?: boolean; beforeAccepted?: boolean } = {},
  ): Promise<OcppResponse<A>> {
    return this.calls.call(action, payload, options);
  }

  /** Sends a request that is not transaction-related if possible; failures are logged, not thrown. */
  protected notify<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { triggered?: boolean; deviates?: boolean } = {},
  ): void {
    this.calls.notify(action, payload, options);
  }

  protected resumeQueues(): void {
    this.queues.pump();
  }

  private checkIdle(): void {
    if (this.idle) this.emit('idle');
  }

  // ---- Requests from the central system ----------------------------------------------------

  /** The default answer to a central-system request. */
  protected abstract handleCommand<A extends CsAction>(
    action: A,
    request: OcppRequest<A>,
  ): Promise<CommandOutcome<A>>;

  /** Records a security event in the security log (for GetLog) without notifying the central system. */
  protected abstract securityLog(type: string, techInfo?: string): void;

  private async onRequest(action: string, params: unknown, messageId: string): Promise<unknown> {
    if (this.v201) return await this.v201.onRequest(action, params, messageId);
    return await this.commands.onRequest(action, params, messageId);
  }
}
