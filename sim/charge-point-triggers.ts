import type { OcppRequest } from '../lib/ocpp/messages';
import type { Maintenance } from './maintenance';
import type { CommandOutcome, CpAction, RegistrationStatus } from './types';

/** What TriggerMessage and ExtendedTriggerMessage need from the charge point. */
export interface TriggerHost {
  readonly registration: RegistrationStatus | undefined;
  readonly maintenance: Pick<
    Maintenance,
    'diagnosticsState' | 'firmwareState' | 'signedFirmwareState' | 'logState'
  >;
  supports(profile: string): boolean;
  hasConnector(connectorId: number): boolean;
  connectorIds(): number[];
  /** The configured CpoName, '' or undefined when not set. */
  cpoName(): string | undefined;
  triggerBoot(): void;
  sendHeartbeat(triggered: boolean): void;
  sendStatus(connectorId: number, triggered: boolean): void;
  /** MeterValues of one connector with context Trigger, if it has values. */
  sendTriggeredMeterValues(connectorId: number): void;
  notify<A extends CpAction>(action: A, payload: OcppRequest<A>, options: { triggered: boolean }): void;
  requestCertificateSigning(): void;
}

const done = <A extends 'TriggerMessage' | 'ExtendedTriggerMessage'>(
  response: CommandOutcome<A>['response'],
  after?: () => void,
): CommandOutcome<A> => (after ? { response, after } : { response }) as CommandOutcome<A>;

/** TriggerMessage (5.17). */
export function trigger(
  host: TriggerHost,
  request: OcppRequest<'TriggerMessage'>,
): CommandOutcome<'TriggerMessage'> {
  if (!host.supports('RemoteTrigger')) return done({ status: 'NotImplemented' });
  const { connectorId, requestedMessage } = request;
  switch (requestedMessage) {
    case 'DiagnosticsStatusNotification':
      return done({ status: 'Accepted' }, () =>
        notifyJobState(host, 'DiagnosticsStatusNotification', { status: host.maintenance.diagnosticsState }),
      );
    case 'FirmwareStatusNotification':
      return done({ status: 'Accepted' }, () =>
        notifyJobState(host, 'FirmwareStatusNotification', { status: host.maintenance.firmwareState }),
      );
    default:
      return triggerShared(host, connectorId, requestedMessage);
  }
}

/** ExtendedTriggerMessage (security whitepaper). */
export function extendedTrigger(
  host: TriggerHost,
  request: OcppRequest<'ExtendedTriggerMessage'>,
): CommandOutcome<'ExtendedTriggerMessage'> {
  const { connectorId, requestedMessage } = request;
  switch (requestedMessage) {
    case 'LogStatusNotification':
      return done({ status: 'Accepted' }, () =>
        notifyJobState(host, 'LogStatusNotification', host.maintenance.logState),
      );
    case 'FirmwareStatusNotification':
      return done({ status: 'Accepted' }, () =>
        notifyJobState(host, 'SignedFirmwareStatusNotification', host.maintenance.signedFirmwareState),
      );
    case 'SignChargePointCertificate':
      if (!host.cpoName()) return done({ status: 'Rejected' });
      return done({ status: 'Accepted' }, () => host.requestCertificateSigning());
    default:
      // Same statuses (Accepted, Rejected, NotImplemented) as TriggerMessage.
      return triggerShared(
        host,
        connectorId,
        requestedMessage,
      ) as unknown as CommandOutcome<'ExtendedTriggerMessage'>;
  }
}

/**
 * The messages TriggerMessage (5.17) and ExtendedTriggerMessage (security whitepaper) both ask
 * for. 5.17: "The Charge Point SHALL first send the TriggerMessage response, before sending the
 * requested message."
 */
function triggerShared(
  host: TriggerHost,
  connectorId: number | undefined,
  requestedMessage: 'BootNotification' | 'Heartbeat' | 'MeterValues' | 'StatusNotification',
): CommandOutcome<'TriggerMessage'> {
  if (connectorId !== undefined && connectorId !== 0 && !host.hasConnector(connectorId)) {
    return done({ status: 'Rejected' });
  }
  switch (requestedMessage) {
    case 'BootNotification':
      // Errata 3.35: once accepted, RECOMMENDED to reject.
      if (host.registration === 'Accepted') return done({ status: 'Rejected' });
      return done({ status: 'Accepted' }, () => host.triggerBoot());
    case 'Heartbeat':
      return done({ status: 'Accepted' }, () => host.sendHeartbeat(true));
    case 'MeterValues':
      return triggerMeterValues(host, connectorId);
    case 'StatusNotification':
      return done({ status: 'Accepted' }, () => triggerStatus(host, connectorId));
  }
}

function triggerMeterValues(
  host: TriggerHost,
  connectorId: number | undefined,
): CommandOutcome<'TriggerMessage'> {
  // This meter has no main meter of the charge point as a whole.
  if (connectorId === 0) return done({ status: 'Rejected' });
  const targets = connectorId === undefined ? host.connectorIds() : [connectorId];
  return done({ status: 'Accepted' }, () => {
    // Errata 3.46: the most recent values of MeterValuesSampledData, context Trigger.
    for (const id of targets) host.sendTriggeredMeterValues(id);
  });
}

/** "A request for a statusNotification without connectorId is a request for ... the Charge Point itself and ... each of its connectors" (5.17). */
function triggerStatus(host: TriggerHost, connectorId: number | undefined): void {
  const ids = connectorId === undefined ? [0, ...host.connectorIds()] : [connectorId];
  for (const id of ids) host.sendStatus(id, true);
}

/** A triggered status notification of a maintenance job: diagnostics, firmware, log upload. */
function notifyJobState<
  A extends
    | 'DiagnosticsStatusNotification'
    | 'FirmwareStatusNotification'
    | 'LogStatusNotification'
    | 'SignedFirmwareStatusNotification',
>(
  host: TriggerHost,
  action: A,
  { status, requestId }: { status: OcppRequest<A>['status']; requestId?: number },
): void {
  const payload = { status, ...(requestId === undefined ? {} : { requestId }) } as OcppRequest<A>;
  host.notify(action, payload, { triggered: true });
}
