import type { Clock } from '../clock';
import { IEC_61851_MINIMUM_A } from '../electrical';
import type { Logger } from '../log';
import type { StrategyChoice } from './strategies';
import type { VerificationOptions } from './verification';

export interface ProfileManagerOptions {
  /** The strategy for chargers without one of their own: `auto` (the default), a preset name, or a preset with changes. */
  strategy?: StrategyChoice;
  /** Strategies per charge point id. */
  chargers?: Record<string, StrategyChoice>;
  /** Nominal voltage for limits in W (W = A × V × phases). Default 230 V. */
  voltageV?: number;
  /** A limit above 0 but below this is a pause: IEC 61851 cannot signal less than 6 A. Default 6 A. */
  minimumCurrentA?: number;
  /** An increase goes out no sooner than this after the last change of the connector; decreases at once. Default 10 s. */
  increaseIntervalMs?: number;
  /** Ask GetCompositeSchedule after a profile is accepted. Default true. */
  verifySchedule?: boolean;
  /** Duration asked in GetCompositeSchedule, s. Default 300. */
  compositeDurationS?: number;
  verification?: Partial<VerificationOptions>;
  /** After a charger reconnects without booting, wait this long before re-sending (a boot usually follows at once). Default 2 s. */
  reconnectSettleMs?: number;
  /**
   * After a transaction ends, wait this long before sending the connector's limit for the next
   * session: the load manager answers the same stop with a set-point of its own a moment later,
   * and the connector then gets one instruction (the later decision), not two. A set-point that
   * arrives meanwhile goes at once. Default 1 s.
   */
  sessionEndSettleMs?: number;
  /** Answer timeout per command; default: the central system's. */
  callTimeoutMs?: number;
  /**
   * The current every connector of a charger falls to once ampflow has lost it for
   * `offlineFallbackAfterS` (its offline fallback, A per phase): a permanent TxDefaultProfile on
   * connector 0 at stack level 0, under the set-point profiles, which carry a `validTo` and are
   * re-sent while the charger is connected. Only where the charger's set-points go as profiles at
   * a stack level above 0. Default 6 A (IEC 61851 minimum); `null` switches the fallback off.
   */
  offlineFallbackA?: number | null;
  /** How long after the connection is lost a charger falls to its offline fallback, s. Default 300. */
  offlineFallbackAfterS?: number;
  /**
   * Ask each charger that gets set-points to sample what the load manager needs as evidence, once
   * per boot: MeterValuesSampledData with Current.Import (and Current.Offered where it takes it,
   * its other measurands kept) and MeterValueSampleInterval at `samplingIntervalS` (a shorter one is
   * kept). Default true; false for a flow that configures its chargers itself.
   */
  configureSampling?: boolean;
  /** The MeterValueSampleInterval asked for, s. Default 10. */
  samplingIntervalS?: number;
  /**
   * The MeterValueSampleInterval asked for while a connector's limit moves (a set-point of a
   * connector with a session changed in the last `fastSamplingForS`), s; the charger goes back to
   * `samplingIntervalS` once every limit has been steady that long (fast-sampling.ts). Per charger,
   * at most one change per 30 s. Default 5; 0 switches it off.
   */
  fastSamplingIntervalS?: number;
  /** How long after a limit's last change the fast interval is kept, s. Default 60. */
  fastSamplingForS?: number;
  /**
   * Configuration keys the charger's operator backend keeps (lib/upstream `backendKeepsKey`): read,
   * never changed. Default: none.
   */
  backendKeepsKey?: (chargePointId: string, key: string) => boolean;
  /** First profile id of the range this package uses (ids are base + 100/200/300/400 + connector). Default 7000. */
  profileIdBase?: number;
  clock?: Clock;
  log?: Logger;
}

/** The defaults of {@link ProfileManagerOptions}, read where each is used. */
export const DEFAULTS = {
  minimumCurrentA: IEC_61851_MINIMUM_A,
  increaseIntervalMs: 10_000,
  compositeDurationS: 300,
  reconnectSettleMs: 2000,
  sessionEndSettleMs: 1000,
  offlineFallbackA: IEC_61851_MINIMUM_A,
  offlineFallbackAfterS: 300,
  samplingIntervalS: 10,
  fastSamplingIntervalS: 5,
  fastSamplingForS: 60,
};
