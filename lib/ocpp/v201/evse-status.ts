import type { ConnectorStatus } from '../../contracts';

/**
 * What the shared model calls a connector's status, from what an OCPP 2.0.1 charger reports in two
 * places: StatusNotification gives each physical connector of an EVSE as Available, Occupied,
 * Reserved, Unavailable or Faulted, and TransactionEvent gives the transaction's chargingState
 * (Charging, EVConnected, SuspendedEV, SuspendedEVSE, Idle). The shared model has one status per
 * EVSE (the unit a charging limit addresses) in the 1.6 words the load manager reads: Charging,
 * SuspendedEV and SuspendedEVSE as they are, Preparing before the car charges, Finishing after its
 * transaction ended while the cable is still in.
 */
export class EvseStatus {
  /** Each connector's own status, by connectorId. */
  private readonly connectors = new Map<number, string>();
  private chargingState: string | undefined;
  private transactionRunning = false;
  private reported: ConnectorStatus | undefined;

  connector(connectorId: number, status: string): void {
    this.connectors.set(connectorId, status);
    // The cable is out: what the last car did says nothing of the next.
    if (!this.transactionRunning && ![...this.connectors.values()].includes('Occupied'))
      this.chargingState = undefined;
  }

  transaction(running: boolean, chargingState: string | undefined): void {
    this.transactionRunning = running;
    if (chargingState !== undefined) this.chargingState = chargingState;
    if (!running && chargingState === undefined) this.chargingState = undefined;
  }

  /** The shared status now; `changed` when it differs from the one last taken. */
  take(): { status: ConnectorStatus; changed: boolean } {
    const status = this.status();
    const changed = status !== this.reported;
    this.reported = status;
    return { status, changed };
  }

  private status(): ConnectorStatus {
    const states = [...this.connectors.values()];
    const occupied = states.includes('Occupied') || this.transactionRunning;
    if (occupied) return this.occupied();
    // One usable connector makes the EVSE usable; a fault shows only where nothing else can charge.
    if (states.includes('Reserved')) return 'Reserved';
    if (states.includes('Available')) return 'Available';
    if (states.includes('Unavailable')) return 'Unavailable';
    if (states.includes('Faulted')) return 'Faulted';
    return 'Available';
  }

  private occupied(): ConnectorStatus {
    switch (this.chargingState) {
      case 'Charging':
        return 'Charging';
      case 'SuspendedEV':
        return 'SuspendedEV';
      case 'SuspendedEVSE':
        return 'SuspendedEVSE';
      default:
        return this.transactionRunning ? 'Preparing' : this.chargingState ? 'Finishing' : 'Preparing';
    }
  }
}
