import type { SetPoint } from '../contracts';
import type { CentralSystemAction } from '../ocpp/actions';
import type { ChargerCapabilities, RateUnit } from './capabilities';
import type { FallbackMemory } from './plan';
import type { LimitMethod } from './strategies';
import type { MeterVerdict, ScheduleVerdict } from './verification';

/** What the profile manager takes and tells: set-points in, reports out (see ChargingProfileManager). */

/**
 * `applied`: a command carried the limit and the charger accepted it; `duplicate`: the charger
 * already has it; `superseded`: a newer set-point for the connector came first; `deferred`: the
 * charger is not connected (it gets the limit when it connects); `failed`: refused every way, or
 * no answer (it is sent again with backoff).
 */
export type LimitOutcome = 'applied' | 'duplicate' | 'superseded' | 'deferred' | 'failed';

export interface CommandAttempt {
  action: CentralSystemAction;
  method?: LimitMethod;
  request: unknown;
  response?: unknown;
  error?: string;
  /** The charger refused it (Rejected, NotSupported, a CALLERROR, a composite schedule above the limit); the next way was tried. */
  refused?: boolean;
  /** It was meant for a transaction that ended before the charger answered: not a way that failed. */
  transactionEnded?: boolean;
  /**
   * A TxProfile refused for a reason the protocol explains (OCPP 1.6 §3.13.2, §5.16, §5.18): the
   * charger had not been answered the StartTransaction of its transaction yet, or the transaction
   * was deauthorized (its id tag answered other than Accepted) and is being stopped. Not a way
   * that failed: nothing is learned from it, and the limit goes again once the charger knows the
   * transaction (or as an idle limit once it ended).
   */
  explained?: string;
}

export interface Verification {
  schedule: ScheduleVerdict;
  /** The composite schedule's limit now, in the unit of the profile. */
  scheduleLimit?: number;
  meter: MeterVerdict;
  /** The last measured current per phase, A. */
  measuredA?: number;
  /** The measured current stayed above the limit: the load manager cannot count on this charger. */
  ignoresLimit: boolean;
  /** The schedule (where asked) matches and a reading after the follow delay was within the limit. */
  verified: boolean;
}

export interface LimitReport {
  chargePointId: string;
  connectorId: number;
  /** The limit for the charger, A per phase, rounded down for it; 0 is a pause. */
  limitA: number;
  /** The set-point's limit as given. */
  requestedLimitA: number;
  phases?: number;
  reason: string;
  outcome: LimitOutcome;
  strategy: string;
  method?: LimitMethod;
  unit?: RateUnit;
  /** The command that carried the limit, and the answer. */
  action?: CentralSystemAction;
  request?: unknown;
  response?: unknown;
  /** Every command sent for this set-point, in order. */
  attempts: CommandAttempt[];
  /** The first way was refused; this one took over. */
  fallback?: { from: LimitMethod; to: LimitMethod };
  verification: Verification;
  /**
   * Sent on the manager's own initiative, not answering a set-point that waits: again after a
   * reconnect or boot, a retry, at the end of a session, for connector 0's limit on a connector,
   * or when an offline charger connected.
   */
  resent?: true;
  error?: string;
  at: string;
}

export interface VerificationReport {
  chargePointId: string;
  connectorId: number;
  limitA: number;
  method?: LimitMethod;
  verification: Verification;
  at: string;
}

export interface RemoteStartReport {
  chargePointId: string;
  connectorId?: number;
  idTag: string;
  status: 'Accepted' | 'Rejected';
  /** The limit sent along as a TxProfile, if one was. */
  embeddedLimitA?: number;
  attempts: CommandAttempt[];
}

/** What the manager knows about a charger, for flows and dashboards. */
export interface ChargerProfileState {
  chargePointId: string;
  strategy: string;
  capabilities?: ChargerCapabilities;
  /** What worked last and what was refused, per situation (session/idle, limit/pause). */
  memory: FallbackMemory;
  /** Whether the charger answers GetCompositeSchedule. */
  compositeSchedule: boolean;
  connectors: {
    connectorId: number;
    requestedLimitA?: number;
    /** The connector's limit: its own set-point's, or connector 0's where that is lower. */
    limitA?: number;
    phases?: number;
    reason?: string;
    method?: LimitMethod;
    held: boolean;
    /** The charger accepted a command that applies this limit now. */
    confirmed: boolean;
    verification: Verification;
  }[];
}

/** A set-point that cannot be carried out as given. */
export class SetPointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetPointError';
  }
}

/** A set-point as the manager takes it: `phases` may be left out (unknown). */
export type SetPointInput = Omit<SetPoint, 'phases'> & { phases?: SetPoint['phases'] };

/** Checks a set-point from a flow; `index` names it within a list. `phases` may be left out. */
export function checkSetPoint(value: unknown, index?: number): SetPointInput {
  const where = index === undefined ? 'set-point' : `set-point [${index}]`;
  if (typeof value !== 'object' || value === null) throw new SetPointError(`${where}: an object is needed`);
  const setPoint = value as Record<string, unknown>;
  const { chargePointId, connectorId, limitA, phases, reason, fallbackA, voltageV } = setPoint;
  if (typeof chargePointId !== 'string' || chargePointId === '')
    throw new SetPointError(`${where}: chargePointId must be the charger's identity`);
  if (!Number.isInteger(connectorId) || (connectorId as number) < 0)
    throw new SetPointError(`${where}: connectorId must be a whole number from 0`);
  if (typeof limitA !== 'number' || !Number.isFinite(limitA) || limitA < 0)
    throw new SetPointError(`${where}: limitA must be a number of amperes from 0`);
  if (phases !== undefined && phases !== 1 && phases !== 2 && phases !== 3)
    throw new SetPointError(`${where}: phases must be 1, 2 or 3`);
  if (reason !== undefined && typeof reason !== 'string')
    throw new SetPointError(`${where}: reason must be text`);
  if (
    fallbackA !== undefined &&
    (typeof fallbackA !== 'number' || !Number.isFinite(fallbackA) || fallbackA < 0)
  )
    throw new SetPointError(`${where}: fallbackA must be a number of amperes from 0`);
  if (voltageV !== undefined && (typeof voltageV !== 'number' || !(voltageV >= 50 && voltageV <= 500)))
    throw new SetPointError(`${where}: voltageV must be a number of volts from 50 to 500`);
  return {
    chargePointId,
    connectorId: connectorId as number,
    limitA,
    ...(phases === undefined ? {} : { phases: phases as SetPoint['phases'] }),
    reason: reason ?? '',
    ...(fallbackA === undefined ? {} : { fallbackA: fallbackA as number }),
    ...(voltageV === undefined ? {} : { voltageV: voltageV as number }),
  };
}
