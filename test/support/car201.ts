import { EventEmitter } from 'node:events';
import type { Charger201 } from './charger201';
import type { WatchedCharger } from './peer-site';

/** A car on an EVSE: the most it takes per phase and on how many phases. */
export interface Car201 {
  maxA: number;
  phases: 1 | 2 | 3;
}

/**
 * Cars on the EVSEs of an OCPP 2.0.1 test charger (charger201.ts), as the car-park helpers watch
 * chargers (peer-site.ts WatchedCharger): a car draws what its EVSE offers under the charging
 * profiles the charger keeps, up to its own maximum, from the moment a profile changes; the charger
 * reports it with a TransactionEvent Updated. `change` fires when a draw changes, `reported` once
 * the report was answered. The EVSE is what the central system calls the connector.
 */
export class Cars201 extends EventEmitter implements WatchedCharger {
  private readonly cars = new Map<number, { car: Car201; drawA: number[]; transactionId: string }>();
  private energyWh = 0;

  constructor(readonly charger: Charger201) {
    super();
    charger.on('call', ({ action }: { action: string }) => {
      if (action === 'SetChargingProfile' || action === 'ClearChargingProfile') void this.follow();
    });
  }

  get identity(): string {
    return this.charger.options.identity;
  }

  hasConnector(connectorId: number): boolean {
    return connectorId >= 1 && connectorId <= (this.charger.options.evses ?? 1);
  }

  drawA(connectorId: number): readonly number[] {
    return this.cars.get(connectorId)?.drawA ?? [0, 0, 0];
  }

  offeredA(connectorId: number): number {
    return this.charger.offeredA(connectorId);
  }

  statusOf(connectorId: number): string {
    return this.cars.has(connectorId) ? 'Charging' : 'Available';
  }

  /** A car plugs in on `evseId`, the driver badges `idToken`: the transaction starts and it charges. */
  async plugIn(evseId: number, idToken: string, car: Car201): Promise<string> {
    await this.charger.status(evseId, 'Occupied');
    const { transactionId } = await this.charger.startTransaction(evseId, idToken, {
      meterWh: this.energyWh,
    });
    this.cars.set(evseId, { car, drawA: [0, 0, 0], transactionId });
    await this.follow();
    return transactionId;
  }

  /** The driver ends the session (badge), then unplugs. */
  async leave(evseId: number, energyWh: number): Promise<void> {
    const entry = this.cars.get(evseId);
    if (!entry) return;
    this.cars.delete(evseId);
    this.emit('change');
    this.energyWh = energyWh;
    await this.charger.stopTransaction(entry.transactionId, { energyWh });
    await this.charger.status(evseId, 'Available');
    this.emit('reported');
  }

  /** Every car takes what its EVSE offers now; changed draws are reported. */
  private async follow(): Promise<void> {
    for (const [evseId, entry] of this.cars) {
      const offered = this.charger.offeredA(evseId);
      const perPhase = offered < 6 ? 0 : Math.min(offered, entry.car.maxA);
      const drawA = [0, 1, 2].map((phase) => (phase < entry.car.phases ? perPhase : 0));
      if (drawA.every((a, i) => a === entry.drawA[i])) continue;
      entry.drawA = drawA;
      this.emit('change');
      await this.charger.meterValues(entry.transactionId, { currentA: drawA, energyWh: this.energyWh });
      this.emit('reported');
    }
  }
}
