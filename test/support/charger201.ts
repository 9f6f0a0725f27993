import { randomUUID } from 'node:crypto';
import type { OCPP20 } from 'typed-ocpp';
import {
  addressOf,
  type Component,
  type DeviceVariable,
  defaultVariables,
  fitsVariable,
  variableKey,
} from './charger201-device-model';
import { ProfileStack, type RunningTransaction } from './charger201-profiles';
import type { Action, RequestOf, ResponseOf, WireOptions } from './charger201-wire';
import { CallError, Charger201Wire } from './charger201-wire';

export type { ErrorCode, ReceivedCall, RequestOf, ResponseOf } from './charger201-wire';
export { CallError } from './charger201-wire';

/**
 * An OCPP 2.0.1 charging station for tests, written from the specification on plain `ws`, with
 * typed-ocpp's copy of the OCA JSON schemas (its OCPP20 namespace) as the judge of every frame. It
 * shares nothing with ocpp-rpc, the RPC library of the product, nor with the package's simulator.
 *
 * - OCPP-J 2.0.1 (charger201-wire.ts, which it extends): one CALL at a time, each valid before it
 *   goes; each CALL of the CSMS answered on a later turn, or refused with the 2.0.1 CALLERROR for
 *   it; whatever the CSMS does against the specification goes into `violations` (tests assert none).
 * - As a station it keeps its EVSEs' transactions, the charging profiles of block K
 *   (charger201-profiles.ts) and a tiny device model, and answers every CSMS action validly;
 *   `answerWith` overrides an answer. With `queueOffline(true)` TransactionEvents wait in order,
 *   marked offline, until `queueOffline(false)`.
 */

/** The actions a CSMS sends a charging station: those the charger answers. */
export type CsmsAction = keyof Charger201['answers'];
export type Answer<A extends Action> = (request: RequestOf<A>) => ResponseOf<A>;
type TransactionEvent = RequestOf<'TransactionEvent'>;
type SampledValue = OCPP20.SampledValueType;
type ConnectorStatus = RequestOf<'StatusNotification'>['connectorStatus'];
type StoppedReason = NonNullable<TransactionEvent['transactionInfo']['stoppedReason']>;
type IdToken = RequestOf<'Authorize'>['idToken'];
type ReportData = NonNullable<RequestOf<'NotifyReport'>['reportData']>[number];
export interface Charger201Options extends WireOptions {
  evses?: number;
  vendorName?: string;
  model?: string;
  /** false: a TxProfile for a transaction it does not know is accepted, as lenient stations do. */
  strict?: boolean;
  /** What each EVSE gives per phase without a profile, A. Default 32. */
  ratedA?: number;
  /**
   * DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage (for GetVariables): reported, and a
   * GetVariables over either refused with a CALLERROR (B06). Default: none, no limit.
   */
  getVariablesLimits?: { items: number; bytes: number };
  /** Wall-clock time for timestamps and schedules. Default Date.now. */
  now?: () => number;
}

export interface Transaction extends RunningTransaction {
  evseId: number;
  /** The next TransactionEvent's seqNo. */
  seqNo: number;
  idToken: IdToken;
  energyWh: number;
}

export class Charger201 extends Charger201Wire {
  readonly profiles: ProfileStack;
  /**
   * The device model (charger201-device-model.ts): `Component.Variable` → value, an EVSE's as
   * `EVSE[id].Variable`. Delete a component's variables and the charger does not have it.
   */
  readonly variables: Map<string, DeviceVariable>;
  private readonly evses = new Map<number, { connectorStatus: ConnectorStatus; running?: Transaction }>();
  private readonly now: () => number;
  private offline = false;
  private readonly offlineQueue: { request: TransactionEvent; done: (sent: Promise<object>) => void }[] = [];
  private readonly overrides = new Map<string, (request: never) => object>();
  private readonly reservations = new Set<number>();
  private localListVersion = 0;

  constructor(override readonly options: Charger201Options) {
    super(options);
    this.now = options.now ?? Date.now;
    const evses = options.evses ?? 1;
    for (let id = 1; id <= evses; id++) this.evses.set(id, { connectorStatus: 'Available' });
    this.variables = defaultVariables(evses);
    const limits = options.getVariablesLimits;
    if (limits) {
      this.variables.set('DeviceDataCtrlr.ItemsPerMessage', { value: String(limits.items), readonly: true });
      this.variables.set('DeviceDataCtrlr.BytesPerMessage', { value: String(limits.bytes), readonly: true });
    }
    const variable = (name: string) => this.variables.get(`SmartChargingCtrlr.${name}`)?.value ?? '';
    this.profiles = new ProfileStack({
      evses,
      ratedA: options.ratedA ?? 32,
      voltageV: 230,
      strict: options.strict ?? true,
      enabled: () => variable('Enabled') === 'true',
      maxStackLevel: () => Number(variable('ProfileStackLevel')),
      maxPeriods: () => Number(variable('PeriodsPerSchedule')),
      maxEntries: () => Number(variable('Entries')),
      rateUnits: () => variable('RateUnit').split(','),
      running: (evseId) => this.transactionOn(evseId),
    });
  }

  /** Sends any 2.0.1 CALL (valid, or it rejects without sending); resolves with the CSMS's answer. */
  send<A extends Action>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    if (action === 'TransactionEvent' && this.offline) {
      const request = { ...(payload as TransactionEvent), offline: true };
      return new Promise<object>((done) => this.offlineQueue.push({ request, done })) as Promise<
        ResponseOf<A>
      >;
    }
    return this.call(action, payload);
  }

  /** On: TransactionEvents wait, marked offline. Off: they go in order; resolves once all are answered. */
  async queueOffline(on: boolean): Promise<void> {
    this.offline = on;
    if (on) return;
    const sends = this.offlineQueue.splice(0).map(({ request, done }) => {
      const sent = this.send('TransactionEvent', request);
      done(sent);
      return sent;
    });
    await Promise.all(sends);
  }

  /** Overrides the answer to `action` (undefined: back to the default); throw a CallError to send one. */
  answerWith<A extends CsmsAction>(action: A, answer: NoInfer<Answer<A>> | undefined): void {
    if (answer) this.overrides.set(action, answer as (request: never) => object);
    else this.overrides.delete(action);
  }

  boot(reason: RequestOf<'BootNotification'>['reason'] = 'PowerUp') {
    const { model = 'Charger201', vendorName = 'TestVendor' } = this.options;
    const serialNumber = this.identity.slice(0, 25);
    const chargingStation = { model, vendorName, serialNumber, firmwareVersion: '1.0.0' };
    return this.send('BootNotification', { reason, chargingStation });
  }

  heartbeat() {
    return this.send('Heartbeat', {});
  }

  status(evseId: number, connectorStatus: ConnectorStatus, connectorId = 1) {
    this.evse(evseId).connectorStatus = connectorStatus;
    const timestamp = this.timestamp();
    return this.send('StatusNotification', { timestamp, connectorStatus, evseId, connectorId });
  }

  authorize(idToken: string, type: IdToken['type'] = 'ISO14443') {
    return this.send('Authorize', { idToken: { idToken, type } });
  }

  /** TransactionEvent Started. The transaction runs from the call on (see `transactionOn`), even offline. */
  async startTransaction(
    evseId: number,
    idToken: string,
    options: { meterWh?: number; remoteStartId?: number; type?: IdToken['type'] } = {},
  ) {
    const evse = this.evse(evseId);
    if (evse.running) throw new Error(`${this.identity}: EVSE ${evseId} runs ${evse.running.transactionId}`);
    const { meterWh = 0, remoteStartId, type = 'ISO14443' } = options;
    const [transactionId, startedAtMs] = [randomUUID(), this.now()];
    const tx: Transaction = {
      transactionId,
      startedAtMs,
      evseId,
      seqNo: 0,
      energyWh: meterWh,
      idToken: { idToken, type },
    };
    evse.running = tx;
    const trigger = remoteStartId === undefined ? 'Authorized' : 'RemoteStart';
    const response = await this.transactionEvent(tx, 'Started', trigger, {
      transactionInfo: { transactionId, chargingState: 'Charging', remoteStartId },
      evse: { id: evseId, connectorId: 1 },
      idToken: tx.idToken,
      meterValue: [
        this.meterValue([this.sample(meterWh, 'Energy.Active.Import.Register', 'Transaction.Begin')]),
      ],
    });
    return { transactionId, response };
  }

  /** TransactionEvent Updated, MeterValuePeriodic: current per phase, A; the energy register, Wh. */
  meterValues(transactionId: string, reading: { currentA: number[]; energyWh: number; voltageV?: number }) {
    const tx = this.transaction(transactionId);
    tx.energyWh = reading.energyWh;
    const context = 'Sample.Periodic';
    const sampledValue = [this.sample(reading.energyWh, 'Energy.Active.Import.Register', context)];
    const phases = ['L1', 'L2', 'L3'] as const;
    phases.forEach((phase, i) => {
      const currentA = reading.currentA[i];
      if (currentA !== undefined) sampledValue.push(this.sample(currentA, 'Current.Import', context, phase));
      if (reading.voltageV !== undefined)
        sampledValue.push(this.sample(reading.voltageV, 'Voltage', context, `${phase}-N`));
    });
    return this.transactionEvent(tx, 'Updated', 'MeterValuePeriodic', {
      transactionInfo: { transactionId },
      meterValue: [this.meterValue(sampledValue)],
    });
  }

  /** TransactionEvent Updated, ChargingStateChanged. */
  chargingState(transactionId: string, chargingState: OCPP20.ChargingState) {
    const tx = this.transaction(transactionId);
    return this.transactionEvent(tx, 'Updated', 'ChargingStateChanged', {
      transactionInfo: { transactionId, chargingState },
    });
  }

  /** TransactionEvent Ended, `energyWh` the register at the end; the car stays plugged in unless it left. */
  stopTransaction(transactionId: string, options: { energyWh?: number; stoppedReason?: StoppedReason } = {}) {
    const tx = this.transaction(transactionId);
    const { energyWh = tx.energyWh, stoppedReason = 'Local' } = options;
    const triggers = {
      Local: 'StopAuthorized',
      Remote: 'RemoteStop',
      EVDisconnected: 'EVCommunicationLost',
    } as const;
    const triggerReason = triggers[stoppedReason as keyof typeof triggers] ?? 'AbnormalCondition';
    const chargingState = stoppedReason === 'EVDisconnected' ? 'Idle' : 'EVConnected';
    this.evse(tx.evseId).running = undefined;
    this.profiles.endTransaction(transactionId); // TxProfiles end with their transaction
    const end = this.sample(energyWh, 'Energy.Active.Import.Register', 'Transaction.End');
    return this.transactionEvent(tx, 'Ended', triggerReason, {
      transactionInfo: { transactionId, chargingState, stoppedReason },
      ...(triggerReason === 'StopAuthorized' ? { idToken: tx.idToken } : {}),
      meterValue: [this.meterValue([end])],
    });
  }

  /** The transaction running on the EVSE, if one does. */
  transactionOn(evseId: number): Transaction | undefined {
    return this.evses.get(evseId)?.running;
  }

  /** The current per phase the EVSE offers now under its charging profiles, A. */
  offeredA(evseId: number): number {
    return this.profiles.limitAt(evseId, this.now()).limitA;
  }

  private transactionEvent(
    tx: Transaction,
    eventType: TransactionEvent['eventType'],
    triggerReason: TransactionEvent['triggerReason'],
    rest: Omit<TransactionEvent, 'eventType' | 'triggerReason' | 'timestamp' | 'seqNo'>,
  ) {
    const [seqNo, timestamp] = [tx.seqNo++, this.timestamp()];
    return this.send('TransactionEvent', { eventType, timestamp, triggerReason, seqNo, ...rest });
  }

  private meterValue(sampledValue: SampledValue[]): OCPP20.MeterValueType {
    return { timestamp: this.timestamp(), sampledValue };
  }

  private sample(
    value: number,
    measurand: 'Energy.Active.Import.Register' | 'Current.Import' | 'Voltage',
    context: SampledValue['context'],
    phase?: SampledValue['phase'],
  ): SampledValue {
    const unit = { 'Energy.Active.Import.Register': 'Wh', 'Current.Import': 'A', Voltage: 'V' }[measurand];
    return { value, measurand, context, ...(phase ? { phase } : {}), unitOfMeasure: { unit } };
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }

  private evse(evseId: number) {
    const evse = this.evses.get(evseId);
    if (!evse) throw new Error(`${this.identity} has no EVSE ${evseId}`);
    return evse;
  }

  private transaction(transactionId: string): Transaction {
    const evse = [...this.evses.values()].find(({ running }) => running?.transactionId === transactionId);
    if (!evse?.running) throw new Error(`${this.identity} runs no transaction ${transactionId}`);
    return evse.running;
  }

  protected answerFor(action: string): ((request: unknown) => object) | undefined {
    if (!(action in this.answers)) return undefined;
    return (this.overrides.get(action) ?? this.answers[action as CsmsAction]) as (request: unknown) => object;
  }

  private readonly answers = {
    CancelReservation: (r) => ({
      status: this.reservations.delete(r.reservationId) ? 'Accepted' : 'Rejected',
    }),
    CertificateSigned: () => ({ status: 'Accepted' }),
    ChangeAvailability: () => ({ status: 'Accepted' }),
    ClearCache: () => ({ status: 'Accepted' }),
    ClearChargingProfile: (r) => this.profiles.clear(r),
    ClearDisplayMessage: () => ({ status: 'Unknown' }),
    ClearVariableMonitoring: (r) => ({
      clearMonitoringResult: r.id.map((id) => ({ id, status: 'NotFound' })),
    }),
    CostUpdated: () => ({}),
    CustomerInformation: () => ({ status: 'Accepted' }),
    DataTransfer: () => ({ status: 'UnknownVendorId' }),
    DeleteCertificate: () => ({ status: 'NotFound' }),
    GetBaseReport: (r) => this.report(r.requestId, [...this.variables.keys()]),
    GetChargingProfiles: (r) => {
      const reports = this.profiles.reports(r);
      for (const report of reports) this.later(() => this.send('ReportChargingProfiles', report));
      return { status: reports.length > 0 ? 'Accepted' : 'NoProfiles' };
    },
    GetCompositeSchedule: (r) => this.profiles.compositeSchedule(r, this.now()),
    GetDisplayMessages: () => ({ status: 'Unknown' }),
    GetInstalledCertificateIds: () => ({ status: 'NotFound' }),
    GetLocalListVersion: () => ({ versionNumber: this.localListVersion }),
    GetLog: (r) => {
      for (const status of ['Uploading', 'Uploaded'] as const)
        this.later(() => this.send('LogStatusNotification', { status, requestId: r.requestId }));
      return { status: 'Accepted', filename: `${this.identity}.log` };
    },
    GetMonitoringReport: () => ({ status: 'EmptyResultSet' }),
    GetReport: (r) => {
      const asked = (key: string) => {
        const place = addressOf(key);
        const named = ({ component, variable }: NonNullable<typeof r.componentVariable>[number]) =>
          component.name === place.component.name &&
          (component.evse === undefined || component.evse.id === place.component.evse?.id) &&
          (variable?.name ?? place.variable.name) === place.variable.name;
        return r.componentVariable?.some(named) ?? true;
      };
      return this.report(r.requestId, r.componentCriteria ? [] : [...this.variables.keys()].filter(asked));
    },
    GetTransactionStatus: (r) => ({
      messagesInQueue: this.offlineQueue.some(
        ({ request }) => !r.transactionId || request.transactionInfo.transactionId === r.transactionId,
      ),
      ...(r.transactionId ? { ongoingIndicator: this.transactionIs(r.transactionId) } : {}),
    }),
    GetVariables: (r) => {
      const limits = this.options.getVariablesLimits;
      if (limits && r.getVariableData.length > limits.items)
        throw new CallError('OccurrenceConstraintViolation', `more than ${limits.items} items`);
      const bytes = this.received.at(-1)?.bytes ?? 0;
      if (limits && bytes > limits.bytes)
        throw new CallError('FormatViolation', `${bytes} bytes, more than ${limits.bytes}`);
      return this.variableResults(r);
    },
    InstallCertificate: () => ({ status: 'Accepted' }),
    PublishFirmware: () => ({ status: 'Rejected' }), // a Local Controller's
    RequestStartTransaction: (r) => {
      const evseId = r.evseId ?? 1;
      if (!this.evses.has(evseId) || this.transactionOn(evseId)) return { status: 'Rejected' };
      this.later(() => {
        const { idToken, type } = r.idToken;
        const started = this.startTransaction(evseId, idToken, { remoteStartId: r.remoteStartId, type });
        const transactionId = this.transactionOn(evseId)?.transactionId;
        if (r.chargingProfile)
          this.profiles.set({ evseId, chargingProfile: { ...r.chargingProfile, transactionId } });
        return started;
      });
      return { status: 'Accepted' };
    },
    RequestStopTransaction: (r) => {
      if (!this.transactionIs(r.transactionId)) return { status: 'Rejected' };
      this.later(() => this.stopTransaction(r.transactionId, { stoppedReason: 'Remote' }));
      return { status: 'Accepted' };
    },
    ReserveNow: (r) => {
      this.reservations.add(r.id);
      return { status: 'Accepted' };
    },
    Reset: () => ({ status: 'Accepted' }),
    SendLocalList: (r) => {
      this.localListVersion = r.versionNumber;
      return { status: 'Accepted' };
    },
    SetChargingProfile: (r) => this.profiles.set(r),
    SetDisplayMessage: () => ({ status: 'Accepted' }),
    SetMonitoringBase: () => ({ status: 'Accepted' }),
    SetMonitoringLevel: () => ({ status: 'Accepted' }),
    SetNetworkProfile: () => ({ status: 'Accepted' }),
    SetVariableMonitoring: (r) => ({
      setMonitoringResult: r.setMonitoringData.map(({ type, severity, component, variable }) => {
        return { status: 'Rejected', type, severity, component, variable };
      }),
    }),
    SetVariables: (r) => ({
      setVariableResult: r.setVariableData.map(({ component, variable, attributeType, attributeValue }) => {
        const entry = this.variables.get(variableKey(component, variable.name));
        const status = this.variableStatus(component, variable.name, attributeType);
        if (status === 'Accepted' && (entry?.readonly || !fitsVariable(variable.name, attributeValue)))
          return { attributeStatus: 'Rejected', component, variable };
        if (entry && status === 'Accepted') entry.value = attributeValue;
        return { attributeStatus: status, component, variable };
      }),
    }),
    TriggerMessage: (r) => this.trigger(r),
    UnlockConnector: (r) => ({
      status: this.transactionOn(r.evseId) ? 'OngoingAuthorizedTransaction' : 'Unlocked',
    }),
    UnpublishFirmware: () => ({ status: 'NoFirmware' }),
    UpdateFirmware: (r) => {
      for (const status of ['Downloading', 'Downloaded', 'Installing', 'Installed'] as const)
        this.later(() => this.send('FirmwareStatusNotification', { status, requestId: r.requestId }));
      return { status: 'Accepted' };
    },
  } satisfies { [A in Action]?: Answer<A> };

  private variableResults(r: RequestOf<'GetVariables'>): ResponseOf<'GetVariables'> {
    return {
      getVariableResult: r.getVariableData.map(({ component, variable, attributeType }) => {
        const attributeStatus = this.variableStatus(component, variable.name, attributeType);
        const attributeValue = this.variables.get(variableKey(component, variable.name))?.value;
        return {
          attributeStatus,
          component,
          variable,
          ...(attributeStatus === 'Accepted' ? { attributeValue } : {}),
        };
      }),
    };
  }

  private transactionIs(transactionId: string): boolean {
    return [...this.evses.values()].some((evse) => evse.running?.transactionId === transactionId);
  }

  /** TriggerMessage (F06): accepts what it can send and sends it after the answer. */
  private trigger(r: RequestOf<'TriggerMessage'>): ResponseOf<'TriggerMessage'> {
    if (r.evse && !this.evses.has(r.evse.id)) return { status: 'Rejected' };
    const evseIds = r.evse ? [r.evse.id] : [...this.evses.keys()];
    const running = evseIds.flatMap((id) => this.transactionOn(id) ?? []);
    const energy = (energyWh = 0) => [
      this.meterValue([this.sample(energyWh, 'Energy.Active.Import.Register', 'Trigger')]),
    ];
    const triggered: Partial<Record<string, (() => unknown)[]>> = {
      BootNotification: [() => this.boot('Triggered')],
      Heartbeat: [() => this.heartbeat()],
      StatusNotification: evseIds.map(
        (id) => () => this.status(id, this.evse(id).connectorStatus, r.evse?.connectorId ?? 1),
      ),
      MeterValues: evseIds.map(
        (id) => () =>
          this.send('MeterValues', { evseId: id, meterValue: energy(this.transactionOn(id)?.energyWh) }),
      ),
      TransactionEvent: running.map((tx) => () => {
        const transactionInfo = { transactionId: tx.transactionId };
        return this.transactionEvent(tx, 'Updated', 'Trigger', {
          transactionInfo,
          meterValue: energy(tx.energyWh),
        });
      }),
    };
    const sends = triggered[r.requestedMessage];
    if (!sends) return { status: 'NotImplemented' };
    if (sends.length === 0) return { status: 'Rejected' };
    for (const send of sends) this.later(send);
    return { status: 'Accepted' };
  }

  private variableStatus(component: Component, variable: string, attributeType?: string) {
    const prefix = variableKey(component, '');
    if (![...this.variables.keys()].some((key) => key.startsWith(prefix))) return 'UnknownComponent';
    if (!this.variables.has(variableKey(component, variable))) return 'UnknownVariable';
    return attributeType && attributeType !== 'Actual' ? 'NotSupportedAttributeType' : 'Accepted';
  }

  /** GetBaseReport/GetReport: EmptyResultSet, or Accepted and then NotifyReport of those variables. */
  private report(requestId: number, keys: string[]) {
    if (keys.length === 0) return { status: 'EmptyResultSet' } as const;
    const reportData = keys.map((key): ReportData => {
      const { component, variable } = addressOf(key);
      const { value = '', readonly } = this.variables.get(key) ?? {};
      const dataType = /^\d+$/.test(value) ? 'integer' : /^(true|false)$/.test(value) ? 'boolean' : 'string';
      const variableAttribute = [
        { type: 'Actual', value, mutability: readonly ? 'ReadOnly' : 'ReadWrite' } as const,
      ];
      const variableCharacteristics = { dataType, supportsMonitoring: false } as const;
      return {
        component,
        variable,
        variableAttribute,
        variableCharacteristics,
      };
    });
    const generatedAt = this.timestamp();
    this.later(() => this.send('NotifyReport', { requestId, generatedAt, seqNo: 0, tbc: false, reportData }));
    return { status: 'Accepted' } as const;
  }
}
