import type { CentralSystemAction } from '../actions';
import type { Translated } from './translated';

type Request = Record<string, unknown>;

const same = (response: Record<string, unknown>) => response;
const status = (response: Record<string, unknown>) => ({ status: response.status });

/** 1.6 certificate types (security whitepaper) as 2.0.1 names them. */
const CERTIFICATE_TYPES: Record<string, string> = { CentralSystemRootCertificate: 'CSMSRootCertificate' };

/**
 * The central system's maintenance commands (firmware, logs, certificates: OCPP 1.6 and its
 * security whitepaper) as an OCPP 2.0.1 charger takes them (2.0.1 blocks L, N and M). Undefined for
 * an action this file does not translate.
 */
export function translateMaintenance(
  action: CentralSystemAction,
  request: Request,
  nextRequestId: () => number,
): Translated | undefined {
  switch (action) {
    case 'CertificateSigned':
    case 'DeleteCertificate':
    case 'GetLog':
      return { action, request, read: same };
    case 'InstallCertificate':
      return {
        action,
        request: { ...request, certificateType: certificateType(request.certificateType) },
        read: status,
      };
    case 'GetInstalledCertificateIds':
      return {
        action,
        request: { certificateType: [certificateType(request.certificateType)] },
        read: (response) => {
          const chain = (response.certificateHashDataChain ?? []) as { certificateHashData: unknown }[];
          const out: Request = { status: response.status };
          if (chain.length > 0) out.certificateHashData = chain.map((entry) => entry.certificateHashData);
          return out;
        },
      };
    case 'GetDiagnostics': {
      const log: Request = { remoteLocation: request.location };
      if (request.startTime !== undefined) log.oldestTimestamp = request.startTime;
      if (request.stopTime !== undefined) log.latestTimestamp = request.stopTime;
      return {
        action: 'GetLog',
        request: { logType: 'DiagnosticsLog', requestId: nextRequestId(), log, ...retries(request) },
        read: (response) => (response.filename === undefined ? {} : { fileName: response.filename }),
      };
    }
    case 'UpdateFirmware':
      return {
        action,
        request: {
          requestId: nextRequestId(),
          firmware: { location: request.location, retrieveDateTime: request.retrieveDate },
          ...retries(request),
        },
        read: () => ({}),
      };
    case 'SignedUpdateFirmware':
      return { action: 'UpdateFirmware', request, read: status };
    default:
      return undefined;
  }
}

function certificateType(type: unknown): string {
  return CERTIFICATE_TYPES[String(type)] ?? String(type);
}

function retries(request: Request): Request {
  const out: Request = {};
  if (request.retries !== undefined) out.retries = request.retries;
  if (request.retryInterval !== undefined) out.retryInterval = request.retryInterval;
  return out;
}
