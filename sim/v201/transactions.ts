import { randomUUID } from 'node:crypto';

/**
 * The simulator's transactions as OCPP 2.0.1 names them. The simulator's model is OCPP 1.6's: a
 * transaction gets a number from the answer to its StartTransaction. Under 2.0.1 the charging
 * station names the transaction itself (a string) and numbers its TransactionEvents (seqNo); the
 * central system answers with no id. So the translation gives each transaction a fresh string id
 * when its TransactionEvent Started goes out, and hands the simulator a number of its own (a local
 * counter) as "the central system's" transactionId; commands that name the string find the number.
 */

export interface IdToken201 {
  idToken: string;
  type: string;
}

/** A RequestStartTransaction the simulator accepted: its Started event carries these. */
export interface RemoteStart {
  remoteStartId: number;
  idToken: IdToken201;
  evseId?: number;
  atMs: number;
}

/** Ended transactions whose ids stay known (for late commands and `transactionId201`). */
const KEEP_ENDED = 1000;
const MAX_REMOTE_STARTS = 100;

export class Transaction201 {
  /** Between Started and Ended going out: the transaction's state changes are TransactionEvents. */
  active = true;
  /** The chargingState last reported. */
  chargingState: string | undefined;
  /** Whether the Started has had an outcome (answered, or failed). */
  settled = false;
  private readonly seqNos = new Map<string, number>();
  private nextSeqNo = 0;
  private settle: () => void = () => undefined;
  /** Resolves once the Started has had an outcome. */
  readonly whenSettled = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    /** The simulator's number: the 1.6 transactionId it got back. */
    readonly numeric: number,
    /** The 2.0.1 transactionId. */
    readonly id: string,
    readonly evseId: number,
    /** The StartTransaction it came from: a resend of the same one reuses the transaction. */
    readonly startKey: string,
    /** The idToken of the start, and the remote start it answered. */
    readonly idToken: IdToken201,
    readonly remote: RemoteStart | undefined,
  ) {}

  /**
   * The seqNo of the event `key` names: a new one in order, the same one again for a message the
   * simulator sends again after a failure (OCPP-J: a retried message is the same message).
   */
  seqNo(key: string): number {
    let seqNo = this.seqNos.get(key);
    if (seqNo === undefined) {
      seqNo = this.nextSeqNo++;
      this.seqNos.set(key, seqNo);
    }
    return seqNo;
  }

  /** The Started had an outcome. */
  markSettled(): void {
    this.settled = true;
    this.settle();
  }
}

export class Transactions201 {
  private counter = 0;
  private readonly byNumeric = new Map<number, Transaction201>();
  private readonly byId = new Map<string, Transaction201>();
  private readonly ended: Transaction201[] = [];
  private readonly remoteStarts: RemoteStart[] = [];

  /** A new transaction on `evseId`, numbered by the local counter, named with a fresh UUID. */
  begin(
    evseId: number,
    startKey: string,
    idToken: IdToken201,
    remote: RemoteStart | undefined,
  ): Transaction201 {
    this.counter += 1;
    const tx = new Transaction201(this.counter, randomUUID(), evseId, startKey, idToken, remote);
    this.byNumeric.set(tx.numeric, tx);
    this.byId.set(tx.id, tx);
    return tx;
  }

  /** The transaction running on `evseId` (its Started went out, its Ended not yet). */
  activeOn(evseId: number): Transaction201 | undefined {
    for (const tx of this.byNumeric.values()) if (tx.active && tx.evseId === evseId) return tx;
    return undefined;
  }

  ofNumeric(numeric: number): Transaction201 | undefined {
    return this.byNumeric.get(numeric);
  }

  ofId(id: string): Transaction201 | undefined {
    return this.byId.get(id);
  }

  /** The Ended went out: the transaction is over; its ids stay known a while. */
  end(tx: Transaction201): void {
    if (!tx.active) return;
    tx.active = false;
    this.ended.push(tx);
    while (this.ended.length > KEEP_ENDED) {
      const old = this.ended.shift() as Transaction201;
      this.byNumeric.delete(old.numeric);
      this.byId.delete(old.id);
    }
  }

  /** A transaction whose start never reached the central system (a StopTransaction with id -1). */
  orphan(): Transaction201 {
    const tx = this.begin(0, '', { idToken: '', type: 'NoAuthorization' }, undefined);
    tx.markSettled();
    return tx;
  }

  remoteStarted(start: RemoteStart): void {
    this.remoteStarts.push(start);
    // Remote starts whose transaction never came: the oldest go.
    if (this.remoteStarts.length > MAX_REMOTE_STARTS) this.remoteStarts.shift();
  }

  /** The remote start a transaction of `idTag` on `evseId` answers, taken off the list. */
  takeRemoteStart(idTag: string, evseId: number, nowMs: number, windowMs: number): RemoteStart | undefined {
    this.dropStale(nowMs, windowMs);
    const index = this.remoteStarts.findIndex(
      (start) => start.idToken.idToken === idTag && (start.evseId === undefined || start.evseId === evseId),
    );
    if (index === -1) return undefined;
    return this.remoteStarts.splice(index, 1)[0];
  }

  /** The idToken the simulator shows for `idTag`: a remote start's (type Central, as a rule), else a card. */
  token(idTag: string): IdToken201 {
    const remote = this.remoteStarts.find((start) => start.idToken.idToken === idTag);
    return remote ? { ...remote.idToken } : { idToken: idTag, type: 'ISO14443' };
  }

  /** Whether a transaction of this id runs. */
  ongoing(id: string): boolean {
    return this.byId.get(id)?.active ?? false;
  }

  private dropStale(nowMs: number, windowMs: number): void {
    for (let i = this.remoteStarts.length - 1; i >= 0; i--) {
      if (nowMs - (this.remoteStarts[i] as RemoteStart).atMs > windowMs) this.remoteStarts.splice(i, 1);
    }
  }
}
