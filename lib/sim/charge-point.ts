import type { KeyObject, X509Certificate } from 'node:crypto';
import { createRPCError } from 'ocpp-rpc';
import { IEC_61851_MINIMUM_A } from '../electrical';
import type {
  ChargingProfile,
  ChargingRateUnit,
  ProfileRules,
  ProfileVerdict,
} from '../ocpp/charging-profiles';
import type { DataTransferRequest, DataTransferResponse, OcppRequest, OcppResponse } from '../ocpp/messages';
import {
  CertificateStore,
  createCsr,
  generateKeyPair,
  issuedBy,
  type KeyPair,
  splitPem,
  validAt,
} from './certificates';
import type { ConfigurationOverride } from './configuration';
import { DEFAULT_FEATURE_PROFILES } from './configuration';
import { type EvOptions, SimulatedEv } from './ev';
import { Maintenance } from './maintenance';
import type { IdTagInfo, StationOptions } from './station';
import { ChargePointSessions } from './transactions';
import {
  type CommandOutcome,
  type CsAction,
  STANDARD_BEHAVIOUR,
  VENDOR_BEHAVIOURS,
  type VendorBehaviour,
  type VendorBehaviourName,
} from './types';

export type { EvOptions } from './ev';
export type { ConnectorOptions, ConnectorSnapshot, IdTagInfo, StopReason } from './station';
export type { StartOptions } from './transactions';
export { AuthorizationError } from './transactions';
export type {
  ChargePointEvents,
  CommandOverride,
  CpAction,
  CsAction,
  OcppVersion,
  Quirks,
  ReceivedMessage,
  ReconnectOptions,
  RegistrationStatus,
  RepliedMessage,
  ResultMessage,
  SentMessage,
  StatusEvent,
  TlsOptions,
  TransactionEvent,
  VendorBehaviour,
  VendorBehaviourName,
} from './types';
export { NO_QUIRKS, NotConnectedError, OCPP_VERSIONS, STANDARD_BEHAVIOUR, VENDOR_BEHAVIOURS } from './types';
export { SimulatedEv };

/**
 * A simulated OCPP 1.6-J charge point: a strict implementation of the charge point side of OCPP 1.6
 * edition 2 with the errata and the security whitepaper, with switchable vendor quirks. With
 * `ocppVersion: '2.0.1'` the same charge point speaks OCPP 2.0.1 (lib/sim/v201 translates).
 *
 * ```ts
 * const cp = new SimulatedChargePoint({ centralSystemUrl: 'ws://127.0.0.1:9000/ocpp', identity: 'CP1' });
 * await cp.connect();
 * cp.plugIn(1, { phases: 1, maxCurrentA: 16 });
 * await cp.startTransaction(1, 'TAG1');
 * ```
 */

export interface SimulatedChargePointOptions extends StationOptions {
  /** Simulated duration of an upload or download (diagnostics, logs, firmware). Default 10 s. */
  fileTransferS?: number;
  /** Simulated duration of a firmware installation. Default 10 s. */
  firmwareInstallS?: number;
  /**
   * Only signed firmware updates (security whitepaper L01.FR.20): UpdateFirmware is answered with
   * CALLERROR NotSupported. Default false: both kinds are supported.
   */
  signedFirmwareOnly?: boolean;
  /** Answers a DataTransfer from the central system. Default: UnknownVendorId. */
  dataTransfer?: (request: DataTransferRequest) => DataTransferResponse | Promise<DataTransferResponse>;
  /**
   * Smart charging as a charger model does it: a named model ({@link VENDOR_BEHAVIOURS}) or single
   * switches. Default: OCPP 1.6 with the errata. Configuration keys the model announces differently
   * (ChargingScheduleAllowedChargingRateUnit, SupportedFeatureProfiles, maxIntensitySocket) get
   * that model's values unless `configuration` sets them.
   */
  vendorBehaviour?: VendorBehaviourName | Partial<VendorBehaviour>;
}

type Handlers = {
  [A in CsAction]: (request: OcppRequest<A>) => CommandOutcome<A> | Promise<CommandOutcome<A>>;
};

const done = <A extends CsAction>(response: OcppResponse<A>, after?: () => void): CommandOutcome<A> =>
  after ? { response, after } : { response };

export class SimulatedChargePoint extends ChargePointSessions {
  readonly options: Readonly<SimulatedChargePointOptions>;
  /** How this charger deviates in smart charging. */
  readonly vendorBehaviour: Readonly<VendorBehaviour>;
  /** Root certificates installed with InstallCertificate. */
  readonly certificates = new CertificateStore();
  private readonly maintenance: Maintenance;
  private readonly handlers: Handlers;
  private pendingCsrKey: KeyPair | undefined;
  private chargePointCertificate: { chain: string; privateKey: KeyObject } | undefined;

  constructor(options: SimulatedChargePointOptions) {
    const behaviour = resolveBehaviour(options.vendorBehaviour);
    super({ ...options, configuration: vendorConfiguration(behaviour, options) });
    this.options = options;
    this.vendorBehaviour = behaviour;
    this.profiles.configure({
      ignoreNumberPhases: behaviour.ignoreNumberPhases,
      txDefaultFromNextSession: behaviour.txDefaultFromNextSession,
      ignoreLimits: behaviour.ignoreLimits,
      currentStepsA: behaviour.currentStepsA,
    });
    this.applyLocalCap();
    this.maintenance = new Maintenance({
      clock: this.clock,
      identity: this.identity,
      fileTransferS: options.fileTransferS ?? 10,
      firmwareInstallS: options.firmwareInstallS ?? 10,
      supportsLocation: (location) => this.supportsLocation(location),
      hasTransactions: () => this.hasTransactions,
      holdForFirmware: (hold) => {
        this.holdForFirmware = hold;
        this.recompute();
      },
      diagnosticsStatus: (status) => this.notify('DiagnosticsStatusNotification', { status }),
      firmwareStatus: (status) => this.notify('FirmwareStatusNotification', { status }),
      signedFirmwareStatus: (status, requestId) =>
        this.notify('SignedFirmwareStatusNotification', {
          status,
          ...(requestId === undefined ? {} : { requestId }),
        }),
      logStatus: (status, requestId) =>
        this.notify('LogStatusNotification', { status, ...(requestId === undefined ? {} : { requestId }) }),
      securityEvent: (type, techInfo) => this.securityEvent(type, techInfo),
      installFirmware: (version) => {
        this.firmwareVersion = version;
      },
      reboot: (reason) => void this.reboot(reason),
    });
    this.handlers = this.createHandlers();
  }

  /** The firmware version BootNotification reports (changes after a firmware update). */
  get firmware(): string {
    return this.firmwareVersion;
  }

  /** The local authorization list and its version (SendLocalList). */
  get localAuthorizationList(): { version: number; entries: ReadonlyMap<string, IdTagInfo> } {
    return { version: this.localListVersion, entries: new Map(this.localList) };
  }

  /** Installed charging profiles with their connector. */
  get chargingProfiles() {
    return this.profiles.all().map(({ connectorId, profile }) => ({ connectorId, profile }));
  }

  /** Active reservations. */
  get activeReservations() {
    return [...this.reservations.values()].map(({ timer: _timer, ...reservation }) => reservation);
  }

  /**
   * Starts a certificate update (whitepaper A03): a new key pair, a CSR with O = CpoName and
   * CN = the serial number, sent with SignCertificate. The CertificateSigned that follows must
   * certify this key.
   */
  async requestCertificateSigning(): Promise<OcppResponse<'SignCertificate'>> {
    const organization = this.configuration.get('CpoName') ?? '';
    // A02/A03 prerequisite: "The configuration variable CpoName MUST be set."
    if (!organization)
      throw new Error('CpoName is not set: the CSR needs it as organizationName (A02.FR.13)');
    const keys = generateKeyPair();
    const commonName =
      this.options.chargePointSerialNumber ?? this.options.chargeBoxSerialNumber ?? this.identity;
    this.pendingCsrKey = keys;
    return await this.call('SignCertificate', { csr: createCsr({ commonName, organization }, keys) });
  }

  /** The client certificate installed through CertificateSigned, if any (PEM chain). */
  get installedChargePointCertificate(): string | undefined {
    return this.chargePointCertificate?.chain;
  }

  /** An EV plugged in follows the offered current on this charge point's clock (its followDelayMs). */
  override plugIn(connectorId: number, ev: SimulatedEv | EvOptions = {}): SimulatedEv {
    const car = ev instanceof SimulatedEv ? ev : new SimulatedEv(ev);
    car.attach(this.clock, () => this.recompute());
    try {
      return super.plugIn(connectorId, car);
    } catch (err) {
      car.detach();
      throw err;
    }
  }

  override unplug(connectorId: number): void {
    const car = this.connectorById(connectorId).ev;
    super.unplug(connectorId);
    car?.detach();
  }

  // ---- Hooks -------------------------------------------------------------------------------

  protected override recompute(): void {
    super.recompute();
    // The station asks a car what it draws only while it offers enough to charge; otherwise the
    // car rests, and follows from nothing when charging resumes.
    for (const c of this.connectors) {
      if (c.ev && !(c.transaction && c.offeredA >= IEC_61851_MINIMUM_A)) c.ev.rest();
    }
  }

  protected override onAccepted(): void {
    super.onAccepted();
    this.maintenance.accepted();
  }

  protected override afterTransaction(): void {
    this.maintenance?.transactionsEnded();
  }

  protected override powerDown(): void {
    super.powerDown();
    this.maintenance.stop();
    for (const c of this.connectors) c.ev?.cancelFollow();
  }

  /** TLS trust: the configured CAs plus installed Central System root certificates; the client certificate from CertificateSigned. */
  protected override webSocketOptions(): Record<string, unknown> {
    const base = super.webSocketOptions();
    const configured = this.options.tls?.ca;
    const installed = this.certificates?.pems('CentralSystemRootCertificate') ?? [];
    const ca = [
      ...(configured === undefined ? [] : Array.isArray(configured) ? configured : [configured]),
      ...installed,
    ];
    const own = this.chargePointCertificate;
    return {
      ...base,
      ...(ca.length > 0 ? { ca } : {}),
      ...(own ? { cert: own.chain, key: own.privateKey.export({ type: 'pkcs8', format: 'pem' }) } : {}),
    };
  }

  protected async handleCommand<A extends CsAction>(
    action: A,
    request: OcppRequest<A>,
  ): Promise<CommandOutcome<A>> {
    const handler = this.handlers[action] as (
      request: OcppRequest<A>,
    ) => CommandOutcome<A> | Promise<CommandOutcome<A>>;
    return await handler(request);
  }

  // ---- Handlers ----------------------------------------------------------------------------

  private createHandlers(): Handlers {
    return {
      CancelReservation: (request) => this.cancelReservation(request),
      CertificateSigned: (request) => this.certificateSigned(request),
      ChangeAvailability: (request) => this.changeAvailability(request),
      ChangeConfiguration: (request) => this.changeConfiguration(request),
      ClearCache: () => {
        // Errata 3.23: without an authorization cache, Rejected.
        if (!this.configuration.has('AuthorizationCacheEnabled')) return done({ status: 'Rejected' });
        this.authCache.clear();
        return done({ status: 'Accepted' });
      },
      ClearChargingProfile: (request) => {
        this.requireProfile('SmartCharging', 'ClearChargingProfile');
        const cleared = this.profiles.clear(request, this.clock.now());
        this.recompute();
        return done({ status: cleared ? 'Accepted' : 'Unknown' });
      },
      DataTransfer: async (request) =>
        done(
          this.options.dataTransfer
            ? await this.options.dataTransfer(request)
            : { status: 'UnknownVendorId' },
        ),
      DeleteCertificate: (request) => {
        const stored = this.certificates.find(request.certificateHashData);
        if (!stored) return done({ status: 'NotFound' });
        // M04.FR.06: not the Central System root the current TLS connection relies on.
        const inUse =
          stored.type === 'CentralSystemRootCertificate' &&
          this.isOnline &&
          this.endpoint.startsWith('wss') &&
          this.certificates.pems('CentralSystemRootCertificate').length === 1 &&
          !this.options.tls?.ca;
        if (inUse) return done({ status: 'Failed' });
        this.certificates.remove(stored);
        return done({ status: 'Accepted' });
      },
      ExtendedTriggerMessage: (request) => this.extendedTrigger(request),
      GetCompositeSchedule: (request) => {
        this.requireProfile('SmartCharging', 'GetCompositeSchedule');
        if (request.connectorId !== 0 && !this.hasConnector(request.connectorId))
          return done({ status: 'Rejected' });
        const unit: ChargingRateUnit = request.chargingRateUnit ?? 'A';
        return done(
          this.profiles.compositeSchedule(
            request.connectorId,
            this.clock.now(),
            request.duration,
            unit,
            this.limitContext(),
          ),
        );
      },
      GetConfiguration: (request) => done(this.configuration.report(request.key)),
      GetDiagnostics: (request) => {
        this.requireProfile('FirmwareManagement', 'GetDiagnostics');
        const fileName = this.maintenance.diagnosticsFileName();
        return done({ fileName }, () => this.maintenance.startDiagnostics(request.location));
      },
      GetInstalledCertificateIds: (request) => {
        const ids = this.certificates.ids(request.certificateType);
        return done(
          ids.length > 0 ? { status: 'Accepted', certificateHashData: ids } : { status: 'NotFound' },
        );
      },
      GetLocalListVersion: () => {
        // 5.10: -1 when not supported, 0 when the list is empty.
        if (!this.supports('LocalAuthListManagement')) return done({ listVersion: -1 });
        return done({ listVersion: this.localList.size === 0 ? 0 : this.localListVersion });
      },
      GetLog: (request) =>
        done(this.maintenance.logAnswer(request), () => this.maintenance.startLog(request)),
      InstallCertificate: (request) => this.installCertificate(request),
      RemoteStartTransaction: (request) => this.remoteStart(request),
      RemoteStopTransaction: (request) => {
        // 4.2: RemoteStopTransaction is not allowed while Pending.
        if (this.registration === 'Pending') return done({ status: 'Rejected' });
        const c = this.transactionById(request.transactionId);
        if (!c) return done({ status: 'Rejected' });
        return done({ status: 'Accepted' }, () => {
          if (c.transaction?.transactionId === request.transactionId) {
            this.finishTransaction(c, 'Remote');
            this.recompute();
          }
        });
      },
      ReserveNow: (request) => this.reserveNow(request),
      Reset: (request) => done({ status: 'Accepted' }, () => void this.reset(request.type)),
      SendLocalList: (request) => this.sendLocalList(request),
      SetChargingProfile: (request) => this.setChargingProfile(request),
      SignedUpdateFirmware: (request) => this.signedUpdateFirmware(request),
      TriggerMessage: (request) => this.trigger(request),
      UnlockConnector: (request) => {
        // Errata 3.85: an unknown connector is NotSupported.
        if (!this.hasConnector(request.connectorId)) return done({ status: 'NotSupported' });
        const c = this.connectorById(request.connectorId);
        // 5.18: "If there was a transaction in progress on the specific connector, then Charge Point SHALL finish the transaction first".
        if (c.transaction) {
          this.finishTransaction(c, 'UnlockCommand');
          this.recompute();
        }
        return done({ status: 'Unlocked' });
      },
      UpdateFirmware: (request) => {
        this.requireProfile('FirmwareManagement', 'UpdateFirmware');
        if (this.options.signedFirmwareOnly) {
          throw createRPCError('NotSupported', 'only SignedUpdateFirmware is supported (L01.FR.20)');
        }
        return done({}, () => this.maintenance.startFirmware(request));
      },
    } as Handlers;
  }

  private cancelReservation(request: OcppRequest<'CancelReservation'>): CommandOutcome<'CancelReservation'> {
    if (!this.supports('Reservation') || !this.reservations.has(request.reservationId)) {
      return done({ status: 'Rejected' });
    }
    this.endReservation(request.reservationId);
    this.recompute();
    return done({ status: 'Accepted' });
  }

  private changeAvailability(
    request: OcppRequest<'ChangeAvailability'>,
  ): CommandOutcome<'ChangeAvailability'> {
    const { connectorId, type } = request;
    if (connectorId !== 0 && !this.hasConnector(connectorId)) return done({ status: 'Rejected' });
    // "In the case the ChangeAvailability.req contains ConnectorId = 0, the status change applies to the Charge Point and all Connectors" (5.2).
    const targets = connectorId === 0 ? this.connectors : [this.connectorById(connectorId)];
    const already =
      targets.every((c) => (c.scheduledAvailability ?? c.availability) === type) &&
      (connectorId !== 0 || this.chargePointAvailability === type);
    if (already) return done({ status: 'Accepted' });
    let scheduled = false;
    for (const c of targets) {
      if (type === 'Inoperative' && c.transaction) {
        // "When a transaction is in progress Charge Point SHALL respond with availability status 'Scheduled'" (5.2).
        c.scheduledAvailability = 'Inoperative';
        scheduled = true;
      } else {
        c.availability = type;
        c.scheduledAvailability = undefined;
      }
    }
    if (connectorId === 0) this.chargePointAvailability = type;
    this.recompute();
    return done({ status: scheduled ? 'Scheduled' : 'Accepted' });
  }

  private changeConfiguration(
    request: OcppRequest<'ChangeConfiguration'>,
  ): CommandOutcome<'ChangeConfiguration'> {
    const name = this.configuration.canonicalName(request.key);
    if (name === 'SecurityProfile') return this.changeSecurityProfile(request.value);
    const status = this.configuration.change(request.key, request.value);
    if (status !== 'Accepted' && status !== 'RebootRequired') return done({ status });
    switch (name) {
      case 'HeartbeatInterval':
        this.rearmHeartbeat();
        break;
      case 'ClockAlignedDataInterval':
        this.restartAlignedTimer();
        break;
      case 'WebSocketPingInterval':
      case 'MessageTimeout':
        this.applyTimings();
        break;
      case 'ConnectorPhaseRotation':
        // RebootRequired: the meter sees the new rotation after the next restart.
        break;
      case 'maxIntensitySocket':
        this.applyLocalCap();
        this.recompute();
        break;
      case 'AuthorizationKey':
        // A01: store the password, log it (without the key, A01.FR.12), reconnect with it.
        this.securityLog('ReconfigurationOfSecurityParameters', 'AuthorizationKey changed');
        return done({ status }, () => void this.reconnectNow());
      default:
    }
    return done({ status });
  }

  /** Security whitepaper A05: only upwards, and only with the prerequisites of the new profile. */
  private changeSecurityProfile(value: string): CommandOutcome<'ChangeConfiguration'> {
    const current = this.configuration.int('SecurityProfile', 0);
    const next = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    const reject = done<'ChangeConfiguration'>({ status: 'Rejected' });
    if (!(next > current && next <= 3)) return reject; // A05.FR.01
    if ((next === 1 || next === 2) && !this.configuration.get('AuthorizationKey')) return reject; // A05.FR.02
    const hasRoot = this.certificates.size > 0 || !!this.options.tls?.ca;
    if (next >= 2 && !hasRoot) return reject; // A05.FR.03
    if (next === 3 && !this.chargePointCertificate && !this.options.tls?.cert) return reject; // A05.FR.04
    // The simulator keeps its URL; it cannot move a ws:// connection to TLS by itself.
    if (next >= 2 && !this.endpoint.startsWith('wss')) return reject;
    this.configuration.setInternal('SecurityProfile', String(next));
    this.securityLog('ReconfigurationOfSecurityParameters', `SecurityProfile ${current} -> ${next}`);
    return done({ status: 'Accepted' }, () => void this.reconnectNow()); // A05.FR.06/07
  }

  private remoteStart(
    request: OcppRequest<'RemoteStartTransaction'>,
  ): CommandOutcome<'RemoteStartTransaction'> {
    const reject = done<'RemoteStartTransaction'>({ status: 'Rejected' });
    // 4.2: "While in pending state, the following Central System initiated messages are not allowed".
    if (this.registration === 'Pending') return reject;
    let profile = request.chargingProfile;
    if (profile && this.vendorBehaviour.rejectProfileInRemoteStart) {
      // What evcc #6882 reports from Wallbox: "ProtocolError - validation of RemoteStartTransaction failed".
      throw createRPCError('ProtocolError', 'validation of RemoteStartTransaction failed');
    }
    if (profile && !this.supports('SmartCharging')) {
      // "If a Charge Point without support for Smart Charging receives ... this parameter SHOULD be ignored" (5.11).
      profile = undefined;
    }
    if (profile) {
      // 5.16.2: TxProfile, and no transactionId.
      if (profile.chargingProfilePurpose !== 'TxProfile' || profile.transactionId !== undefined)
        return reject;
      if (this.vendorRefusal(profile)) return reject;
      const verdict = this.profiles.check(1, profile, this.profileRules(), { key: -1 });
      if (verdict.status !== 'Accepted') return reject;
    }
    const candidates =
      request.connectorId === undefined
        ? [...this.connectors].sort((a, b) => Number(!!b.ev) - Number(!!a.ev))
        : this.hasConnector(request.connectorId)
          ? [this.connectorById(request.connectorId)]
          : [];
    const c = candidates.find(
      (candidate) =>
        this.canStartOn(candidate) &&
        this.reservationBlocking(candidate, request.idTag, undefined) !== 'blocked',
    );
    if (!c) return reject;
    return done({ status: 'Accepted' }, () => {
      // 5.11: with AuthorizeRemoteTxRequests the id tag is authorized as for a local start.
      const authorize = this.configuration.bool('AuthorizeRemoteTxRequests', false);
      this.startTransaction(c.id, request.idTag, {
        authorize,
        ...(profile ? { chargingProfile: profile } : {}),
      }).catch((err: Error) =>
        this.log.warn(`${this.identity}: remote start on connector ${c.id} failed: ${err.message}`),
      );
    });
  }

  private reserveNow(request: OcppRequest<'ReserveNow'>): CommandOutcome<'ReserveNow'> {
    const { connectorId, reservationId } = request;
    if (!this.supports('Reservation')) return done({ status: 'Rejected' });
    if (connectorId === 0 && !this.configuration.bool('ReserveConnectorZeroSupported', false)) {
      return done({ status: 'Rejected' });
    }
    if (connectorId !== 0 && !this.hasConnector(connectorId)) return done({ status: 'Rejected' });
    const expiryMs = Date.parse(request.expiryDate);
    if (!(expiryMs > this.clock.now())) return done({ status: 'Rejected' });
    // "If the reservationId in the request matches a reservation in the Charge Point, then the Charge Point SHALL replace that reservation" (5.13).
    const replacing = this.reservations.get(reservationId);
    const others = [...this.reservations.values()].filter((r) => r.reservationId !== reservationId);
    if (connectorId === 0) {
      if (this.statusOf(0).status === 'Faulted') return done({ status: 'Faulted' });
      if (this.chargePointAvailability === 'Inoperative') return done({ status: 'Unavailable' });
      const free = this.connectors.filter(
        (c) => this.canStartOn(c) && !c.ev && !others.some((r) => r.connectorId === c.id),
      );
      if (free.length === 0 || others.some((r) => r.connectorId === 0)) return done({ status: 'Occupied' });
    } else {
      const c = this.connectorById(connectorId);
      if (c.fault) return done({ status: 'Faulted' });
      if (this.isInoperative(c)) return done({ status: 'Unavailable' });
      const occupied =
        c.transaction ||
        c.ev ||
        c.finishing ||
        c.pendingStart ||
        others.some((r) => r.connectorId === connectorId);
      if (occupied) return done({ status: 'Occupied' });
    }
    if (replacing) this.endReservation(reservationId);
    const timer = this.clock.setTimeout(() => {
      // "When a reservation expires, the Charge Point SHALL terminate the reservation and make the connector available" (5.13).
      if (this.reservations.get(reservationId)?.timer !== timer) return;
      this.reservations.delete(reservationId);
      this.recompute();
    }, expiryMs - this.clock.now());
    this.reservations.set(reservationId, {
      reservationId,
      connectorId,
      idTag: request.idTag,
      ...(request.parentIdTag ? { parentIdTag: request.parentIdTag } : {}),
      expiryMs,
      timer,
    });
    this.recompute();
    return done({ status: 'Accepted' });
  }

  private async reset(type: 'Hard' | 'Soft'): Promise<void> {
    // 5.14: StopTransaction for every transaction before the reset; a soft reset stops them
    // gracefully and lets them go out first, a hard reset queues them for after the reboot.
    this.stopAll(type === 'Soft' ? 'SoftReset' : 'HardReset');
    if (type === 'Soft') await this.whenIdle();
    await this.reboot(`${type} reset`);
  }

  private sendLocalList(request: OcppRequest<'SendLocalList'>): CommandOutcome<'SendLocalList'> {
    if (!this.supports('LocalAuthListManagement')) return done({ status: 'NotSupported' });
    const entries = request.localAuthorizationList ?? [];
    // Errata 3.52: listVersion is never 0 or -1; 6.41: idTags are unique.
    const failed =
      request.listVersion <= 0 ||
      entries.length > this.configuration.int('SendLocalListMaxLength', 1) ||
      new Set(entries.map((e) => e.idTag)).size !== entries.length;
    if (failed) return done({ status: 'Failed' });
    let next: Map<string, IdTagInfo>;
    if (request.updateType === 'Full') {
      next = new Map(entries.filter((e) => e.idTagInfo).map((e) => [e.idTag, e.idTagInfo as IdTagInfo]));
    } else {
      // 7.47 VersionMismatch: a differential update whose version is not above the current one.
      if (request.listVersion <= this.localListVersion) return done({ status: 'VersionMismatch' });
      next = new Map(this.localList);
      for (const entry of entries) {
        if (entry.idTagInfo) next.set(entry.idTag, entry.idTagInfo);
        else next.delete(entry.idTag);
      }
    }
    if (next.size > this.configuration.int('LocalAuthListMaxLength', 0)) return done({ status: 'Failed' });
    this.localList = next;
    this.localListVersion = request.listVersion;
    // 3.5.3: identifiers on the local list are not kept in the cache.
    for (const idTag of next.keys()) this.authCache.delete(idTag);
    return done({ status: 'Accepted' });
  }

  private profileRules(): ProfileRules {
    const units = new Set<ChargingRateUnit>();
    for (const item of this.configuration.csl('ChargingScheduleAllowedChargingRateUnit')) {
      // Errata 3.86: 'Current' allows A, 'Power' allows W (some chargers write A and W).
      if (/^(current|a)$/i.test(item)) units.add('A');
      if (/^(power|w)$/i.test(item)) units.add('W');
    }
    return {
      numberOfConnectors: this.connectorCount,
      maxStackLevel: this.configuration.int('ChargeProfileMaxStackLevel', 0),
      maxPeriods: this.configuration.int('ChargingScheduleMaxPeriods', 1),
      maxInstalled: this.configuration.int('MaxChargingProfilesInstalled', 1),
      allowedUnits: units,
    };
  }

  private setChargingProfile(
    request: OcppRequest<'SetChargingProfile'>,
  ): CommandOutcome<'SetChargingProfile'> {
    // Errata 3.39: no smart charging is CALLERROR NotSupported; an unknown connector PropertyConstraintViolation.
    this.requireProfile('SmartCharging', 'SetChargingProfile');
    const { connectorId, csChargingProfiles: profile } = request;
    if (connectorId !== 0 && !this.hasConnector(connectorId)) {
      throw createRPCError('PropertyConstraintViolation', `no connector ${connectorId}`);
    }
    const tx = connectorId === 0 ? undefined : this.transactionOf(this.connectorById(connectorId));
    const refusal = this.vendorRefusal(profile);
    const verdict: ProfileVerdict = refusal
      ? { status: 'Rejected', reason: refusal }
      : this.profiles.check(connectorId, profile, this.profileRules(), tx);
    if (verdict.status === 'Rejected') {
      this.log.info(
        `${this.identity}: SetChargingProfile ${profile.chargingProfileId} rejected: ${verdict.reason}`,
      );
      return done({ status: 'Rejected' });
    }
    const transactionKey = profile.chargingProfilePurpose === 'TxProfile' ? tx?.key : undefined;
    this.profiles.install(connectorId, profile, this.clock.now(), transactionKey);
    this.recompute();
    return done({ status: 'Accepted' });
  }

  private trigger(request: OcppRequest<'TriggerMessage'>): CommandOutcome<'TriggerMessage'> {
    if (!this.supports('RemoteTrigger')) return done({ status: 'NotImplemented' });
    const { connectorId, requestedMessage } = request;
    switch (requestedMessage) {
      case 'DiagnosticsStatusNotification':
        return done({ status: 'Accepted' }, () =>
          this.notifyJobState('DiagnosticsStatusNotification', { status: this.maintenance.diagnosticsState }),
        );
      case 'FirmwareStatusNotification':
        return done({ status: 'Accepted' }, () =>
          this.notifyJobState('FirmwareStatusNotification', { status: this.maintenance.firmwareState }),
        );
      default:
        return this.triggerShared(connectorId, requestedMessage);
    }
  }

  /**
   * The messages TriggerMessage (5.17) and ExtendedTriggerMessage (security whitepaper) both ask
   * for. 5.17: "The Charge Point SHALL first send the TriggerMessage response, before sending the
   * requested message."
   */
  private triggerShared(
    connectorId: number | undefined,
    requestedMessage: 'BootNotification' | 'Heartbeat' | 'MeterValues' | 'StatusNotification',
  ): CommandOutcome<'TriggerMessage'> {
    if (connectorId !== undefined && connectorId !== 0 && !this.hasConnector(connectorId)) {
      return done({ status: 'Rejected' });
    }
    switch (requestedMessage) {
      case 'BootNotification':
        // Errata 3.35: once accepted, RECOMMENDED to reject.
        if (this.registration === 'Accepted') return done({ status: 'Rejected' });
        return done({ status: 'Accepted' }, () => this.triggerBoot());
      case 'Heartbeat':
        return done({ status: 'Accepted' }, () => this.sendHeartbeat(true));
      case 'MeterValues':
        return this.triggerMeterValues(connectorId);
      case 'StatusNotification':
        return done({ status: 'Accepted' }, () => this.triggerStatus(connectorId));
    }
  }

  private triggerMeterValues(connectorId: number | undefined): CommandOutcome<'TriggerMessage'> {
    // This meter has no main meter of the charge point as a whole.
    if (connectorId === 0) return done({ status: 'Rejected' });
    const targets = connectorId === undefined ? this.connectors : [this.connectorById(connectorId)];
    return done({ status: 'Accepted' }, () => {
      for (const c of targets) {
        // Errata 3.46: the most recent values of MeterValuesSampledData, context Trigger.
        const built = this.meterValuesNow(c, 'Trigger');
        if (built) this.notify('MeterValues', built.payload, { triggered: true, deviates: built.deviates });
      }
    });
  }

  /** "A request for a statusNotification without connectorId is a request for ... the Charge Point itself and ... each of its connectors" (5.17). */
  private triggerStatus(connectorId: number | undefined): void {
    const ids = connectorId === undefined ? [0, ...this.connectors.map((c) => c.id)] : [connectorId];
    for (const id of ids) this.sendStatus(id, true);
  }

  private extendedTrigger(
    request: OcppRequest<'ExtendedTriggerMessage'>,
  ): CommandOutcome<'ExtendedTriggerMessage'> {
    const { connectorId, requestedMessage } = request;
    switch (requestedMessage) {
      case 'LogStatusNotification':
        return done({ status: 'Accepted' }, () =>
          this.notifyJobState('LogStatusNotification', this.maintenance.logState),
        );
      case 'FirmwareStatusNotification':
        return done({ status: 'Accepted' }, () =>
          this.notifyJobState('SignedFirmwareStatusNotification', this.maintenance.signedFirmwareState),
        );
      case 'SignChargePointCertificate':
        if (!this.configuration.get('CpoName')) return done({ status: 'Rejected' });
        return done({ status: 'Accepted' }, () => {
          this.requestCertificateSigning().catch((err: Error) =>
            this.log.warn(`${this.identity}: SignCertificate failed: ${err.message}`),
          );
        });
      default:
        // Same statuses (Accepted, Rejected, NotImplemented) as TriggerMessage.
        return this.triggerShared(
          connectorId,
          requestedMessage,
        ) as unknown as CommandOutcome<'ExtendedTriggerMessage'>;
    }
  }

  /** A triggered status notification of a maintenance job: diagnostics, firmware, log upload. */
  private notifyJobState<
    A extends
      | 'DiagnosticsStatusNotification'
      | 'FirmwareStatusNotification'
      | 'LogStatusNotification'
      | 'SignedFirmwareStatusNotification',
  >(action: A, { status, requestId }: { status: OcppRequest<A>['status']; requestId?: number }): void {
    const payload = { status, ...(requestId === undefined ? {} : { requestId }) } as OcppRequest<A>;
    this.notify(action, payload, { triggered: true });
  }

  // ---- Security ----------------------------------------------------------------------------

  /** CertificateSigned (A02/A03): the chain must certify the key of our last CSR, be valid now and chain to a trusted root. */
  private certificateSigned(request: OcppRequest<'CertificateSigned'>): CommandOutcome<'CertificateSigned'> {
    const reject = (why: string) => {
      // A02.FR.07: discard, and an InvalidChargePointCertificate security event.
      this.securityEvent('InvalidChargePointCertificate', why);
      return done<'CertificateSigned'>({ status: 'Rejected' });
    };
    if (request.certificateChain.length > this.configuration.int('CertificateSignedMaxChainSize', 10_000)) {
      return reject('certificate chain longer than CertificateSignedMaxChainSize');
    }
    let chain: X509Certificate[];
    try {
      chain = splitPem(request.certificateChain);
    } catch {
      return reject('not a PEM certificate chain');
    }
    const [leaf] = chain;
    if (!leaf) return reject('no certificate');
    const key = this.pendingCsrKey;
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    if (!key || !spki(leaf.publicKey).equals(spki(key.publicKey))) {
      return reject('the certificate is not for the key of the last CSR');
    }
    const now = this.clock.now();
    if (!chain.every((cert) => validAt(cert, now))) return reject('outside its validity period');
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!issuedBy(chain[i] as X509Certificate, chain[i + 1] as X509Certificate))
        return reject('broken chain');
    }
    const roots = this.certificates.certificatesOf('CentralSystemRootCertificate');
    const top = chain[chain.length - 1] as X509Certificate;
    if (
      roots.length > 0 &&
      !roots.some((root) => issuedBy(top, root) || root.fingerprint256 === top.fingerprint256)
    ) {
      return reject('not issued within the operator hierarchy');
    }
    this.pendingCsrKey = undefined;
    this.chargePointCertificate = { chain: request.certificateChain, privateKey: key.privateKey };
    this.securityLog('ReconfigurationOfSecurityParameters', 'charge point certificate installed');
    return done({ status: 'Accepted' });
  }

  private installCertificate(
    request: OcppRequest<'InstallCertificate'>,
  ): CommandOutcome<'InstallCertificate'> {
    const max = this.configuration.int('CertificateStoreMaxLength', 10);
    if (
      request.certificateType === 'CentralSystemRootCertificate' &&
      this.configuration.bool('AdditionalRootCertificateCheck', false)
    ) {
      // M05.FR.09/10: the new root must be signed by the one it replaces.
      const old = this.certificates.certificatesOf('CentralSystemRootCertificate');
      try {
        const [incoming] = splitPem(request.certificate);
        if (!incoming || (old.length > 0 && !old.some((root) => issuedBy(incoming, root)))) {
          return done({ status: 'Rejected' });
        }
      } catch {
        return done({ status: 'Rejected' });
      }
    }
    return done({
      status: this.certificates.install(request.certificateType, request.certificate, this.clock.now(), max),
    });
  }

  private signedUpdateFirmware(
    request: OcppRequest<'SignedUpdateFirmware'>,
  ): CommandOutcome<'SignedUpdateFirmware'> {
    // L01.FR.23-25: the signing certificate first, against the installed manufacturer roots.
    let certificate: X509Certificate | undefined;
    try {
      [certificate] = splitPem(request.firmware.signingCertificate);
    } catch {
      certificate = undefined;
    }
    const roots = this.certificates.certificatesOf('ManufacturerRootCertificate');
    const valid =
      !!certificate &&
      validAt(certificate, this.clock.now()) &&
      roots.some((root) => issuedBy(certificate as X509Certificate, root));
    if (!valid) {
      // L01.FR.02: InvalidFirmwareSigningCertificate.
      return done({ status: 'InvalidCertificate' }, () =>
        this.securityEvent('InvalidFirmwareSigningCertificate', `requestId ${request.requestId}`),
      );
    }
    // L01.FR.26: a new update cancels the one in progress.
    const status = this.maintenance.firmwareInProgress ? 'AcceptedCanceled' : 'Accepted';
    return done({ status }, () => this.maintenance.startSignedFirmware(request));
  }

  // ---- Helpers -----------------------------------------------------------------------------

  /** Why this charger model refuses a profile the spec would allow, if it does. */
  private vendorRefusal(profile: ChargingProfile): string | undefined {
    const behaviour = this.vendorBehaviour;
    const schedule = profile.chargingSchedule;
    if (behaviour.stackLevelZeroOnly && profile.stackLevel > 0) return 'only stackLevel 0 is supported';
    if (behaviour.refuseWatts && schedule.chargingRateUnit === 'W') return 'limits in W are not supported';
    if (behaviour.refuseAmps && schedule.chargingRateUnit === 'A') return 'limits in A are not supported';
    if (behaviour.onlyRelativeProfiles && profile.chargingProfileKind !== 'Relative')
      return 'only Relative profiles are supported';
    if (
      behaviour.rejectNumberPhases &&
      schedule.chargingSchedulePeriod.some((p) => p.numberPhases !== undefined)
    )
      return 'numberPhases is not supported';
    if (behaviour.rejectMinChargingRate && schedule.minChargingRate !== undefined)
      return 'minChargingRate is not supported';
    return undefined;
  }

  /** maxIntensitySocket, where this model has it, caps every socket. */
  private applyLocalCap(): void {
    if (!this.vendorBehaviour.maxIntensitySocket) return;
    const value = this.configuration.int('maxIntensitySocket', Number.NaN);
    this.profiles.setLocalCapA(Number.isFinite(value) ? value : undefined);
  }

  private supports(profile: string): boolean {
    return this.configuration
      .csl('SupportedFeatureProfiles')
      .some((p) => p.toLowerCase() === profile.toLowerCase());
  }

  private requireProfile(profile: string, action: string): void {
    if (!this.supports(profile))
      throw createRPCError('NotSupported', `${action}: feature profile ${profile} is not supported`);
  }

  private supportsLocation(location: string): boolean {
    let scheme: string;
    try {
      scheme = new URL(location).protocol.replace(/:$/, '').toUpperCase();
    } catch {
      return false;
    }
    return this.configuration.csl('SupportedFileTransferProtocols').some((p) => p.toUpperCase() === scheme);
  }
}

function resolveBehaviour(
  choice: VendorBehaviourName | Partial<VendorBehaviour> | undefined,
): Readonly<VendorBehaviour> {
  if (choice === undefined) return STANDARD_BEHAVIOUR;
  if (typeof choice === 'string') {
    const named = VENDOR_BEHAVIOURS[choice] as Partial<VendorBehaviour> | undefined;
    if (!named) throw new RangeError(`unknown vendor behaviour ${choice}`);
    return { ...STANDARD_BEHAVIOUR, ...named };
  }
  return { ...STANDARD_BEHAVIOUR, ...choice };
}

/** Smart-charging keys the OCPP 1.6 discovery (3.13.5) reads; a charger without SmartCharging has none. */
const SMART_CHARGING_KEYS = [
  'ChargeProfileMaxStackLevel',
  'ChargingScheduleAllowedChargingRateUnit',
  'ChargingScheduleMaxPeriods',
  'ConnectorSwitch3to1PhaseSupported',
  'MaxChargingProfilesInstalled',
];

/** The configuration keys a charger model announces, under what the caller configured. */
function vendorConfiguration(
  behaviour: Readonly<VendorBehaviour>,
  options: SimulatedChargePointOptions,
): Record<string, ConfigurationOverride> {
  const model: Record<string, ConfigurationOverride> = {};
  if (behaviour.refuseWatts)
    model.ChargingScheduleAllowedChargingRateUnit = { value: 'Current', readonly: true };
  if (behaviour.refuseAmps)
    model.ChargingScheduleAllowedChargingRateUnit = { value: 'Power', readonly: true };
  if (behaviour.noSmartCharging) {
    model.SupportedFeatureProfiles = {
      value: DEFAULT_FEATURE_PROFILES.split(',')
        .filter((profile) => profile !== 'SmartCharging')
        .join(','),
      readonly: true,
    };
    for (const key of SMART_CHARGING_KEYS) model[key] = null;
  }
  if (behaviour.maxIntensitySocket) {
    const ratingA = Math.floor(Math.min(...connectorRatingsA(options)));
    // 003 §8: 0 up to the rating of the socket's card, in A per phase.
    model.maxIntensitySocket = { value: ratingA, integer: { min: 0, max: ratingA } };
  }
  const configured = new Set(Object.keys(options.configuration ?? {}).map((key) => key.toLowerCase()));
  const kept = Object.entries(model).filter(([key]) => !configured.has(key.toLowerCase()));
  return { ...Object.fromEntries(kept), ...options.configuration };
}

function connectorRatingsA(options: SimulatedChargePointOptions): number[] {
  const fallbackA = options.maxCurrentA ?? 32;
  if (Array.isArray(options.connectors)) return options.connectors.map((c) => c.maxCurrentA ?? fallbackA);
  return [fallbackA];
}
