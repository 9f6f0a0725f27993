/**
 * The four junk stops of issue #46 as two OCPP 2.0.1 stations send them around one true stop:
 * station B ends station A's transaction, A ends it properly (2500 Wh), then ends it again with
 * another register (999,999,999 Wh), ends a transaction never started, and B ends its own with a
 * negative register. The central system's tests and the operator's backend's tests send the same.
 */
import type { Charger201 } from './charger201';
import { isoNow } from './ocpp';

export interface JunkEnded201 {
  /** The transactions A and B started (A's register at 1000 Wh, B's at 500 Wh). */
  txA: string;
  txB: string;
  /** The central system's answers to the four junk Ended, in the order above. */
  answers: unknown[];
}

/** Starts a transaction on A and on B, then sends the four junk Ended and the true one among them. */
export async function sendJunkEnded201(
  a: Charger201,
  b: Charger201,
  options: { idToken?: string } = {},
): Promise<JunkEnded201> {
  const txA = (await a.startTransaction(1, 'TAG-A', { meterWh: 1000 })).transactionId;
  const txB = (await b.startTransaction(1, 'TAG-B', { meterWh: 500 })).transactionId;
  let seqNo = 10;
  const ended = (transactionId: string, energyWh: number) => ({
    eventType: 'Ended' as const,
    timestamp: isoNow(),
    triggerReason: 'StopAuthorized' as const,
    seqNo: seqNo++,
    transactionInfo: { transactionId, stoppedReason: 'Local' as const },
    ...(options.idToken ? { idToken: { idToken: options.idToken, type: 'ISO14443' as const } } : {}),
    meterValue: [
      {
        timestamp: isoNow(),
        sampledValue: [
          {
            value: energyWh,
            measurand: 'Energy.Active.Import.Register' as const,
            context: 'Transaction.End' as const,
          },
        ],
      },
    ],
  });
  const answers: unknown[] = [];
  answers.push(await b.send('TransactionEvent', ended(txA, 3000)));
  await a.stopTransaction(txA, { energyWh: 2500 });
  answers.push(await a.send('TransactionEvent', ended(txA, 999_999_999)));
  answers.push(await a.send('TransactionEvent', ended('never-started', 100)));
  answers.push(await b.send('TransactionEvent', ended(txB, -5)));
  return { txA, txB, answers };
}
