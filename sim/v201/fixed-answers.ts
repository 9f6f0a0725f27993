/**
 * The fixed tables of the simulator's OCPP 2.0.1 answers (incoming.ts): valid refusals for commands
 * with nothing behind them, the 1.6 id tag statuses, and the certificate types by 2.0.1 use.
 */

type Json = Record<string, unknown>;

/** Answers to commands the simulator has nothing behind: valid refusals. */
export const FIXED_ANSWERS: Record<string, Json | ((request: Json) => Json)> = {
  ClearDisplayMessage: { status: 'Unknown' },
  CostUpdated: {},
  CustomerInformation: { status: 'Rejected' },
  GetBaseReport: { status: 'NotSupported' },
  GetDisplayMessages: { status: 'Unknown' },
  GetMonitoringReport: { status: 'NotSupported' },
  GetReport: { status: 'NotSupported' },
  PublishFirmware: { status: 'Rejected' },
  SetDisplayMessage: { status: 'Rejected' },
  SetMonitoringBase: { status: 'NotSupported' },
  SetMonitoringLevel: { status: 'Rejected' },
  SetNetworkProfile: { status: 'Rejected' },
  UnpublishFirmware: { status: 'NoFirmware' },
  ClearVariableMonitoring: (request) => ({
    clearMonitoringResult: (request.id as number[]).map((id) => ({ id, status: 'NotFound' })),
  }),
  SetVariableMonitoring: (request) => ({
    setMonitoringResult: (request.setMonitoringData as Json[]).map(
      ({ type, severity, component, variable }) => ({
        status: 'Rejected',
        type,
        severity,
        component,
        variable,
      }),
    ),
  }),
};

/** The id tag statuses OCPP 1.6 knows (a 2.0.1 one it does not becomes Invalid). */
export const STATUSES_16 = new Set(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx']);

/** 2.0.1 certificate use → the whitepaper's certificate type. */
export const CERTIFICATE_TYPES: Record<
  string,
  'CentralSystemRootCertificate' | 'ManufacturerRootCertificate'
> = {
  CSMSRootCertificate: 'CentralSystemRootCertificate',
  ManufacturerRootCertificate: 'ManufacturerRootCertificate',
};
