import { createRPCError } from 'ocpp-rpc';
import { isProfile16 } from '../../lib/ocpp/charging-profiles';
import type { OcppRequest, OcppResponse } from '../../lib/ocpp/messages';
import {
  type ChargingProfile201,
  type ClearChargingProfile201,
  clearFrom201,
  compositeTo201,
  profileFrom201,
  refusal201,
} from '../../lib/ocpp/v201/charging-profiles';
import type { CsAction } from '../types';
import { getVariables, setVariables } from './device-model';
import { CERTIFICATE_TYPES, FIXED_ANSWERS, STATUSES_16 } from './fixed-answers';
import type { Host201, Outgoing201 } from './outgoing';
import type { Transactions201 } from './transactions';

/**
 * An OCPP 2.0.1 CSMS's commands as the simulator's OCPP 1.6 handlers take them, and their answers
 * back in 2.0.1 shapes. Where 2.0.1 rules differ from 1.6 in what the charger does, the 2.0.1
 * rule is kept here (UnlockConnector during a transaction, TriggerMessage for TransactionEvent);
 * commands with nothing behind them in the simulator get a valid refusal (fixed-answers.ts) or
 * CALLERROR NotSupported.
 */

type Json = Record<string, unknown>;

/** Has the simulator's 1.6 handler answer (with its events, overrides and checks). */
export type Run = <A extends CsAction>(action: A, request: OcppRequest<A>) => Promise<OcppResponse<A>>;

export interface IncomingContext {
  run: Run;
  /** Runs `fn` after the answer went out, after what the handlers left to do then. */
  later(fn: () => void): void;
  /** Has the 1.6 handler take a command later, outside this call, and do what it leaves to do at once. */
  runLater<A extends CsAction>(action: A, request: OcppRequest<A>): Promise<void>;
}

export class Incoming201 {
  constructor(
    private readonly host: Host201,
    private readonly transactions: Transactions201,
    private readonly outgoing: Outgoing201,
  ) {}

  async answer(action: string, request: Json, ctx: IncomingContext): Promise<Json> {
    const { run } = ctx;
    switch (action) {
      case 'SetChargingProfile': {
        // Where 2.0.1's rules differ (K01), they are 2.0.1's; the rest the 1.6 handler checks.
        const profile = request.chargingProfile as ChargingProfile201;
        const refusal = refusal201(profile);
        if (refusal) {
          this.host.log.info(`${this.host.identity}: SetChargingProfile ${profile.id} rejected: ${refusal}`);
          return { status: 'Rejected' };
        }
        const transactionId = await this.numberOf(profile.transactionId);
        const shared = profileFrom201(profile, transactionId);
        if (!shared || !isProfile16(shared)) return { status: 'Rejected' };
        const response = await run('SetChargingProfile', {
          connectorId: request.evseId as number,
          csChargingProfiles: shared,
        });
        return { status: response.status === 'Accepted' ? 'Accepted' : 'Rejected' };
      }
      case 'ClearChargingProfile': {
        const { chargingProfilePurpose: purpose, ...criteria } = clearFrom201(
          request as ClearChargingProfile201,
        );
        // External constraints are never the CSMS's (refusal201): none of its are installed.
        if (purpose === 'ChargingStationExternalConstraints') return { status: 'Unknown' };
        const out: OcppRequest<'ClearChargingProfile'> = {
          ...criteria,
          ...(purpose === undefined ? {} : { chargingProfilePurpose: purpose }),
        };
        return { status: (await run('ClearChargingProfile', out)).status };
      }
      case 'GetCompositeSchedule': {
        const evseId = request.evseId as number;
        const duration = request.duration as number;
        const response = await run('GetCompositeSchedule', {
          connectorId: evseId,
          duration,
          ...(request.chargingRateUnit === undefined
            ? {}
            : { chargingRateUnit: request.chargingRateUnit as 'A' | 'W' }),
        });
        return compositeTo201(response, evseId, duration, new Date(this.host.now()).toISOString());
      }
      case 'RequestStartTransaction':
        return await this.requestStart(request, run);
      case 'RequestStopTransaction': {
        const transactionId = await this.numberOf(request.transactionId);
        if (transactionId === undefined) return { status: 'Rejected' };
        return { status: (await run('RemoteStopTransaction', { transactionId })).status };
      }
      case 'Reset': {
        // The simulator resets as a whole. Immediate is 1.6's hard reset (transactions end at once);
        // OnIdle waits for the transactions to end (B12.FR.01), then is 1.6's soft one.
        if (request.evseId !== undefined) return { status: 'Rejected' };
        if (request.type === 'Immediate') return { status: (await run('Reset', { type: 'Hard' })).status };
        const running = this.host.connectorIds().some((id) => this.host.evse(id)?.transaction);
        if (!running) return { status: (await run('Reset', { type: 'Soft' })).status };
        ctx.later(() => {
          void this.host
            .whenNoTransactions()
            .then(() => ctx.runLater('Reset', { type: 'Soft' }))
            .catch((err: Error) =>
              this.host.log.warn(`${this.host.identity}: scheduled reset failed: ${err.message}`),
            );
        });
        return { status: 'Scheduled' };
      }
      case 'UnlockConnector': {
        const evseId = request.evseId as number;
        const evse = this.host.evse(evseId);
        if (!evse || request.connectorId !== 1) return { status: 'UnknownConnector' };
        // F05.FR.02: during a transaction the connector stays locked (1.6 would end the transaction).
        if (evse.transaction) return { status: 'OngoingAuthorizedTransaction' };
        const { status } = await run('UnlockConnector', { connectorId: evseId });
        return { status: status === 'NotSupported' ? 'UnknownConnector' : status };
      }
      case 'ChangeAvailability': {
        const evse = request.evse as { id: number; connectorId?: number } | undefined;
        if (evse?.connectorId !== undefined && evse.connectorId !== 1) return { status: 'Rejected' };
        const type = request.operationalStatus as 'Inoperative' | 'Operative';
        return { status: (await run('ChangeAvailability', { connectorId: evse?.id ?? 0, type })).status };
      }
      case 'TriggerMessage':
        return await this.trigger(request, ctx);
      case 'GetVariables':
        return await getVariables(request, run);
      case 'SetVariables':
        return await setVariables(request, run);
      case 'SendLocalList':
        return await this.sendLocalList(request, run);
      case 'GetLocalListVersion':
        return { versionNumber: Math.max(0, (await run('GetLocalListVersion', {})).listVersion) };
      case 'ReserveNow':
        return await this.reserveNow(request, run);
      case 'CancelReservation':
        return { ...(await run('CancelReservation', { reservationId: request.reservationId as number })) };
      case 'ClearCache':
        return { ...(await run('ClearCache', {})) };
      case 'DataTransfer': {
        const { data, ...rest } = request as Json & { vendorId: string };
        const text =
          data === undefined ? {} : { data: typeof data === 'string' ? data : JSON.stringify(data) };
        return { ...(await run('DataTransfer', { ...rest, ...text })) };
      }
      case 'CertificateSigned': {
        if (request.certificateType === 'V2GCertificate') return { status: 'Rejected' };
        return {
          ...(await run('CertificateSigned', { certificateChain: request.certificateChain as string })),
        };
      }
      case 'InstallCertificate': {
        const type = CERTIFICATE_TYPES[String(request.certificateType)];
        if (!type) return { status: 'Rejected' };
        return {
          ...(await run('InstallCertificate', {
            certificateType: type,
            certificate: request.certificate as string,
          })),
        };
      }
      case 'DeleteCertificate':
        return {
          ...(await run('DeleteCertificate', request as unknown as OcppRequest<'DeleteCertificate'>)),
        };
      case 'GetInstalledCertificateIds':
        return await this.installedCertificates(request, run);
      case 'GetLog':
        return { ...(await run('GetLog', request as unknown as OcppRequest<'GetLog'>)) };
      case 'UpdateFirmware':
        return await this.updateFirmware(request, run);
      case 'GetTransactionStatus': {
        const id = request.transactionId as string | undefined;
        const messagesInQueue = this.host.transactionMessagesQueued();
        return id === undefined
          ? { messagesInQueue }
          : { messagesInQueue, ongoingIndicator: this.transactions.ongoing(id) };
      }
      default: {
        const fixed = FIXED_ANSWERS[action];
        if (fixed) return typeof fixed === 'function' ? fixed(request) : { ...fixed };
        // GetChargingProfiles, and whatever else the simulator has no model of.
        throw createRPCError('NotSupported', `the simulator does not support ${action}`);
      }
    }
  }

  /**
   * The simulator's number of a transaction the CSMS names by its 2.0.1 id. A command may come
   * while the answer to the transaction's Started is still on its way: it waits for that answer
   * to reach the simulator (one turn of the event loop after it arrived).
   */
  private async numberOf(id: unknown): Promise<number | undefined> {
    if (id === undefined) return undefined;
    const tx = this.transactions.ofId(String(id));
    if (!tx) return undefined;
    if (!tx.settled) {
      await tx.whenSettled;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return tx.numeric;
  }

  private async requestStart(request: Json, run: Run): Promise<Json> {
    const idToken = request.idToken as { idToken: string; type: string };
    const profile = request.chargingProfile as ChargingProfile201 | undefined;
    const shared = profile ? profileFrom201(profile, undefined) : undefined;
    const profile16 = shared && isProfile16(shared) ? shared : undefined;
    if (profile && !profile16) return { status: 'Rejected' };
    const evseId = request.evseId as number | undefined;
    const start = {
      remoteStartId: request.remoteStartId as number,
      idToken: { idToken: idToken.idToken, type: idToken.type },
      ...(evseId === undefined ? {} : { evseId }),
      atMs: this.host.now(),
    };
    // Known before the handler's own follow-up starts the transaction (after the answer).
    this.transactions.remoteStarted(start);
    const { status } = await run('RemoteStartTransaction', {
      idTag: idToken.idToken,
      ...(evseId === undefined ? {} : { connectorId: evseId }),
      ...(profile16 ? { chargingProfile: profile16 } : {}),
    });
    if (status !== 'Accepted')
      this.transactions.takeRemoteStart(idToken.idToken, evseId ?? 0, start.atMs, Infinity);
    return { status };
  }

  /** F06: what the 1.6 TriggerMessage (or the whitepaper's ExtendedTriggerMessage) sends the same way. */
  private async trigger(request: Json, ctx: IncomingContext): Promise<Json> {
    const { run } = ctx;
    const evse = request.evse as { id: number; connectorId?: number } | undefined;
    if (evse && (!this.host.evse(evse.id) || (evse.connectorId ?? 1) !== 1)) return { status: 'Rejected' };
    const connector = evse ? { connectorId: evse.id } : {};
    switch (request.requestedMessage) {
      case 'BootNotification':
        return { ...(await run('TriggerMessage', { requestedMessage: 'BootNotification' })) };
      case 'Heartbeat':
        return { ...(await run('TriggerMessage', { requestedMessage: 'Heartbeat' })) };
      case 'MeterValues':
      case 'StatusNotification':
        return {
          ...(await run('TriggerMessage', { requestedMessage: request.requestedMessage, ...connector })),
        };
      case 'FirmwareStatusNotification':
        if (this.outgoing.firmwareRequestId === undefined)
          return {
            ...(await run('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })),
          };
        return { ...(await run('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' })) };
      case 'LogStatusNotification':
        return { ...(await run('ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' })) };
      case 'SignChargingStationCertificate':
        return {
          ...(await run('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })),
        };
      case 'TransactionEvent': {
        // The running transactions' meter values now, as TransactionEvent Updated (trigger Trigger).
        const evseIds = (evse ? [evse.id] : this.host.connectorIds()).filter((id) =>
          this.transactions.activeOn(id),
        );
        if (evseIds.length === 0) return { status: 'Rejected' };
        let status = 'Rejected';
        for (const id of evseIds) {
          this.outgoing.triggerAsEvent.add(id);
          const answer = await run('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: id });
          if (answer.status === 'Accepted') status = 'Accepted';
        }
        ctx.later(() => {
          for (const id of evseIds) this.outgoing.triggerAsEvent.delete(id);
        });
        return { status };
      }
      default:
        return { status: 'NotImplemented' };
    }
  }

  private async sendLocalList(request: Json, run: Run): Promise<Json> {
    const entries = (request.localAuthorizationList ?? []) as {
      idToken: { idToken: string };
      idTokenInfo?: Json;
    }[];
    // The simulator's list holds 1.6 id tags (20 characters at most).
    if (entries.some((entry) => entry.idToken.idToken.length > 20)) return { status: 'Failed' };
    const localAuthorizationList = entries.map((entry) => {
      const info = entry.idTokenInfo;
      if (!info) return { idTag: entry.idToken.idToken };
      const status = String(info.status);
      const group = (info.groupIdToken as { idToken?: string } | undefined)?.idToken;
      return {
        idTag: entry.idToken.idToken,
        idTagInfo: {
          status: (STATUSES_16.has(status) ? status : 'Invalid') as 'Accepted',
          ...(typeof info.cacheExpiryDateTime === 'string' ? { expiryDate: info.cacheExpiryDateTime } : {}),
          ...(group !== undefined && group.length <= 20 ? { parentIdTag: group } : {}),
        },
      };
    });
    const { status } = await run('SendLocalList', {
      listVersion: request.versionNumber as number,
      updateType: request.updateType as 'Full' | 'Differential',
      ...(request.localAuthorizationList === undefined ? {} : { localAuthorizationList }),
    });
    return { status: status === 'NotSupported' ? 'Failed' : status };
  }

  private async reserveNow(request: Json, run: Run): Promise<Json> {
    const idToken = (request.idToken as { idToken: string }).idToken;
    const group = (request.groupIdToken as { idToken: string } | undefined)?.idToken;
    if (idToken.length > 20 || (group !== undefined && group.length > 20)) return { status: 'Rejected' };
    const { status } = await run('ReserveNow', {
      connectorId: (request.evseId as number | undefined) ?? 0,
      expiryDate: request.expiryDateTime as string,
      idTag: idToken,
      reservationId: request.id as number,
      ...(group === undefined ? {} : { parentIdTag: group }),
    });
    return { status };
  }

  private async installedCertificates(request: Json, run: Run): Promise<Json> {
    const asked = (request.certificateType as string[] | undefined) ?? Object.keys(CERTIFICATE_TYPES);
    const certificateHashDataChain: Json[] = [];
    for (const type201 of asked) {
      const type = CERTIFICATE_TYPES[type201];
      if (!type) continue;
      const answer = await run('GetInstalledCertificateIds', { certificateType: type });
      for (const certificateHashData of answer.certificateHashData ?? [])
        certificateHashDataChain.push({ certificateType: type201, certificateHashData });
    }
    return certificateHashDataChain.length > 0
      ? { status: 'Accepted', certificateHashDataChain }
      : { status: 'NotFound' };
  }

  /** L01 (signed, with certificate and signature) as the whitepaper's SignedUpdateFirmware; else 1.6's UpdateFirmware. */
  private async updateFirmware(request: Json, run: Run): Promise<Json> {
    const firmware = request.firmware as Json;
    const retries = request.retries === undefined ? {} : { retries: request.retries as number };
    const retryInterval =
      request.retryInterval === undefined ? {} : { retryInterval: request.retryInterval as number };
    if (typeof firmware.signingCertificate === 'string' && typeof firmware.signature === 'string') {
      this.outgoing.firmwareRequestId = undefined;
      const answer = await run('SignedUpdateFirmware', {
        ...retries,
        ...retryInterval,
        requestId: request.requestId as number,
        firmware: firmware as OcppRequest<'SignedUpdateFirmware'>['firmware'],
      });
      return { status: answer.status };
    }
    await run('UpdateFirmware', {
      location: firmware.location as string,
      retrieveDate: firmware.retrieveDateTime as string,
      ...retries,
      ...retryInterval,
    });
    this.outgoing.firmwareRequestId = request.requestId as number;
    return { status: 'Accepted' };
  }
}
