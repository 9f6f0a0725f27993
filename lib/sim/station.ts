import type { TimerHandle } from '../clock';
import { IEC_61851_MINIMUM_A, NOMINAL_VOLTAGE_V } from '../electrical';
import type { ChargingProfile, ConnectorView, LimitContext } from '../ocpp/charging-profiles';
import type { IdTagInfo } from '../ocpp/id-tags';
import type { BootNotificationRequest, OcppRequest, StatusNotificationRequest } from '../ocpp/messages';
import type { SimulatedEv } from './ev';
import { ChargePointLink, type LinkOptions, type StatusEvent, type TransactionEvent } from './link';
import { GRID_PHASES, type GridPhase, type MeterValue } from './metering';
import type { EvseState } from './v201';
import { VendorProfileStore } from './vendor-profile-store';

/**
 * The physical charge point: connectors with their meters and the EVs plugged into them, status
 * reporting, authorization data, and the current offered under the installed charging profiles.
 * Sessions and transactions build on this in transactions.ts.
 */

export type { ChargingProfile, IdTagInfo };
export type ConnectorStatus = StatusNotificationRequest['status'];
export type ChargePointErrorCode = StatusNotificationRequest['errorCode'];
export type StopReason = NonNullable<OcppRequest<'StopTransaction'>['reason']>;

export interface ConnectorOptions {
  /** Phases the connector is wired with. Default: the charge point's `phases` (3). */
  phases?: 1 | 3;
  /** Rated current per phase. Default: the charge point's `maxCurrentA` (32 A). */
  maxCurrentA?: number;
  /** Energy register at power-on, Wh. Default 0. */
  initialEnergyWh?: number;
}

/** The identity fields are BootNotification's: what the station says about itself when it boots. */
export interface StationOptions extends LinkOptions, Partial<BootNotificationRequest> {
  /** Number of connectors, or one entry per connector. Default 1. */
  connectors?: number | ConnectorOptions[];
  /** Default phases per connector. Default 3. */
  phases?: 1 | 3;
  /** Default rated current per connector and phase. Default 32 A. */
  maxCurrentA?: number;
  /** Nominal phase-to-neutral voltage, for W↔A and the meter. Default 230 V. */
  voltageV?: number;
  /**
   * Entries the authorization cache keeps, like a real charger's bounded cache: when full, the
   * entry used least recently goes. Default 1000.
   */
  authorizationCacheSize?: number;
}

/** What a connector looks like right now. */
export interface ConnectorSnapshot {
  connectorId: number;
  status: ConnectorStatus;
  errorCode: ChargePointErrorCode;
  phases: 1 | 3;
  maxCurrentA: number;
  /** Energy register, Wh. */
  energyWh: number;
  /** Current offered to the EV per phase, A (0 without a transaction). */
  offeredA: number;
  /** Current drawn per grid phase [L1, L2, L3], A. */
  currentA: [number, number, number];
  powerW: number;
  ev?: SimulatedEv;
  transaction?: { transactionId?: number; idTag: string; startedAt: string; meterStartWh: number };
}

export interface Transaction {
  /** The simulator's own id, known before the central system answers. */
  key: number;
  connectorId: number;
  idTag: string;
  parentIdTag?: string;
  transactionId?: number;
  startMs: number;
  meterStartWh: number;
  reservationId?: number;
  /** Meter values for StopTransaction.transactionData (3.16, errata 3.14/3.89). */
  beginValues: MeterValue[];
  stopTxnValues: MeterValue[];
  /** StartTransaction.conf said the id tag is not valid and StopTransactionOnInvalidId is false. */
  deauthorized: boolean;
  meterTimer?: TimerHandle;
}

export interface PendingStart {
  idTag: string;
  parentIdTag?: string;
  reservationId?: number;
  chargingProfile?: ChargingProfile;
  timer: TimerHandle;
  resolve: (event: TransactionEvent) => void;
  reject: (err: Error) => void;
}

export interface Reservation {
  reservationId: number;
  connectorId: number;
  idTag: string;
  parentIdTag?: string;
  expiryMs: number;
  timer: TimerHandle;
}

export interface Connector {
  id: number;
  phases: 1 | 3;
  maxCurrentA: number;
  energyWh: number;
  integratedAtMs: number;
  ev?: SimulatedEv;
  transaction?: Transaction;
  /** The transaction ended and the EV is still plugged in: waits for it to leave. */
  finishing: boolean;
  pendingStart?: PendingStart;
  preparingTimer?: TimerHandle;
  fullTimer?: TimerHandle;
  availability: 'Operative' | 'Inoperative';
  scheduledAvailability?: 'Operative' | 'Inoperative';
  fault?: { errorCode: ChargePointErrorCode; info?: string };
  offeredA: number;
  /** Current drawn per grid phase. */
  currentA: [number, number, number];
  /** Grid phases in the connector's phase rotation. */
  gridPhases: GridPhase[];
  status: StatusEvent;
  reported?: StatusEvent;
}

export const TEMPERATURE_C = 25;
export const FREQUENCY_HZ = 50;

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
    this.connectors = specs.map((spec, index) => ({
      id: index + 1,
      phases: spec.phases,
      maxCurrentA: spec.maxCurrentA,
      energyWh: spec.initialEnergyWh,
      integratedAtMs: now,
      finishing: false,
      availability: 'Operative',
      offeredA: 0,
      currentA: [0, 0, 0],
      gridPhases: [],
      status: { connectorId: index + 1, status: 'Available', errorCode: 'NoError' },
    }));
    this.applyPhaseRotation();
  }

  // ---- Public session API ------------------------------------------------------------------

  get connectorCount(): number {
    return this.connectors.length;
  }

  /** A snapshot of connector `connectorId` (1-based). */
  connector(connectorId: number): ConnectorSnapshot {
    const c = this.connectorById(connectorId);
    this.integrate(c);
    const tx = c.transaction;
    return {
      connectorId: c.id,
      status: c.status.status,
      errorCode: c.status.errorCode,
      phases: c.phases,
      maxCurrentA: c.maxCurrentA,
      energyWh: c.energyWh,
      offeredA: c.offeredA,
      currentA: [...c.currentA],
      powerW: this.powerW(c),
      ...(c.ev ? { ev: c.ev } : {}),
      ...(tx
        ? {
            transaction: {
              ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }),
              idTag: tx.idTag,
              startedAt: iso(tx.startMs),
              meterStartWh: tx.meterStartWh,
            },
          }
        : {}),
    };
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
    const o = this.stationOptions;
    let deviates = false;
    let chargeBoxSerialNumber = o.chargeBoxSerialNumber;
    if (this.quirks.longSerialNumber) {
      // 35 characters where CiString25 allows 25 (Schneider EVlink; mobilityhouse/ocpp #122).
      chargeBoxSerialNumber = `${o.chargeBoxSerialNumber ?? o.chargePointSerialNumber ?? this.identity}-`
        .padEnd(35, '0')
        .slice(0, 35);
      deviates = true;
    }
    const payload: OcppRequest<'BootNotification'> = {
      chargePointVendor: o.chargePointVendor ?? 'ampflow',
      chargePointModel: o.chargePointModel ?? 'SimCharger',
      ...(o.chargePointSerialNumber ? { chargePointSerialNumber: o.chargePointSerialNumber } : {}),
      ...(chargeBoxSerialNumber ? { chargeBoxSerialNumber } : {}),
      firmwareVersion: this.firmwareVersion,
      ...(o.iccid ? { iccid: o.iccid } : {}),
      ...(o.imsi ? { imsi: o.imsi } : {}),
      ...(o.meterType ? { meterType: o.meterType } : {}),
      ...(o.meterSerialNumber ? { meterSerialNumber: o.meterSerialNumber } : {}),
    };
    if (this.quirks.extraProperties) {
      Object.assign(payload, EXTRA_PROPERTY);
      deviates = true;
    }
    return { payload, deviates };
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
    this.applyPhaseRotation();
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
    this.securityEventQueue.push({ action: 'SecurityEventNotification', build: () => ({ payload }) });
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
    return { voltageV: this.voltageV, connectors: this.connectors.map((c) => this.viewOf(c)) };
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
    const cpMax = this.profiles.chargePointLimitAt(now, this.voltageV, now);
    const demanding = this.connectors.filter(
      (c) => c.transaction && c.ev && !c.fault && !c.transaction.deauthorized && !c.ev.full,
    ).length;
    const switchPhases = this.configuration.bool('ConnectorSwitch3to1PhaseSupported', false);
    for (const c of this.connectors) {
      const view = context.connectors[c.id - 1] as ConnectorView;
      let offeredA = 0;
      let phases: number = c.phases;
      if (c.transaction && !c.fault && !c.transaction.deauthorized) {
        const tx = this.profiles.transactionLimitAt(view, now, this.voltageV, now);
        offeredA = Math.min(c.maxCurrentA, tx?.currentA ?? Number.POSITIVE_INFINITY);
        // 3.13.3: all connectors together stay within the ChargePointMaxProfile; it is shared equally.
        if (cpMax) offeredA = Math.min(offeredA, cpMax.currentA / Math.max(1, demanding));
        if (switchPhases && tx?.numberPhases !== undefined) phases = Math.min(phases, tx.numberPhases);
        offeredA = Math.max(0, Math.floor(offeredA * 10) / 10);
      }
      c.offeredA = offeredA;
      const draw =
        c.ev && c.transaction && offeredA >= IEC_61851_MINIMUM_A
          ? c.ev.draw(offeredA, phases)
          : { currentA: 0, phases: 0 };
      c.currentA = [0, 0, 0];
      for (let i = 0; i < draw.phases; i++) {
        const phase = c.gridPhases[i] ?? 'L1';
        c.currentA[GRID_PHASES.indexOf(phase)] = draw.currentA;
      }
      this.armFullTimer(c);
    }
    this.updateStatuses();
    this.armLimitTimer(now, context);
  }

  // ---- Energy, limits, status --------------------------------------------------------------

  protected powerW(c: Connector): number {
    return c.currentA.reduce((sum, currentA) => sum + currentA * this.voltageV, 0);
  }

  /** Adds the energy that flowed since the last integration at the draw of that period. */
  protected integrate(c: Connector): void {
    const now = this.clock.now();
    const elapsedMs = now - c.integratedAtMs;
    c.integratedAtMs = now;
    if (elapsedMs <= 0) return;
    const powerW = this.powerW(c);
    if (powerW <= 0) return;
    let energyWh = (powerW * elapsedMs) / 3_600_000;
    if (c.ev) {
      energyWh = Math.min(energyWh, c.ev.remainingWh);
      c.ev.charge(energyWh);
    }
    c.energyWh += energyWh;
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

  private viewOf(c: Connector): ConnectorView {
    const tx = c.transaction;
    return {
      connectorId: c.id,
      phases: c.phases,
      maxCurrentA: c.maxCurrentA,
      ...(tx
        ? {
            transaction: {
              key: tx.key,
              startMs: tx.startMs,
              ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }),
            },
          }
        : {}),
    };
  }

  private deriveStatus(c: Connector): StatusEvent {
    const base = { connectorId: c.id, errorCode: 'NoError' as ChargePointErrorCode };
    if (c.fault) {
      return {
        ...base,
        status: 'Faulted',
        errorCode: c.fault.errorCode,
        ...(c.fault.info ? { info: c.fault.info } : {}),
      };
    }
    const tx = c.transaction;
    if (tx) {
      if (!c.ev) return { ...base, status: 'SuspendedEV', info: 'EV side disconnected' };
      // "If charging is suspended both by the EV and the EVSE, status SuspendedEVSE SHALL have precedence" (4.9).
      if (tx.deauthorized || c.offeredA < IEC_61851_MINIMUM_A) return { ...base, status: 'SuspendedEVSE' };
      if (this.powerW(c) <= 0) return { ...base, status: 'SuspendedEV' };
      return { ...base, status: 'Charging' };
    }
    if (c.finishing) return { ...base, status: 'Finishing' };
    if (this.isInoperative(c)) return { ...base, status: 'Unavailable' };
    const reserved = [...this.reservations.values()].some((r) => r.connectorId === c.id);
    if (reserved && !c.pendingStart) return { ...base, status: 'Reserved' };
    if (c.ev || c.pendingStart) return { ...base, status: 'Preparing' };
    return { ...base, status: 'Available' };
  }

  private updateStatuses(): void {
    const cpStatus: StatusEvent = this.chargePointFault
      ? {
          connectorId: 0,
          status: 'Faulted',
          errorCode: this.chargePointFault.errorCode,
          ...(this.chargePointFault.info ? { info: this.chargePointFault.info } : {}),
        }
      : {
          connectorId: 0,
          status: this.chargePointAvailability === 'Inoperative' ? 'Unavailable' : 'Available',
          errorCode: 'NoError',
        };
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
    this.notify(
      'StatusNotification',
      {
        connectorId: status.connectorId,
        errorCode: status.errorCode,
        status: status.status,
        timestamp: iso(this.clock.now()),
        ...(status.info ? { info: status.info } : {}),
      },
      { triggered },
    );
  }

  private applyPhaseRotation(): void {
    const rotations = new Map<number, string>();
    for (const item of this.configuration.csl('ConnectorPhaseRotation')) {
      const [id, rotation] = item.split('.');
      if (id !== undefined && rotation !== undefined) rotations.set(Number(id), rotation);
    }
    for (const c of this.connectors) {
      const rotation = rotations.get(c.id) ?? 'RST';
      const order = /^[RST]{3}$/.test(rotation)
        ? [...rotation].map((letter) => (letter === 'R' ? 'L1' : letter === 'S' ? 'L2' : 'L3') as GridPhase)
        : (['L1', 'L2', 'L3'] as GridPhase[]);
      c.gridPhases = order.slice(0, c.phases);
    }
  }

  // ---- Authorization -----------------------------------------------------------------------

  /** The local list entry (when enabled) or the cache entry (when enabled), with expiry applied. */
  protected localAuthorization(idTag: string): IdTagInfo | undefined {
    const now = this.clock.now();
    const expired = (info: IdTagInfo): IdTagInfo =>
      info.status === 'Accepted' && info.expiryDate && Date.parse(info.expiryDate) < now
        ? { ...info, status: 'Expired' }
        : info;
    const listed = this.configuration.bool('LocalAuthListEnabled', false)
      ? this.localList.get(idTag)
      : undefined;
    if (listed) return expired(listed);
    const cached = this.configuration.bool('AuthorizationCacheEnabled', false)
      ? this.authCache.get(idTag)
      : undefined;
    if (!cached) return undefined;
    // Used: it moves to the end of the eviction order.
    this.authCache.delete(idTag);
    this.authCache.set(idTag, cached);
    return expired(cached);
  }

  /** Updates the authorization cache from an IdTagInfo (3.5.1), unless the tag is on the local list (3.5.3). */
  protected remember(idTag: string, info: IdTagInfo): void {
    if (!this.configuration.bool('AuthorizationCacheEnabled', false) || this.localList.has(idTag)) return;
    this.authCache.delete(idTag);
    this.authCache.set(idTag, info);
    const size = this.stationOptions.authorizationCacheSize ?? 1000;
    for (const oldest of this.authCache.keys()) {
      if (this.authCache.size <= size) break;
      this.authCache.delete(oldest);
    }
  }

  protected endReservation(reservationId: number): void {
    const reservation = this.reservations.get(reservationId);
    if (!reservation) return;
    this.clock.clearTimeout(reservation.timer);
    this.reservations.delete(reservationId);
  }
}

export const EXTRA_PROPERTY = { customData: { vendorId: 'com.ampflow.sim' } };

function connectorSpecs(options: StationOptions): Required<ConnectorOptions>[] {
  const list =
    typeof options.connectors === 'number' || options.connectors === undefined
      ? Array.from({ length: options.connectors ?? 1 }, () => ({}) as ConnectorOptions)
      : options.connectors;
  if (list.length < 1) throw new RangeError('a charge point needs at least one connector');
  return list.map((spec) => {
    const phases = spec.phases ?? options.phases ?? 3;
    if (phases !== 1 && phases !== 3) throw new RangeError('phases must be 1 or 3');
    const maxCurrentA = spec.maxCurrentA ?? options.maxCurrentA ?? 32;
    if (!(maxCurrentA > 0)) throw new RangeError('maxCurrentA must be positive');
    return { phases, maxCurrentA, initialEnergyWh: spec.initialEnergyWh ?? 0 };
  });
}

function sameStatus(a: StatusEvent, b: StatusEvent | undefined): boolean {
  return !!b && a.status === b.status && a.errorCode === b.errorCode && a.info === b.info;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
