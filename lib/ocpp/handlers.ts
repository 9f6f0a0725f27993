import type {
  ChargePointEvents,
  ChargePointPort,
  ConnectorState,
  MeterValuesPayload,
  Reading,
} from '../contracts';
import type { Logger } from '../log';
import { isoMs } from '../time';
import type { Authorizer } from './authorization';
import type { CentralEvent, CentralState, Registration, StateLog } from './central-state';
import type { MaybePromise } from './central-types';
import { CommandRecords } from './command-records';
import type { ChargePointAction, ChargePointConnection, RawMessage } from './connection';
import type { ConnectorRegistry } from './connectors';
import type { UnknownChargePointPolicy } from './handshake';
import type { IdTagInfo } from './id-tags';
import type { OcppRequest, OcppRequests, OcppResponse } from './messages';
import { readMeterValues } from './meter-values';
import { ownSerialHint } from './own-serial-tag';
import type { TransactionLedger } from './transactions';

export type { MeterValuesPayload } from '../contracts';

/** A handler's answer: the response to the charger, the payload of the `message` event. */
interface Answer {
  response: unknown;
  payload: unknown;
}

/** What the handlers need of the central system they answer for. */
export interface HandlersHost extends Pick<ChargePointPort, 'call'> {
  readonly options: Readonly<{
    unknownChargePoints?: UnknownChargePointPolicy;
    readConfigurationOnBoot?: boolean;
    dataTransfer?: 'reject' | 'flow';
    signCertificate?: 'reject' | 'flow';
  }>;
  /** The connectors' live state, which the handlers keep in step with what chargers report. */
  readonly connectors: ConnectorRegistry;
  readonly log: Logger;
  nowIso(): string;
  isKnown(chargePointId: string): boolean;
  heartbeatIntervalS(): number;
  pendingRetryIntervalS(): number;
  /** Tells the central system's listeners what a message changed. */
  emit(event: 'message', payload: ChargePointEvents['message']): unknown;
  emit(event: 'connector', payload: ChargePointEvents['connector']): unknown;
  emit(event: 'session', payload: ChargePointEvents['session']): unknown;
}

/**
 * Answers every charge-point-initiated message (OCPP 1.6 plus the security extension) and keeps
 * the central system's state in step. Each handler returns the response; the `message` event
 * carries the request in the package's shapes to the flows.
 */
/** An answer decided by somebody else (the operator's backend), as the charger is to get it. */
interface Decided {
  idTagInfo?: IdTagInfo;
  [field: string]: unknown;
}

export class ChargePointHandlers {
  /** Meter-value warnings already logged, per charger, so a recurring one is logged once. */
  private readonly loggedWarnings = new Map<string, Set<string>>();

  /** The central system's own commands, in the durable record (and the local list pushed). */
  readonly records: CommandRecords;

  constructor(
    private readonly cs: HandlersHost,
    private readonly stateLog: StateLog<CentralState, CentralEvent>,
    private readonly ledger: TransactionLedger,
    private readonly authorizer: Authorizer,
  ) {
    this.records = new CommandRecords(cs, stateLog, authorizer);
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
    const receivedAt = this.cs.nowIso();
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
      this.cs.emit('message', { chargePointId, action, request, response, receivedAt, payload, ocpp: raw });
    else this.cs.emit('message', { chargePointId, action, request, response, receivedAt, payload });
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
    const chargePointId = connection.identity;
    switch (action) {
      case 'BootNotification':
        return this.bootNotification(
          chargePointId,
          request as OcppRequest<'BootNotification'>,
          receivedAt,
          decided,
        );
      case 'Heartbeat':
        return { response: { currentTime: receivedAt }, payload: { chargePointId, at: receivedAt } };
      case 'StatusNotification':
        return this.statusNotification(
          chargePointId,
          request as OcppRequest<'StatusNotification'>,
          receivedAt,
        );
      case 'MeterValues':
        return this.meterValues(chargePointId, request as OcppRequest<'MeterValues'>, receivedAt);
      case 'Authorize':
        return this.authorize(chargePointId, request as OcppRequest<'Authorize'>, decided);
      case 'StartTransaction':
        return this.startTransaction(
          connection,
          request as OcppRequest<'StartTransaction'>,
          receivedAt,
          decided,
        );
      case 'StopTransaction':
        return this.stopTransaction(
          chargePointId,
          request as OcppRequest<'StopTransaction'>,
          receivedAt,
          decided,
        );
      case 'DataTransfer':
        if (decided) return { response: decided, payload: { chargePointId, ...(request as object) } };
        return this.flowOrFallback('DataTransfer', request as OcppRequest<'DataTransfer'>, chargePointId, {
          status: 'UnknownVendorId',
        });
      case 'SignCertificate':
        if (decided) return { response: decided, payload: { chargePointId, ...(request as object) } };
        return this.flowOrFallback(
          'SignCertificate',
          request as OcppRequest<'SignCertificate'>,
          chargePointId,
          {
            status: 'Rejected',
          },
        );
      case 'DiagnosticsStatusNotification':
      case 'FirmwareStatusNotification':
      case 'SecurityEventNotification':
      case 'LogStatusNotification':
      case 'SignedFirmwareStatusNotification':
        return { response: {}, payload: { chargePointId, ...(request as object) } };
    }
  }

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
    else if (this.cs.isKnown(chargePointId) || this.cs.options.unknownChargePoints === 'accept')
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
    this.cs.connectors.forgetOrdering(chargePointId);
    const accepted = registration === 'Accepted';
    if (!accepted) {
      this.cs.log.info(
        `charge point ${chargePointId} (${request.chargePointVendor} ${request.chargePointModel}) booted: ${registration}${byBackend ? " by the operator's backend" : registration === 'Pending' ? ', waiting for approval' : ''}`,
      );
    }
    if (accepted && this.cs.options.readConfigurationOnBoot !== false) {
      // After the answer has gone out: a charger need not take calls before its boot is answered.
      setImmediate(() => {
        this.cs.call(chargePointId, 'GetConfiguration', {}).catch((err: Error) => {
          this.cs.log.warn(`reading the configuration of ${chargePointId} after boot failed: ${err.message}`);
        });
      });
    }
    return {
      response: (byBackend && decided) || {
        status: registration,
        currentTime: receivedAt,
        interval: accepted ? this.cs.heartbeatIntervalS() : this.cs.pendingRetryIntervalS(),
      },
      payload: { chargePointId, registration, ...request },
    };
  }

  private statusNotification(
    chargePointId: string,
    request: OcppRequest<'StatusNotification'>,
    receivedAt: string,
  ) {
    const update = this.cs.connectors.applyStatus(chargePointId, request, receivedAt);
    if (update.ignored) this.cs.log.info(`charge point ${chargePointId}: ${update.ignored}; ignored`);
    else this.cs.emit('connector', update.state);
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
    if (transactionId !== undefined) this.rebindTransaction(chargePointId, connectorId, transactionId);
    const update = this.cs.connectors.applyReadings(
      chargePointId,
      connectorId,
      parsed.readings,
      receivedAt,
      receivedMs,
      parsed.newestMs,
    );
    if (!update.ignored) this.cs.emit('connector', update.state);
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

  private async startTransaction(
    connection: ChargePointConnection,
    request: OcppRequest<'StartTransaction'>,
    receivedAt: string,
    decided: Decided | undefined,
  ) {
    const chargePointId = connection.identity;
    const decision: { idTagInfo: IdTagInfo; priority?: number } = decided?.idTagInfo
      ? { idTagInfo: decided.idTagInfo }
      : await this.authorizer.authorizeStart(chargePointId, request.connectorId, request.idTag);
    this.warnRefused(chargePointId, request.idTag, decision.idTagInfo.status, 'StartTransaction');
    const result = await this.ledger.start(
      chargePointId,
      request,
      decision.priority === undefined
        ? { idTagStatus: decision.idTagInfo.status }
        : { idTagStatus: decision.idTagInfo.status, priority: decision.priority },
      receivedAt,
    );
    if (result.superseded) {
      this.cs.log.warn(
        `charge point ${chargePointId} started a transaction on connector ${request.connectorId} while transaction ${result.superseded.transactionId} was open there; that one is closed as superseded`,
      );
      this.cs.connectors.unbindTransaction(
        chargePointId,
        request.connectorId,
        result.superseded.transactionId,
      );
      this.cs.emit('session', result.superseded);
    }
    const tx = result.transaction;
    // From here the load manager and the flows may name the transaction: not to the charger before
    // it has this answer.
    connection.holdCommandsUntilStartAnswered();
    const state = this.cs.connectors.bindTransaction(chargePointId, tx.connectorId, {
      transactionId: tx.transactionId,
      idTag: tx.idTag,
      startedAt: tx.startedAt,
      meterStartWh: tx.meterStartWh,
      ...(tx.priority === undefined ? {} : { priority: tx.priority }),
    });
    this.cs.emit('connector', state);
    return {
      response: { transactionId: tx.transactionId, idTagInfo: decision.idTagInfo },
      payload: { ...tx, idTagInfo: decision.idTagInfo, ...(result.duplicate ? { duplicate: true } : {}) },
    };
  }

  private async stopTransaction(
    chargePointId: string,
    request: OcppRequest<'StopTransaction'>,
    receivedAt: string,
    decided: Decided | undefined,
  ) {
    let readings: Reading[] = [];
    if (request.transactionData) {
      const connector = this.cs.connectors.findTransaction(request.transactionId);
      const source = `${chargePointId}/${connector?.connectorId ?? this.ledger.get(request.transactionId)?.connectorId ?? 0}`;
      const parsed = readMeterValues(request.transactionData, { source, receivedAt });
      this.logWarnings(chargePointId, parsed.warnings);
      readings = parsed.readings;
    }
    const result = await this.ledger.stop(chargePointId, request, receivedAt);
    let state: ConnectorState | undefined;
    if (result.session?.connectorId !== undefined) {
      if (readings.length > 0)
        this.cs.connectors.applyReadings(chargePointId, result.session.connectorId, readings, receivedAt);
      state = this.cs.connectors.unbindTransaction(
        chargePointId,
        result.session.connectorId,
        request.transactionId,
        { reason: result.session.stopReason, at: result.session.stoppedAt },
      );
    }
    if (state) this.cs.emit('connector', state);
    if (result.session) this.cs.emit('session', result.session);
    const response =
      decided ??
      (request.idTag === undefined
        ? {}
        : { idTagInfo: await this.authorizer.stopIdTagInfo(chargePointId, request.idTag) });
    const payload = result.session
      ? { ...result.session, readings }
      : { chargePointId, transactionId: request.transactionId, duplicate: true };
    return { response, payload };
  }

  /** A charger that reports a transaction the connector does not show (after a restart) gets it back. */
  private rebindTransaction(chargePointId: string, connectorId: number, transactionId: number): void {
    const state = this.cs.connectors.find(chargePointId, connectorId);
    if (state?.transaction?.transactionId === transactionId) return;
    const tx = this.ledger.get(transactionId);
    if (!tx || tx.chargePointId !== chargePointId) return;
    this.cs.connectors.bindTransaction(chargePointId, connectorId, {
      transactionId: tx.transactionId,
      idTag: tx.idTag,
      startedAt: tx.startedAt,
      meterStartWh: tx.meterStartWh,
      ...(tx.priority === undefined ? {} : { priority: tx.priority }),
    });
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
