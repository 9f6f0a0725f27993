import { type Clock, systemClock } from '../clock';
import type { ChargePointEvents, ChargePointPort, ChargerSnapshot, ConnectorState } from '../contracts';
import { type Logger, silentLogger } from '../log';
import type { Admission } from './admission';
import { ApprovalBoots } from './approval-boot';
import { type FlowRequest, FlowRequestHandlers } from './authorization';
import type { CentralLifecycle } from './central-lifecycle';
import {
  CENTRAL_DEFAULTS,
  type CentralSystemOptions,
  heartbeatIntervalS,
  pendingRetryIntervalS,
} from './central-options';
import type {
  CentralEvent,
  CentralState,
  OpenTransaction,
  SessionRecord,
  StateLog,
  StopAnomaly,
} from './central-state';
import type {
  CentralSystemState,
  ChargePointInfo,
  ChargerTraffic,
  OwnEvent,
  OwnListener,
  PortListener,
} from './central-types';
import { wireCentral } from './central-wiring';
import type { ChargerState } from './charger-state';
import type { CentralSystemAction, ChargePointOptions } from './connection';
import type { ConnectorFeed, ConnectorStateListener, ConnectorStatePort } from './connector-feed';
import type { ConnectorNotes } from './connector-notes';
import { ConnectorNotesFacade } from './connector-notes-facade';
import type { ConnectorRegistry } from './connectors';
import type { FileExchange } from './files';
import type { OcppListener } from './listener';
import type { LiveConnections } from './live-connections';
import type { BootNotificationRequest, OcppRequest, OcppResponse } from './messages';
import { type SessionsCsvOptions, sessionsCsv } from './sessions-csv';
import type { CallOptions, TrafficGate } from './traffic';
import type { TransactionLedger } from './transactions';

export type { ChargePointMessage } from '../contracts';
export type { CentralSystemOptions } from './central-options';
export type {
  CentralSystemEvents,
  CentralSystemState,
  ChargePointInfo,
  ChargePointViolation,
  FrameEvent,
  HeldAttempt,
  Refusal,
} from './central-types';
export type { ConnectorStateListener } from './connector-feed';
export { DEFAULT_OCPP_PORT, OCPP16 } from './listener';

/**
 * An OCPP 1.6-J and 2.0.1 central system: the façade over its parts, with one owner per concern. The
 * listener (listener.ts) owns the sockets and the handshake deadlines; admission (admission.ts)
 * decides who may connect and brakes password guessing; the charger state (charger-state.ts) owns
 * the durable state, the transaction ledger and the connectors; handlers.ts answers chargers and
 * authorization.ts decides id tags; central-lifecycle.ts owns starting and stopping, and the parts
 * that exist only while running. The façade owns the live connections.
 *
 * Events (CentralSystemEvents): `state`; `connect`; `disconnect`; `refused` (an upgrade refused,
 * the reason logged, never sent); `held` (an attempt waits, unchecked, while a refusal of its
 * address is answered late); `message` (ChargePointMessage); `connector` (ConnectorState);
 * `session` (SessionRecord); `violation`; `frame`; `command` (a command answered or failed);
 * `failed` (Error: the durable state failed and the central system stopped).
 */
export class CentralSystem extends ConnectorNotesFacade implements ChargePointPort {
  readonly options: Readonly<CentralSystemOptions>;
  readonly log: Logger;
  readonly clock: Clock;
  private readonly listener: OcppListener;
  private readonly admission: Admission;
  private readonly charges: ChargerState;
  private readonly connections: LiveConnections;
  private readonly flowRequests = new FlowRequestHandlers();
  /** Commands out and CALLs in, through the room between if any (interpose). */
  private readonly gate: TrafficGate;
  /** What other rooms tell about a connector (confirmed limits, fallbacks, the backend's limit). */
  protected readonly notes: ConnectorNotes;
  /** Stopped, starting, listening ...: the life cycle owns it, and the parts that exist while running. */
  private readonly lifecycle: CentralLifecycle;
  /** Firmware downloads and diagnostics/log uploads served on the chargers' port (files.ts). */
  readonly files: FileExchange;
  /** `http(s)://<the host the charger dialled><path>`: where it reaches the file exchange. */
  readonly fileBaseUrl: (chargePointId: string) => string;
  /** Approved chargers that refused to boot again at once (approval-boot.ts). */
  private readonly approvalBoots: ApprovalBoots;
  /** The typed connector-state port (connector-feed.ts): the load managers' feeds, listeners, the flows. */
  private readonly statePort: ConnectorStatePort;

  constructor(options: CentralSystemOptions) {
    super();
    this.options = { ...options };
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    const parts = wireCentral(this, this.options, this.clock, this.log, this.flowRequests);
    this.listener = parts.listener;
    this.charges = parts.charges;
    this.notes = parts.notes;
    this.statePort = parts.port;
    this.gate = parts.gate;
    this.admission = parts.admission;
    this.connections = parts.connections;
    this.lifecycle = parts.lifecycle;
    this.files = parts.files;
    this.fileBaseUrl = parts.fileBaseUrl;
    this.approvalBoots = new ApprovalBoots({
      call: (id) => this.call(id, 'TriggerMessage', { requestedMessage: 'BootNotification' }),
      log: this.log,
      retryIntervalS: () => this.pendingRetryIntervalS(),
    });
  }

  get state(): CentralSystemState {
    return this.lifecycle.state;
  }

  /** Why the central system stopped on its own (its durable state failed), if it did. */
  get failure(): Error | undefined {
    return this.lifecycle.failure;
  }

  // The port's events with its listener type (ChargePointPort), the central system's own events
  // with theirs; `once` and `emit` are EventEmitter's typed ones.
  override on<E extends keyof ChargePointEvents>(event: E, listener: PortListener<E>): this;
  override on<E extends OwnEvent>(event: E, listener: OwnListener<E>): this;
  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event as OwnEvent, listener as never);
  }

  override off<E extends keyof ChargePointEvents>(event: E, listener: PortListener<E>): this;
  override off<E extends OwnEvent>(event: E, listener: OwnListener<E>): this;
  override off(event: string, listener: (...args: never[]) => void): this {
    return super.off(event as OwnEvent, listener as never);
  }

  /**
   * The typed port the load manager subscribes to (connector-feed.ts): each change of a connector's
   * state, called by name rather than through the `connector` event, so that a MeterValues can be
   * followed from the handlers to the load manager; returns the function that unsubscribes.
   */
  onConnectorState(listener: ConnectorStateListener): () => void {
    return this.statePort.subscribe(listener);
  }

  /** Takes a load manager's feed onto the port, called by name (feedConnectorStates); returns its removal. */
  feed(feed: ConnectorFeed): () => void {
    return this.statePort.feed(feed);
  }

  /**
   * A connector's state changed (a handler, a connection opening or closing, a note of another
   * room): the port's feeds and listeners first, then the flows' `connector` event.
   */
  connectorChanged(state: ConnectorState): void {
    this.statePort.changed(state);
  }

  /** Each connector's live state (the charger state owns it). */
  get connectors(): ConnectorRegistry {
    return this.charges.connectors;
  }

  /** Where chargers dial in, e.g. `ws://127.0.0.1:9000/`; undefined until listening. */
  get url(): string | undefined {
    return this.lifecycle.state === 'listening' ? this.listener.url : undefined;
  }

  /** The bound port (useful with `port: 0`); undefined until listening. */
  get port(): number | undefined {
    return this.listener.port;
  }

  /** The path prefix chargers dial under, always ending in `/`. */
  get pathPrefix(): string {
    return this.listener.pathPrefix;
  }

  /** Opens the durable state and binds the port; rejects with a message naming what is wrong. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Settles once a start in progress has (see CentralLifecycle.whenStarted); at once when none is. */
  whenStarted(): Promise<void> {
    return this.lifecycle.whenStarted();
  }

  /** Closes every connection, the listening socket and the durable state. Safe to call any time. */
  stop(): Promise<void> {
    this.files.close();
    return this.lifecycle.stop();
  }

  // ---- charge points ------------------------------------------------------------------------

  isConnected(chargePointId: string): boolean {
    return this.connections.isConnected(chargePointId);
  }

  /** The sub-protocol a connected charge point speaks (ocpp1.6, ocpp2.0.1); undefined when away. */
  protocolOf(chargePointId: string): string | undefined {
    const connection = this.connections.get(chargePointId);
    return connection?.isOpen ? connection.protocol : undefined;
  }

  /** Identities of the charge points connected right now. */
  connectedChargePoints(): string[] {
    return this.connections.connected();
  }

  /** Every charge point known or connected, with its connectors. */
  chargePoints(): ChargePointInfo[] {
    const ids = new Set([...this.charges.recordedIds(), ...this.connections.ids()]);
    return [...ids].sort().map((id) => this.chargePoint(id) as ChargePointInfo);
  }

  chargePoint(chargePointId: string): ChargePointInfo | undefined {
    const info = this.connections.describe(chargePointId, this.charges.record(chargePointId));
    const backend = this.notes.backendLinkOf(chargePointId);
    const waitingForBoot = info && this.approvalBoots.noteOf(chargePointId, info.registration);
    if (!info || (!backend && !waitingForBoot)) return info;
    return {
      ...info,
      ...(backend ? { backend: { ...backend } } : {}),
      ...(waitingForBoot ? { waitingForBoot } : {}),
    };
  }

  /**
   * Approves a (pending) charge point; it is asked to boot again so it is accepted at once. One that
   * refuses (an EVlink) waits for its own next boot: the log and its `waitingForBoot` say so.
   */
  async approveChargePoint(chargePointId: string): Promise<void> {
    await this.charges.setApproval(chargePointId, true);
    if (this.isConnected(chargePointId) && this.charges.record(chargePointId)?.registration !== 'Accepted')
      this.approvalBoots.ask(chargePointId);
  }

  /** Rejects a charge point: it is disconnected now and refused at every later handshake. */
  async rejectChargePoint(chargePointId: string): Promise<void> {
    await this.charges.setApproval(chargePointId, false);
    await this.connections.get(chargePointId)?.close(1008, 'Rejected by the operator');
  }

  // ---- ChargePointPort (lib/contracts.ts): what the profiles room asks of the central system ----

  /** The charge point's connectors as known now. */
  connectorsOf(chargePointId: string): ConnectorState[] {
    return this.connectors.all(chargePointId);
  }

  connectorOf(chargePointId: string, connectorId: number): ConnectorState | undefined {
    return this.connectors.find(chargePointId, connectorId);
  }

  /** What the charge point said in its last BootNotification. */
  bootOf(chargePointId: string): BootNotificationRequest | undefined {
    return this.charges.bootOf(chargePointId);
  }

  /** What a part of ampflow stored about a charge point under its namespace (opaque here), as it last stored it. */
  storedData(chargePointId: string, namespace: string): unknown {
    return this.charges.storedData(chargePointId, namespace);
  }

  /**
   * Stores what a part of ampflow learned about a charger in its durable record (`ChargerRecord.facts`,
   * by namespace), so that a restart of Node-RED does not forget it (e.g. which way of setting a
   * limit it takes).
   */
  storeData(chargePointId: string, namespace: string, data: unknown): Promise<void> {
    return this.charges.storeData(chargePointId, namespace, data);
  }

  /** What a part of ampflow keeps about a charge point entry by entry under its namespace (opaque here), by key. */
  entriesOf(chargePointId: string, namespace: string): Readonly<Record<string, unknown>> {
    return this.charges.entriesOf(chargePointId, namespace);
  }

  /**
   * Puts and drops entries of a namespace's list in the charger's durable record: one journal line per
   * change, whatever the list holds (e.g. requests waiting for the operator's backend). Resolves
   * once the change is durable; changes are durable in the order they were asked for.
   */
  keepEntries(
    chargePointId: string,
    namespace: string,
    change: { put?: Record<string, unknown>; drop?: string[] },
  ): Promise<void> {
    return this.charges.keepEntries(chargePointId, namespace, change);
  }

  /** Its boot and configuration as kept (the durable record), for rooms that read them. */
  recordOf(chargePointId: string): ChargerSnapshot | undefined {
    return this.chargePoint(chargePointId);
  }

  /**
   * Sends a command to a charge point and returns its answer (traffic.ts). Fails at once when the
   * charger is not connected; a timeout names the charger and the action.
   */
  call<A extends CentralSystemAction>(
    chargePointId: string,
    action: A,
    request: OcppRequest<A>,
    options: CallOptions = {},
  ): Promise<OcppResponse<A>> {
    return this.gate.call(chargePointId, action, request, options);
  }

  /** Puts a room between the chargers and this central system's own answers (lib/upstream). */
  interpose(traffic: ChargerTraffic): () => void {
    return this.gate.interpose(traffic);
  }

  // ---- flow decisions, id tags, records --------------------------------------------------------

  /**
   * Registers a handler for decisions the flow makes (FlowRequest). It returns true when it takes
   * the request (and will answer it with `respond`); when no handler takes one, the fallback
   * answers at once. Returns the function that removes the handler.
   */
  addRequestHandler(handler: (request: FlowRequest) => boolean): () => void {
    return this.flowRequests.add(handler);
  }

  /** Answers a FlowRequest; false when it was already answered or timed out. */
  respond(requestId: string, decision: unknown): boolean {
    return this.lifecycle.requireAuthorizer().respond(requestId, decision);
  }

  get idTags() {
    return this.lifecycle.requireAuthorizer().idTags;
  }

  /** Open transactions, oldest first. */
  openTransactions(): OpenTransaction[] {
    return this.charges.openTransactions();
  }

  /** Every finished session ever recorded, oldest first. */
  sessions(): AsyncIterable<SessionRecord> {
    return this.charges.sessions();
  }

  /**
   * Stops kept as anomalies, not charge data records (stop-anomalies.ts): how many ever and the
   * latest at hand; `all` reads every one from the archive, oldest first.
   */
  stopAnomalies(): { count: number; recent: StopAnomaly[]; all: () => AsyncIterable<StopAnomaly> } {
    return { ...this.charges.requireLedger().anomalies(), all: () => this.charges.stopAnomalies() };
  }

  /**
   * Whether a stop (the ledger's ids, or a 2.0.1 charger's own) is sure to be a record: `false` for
   * one kept as an anomaly and its repeat, which the operator's backend must not get (lib/upstream).
   */
  isTrueStop(chargePointId: string, stop: Parameters<TransactionLedger['isTrueStop']>[1]): boolean {
    return this.charges.requireLedger().isTrueStop(chargePointId, stop, this.charges.nowIso());
  }

  /** The finished sessions as CSV (charge data records for billing). */
  exportSessionsCsv(options: SessionsCsvOptions = {}): Promise<string> {
    return sessionsCsv(this.sessions(), options, this.options.cdrConnectors);
  }

  /** Pushes the local authorization list to a charger (Full or Differential as needed). */
  pushLocalList(chargePointId: string, options: { full?: boolean } = {}) {
    return this.lifecycle.requireHandlers().records.pushLocalList(chargePointId, options);
  }

  // ---- settings the handlers read ----------------------------------------------------------------

  /** Per-charger options: configured values over the defaults. */
  chargePointOptions(chargePointId: string): ChargePointOptions {
    const configured = this.options.chargePoints?.[chargePointId] ?? {};
    return {
      lenient: configured.lenient ?? false,
      pingIntervalS: configured.pingIntervalS ?? this.options.pingIntervalS ?? CENTRAL_DEFAULTS.pingIntervalS,
    };
  }

  /** Known: configured, listed in the password book, or approved by the operator. */
  isKnown(chargePointId: string): boolean {
    return this.admission.isKnown(chargePointId);
  }

  nowIso(): string {
    return this.charges.nowIso();
  }

  heartbeatIntervalS(): number {
    return heartbeatIntervalS(this.options);
  }

  pendingRetryIntervalS(): number {
    return pendingRetryIntervalS(this.options);
  }

  requireLog(): StateLog<CentralState, CentralEvent> {
    return this.charges.requireLog();
  }
}
