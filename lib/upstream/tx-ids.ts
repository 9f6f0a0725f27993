/**
 * One charger's transaction ids in the three places they live: the id the charger uses (the
 * upstream's while it was reachable at the start, else ampflow's), the id of ampflow's own ledger
 * (what the load manager, the sessions and the flows see), and the upstream's (once it gave one).
 * Kept per charger, durably (the proxy stores it with the charger's record), so that MeterValues and
 * StopTransaction after a restart still reach the right transaction on both sides.
 */
export interface TxIdEntry {
  chargerId: number;
  ledgerId: number;
  upstreamId?: number;
}

/** At most this many ended transactions are remembered per charger (a late StopTransaction replay). */
const KEEP_ENDED = 20;

export class TxIds {
  private readonly entries: TxIdEntry[];
  /** Chargers ids of transactions that ended, oldest first. */
  private readonly ended: number[];

  constructor(saved?: { entries?: TxIdEntry[]; ended?: number[] }) {
    this.entries = saved?.entries?.map((entry) => ({ ...entry })) ?? [];
    this.ended = [...(saved?.ended ?? [])];
  }

  /** What is kept durably. */
  toJSON(): { entries: TxIdEntry[]; ended: number[] } {
    return { entries: this.entries.map((entry) => ({ ...entry })), ended: [...this.ended] };
  }

  add(entry: TxIdEntry): void {
    this.forgetCharger(entry.chargerId);
    this.entries.push({ ...entry });
  }

  byCharger(chargerId: number): TxIdEntry | undefined {
    return this.entries.find((entry) => entry.chargerId === chargerId);
  }

  byLedger(ledgerId: number): TxIdEntry | undefined {
    return this.entries.find((entry) => entry.ledgerId === ledgerId);
  }

  byUpstream(upstreamId: number): TxIdEntry | undefined {
    return this.entries.find((entry) => entry.upstreamId === upstreamId);
  }

  /** The upstream answered a StartTransaction it got later (replayed): its id from now on. */
  setUpstream(chargerId: number, upstreamId: number): void {
    const entry = this.byCharger(chargerId);
    if (entry) entry.upstreamId = upstreamId;
  }

  /** The transaction stopped on both sides: forgotten, after a few later ones. */
  end(chargerId: number): void {
    if (!this.byCharger(chargerId)) return;
    this.ended.push(chargerId);
    while (this.ended.length > KEEP_ENDED) {
      const oldest = this.ended.shift();
      if (oldest !== undefined) this.forgetCharger(oldest);
    }
  }

  /** The ledger's id for the id the charger uses; the same id when nothing maps it. */
  toLedger(chargerId: number): number {
    return this.byCharger(chargerId)?.ledgerId ?? chargerId;
  }

  /** The charger's id for a ledger id (ampflow's own commands); the same id when nothing maps it. */
  ledgerToCharger(ledgerId: number): number {
    return this.byLedger(ledgerId)?.chargerId ?? ledgerId;
  }

  /** The charger's id for an upstream id (the upstream's commands); the same id when nothing maps it. */
  upstreamToCharger(upstreamId: number): number {
    return this.byUpstream(upstreamId)?.chargerId ?? upstreamId;
  }

  private forgetCharger(chargerId: number): void {
    const at = this.entries.findIndex((entry) => entry.chargerId === chargerId);
    if (at !== -1) this.entries.splice(at, 1);
    const endedAt = this.ended.indexOf(chargerId);
    if (endedAt !== -1) this.ended.splice(endedAt, 1);
  }
}
