import type { TimerHandle } from '../lib/clock';
import { NOMINAL_VOLTAGE_V } from '../lib/electrical';
import type { ConnectorView, LimitContext } from '../lib/ocpp/charging-profiles';
import type { IdTagInfo } from '../lib/ocpp/id-tags';
import type { OcppRequest } from '../lib/ocpp/messages';
import {
  applyPhaseRotation,
  type ChargePointErrorCode,
  type Connector,
  type ConnectorSnapshot,
  type ConnectorStatus,
  connectorSnapshot,
  connectorSpecs,
  connectorView,
  createConnectors,
  integrate,
  iso,
  powerW,
  type Reservation,
  type StationOptions,
} from './connectors';
import { ChargePointLink, type StatusEvent } from './link';
import { type LocalAuthorizationData, localAuthorization, rememberIdTag } from './local-authorization';
import { offerTo, stationOffer } from './offered-current';
import {
  bootNotification,
  chargePointStatus,
  connectorStatus,
  sameStatus,
  statusNotificationPayload,
} from './station-status';
import type { EvseState } from './v201';
import { VendorProfileStore } from './vendor-profile-store';

/**
 * The physical charge point: connectors with their meters and the EVs plugged into them, status
 * reporting, authorization data, and when the current offered under the installed charging
 * profiles is evaluated (what is offered: offered-current.ts). Sessions and transactions build on
 * this in transactions.ts.
 */

export type {
  ChargePointErrorCode,
  ChargingProfile,
  Connector,
  ConnectorOptions,
  ConnectorSnapshot,
  ConnectorStatus,
  IdTagInfo,
  PendingStart,
  Reservation,
  StationOptions,
  StopReason,
  Transaction,
} from './connectors';
export { FREQUENCY_HZ, iso, TEMPERATURE_C } from './connectors';
export { EXTRA_PROPERTY } from './station-status';

export abstract class ChargePointStation extends ChargePointLink {
  readonly voltageV: number;
  protected readonly stationOptions: StationOptions;
  protected readonly connectors: Connector[];
  protected readonly profiles = new VendorProfileStore();
  protected readonly reservations = new Map<number, Reservation>();
  protected readonly authCache = new Map<string, IdTagInfo>();
  protected localList = new Map<string, IdTagInfo>();
  protected localListVersion = 0;
  protected firmwareVersion: string;
  /** Idle connectors are Unavailable while a firmware installation waits for transactions to end (5.19). */
  protected holdForFirmware = false;
  protected chargePointAvailability: 'Operative' | 'Inoperative' = 'Operative';
  private chargePointStatus: StatusEvent = { connectorId: 0, status: 'Available', errorCode: 'NoError' };
  private chargePointReported: StatusEvent | undefined;
  private chargePointFault: { errorCode: ChargePointErrorCode; info?: string } | undefined;
  /** Whether the central system has ever accepted this charge point since power-on (4.2.1). */
  protected everAccepted = false;
  private limitTimer: TimerHandle | undefined;
  private readonly securityEvents: { type: string; timestamp: string; techInfo?: string }[] = [];

  protected constructor(options: StationOptions) {
    const specs = connectorSpecs(options);
    super(
      options,
      specs.map((spec) => spec.phases),
    );
    this.stationOptions = options;
    this.voltageV = options.voltageV ?? NOMINAL_VOLTAGE_V;
    this.firmwareVersion = options.firmwareVersion ?? '1.0.0';
    const now = this.clock.now();
    this.connectors = createConnectors(specs, now);

    applyPhaseRotation(this.configuration, this.connectors);
  }

  // ---- Public session API ------------------------------------------------------------------

  get connectorCount(): number {
    return this.connectors.length;
  }

  /** A snapshot of connector `connectorId` (1-based). */
  connector(connectorId: number): ConnectorSnapshot {
    const c = this.connectorById(connectorId);
    this.integrate(c);
    return connectorSnapshot(c, this.voltageV);
  }

  /** Status of connector 0 (the charge point as a whole). */
  get chargePointState(): ConnectorStatus {
    return this.chargePointStatus.status;
  }

  /** Reports a fault on a connector (0: the charge point); charging on it stops until {@link clearFault}. */
  setFault(connectorId: number, errorCode: ChargePointErrorCode, info?: string): void {
    const fault = { errorCode, ...(info ? { info } : {}) };
    if (connectorId === 0) this.chargePointFault = fault;
    else {
      const c = this.connectorById(connectorId);
      this.integrate(c);
      c.fault = fault;
    }
    this.recompute();
  }

  clearFault(connectorId: number): void {
    if (connectorId === 0) this.chargePointFault = undefined;
    else this.connectorById(connectorId).fault = undefined;
    this.recompute();
  }

  /** The current offered to the EV on `connectorId`, per phase, A. */
  offeredCurrentA(connectorId: number): number {
    return this.connectorById(connectorId).offeredA;
  }

  /** Security events recorded so far (the security log GetLog would upload, whitepaper N01). */
  get securityLogEntries(): readonly { type: string; timestamp: string; techInfo?: string }[] {
    return this.securityEvents;
  }

  // ---- Link hooks --------------------------------------------------------------------------

  protected bootPayload(): { payload: OcppRequest<'BootNotification'>; deviates: boolean } {
    return bootNotification(this.stationOptions, this.quirks, this.identity, this.firmwareVersion);
  }

  protected onAccepted(): void {
    this.everAccepted = true;
    // Errata 3.22: after Accepted, a StatusNotification for connector 0 and every connector.
    this.recompute();
    this.sendStatusNotification(this.chargePointStatus);
    for (const c of this.connectors) this.sendStatusNotification(c.status);
  }

  protected onReconnected(): void {
    // 4.9: after an offline period, report the current status where it changed meanwhile.
    this.recompute();
    if (!sameStatus(this.chargePointStatus, this.chargePointReported))
      this.sendStatusNotification(this.chargePointStatus);
    for (const c of this.connectors)
      if (!sameStatus(c.status, c.reported)) this.sendStatusNotification(c.status);
  }

  protected onDisconnected(): void {}

  protected override evseState(connectorId: number): EvseState | undefined {
    if (!this.hasConnector(connectorId)) return undefined;
    const c = this.connectorById(connectorId);
    return { status: c.status.status, plugged: !!c.ev, transaction: !!c.transaction };
  }

  protected override connectorIds(): number[] {
    return this.connectors.map((c) => c.id);
  }

  protected onRestart(): void {
    // A restart ends what lives in RAM; availability, profiles, local list and cache persist (5.2, errata 3.37, 3.4).
    for (const c of this.connectors) {
      this.integrate(c);
      this.clock.clearTimeout(c.preparingTimer);
      c.preparingTimer = undefined;
      c.finishing = false;
      if (c.scheduledAvailability) c.availability = c.scheduledAvailability;
      c.scheduledAvailability = undefined;
      c.reported = undefined;
    }
    this.chargePointReported = undefined;
    applyPhaseRotation(this.configuration, this.connectors);
    this.recompute();
  }

  protected powerDown(): void {
    this.clock.clearTimeout(this.limitTimer);
    for (const c of this.connectors) {
      this.clock.clearTimeout(c.preparingTimer);
      this.clock.clearTimeout(c.fullTimer);
    }
    for (const reservation of this.reservations.values()) this.clock.clearTimeout(reservation.timer);
  }

  protected securityLog(type: string, techInfo?: string): void {
    this.securityEvents.push({ type, timestamp: iso(this.clock.now()), ...(techInfo ? { techInfo } : {}) });
  }

  /** Sends a SecurityEventNotification (queued until delivered, A04.FR.02) and records it. */
  securityEvent(type: string, techInfo?: string): void {
    this.securityLog(type, techInfo);
    const payload = {
      type,
      timestamp: iso(this.clock.now()),
      ...(techInfo ? { techInfo: techInfo.slice(0, 255) } : {}),
    };
    this.queues.securityEvents.push({ action: 'SecurityEventNotification', build: () => ({ payload }) });
  }

  // ---- Internals for the command handlers --------------------------------------------------

  protected connectorById(connectorId: number): Connector {
    const c = this.connectors[connectorId - 1];
    if (!c || !Number.isInteger(connectorId)) throw new RangeError(`no connector ${connectorId}`);
    return c;
  }

  protected hasConnector(connectorId: number): boolean {
    return Number.isInteger(connectorId) && connectorId >= 1 && connectorId <= this.connectors.length;
  }

  protected transactionById(transactionId: number): Connector | undefined {
    return this.connectors.find((c) => c.transaction?.transactionId === transactionId);
  }

  /** Whether a new transaction could start on `c` right now (Available or Preparing, operative, not faulted). */
  protected canStartOn(c: Connector): boolean {
    return !c.transaction && !c.finishing && !c.pendingStart && !c.fault && !this.isInoperative(c);
  }

  protected isInoperative(c: Connector): boolean {
    return (
      c.availability === 'Inoperative' ||
      this.chargePointAvailability === 'Inoperative' ||
      this.holdForFirmware
    );
  }

  protected limitContext(): LimitContext {
    return { voltageV: this.voltageV, connectors: this.connectors.map(connectorView) };
  }

  protected transactionOf(c: Connector): { key: number; transactionId?: number } | undefined {
    const tx = c.transaction;
    return tx
      ? { key: tx.key, ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }) }
      : undefined;
  }

  protected get hasTransactions(): boolean {
    return this.connectors.some((c) => c.transaction);
  }

  protected statusOf(connectorId: number): StatusEvent {
    return connectorId === 0 ? this.chargePointStatus : this.connectorById(connectorId).status;
  }

  /** Sends a StatusNotification for connector `connectorId` as it is now. */
  protected sendStatus(connectorId: number, triggered = false): void {
    this.recompute();
    this.sendStatusNotification(this.statusOf(connectorId), triggered);
  }

  /**
   * Re-evaluates everything that depends on time and state: energy up to now, the offered current
   * under the charging profiles, what each EV draws, and the statuses; then reports status changes
   * and sets timers for the next change (a schedule period, an EV getting full).
   */
  protected recompute(): void {
    const now = this.clock.now();
    for (const c of this.connectors) this.integrate(c);
    const context = this.limitContext();
    const offer = stationOffer(this.connectors, this.profiles, this.configuration, now, this.voltageV);
    for (const c of this.connectors) {
      offerTo(c, context.connectors[c.id - 1] as ConnectorView, offer);
      this.armFullTimer(c);
    }
    this.updateStatuses();
    this.armLimitTimer(now, context);
  }

  // ---- Energy, limits, status --------------------------------------------------------------

  protected powerW(c: Connector): number {
    return powerW(c, this.voltageV);
  }

  /** Adds the energy that flowed since the last integration at the draw of that period. */
  protected integrate(c: Connector): void {
    integrate(c, this.clock.now(), this.voltageV);
  }

  private armFullTimer(c: Connector): void {
    this.clock.clearTimeout(c.fullTimer);
    c.fullTimer = undefined;
    const powerW = this.powerW(c);
    if (!c.ev || powerW <= 0) return;
    const msToFull = Math.ceil((c.ev.remainingWh / powerW) * 3_600_000);
    c.fullTimer = this.clock.setTimeout(
      () => {
        c.fullTimer = undefined;
        this.recompute();
      },
      Math.max(1, msToFull),
    );
  }

  private armLimitTimer(now: number, context: LimitContext): void {
    this.clock.clearTimeout(this.limitTimer);
    this.limitTimer = undefined;
    const next = this.profiles.nextChangeAfter(now, context);
    if (next === undefined) return;
    this.limitTimer = this.clock.setTimeout(() => {
      this.limitTimer = undefined;
      this.recompute();
    }, next - now);
  }

  private deriveStatus(c: Connector): StatusEvent {
    return connectorStatus(c, {
      inoperative: this.isInoperative(c),
      reserved: [...this.reservations.values()].some((r) => r.connectorId === c.id),
      powerW: this.powerW(c),
    });
  }

  private updateStatuses(): void {
    const cpStatus = chargePointStatus(this.chargePointFault, this.chargePointAvailability);
    if (!sameStatus(cpStatus, this.chargePointStatus)) {
      this.chargePointStatus = cpStatus;
      this.statusChanged(cpStatus);
    }
    for (const c of this.connectors) {
      const status = this.deriveStatus(c);
      if (sameStatus(status, c.status)) continue;
      c.status = status;
      this.statusChanged(status);
    }
  }

  /** A status changed: tell listeners, and the central system when it can hear it (4.9, errata 3.19). */
  protected statusChanged(status: StatusEvent): void {
    this.emit('status', status);
    this.sendStatusNotification(status);
  }

  /** Sends a StatusNotification when online and accepted (or, when triggered, while Pending). */
  private sendStatusNotification(status: StatusEvent, triggered = false): void {
    const canSend =
      this.isOnline && (this.registration === 'Accepted' || (triggered && this.registration === 'Pending'));
    if (!canSend) return;
    if (status.connectorId === 0) this.chargePointReported = status;
    else {
      const c = this.connectors[status.connectorId - 1];
      if (c) c.reported = status;
    }
    this.notify('StatusNotification', statusNotificationPayload(status, this.clock.now()), { triggered });
  }

  // ---- Authorization -----------------------------------------------------------------------

  /** The local list entry (when enabled) or the cache entry (when enabled), with expiry applied. */
  protected localAuthorization(idTag: string): IdTagInfo | undefined {
    return localAuthorization(this.authorizationData(), idTag, this.clock.now());
  }

  /** Updates the authorization cache from an IdTagInfo (3.5.1), unless the tag is on the local list (3.5.3). */
  protected remember(idTag: string, info: IdTagInfo): void {
    rememberIdTag(this.authorizationData(), idTag, info, this.stationOptions.authorizationCacheSize ?? 1000);
  }

  private authorizationData(): LocalAuthorizationData {
    return { configuration: this.configuration, localList: this.localList, authCache: this.authCache };
  }

  protected endReservation(reservationId: number): void {
    const reservation = this.reservations.get(reservationId);
    if (!reservation) return;
    this.clock.clearTimeout(reservation.timer);
    this.reservations.delete(reservationId);
  }
}
