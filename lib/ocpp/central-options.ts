import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { AdmissionOptions } from './admission';
import type { AuthorizationOptions } from './authorization';
import type { CdrConnector } from './cdr-connectors';
import type { ChargerStateOptions } from './charger-state';
import type { ChargePointOptions } from './connection';
import type { IdTagEntry } from './id-tags';
import { CONNECTION_DEFAULTS, type ListenerOptions } from './listener';

/**
 * Everything a CentralSystem is configured with. Each part reads its own share: the listener
 * (ListenerOptions), admission (AdmissionOptions), the charger state (ChargerStateOptions), the
 * handlers and the façade the rest.
 */
export interface CentralSystemOptions extends ListenerOptions, AdmissionOptions, ChargerStateOptions {
  /** Configured charge points (known) and their per-charger behaviour. */
  chargePoints?: Record<string, Partial<ChargePointOptions>>;
  /** Heartbeat interval given to chargers in BootNotification, in s. */
  heartbeatIntervalS?: number;
  /** Retry interval given to Pending chargers in BootNotification, in s. */
  pendingRetryIntervalS?: number;
  /** A connection with no frame for this many heartbeat intervals is closed as dead. */
  deadAfterHeartbeats?: number;
  authorization?: Partial<AuthorizationOptions>;
  /** Read the charger's configuration (GetConfiguration) after each accepted boot. */
  readConfigurationOnBoot?: boolean;
  /** DataTransfer and SignCertificate are answered by the flow when set to 'flow'. */
  dataTransfer?: 'reject' | 'flow';
  signCertificate?: 'reject' | 'flow';
  /**
   * Id tags configured with the central system: they replace the stored list at start. Leave
   * undefined when the list is managed at run time (SetIdTags commands).
   */
  idTags?: IdTagEntry[];
  /** Plug type, AC/DC and a comment per `<identity>[/<connector>]` for the CDR export (sessions-csv). */
  cdrConnectors?: Record<string, CdrConnector>;
  /** How long stop() waits for chargers to answer the close frame. */
  closeGraceMs?: number;
  clock?: Clock;
  log?: Logger;
}

/** What the central system uses where an option is not given. */
export const CENTRAL_DEFAULTS = {
  ...CONNECTION_DEFAULTS,
  heartbeatIntervalS: 300,
  pendingRetryIntervalS: 60,
  deadAfterHeartbeats: 3,
  closeGraceMs: 2000,
} as const;

/** The heartbeat interval an accepted charger is given in its BootNotification answer, in s. */
export function heartbeatIntervalS(options: Readonly<CentralSystemOptions>): number {
  return options.heartbeatIntervalS ?? CENTRAL_DEFAULTS.heartbeatIntervalS;
}

/** How long a pending or rejected charger waits before it boots again, in s. */
export function pendingRetryIntervalS(options: Readonly<CentralSystemOptions>): number {
  return options.pendingRetryIntervalS ?? CENTRAL_DEFAULTS.pendingRetryIntervalS;
}
