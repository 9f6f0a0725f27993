import { EventEmitter } from 'node:events';
import { createRPCError, NOREPLY, RPCClient } from 'ocpp-rpc';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { isCentralSystemAction } from '../ocpp/actions';
import type { BootNotificationResponse, OcppRequest, OcppResponse } from '../ocpp/messages';
import type { RpcClientOptions } from '../ocpp/rpc-types';
import { ConfigurationStore } from './configuration';
import { ReliableQueue } from './message-queue';
import { internalError, markDeviation, quirkTolerantValidator, validateOcpp16 } from './schema';
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
  type ReceivedMessage,
  type RegistrationStatus,
  type RepliedMessage,
  type ResultMessage,
  type SentMessage,
} from './types';
import type { EvseState } from './v201';
import { Link201 } from './v201/link';

export * from './types';

/**
 * The charge point's OCPP-J link: the WebSocket (through ocpp-rpc), registration with
 * BootNotification, heartbeats, reconnects, the queues of messages that must survive outages, and
 * the events that report every message. Everything that waits runs on the injected Clock; only
 * ocpp-rpc's own call timeouts and WebSocket pings use real timers.
 */

const DEFAULT_BOOT_RETRY_S = 60;
const OPEN = 1;

export abstract class ChargePointLink extends EventEmitter<ChargePointEvents> {
  readonly identity: string;
  readonly clock: Clock;
  protected readonly log: Logger;
  readonly quirks: Readonly<Quirks>;
  /** The OCPP version spoken (2.0.1: the same charger, translated at the link by lib/sim/v201). */
  readonly ocppVersion: OcppVersion;
  readonly configuration: ConfigurationStore;
  protected readonly endpoint: string;
  protected readonly linkOptions: LinkOptions;
  /** Transaction-related messages (3.7). */
  protected readonly transactionQueue: ReliableQueue;
  /** Security events (whitepaper A04.FR.02). */
  protected readonly securityEventQueue: ReliableQueue;

  private client: RPCClient | undefined;
  private running = false;
  private closed = false;
  private rebooting = false;
  private needsBoot = true;
  private registrationStatus: RegistrationStatus | undefined;
  private lastBoot: BootNotificationResponse | undefined;
  private reconnectAttempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private bootTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private rebootTimer: TimerHandle | undefined;
  private reopenOnClose = false;
  private callTimeoutMs: number;
  private pendingCalls = 0;
  private pendingConnect:
    | { resolve: (boot: BootNotificationResponse | undefined) => void; reject: (err: Error) => void }
    | undefined;
  private connectPromise: Promise<BootNotificationResponse | undefined> | undefined;
  private readonly afterReplies = new Map<string, () => void>();
  private readonly overrides = new Map<CsAction, CommandOverride<CsAction>>();
  private jitterState: number;
  /** The link's OCPP 2.0.1 side (lib/sim/v201); undefined under 1.6. */
  private readonly v201: Link201 | undefined;

  protected constructor(options: LinkOptions, connectorPhases: readonly (1 | 3)[]) {
    super();
    if (!options.identity) throw new Error('identity is required');
    if (!/^wss?:\/\//.test(options.centralSystemUrl)) {
      throw new Error(`centralSystemUrl must start with ws:// or wss://, not "${options.centralSystemUrl}"`);
    }
    this.linkOptions = options;
    this.identity = options.identity;
    // "appending to the path first a '/' and then a string uniquely identifying the Charge Point"
    // (OCPP-J 3.1.1); ocpp-rpc adds the '/', so a trailing one in the endpoint would double it.
    this.endpoint = options.centralSystemUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    // Built before the queues: the 2.0.1 side reads the link only when it asks.
    this.v201 = Link201.ifAsked(options, this, {
      log: this.log,
      evse: (connectorId) => this.evseState(connectorId),
      connectorIds: () => this.connectorIds(),
      transactionMessagesQueued: () => this.transactionQueue.length > 0,
      runCommand: (action, request, invalid) => this.runCommand(action, request, true, invalid),
      afterReply: (messageId, fn) => this.afterReplies.set(messageId, fn),
    });
    this.ocppVersion = this.v201 ? '2.0.1' : '1.6';
    this.quirks = this.v201 ? NO_QUIRKS : { ...NO_QUIRKS, ...options.quirks };
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    const securityProfile = options.tls?.cert
      ? 3
      : this.endpoint.startsWith('wss')
        ? 2
        : options.password
          ? 1
          : 0;
    this.configuration = new ConfigurationStore(
      { connectorPhases, securityProfile, ...(options.password ? { password: options.password } : {}) },
      { MessageTimeout: String(Math.max(1, Math.ceil(this.callTimeoutMs / 1000))), ...options.configuration },
    );
    this.jitterState = hashString(this.identity);
    const queueLink = () => ({
      clock: this.clock,
      ready: () => this.isOnline && this.registrationStatus === 'Accepted',
      send: (action: string, payload: object, deviates: boolean) =>
        this.call(action as CpAction, payload as never, { deviates }),
      attempts: () => this.configuration.int('TransactionMessageAttempts', 3),
      retryIntervalS: () => this.configuration.int('TransactionMessageRetryInterval', 60),
      changed: () => this.checkIdle(),
    });
    this.transactionQueue = new ReliableQueue(queueLink());
    this.securityEventQueue = new ReliableQueue(queueLink());
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
    return this.client?.state === OPEN;
  }

  /** The status of the last BootNotification answer; undefined before the first one. */
  get registration(): RegistrationStatus | undefined {
    return this.registrationStatus;
  }

  /** The last BootNotification answer. */
  get bootResponse(): BootNotificationResponse | undefined {
    return this.lastBoot;
  }

  /** The agreed WebSocket sub-protocol ('' when none was agreed). */
  get protocol(): string | undefined {
    return this.client?.protocol;
  }

  /** Whether no call is outstanding and no queued message can go out right now. */
  get idle(): boolean {
    return this.pendingCalls === 0 && this.transactionQueue.settled && this.securityEventQueue.settled;
  }

  /** Resolves when {@link idle} (at once if it is). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  /** Resolves when the central system has accepted the charge point (at once if it has). */
  waitForAccepted(): Promise<BootNotificationResponse> {
    if (this.registrationStatus === 'Accepted' && this.lastBoot) return Promise.resolve(this.lastBoot);
    return new Promise((resolve, reject) => {
      const onBoot = (boot: BootNotificationResponse) => {
        if (boot.status !== 'Accepted') return;
        this.off('boot', onBoot);
        this.off('disconnected', onGone);
        resolve(boot);
      };
      const onGone = () => {
        if (this.running) return;
        this.off('boot', onBoot);
        this.off('disconnected', onGone);
        reject(new Error(`${this.identity} was disconnected before it was accepted`));
      };
      this.on('boot', onBoot);
      this.on('disconnected', onGone);
    });
  }

  // ---- Connection lifecycle ----------------------------------------------------------------

  /**
   * Opens the WebSocket and registers. Resolves with the first BootNotification answer (whatever
   * its status), or at once with the standing registration when the charge point was accepted
   * before and merely reconnects (a reconnect is not a reboot: OCPP-J 5.4). Rejects when the first
   * attempt fails; the charge point keeps trying on the Clock until {@link disconnect}.
   */
  connect(): Promise<BootNotificationResponse | undefined> {
    if (this.closed) return Promise.reject(new Error(`${this.identity} is closed`));
    if (this.running && this.connectPromise) return this.connectPromise;
    this.running = true;
    this.connectPromise = new Promise<BootNotificationResponse | undefined>((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
    });
    // A caller that ignores the promise must not get an unhandled rejection.
    this.connectPromise.catch(() => undefined);
    if (!this.client && !this.rebooting) void this.openSocket();
    return this.connectPromise;
  }

  /**
   * Takes the charge point off the network: closes the WebSocket and stops reconnecting. The charge
   * point keeps running (sessions, meter values, queued messages); {@link connect} brings it back
   * without a BootNotification if it was accepted.
   */
  async disconnect(): Promise<void> {
    this.running = false;
    this.connectPromise = undefined;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.settleConnect(new Error(`${this.identity} disconnected`));
    const client = this.client;
    if (client)
      await client.close({ code: 1000, reason: 'Charge point disconnecting' }).catch(() => undefined);
  }

  /** Switches the charge point off: disconnects and cancels every timer. It cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.disconnect();
    this.clock.clearTimeout(this.rebootTimer);
    this.clock.clearTimeout(this.bootTimer);
    this.clock.clearTimeout(this.heartbeatTimer);
    this.transactionQueue.interrupt();
    this.securityEventQueue.interrupt();
    this.powerDown();
  }

  /**
   * Drops the connection as a network failure would (no close handshake); the charge point
   * reconnects with backoff. For tests of outage behaviour.
   */
  dropConnection(): void {
    const socket = (this.client as unknown as { _ws?: { terminate(): void } } | undefined)?._ws;
    socket?.terminate();
  }

  /** Answers a central-system request with `handler` instead of the default behaviour; undefined removes it. */
  override<A extends CsAction>(action: A, handler: CommandOverride<A> | undefined): void {
    if (handler) this.overrides.set(action, handler as unknown as CommandOverride<CsAction>);
    else this.overrides.delete(action);
  }

  private createClient(): RPCClient {
    const noSubProtocol = this.quirks.noSubProtocol;
    const password = this.configuration.get('AuthorizationKey') || undefined;
    const client = new RPCClient({
      endpoint: this.endpoint,
      identity: this.identity,
      // ocpp-rpc's strict mode needs an offered sub-protocol; without one the simulator validates itself.
      ...(this.v201?.clientOptions() ?? {
        protocols: noSubProtocol ? [] : ['ocpp1.6'],
        strictMode: noSubProtocol ? false : ['ocpp1.6'],
        strictModeValidators: [quirkTolerantValidator],
      }),
      reconnect: false,
      callTimeoutMs: this.callTimeoutMs,
      pingIntervalMs: this.configuration.int('WebSocketPingInterval', 0) * 1000,
      ...(password ? { password } : {}),
      wsOpts: this.webSocketOptions(),
    } as RpcClientOptions);
    client.on('call', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      // "Interval of inactivity (no OCPP exchanges)" (9.1.10): any request either way postpones the heartbeat.
      this.rearmHeartbeat();
      // (Under 2.0.1 its side reports the simulator's own request the 2.0.1 one carries.)
      if (!outbound || this.v201) return;
      const [, messageId, action, request] = payload as [number, string, CpAction, never];
      this.emit('sent', { action, request, messageId } as SentMessage);
    });
    this.v201?.attach(client);
    client.on('response', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      if (!outbound) return;
      const messageId = payload[1] as string;
      const after = this.afterReplies.get(messageId);
      if (!after) return;
      this.afterReplies.delete(messageId);
      // The answer is written right after this event; run the follow-up once it is out.
      queueMicrotask(after);
    });
    // One handler for every action; ocpp-rpc's typings want a Record result, NOREPLY is a symbol.
    const handler = async ({
      method,
      params,
      messageId,
    }: {
      method?: string;
      params?: unknown;
      messageId?: string;
    }) => this.onRequest(method ?? '', params, messageId ?? '');
    client.handle(handler as unknown as Parameters<RPCClient['handle']>[0]);
    return client;
  }

  /** TLS options for ws (overridden where installed certificates come into play). */
  protected webSocketOptions(): Record<string, unknown> {
    const tls = this.linkOptions.tls;
    return {
      minVersion: 'TLSv1.2',
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.cert ? { cert: tls.cert } : {}),
      ...(tls?.key ? { key: tls.key } : {}),
    };
  }

  private async openSocket(): Promise<void> {
    const client = this.createClient();
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      if (this.client !== client) return;
      this.client = undefined;
      const error = err as Error & { code?: number };
      this.log.warn(`${this.identity}: cannot connect to ${this.endpoint}: ${error.message}`);
      this.emit('connectFailed', error);
      this.settleConnect(error);
      if (error.code === 401) this.securityLog('FailedToAuthenticateAtCentralSystem', error.message);
      this.scheduleReconnect();
      return;
    }
    if (this.client !== client || !this.running) {
      await client.close({ code: 1000 }).catch(() => undefined);
      return;
    }
    this.v201?.connected();
    client.once('close', ({ code, reason }: { code: number; reason: string }) =>
      this.onSocketClosed(client, code, reason),
    );
    this.reconnectAttempt = 0;
    this.log.info(
      `${this.identity}: connected to ${this.endpoint} (sub-protocol "${client.protocol ?? ''}")`,
    );
    this.emit('connected');
    if (this.needsBoot) {
      void this.sendBoot();
    } else {
      this.settleConnect(this.lastBoot);
      this.onReconnected();
      this.resumeQueues();
      this.rearmHeartbeat();
    }
  }

  private onSocketClosed(client: RPCClient, code: number, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.clock.clearTimeout(this.heartbeatTimer);
    this.clock.clearTimeout(this.bootTimer);
    this.heartbeatTimer = undefined;
    this.bootTimer = undefined;
    // A Pending or Rejected charge point registers again on the next connection.
    if (this.registrationStatus !== 'Accepted') this.needsBoot = true;
    this.transactionQueue.interrupt();
    this.securityEventQueue.interrupt();
    this.log.info(`${this.identity}: disconnected (${code}${reason ? ` ${reason}` : ''})`);
    this.emit('disconnected', { code, reason: reason ?? '' });
    this.onDisconnected();
    if (this.reopenOnClose) {
      this.reopenOnClose = false;
      if (this.running) void this.openSocket();
    } else if (this.running && !this.rebooting) {
      this.scheduleReconnect();
    }
    this.checkIdle();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.closed || this.reconnectTimer) return;
    const { initialDelayS = 1, maxDelayS = 60, factor = 2, jitter = 0 } = this.linkOptions.reconnect ?? {};
    const baseMs = Math.min(maxDelayS, initialDelayS * factor ** this.reconnectAttempt) * 1000;
    const spread = jitter > 0 ? (this.nextJitter() * 2 - 1) * jitter : 0;
    const delayMs = Math.max(0, Math.round(baseMs * (1 + spread)));
    this.reconnectAttempt += 1;
    this.emit('reconnecting', { delayMs, attempt: this.reconnectAttempt });
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running && !this.client && !this.rebooting) void this.openSocket();
    }, delayMs);
  }

  private settleConnect(outcome: BootNotificationResponse | undefined | Error): void {
    const pending = this.pendingConnect;
    if (!pending) return;
    this.pendingConnect = undefined;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  // ---- Registration ------------------------------------------------------------------------

  /** BootNotification payload, and whether a quirk made it deviate from the schema. */
  protected abstract bootPayload(): { payload: OcppRequest<'BootNotification'>; deviates: boolean };

  private async sendBoot(): Promise<void> {
    const client = this.client;
    const { payload, deviates } = this.bootPayload();
    let response: BootNotificationResponse;
    try {
      response = await this.call('BootNotification', payload, { deviates, beforeAccepted: true });
    } catch (err) {
      if (this.client !== client) return;
      const error = err as Error;
      this.log.warn(`${this.identity}: BootNotification failed: ${error.message}`);
      this.settleConnect(error);
      this.scheduleBoot(DEFAULT_BOOT_RETRY_S);
      return;
    }
    if (this.client !== client) return;
    this.lastBoot = response;
    this.registrationStatus = response.status;
    this.log.info(`${this.identity}: BootNotification ${response.status} (interval ${response.interval} s)`);
    this.emit('boot', response);
    this.settleConnect(response);
    if (response.status === 'Accepted') {
      this.needsBoot = false;
      // "the Charge Point will adjust the heartbeat interval in accordance with the interval" (4.2).
      if (response.interval > 0)
        this.configuration.setInternal('HeartbeatInterval', String(response.interval));
      this.onAccepted();
      this.resumeQueues();
      this.rearmHeartbeat();
    } else {
      // "the value of the interval field indicates the minimum wait time before sending a next
      // BootNotification request. If that interval value is zero, the Charge Point chooses" (4.2).
      this.scheduleBoot(response.interval > 0 ? response.interval : DEFAULT_BOOT_RETRY_S);
    }
  }

  private scheduleBoot(afterS: number): void {
    this.clock.clearTimeout(this.bootTimer);
    this.bootTimer = this.clock.setTimeout(() => {
      this.bootTimer = undefined;
      if (this.isOnline) void this.sendBoot();
    }, afterS * 1000);
  }

  /** A BootNotification the central system asked for with (Extended)TriggerMessage. */
  protected triggerBoot(): void {
    this.v201?.bootTriggered();
    this.clock.clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
    void this.sendBoot();
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
    if (this.rebooting) return;
    this.rebooting = true;
    this.v201?.rebooting(reason);
    this.log.info(`${this.identity}: rebooting (${reason})`);
    this.emit('rebooting', { reason });
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.needsBoot = true;
    this.registrationStatus = undefined;
    // The restart is timed from the moment the reset begins, whatever the close handshake takes.
    this.rebootTimer = this.clock.setTimeout(
      () => {
        this.rebootTimer = undefined;
        this.rebooting = false;
        this.onRestart();
        // Back up; if the old socket is still closing, dial as soon as it is gone.
        if (this.client) this.reopenOnClose = true;
        else if (this.running) void this.openSocket();
      },
      (this.linkOptions.rebootDelayS ?? 5) * 1000,
    );
    const client = this.client;
    if (client) await client.close({ code: 1012, reason: `Rebooting: ${reason}` }).catch(() => undefined);
  }

  /** Closes and reopens the connection, as after a new password (whitepaper A01) or security profile (A05). */
  protected async reconnectNow(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.reconnectAttempt = 0;
    await client.close({ code: 1000, reason: 'Reconnecting with new credentials' }).catch(() => undefined);
  }

  /** Applies MessageTimeout and WebSocketPingInterval to the open connection (and later ones). */
  protected applyTimings(): void {
    this.callTimeoutMs = this.configuration.int('MessageTimeout', 30) * 1000;
    const pingIntervalMs = this.configuration.int('WebSocketPingInterval', 0) * 1000;
    this.client?.reconfigure({ callTimeoutMs: this.callTimeoutMs, pingIntervalMs } as RpcClientOptions);
  }

  // ---- Heartbeat ---------------------------------------------------------------------------

  /** (Re)starts the heartbeat countdown; called on every exchange and when HeartbeatInterval changes. */
  protected rearmHeartbeat(): void {
    this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (!this.isOnline || this.registrationStatus !== 'Accepted') return;
    const intervalS = this.configuration.int('HeartbeatInterval', 0);
    if (intervalS <= 0) return;
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.sendHeartbeat();
    }, intervalS * 1000);
  }

  protected sendHeartbeat(triggered = false): void {
    this.call('Heartbeat', {}, { triggered }).catch((err: Error) =>
      this.log.warn(`${this.identity}: Heartbeat failed: ${err.message}`),
    );
  }

  // ---- Calls -------------------------------------------------------------------------------

  /**
   * Sends a request and returns the answer. Throws {@link NotConnectedError} when offline, or when
   * not accepted (only a triggered message may go out while Pending, 4.2).
   */
  protected async call<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { deviates?: boolean; triggered?: boolean; beforeAccepted?: boolean } = {},
  ): Promise<OcppResponse<A>> {
    const client = this.client;
    if (!client || client.state !== OPEN) throw new NotConnectedError(action, 'offline');
    const allowed =
      options.beforeAccepted ||
      this.registrationStatus === 'Accepted' ||
      (options.triggered && this.registrationStatus === 'Pending');
    if (!allowed)
      throw new NotConnectedError(action, `registration is ${this.registrationStatus ?? 'not done'}`);
    const selfValidate = client.protocol !== 'ocpp1.6';
    if (options.deviates) markDeviation(payload);
    else if (selfValidate) validateOcpp16(`urn:${action}.req`, payload);
    this.pendingCalls += 1;
    try {
      const answer =
        this.v201?.send(action, payload, client, options.triggered) ?? client.call(action, payload);
      const response = (await answer) as OcppResponse<A>;
      if (selfValidate) validateOcpp16(`urn:${action}.conf`, response);
      this.emit('result', { action, request: payload, response } as ResultMessage);
      return response;
    } catch (err) {
      this.emit('callError', { action, request: payload, error: err as Error });
      throw err;
    } finally {
      this.pendingCalls -= 1;
      this.checkIdle();
    }
  }

  /** Sends a request that is not transaction-related if possible; failures are logged, not thrown. */
  protected notify<A extends CpAction>(
    action: A,
    payload: OcppRequest<A>,
    options: { triggered?: boolean; deviates?: boolean } = {},
  ): void {
    if (!this.isOnline) return;
    this.call(action, payload, options).catch((err: Error) => {
      if (!(err instanceof NotConnectedError))
        this.log.warn(`${this.identity}: ${action} failed: ${err.message}`);
    });
  }

  protected resumeQueues(): void {
    this.transactionQueue.pump();
    this.securityEventQueue.pump();
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
    if (!isCentralSystemAction(action)) {
      throw createRPCError('NotImplemented', `${action} is not a Central System request`);
    }
    const csAction = action as CsAction;
    this.emit('received', { action: csAction, request: params, messageId } as ReceivedMessage);
    // "While Rejected, the Charge Point SHALL NOT respond to any Central System initiated message" (4.2).
    if (this.registrationStatus === 'Rejected') return NOREPLY as unknown as symbol;
    const selfValidate = this.client?.protocol !== 'ocpp1.6';
    const { response, after } = await this.runCommand(csAction, params, selfValidate);
    if (after) this.afterReplies.set(messageId, after);
    return response;
  }

  /**
   * Has the handler (or its override) answer a command in 1.6 shapes, with the `replied` event.
   * `validate`: check request and answer against the 1.6 schemas; a request that does not fit fails
   * with `invalid(action, err)` when given (a request translated from 2.0.1), else with err.
   */
  private async runCommand(
    action: CsAction,
    request: unknown,
    validate: boolean,
    invalid?: (action: CsAction, err: Error) => Error,
  ): Promise<{ response: unknown; after?: () => void }> {
    try {
      if (validate) {
        try {
          validateOcpp16(`urn:${action}.req`, request);
        } catch (err) {
          throw invalid ? invalid(action, err as Error) : err;
        }
      }
      let after: (() => void) | undefined;
      const next = async () => {
        const outcome = await this.handleCommand(action, request as never);
        after = outcome.after;
        return outcome.response;
      };
      const override = this.overrides.get(action);
      const response = override ? await override(request as never, next) : await next();
      if (validate) {
        try {
          validateOcpp16(`urn:${action}.conf`, response);
        } catch {
          throw internalError();
        }
      }
      this.emit('replied', { action, request, response } as RepliedMessage);
      return after ? { response, after } : { response };
    } catch (err) {
      this.emit('replied', { action, request, error: err as Error } as RepliedMessage);
      throw err;
    }
  }

  private nextJitter(): number {
    // mulberry32: a small seeded generator, so the spread is the same on every run.
    this.jitterState = (this.jitterState + 0x6d2b79f5) | 0;
    let t = this.jitterState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** FNV-1a, to seed per-charger generators from an identity. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
