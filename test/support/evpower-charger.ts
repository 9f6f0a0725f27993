import { EventEmitter, once } from 'node:events';
import { OcppClient } from '@evpower/ocpp-ts';
import type { PerPhase } from '../../lib/contracts';
import { NOMINAL_VOLTAGE_V } from '../../lib/electrical';
import type { SetChargingProfileRequest } from '../../lib/ocpp/messages';

type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];

/**
 * A plain, compliant OCPP 1.6-J charger built on a charge-point library that was not written here
 * and is not ocpp-rpc (@evpower/ocpp-ts, pinned). It knows no vendor quirks: it keeps the charging
 * profiles it is sent as OCPP 1.6 §3.13 says (per purpose, connector and stack level; a TxProfile
 * above a TxDefaultProfile; a ChargePointMaxProfile caps the whole charger), and its car takes
 * the lower of that limit and what the car can do, on the phases the car uses. Everything the
 * central system asks is answered from that state, so a test sees what a real charger would do.
 */

export interface PeerCar {
  maxA: number;
  phases: 1 | 3;
}

/** Where `connect` leaves the charger: its transaction per connector and the car's draw. */
interface ConnectorSide {
  transactionId?: number;
  /** StartTransaction was sent: a TxProfile may come before its answer is read (same socket, same turn). */
  starting?: boolean;
  /** Its StartTransaction was answered with an idTagInfo other than Accepted: it is being stopped (§5.18). */
  deauthorized?: boolean;
  car?: PeerCar;
  /** Its energy register (Wh, reported in whole Wh), counted up by what its car draws (integrate()). */
  meterWh: number;
  /** When the register was last counted up (ms). */
  countedAtMs?: number;
  /** A car charging without a transaction (plugInFree): the status last reported for it. */
  free?: 'Charging' | 'SuspendedEVSE' | 'Preparing';
}

export interface EvpowerChargerOptions {
  /**
   * Strict about TxProfiles as OCPP 1.6 §3.13.2 and §5.16 say: one whose transactionId is not a
   * transaction it has been answered (StartTransaction sent, its answer not read yet), or is one it
   * is stopping because its id tag was not Accepted (ConcurrentTx, Invalid, ...), is Rejected.
   * Default false: such a TxProfile arriving while its StartTransaction is on its way is accepted.
   */
  strict?: boolean;
  /**
   * How long it takes (real time, ms) to stop a transaction whose StartTransaction was answered
   * with an id tag status other than Accepted; meanwhile it still runs as far as the central
   * system knows. Default 0: it stops it at once.
   */
  deauthorizedStopDelayMs?: number;
  /**
   * Boots and meters as the Schneider EVlink OCPP guide (vendor doc 003) describes an R7 station:
   * BootNotification from `Schneider Electric`, firmware `3.3.0.7`; `Current.Import` in
   * MeterValuesSampledData is reported without a phase (one value), and only the phase forms it
   * lists (`Current.Import.L1` ...) with their phase (§8: "Phase can be configured (postfix: L1,
   * L2, L3 ...)"). Default: a charger that reports Current.Import on every phase.
   */
  evlink?: boolean;
  /**
   * How long (real time, ms) it takes to answer a SetChargingProfile: a slow link, or a charger
   * that answers late. It takes the profile when it answers (until then it holds what it had).
   * Default 0: at once; `answerDelayMs` on the charger changes it later.
   */
  answerDelayMs?: number;
  /**
   * Its GetConfiguration lacks ChargeProfileMaxStackLevel (OCPP 1.6 §9.4 requires it with
   * SmartCharging; independent simulators' templates leave it out): it still stacks by level and
   * purpose as §3.13 says. Default: 8.
   */
  withoutMaxStackLevel?: boolean;
  /**
   * Whether it reports its draw right after a change of what it allows (a new profile, one
   * cleared). Default true; false: only every MeterValueSampleInterval (and once at the start of a
   * session), as many chargers do (the independent simulator's templates of issue 45 reported
   * every 10 s, whatever changed).
   */
  reportsAfterChange?: boolean;
  /**
   * Reports every this many seconds from its boot on, whatever it is asked: its
   * MeterValueSampleInterval is read-only at this value (a ChangeConfiguration of it is Rejected).
   * Default: 60 s until a central system changes it.
   */
  fixedSampleIntervalS?: number;
  /** Stamps its meter values in whole seconds (the second they were taken in), as most chargers do. Default false. */
  wholeSecondStamps?: boolean;
}

/**
 * Events: `profile` for each SetChargingProfile it accepted; `change` whenever what it allows its
 * connectors may have changed (a profile installed or cleared), so a test waits for that.
 */
export class EvpowerCharger extends EventEmitter<{
  profile: [SetChargingProfileRequest];
  rejected: [SetChargingProfileRequest];
  change: [];
}> {
  readonly client: OcppClient;
  /** Every SetChargingProfile it accepted, in order. */
  readonly profiles: SetChargingProfileRequest[] = [];
  /** Every SetChargingProfile it rejected, in order. */
  readonly rejected: SetChargingProfileRequest[] = [];
  private readonly installed = new Map<string, { connectorId: number; profile: ChargingProfile }>();
  private readonly connectors = new Map<number, ConnectorSide>();
  /** Its configuration keys a central system may change. */
  private readonly writable: Record<string, string> = {
    MeterValueSampleInterval: '60',
    MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import',
  };
  private closed = false;
  /** Reports its cars' draw every MeterValueSampleInterval, as a charger does (none at 0). */
  private sampler: ReturnType<typeof setInterval> | undefined;
  /** Whether the socket is open (the central system may have closed it first). */
  private open = false;
  /** How long it takes to answer a SetChargingProfile from now on (EvpowerChargerOptions.answerDelayMs). */
  answerDelayMs: number;
  /** SetChargingProfile requests it has not answered yet (answerDelayMs). */
  private readonly answering = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    readonly identity: string,
    private readonly connectorCount = 1,
    private readonly options: EvpowerChargerOptions = {},
  ) {
    super();
    this.answerDelayMs = options.answerDelayMs ?? 0;
    if (options.fixedSampleIntervalS !== undefined) delete this.writable.MeterValueSampleInterval;
    this.client = new OcppClient(identity, 5000);
    // A failed connect or a protocol error reaches the test through the calls that fail.
    this.client.on('error', () => undefined);
    this.client.on('connect', () => {
      this.open = true;
    });
    this.client.on('close', () => {
      this.open = false;
    });
    for (let id = 1; id <= connectorCount; id++) this.connectors.set(id, { meterWh: 0 });
    this.answerCommands();
  }

  /** Connects to `url` (the central system's URL ending in /) and boots. */
  async connect(url: string): Promise<void> {
    const connected = once(this.client, 'connect');
    this.client.connect(url.endsWith('/') ? url : `${url}/`);
    await connected;
    const boot = await this.client.callRequest(
      'BootNotification',
      this.options.evlink
        ? {
            chargePointVendor: 'Schneider Electric',
            chargePointModel: 'EVlink Pro AC',
            firmwareVersion: '3.3.0.7',
          }
        : { chargePointVendor: 'PeerTest', chargePointModel: 'evpower-ocpp-ts' },
    );
    if (boot.status !== 'Accepted') throw new Error(`${this.identity} was not accepted: ${boot.status}`);
    for (let id = 0; id <= this.connectorCount; id++) await this.status(id, 'Available');
    if (this.options.fixedSampleIntervalS !== undefined) this.sample(this.options.fixedSampleIntervalS);
  }

  status(
    connectorId: number,
    status: 'Available' | 'Preparing' | 'Charging' | 'SuspendedEVSE' | 'Finishing',
  ) {
    return this.client.callRequest('StatusNotification', {
      connectorId,
      errorCode: 'NoError',
      status,
      timestamp: new Date().toISOString(),
    });
  }

  /** A car plugs in, the tag is authorized and the transaction starts: Preparing, then Charging. */
  async startSession(connectorId: number, idTag: string, car: PeerCar): Promise<string> {
    const side = this.side(connectorId);
    await this.status(connectorId, 'Preparing');
    const authorized = await this.client.callRequest('Authorize', { idTag });
    side.starting = true;
    const start = await this.client.callRequest('StartTransaction', {
      connectorId,
      idTag,
      meterStart: Math.floor(side.meterWh),
      timestamp: new Date().toISOString(),
    });
    side.transactionId = start.transactionId;
    side.starting = false;
    if (start.idTagInfo.status !== 'Accepted') {
      // OCPP 1.6 §5.18: a charger stops a transaction whose tag is not Accepted.
      side.deauthorized = true;
      try {
        const delayMs = this.options.deauthorizedStopDelayMs ?? 0;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        await this.stopSession(connectorId, 'DeAuthorized');
      } finally {
        side.deauthorized = false;
      }
      return start.idTagInfo.status;
    }
    side.car = car;
    side.countedAtMs = Date.now();
    await this.status(connectorId, 'Charging');
    await this.sendMeterValues(connectorId);
    return authorized.idTagInfo.status;
  }

  /**
   * Free charging without a transaction, as Bender's free-charging modes 2 and 3 (vendor doc 002
   * §5.2: without a transaction id "the charge point will only send status messages"): a car plugs
   * in and charges at what the profiles allow (a TxDefaultProfile; no TxProfile without a
   * transaction), reported by StatusNotification alone: Charging, or SuspendedEVSE below 6 A. No
   * StartTransaction, no MeterValues.
   */
  async plugInFree(connectorId: number, car: PeerCar): Promise<void> {
    const side = this.side(connectorId);
    side.car = car;
    side.free = 'Preparing';
    this.emit('change');
    await this.status(connectorId, 'Preparing');
    await this.reportFree(connectorId);
  }

  /** The car of a free session leaves: Finishing, then Available; nothing else is sent. */
  async unplugFree(connectorId: number): Promise<void> {
    const side = this.side(connectorId);
    side.car = undefined;
    side.free = undefined;
    this.emit('change');
    await this.status(connectorId, 'Finishing');
    await this.status(connectorId, 'Available');
  }

  /** A free session's status after what it offers may have changed, when it changed. */
  private async reportFree(connectorId: number): Promise<void> {
    const side = this.side(connectorId);
    if (!side.free) return;
    const status = Math.max(...this.drawA(connectorId).map((a) => a ?? 0)) > 0 ? 'Charging' : 'SuspendedEVSE';
    if (status === side.free) return;
    side.free = status;
    await this.status(connectorId, status);
  }

  /**
   * The transaction ends. `beforeStop`: what happens after it ended on the charger and before its
   * StopTransaction goes (a real charger's queue: a TxProfile for it then is rejected).
   */
  async stopSession(
    connectorId: number,
    reason: 'Local' | 'DeAuthorized' = 'Local',
    beforeStop?: () => Promise<void>,
  ): Promise<void> {
    const side = this.side(connectorId);
    const transactionId = side.transactionId;
    if (transactionId === undefined) return;
    side.meterWh += 1000;
    if (beforeStop) {
      side.transactionId = undefined;
      side.car = undefined;
      await beforeStop();
    }
    await this.client.callRequest('StopTransaction', {
      transactionId,
      meterStop: Math.floor(side.meterWh),
      timestamp: new Date().toISOString(),
      reason,
    });
    side.transactionId = undefined;
    side.car = undefined;
    await this.status(connectorId, 'Finishing');
  }

  /** What the charger allows the connector now, in A per phase (Infinity: no profile limits it). */
  limitA(connectorId: number): number {
    const side = this.side(connectorId);
    const cap = this.highest(0, 'ChargePointMaxProfile');
    const tx =
      (side.transactionId !== undefined
        ? this.highest(connectorId, 'TxProfile', side.transactionId)
        : undefined) ??
      this.highest(connectorId, 'TxDefaultProfile') ??
      this.highest(0, 'TxDefaultProfile');
    return Math.min(cap ?? Number.POSITIVE_INFINITY, tx ?? Number.POSITIVE_INFINITY);
  }

  /** What the car draws now on the charger's phases L1-L3. */
  drawA(connectorId: number): PerPhase {
    const { car } = this.side(connectorId);
    if (!car) return [0, 0, 0];
    const limit = this.limitA(connectorId);
    const a = limit < 6 ? 0 : Math.min(limit, car.maxA);
    return car.phases === 1 ? [a, 0, 0] : [a, a, a];
  }

  /**
   * Counts the energy register up by what the car drew since it was last counted (at 230 V, the
   * draw as it is now; from the start of the session): a charger's register moves while it
   * charges, so a reading a few seconds after the last one differs from it even at the same
   * current, as a real meter's does. (Before, it never moved: two readings at the same current
   * were one measurement to the load manager, and a lone car waited for its ramp.)
   */
  private integrate(connectorId: number): void {
    const side = this.side(connectorId);
    const now = Date.now();
    const since = side.countedAtMs ?? now;
    side.countedAtMs = now;
    const amps = this.drawA(connectorId).reduce((sum: number, a) => sum + (a ?? 0), 0);
    side.meterWh += (amps * 230 * (now - since)) / 3_600_000;
  }

  /** Reports what the car draws now (Current.Import per phase), as a charger does after a change. */
  async sendMeterValues(connectorId: number): Promise<void> {
    const side = this.side(connectorId);
    this.integrate(connectorId);
    const nowMs = Date.now();
    const timestamp = new Date(this.options.wholeSecondStamps ? nowMs - (nowMs % 1000) : nowMs).toISOString();
    const [l1, l2, l3] = this.drawA(connectorId);
    const current = (value: number | null, phase: 'L1' | 'L2' | 'L3') => ({
      value: String(value ?? 0),
      measurand: 'Current.Import' as const,
      unit: 'A' as const,
      phase,
    });
    await this.client.callRequest('MeterValues', {
      connectorId,
      ...(side.transactionId === undefined ? {} : { transactionId: side.transactionId }),
      meterValue: [
        {
          timestamp,
          sampledValue: [
            ...(this.options.evlink
              ? this.evlinkCurrents([l1, l2, l3])
              : [current(l1, 'L1'), current(l2, 'L2'), current(l3, 'L3')]),
            {
              value: String(Math.floor(side.meterWh)),
              measurand: 'Energy.Active.Import.Register',
              unit: 'Wh',
            },
          ],
        },
      ],
    });
  }

  /**
   * The currents an EVlink reports: each phase form MeterValuesSampledData lists, with its phase;
   * plain `Current.Import` (listed, and no phase form) as one value without a phase, the highest.
   */
  private evlinkCurrents(draw: PerPhase) {
    const listed = this.writable.MeterValuesSampledData?.split(',').map((item) => item.trim()) ?? [];
    const phases = (['L1', 'L2', 'L3'] as const).filter((phase) =>
      listed.includes(`Current.Import.${phase}`),
    );
    if (phases.length > 0)
      return phases.map((phase) => ({
        value: String(draw[['L1', 'L2', 'L3'].indexOf(phase)] ?? 0),
        measurand: 'Current.Import' as const,
        unit: 'A' as const,
        phase,
      }));
    if (!listed.includes('Current.Import')) return [];
    return [
      {
        value: String(Math.max(...draw.map((a) => a ?? 0))),
        measurand: 'Current.Import' as const,
        unit: 'A' as const,
      },
    ];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sampler);
    for (const timer of this.answering) clearTimeout(timer);
    this.answering.clear();
    if (!this.open) return;
    const closed = once(this.client, 'close');
    this.client.close();
    await closed;
  }

  /** A writable configuration key as the charger has it now (what the central system set). */
  written(key: string): string {
    return this.writable[key] ?? '';
  }

  hasConnector(connectorId: number): boolean {
    return this.connectors.has(connectorId);
  }

  private side(connectorId: number): ConnectorSide {
    const side = this.connectors.get(connectorId);
    if (!side) throw new Error(`${this.identity} has no connector ${connectorId}`);
    return side;
  }

  /** The limit of the highest stack level of `purpose` installed on `connectorId`, in A. */
  private highest(connectorId: number, purpose: string, transactionId?: number): number | undefined {
    let best: ChargingProfile | undefined;
    for (const entry of this.installed.values()) {
      const profile = entry.profile;
      if (entry.connectorId !== connectorId || profile.chargingProfilePurpose !== purpose) continue;
      if (
        transactionId !== undefined &&
        profile.transactionId !== undefined &&
        profile.transactionId !== transactionId
      )
        continue;
      if (!best || profile.stackLevel > best.stackLevel) best = profile;
    }
    if (!best) return undefined;
    const period = best.chargingSchedule.chargingSchedulePeriod[0];
    if (!period) return undefined;
    if (best.chargingSchedule.chargingRateUnit === 'A') return period.limit;
    return period.limit / (NOMINAL_VOLTAGE_V * (period.numberPhases ?? 3));
  }

  /** Whether a TxProfile may be installed on the connector: it needs a transaction (§3.13.2, §5.16). */
  private takesTxProfile(side: ConnectorSide, profile: ChargingProfile): boolean {
    if (!this.options.strict) return side.transactionId !== undefined || side.starting === true;
    // Only a transaction whose StartTransaction answer it read, and which it keeps running.
    return (
      side.transactionId !== undefined &&
      !side.deauthorized &&
      (profile.transactionId === undefined || profile.transactionId === side.transactionId)
    );
  }

  /** Runs `answer` now, or after answerDelayMs (not at all once the charger is closed). */
  private afterAnswerDelay(answer: () => void): void {
    if (this.answerDelayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.answering.delete(timer);
      if (!this.closed) answer();
    }, this.answerDelayMs);
    this.answering.add(timer);
  }

  private answerCommands(): void {
    const c = this.client;
    c.on('SetChargingProfile', (request, cb) =>
      this.afterAnswerDelay(() => {
        const profile = request.csChargingProfiles as ChargingProfile;
        // Connector 0 (the charger as a whole) has no side: only strict takes profiles there (the
        // default answers them InternalError, as it always did).
        const side =
          this.options.strict && request.connectorId === 0 ? undefined : this.side(request.connectorId);
        if (
          profile.chargingProfilePurpose === 'TxProfile' &&
          (!side || !this.takesTxProfile(side, profile))
        ) {
          this.rejected.push(request as SetChargingProfileRequest);
          cb({ status: 'Rejected' }); // §5.16: a TxProfile needs a transaction
          this.emit('rejected', request as SetChargingProfileRequest);
          return;
        }
        // A profile with the same id, or the same purpose and stack level, replaces the old one (§3.13.2).
        for (const [key, entry] of this.installed) {
          const old = entry.profile;
          if (
            old.chargingProfileId === profile.chargingProfileId ||
            (entry.connectorId === request.connectorId &&
              old.chargingProfilePurpose === profile.chargingProfilePurpose &&
              old.stackLevel === profile.stackLevel)
          )
            this.installed.delete(key);
        }
        this.installed.set(String(profile.chargingProfileId), { connectorId: request.connectorId, profile });
        this.profiles.push(request as SetChargingProfileRequest);
        cb({ status: 'Accepted' });
        this.emit('profile', request as SetChargingProfileRequest);
        this.emit('change');
        this.afterChange();
      }),
    );
    c.on('ClearChargingProfile', (request, cb) => {
      let cleared = false;
      for (const [key, { connectorId, profile }] of this.installed) {
        if (request.id !== undefined && profile.chargingProfileId !== request.id) continue;
        if (request.connectorId !== undefined && connectorId !== request.connectorId) continue;
        if (
          request.chargingProfilePurpose &&
          profile.chargingProfilePurpose !== request.chargingProfilePurpose
        )
          continue;
        if (request.stackLevel !== undefined && profile.stackLevel !== request.stackLevel) continue;
        this.installed.delete(key);
        cleared = true;
      }
      cb({ status: cleared ? 'Accepted' : 'Unknown' });
      if (!cleared) return;
      this.emit('change');
      this.afterChange();
    });
    c.on('GetCompositeSchedule', (request, cb) => {
      const limit = this.limitA(request.connectorId || 1);
      if (!Number.isFinite(limit)) {
        cb({ status: 'Accepted', connectorId: request.connectorId });
        return;
      }
      cb({
        status: 'Accepted',
        connectorId: request.connectorId,
        scheduleStart: new Date().toISOString(),
        chargingSchedule: {
          duration: request.duration,
          chargingRateUnit: 'A',
          chargingSchedulePeriod: [{ startPeriod: 0, limit: Math.floor(limit * 10) / 10 }],
        },
      });
    });
    c.on('GetConfiguration', (request, cb) => {
      const keys: Record<string, string> = {
        ...(this.options.fixedSampleIntervalS === undefined
          ? {}
          : { MeterValueSampleInterval: String(this.options.fixedSampleIntervalS) }),
        ...(this.options.withoutMaxStackLevel ? {} : { ChargeProfileMaxStackLevel: '8' }),
        ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
        MaxChargingProfilesInstalled: '16',
        NumberOfConnectors: String(this.connectorCount),
        SupportedFeatureProfiles: 'Core,SmartCharging,RemoteTrigger',
        ...this.writable,
      };
      const asked = request.key?.length ? request.key : Object.keys(keys);
      cb({
        configurationKey: asked
          .filter((k) => k in keys)
          .map((key) => ({ key, readonly: !(key in this.writable), value: keys[key] })),
        unknownKey: asked.filter((k) => !(k in keys)),
      });
    });
    // The two sampling keys are read-write, as OCPP 1.6 (9.1) requires of every charger; what it
    // measures stays what sendMeterValues sends (the keys are kept, not acted on).
    c.on('ChangeConfiguration', (request, cb) => {
      if (!(request.key in this.writable)) {
        cb({ status: request.key === 'MeterValueSampleInterval' ? 'Rejected' : 'NotSupported' });
        return;
      }
      this.writable[request.key] = request.value;
      cb({ status: 'Accepted' });
      if (request.key === 'MeterValueSampleInterval') this.sample(Number(request.value));
    });
    c.on('TriggerMessage', (request, cb) => {
      const connectorId = request.connectorId ?? 1;
      if (request.requestedMessage !== 'MeterValues' || !this.connectors.has(connectorId)) {
        cb({ status: 'Rejected' });
        return;
      }
      cb({ status: 'Accepted' });
      setImmediate(() => this.sendMeterValues(connectorId).catch(() => undefined));
    });
    c.on('RemoteStartTransaction', (_request, cb) => cb({ status: 'Rejected' }));
    c.on('RemoteStopTransaction', (_request, cb) => cb({ status: 'Rejected' }));
  }

  /**
   * Its periodic sample falls now: its cars' draw now, and every interval from now on (a test puts
   * the phase of its reporting where it wants it).
   */
  sampleNow(): void {
    const seconds = this.options.fixedSampleIntervalS ?? Number(this.writable.MeterValueSampleInterval);
    this.sample(seconds);
    for (const [connectorId, side] of this.connectors)
      if (side.car && !side.free) this.sendMeterValues(connectorId).catch(() => undefined);
  }

  /** Its cars' draw every `seconds` (what MeterValueSampleInterval asks for; 0: none). */
  private sample(seconds: number): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
    if (this.closed || !(seconds > 0)) return;
    this.sampler = setInterval(() => {
      for (const [connectorId, side] of this.connectors)
        if (side.car && !side.free) this.sendMeterValues(connectorId).catch(() => undefined);
    }, seconds * 1000);
    this.sampler.unref();
  }

  /** A charger reports its new draw once its car has followed a changed limit. */
  private afterChange(): void {
    if (this.closed) return;
    setImmediate(() => {
      for (const [connectorId, side] of this.connectors) {
        if (side.free) this.reportFree(connectorId).catch(() => undefined);
        else if (side.car && this.options.reportsAfterChange !== false)
          this.sendMeterValues(connectorId).catch(() => undefined);
      }
    });
  }
}
