import {
  ChargingProfileStore,
  type ConnectorView,
  type InstalledProfile,
  type Limit,
  type Period,
} from '../lib/ocpp/charging-profiles';

/**
 * The simulated charger's charging profiles: the shared model (lib/ocpp/charging-profiles), with
 * the deviations from OCPP some charger models show switched on where the simulator plays one
 * (VendorBehaviour in types.ts). Only the simulator imitates chargers, so only it has them.
 */

/** How the store deviates from OCPP 1.6, as some charger models do (see VendorBehaviour in types.ts). */
export interface StoreBehaviour {
  /** numberPhases is read as absent: W over 3 phases, no switch to one phase. */
  ignoreNumberPhases: boolean;
  /** A TxDefaultProfile applies to transactions that start after it was installed only. */
  txDefaultFromNextSession: boolean;
  /** Profiles are kept and reported (GetCompositeSchedule) but do not limit the current offered. */
  ignoreLimits: boolean;
  /** The only currents offered; a scheduled limit is rounded down to one of them (0 below the first). */
  currentStepsA: readonly number[];
}

const OCPP_BEHAVIOUR: StoreBehaviour = {
  ignoreNumberPhases: false,
  txDefaultFromNextSession: false,
  ignoreLimits: false,
  currentStepsA: [],
};

/** A TxDefaultProfile that was replaced or cleared while transactions that started with it may run on. */
interface RetiredProfile extends InstalledProfile {
  retiredAtMs: number;
}

/** Retired TxDefaultProfiles kept for running transactions (txDefaultFromNextSession); older ones go. */
const RETIRED_KEPT = 50;

export class VendorProfileStore extends ChargingProfileStore {
  private behaviour: StoreBehaviour = OCPP_BEHAVIOUR;
  private retired: RetiredProfile[] = [];

  /** Switches vendor deviations on (the default is OCPP 1.6 with the errata). */
  configure(behaviour: Partial<StoreBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  /** The limit offered: none from the profiles where they are ignored, else rounded down to a step. */
  override transactionLimitAt(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    const scheduled = this.behaviour.ignoreLimits
      ? undefined
      : this.scheduledTxLimit(connector, atMs, voltageV, nowMs);
    const steps = this.behaviour.currentStepsA;
    if (!scheduled || steps.length === 0) return this.withLocalCap(scheduled, connector.phases);
    const stepA = [...steps].sort((a, b) => b - a).find((step) => step <= scheduled.currentA + 1e-9) ?? 0;
    return this.withLocalCap({ ...scheduled, currentA: stepA }, connector.phases);
  }

  override chargePointLimitAt(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    return this.behaviour.ignoreLimits ? undefined : super.chargePointLimitAt(atMs, voltageV, nowMs);
  }

  protected override statedPhases(period: Period): number | undefined {
    return this.behaviour.ignoreNumberPhases ? undefined : period.numberPhases;
  }

  /**
   * A charger that applies a TxDefaultProfile from the next transaction on keeps the one a running
   * transaction started with, even after it was replaced or cleared.
   */
  protected override removed(removed: readonly InstalledProfile[], nowMs: number): void {
    if (!this.behaviour.txDefaultFromNextSession) return;
    for (const installed of removed) {
      if (installed.profile.chargingProfilePurpose !== 'TxDefaultProfile') continue;
      this.retired.push({ ...installed, retiredAtMs: nowMs });
    }
    if (this.retired.length > RETIRED_KEPT) this.retired.splice(0, this.retired.length - RETIRED_KEPT);
  }

  protected override formerProfiles(): readonly InstalledProfile[] {
    return this.retired;
  }

  /**
   * A charger that takes a TxDefaultProfile from the next transaction on gives a running one the
   * profiles that were in place when it started.
   */
  protected override txDefaults(
    connectorId: number,
    transaction: ConnectorView['transaction'],
  ): InstalledProfile[] {
    const startMs = this.behaviour.txDefaultFromNextSession ? transaction?.startMs : undefined;
    if (startMs === undefined) return super.txDefaults(connectorId, transaction);
    return [...this.profiles, ...this.retired].filter(
      (p) =>
        p.profile.chargingProfilePurpose === 'TxDefaultProfile' &&
        p.connectorId === connectorId &&
        p.installedAtMs <= startMs &&
        (!('retiredAtMs' in p) || (p as RetiredProfile).retiredAtMs > startMs),
    );
  }
}
