import type { TimerHandle } from '../clock';
import { isCommandFailure } from '../contracts';
import type { ChargerCapabilities } from './capabilities';
import type { Target } from './limits';
import type { Attempt, FallbackMemory, PlanSlot, RefusalTimes } from './plan';
import type { CommandAttempt, LimitReport, Verification } from './reports';
import type { RetryTimer } from './retry';
import type { ChargingStrategy, LimitMethod } from './strategies';
import type { LimitWatch } from './verification';

/**
 * What the profile manager keeps per charger and connector, and small rules over it. Internal to
 * lib/profiles.
 */

export interface Wanted {
  requestedLimitA: number;
  phases?: number;
  reason: string;
}

export interface Waiter extends Wanted {
  resolve: (report: LimitReport) => void;
  /** A profile re-sent before its validTo: the same limit, reported only when it fails. */
  refresh?: true;
  /** Commands sent for this set-point before its composite schedule showed the limit was not taken. */
  carried?: CommandAttempt[];
  resent?: true;
}

/** What holds a connector at a limit now, as far as the charger confirmed it. */
export interface Enforcement {
  method: LimitMethod;
  target: Target;
  /** The transaction a TxProfile belongs to. */
  transactionId?: number;
  /** When the profile ends on its own (its validTo): then it is no longer in force. */
  validToMs?: number;
}

/**
 * A RemoteStartTransaction that carried a TxProfile. `answer`: `waiting` while on its way (the
 * transaction may be reported before the answer: `transactionId` then waits for it), `accepted`,
 * or `unknown` (no answer: the profile may or may not come with a transaction).
 */
export interface RemoteStartEntry {
  idTag: string;
  atMs: number;
  target: Target;
  answer: 'waiting' | 'accepted' | 'unknown';
  transactionId?: number;
}

export interface ConnectorEntry {
  connectorId: number;
  /** The connector's own set-point. */
  wanted?: Wanted;
  /** The limit on its way to the charger now (sent, not answered yet). */
  inFlight?: Target;
  resume?: Target;
  /** Our TxProfile, bound to its transaction. */
  session?: Target & { transactionId: number };
  /** A TxProfile of ours may be installed for the running transaction (a command without answer, a reconnect). */
  sessionUnknown: boolean;
  /** Our TxDefaultProfile on this connector, and when the charger accepted it. */
  standing?: Target;
  standingAtMs?: number;
  /** When our TxDefaultProfile on this connector ends (its validTo), where it has one. */
  standingValidToMs?: number;
  /** The central system was told this connector falls to the offline fallback when ampflow loses it. */
  fallbackConfirmed?: boolean;
  /** The central system was told this connector takes no fallback and keeps its last limit. */
  keepsNoted?: boolean;
  /** The step its limits go in as last told to the central system (`stepA|why`; '' for none). */
  limitStepTold?: string;
  /** The offline fallback the load manager chose for it (`SetPoint.fallbackA`), A per phase. */
  plannedFallbackA?: number;
  /** The transaction whose composite schedule showed that the TxDefaultProfile does not reach it. */
  standingIgnoredBy?: number;
  enforced?: Enforcement;
  /** The last target let through the rate limit: charger-wide limits are made of these. */
  released?: Target;
  lastChange?: { atMs: number; target: Target };
  holdTimer?: TimerHandle;
  waiter?: Waiter;
  /** Send even if the charger seems to have it (after a reconnect or boot). */
  force: boolean;
  /** The next send is a retry: ways refused before are asked again when no other is left. */
  retrying: boolean;
  /** The TxProfile of the ended transaction is to be cleared. */
  clearTxProfile: boolean;
  /**
   * The transaction whose TxProfile the charger refused for a reason the protocol explains (its
   * StartTransaction not answered yet, or deauthorized): the limit goes again once the charger
   * knows the transaction (events.ts), or as an idle limit once it ended.
   */
  awaitingStart?: number;
  /**
   * A TxProfile refusal remembered for a running transaction (attempts.ts): forgotten if that
   * transaction's stop arrives within TX_END_EXPLAINS_MS (events.ts), the ending explaining it.
   */
  txRefusal?: { transactionId: number; slot: PlanSlot; keys: string[]; atMs: number };
  /**
   * The set-point whose composite schedule was found below it and corrected (verifier.ts): stale
   * profiles of ours cleared and the limit sent again, once per set-point, never in a loop.
   */
  lowerCorrected?: Wanted;
  /** A RemoteStartTransaction with a limit embedded, on its way or accepted. */
  remoteStart?: RemoteStartEntry;
  watch?: LimitWatch;
  watchTransactionId?: number;
  lastMethod?: LimitMethod;
  /** The limit the central system was told could not be set (limit-failures.ts). */
  failedLimitA?: number;
  /** The last failure logged, so that a repeated one is not logged again. */
  lastWarning?: string;
  verification: Verification;
  /** The last read of the composite schedule after a limit (verifier.ts decides when one is due). */
  scheduleRead?: ScheduleRead;
}

/**
 * A read of a connector's composite schedule: the way the limit went (method, stack level, unit,
 * transaction), when, and how many reads of that way in a row matched.
 */
export interface ScheduleRead {
  way: string;
  atMs: number;
  matched: number;
}

/** Our ChargePointMaxProfile: none, installed with a limit, or maybe installed (no answer, a restart). */
export type ChargePointMaxState =
  | { state: 'none' }
  | { state: 'unknown' }
  | { state: 'installed'; limitA: number; wattPhases: number };

/**
 * The offline fallback (offline-fallback.ts): off for this charger (and why), wanted (installed
 * before the next limit goes), or installed at `limitA` (the charger accepted it).
 */
export type FallbackState =
  | { state: 'off'; reason?: string }
  /** `installedA`: the one in force until this one is; `replace`: it goes even without a new limit. */
  | { state: 'wanted'; installedA?: number; replace?: boolean }
  | { state: 'installed'; limitA: number; atMs: number };

export interface ChargerEntry {
  chargePointId: string;
  /** It spoke OCPP 2.0.1 when last seen connected: its reasons are in 2.0.1's words (ProfileContext.words). */
  ocpp201?: boolean;
  /** Volts per ampere and phase its last set-point named (SetPoint.voltageV: an IT site); ProfileContext.voltsFor. */
  siteVoltageV?: number;
  strategy: ChargingStrategy;
  capabilities?: ChargerCapabilities;
  learning?: Promise<void>;
  memory: FallbackMemory;
  refusedAtMs: RefusalTimes;
  firmware?: string;
  compositeUnsupported: boolean;
  remoteStartProfileRefused?: string;
  connectors: Map<number, ConnectorEntry>;
  queued: Set<number>;
  pumping: boolean;
  /**
   * A configuration command of the sampling (sampling.ts) is on its way: the queue waits for it
   * (one CALL at a time), but it changes no limit, so a meter reading meanwhile still tells.
   */
  configuring: boolean;
  settleTimer?: TimerHandle;
  /** What waits for the queue to empty (composite-schedule reads, reports of limits taken), and how many reads run. */
  checks: (() => Promise<void>)[];
  checking: number;
  /** Limits the charger accepted, per connector, to be told to the central system (confirmations.ts). */
  confirming: Map<number, number>;
  /** The step after the queue (the confirmations, then `checks`) is due on a later turn. */
  afterQueueDue: boolean;
  chargePointMax: ChargePointMaxState;
  /** The vendor key: the value this manager set last (undefined: not set or unknown), and the value before. */
  key: { valueA?: number; baseline?: string };
  /** A charger-wide limit nothing needs could not be removed: try again (with the retry's backoff). */
  releasePending: boolean;
  /** The last refusal to remove a charger-wide limit that was logged (once per cause). */
  releaseRefusal?: string;
  /** The last removal failed: it waits for the retry timer (nothing is on its way meanwhile). */
  releaseWaits: boolean;
  /**
   * A command got no answer: the charger may still carry it out, even after newer ones. At the next
   * retry every limit goes again once, so the last word is the manager's.
   */
  unanswered: boolean;
  /** Per connector, the transaction connector 0's TxDefaultProfile was seen not to reach (its composite schedule stayed above). */
  zeroMisses: Map<number, number>;
  /**
   * The transaction last seen per connector: from when (the earlier of its start and our first
   * sight, `sinceMs`) and when we first saw it (`seenMs`, our clock).
   */
  transactions: Map<number, { transactionId?: number; sinceMs: number; seenMs: number }>;
  /**
   * What the charger was answered to the StartTransaction of each transaction running on it, as far
   * as the central system told (events.ts): `answered` once the answer went out (until then the
   * charger does not know the transaction id, and a strict one refuses a TxProfile for it), and
   * the idTagInfo status it carried (other than Accepted: the charger stops the transaction).
   * A transaction not in here was started before the manager watched: known to the charger.
   */
  starts: Map<number, StartAnswer>;
  retry: RetryTimer;
  settled: (() => void)[];
  fallback: FallbackState;
  /** What was last logged about the offline fallback (said once per cause). */
  fallbackNote?: string;
  /** Re-sends the profiles with a validTo before they end. */
  refreshTimer?: TimerHandle;
  /** Meter samples are to be asked for in this boot (sampling.ts; undefined: not looked at yet), and how far it got. */
  samplingDue?: boolean;
  sampling?: SamplingProgress;
  /** Its readings' interval while limits move and once they are steady (fast-sampling.ts). */
  sampleRate?: SampleRate;
  /** The facts last written to the charger's durable record, to write only changes. */
  stored?: string;
}

/** What a charger was answered to a StartTransaction (ChargerEntry.starts). */
export interface StartAnswer {
  connectorId: number;
  answered: boolean;
  /** The idTagInfo status of the answer (undefined: not seen). */
  status?: string;
}

/** A charger's asking for meter samples (sampling.ts), one command at a time: the keys read, the changes tried (key → value) and their answers (`key=value` → status). */
export interface SamplingProgress {
  read?: { sampled?: string[]; intervalS?: number; maxLength?: number };
  tried: Map<string, string>;
  answers: Map<string, string>;
}

/**
 * A charger's MeterValueSampleInterval as fast-sampling.ts keeps it: the interval of the steady
 * charger (`baseS`, what the boot's asking settled on) and what it reports now (`nowS`, confirmed),
 * what was asked last (`askedS`, answered or not, `askedAtMs`), the latest set-point change of a
 * connector with a session (`movedAtMs`), and why it is not asked again (`refused`: its answer).
 */
export interface SampleRate {
  baseS?: number;
  /** The interval can be changed (not refused at boot, not kept by the operator's backend). */
  changeable: boolean;
  /** What the boot's asking reported, with which the fast interval's outcome is told. */
  outcome?: { perPhaseCurrents: boolean; why?: string };
  nowS?: number;
  askedS?: number;
  askedAtMs?: number;
  movedAtMs?: number;
  refused?: string;
  /** A refusal that may still take effect at a reboot (RebootRequired): the steady interval is asked once more. */
  undo?: boolean;
  /** The fast interval it had before a boot (ours, not the installer's). */
  leftS?: number;
  inFlight: boolean;
  timer?: TimerHandle;
}

/** One set-point on its way: what is sent, for which situation, and what happened so far. */
export interface Sending {
  charger: ChargerEntry;
  connector: ConnectorEntry;
  target: Target;
  waiter: Waiter;
  transactionId: number | undefined;
  slot: PlanSlot;
  /** Every command sent for it, in order. */
  attempts: CommandAttempt[];
  /** Why ways were refused, for the log. */
  refusals: string[];
}

export function isVerified(verification: Verification): boolean {
  return (
    verification.schedule !== 'differs' &&
    verification.schedule !== 'lower' &&
    verification.meter === 'within'
  );
}

export function isOffline(err: unknown): boolean {
  return isCommandFailure(err) && err.code === 'Offline';
}

/** The charger answered, and the answer means it does not take this (not a lost connection or timeout). */
export function isRefusal(err: unknown): boolean {
  return isCommandFailure(err) && (err.code === 'CallError' || err.code === 'InvalidResponse');
}

export function describe(attempt: Attempt): string {
  return attempt.method === 'ConfigurationKey'
    ? 'the configuration key'
    : `${attempt.method} (stackLevel ${attempt.stackLevel}, ${attempt.unit})`;
}
