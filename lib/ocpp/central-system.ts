import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RPCServer } from 'ocpp-rpc';
import type RPCServerClient from 'ocpp-rpc/lib/server-client';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { ConfigError } from '../config-error';
import type { ConnectorState } from '../contracts';
import { type Logger, silentLogger } from '../log';
import type { StoreIo } from '../store/durable-log';
import { type AuthorizationOptions, Authorizer, type FlowRequest } from './authorization';
import {
  applyEvent,
  type CentralEvent,
  type CentralState,
  type ChargerRecord,
  initialCentralState,
  isArchivedEvent,
  MemoryStateLog,
  type SessionRecord,
  type StateLog,
} from './central-state';
import {
  type CentralSystemAction,
  type ChargePointAction,
  ChargePointConnection,
  type ChargePointOptions,
  CommandError,
} from './connection';
import { ConnectorRegistry } from './connectors';
import { ChargePointHandlers } from './handlers';
import {
  decideHandshake,
  FailureThrottle,
  type SecurityProfile,
  type UnknownChargePointPolicy,
} from './handshake';
import type { IdTagEntry } from './id-tags';
import type { OcppRequest, OcppResponse } from './messages';
import { PasswordBook } from './passwords';
import { type SessionsCsvOptions, sessionsCsv } from './sessions-csv';
import { openDurableStateLog } from './state-store';
import { TransactionLedger } from './transactions';
import { loadTlsMaterial, type TlsSettings } from './transport';

/** The port chargers dial by default (`ws://<gateway>:9000/<identity>` in the vendor manuals). */
export const DEFAULT_OCPP_PORT = 9000;

/** OCPP-J sub-protocol this central system speaks. */
export const OCPP16 = 'ocpp1.6';

export interface CentralSystemOptions {
  /** Interface to listen on; empty or undefined means every interface. */
  host?: string;
  /** TCP port of its own listener; 0 picks a free port. Ignored when `server` is given. */
  port?: number;
  /** Share this HTTP(S) server (Node-RED's) instead of listening on a port of its own. */
  server?: HttpServer | HttpsServer;
  /** Only upgrade requests under this path are chargers; the identity is the segment after it. */
  path?: string;
  securityProfile?: SecurityProfile;
  /** Profiles 2 and 3, own listener only (a shared server has its own TLS). */
  tls?: TlsSettings;
  /** Profiles 1 and 2. */
  passwords?: PasswordBook;
  /** Profile 3: the client certificate's O must contain this. */
  certificateOrganization?: string;
  unknownChargePoints?: UnknownChargePointPolicy;
  /** Configured charge points (known) and their per-charger behaviour. */
  chargePoints?: Record<string, Partial<ChargePointOptions>>;
  /** Heartbeat interval given to chargers in BootNotification, in s. */
  heartbeatIntervalS?: number;
  /** Retry interval given to Pending chargers in BootNotification, in s. */
  pendingRetryIntervalS?: number;
  /** Default WebSocket ping interval in s; 0 switches pings off. */
  pingIntervalS?: number;
  /** A connection with no frame for this many heartbeat intervals is closed as dead. */
  deadAfterHeartbeats?: number;
  callTimeoutS?: number;
  /** Largest frame accepted, in bytes; a larger one closes the connection (1009). */
  maxFrameBytes?: number;
  authorization?: Partial<AuthorizationOptions>;
  /** Read the charger's configuration (GetConfiguration) after each accepted boot. */
  readConfigurationOnBoot?: boolean;
  /** DataTransfer and SignCertificate are answered by the flow when set to 'flow'. */
  dataTransfer?: 'reject' | 'flow';
  signCertificate?: 'reject' | 'flow';
  /**
   * Id tags configured with the central system: they replace the stored list at start. Leave
   * undefined when the list is managed at run time (SetIdTags commands).
   */
  idTags?: IdTagEntry[];
  /** Durable state lives here; without it the state is in memory only. */
  dataDirectory?: string;
  /** The durable state's file operations; tests replace them to make a disk fail. */
  storeIo?: Partial<StoreIo>;
  /** How long stop() waits for chargers to answer the close frame. */
  closeGraceMs?: number;
  /**
   * Own listener: a connection that has not completed its TLS handshake, or has not sent its whole
   * HTTP upgrade request, within this time is closed (slow or stalled handshakes hold no socket
   * for long). Default 20 s.
   */
  handshakeTimeoutMs?: number;
  clock?: Clock;
  log?: Logger;
}

export type CentralSystemState = 'stopped' | 'starting' | 'listening' | 'failed' | 'stopping';

/** A charge point as the central system knows it: its durable record and its live connection. */
export interface ChargePointInfo extends ChargerRecord {
  connected: boolean;
  connectedAt?: string;
  remoteAddress?: string;
  protocol?: string;
  lenient: boolean;
  connectors: ConnectorState[];
}

/** A charge-point-initiated message after it was answered. */
export interface ChargePointMessage {
  chargePointId: string;
  action: ChargePointAction;
  request: unknown;
  response: unknown;
  receivedAt: string;
  /** The message in the package's shapes (Reading, ConnectorState, SessionRecord, ...). */
  payload: unknown;
}

/** What a refused charger is told; the reason is logged, not sent. */
const GENERIC_REFUSALS: Record<400 | 401 | 404 | 429 | 503, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * Attempts of one identity from one address that wait, unchecked, while a refusal of that identity
 * from that address is answered late; more are refused at once with 429, still unchecked.
 */
const MAX_WAITING_ATTEMPTS_PER_ADDRESS = 8;
/** Attempts of one address held back in all (refusals answered late and attempts waiting): a socket bound. */
const MAX_HELD_ATTEMPTS_PER_ADDRESS = 64;

/** What ocpp-rpc hands the auth callback. */
interface UpgradeHandshake {
  identity: string;
  password?: Buffer;
  remoteAddress?: string;
  protocols: Set<string>;
  request: IncomingMessage;
}

/** An identity at an address with a refusal being answered late, and its attempts waiting for their turn. */
interface AddressGate {
  parked: boolean;
  waiting: { check: () => void; refuse: (status: 503) => void }[];
}

const DEFAULTS = {
  heartbeatIntervalS: 300,
  pendingRetryIntervalS: 60,
  pingIntervalS: 60,
  deadAfterHeartbeats: 3,
  callTimeoutS: 30,
  maxFrameBytes: 1024 * 1024,
  closeGraceMs: 2000,
  handshakeTimeoutMs: 20000,
} as const;

/**
 * An OCPP 1.6-J central system: owns the listening socket, the charge points connected to it,
 * their connectors and transactions, and the durable state.
 *
 * Events: `state` (CentralSystemState); `connect` ({chargePointId, remoteAddress, protocol});
 * `disconnect` ({chargePointId, code, reason}); `refused` ({identity, remoteAddress, status,
 * reason}); `held` ({identity, remoteAddress, waiting}: an attempt waits, unchecked, while a
 * refusal of its address is answered late); `message` (ChargePointMessage); `connector` (ConnectorState); `session`
 * (SessionRecord); `violation` ({chargePointId, ...Violation});
 * `frame` ({chargePointId, direction, frame}); `command` ({chargePointId, action, request,
 * response?, error?}); `failed` (Error: the durable state failed and the central system stopped).
 */
export class CentralSystem extends EventEmitter {
  readonly options: Readonly<CentralSystemOptions>;
  readonly connectors = new ConnectorRegistry();
  readonly log: Logger;
  readonly clock: Clock;
  private stateLog: StateLog<CentralState, CentralEvent> | undefined;
  private ledger: TransactionLedger | undefined;
  private authorizer: Authorizer | undefined;
  private handlers: ChargePointHandlers | undefined;
  private httpServer: HttpServer | HttpsServer | undefined;
  private rpcServer: RPCServer | undefined;
  private upgradeListener: ((request: IncomingMessage, socket: Socket, head: Buffer) => void) | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly connections = new Map<string, ChargePointConnection>();
  private readonly requestHandlers = new Set<(request: FlowRequest) => boolean>();
  private readonly throttle: FailureThrottle;
  /** Addresses with a refusal being answered late; how to answer each at once. */
  /** Keyed by address and identity (gateKey). */
  private readonly gates = new Map<string, AddressGate>();
  /** Attempts held back per address: parked refusals and waiting attempts. */
  private readonly heldPerAddress = new Map<string, number>();
  private readonly releaseParked = new Map<() => void, TimerHandle>();
  /** TLS connections that have not sent their request yet, and when they are dropped. */
  private readonly handshakeTimers = new Map<Socket, TimerHandle>();
  private currentState: CentralSystemState = 'stopped';
  /** Why the central system stopped on its own (its durable state failed), if it did. */
  failure: Error | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: CentralSystemOptions) {
    super();
    this.options = { ...options };
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.throttle = new FailureThrottle(this.clock);
    const profile = options.securityProfile ?? 0;
    if (options.server) {
      if (options.tls) {
        throw new ConfigError(
          'tls',
          'TLS settings apply to an own listener; a shared server brings its own TLS',
        );
      }
      if (this.pathPrefix === '/') {
        throw new ConfigError(
          'path',
          'sharing a server needs a path of its own, such as /ocpp (/ is the editor)',
        );
      }
      if (profile === 3) {
        throw new ConfigError(
          'securityProfile',
          'security profile 3 (client certificates) needs a port of its own',
        );
      }
      if (profile === 2 && !(options.server instanceof HttpsServer)) {
        throw new ConfigError(
          'securityProfile',
          'security profile 2 on a shared server needs Node-RED to run on HTTPS',
        );
      }
    } else if ((profile === 2 || profile === 3) && !options.tls) {
      throw new ConfigError('securityProfile', `security profile ${profile} needs TLS (certificate and key)`);
    }
  }

  get state(): CentralSystemState {
    return this.currentState;
  }

  /** Where chargers dial in, e.g. `ws://127.0.0.1:9000/`; undefined until listening. */
  get url(): string | undefined {
    if (this.currentState !== 'listening') return undefined;
    const scheme = this.isTls ? 'wss' : 'ws';
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${scheme}://${host}:${address.port}${this.pathPrefix}`;
  }

  /** The bound port (useful with `port: 0`); undefined until listening. */
  get port(): number | undefined {
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    return address?.port;
  }

  private get isTls(): boolean {
    return Boolean(this.options.tls) || this.options.server instanceof HttpsServer;
  }

  /** The path prefix chargers dial under, always ending in `/`. */
  get pathPrefix(): string {
    const path = this.options.path ?? '/';
    const withSlash = path.startsWith('/') ? path : `/${path}`;
    return withSlash.endsWith('/') ? withSlash : `${withSlash}/`;
  }

  /** Opens the durable state and binds the port; rejects with a message naming what is wrong. */
  start(): Promise<void> {
    if (this.currentState !== 'stopped' && this.currentState !== 'failed') {
      return Promise.reject(new Error(`central system cannot start while ${this.currentState}`));
    }
    this.starting = this.open().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Closes every connection, the listening socket and the durable state. Safe to call any time. */
  stop(): Promise<void> {
    this.stopping ??= this.close().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  // ---- charge points ------------------------------------------------------------------------

  isConnected(chargePointId: string): boolean {
    return this.connections.get(chargePointId)?.isOpen ?? false;
  }

  /** Identities of the charge points connected right now. */
  connectedChargePoints(): string[] {
    return [...this.connections.values()].filter((c) => c.isOpen).map((c) => c.identity);
  }

  /** Every charge point known or connected, with its connectors. */
  chargePoints(): ChargePointInfo[] {
    const state = this.requireState();
    const ids = new Set([...Object.keys(state.chargers), ...this.connections.keys()]);
    return [...ids].sort().map((id) => this.chargePoint(id) as ChargePointInfo);
  }

  chargePoint(chargePointId: string): ChargePointInfo | undefined {
    const record = this.stateLog?.state.chargers[chargePointId];
    const connection = this.connections.get(chargePointId);
    if (!record && !connection) return undefined;
    const info: ChargePointInfo = {
      ...(record ?? {
        chargePointId,
        firstSeenAt: this.nowIso(),
        approved: false,
        blocked: false,
      }),
      connected: connection?.isOpen ?? false,
      lenient: this.chargePointOptions(chargePointId).lenient,
      connectors: this.connectors.all(chargePointId),
    };
    if (connection?.isOpen) {
      info.connectedAt = new Date(connection.connectedAt).toISOString();
      if (connection.remoteAddress) info.remoteAddress = connection.remoteAddress;
      info.protocol = connection.protocol;
    }
    return info;
  }

  /** Approves a (pending) charge point; it is asked to boot again so it is accepted at once. */
  async approveChargePoint(chargePointId: string): Promise<void> {
    await this.requireLog().append({
      type: 'chargerApproval',
      chargePointId,
      at: this.nowIso(),
      approved: true,
    });
    if (
      this.isConnected(chargePointId) &&
      this.stateLog?.state.chargers[chargePointId]?.registration !== 'Accepted'
    ) {
      this.call(chargePointId, 'TriggerMessage', { requestedMessage: 'BootNotification' }).catch(
        (err: Error) => {
          this.log.warn(`approved ${chargePointId}, but asking it to boot again failed: ${err.message}`);
        },
      );
    }
  }

  /**
   * Keeps what the charging-profile manager learned about a charger in its durable record
   * (`ChargerRecord.smartCharging`), so that a restart of Node-RED does not forget which way of
   * setting a limit the charger takes.
   */
  async recordSmartCharging(chargePointId: string, facts: unknown): Promise<void> {
    await this.requireLog().append({
      type: 'chargerSmartCharging',
      chargePointId,
      at: this.nowIso(),
      facts,
    });
  }

  /** Rejects a charge point: it is disconnected now and refused at every later handshake. */
  async rejectChargePoint(chargePointId: string): Promise<void> {
    await this.requireLog().append({
      type: 'chargerApproval',
      chargePointId,
      at: this.nowIso(),
      approved: false,
    });
    await this.connections.get(chargePointId)?.close(1008, 'Rejected by the operator');
  }

  /**
   * Sends a command to a charge point and returns its answer. Fails at once when the charger is
   * not connected (nothing is queued); a timeout names the charger and the action.
   */
  async call<A extends CentralSystemAction>(
    chargePointId: string,
    action: A,
    request: OcppRequest<A>,
    options: { timeoutMs?: number } = {},
  ): Promise<OcppResponse<A>> {
    const connection = this.connections.get(chargePointId);
    if (!connection?.isOpen) {
      const known = this.stateLog?.state.chargers[chargePointId] !== undefined;
      throw new CommandError(
        known
          ? `charge point ${chargePointId} is not connected`
          : `charge point ${chargePointId} is unknown to this central system`,
        'Offline',
      );
    }
    let response: OcppResponse<A>;
    try {
      response = await connection.call(action, request, options.timeoutMs);
    } catch (err) {
      this.emit('command', { chargePointId, action, request, error: err });
      throw err;
    }
    this.emit('command', { chargePointId, action, request, response });
    // The charger has carried the command out: failing to record its effect is logged, not thrown.
    await this.handlers?.afterCommand(chargePointId, action, request, response).catch((err: Error) => {
      this.log.error(`recording the effect of ${action} on ${chargePointId} failed: ${err.message}`);
    });
    return response;
  }

  // ---- flow decisions, id tags, records --------------------------------------------------------

  /**
   * Registers a handler for decisions the flow makes (FlowRequest). It returns true when it takes
   * the request (and will answer it with `respond`); when no handler takes one, the fallback
   * answers at once. Returns the function that removes the handler.
   */
  addRequestHandler(handler: (request: FlowRequest) => boolean): () => void {
    this.requestHandlers.add(handler);
    return () => this.requestHandlers.delete(handler);
  }

  private dispatchRequest(request: FlowRequest): boolean {
    let taken = false;
    for (const handler of this.requestHandlers) taken = handler(request) || taken;
    return taken;
  }

  /** Answers a FlowRequest; false when it was already answered or timed out. */
  respond(requestId: string, decision: unknown): boolean {
    return this.requireAuthorizer().respond(requestId, decision);
  }

  get idTags() {
    return this.requireAuthorizer().idTags;
  }

  /** Open transactions, oldest first. */
  openTransactions() {
    return this.requireLedger().open();
  }

  /** Every finished session ever recorded, oldest first. */
  async *sessions(): AsyncIterable<SessionRecord> {
    for await (const event of this.requireLog().archive()) {
      if (event.type === 'transactionStopped') yield event.session;
    }
  }

  /** The finished sessions as CSV (charge data records for billing). */
  exportSessionsCsv(options: SessionsCsvOptions = {}): Promise<string> {
    return sessionsCsv(this.sessions(), options);
  }

  /** Pushes the local authorization list to a charger (Full or Differential as needed). */
  pushLocalList(chargePointId: string, options: { full?: boolean } = {}) {
    return this.requireHandlers().pushLocalList(chargePointId, options);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Per-charger options: configured values over the defaults. */
  chargePointOptions(chargePointId: string): ChargePointOptions {
    const configured = this.options.chargePoints?.[chargePointId] ?? {};
    return {
      lenient: configured.lenient ?? false,
      pingIntervalS: configured.pingIntervalS ?? this.options.pingIntervalS ?? DEFAULTS.pingIntervalS,
    };
  }

  isKnown(chargePointId: string): boolean {
    const record = this.stateLog?.state.chargers[chargePointId];
    return (
      Boolean(this.options.chargePoints?.[chargePointId]) ||
      Boolean(this.options.passwords?.lists(chargePointId)) ||
      Boolean(record?.approved)
    );
  }

  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /**
   * How long a charger may stay silent before its connection counts as dead: a generous multiple
   * of its heartbeat interval, the one it was given or the longer one it was configured with.
   */
  private deadAfterMs(chargePointId: string): number {
    const configured = this.stateLog?.state.chargers[chargePointId]?.configuration?.keys.find(
      (key) => key.key === 'HeartbeatInterval',
    )?.value;
    const intervalS = Math.max(this.heartbeatIntervalS(), Number(configured) > 0 ? Number(configured) : 0);
    return (this.options.deadAfterHeartbeats ?? DEFAULTS.deadAfterHeartbeats) * intervalS * 1000;
  }

  heartbeatIntervalS(): number {
    return this.options.heartbeatIntervalS ?? DEFAULTS.heartbeatIntervalS;
  }

  pendingRetryIntervalS(): number {
    return this.options.pendingRetryIntervalS ?? DEFAULTS.pendingRetryIntervalS;
  }

  requireLog(): StateLog<CentralState, CentralEvent> {
    if (!this.stateLog) throw new Error('the central system is not started');
    return this.stateLog;
  }

  private requireState(): CentralState {
    return this.requireLog().state;
  }

  private requireLedger(): TransactionLedger {
    if (!this.ledger) throw new Error('the central system is not started');
    return this.ledger;
  }

  private requireAuthorizer(): Authorizer {
    if (!this.authorizer) throw new Error('the central system is not started');
    return this.authorizer;
  }

  private requireHandlers(): ChargePointHandlers {
    if (!this.handlers) throw new Error('the central system is not started');
    return this.handlers;
  }

  private async open(): Promise<void> {
    this.failure = undefined;
    this.setState('starting');
    try {
      await this.openState();
      await this.listen();
    } catch (err) {
      await this.releaseState();
      this.setState('failed');
      throw err;
    }
    this.setState('listening');
    const where = this.options.server
      ? `the shared HTTP server under ${this.pathPrefix}`
      : this.options.host
        ? this.url
        : `${this.isTls ? 'wss' : 'ws'}://<this machine>:${this.port}${this.pathPrefix} (every interface)`;
    this.log.info(
      `OCPP 1.6-J central system listening on ${where}, chargers dial <url><chargePointId>; security profile ${this.options.securityProfile ?? 0}`,
    );
    const weak = this.options.passwords?.weakPasswords() ?? [];
    if (weak.length > 0) {
      this.log.warn(
        `passwords shorter than the 16 bytes the OCPP security whitepaper asks for: ${weak.join(', ')}`,
      );
    }
  }

  private async openState(): Promise<void> {
    this.stateLog = this.options.dataDirectory
      ? await openDurableStateLog(
          this.options.dataDirectory,
          this.log,
          (err) => this.onStoreStopped(err),
          this.options.storeIo,
        )
      : new MemoryStateLog<CentralState, CentralEvent>(initialCentralState(), applyEvent, isArchivedEvent);
    this.ledger = new TransactionLedger(this.stateLog);
    // ConcurrentTx counts the transactions still bound to a connector: a transaction the charger
    // never stopped (its connector went Available) must not block the badge for ever.
    const boundTransactions = {
      open: () =>
        this.connectors.all().flatMap((state) =>
          state.transaction
            ? [
                {
                  chargePointId: state.chargePointId,
                  connectorId: state.connectorId,
                  idTag: state.transaction.idTag,
                },
              ]
            : [],
        ),
    };
    this.authorizer = new Authorizer(
      this,
      this.stateLog,
      boundTransactions,
      this.options.authorization ?? {},
      (request) => this.dispatchRequest(request),
    );
    this.handlers = new ChargePointHandlers(this, this.stateLog, this.ledger, this.authorizer);
    if (this.options.idTags && this.options.idTags.length > 0)
      await this.authorizer.idTags.replaceAll(this.options.idTags);
    // Restore running transactions onto their connectors: the load manager needs them at once.
    for (const tx of this.ledger.open()) {
      const transaction = {
        transactionId: tx.transactionId,
        idTag: tx.idTag,
        startedAt: tx.startedAt,
        meterStartWh: tx.meterStartWh,
      };
      this.connectors.bindTransaction(
        tx.chargePointId,
        tx.connectorId,
        tx.priority === undefined ? transaction : { ...transaction, priority: tx.priority },
      );
    }
  }

  /**
   * The durable state cannot be written any more (disk full, I/O error): nothing more can be
   * acknowledged safely. The central system stops, so that chargers keep their transactions
   * (OCPP chargers queue them while offline) until it runs again with a working disk.
   */
  private onStoreStopped(err: Error): void {
    this.failure = err;
    this.log.error(
      `the central system stops because its durable state cannot be written: ${err.message} Chargers keep their transactions until it runs again.`,
    );
    this.emit('failed', err);
    void this.stop().then(() => this.setState('failed'));
  }

  private async releaseState(): Promise<void> {
    this.authorizer?.close();
    const log = this.stateLog;
    this.stateLog = undefined;
    this.ledger = undefined;
    this.authorizer = undefined;
    this.handlers = undefined;
    await log?.close().catch((err: Error) => this.log.warn(`closing the durable state: ${err.message}`));
  }

  private async listen(): Promise<void> {
    const rpcServer = new RPCServer({
      protocols: [OCPP16],
      // Validation happens in ChargePointConnection (lenient chargers, chargers without sub-protocol).
      strictMode: false,
      callTimeoutMs: (this.options.callTimeoutS ?? DEFAULTS.callTimeoutS) * 1000,
      pingIntervalMs: (this.options.pingIntervalS ?? DEFAULTS.pingIntervalS) * 1000,
      wssOptions: { maxPayload: this.options.maxFrameBytes ?? DEFAULTS.maxFrameBytes },
    } as ConstructorParameters<typeof RPCServer>[0]);
    rpcServer.on('error', (err: Error) => this.log.warn(`WebSocket server error: ${err.message}`));
    rpcServer.on('client', (client: RPCServerClient) => this.onClient(client));
    rpcServer.auth((accept, reject, handshake) => this.authenticate(accept, reject, handshake));
    this.rpcServer = rpcServer;

    const prefix = this.pathPrefix;
    const onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const pathname = (request.url ?? '/').split('?')[0] ?? '/';
      if (this.options.server && !pathname.startsWith(prefix)) return; // another user of the shared server
      if (!pathname.startsWith(prefix)) {
        socket.end(
          `HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nChargers dial ${prefix}<chargePointId>\n`,
        );
        return;
      }
      rpcServer.handleUpgrade(request, socket, head).catch((err: Error) => {
        this.log.warn(
          `WebSocket upgrade from ${socket.remoteAddress ?? 'unknown address'} failed: ${err.message}`,
        );
        socket.destroy();
      });
    };
    this.upgradeListener = onUpgrade;

    if (this.options.server) {
      this.options.server.on('upgrade', onUpgrade);
      return;
    }

    const port = this.options.port ?? DEFAULT_OCPP_PORT;
    const answerPlainHttp = (_request: IncomingMessage, response: import('node:http').ServerResponse) => {
      response.statusCode = 426;
      response.setHeader('Upgrade', 'websocket');
      response.end(
        `This is an OCPP 1.6-J central system: connect with a WebSocket to ${prefix}<chargePointId>\n`,
      );
    };
    // Node's defaults let a connection that never completes its handshake hold a socket for 60 to
    // 90 s (HTTP headers) or 120 s (TLS): a cheap way to exhaust file descriptors.
    const handshakeTimeoutMs = this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    const httpTimeouts = {
      headersTimeout: handshakeTimeoutMs,
      requestTimeout: handshakeTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(handshakeTimeoutMs / 4))),
    };
    let server: HttpServer | HttpsServer;
    if (this.options.tls) {
      const profile = this.options.securityProfile ?? 0;
      const material = loadTlsMaterial(this.options.tls, profile === 3);
      server = createHttpsServer(
        {
          ...material,
          ...httpTimeouts,
          handshakeTimeout: handshakeTimeoutMs,
          requestCert: profile === 3,
          rejectUnauthorized: profile === 3,
        },
        answerPlainHttp,
      );
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        this.log.warn(
          `TLS handshake from ${socket.remoteAddress ?? 'unknown address'} failed: ${err.message}`,
        );
      });
    } else {
      server = createHttpServer({ noDelay: true, ...httpTimeouts }, answerPlainHttp);
    }
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Node's headersTimeout does not cover a TLS connection that sends no request at all: each
    // connection gets until the handshake timeout to send its upgrade request (or any request).
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      const timer = this.clock.setTimeout(() => {
        if (!socket.destroyed) socket.destroy();
      }, handshakeTimeoutMs);
      this.handshakeTimers.set(socket, timer);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.clearHandshakeTimer(socket);
      });
    });
    server.on('request', (request: IncomingMessage) => this.clearHandshakeTimer(request.socket));
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      this.clearHandshakeTimer(socket);
      onUpgrade(request, socket, head);
    });
    this.httpServer = server;

    const where = `${this.options.host || '0.0.0.0'}:${port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: this.options.host || undefined }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.httpServer = undefined;
      this.rpcServer = undefined;
      await rpcServer.close({ force: true });
      throw new Error(describeListenError(err as NodeJS.ErrnoException, where));
    }
    server.on('error', (err: Error) => this.log.error(`listening socket ${where}: ${err.message}`));
  }

  private async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const { httpServer, rpcServer } = this;
    if (!rpcServer && !this.stateLog) return;
    this.setState('stopping');
    this.httpServer = undefined;
    this.rpcServer = undefined;
    if (this.options.server && this.upgradeListener) this.options.server.off('upgrade', this.upgradeListener);
    const closed = httpServer ? new Promise<void>((resolve) => httpServer.close(() => resolve())) : undefined;

    // A close frame with 1001 "going away" tells chargers to reconnect later; a charger that does
    // not answer it within the grace period is dropped.
    let graceTimer: TimerHandle | undefined;
    await Promise.race([
      Promise.all(
        [...this.connections.values()].map((connection) => connection.close(1001, 'Central system stopping')),
      ),
      new Promise<void>((resolve) => {
        graceTimer = this.clock.setTimeout(resolve, this.options.closeGraceMs ?? DEFAULTS.closeGraceMs);
      }),
    ]);
    this.clock.clearTimeout(graceTimer);
    // Held refusals are answered now; attempts waiting behind them get 503 (state is 'stopping').
    for (const [release, timer] of this.releaseParked) {
      this.clock.clearTimeout(timer);
      release();
    }
    for (const socket of this.sockets) socket.destroy();
    for (const timer of this.handshakeTimers.values()) this.clock.clearTimeout(timer);
    this.handshakeTimers.clear();
    await rpcServer?.close({ code: 1001, force: true });
    await closed;
    this.connections.clear();
    await this.releaseState();
    this.setState('stopped');
  }

  /**
   * Decides a WebSocket upgrade. Repeated failures from one address are answered later and later
   * (FailureThrottle); while a refusal of an identity from an address is held back, further
   * attempts for that identity from that address wait unchecked for their turn, so that password
   * guesses sent in parallel are checked no faster than guesses sent one after another. Other
   * chargers behind the same address (a site router, NAT) are checked at once: one charger with a
   * wrong password must not keep a car park's other chargers out. An address holds at most
   * MAX_HELD_ATTEMPTS_PER_ADDRESS attempts back; beyond that it gets 429 at once.
   */
  private authenticate(
    accept: (session?: Record<string, unknown>, protocol?: string | false) => void,
    reject: (code: number, message: string) => void,
    handshake: UpgradeHandshake,
  ): void {
    const remoteAddress = handshake.remoteAddress ?? 'unknown address';
    const gate = this.gates.get(gateKey(remoteAddress, handshake.identity));
    if (!gate) {
      this.check(accept, reject, handshake, remoteAddress);
      return;
    }
    const refuse = (status: 429 | 503, reason: string) => {
      this.log.warn(
        `refused charge point ${JSON.stringify(handshake.identity)} from ${remoteAddress}: ${reason} (HTTP ${status})`,
      );
      this.emit('refused', { identity: handshake.identity, remoteAddress, status, reason });
      reject(status, GENERIC_REFUSALS[status]);
    };
    if (gate.waiting.length >= MAX_WAITING_ATTEMPTS_PER_ADDRESS) {
      refuse(
        429,
        `${MAX_WAITING_ATTEMPTS_PER_ADDRESS} attempts for this charge point from this address already wait while its failed ones are answered late; not checked`,
      );
      return;
    }
    if (!this.hold(remoteAddress)) {
      refuse(
        429,
        `${MAX_HELD_ATTEMPTS_PER_ADDRESS} attempts from this address are already held back; not checked`,
      );
      return;
    }
    gate.waiting.push({
      check: () => {
        this.unhold(remoteAddress);
        // The client gave up waiting: nothing to check, nothing to count.
        if (handshake.request.socket.destroyed) return;
        this.check(accept, reject, handshake, remoteAddress);
      },
      refuse: (status) => {
        this.unhold(remoteAddress);
        refuse(status, 'the central system is stopping');
      },
    });
    this.emit('held', { identity: handshake.identity, remoteAddress, waiting: gate.waiting.length });
  }

  private check(
    accept: (session?: Record<string, unknown>, protocol?: string | false) => void,
    reject: (code: number, message: string) => void,
    handshake: UpgradeHandshake,
    remoteAddress: string,
  ): void {
    const tlsSocket = handshake.request.socket as TLSSocket;
    const decision = decideHandshake(
      {
        identity: handshake.identity,
        remoteAddress,
        ...(handshake.password ? { password: handshake.password } : {}),
        ...(typeof tlsSocket.getPeerCertificate === 'function'
          ? {
              peerCertificate: tlsSocket.getPeerCertificate(),
              certificateAuthorized: tlsSocket.authorized === true,
            }
          : {}),
      },
      {
        securityProfile: this.options.securityProfile ?? 0,
        passwords: this.options.passwords ?? PasswordBook.empty(),
        unknownChargePoints: this.options.unknownChargePoints ?? 'pending',
        isKnown: (id) => this.isKnown(id),
        isBlocked: (id) => Boolean(this.stateLog?.state.chargers[id]?.blocked),
        ...(this.options.certificateOrganization
          ? { certificateOrganization: this.options.certificateOrganization }
          : {}),
      },
    );
    let refusal = decision.accepted ? undefined : decision;
    if (!refusal && handshake.protocols.size > 0 && !handshake.protocols.has(OCPP16)) {
      refusal = {
        accepted: false,
        status: 400,
        reason: `offers sub-protocols ${[...handshake.protocols].join(', ')}; this central system speaks ${OCPP16}`,
      };
    }
    if (!refusal) {
      // A charger that offers no sub-protocol is served as OCPP 1.6 (a documented real-world quirk).
      accept({}, handshake.protocols.size === 0 ? false : OCPP16);
      return;
    }
    const { status, reason } = refusal;
    const delayMs = this.throttle.recordFailure(remoteAddress);
    this.log.warn(
      `refused charge point ${JSON.stringify(handshake.identity)} from ${remoteAddress}: ${reason} (HTTP ${status}${delayMs ? `, answered after ${delayMs / 1000} s` : ''})`,
    );
    this.emit('refused', { identity: handshake.identity, remoteAddress, status, reason });
    // The details stay in the log: telling a stranger which identities exist or why a password
    // failed helps nobody but an attacker.
    const answer = () => reject(status, GENERIC_REFUSALS[status]);
    if (delayMs === 0 || !this.hold(remoteAddress)) {
      answer();
      return;
    }
    const key = gateKey(remoteAddress, handshake.identity);
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { parked: false, waiting: [] };
      this.gates.set(key, gate);
    }
    const held = gate;
    held.parked = true;
    const release = () => {
      this.releaseParked.delete(release);
      this.unhold(remoteAddress);
      answer();
      held.parked = false;
      this.openGate(key, held);
    };
    const timer = this.clock.setTimeout(release, delayMs);
    this.releaseParked.set(release, timer);
  }

  private clearHandshakeTimer(socket: Socket): void {
    const timer = this.handshakeTimers.get(socket);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.handshakeTimers.delete(socket);
  }

  /** Counts one more attempt held back at an address; false when the address has its fill. */
  private hold(remoteAddress: string): boolean {
    const held = this.heldPerAddress.get(remoteAddress) ?? 0;
    if (held >= MAX_HELD_ATTEMPTS_PER_ADDRESS) return false;
    this.heldPerAddress.set(remoteAddress, held + 1);
    return true;
  }

  private unhold(remoteAddress: string): void {
    const held = (this.heldPerAddress.get(remoteAddress) ?? 1) - 1;
    if (held > 0) this.heldPerAddress.set(remoteAddress, held);
    else this.heldPerAddress.delete(remoteAddress);
  }

  /** Checks the attempts waiting at a gate, in order, until one of them is held back again. */
  private openGate(key: string, gate: AddressGate): void {
    while (!gate.parked) {
      const next = gate.waiting.shift();
      if (!next) {
        this.gates.delete(key);
        return;
      }
      if (this.currentState === 'listening') next.check();
      else next.refuse(503);
    }
  }

  private onClient(client: RPCServerClient): void {
    const identity = client.handshake.identity;
    const previous = this.connections.get(identity);
    const connection = new ChargePointConnection({
      identity,
      client,
      chargePoint: this.chargePointOptions(identity),
      clock: this.clock,
      log: this.log,
      callTimeoutMs: (this.options.callTimeoutS ?? DEFAULTS.callTimeoutS) * 1000,
      isAccepted: () => this.isAccepted(identity),
      handle: (action, request, conn) => this.requireHandlers().handle(action, request, conn),
      deadAfterMs: () => this.deadAfterMs(identity),
    });
    this.connections.set(identity, connection);
    if (previous?.isOpen) {
      this.log.info(`charge point ${identity} connected again; closing its previous connection`);
      void previous.close(1000, 'Replaced by a new connection');
    }
    connection.on('frame', ({ direction, frame }: { direction: string; frame: string }) =>
      this.emit('frame', { chargePointId: identity, direction, frame }),
    );
    connection.on('violation', (violation) =>
      this.emit('violation', { chargePointId: identity, ...violation }),
    );
    connection.once('close', ({ code, reason }: { code: number; reason: string }) => {
      if (this.connections.get(identity) !== connection) return; // replaced: the new one owns the state
      this.connections.delete(identity);
      for (const state of this.connectors.setOnline(identity, false)) this.emit('connector', state);
      this.log.info(`charge point ${identity} disconnected (${code}${reason ? ` ${reason}` : ''})`);
      this.emit('disconnect', { chargePointId: identity, code, reason });
    });
    if (this.stateLog && !this.stateLog.state.chargers[identity]) {
      this.stateLog
        .append({ type: 'chargerSeen', chargePointId: identity, at: this.nowIso() })
        .catch((err: Error) => {
          this.log.error(`recording charge point ${identity} failed: ${err.message}`);
        });
    }
    for (const state of this.connectors.setOnline(identity, true)) this.emit('connector', state);
    this.log.info(
      `charge point ${identity} connected from ${connection.remoteAddress ?? 'unknown address'}${connection.protocol ? '' : ' (no sub-protocol offered, served as ocpp1.6)'}`,
    );
    this.emit('connect', {
      chargePointId: identity,
      remoteAddress: connection.remoteAddress,
      protocol: connection.protocol,
    });
  }

  /** Accepted: its last BootNotification was answered Accepted, or it is known and approved. */
  private isAccepted(chargePointId: string): boolean {
    const record = this.stateLog?.state.chargers[chargePointId];
    if (record?.registration)
      return record.registration === 'Accepted' || (record.approved && !record.blocked);
    // Never booted here (it booted before the central system's state existed): serve it when known
    // or when unknown chargers are accepted.
    return this.isKnown(chargePointId) || this.options.unknownChargePoints === 'accept';
  }

  private setState(state: CentralSystemState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }
}

function describeListenError(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use by another program or node`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: the host is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

/** Where attempts wait for their turn: one charge point identity at one address. */
function gateKey(remoteAddress: string, identity: string): string {
  return `${remoteAddress}\u0000${identity}`;
}
