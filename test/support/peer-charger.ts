import { EventEmitter } from 'node:events';
import type { ChargePointAction } from '../../lib/ocpp/actions';
import type {
  AuthorizeResponse,
  ChangeConfigurationRequest,
  ClearChargingProfileRequest,
  GetCompositeScheduleRequest,
  GetConfigurationRequest,
  OcppRequest,
  OcppResponse,
  RemoteStopTransactionRequest,
  SetChargingProfileRequest,
  StatusNotificationRequest,
  TriggerMessageRequest,
} from '../../lib/ocpp/messages';
import { ProfileStore, type RunningTransaction, tenthDown } from './charger-profiles';

/**
 * What a compliant OCPP 1.6 charge point does, apart from the wire: its connectors, the car on
 * each, its energy register, the charging profiles it keeps (charger-profiles.ts) and how it
 * answers what the central system asks. The wire is a subclass's: one on a charge-point library
 * written elsewhere (voltbras-charger.ts), one on plain `ws` (plain-charger.ts). Neither knows a
 * vendor quirk, and neither shares code with the central system or the package's simulator.
 *
 * The car takes the lower of what the charger offers and what it can (`maxA`), on its phases; a
 * charger cannot offer less than 6 A (IEC 61851), so below that it offers nothing and the
 * connector is SuspendedEVSE. After anything that changes what it offers, the charger reports its
 * new status (when it changed) and its meter values, as a charger with a change-triggered meter
 * does: the tests wait for that, never for a fixed time.
 */

export interface PeerCar {
  maxA: number;
  phases: 1 | 3;
}

export type IdTagStatus = AuthorizeResponse['idTagInfo']['status'];
type Status = StatusNotificationRequest['status'];

export interface SessionOutcome {
  /** Authorize.conf's status; undefined when the charger took the tag from its cache. */
  authorize?: IdTagStatus;
  /** StartTransaction.conf's status; undefined when Authorize refused the tag (no transaction). */
  start?: IdTagStatus;
  transactionId?: number;
}

export interface PeerChargerOptions {
  /** Number of connectors. Default 1. */
  connectors?: number;
  /** The charger's rating per phase, A. Default 32. */
  ratedA?: number;
  /** The energy register at power-up, Wh (a charger that has charged before). Default 0. */
  meterStartWh?: number;
  /** Wall-clock time for timestamps and schedules. Default Date.now. */
  now?: () => number;
  /**
   * As OCPP 1.6 §3.13.2 and §5.16 have it: a TxProfile naming a transaction this charger has not
   * been answered yet (its StartTransaction answer still on the way) is Rejected. Default: accepted.
   */
  strictTransactions?: boolean;
  /**
   * Reports its energy register only (`Energy.Active.Import.Register`, whole Wh), whatever
   * MeterValuesSampledData is changed to, as the EVlink template of an independent simulator did
   * (issue 45); its register counts up by what its car draws (on `now`'s time). Default: currents too.
   */
  energyOnly?: boolean;
  /**
   * Without SmartCharging (SupportedFeatureProfiles `Core,RemoteTrigger`): SetChargingProfile,
   * ClearChargingProfile and GetCompositeSchedule are answered NotSupported, and its car takes what
   * the charger is rated for. Default: with.
   */
  noSmartCharging?: boolean;
  /**
   * Its car draws this fraction above what it is offered (0.03: 3 %, as cars do within IEC 61851-1's
   * tolerance), never above its own maximum. Default 0.
   */
  overshoot?: number;
}

/** A CALL the charger cannot answer: the transport sends a CALLERROR with this code. */
export class CallErrorReply extends Error {
  constructor(
    readonly code: 'NotImplemented' | 'NotSupported' | 'FormationViolation' | 'GenericError',
    message: string,
  ) {
    super(message);
  }
}

interface ConnectorSide {
  status: Status;
  running?: RunningTransaction & { idTag: string; meterStartWh: number };
  car?: PeerCar;
  meterWh: number;
  /** When the register was last counted up (`energyOnly`), ms. */
  countedAtMs?: number;
  /** What was last reported (status and draw), to report only changes. */
  reported?: string;
}

const CHARGE_POINT_ACTIONS_ANSWERED = [
  'SetChargingProfile',
  'ClearChargingProfile',
  'GetCompositeSchedule',
  'GetConfiguration',
  'ChangeConfiguration',
  'TriggerMessage',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ChangeAvailability',
  'ClearCache',
  'GetLocalListVersion',
  'DataTransfer',
] as const;

export type AnsweredAction = (typeof CHARGE_POINT_ACTIONS_ANSWERED)[number];

export abstract class PeerCharger extends EventEmitter<{
  /** What a car draws may have changed (a profile set or cleared, a car came or left): at that moment. */
  change: [];
  /** The charger reported its statuses and meter values after a change. */
  reported: [];
}> {
  /** Every SetChargingProfile.req it accepted, in order. */
  readonly accepted: SetChargingProfileRequest[] = [];
  /** Every CALL of the central system and the answer, in order. */
  readonly answered: { action: string; request: unknown; response: unknown }[] = [];
  readonly store: ProfileStore;
  protected readonly now: () => number;
  private readonly connectors = new Map<number, ConnectorSide>();
  private readonly config: Record<string, { value: string; readonly: boolean }>;
  protected closing = false;
  /** The connector whose StartTransaction is on its way (its answer gives the transaction's id). */
  private starting: number | undefined;

  constructor(
    readonly identity: string,
    protected readonly options: PeerChargerOptions = {},
  ) {
    super();
    const count = options.connectors ?? 1;
    this.now = options.now ?? Date.now;
    this.store = new ProfileStore({
      connectors: count,
      maxStackLevel: 8,
      maxInstalled: 16,
      maxPeriods: 24,
      ratedA: options.ratedA ?? 32,
    });
    for (let id = 1; id <= count; id++)
      this.connectors.set(id, { status: 'Available', meterWh: options.meterStartWh ?? 0 });
    // The configuration keys 9.1 and 9.4 require of a smart-charging charger.
    this.config = {
      ChargeProfileMaxStackLevel: { value: '8', readonly: true },
      ChargingScheduleAllowedChargingRateUnit: { value: 'Current,Power', readonly: true },
      ChargingScheduleMaxPeriods: { value: '24', readonly: true },
      MaxChargingProfilesInstalled: { value: '16', readonly: true },
      MeterValueSampleInterval: { value: '60', readonly: false },
      MeterValuesSampledData: { value: 'Energy.Active.Import.Register,Current.Import', readonly: false },
      NumberOfConnectors: { value: String(count), readonly: true },
      SupportedFeatureProfiles: {
        value: options.noSmartCharging ? 'Core,RemoteTrigger' : 'Core,SmartCharging,RemoteTrigger',
        readonly: true,
      },
      StopTransactionOnInvalidId: { value: 'true', readonly: false },
    };
  }

  /** Sets a configuration key as the charger reports it (GetConfiguration), e.g. a vendor's own. */
  configure(key: string, value: string, readonly = true): this {
    this.config[key] = { value, readonly };
    return this;
  }

  /**
   * Leaves a configuration key out of what it reports (an unknown key to GetConfiguration), e.g.
   * ChargeProfileMaxStackLevel as independent simulators' templates do; it still acts as before.
   */
  unconfigure(key: string): this {
    delete this.config[key];
    return this;
  }

  /** Sends one CALL and resolves with the CALLRESULT's payload (rejects on a CALLERROR). */
  protected abstract send<A extends ChargePointAction>(
    action: A,
    request: OcppRequest<A>,
  ): Promise<OcppResponse<A>>;

  /** Opens the connection to `url` (the central system's address ending in its path prefix) and boots. */
  abstract connect(url: string): Promise<void>;

  /** Closes the connection and waits until it is closed. */
  abstract close(): Promise<void>;

  /** BootNotification, then every connector's status, as a charger does after power-up (4.2, 4.9). */
  protected async boot(vendor: string, model: string): Promise<void> {
    const boot = await this.send('BootNotification', { chargePointVendor: vendor, chargePointModel: model });
    if (boot.status !== 'Accepted') throw new Error(`${this.identity} was not accepted: ${boot.status}`);
    await this.send('StatusNotification', {
      connectorId: 0,
      errorCode: 'NoError',
      status: 'Available',
      timestamp: this.iso(),
    });
    for (const [connectorId, side] of this.connectors) await this.report(connectorId, side.status);
  }

  /**
   * A car plugs in (Preparing), the driver presents `idTag` (Authorize; with `cached`, the tag is in
   * the charger's Authorization Cache and no Authorize.req goes out, as 4.1 allows), the transaction
   * starts (StartTransaction) and the car charges at what the profiles allow (Charging or
   * SuspendedEVSE), with meter values. A tag Authorize refuses starts nothing (4.1: energy only
   * after authorization); a start not Accepted is stopped at once (DeAuthorized, 5.18 with
   * StopTransactionOnInvalidId) and the car gets nothing.
   */
  async startSession(
    connectorId: number,
    idTag: string,
    car: PeerCar,
    { cached = false }: { cached?: boolean } = {},
  ): Promise<SessionOutcome> {
    const side = this.side(connectorId);
    await this.report(connectorId, 'Preparing');
    const authorize = cached ? undefined : (await this.send('Authorize', { idTag })).idTagInfo.status;
    if (authorize !== undefined && authorize !== 'Accepted') {
      await this.report(connectorId, 'Available'); // the driver takes the car away
      return { authorize };
    }
    const startedAtMs = this.now();
    side.running = { startedAtMs, idTag, meterStartWh: side.meterWh };
    this.starting = connectorId;
    const start = await this.send('StartTransaction', {
      connectorId,
      idTag,
      meterStart: side.meterWh,
      timestamp: new Date(startedAtMs).toISOString(),
    });
    side.running.transactionId = start.transactionId;
    const outcome = { authorize, start: start.idTagInfo.status, transactionId: start.transactionId };
    if (start.idTagInfo.status !== 'Accepted') {
      await this.stopSession(connectorId, { reason: 'DeAuthorized', energyWh: 0 });
      return outcome;
    }
    side.car = car;
    side.countedAtMs = this.now();
    this.emit('change');
    await this.reportChanges(connectorId, true);
    this.emit('reported');
    return outcome;
  }

  /**
   * A car plugs in while the charger is not connected: the charger starts the transaction on its
   * own (a tag it may accept offline, 3.5) and the car charges at what the profiles it keeps allow;
   * nothing goes over the wire (its StartTransaction would wait in its queue).
   */
  startOfflineSession(connectorId: number, idTag: string, car: PeerCar): void {
    const side = this.side(connectorId);
    side.running = { startedAtMs: this.now(), idTag, meterStartWh: side.meterWh };
    side.car = car;
    side.status = 'Charging';
    this.emit('change');
  }

  /**
   * A transport calls this the moment an answer is read, before anything read after it: from then
   * the charger knows the transaction a StartTransaction answer gives.
   */
  protected answerRead(action: string, payload: object): void {
    if (action !== 'StartTransaction' || this.starting === undefined) return;
    const running = this.side(this.starting).running;
    const transactionId = (payload as { transactionId?: unknown }).transactionId;
    if (running && typeof transactionId === 'number') running.transactionId = transactionId;
    this.starting = undefined;
  }

  /** The transaction stops after `energyWh` more went into the car (default 1000 Wh); the car leaves. */
  async stopSession(
    connectorId: number,
    {
      reason = 'Local',
      energyWh = 1000,
    }: { reason?: 'Local' | 'DeAuthorized' | 'Remote'; energyWh?: number } = {},
  ): Promise<void> {
    const side = this.side(connectorId);
    const running = side.running;
    if (running?.transactionId === undefined) return;
    side.meterWh += energyWh;
    side.car = undefined;
    side.running = undefined;
    side.reported = undefined;
    this.store.transactionEnded(connectorId);
    this.emit('change');
    await this.send('StopTransaction', {
      transactionId: running.transactionId,
      idTag: running.idTag,
      meterStop: side.meterWh,
      timestamp: this.iso(),
      reason,
    });
    // The driver unplugs: Finishing, then Available (4.9).
    await this.report(connectorId, 'Finishing');
    await this.report(connectorId, 'Available');
    this.emit('reported');
  }

  /** A per phase the charger offers the connector now: its profiles, its rating; 0 below 6 A. */
  offeredA(connectorId: number): number {
    const side = this.side(connectorId);
    const atMs = this.now();
    let limit = Math.min(
      this.store.connectorLimitA(connectorId, side.running, atMs),
      this.options.ratedA ?? 32,
    );
    // ChargePointMaxProfile: for all connectors together (3.13.3); the ones before take first.
    const wide = this.store.chargePointLimitA(atMs);
    if (Number.isFinite(wide)) {
      let taken = 0;
      for (const [id] of this.connectors) {
        if (id >= connectorId) break;
        taken += Math.max(...this.drawA(id));
      }
      limit = Math.min(limit, wide - taken);
    }
    return limit >= 6 ? tenthDown(limit) : 0;
  }

  /** What the car draws now on the charger's L1-L3. */
  drawA(connectorId: number): [number, number, number] {
    const { car, running } = this.side(connectorId);
    // Online, the car is there only once the transaction started; offline, from its start.
    if (!car || !running) return [0, 0, 0];
    const offered = this.offeredA(connectorId);
    const a = Math.min(offered * (1 + (this.options.overshoot ?? 0)), car.maxA);
    return car.phases === 1 ? [a, 0, 0] : [a, a, a];
  }

  /** MeterValues for the connector now: the current per phase, the offered current, the register. */
  async sendMeterValues(connectorId: number): Promise<void> {
    const side = this.side(connectorId);
    if (this.options.energyOnly) {
      this.countEnergy(connectorId);
      await this.send('MeterValues', {
        connectorId,
        ...(side.running?.transactionId === undefined ? {} : { transactionId: side.running.transactionId }),
        meterValue: [
          {
            timestamp: this.iso(),
            sampledValue: [
              {
                value: String(Math.floor(side.meterWh)),
                context: 'Sample.Periodic',
                measurand: 'Energy.Active.Import.Register',
                unit: 'Wh',
              },
            ],
          },
        ],
      });
      return;
    }
    const [l1, l2, l3] = this.drawA(connectorId);
    const phase = (value: number | null, p: 'L1' | 'L2' | 'L3') => ({
      value: String(value ?? 0),
      context: 'Sample.Periodic' as const,
      measurand: 'Current.Import' as const,
      phase: p,
      unit: 'A' as const,
    });
    await this.send('MeterValues', {
      connectorId,
      ...(side.running?.transactionId === undefined ? {} : { transactionId: side.running.transactionId }),
      meterValue: [
        {
          timestamp: this.iso(),
          sampledValue: [
            phase(l1, 'L1'),
            phase(l2, 'L2'),
            phase(l3, 'L3'),
            { value: String(this.offeredA(connectorId)), measurand: 'Current.Offered', unit: 'A' },
            { value: String(side.meterWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          ],
        },
      ],
    });
  }

  /** Counts the register up by what the car drew since it was last counted (at 230 V, its draw as it is now). */
  private countEnergy(connectorId: number): void {
    const side = this.side(connectorId);
    const now = this.now();
    const since = side.countedAtMs ?? now;
    side.countedAtMs = now;
    const amps = this.drawA(connectorId).reduce((sum, a) => sum + a, 0);
    side.meterWh += (amps * 230 * (now - since)) / 3_600_000;
  }

  hasConnector(connectorId: number): boolean {
    return this.connectors.has(connectorId);
  }

  statusOf(connectorId: number): Status {
    return this.side(connectorId).status;
  }

  /**
   * Answers a CALL of the central system (its payload already checked by the transport). Throws
   * CallErrorReply for what it does not do.
   */
  protected answer(action: string, request: unknown): object {
    const response = this.respond(action, request);
    this.answered.push({ action, request, response });
    return response;
  }

  private respond(action: string, request: unknown): object {
    if (!(CHARGE_POINT_ACTIONS_ANSWERED as readonly string[]).includes(action)) {
      throw new CallErrorReply('NotImplemented', `${action} is not implemented by this charger`);
    }
    if (
      this.options.noSmartCharging &&
      ['SetChargingProfile', 'ClearChargingProfile', 'GetCompositeSchedule'].includes(action)
    )
      throw new CallErrorReply('NotSupported', `${action}: this charger has no SmartCharging`);
    switch (action as AnsweredAction) {
      case 'SetChargingProfile': {
        const req = request as SetChargingProfileRequest;
        if (!this.hasConnector(req.connectorId) && req.connectorId !== 0) return { status: 'Rejected' };
        const running = req.connectorId === 0 ? undefined : this.side(req.connectorId).running;
        const unknown =
          this.options.strictTransactions &&
          req.csChargingProfiles.transactionId !== undefined &&
          running?.transactionId !== req.csChargingProfiles.transactionId;
        const status = unknown ? 'Rejected' : this.store.set(req, running);
        if (status === 'Accepted') {
          this.accepted.push(structuredClone(req));
          this.afterChange();
        }
        return { status };
      }
      case 'ClearChargingProfile': {
        const status = this.store.clear(request as ClearChargingProfileRequest);
        if (status === 'Accepted') this.afterChange();
        return { status };
      }
      case 'GetCompositeSchedule': {
        const req = request as GetCompositeScheduleRequest;
        if (req.connectorId !== 0 && !this.hasConnector(req.connectorId)) return { status: 'Rejected' };
        const running = req.connectorId === 0 ? undefined : this.side(req.connectorId).running;
        return this.store.composite(req.connectorId, req.duration, req.chargingRateUnit, running, this.now());
      }
      case 'GetConfiguration': {
        const asked = (request as GetConfigurationRequest).key;
        const keys = asked?.length ? asked : Object.keys(this.config);
        const known = keys.filter((key) => key in this.config);
        return {
          configurationKey: known.map((key) => ({
            key,
            readonly: this.config[key]?.readonly ?? true,
            value: this.config[key]?.value ?? '',
          })),
          ...(keys.length > known.length ? { unknownKey: keys.filter((key) => !(key in this.config)) } : {}),
        };
      }
      case 'ChangeConfiguration': {
        const { key, value } = request as ChangeConfigurationRequest;
        const entry = this.config[key];
        if (!entry) return { status: 'NotSupported' };
        if (entry.readonly) return { status: 'Rejected' };
        entry.value = value;
        return { status: 'Accepted' };
      }
      case 'TriggerMessage': {
        const { requestedMessage, connectorId } = request as TriggerMessageRequest;
        if (connectorId !== undefined && connectorId !== 0 && !this.hasConnector(connectorId))
          return { status: 'Rejected' };
        const ids = connectorId ? [connectorId] : [...this.connectors.keys()];
        if (requestedMessage === 'MeterValues') {
          this.later(() => Promise.all(ids.map((id) => this.sendMeterValues(id))));
          return { status: 'Accepted' };
        }
        if (requestedMessage === 'StatusNotification') {
          this.later(() => Promise.all(ids.map((id) => this.report(id, this.side(id).status))));
          return { status: 'Accepted' };
        }
        if (requestedMessage === 'Heartbeat') {
          this.later(() => this.send('Heartbeat', {}));
          return { status: 'Accepted' };
        }
        return { status: 'NotImplemented' };
      }
      case 'RemoteStopTransaction': {
        const { transactionId } = request as RemoteStopTransactionRequest;
        for (const [connectorId, side] of this.connectors) {
          if (side.running?.transactionId !== transactionId) continue;
          this.later(() => this.stopSession(connectorId, { reason: 'Remote', energyWh: 0 }));
          return { status: 'Accepted' };
        }
        return { status: 'Rejected' };
      }
      // No car waits for a remote start in these tests; a charger without one refuses it.
      case 'RemoteStartTransaction':
        return { status: 'Rejected' };
      case 'ChangeAvailability':
        return { status: 'Accepted' };
      case 'ClearCache':
        return { status: 'Accepted' };
      case 'GetLocalListVersion':
        return { listVersion: 0 };
      case 'DataTransfer':
        return { status: 'UnknownVendorId' };
    }
  }

  /** What the charger offers may have changed: report new statuses and draws once the answer is out. */
  private afterChange(): void {
    this.emit('change');
    this.later(async () => {
      for (const connectorId of this.connectors.keys()) await this.reportChanges(connectorId);
      this.emit('reported');
    });
  }

  /**
   * After the current answer went out (a charger answers, then acts): two turns later, since a
   * transport may answer on the next one. Errors end in the test's waits.
   */
  private later(action: () => Promise<unknown>): void {
    setImmediate(() =>
      setImmediate(() => {
        if (this.closing) return;
        action().catch(() => undefined);
      }),
    );
  }

  /** StatusNotification when the status changed, MeterValues when the draw did (or `always`). */
  private async reportChanges(connectorId: number, always = false): Promise<void> {
    const side = this.side(connectorId);
    if (side.running?.transactionId === undefined || !side.car) return;
    const draw = this.drawA(connectorId);
    const status: Status = Math.max(...draw) > 0 ? 'Charging' : 'SuspendedEVSE';
    const fingerprint = `${status} ${draw.join(',')} ${this.offeredA(connectorId)}`;
    if (!always && fingerprint === side.reported) return;
    side.reported = fingerprint;
    if (status !== side.status) await this.report(connectorId, status);
    await this.sendMeterValues(connectorId);
  }

  private async report(connectorId: number, status: Status): Promise<void> {
    this.side(connectorId).status = status;
    await this.send('StatusNotification', {
      connectorId,
      errorCode: 'NoError',
      status,
      timestamp: this.iso(),
    });
  }

  private side(connectorId: number): ConnectorSide {
    const side = this.connectors.get(connectorId);
    if (!side) throw new Error(`${this.identity} has no connector ${connectorId}`);
    return side;
  }

  protected iso(): string {
    return new Date(this.now()).toISOString();
  }
}
