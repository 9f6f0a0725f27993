import { createRPCError } from 'ocpp-rpc';
import type { DataTransferRequest, DataTransferResponse, OcppRequest } from '../lib/ocpp/messages';
import type { CertificateStore } from './certificate-store';
import {
  type CommandHost,
  cancelReservation,
  changeAvailability,
  clearCache,
  done,
  getLocalListVersion,
  remoteStart,
  remoteStop,
  requireProfile,
  reserveNow,
  sendLocalList,
  unlockConnector,
} from './charge-point-commands';
import { changeConfiguration } from './charge-point-config';
import { clearChargingProfile, getCompositeSchedule, setChargingProfile } from './charge-point-profiles';
import type { ChargePointSecurity } from './charge-point-security';
import { extendedTrigger, trigger } from './charge-point-triggers';
import type { Maintenance } from './maintenance';
import type { CommandOutcome, CsAction } from './types';

/**
 * Which function answers each central-system command on the simulated charge point
 * (charge-point.ts): the connector commands of charge-point-commands.ts, configuration, charging
 * profiles, triggers, the security whitepaper's commands and the maintenance jobs.
 */

export type Handlers = {
  [A in CsAction]: (request: OcppRequest<A>) => CommandOutcome<A> | Promise<CommandOutcome<A>>;
};

/** What the answers need beyond the command host: the charge point's own parts and options. */
export interface HandlerParts {
  readonly host: CommandHost;
  readonly security: ChargePointSecurity;
  readonly maintenance: Maintenance;
  readonly certificates: CertificateStore;
  /** The charge point's options, read when a command comes. */
  readonly options: {
    readonly signedFirmwareOnly?: boolean;
    readonly dataTransfer?: (
      request: DataTransferRequest,
    ) => DataTransferResponse | Promise<DataTransferResponse>;
  };
  /** Reset.req accepted: stop the transactions and reboot (5.14). */
  reset(type: 'Hard' | 'Soft'): Promise<void>;
}

export function commandHandlers(parts: HandlerParts): Handlers {
  const { host, security, maintenance, certificates, options } = parts;
  return {
    CancelReservation: (request) => cancelReservation(host, request),
    CertificateSigned: (request) => security.certificateSigned(request),
    ChangeAvailability: (request) => changeAvailability(host, request),
    ChangeConfiguration: (request) => changeConfiguration(host, request),
    ClearCache: () => clearCache(host),
    ClearChargingProfile: (request) => clearChargingProfile(host, request),
    DataTransfer: async (request) =>
      done(options.dataTransfer ? await options.dataTransfer(request) : { status: 'UnknownVendorId' }),
    DeleteCertificate: (request) => security.deleteCertificate(request),
    ExtendedTriggerMessage: (request) => extendedTrigger(host, request),
    GetCompositeSchedule: (request) => getCompositeSchedule(host, request),
    GetConfiguration: (request) => done(host.configuration.report(request.key)),
    GetDiagnostics: (request) => {
      requireProfile(host, 'FirmwareManagement', 'GetDiagnostics');
      const fileName = maintenance.diagnosticsFileName();
      return done({ fileName }, () => maintenance.startDiagnostics(request.location, fileName));
    },
    GetInstalledCertificateIds: (request) => {
      const ids = certificates.ids(request.certificateType);
      return done(ids.length > 0 ? { status: 'Accepted', certificateHashData: ids } : { status: 'NotFound' });
    },
    GetLocalListVersion: () => getLocalListVersion(host),
    GetLog: (request) => done(maintenance.logAnswer(request), () => maintenance.startLog(request)),
    InstallCertificate: (request) => security.installCertificate(request),
    RemoteStartTransaction: (request) => remoteStart(host, request),
    RemoteStopTransaction: (request) => remoteStop(host, request),
    ReserveNow: (request) => reserveNow(host, request),
    Reset: (request) => done({ status: 'Accepted' }, () => void parts.reset(request.type)),
    SendLocalList: (request) => sendLocalList(host, request),
    SetChargingProfile: (request) => setChargingProfile(host, request),
    SignedUpdateFirmware: (request) => security.signedUpdateFirmware(request, maintenance),
    TriggerMessage: (request) => trigger(host, request),
    UnlockConnector: (request) => unlockConnector(host, request),
    UpdateFirmware: (request) => {
      requireProfile(host, 'FirmwareManagement', 'UpdateFirmware');
      if (options.signedFirmwareOnly) {
        throw createRPCError('NotSupported', 'only SignedUpdateFirmware is supported (L01.FR.20)');
      }
      return done({}, () => maintenance.startFirmware(request));
    },
  } as Handlers;
}
