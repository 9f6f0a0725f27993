import type { ChargingProfile } from '../lib/ocpp/charging-profiles';
import type { OcppRequest } from '../lib/ocpp/messages';
import { type Connector, iso, type StopReason, type Transaction } from './connectors';
import type { MeterValue } from './metering';

/** A transaction's record and its StartTransaction/StopTransaction payloads (sim/transactions.ts). */

/** A transaction starting on `c` now, with the simulator's own `key`. */
export function newTransaction(
  key: number,
  c: Connector,
  idTag: string,
  start: { parentIdTag?: string; reservationId?: number; chargingProfile?: ChargingProfile },
  now: number,
): Transaction {
  return {
    key,
    connectorId: c.id,
    idTag,
    ...(start.parentIdTag ? { parentIdTag: start.parentIdTag } : {}),
    startMs: now,
    meterStartWh: Math.round(c.energyWh),
    ...(start.reservationId !== undefined ? { reservationId: start.reservationId } : {}),
    beginValues: [],
    stopTxnValues: [],
    deauthorized: false,
  };
}

export function startTransactionPayload(tx: Transaction): OcppRequest<'StartTransaction'> {
  return {
    connectorId: tx.connectorId,
    idTag: tx.idTag,
    meterStart: tx.meterStartWh,
    timestamp: iso(tx.startMs),
    ...(tx.reservationId !== undefined ? { reservationId: tx.reservationId } : {}),
  };
}

export function stopTransactionPayload(
  tx: Transaction,
  stop: { meterStop: number; now: number; reason: StopReason; idTag?: string; transactionData: MeterValue[] },
): OcppRequest<'StopTransaction'> {
  const { meterStop, now, reason, idTag, transactionData } = stop;
  return {
    // Errata 3.18: -1 when the StartTransaction could never be delivered.
    transactionId: tx.transactionId ?? -1,
    meterStop,
    timestamp: iso(now),
    reason,
    ...(idTag ? { idTag } : {}),
    ...(transactionData.length > 0 ? { transactionData } : {}),
  };
}
