import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';

/** A charger's request on its way upstream, as the charger sent it (its own transaction ids). */
export interface Queued {
  /** The action in the charger's version (a 2.0.1 charger's requests go up as they came). */
  action: string;
  request: Record<string, unknown>;
  /** Its place in the charger's queue, and its key in the charger's durable record. */
  key?: number;
  /** It is in the durable record (put there and not dropped since). */
  written?: boolean;
  /** The charger waits for the backend's answer to it: never written (it asks again after a crash). */
  decides?: boolean;
}

/** The room of the charger's durable record that holds what waits for its backend. */
const ROOM = 'upstream';

/** A request that has waited this long for the backend is written, even while the link is up. */
export const HOLD_UNWRITTEN_MS = 1000;

/** Where the queue keeps its entries: the central system's charger records (one journal line a change). */
export interface EntryStore {
  entriesOf(chargePointId: string, namespace: string): Readonly<Record<string, unknown>>;
  keepEntries(
    chargePointId: string,
    namespace: string,
    change: { put?: Record<string, unknown>; drop?: string[] },
  ): Promise<void>;
}

/**
 * Requests of a charger that are never written: the charger asks again if ampflow dies first (both
 * versions' names; the certificate requests of OCPP 2.0.1 too).
 */
export const NEVER_KEPT: readonly string[] = [
  'Heartbeat',
  'Authorize',
  'BootNotification',
  'DataTransfer',
  'SignCertificate',
  'Get15118EVCertificate',
  'GetCertificateStatus',
];

/**
 * One charger's requests for its backend, in the order the charger sent them, and what of them is
 * durable. Each written request is one entry of the charger's record (put when written, dropped
 * when the backend has it): a request costs a journal line or two, whatever waits before it, so a
 * backend away for a day does not make every new meter value rewrite the day's.
 *
 * What is written: a request the caller asks to be durable (a transaction's start and stop, a
 * transaction's meter values the backend did not take in time, and anything while the backend is
 * away) before the caller is told; any other request once it has waited one to two
 * HOLD_UNWRITTEN_MS or the backend goes away. A status or a meter value outside a transaction that
 * reaches a present backend within a second is not written at all: a crash (SIGKILL, power) in
 * that second loses it, never anything of a transaction; and a site's storage (an SD card) is not
 * written for every message.
 */
export class BackendQueue {
  readonly items: Queued[] = [];
  private nextKey = 1;
  private holdTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly identity: string,
    private readonly store: EntryStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** What an earlier version kept as a whole list in the charger's facts. */
    legacy: Queued[] = [],
  ) {
    const kept = Object.entries(store.entriesOf(identity, ROOM))
      .map(([key, item]): Queued => ({ ...(item as Queued), key: Number(key), written: true }))
      .filter((item) => Number.isSafeInteger(item.key))
      .sort((a, b) => (a.key as number) - (b.key as number));
    this.items.push(...kept);
    this.nextKey = kept.reduce((next, item) => Math.max(next, (item.key as number) + 1), 1);
    if (kept.length === 0 && legacy.length > 0) {
      for (const { action, request } of legacy) this.items.push({ action, request, key: this.nextKey++ });
      void this.writeAll();
    }
  }

  get length(): number {
    return this.items.length;
  }

  /** Appends a request; with `durable` resolves once it is written, else it is held (see above). */
  push(item: Queued, durable: boolean): Promise<void> {
    item.key = this.nextKey++;
    this.items.push(item);
    if (durable) return this.write([item]);
    this.hold();
    return Promise.resolve();
  }

  /** Writes one request already in the queue (it waited in vain for the backend's decision). */
  keep(item: Queued): Promise<void> {
    return this.write([item]);
  }

  /** Writes every request that waits and is not written yet (the backend went away). */
  writeAll(): Promise<void> {
    return this.write(this.items);
  }

  /** Takes a request out (the backend has it, or it gave way); resolves once that is durable. */
  remove(item: Queued): Promise<void> {
    const at = this.items[0] === item ? 0 : this.items.indexOf(item);
    if (at === -1) return Promise.resolve();
    this.items.splice(at, 1);
    if (!item.written) return Promise.resolve();
    item.written = false;
    return this.change({ drop: [String(item.key)] });
  }

  /** Takes every request out (they cannot go up any more); resolves once that is durable. */
  flush(): Promise<Queued[]> {
    const flushed = this.items.splice(0);
    const drop = flushed.filter((item) => item.written).map((item) => String(item.key));
    for (const item of flushed) item.written = false;
    return (drop.length > 0 ? this.change({ drop }) : Promise.resolve()).then(() => flushed);
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private write(items: readonly Queued[]): Promise<void> {
    const put: Record<string, unknown> = {};
    let any = false;
    for (const item of items) {
      if (item.written || item.decides || NEVER_KEPT.includes(item.action)) continue;
      item.written = true;
      put[String(item.key)] = { action: item.action, request: item.request };
      any = true;
    }
    return any ? this.change({ put }) : Promise.resolve();
  }

  private change(change: { put?: Record<string, unknown>; drop?: string[] }): Promise<void> {
    return this.store.keepEntries(this.identity, ROOM, change).catch((err: Error) => {
      this.log.error(`keeping the upstream queue of ${this.identity} failed: ${err.message}`);
    });
  }

  /**
   * Starts the hold: if the newest request now waiting is still queued HOLD_UNWRITTEN_MS later,
   * everything unwritten is written; otherwise the hold starts again for what came since. So a
   * request is written once it has waited between one and two holds.
   */
  private hold(): void {
    if (this.holdTimer || this.closed) return;
    const mark = this.items[this.items.length - 1];
    this.holdTimer = this.clock.setTimeout(() => {
      this.holdTimer = undefined;
      if (mark && this.items.includes(mark)) void this.writeAll();
      else if (this.items.some((item) => !item.written && !item.decides)) this.hold();
    }, HOLD_UNWRITTEN_MS);
  }
}
