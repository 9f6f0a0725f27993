import type { ProfileContext } from './context';
import type { Learning } from './learning';
import { emptyMemory } from './plan';
import { RetryTimer } from './retry';
import type { ChargerEntry, ConnectorEntry } from './state';

/** The records of every charger the manager has had a set-point for, and of their connectors. */
export class ChargerRegistry {
  private readonly chargers = new Map<string, ChargerEntry>();

  constructor(
    private readonly ctx: ProfileContext,
    private readonly learning: Learning,
    /** What the charger's retry timer runs. */
    private readonly retry: (charger: ChargerEntry) => void,
  ) {}

  get(chargePointId: string): ChargerEntry | undefined {
    return this.chargers.get(chargePointId);
  }

  ids(): string[] {
    return [...this.chargers.keys()];
  }

  values(): IterableIterator<ChargerEntry> {
    return this.chargers.values();
  }

  /** The charger's record, made on first use with what an earlier run learned. */
  charger(chargePointId: string): ChargerEntry {
    let charger = this.chargers.get(chargePointId);
    if (!charger) {
      const record = this.ctx.cs.recordOf(chargePointId);
      const firmware = record?.boot?.request.firmwareVersion;
      const strategy = this.learning.strategyFor(chargePointId);
      const entry: ChargerEntry = {
        chargePointId,
        strategy,
        memory: emptyMemory(),
        refusedAtMs: new Map(),
        ...(firmware === undefined ? {} : { firmware }),
        compositeUnsupported: false,
        connectors: new Map(),
        queued: new Set(),
        pumping: false,
        configuring: false,
        checks: [],
        checking: 0,
        confirming: new Map(),
        afterQueueDue: false,
        chargePointMax: { state: 'none' },
        key: {},
        releasePending: false,
        releaseWaits: false,
        unanswered: false,
        zeroMisses: new Map(),
        transactions: new Map(),
        starts: new Map(),
        retry: new RetryTimer(this.ctx.clock, () => this.retry(entry)),
        settled: [],
        fallback: this.ctx.options.offlineFallbackA === null ? { state: 'off' } : { state: 'wanted' },
      };
      charger = entry;
      this.learning.restore(charger);
      this.chargers.set(chargePointId, charger);
    }
    return charger;
  }

  connector(charger: ChargerEntry, connectorId: number): ConnectorEntry {
    let connector = charger.connectors.get(connectorId);
    if (!connector) {
      connector = {
        connectorId,
        force: false,
        retrying: false,
        clearTxProfile: false,
        sessionUnknown: false,
        verification: { schedule: 'notChecked', meter: 'waiting', ignoresLimit: false, verified: false },
      };
      charger.connectors.set(connectorId, connector);
    }
    return connector;
  }
}
