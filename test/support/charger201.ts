import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { OCPP20 } from 'typed-ocpp';
import WebSocket from 'ws';
import { ProfileStack, type RunningTransaction } from './charger201-profiles';

/**
 * An OCPP 2.0.1 charging station for tests, written from the specification on plain `ws`, with
 * typed-ocpp's copy of the OCA JSON schemas (its OCPP20 namespace) as the judge of every frame. It
 * shares nothing with ocpp-rpc, the RPC library of the product, nor with the package's simulator.
 *
 * - OCPP-J 2.0.1: it dials `<url>/<identity>` offering `ocpp2.0.1` (Basic auth when given a
 *   password); frames are `[2, id, action, payload]`, `[3, id, payload]`, `[4, id, errorCode,
 *   errorDescription, errorDetails]`; its message ids are unique and at most 36 characters; it sends
 *   one CALL at a time and answers a CALL after handling it, on a later turn, as a device does.
 * - Each CALL it sends is valid before it goes; each CALLRESULT must be valid for its CALL.
 * - A CALL of the CSMS that is invalid gets the 2.0.1 CALLERROR for it: RpcFrameworkError (not a
 *   CALL frame), FormatViolation, OccurrenceConstraintViolation, TypeConstraintViolation,
 *   PropertyConstraintViolation, NotImplemented (an action 2.0.1 does not have), NotSupported (one
 *   a CSMS does not send); a message type it does not know gets MessageTypeNotSupported.
 * - Whatever the CSMS does against the specification goes into `violations` (tests assert none):
 *   invalid frames and payloads, a CALL id used twice or over 36 characters, a CALL while one of
 *   its CALLs is unanswered, an answer to no CALL. A property the schemas do not allow counts,
 *   although typed-ocpp's ajv (removeAdditional) strips it silently and calls the rest valid.
 * - As a station it keeps its EVSEs' transactions, the charging profiles of block K
 *   (charger201-profiles.ts) and a tiny device model, and answers every CSMS action validly;
 *   `answerWith` overrides an answer. With `queueOffline(true)` TransactionEvents wait in order,
 *   marked offline, until `queueOffline(false)`.
 */

type Action = `${OCPP20.Action}`;
type CallOf<A extends Action> = Extract<OCPP20.Call, [unknown, unknown, A, unknown]>;
export type RequestOf<A extends Action> = CallOf<A>[3];
export type ResponseOf<A extends Action> = OCPP20.CheckedCallResult<CallOf<A>>[2];
/** The actions a CSMS sends a charging station: those the charger answers. */
export type CsmsAction = keyof Charger201['answers'];
export type Answer<A extends Action> = (request: RequestOf<A>) => ResponseOf<A>;
type TransactionEvent = RequestOf<'TransactionEvent'>;
type SampledValue = OCPP20.SampledValueType;
type ConnectorStatus = RequestOf<'StatusNotification'>['connectorStatus'];
type StoppedReason = NonNullable<TransactionEvent['transactionInfo']['stoppedReason']>;
type IdToken = RequestOf<'Authorize'>['idToken'];
type ReportData = NonNullable<RequestOf<'NotifyReport'>['reportData']>[number];

/** OCPP-J 2.0.1's error codes: typed-ocpp's ErrorCode has 1.6's FormationViolation, not FormatViolation. */
export type ErrorCode = Exclude<`${OCPP20.ErrorCode}`, 'FormationViolation'> | 'FormatViolation';
const ERROR_CODES = new Set<string>(['FormatViolation', ...Object.values(OCPP20.ErrorCode)]);
ERROR_CODES.delete('FormationViolation');

/** A CALLERROR: the CSMS's answer to a CALL of ours, or thrown by an `answerWith` answer to send one. */
export class CallError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    readonly details: object = {},
  ) {
    super(`${code}: ${description}`);
  }
}

export interface Charger201Options {
  /** ws://host:port/path; the identity is appended. */
  url: string;
  identity: string;
  password?: string;
  evses?: number;
  vendorName?: string;
  model?: string;
  protocols?: string[];
  /** false: a TxProfile for a transaction it does not know is accepted, as lenient stations do. */
  strict?: boolean;
  /** What each EVSE gives per phase without a profile, A. Default 32. */
  ratedA?: number;
  /** Wall-clock time for timestamps and schedules. Default Date.now. */
  now?: () => number;
  callTimeoutMs?: number;
}

/** A CALL of the CSMS and what it got. */
export interface ReceivedCall {
  action: string;
  payload: unknown;
  response?: object;
  error?: CallError;
}

export interface Transaction extends RunningTransaction {
  evseId: number;
  /** The next TransactionEvent's seqNo. */
  seqNo: number;
  idToken: IdToken;
  energyWh: number;
}

interface Pending {
  call: OCPP20.Call;
  resolve(payload: object): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** typed-ocpp's verdict; the properties its ajv strips (removeAdditional) count as failures too. */
function problemsOf(value: unknown, validate: (copy: never) => boolean, errors: () => string[]): string[] {
  const wire = JSON.stringify(value); // what goes on or came off the wire
  const copy = JSON.parse(wire);
  return validate(copy as never) ? stray(JSON.parse(wire), copy, '') : [...errors()];
}

function stray(original: unknown, kept: unknown, path: string): string[] {
  if (typeof original !== 'object' || original === null || typeof kept !== 'object' || kept === null)
    return [];
  return Object.entries(original).flatMap(([key, inner]) =>
    key in kept
      ? stray(inner, (kept as Record<string, unknown>)[key], `${path}/${key}`)
      : [`${path}/${key} must NOT have additional properties`],
  );
}

/** The 2.0.1 error code for a schema problem as typed-ocpp words it. */
function errorCodeFor(problem: string): ErrorCode {
  if (/required property|must NOT have (more|fewer) than \d+ items/.test(problem))
    return 'OccurrenceConstraintViolation';
  if (/must be (string|integer|number|boolean|object|array|null)$/.test(problem))
    return 'TypeConstraintViolation';
  return /must match format/.test(problem) ? 'FormatViolation' : 'PropertyConstraintViolation';
}

export class Charger201 extends EventEmitter<{ call: [ReceivedCall]; close: [] }> {
  readonly violations: string[] = [];
  readonly received: ReceivedCall[] = [];
  readonly profiles: ProfileStack;
  /** The device model: `Component.Variable` → value. */
  readonly variables = new Map<string, { value: string; readonly?: boolean }>([
    ['OCPPCommCtrlr.HeartbeatInterval', { value: '60' }],
    ['SampledDataCtrlr.TxUpdatedInterval', { value: '60' }],
    ['SampledDataCtrlr.TxUpdatedMeasurands', { value: 'Energy.Active.Import.Register,Current.Import' }],
    ['SmartChargingCtrlr.Enabled', { value: 'true' }],
    ['SmartChargingCtrlr.RateUnit', { value: 'A,W', readonly: true }],
    ['SmartChargingCtrlr.ProfileStackLevel', { value: '9', readonly: true }],
    ['SmartChargingCtrlr.PeriodsPerSchedule', { value: '24', readonly: true }],
    ['SmartChargingCtrlr.Entries', { value: '20', readonly: true }],
  ]);
  readonly identity: string;
  private readonly evses = new Map<number, { connectorStatus: ConnectorStatus; running?: Transaction }>();
  private readonly now: () => number;
  private socket: WebSocket | undefined;
  private readonly pending = new Map<string, Pending>();
  /** The one CALL in flight is awaited before the next goes out. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly seenCallIds = new Set<string>();
  private unanswered = 0;
  private offline = false;
  private readonly offlineQueue: { request: TransactionEvent; done: (sent: Promise<object>) => void }[] = [];
  /** What handling a CSMS CALL leaves to do once it is answered. */
  private afterAnswer: (() => unknown)[] = [];
  private readonly overrides = new Map<string, (request: never) => object>();
  private readonly reservations = new Set<number>();
  private localListVersion = 0;

  constructor(readonly options: Charger201Options) {
    super();
    this.identity = options.identity;
    this.now = options.now ?? Date.now;
    const evses = options.evses ?? 1;
    for (let id = 1; id <= evses; id++) this.evses.set(id, { connectorStatus: 'Available' });
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

  /** The sub-protocol the CSMS agreed to. */
  get protocol(): string | undefined {
    return this.socket?.protocol || undefined;
  }

  /** Opens the connection; rejects with `status` set when the CSMS refuses the upgrade. */
  async connect(): Promise<void> {
    const { url, identity, password } = this.options;
    const protocols = this.options.protocols ?? ['ocpp2.0.1'];
    const basic =
      password === undefined ? undefined : Buffer.from(`${identity}:${password}`).toString('base64');
    const headers = basic ? { authorization: `Basic ${basic}` } : undefined;
    const socket = new WebSocket(`${url.replace(/\/$/, '')}/${encodeURIComponent(identity)}`, protocols, {
      headers,
    });
    this.socket = socket;
    this.seenCallIds.clear();
    this.unanswered = 0;
    socket.on('message', (data, isBinary) => this.receive(isBinary ? undefined : String(data)));
    socket.on('close', () => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`${identity}: connection closed before ${pending.call[2]} was answered`));
        this.pending.delete(id);
      }
      this.emit('close');
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', (err) => {
        const status = Number(/Unexpected server response: (\d+)/.exec(err.message)?.[1]);
        if (!status) return reject(err);
        reject(Object.assign(new Error(`${identity}: upgrade refused with HTTP ${status}`), { status }));
      });
    });
    socket.on('error', () => undefined); // ends in 'close', which fails what waits
    if (!protocols.includes(socket.protocol)) {
      socket.close(1002);
      throw new Error(`${identity}: the CSMS chose sub-protocol "${socket.protocol}", not one offered`);
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = once(socket, 'close');
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000);
    await closed;
  }

  /** Sends any 2.0.1 CALL (valid, or it rejects without sending); resolves with the CSMS's answer. */
  send<A extends Action>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    if (action === 'TransactionEvent' && this.offline) {
      const request = { ...(payload as TransactionEvent), offline: true };
      return new Promise<object>((done) => this.offlineQueue.push({ request, done })) as Promise<
        ResponseOf<A>
      >;
    }
    const sent = this.queue.then(() => this.callNow(action, payload));
    this.queue = sent.catch(() => undefined);
    return sent as Promise<ResponseOf<A>>;
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

  private callNow(action: string, payload: unknown): Promise<object> {
    const call = [2, randomUUID(), action, payload] as OCPP20.Call;
    const problems = problemsOf(call, OCPP20.validateCall, () => OCPP20.validateCall.errors).join('; ');
    if (problems) {
      this.violations.push(`the charger's own ${action} is invalid (a test's bug): ${problems}`);
      return Promise.reject(new Error(`${this.identity}: its own ${action} is invalid: ${problems}`));
    }
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`not connected (${action})`));
    return new Promise<object>((resolve, reject) => {
      const timeoutMs = this.options.callTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(call[1]);
        reject(new Error(`${this.identity}: ${action} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(call[1], { call, resolve, reject, timer });
      socket.send(JSON.stringify(call));
    });
  }

  private receive(raw: string | undefined): void {
    let frame: unknown;
    try {
      frame = raw === undefined ? undefined : JSON.parse(raw);
    } catch {
      frame = undefined;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') {
      this.violations.push(`not an OCPP-J message: ${String(raw).slice(0, 120)}`);
      return;
    }
    const id: string = frame[1];
    if (frame[0] === 2) this.receiveCall(frame, id);
    else if (frame[0] === 3 || frame[0] === 4) this.receiveAnswer(frame, id);
    else {
      this.violations.push(`message type ${JSON.stringify(frame[0])} is not OCPP-J 2.0.1`);
      this.reply([4, id, 'MessageTypeNotSupported', `message type ${JSON.stringify(frame[0])}`, {}]);
    }
  }

  private receiveCall(frame: unknown[], id: string): void {
    if (id.length > 36) this.violations.push(`CALL id longer than 36 characters: ${id}`);
    if (this.seenCallIds.has(id)) this.violations.push(`CALL id ${id} used twice`);
    this.seenCallIds.add(id);
    if (this.unanswered > 0)
      this.violations.push(`${String(frame[2])} sent while a CALL of it was unanswered`);
    this.unanswered += 1;
    const received: ReceivedCall = { action: String(frame[2]), payload: frame[3] };
    this.received.push(received);
    let reply: unknown[];
    try {
      received.response = this.handle(frame);
      reply = [3, id, received.response];
    } catch (err) {
      const error = err instanceof CallError ? err : new CallError('InternalError', String(err));
      received.error = error;
      reply = [4, id, error.code, error.description.slice(0, 255), error.details];
    }
    const afterAnswer = this.afterAnswer.splice(0);
    // Handled now, answered on a later turn: a CALL that crosses shows as unanswered.
    setImmediate(() => {
      this.unanswered -= 1;
      this.reply(reply);
      // What follows an answer (a transaction a remote start began, a report) goes after it; what
      // fails there is the CSMS's answer (in violations) or a connection the test closed.
      for (const next of afterAnswer)
        Promise.resolve()
          .then(next)
          .catch(() => undefined);
      this.emit('call', received);
    });
  }

  private reply(frame: unknown[]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** The answer to a CALL of the CSMS; throws the CallError it gets instead. */
  private handle(frame: unknown[]): object {
    const [, id, action, payload] = frame;
    const refuse = (code: ErrorCode, description: string): never => {
      this.violations.push(`${String(action)} CALL ${String(id)}: ${code}: ${description}`);
      throw new CallError(code, description);
    };
    if (frame.length !== 4 || typeof action !== 'string')
      return refuse('RpcFrameworkError', 'not [2, id, action, {}]');
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return refuse('FormatViolation', 'the payload is not a JSON object');
    if (!(Object.values(OCPP20.Action) as string[]).includes(action))
      return refuse('NotImplemented', `${action} is not an OCPP 2.0.1 action`);
    if (!(action in this.answers)) return refuse('NotSupported', `a CSMS does not send ${action}`);
    const problems = problemsOf(frame, OCPP20.validateCall, () => OCPP20.validateCall.errors);
    if (problems[0] !== undefined) return refuse(errorCodeFor(problems[0]), problems.join('; '));
    const answer = this.overrides.get(action) ?? this.answers[action as CsmsAction];
    const response = (answer as (request: unknown) => object)(payload);
    const result = [3, id, response] as OCPP20.CheckedCallResult<OCPP20.Call>;
    const check = (copy: typeof result) => OCPP20.checkCallResult(copy, frame as OCPP20.Call);
    const own = problemsOf(result, check, () => OCPP20.checkCallResult.errors);
    if (own.length === 0) return response;
    this.violations.push(
      `the charger's own answer to ${action} is invalid (a test's bug): ${own.join('; ')}`,
    );
    throw new CallError('InternalError', 'invalid answer');
  }

  private receiveAnswer(frame: unknown[], id: string): void {
    const pending = this.pending.get(id);
    if (!pending) {
      this.violations.push(`an answer to no CALL of ours: ${JSON.stringify(frame).slice(0, 120)}`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    const action = pending.call[2];
    if (frame[0] === 3) {
      const valid = (copy: never) =>
        OCPP20.validateCallResult(copy) && OCPP20.checkCallResult(copy, pending.call);
      const errors = () => [...OCPP20.validateCallResult.errors, ...OCPP20.checkCallResult.errors];
      const problems = problemsOf(frame, valid, errors).join('; ');
      if (problems) {
        this.violations.push(`CALLRESULT to ${action}: ${problems}`);
        pending.reject(new Error(`${this.identity}: invalid CALLRESULT to ${action}: ${problems}`));
      } else pending.resolve(frame[2] as object);
      return;
    }
    const [, , code, description, details] = frame;
    const detailsValid = typeof details === 'object' && details !== null && !Array.isArray(details);
    if (
      frame.length !== 5 ||
      !ERROR_CODES.has(String(code)) ||
      typeof description !== 'string' ||
      !detailsValid
    )
      this.violations.push(`malformed CALLERROR to ${action}: ${JSON.stringify(frame).slice(0, 200)}`);
    pending.reject(new CallError(code as ErrorCode, String(description), detailsValid ? details : {}));
  }

  /** Runs `next` once the CALL being handled is answered. */
  private later(next: () => unknown): void {
    this.afterAnswer.push(next);
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
        const [name, variableName] = key.split('.');
        const named = ({ component, variable }: NonNullable<typeof r.componentVariable>[number]) =>
          component.name === name && (variable?.name ?? variableName) === variableName;
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
    GetVariables: (r) => ({
      getVariableResult: r.getVariableData.map(({ component, variable, attributeType }) => {
        const attributeStatus = this.variableStatus(component.name, variable.name, attributeType);
        const attributeValue = this.variables.get(`${component.name}.${variable.name}`)?.value;
        return {
          attributeStatus,
          component,
          variable,
          ...(attributeStatus === 'Accepted' ? { attributeValue } : {}),
        };
      }),
    }),
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
        const entry = this.variables.get(`${component.name}.${variable.name}`);
        const status = this.variableStatus(component.name, variable.name, attributeType);
        if (status === 'Accepted' && entry?.readonly)
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

  private variableStatus(component: string, variable: string, attributeType?: string) {
    if (![...this.variables.keys()].some((key) => key.startsWith(`${component}.`))) return 'UnknownComponent';
    if (!this.variables.has(`${component}.${variable}`)) return 'UnknownVariable';
    return attributeType && attributeType !== 'Actual' ? 'NotSupportedAttributeType' : 'Accepted';
  }

  /** GetBaseReport/GetReport: EmptyResultSet, or Accepted and then NotifyReport of those variables. */
  private report(requestId: number, keys: string[]) {
    if (keys.length === 0) return { status: 'EmptyResultSet' } as const;
    const reportData = keys.map((key): ReportData => {
      const [component = '', variable = ''] = key.split('.');
      const { value = '', readonly } = this.variables.get(key) ?? {};
      const dataType = /^\d+$/.test(value) ? 'integer' : /^(true|false)$/.test(value) ? 'boolean' : 'string';
      const variableAttribute = [
        { type: 'Actual', value, mutability: readonly ? 'ReadOnly' : 'ReadWrite' } as const,
      ];
      const variableCharacteristics = { dataType, supportsMonitoring: false } as const;
      return {
        component: { name: component },
        variable: { name: variable },
        variableAttribute,
        variableCharacteristics,
      };
    });
    const generatedAt = this.timestamp();
    this.later(() => this.send('NotifyReport', { requestId, generatedAt, seqNo: 0, tbc: false, reportData }));
    return { status: 'Accepted' } as const;
  }
}
