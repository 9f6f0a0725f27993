import { IEC_61851_MINIMUM_A } from '../lib/electrical';
import type {
  DataTransferRequest,
  DataTransferResponse,
  OcppRequest,
  OcppResponse,
} from '../lib/ocpp/messages';
import { CertificateStore } from './certificate-store';
import type { CommandHost } from './charge-point-commands';
import { supportsFeature, supportsLocation } from './charge-point-config';
import { commandHandlers, type Handlers } from './charge-point-handlers';
import { ChargePointSecurity } from './charge-point-security';
import { type EvOptions, SimulatedEv } from './ev';
import { httpFileTransfer } from './file-transfer';
import { Maintenance } from './maintenance';
import type { IdTagInfo, StationOptions } from './station';
import { ChargePointSessions } from './transactions';
import type { CommandOutcome, CsAction, VendorBehaviour, VendorBehaviourName } from './types';
import { resolveBehaviour, vendorConfiguration } from './vendor-model';

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
 * `ocppVersion: '2.0.1'` the same charge point speaks OCPP 2.0.1 (sim/v201 translates).
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
  /** Really download firmware from and upload diagnostics and logs to http(s) locations (file-transfer.ts). */
  httpTransfers?: boolean;
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

export class SimulatedChargePoint extends ChargePointSessions {
  readonly options: Readonly<SimulatedChargePointOptions>;
  /** How this charger deviates in smart charging. */
  readonly vendorBehaviour: Readonly<VendorBehaviour>;
  /** Root certificates installed with InstallCertificate. */
  readonly certificates = new CertificateStore();
  private readonly maintenance: Maintenance;
  private readonly handlers: Handlers;
  private readonly security = new ChargePointSecurity({
    clock: this.clock,
    configuration: this.configuration,
    certificates: this.certificates,
    securityEvent: (type, techInfo) => this.securityEvent(type, techInfo),
    securityLog: (type, techInfo) => this.securityLog(type, techInfo),
    tlsReliesOnInstalledRoots: () =>
      this.isOnline && this.endpoint.startsWith('wss') && !this.options.tls?.ca,
  });

  constructor(options: SimulatedChargePointOptions) {
    const behaviour = resolveBehaviour(options.vendorBehaviour);
    super({
      ...options,
      // The model's meter (EVlink: plain Current.Import without a phase) is one of its quirks.
      ...(behaviour.unphasedCurrent ? { quirks: { ...options.quirks, unphasedCurrent: true } } : {}),
      configuration: vendorConfiguration(behaviour, options),
    });
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
      ...(options.httpTransfers ? { transfer: httpFileTransfer() } : {}),
      firmwareInstallS: options.firmwareInstallS ?? 10,
      supportsLocation: (location) => supportsLocation(this.configuration, location),
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
    this.handlers = commandHandlers({
      host: this.commandHost(),
      security: this.security,
      maintenance: this.maintenance,
      certificates: this.certificates,
      options,
      reset: (type) => this.reset(type),
    });
  }

  /** The firmware version BootNotification reports (changes after a firmware update). */
  /** The last firmware file really downloaded (with `httpTransfers`). */
  get downloadedFirmware(): Buffer | undefined {
    return this.maintenance.lastDownload;
  }

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
    const commonName =
      this.options.chargePointSerialNumber ?? this.options.chargeBoxSerialNumber ?? this.identity;
    return await this.call('SignCertificate', { csr: this.security.newCsr({ commonName, organization }) });
  }

  /** The client certificate installed through CertificateSigned, if any (PEM chain). */
  get installedChargePointCertificate(): string | undefined {
    return this.security.clientCertificate?.chain;
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
    const own = this.security?.clientCertificate;
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

  // ---- Command host (the handlers: charge-point-handlers.ts) -------------------------------

  /** This charge point as its connector commands see it (sim/charge-point-commands.ts). */
  private commandHost(): CommandHost {
    const cp = this;
    return {
      clock: this.clock,
      configuration: this.configuration,
      identity: this.identity,
      log: this.log,
      get registration() {
        return cp.registration;
      },
      vendorBehaviour: this.vendorBehaviour,
      profiles: this.profiles,
      connectors: this.connectors,
      connectorCount: this.connectorCount,
      reservations: this.reservations,
      authCache: this.authCache,
      get localList() {
        return cp.localList;
      },
      set localList(list) {
        cp.localList = list;
      },
      get localListVersion() {
        return cp.localListVersion;
      },
      set localListVersion(version) {
        cp.localListVersion = version;
      },
      get chargePointAvailability() {
        return cp.chargePointAvailability;
      },
      set chargePointAvailability(availability) {
        cp.chargePointAvailability = availability;
      },
      supports: (profile) => supportsFeature(this.configuration, profile),
      hasConnector: (id) => this.hasConnector(id),
      connectorById: (id) => this.connectorById(id),
      transactionById: (id) => this.transactionById(id),
      canStartOn: (c) => this.canStartOn(c),
      isInoperative: (c) => this.isInoperative(c),
      statusOf: (id) => this.statusOf(id),
      reservationBlocking: (c, idTag, parent) => this.reservationBlocking(c, idTag, parent),
      endReservation: (id) => this.endReservation(id),
      startTransaction: (id, idTag, options) => this.startTransaction(id, idTag, options),
      finishTransaction: (c, reason) => void this.finishTransaction(c, reason),
      recompute: () => this.recompute(),
      maintenance: this.maintenance,
      connectorIds: () => this.connectorIds(),
      cpoName: () => this.configuration.get('CpoName'),
      triggerBoot: () => this.triggerBoot(),
      sendHeartbeat: (triggered) => this.sendHeartbeat(triggered),
      sendStatus: (id, triggered) => this.sendStatus(id, triggered),
      sendTriggeredMeterValues: (id) => {
        const built = this.meterValuesNow(this.connectorById(id), 'Trigger');
        if (built) this.notify('MeterValues', built.payload, { triggered: true, deviates: built.deviates });
      },
      notify: (action, payload, options) => this.notify(action, payload, options),
      requestCertificateSigning: () => {
        this.requestCertificateSigning().catch((err: Error) =>
          this.log.warn(`${this.identity}: SignCertificate failed: ${err.message}`),
        );
      },
      certificates: this.certificates,
      endpoint: this.endpoint,
      tls: this.options.tls,
      hasClientCertificate: () => !!this.security.clientCertificate,
      transactionOf: (c) => this.transactionOf(c),
      limitContext: () => this.limitContext(),
      rearmHeartbeat: () => this.rearmHeartbeat(),
      restartAlignedTimer: () => this.restartAlignedTimer(),
      applyTimings: () => this.applyTimings(),
      applyLocalCap: () => this.applyLocalCap(),
      securityLog: (type, techInfo) => this.securityLog(type, techInfo),
      reconnectNow: () => this.reconnectNow(),
    };
  }

  private async reset(type: 'Hard' | 'Soft'): Promise<void> {
    // 5.14: StopTransaction for every transaction before the reset; a soft reset stops them
    // gracefully and lets them go out first, a hard reset queues them for after the reboot.
    this.stopAll(type === 'Soft' ? 'SoftReset' : 'HardReset');
    if (type === 'Soft') await this.whenIdle();
    await this.reboot(`${type} reset`);
  }

  // ---- Helpers -----------------------------------------------------------------------------

  /** maxIntensitySocket, where this model has it, caps every socket. */
  private applyLocalCap(): void {
    if (!this.vendorBehaviour.maxIntensitySocket) return;
    const value = this.configuration.int('maxIntensitySocket', Number.NaN);
    this.profiles.setLocalCapA(Number.isFinite(value) ? value : undefined);
  }
}
