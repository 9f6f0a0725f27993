import type { CentralSystemAction } from '../actions';
import { carNeedsOf } from './charging-needs';
import { type Translated, translateCommand } from './commands';
import { idTagInfoOf, idTokenInfo } from './id-tokens';
import { type MeterValue201, meterValuesTo16 } from './meter-values';
import { findViolation201, isCsmsAction201, isStationAction201, OCPP201 } from './schemas';
import type { SharedPath, Translation201 } from './shared-path';
import { type TransactionEventRequest, TransactionEvents } from './transaction-events';
import { VariableReads } from './variable-reads';

type Payload = Record<string, unknown>;

/** Answers the shared model has no use for: the charger gets what its version's schema asks. */
const FIXED_ANSWERS: Record<string, Payload> = {
  NotifyEVChargingSchedule: { status: 'Accepted' },
  Get15118EVCertificate: { status: 'Failed', exiResponse: '' },
  GetCertificateStatus: { status: 'Failed' },
};

/**
 * One OCPP 2.0.1 charger, translated to and from the shared model: its calls (BootNotification,
 * StatusNotification, TransactionEvent, MeterValues, Authorize, ...) become the shared calls the
 * central system answers for every version, and the central system's commands become 2.0.1
 * commands. Messages with no counterpart (NotifyEvent, NotifyReport, NotifyEVChargingNeeds,
 * ReportChargingProfiles, ...) are answered here and told to the flows as they came.
 */
export class Station201 {
  readonly protocol = OCPP201;
  private readonly transactions: TransactionEvents;
  /** GetVariables in parts the station takes (its ItemsPerMessage and BytesPerMessage). */
  private readonly variableReads = new VariableReads();
  /** RequestStartTransaction's remoteStartId: unique on this connection, and unlikely across restarts. */
  private requestId = Date.now() % 1_000_000_000;

  constructor(private readonly shared: SharedPath) {
    this.transactions = new TransactionEvents(shared);
  }

  isStationAction(action: string): boolean {
    return isStationAction201(action);
  }

  isCsmsAction(action: string): boolean {
    return isCsmsAction201(action);
  }

  validate(action: string, kind: 'request' | 'response', payload: unknown) {
    return findViolation201(action, kind, payload);
  }

  /**
   * The translation of one validated call of the charger (shared-path.ts Translation201): the
   * shared calls it becomes, one at a time, and its answer in 2.0.1 shapes. `decided` is the answer
   * the operator's backend gave it (2.0.1 shapes): what the central system records instead of deciding.
   */
  *translate(action: string, request: Payload, decided?: Payload): Translation201 {
    const { shared } = this;
    if (action === 'Authorize' || action === 'TransactionEvent') shared.sawToken(request.idToken as Payload);
    switch (action) {
      case 'BootNotification': {
        const station = request.chargingStation as Payload;
        const boot: Payload = { chargePointVendor: station.vendorName, chargePointModel: station.model };
        if (station.serialNumber !== undefined) boot.chargePointSerialNumber = station.serialNumber;
        if (station.firmwareVersion !== undefined) boot.firmwareVersion = station.firmwareVersion;
        const modem = station.modem as Payload | undefined;
        if (modem?.iccid !== undefined) boot.iccid = modem.iccid;
        if (modem?.imsi !== undefined) boot.imsi = modem.imsi;
        const response = yield { action: 'BootNotification', request: boot, decided };
        const { status, currentTime, interval } = response as Payload;
        return { status, currentTime, interval };
      }
      case 'Heartbeat':
        return yield { action: 'Heartbeat', request: {} };
      case 'StatusNotification': {
        const evseId = Number(request.evseId);
        this.transactions
          .evse(evseId)
          .connector(Number(request.connectorId), String(request.connectorStatus));
        yield* this.transactions.reportStatus(evseId, String(request.timestamp), true);
        return {};
      }
      case 'TransactionEvent':
        return yield* this.transactions.answer(request as unknown as TransactionEventRequest, decided);
      case 'MeterValues': {
        const meterValue = request.meterValue as MeterValue201[];
        yield {
          action: 'MeterValues',
          request: { connectorId: request.evseId, meterValue: meterValuesTo16(meterValue) },
        };
        return {};
      }
      case 'Authorize': {
        const token = request.idToken as { idToken: string };
        const byBackend = decided && { idTagInfo: idTagInfoOf(decided.idTokenInfo as Payload) };
        const response = yield { action: 'Authorize', request: { idTag: token.idToken }, decided: byBackend };
        return { idTokenInfo: idTokenInfo((response as { idTagInfo: { status: string } }).idTagInfo) };
      }
      case 'DataTransfer':
        return yield { action: 'DataTransfer', request, decided };
      case 'NotifyEVChargingNeeds': {
        // The load manager hears it (the car's maximum caps its current), the flows too.
        shared.carNeeds(Number(request.evseId), carNeedsOf(request as never, shared.nowIso()));
        const response = chargingNeedsAnswer(shared.schedulesFollow());
        shared.notify(action, request, response);
        return response;
      }
      case 'SignCertificate': {
        const response = yield { action: 'SignCertificate', request: { csr: request.csr }, decided };
        return { status: (response as Payload).status };
      }
      default: {
        const response = decided ?? FIXED_ANSWERS[action] ?? {};
        shared.notify(action, request, response);
        return response;
      }
    }
  }

  /**
   * Whether each shared call of `action`'s translation is awaited before the translation goes on
   * (TransactionEvent, StatusNotification: the ledger's steps one after another, each on a later
   * turn, so that what a step set off at the end of its turn (a set-point going out:
   * profiles/queue-starts.ts) happens before the next step), or it goes on at once with an answer
   * that is there.
   */
  awaitsEachAnswer(action: string): boolean {
    return action === 'TransactionEvent' || action === 'StatusNotification';
  }

  /**
   * One command on the wire (`send`: one CALL as it goes): a GetVariables, translated or as the
   * flow wrote it, in as many parts as the station takes (variable-reads.ts), anything else as it is.
   */
  send(action: string, request: unknown, send: (request: unknown) => Promise<unknown>): Promise<unknown> {
    if (action !== 'GetVariables') return send(request);
    return this.variableReads.send(request as Payload, send);
  }

  /** A command of the central system's (shared shapes) as this charger takes it. */
  command(action: CentralSystemAction, request: Payload): Translated {
    return translateCommand(
      action,
      request,
      (ledgerId) => this.shared.chargerTransactionId(ledgerId),
      () => {
        this.requestId += 1;
        return this.requestId;
      },
      (idToken) => this.shared.tokenType(idToken),
    );
  }
}

/**
 * NotifyEVChargingNeeds' answer (K15, NotifyEVChargingNeedsStatusEnumType): Accepted says "a
 * schedule will be provided momentarily", so only where a load manager manages the charger (its
 * limits go out as charging profiles); without one no schedule follows and the answer is Rejected
 * ("service not available"), with the reason, so the station charges on its own schedule rather
 * than wait for one.
 */
export function chargingNeedsAnswer(schedulesFollow: boolean): Payload {
  if (schedulesFollow) return { status: 'Accepted' };
  return {
    status: 'Rejected',
    statusInfo: { reasonCode: 'NoSchedule', additionalInfo: 'no load manager limits this station' },
  };
}
