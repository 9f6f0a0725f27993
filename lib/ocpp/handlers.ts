import type { MeterValuesPayload } from '../contracts';
import { isoMs } from '../time';
import type { Authorizer } from './authorization';
import { heartbeatIntervalS, pendingRetryIntervalS } from './central-options';
import type { CentralEvent, CentralState, Registration, StateLog } from './central-state';
import type { MaybePromise } from './central-types';
import { CommandRecords } from './command-records';
import type { ChargePointAction, ChargePointConnection, RawMessage } from './connection';
import type { Answer, Decided, HandlerParts } from './handlers-host';
import type { OcppRequest, OcppRequests, OcppResponse } from './messages';
import { readMeterValues } from './meter-values';
import { ownSerialHint } from './own-serial-tag';
import { TransactionHandlers } from './transaction-handlers';
import type { TransactionLedger } from './transactions';

export type { MeterValuesPayload } from '../contracts';
export type { HandlerParts } from './handlers-host';

/**
 * Answers every charge-point-initiated message (OCPP 1.6 plus the security extension) and keeps
 * the central system's state in step. Each handler returns the response; the `message` event
 * carries the request in the package's shapes to the flows.
 */
export class ChargePointHandlers {
  /** Meter-value warnings already logged, per charger, so a recurring one is logged once. */
  private readonly loggedWarnings = new Map<string, Set<string>>();

  /** The central system's own commands, in the durable record (and the local list pushed). */
  readonly records: CommandRecords;
  /** StartTransaction, StopTransaction and a transaction a charger names again (transaction-handlers.ts). */
  private readonly transactions: TransactionHandlers;

  constructor(
    private readonly cs: HandlerParts,
    private readonly stateLog: StateLog<CentralState, CentralEvent>,
    readonly ledger: TransactionLedger,
    private readonly authorizer: Authorizer,
  ) {
    this.records = new CommandRecords(cs, stateLog, authorizer);
    this.transactions = new TransactionHandlers(cs, ledger, authorizer, {
      warnRefused: (chargePointId, idTag, status, action) =>
        this.warnRefused(chargePointId, idTag, status, action),
      logWarnings: (chargePointId, warnings) => this.logWarnings(chargePointId, warnings),
    });
  }

  /**
   * Answers a charger's CALL and records what it changes. `decided` is an answer decided elsewhere
   * (the operator's backend, lib/upstream): it is recorded and returned instead of a decision of
   * this central system's own (authorization, DataTransfer); the bookkeeping is the same.
   */
  handle(
    action: ChargePointAction,
    request: unknown,
    connection: ChargePointConnection,
    decided?: unknown,
  ): MaybePromise<unknown> {
    const chargePointId = connection.identity;
    const receivedAt = this.cs.charges.nowIso();
    // A 2.0.1 charger's message as it came (its translation is what `action` and `request` are).
    const raw = connection.inbound;
    const answer = this.answer(
      action,
      request as never,
      connection,
      receivedAt,
      decided as Decided | undefined,
    );
    // Most messages are answered at once (MeterValues, StatusNotification, Heartbeat): no promise.
    if (answer instanceof Promise)
      return answer.then((answered) =>
        this.answered(chargePointId, action, request, receivedAt, answered, raw),
      );
    return this.answered(chargePointId, action, request, receivedAt, answer, raw);
  }

  /** Tells the listeners what came in and how it was answered; the response. */
  private answered(
    chargePointId: string,
    action: ChargePointAction,
    request: unknown,
    receivedAt: string,
    { response, payload }: Answer,
    raw: RawMessage | undefined,
  ): unknown {
    if (raw)
      this.cs.events.emit('message', {
        chargePointId,
        action,
        request,
        response,
        receivedAt,
        payload,
        ocpp: raw,
      });
    else this.cs.events.emit('message', { chargePointId, action, request, response, receivedAt, payload });
    return response;
  }

  /**
   * A request the settings may hand to the flow (`dataTransfer`, `signCertificate`: 'flow'): the
   * flow's answer, or `fallback` when it is not asked or does not answer in time.
   */
  private async flowOrFallback<A extends 'DataTransfer' | 'SignCertificate'>(
    action: A,
    request: OcppRequest<A>,
    chargePointId: string,
    fallback: OcppResponse<A>,
  ): Promise<{ response: unknown; payload: unknown }> {
    const setting =
      action === 'DataTransfer' ? this.cs.options.dataTransfer : this.cs.options.signCertificate;
    const response =
      setting === 'flow' ? await this.authorizer.askFlow(action, chargePointId, request, fallback) : fallback;
    return { response, payload: { chargePointId, ...request } };
  }

  private answer(
    action: ChargePointAction,
    request: OcppRequests[ChargePointAction],
    connection: ChargePointConnection,
    receivedAt: string,
    decided: Decided | undefined,
  ): Answer | Promise<Answer> {
    const handler = this.byAction[action] as ActionHandler<ChargePointAction>;
    return handler(request, { chargePointId: connection.identity, connection, receivedAt, decided });
  }

  /**
   * Each action's handler, one entry per message a 1.6 charger (or a 2.0.1 one, translated) sends:
   * "go to definition" from an action leads to the code that answers it.
   */
  private readonly byAction: { [A in ChargePointAction]: ActionHandler<A> } = {
    BootNotification: (request, { chargePointId, receivedAt, decided }) =>
      this.bootNotification(chargePointId, request, receivedAt, decided),
    Heartbeat: (_request, { chargePointId, receivedAt }) => ({
      response: { currentTime: receivedAt },
      payload: { chargePointId, at: receivedAt },
    }),
    StatusNotification: (request, { chargePointId, receivedAt }) =>
      this.statusNotification(chargePointId, request, receivedAt),
    MeterValues: (request, { chargePointId, receivedAt }) =>
      this.meterValues(chargePointId, request, receivedAt),
    Authorize: (request, { chargePointId, decided }) => this.authorize(chargePointId, request, decided),
    StartTransaction: (request, { connection, receivedAt, decided }) =>
      this.transactions.start(connection, request, receivedAt, decided),
    StopTransaction: (request, { chargePointId, receivedAt, decided }) =>
      this.transactions.stop(chargePointId, request, receivedAt, decided),
    DataTransfer: (request, { chargePointId, decided }) => {
      if (decided) return { response: decided, payload: { chargePointId, ...(request as object) } };
      return this.flowOrFallback('DataTransfer', request, chargePointId, { status: 'UnknownVendorId' });
    },
    SignCertificate: (request, { chargePointId, decided }) => {
      if (decided) return { response: decided, payload: { chargePointId, ...(request as object) } };
      return this.flowOrFallback('SignCertificate', request, chargePointId, { status: 'Rejected' });
    },
    DiagnosticsStatusNotification: (request, { chargePointId }) => notified(chargePointId, request),
    FirmwareStatusNotification: (request, { chargePointId }) => notified(chargePointId, request),
    SecurityEventNotification: (request, { chargePointId }) => notified(chargePointId, request),
    LogStatusNotification: (request, { chargePointId }) => notified(chargePointId, request),
    SignedFirmwareStatusNotification: (request, { chargePointId }) => notified(chargePointId, request),
  };

  private async authorize(
    chargePointId: string,
    { idTag }: OcppRequest<'Authorize'>,
    decided: Decided | undefined,
  ): Promise<Answer> {
    const decision = decided?.idTagInfo
      ? { idTagInfo: decided.idTagInfo, decidedBy: 'upstream' }
      : await this.authorizer.authorize(chargePointId, idTag);
    this.warnRefused(chargePointId, idTag, decision.idTagInfo.status, 'Authorize');
    return {
      response: { idTagInfo: decision.idTagInfo },
      payload: { chargePointId, idTag, ...decision },
    };
  }

  /** A badge not accepted: a warn line naming badge and charger (the site's staff look for it). */
  private warnRefused(chargePointId: string, idTag: string, status: string, action: string): void {
    if (status === 'Accepted') return;
    const hint = ownSerialHint(idTag, this.stateLog.state.chargers[chargePointId]?.boot?.request);
    this.cs.log.warn(
      `badge ${idTag} refused at ${chargePointId} (${action}: ${status})${hint ? `: ${hint}` : ''}`,
    );
  }

  private async bootNotification(
    chargePointId: string,
    request: OcppRequest<'BootNotification'>,
    receivedAt: string,
    decided: Decided | undefined,
  ) {
    const record = this.stateLog.state.chargers[chargePointId];
    // The building's own block holds whatever the operator's backend says.
    const byBackend = record?.blocked ? undefined : (decided?.status as Registration | undefined);
    let registration: Registration;
    if (record?.blocked) registration = 'Rejected';
    else if (byBackend) registration = byBackend;
    else if (this.cs.admission.isKnown(chargePointId) || this.cs.options.unknownChargePoints === 'accept')
      registration = 'Accepted';
    else registration = 'Pending';
    await this.stateLog.append({
      type: 'chargerBooted',
      chargePointId,
      at: receivedAt,
      request,
      registration,
    });
    // A reboot starts a new timeline: the charger's clock may now be behind what it sent before.
    this.cs.charges.connectors.forgetOrdering(chargePointId);
    const accepted = registration === 'Accepted';
    if (!accepted) {
      this.cs.log.info(
        `charge point ${chargePointId} (${request.chargePointVendor} ${request.chargePointModel}) booted: ${registration}${byBackend ? " by the operator's backend" : registration === 'Pending' ? ', waiting for approval' : ''}`,
      );
    }
    if (accepted && this.cs.options.readConfigurationOnBoot !== false) {
      // After the answer has gone out: a charger need not take calls before its boot is answered.
      setImmediate(() => {
        this.cs.gate.call(chargePointId, 'GetConfiguration', {}).catch((err: Error) => {
          this.cs.log.warn(`reading the configuration of ${chargePointId} after boot failed: ${err.message}`);
        });
      });
    }
    return {
      response: (byBackend && decided) || {
        status: registration,
        currentTime: receivedAt,
        interval: accepted ? heartbeatIntervalS(this.cs.options) : pendingRetryIntervalS(this.cs.options),
      },
      payload: { chargePointId, registration, ...request },
    };
  }

  private statusNotification(
    chargePointId: string,
    request: OcppRequest<'StatusNotification'>,
    receivedAt: string,
  ) {
    const update = this.cs.charges.connectors.applyStatus(chargePointId, request, receivedAt);
    if (update.ignored) this.cs.log.info(`charge point ${chargePointId}: ${update.ignored}; ignored`);
    else this.cs.port.changed(update.state);
    return { response: {}, payload: { ...update.state, ...(update.ignored ? { outOfOrder: true } : {}) } };
  }

  private meterValues(chargePointId: string, request: OcppRequest<'MeterValues'>, receivedAt: string) {
    const { connectorId, transactionId } = request;
    const receivedMs = isoMs(receivedAt);
    const parsed = readMeterValues(request.meterValue, {
      source: `${chargePointId}/${connectorId}`,
      receivedAt,
      receivedMs,
    });
    this.logWarnings(chargePointId, parsed.warnings);
    if (transactionId !== undefined) this.transactions.rebind(chargePointId, connectorId, transactionId);
    const update = this.cs.charges.connectors.applyReadings(
      chargePointId,
      connectorId,
      parsed.readings,
      receivedAt,
      receivedMs,
      parsed.newestMs,
    );
    if (!update.ignored) this.cs.port.changed(update.state);
    const newest = parsed.readings[parsed.readings.length - 1];
    // Object.assign, not a spread followed by more fields: V8 takes a slow path for the latter
    // (several µs per message in bench:throughput's profile).
    const payload: MeterValuesPayload = Object.assign({}, newest, {
      chargePointId,
      connectorId,
      readings: parsed.readings,
    });
    if (transactionId !== undefined) payload.transactionId = transactionId;
    if (update.ignored && parsed.readings.length > 0) payload.outOfOrder = true;
    return { response: {}, payload };
  }

  private logWarnings(chargePointId: string, warnings: string[]): void {
    if (warnings.length === 0) return;
    let logged = this.loggedWarnings.get(chargePointId);
    if (!logged) {
      logged = new Set();
      this.loggedWarnings.set(chargePointId, logged);
    }
    for (const warning of warnings) {
      if (logged.has(warning) || logged.size > 100) continue;
      logged.add(warning);
      this.cs.log.warn(`charge point ${chargePointId} meter values: ${warning} (logged once)`);
    }
  }
}

/** What a handler of the action table gets besides the request. */
interface CallContext {
  chargePointId: string;
  connection: ChargePointConnection;
  receivedAt: string;
  decided: Decided | undefined;
}

/** One action's handler in ChargePointHandlers' table. */
type ActionHandler<A extends ChargePointAction> = (
  request: OcppRequest<A>,
  context: CallContext,
) => Answer | Promise<Answer>;

/** A notification the central system only acknowledges: the flows get it as it came. */
function notified(chargePointId: string, request: unknown): Answer {
  return { response: {}, payload: { chargePointId, ...(request as object) } };
}
