import { NOMINAL_VOLTAGE_V } from '../electrical';
import {
  ChargingProfileStore,
  type ClearCriteria,
  type ConnectorView,
  type InstalledProfile,
  type ModelProfile,
} from '../ocpp/charging-profiles';

/** A connector as the operator's profiles see it: its running transaction (the charger's id) if any. */
export interface OperatorConnector {
  connectorId: number;
  transaction?: { chargerId: number; startMs: number };
}

/**
 * The charging profiles the operator's backend sent a charger, kept by ampflow instead of being
 * sent to the charger (smart charging composed with the load manager): what they allow each
 * connector at a moment, by the rules of OCPP 1.6 §3.13 a charger applies (stack levels, validity,
 * Absolute/Recurring/Relative schedules, W through the nominal voltage, TxProfile over
 * TxDefaultProfile, a ChargePointMaxProfile over all). The rules have one implementation, the
 * charging-profile model of lib/ocpp/charging-profiles (the simulated charger's too); this class
 * only says which connector and transaction a profile is for.
 */
export class OperatorProfiles {
  private readonly store = new ChargingProfileStore();

  constructor(saved: readonly InstalledProfile[] = []) {
    for (const installed of saved) {
      this.store.install(
        installed.connectorId,
        installed.profile,
        installed.installedAtMs,
        installed.transactionKey,
      );
    }
  }

  /** What is kept durably (with the charger's record). */
  toJSON(): InstalledProfile[] {
    return this.store.all().map((installed) => structuredClone(installed));
  }

  /**
   * A SetChargingProfile of the backend (1.6's, or 2.0.1's in the model's shape); `transaction` is
   * the one running on its connector (the charger's id, and the backend's id for it). Rejected as a
   * charger would reject it (5.16).
   */
  set(
    request: { connectorId: number; csChargingProfiles: ModelProfile },
    transaction: { chargerId: number; upstreamId: number } | undefined,
    nowMs: number,
  ): { status: 'Accepted' } | { status: 'Rejected'; reason: string } {
    const profile = request.csChargingProfiles;
    if (profile.chargingProfilePurpose === 'ChargePointMaxProfile' && request.connectorId !== 0) {
      return { status: 'Rejected', reason: 'a ChargePointMaxProfile is for connector 0' };
    }
    if (profile.chargingProfilePurpose === 'TxProfile') {
      if (request.connectorId === 0)
        return { status: 'Rejected', reason: 'a TxProfile is for a connector, not 0' };
      if (!transaction)
        return { status: 'Rejected', reason: `no transaction runs on connector ${request.connectorId}` };
      if (profile.transactionId !== undefined && profile.transactionId !== transaction.upstreamId) {
        return {
          status: 'Rejected',
          reason: `transaction ${profile.transactionId} does not run on connector ${request.connectorId}`,
        };
      }
      this.store.install(request.connectorId, profile, nowMs, transaction.chargerId);
      return { status: 'Accepted' };
    }
    this.store.install(request.connectorId, profile, nowMs);
    return { status: 'Accepted' };
  }

  /** A ClearChargingProfile of the backend. */
  clear(request: ClearCriteria, nowMs: number): { status: 'Accepted' | 'Unknown' } {
    return { status: this.store.clear(request, nowMs) ? 'Accepted' : 'Unknown' };
  }

  /** The transaction ended: its TxProfiles go (3.13.1). */
  endTransaction(chargerId: number): void {
    this.store.removeTransactionProfiles(chargerId);
  }

  /**
   * What the profiles allow each connector at `nowMs`, in A per phase; undefined where none limits
   * it. A ChargePointMaxProfile caps the charger as a whole: each of its `connectors` gets an equal
   * share of it (never more than the backend allows in all, though a single car may get less).
   */
  limitsAt(connectors: readonly OperatorConnector[], nowMs: number): Map<number, number | undefined> {
    const limits = new Map<number, number | undefined>();
    const whole = this.store.chargePointLimitAt(nowMs, NOMINAL_VOLTAGE_V, nowMs);
    const shareA = whole ? whole.currentA / Math.max(1, connectors.length) : undefined;
    for (const connector of connectors) {
      const own = this.store.transactionLimitAt(view(connector), nowMs, NOMINAL_VOLTAGE_V, nowMs)?.currentA;
      const limit = own === undefined ? shareA : shareA === undefined ? own : Math.min(own, shareA);
      limits.set(connector.connectorId, limit === undefined ? undefined : Math.floor(limit * 10) / 10);
    }
    return limits;
  }

  /** When the profiles next change what some connector may get, if within a week. */
  nextChangeAfter(connectors: readonly OperatorConnector[], nowMs: number): number | undefined {
    return this.store.nextChangeAfter(nowMs, {
      voltageV: NOMINAL_VOLTAGE_V,
      connectors: connectors.map(view),
    });
  }

  get empty(): boolean {
    return this.store.all().length === 0;
  }
}

function view(connector: OperatorConnector): ConnectorView {
  return {
    connectorId: connector.connectorId,
    phases: 3,
    maxCurrentA: Number.POSITIVE_INFINITY,
    ...(connector.transaction
      ? { transaction: { key: connector.transaction.chargerId, startMs: connector.transaction.startMs } }
      : {}),
  };
}
