import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { BootNotificationResponse, OcppAction, OcppRequest, OcppResponse } from '../lib/ocpp/messages';
import type { ConfigurationOverride } from './configuration';

/** The simulator's public types: options, quirks, events and messages. */

/** Messages the charge point sends. */
export type CpAction =
  | 'Authorize'
  | 'BootNotification'
  | 'DataTransfer'
  | 'DiagnosticsStatusNotification'
  | 'FirmwareStatusNotification'
  | 'Heartbeat'
  | 'LogStatusNotification'
  | 'MeterValues'
  | 'SecurityEventNotification'
  | 'SignCertificate'
  | 'SignedFirmwareStatusNotification'
  | 'StartTransaction'
  | 'StatusNotification'
  | 'StopTransaction';

/** Messages the central system sends (DataTransfer goes both ways). */
export type CsAction = Exclude<OcppAction, Exclude<CpAction, 'DataTransfer'>>;

export type RegistrationStatus = BootNotificationResponse['status'];

/** Vendor deviations from OCPP 1.6, each off by default. */
export interface Quirks {
  /** Offer no Sec-WebSocket-Protocol in the handshake (Grizzl-E and others; SteVe #1109). */
  noSubProtocol: boolean;
  /** A 35-character chargeBoxSerialNumber (CiString25 in the schema), like Schneider EVlink. */
  longSerialNumber: boolean;
  /** Temperature unit `Celcius`, the original 1.6 JSON schema's misspelling (errata 2.1). */
  celciusSpelling: boolean;
  /** Frequency with unit `Hz`, which 1.6's UnitOfMeasure lacks (ChargeAmps; HA ocpp #1576). */
  frequencyUnitHz: boolean;
  /** An unknown property in BootNotification and MeterValues (the schemas forbid extra properties). */
  extraProperties: boolean;
  /** MeterValues whose meterValue entries lack the required timestamp. */
  missingMeterTimestamp: boolean;
  /**
   * `Current.Import` listed without a phase is one value without a phase (the highest phase's
   * current), not one per phase; the phase forms (`Current.Import.L1` ...) only where listed
   * (Schneider EVlink, vendor doc 003 §8 MeterValuesSampledData: "Phase can be configured").
   */
  unphasedCurrent: boolean;
}

export const NO_QUIRKS: Readonly<Quirks> = {
  noSubProtocol: false,
  longSerialNumber: false,
  celciusSpelling: false,
  frequencyUnitHz: false,
  extraProperties: false,
  missingMeterTimestamp: false,
  unphasedCurrent: false,
};

/**
 * How a charger model deviates in smart charging, each off by default. The named sets in
 * {@link VENDOR_BEHAVIOURS} make the simulator behave like the models lib/profiles has presets for.
 */
export interface VendorBehaviour {
  /** Rejects every profile with stackLevel above 0, whatever ChargeProfileMaxStackLevel says (ABB Terra AC FW 1.8: evcc #15493). */
  stackLevelZeroOnly: boolean;
  /** Rejects schedules in W (Schneider EVlink: "Limits in amperes (no W)", vendor doc 003 §4). */
  refuseWatts: boolean;
  /** Rejects schedules in A (Huawei: evcc drives it in W only, `forcepowerctrl`). */
  refuseAmps: boolean;
  /** Treats numberPhases as absent: W is spread over 3 phases and a three-phase EV is never switched to one. */
  ignoreNumberPhases: boolean;
  /** Rejects profiles that carry numberPhases (Schneider EVlink: "Not supported", 003 §4). */
  rejectNumberPhases: boolean;
  /** Rejects profiles that carry minChargingRate (Schneider EVlink: "Not supported", 003 §4). */
  rejectMinChargingRate: boolean;
  /** Takes chargingProfileKind Relative only (Wallbox Pulsar/Commander: evcc `profilekindrelative`). */
  onlyRelativeProfiles: boolean;
  /**
   * Accepts profiles and reports them in GetCompositeSchedule, but keeps offering the rated current
   * (Grizzl-E ignores a ChargePointMaxProfile, HA ocpp docs; Pulsar Pro stays at 9 A, evcc #31597).
   */
  ignoreLimits: boolean;
  /** No SmartCharging feature profile (Schneider EVlink R4/R5, 003 §3.1): profile messages get CALLERROR NotSupported. */
  noSmartCharging: boolean;
  /** The EVlink key maxIntensitySocket (A per phase, 003 §8) caps the current of every socket. */
  maxIntensitySocket: boolean;
  /** A RemoteStartTransaction carrying a chargingProfile gets CALLERROR ProtocolError (Wallbox: evcc #6882, #14040). */
  rejectProfileInRemoteStart: boolean;
  /**
   * A new TxDefaultProfile applies from the next transaction on; the running one keeps the profile it
   * started with (contrary to errata 3.8), so a limit during a session needs a TxProfile.
   */
  txDefaultFromNextSession: boolean;
  /** Offers only these currents, rounding a limit down to the next one (NEcharge: 6/8/10/13/16 A, evcc templates). Empty: any. */
  currentStepsA: readonly number[];
  /** Reports plain `Current.Import` as one value without a phase (the `unphasedCurrent` quirk; Schneider EVlink, 003 §8). */
  unphasedCurrent: boolean;
}

export const STANDARD_BEHAVIOUR: Readonly<VendorBehaviour> = {
  stackLevelZeroOnly: false,
  refuseWatts: false,
  refuseAmps: false,
  ignoreNumberPhases: false,
  rejectNumberPhases: false,
  rejectMinChargingRate: false,
  onlyRelativeProfiles: false,
  ignoreLimits: false,
  noSmartCharging: false,
  maxIntensitySocket: false,
  rejectProfileInRemoteStart: false,
  txDefaultFromNextSession: false,
  currentStepsA: [],
  unphasedCurrent: false,
};

/**
 * Charger models as the simulator plays them, named like the strategy presets of lib/profiles
 * (docs/sources there). Each is a set of {@link VendorBehaviour} switches.
 */
export const VENDOR_BEHAVIOURS = {
  'abb-terra-ac': { stackLevelZeroOnly: true },
  wallbox: { stackLevelZeroOnly: true, rejectProfileInRemoteStart: true },
  'wallbox-pulsar': {
    stackLevelZeroOnly: true,
    rejectProfileInRemoteStart: true,
    onlyRelativeProfiles: true,
  },
  'schneider-evlink-r6-r7': {
    refuseWatts: true,
    rejectNumberPhases: true,
    rejectMinChargingRate: true,
    maxIntensitySocket: true,
    unphasedCurrent: true,
  },
  'schneider-evlink-r4-r5': { noSmartCharging: true, maxIntensitySocket: true, unphasedCurrent: true },
  huawei: { refuseAmps: true },
  necharge: { currentStepsA: [6, 8, 10, 13, 16] },
} as const satisfies Record<string, Partial<VendorBehaviour>>;

export type VendorBehaviourName = keyof typeof VENDOR_BEHAVIOURS;

export interface TlsOptions {
  /** Certificate authorities to trust for the central system's certificate (profiles 2 and 3). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate (profile 3). */
  cert?: string | Buffer;
  /** Client private key (profile 3). */
  key?: string | Buffer;
}

export interface ReconnectOptions {
  /** Wait before the first reconnect attempt. Default 1 s. */
  initialDelayS?: number;
  /** Longest wait between attempts. Default 60 s. */
  maxDelayS?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Random spread, 0..1, as a fraction of the delay (seeded by the identity). Default 0. */
  jitter?: number;
}

/** The OCPP version a simulated charge point speaks. */
export type OcppVersion = '1.6' | '2.0.1';

export const OCPP_VERSIONS: readonly OcppVersion[] = ['1.6', '2.0.1'];

export interface LinkOptions {
  /** The OCPP-J endpoint, e.g. `ws://127.0.0.1:9000/ocpp`; the identity is appended (OCPP-J 3.1.1). */
  centralSystemUrl: string;
  identity: string;
  /**
   * The OCPP version spoken: `1.6` (default) or `2.0.1`. Under 2.0.1 the charger behaves the same
   * (cars, meter values, smart charging), its messages translated at the link (sim/v201);
   * `quirks` are 1.6 deviations and do not apply.
   */
  ocppVersion?: OcppVersion;
  /** HTTP Basic password (security profiles 1 and 2); the user is the identity. */
  password?: string;
  /** TLS settings for `wss://` (profiles 2 and 3). */
  tls?: TlsOptions;
  clock?: Clock;
  log?: Logger;
  quirks?: Partial<Quirks>;
  /** Initial values of configuration keys, over the standard defaults. */
  configuration?: Record<string, ConfigurationOverride>;
  /** How long a call may wait for its answer (the MessageTimeout key, errata 3.82). Default 30 s. */
  callTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** How long a reset or firmware installation keeps the charge point away. Default 5 s. */
  rebootDelayS?: number;
}

/** A request the charge point sent, with the action as discriminant. */
export type SentMessage = {
  [A in CpAction]: { action: A; request: OcppRequest<A>; messageId: string };
}[CpAction];
/** The central system's answer to one of the charge point's requests. */
export type ResultMessage = {
  [A in CpAction]: { action: A; request: OcppRequest<A>; response: OcppResponse<A> };
}[CpAction];
/** A request from the central system. */
export type ReceivedMessage = {
  [A in CsAction]: { action: A; request: OcppRequest<A>; messageId: string };
}[CsAction];
/** The charge point's answer to a request from the central system (or the error it answered with). */
export type RepliedMessage = {
  [A in CsAction]: { action: A; request: OcppRequest<A>; response?: OcppResponse<A>; error?: Error };
}[CsAction];

export interface StatusEvent {
  connectorId: number;
  status: OcppRequest<'StatusNotification'>['status'];
  errorCode: OcppRequest<'StatusNotification'>['errorCode'];
  info?: string;
}

export interface TransactionEvent {
  connectorId: number;
  /** The central system's id; undefined while the StartTransaction is unanswered. */
  transactionId?: number;
  idTag: string;
  reason?: OcppRequest<'StopTransaction'>['reason'];
}

/**
 * Every event a simulated charge point emits, with its arguments. Under OCPP 2.0.1 the messages
 * (`sent`, `result`, `received`, `replied`) are the simulator's own, in the 1.6 shapes it thinks
 * in: `sent` carries the message id of the 2.0.1 request that took it; commands 2.0.1 has and the
 * simulator answers without its 1.6 handlers (GetTransactionStatus, ...) have no events.
 */
export interface ChargePointEvents {
  /** The WebSocket is open. */
  connected: [];
  /** The WebSocket closed. */
  disconnected: [{ code: number; reason: string }];
  /** A (re)connect attempt failed. */
  connectFailed: [Error];
  /** The next connect attempt is scheduled. */
  reconnecting: [{ delayMs: number; attempt: number }];
  /** The central system answered a BootNotification. */
  boot: [BootNotificationResponse];
  /** The charge point restarts (Reset, firmware installation). */
  rebooting: [{ reason: string }];
  sent: [SentMessage];
  result: [ResultMessage];
  /** A request of the charge point failed: CALLERROR, timeout, or the connection dropped. */
  callError: [{ action: CpAction; request: unknown; error: Error }];
  received: [ReceivedMessage];
  replied: [RepliedMessage];
  /** A connector changed status (reported at once when online, else when back online). */
  status: [StatusEvent];
  transactionStarted: [TransactionEvent];
  /** The central system assigned a transaction id. */
  transactionId: [TransactionEvent];
  transactionStopped: [TransactionEvent];
  /** A transaction-related message was dropped after TransactionMessageAttempts failures. */
  messageDropped: [{ action: string; error: unknown }];
  /** Every call answered and every queue empty or waiting: nothing is on its way. */
  idle: [];
}

/** Raised when a request cannot go out now (offline or not accepted). */
export class NotConnectedError extends Error {
  constructor(action: string, why: string) {
    super(`${action} not sent: ${why}`);
    this.name = 'NotConnectedError';
  }
}

/** The answer to a central-system request, plus what to do once the answer is on its way. */
export interface CommandOutcome<A extends CsAction = CsAction> {
  response: OcppResponse<A>;
  /** Runs after the answer has been written to the socket (TriggerMessage, Reset, ...). */
  after?: () => void;
}

/** Replaces the charge point's answer to a central-system request (vendor behaviour). */
export type CommandOverride<A extends CsAction> = (
  request: OcppRequest<A>,
  next: () => Promise<OcppResponse<A>>,
) => OcppResponse<A> | Promise<OcppResponse<A>>;
