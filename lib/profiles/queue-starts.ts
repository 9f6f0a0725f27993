import type { ConnectorLimits } from './connector-limits';
import type { ChargerEntry, ConnectorEntry } from './state';

/**
 * When a charger's queue of commands starts (sender.ts runs it): at once for a limit that goes
 * down, at the end of the turn for anything else, after all of them for set-points given together.
 */
export class QueueStarts {
  constructor(
    private readonly limits: ConnectorLimits,
    /** Starts the charger's queue (Sender.pump). */
    private readonly pump: (charger: ChargerEntry) => void,
  ) {}

  /** Set-points given together (`together`): their chargers' queues start once all are in. */
  private holding = 0;
  private readonly held = new Set<ChargerEntry>();
  /** Chargers whose queue starts at the end of this turn (`enqueue`). */
  private readonly endOfTurn = new Set<ChargerEntry>();

  /**
   * Queues a connector for the charger's one command in flight. An idle charger's queue starts at
   * once for a limit that goes down (or is unknown): its command is written in the turn the
   * set-point arrived in, not after every other set-point of that turn. Anything else starts it
   * at the end of the turn, so that a decrease arriving later in the same turn still goes first.
   */
  enqueue(charger: ChargerEntry, connector: ConnectorEntry): void {
    charger.queued.add(connector.connectorId);
    if (this.holding > 0) this.held.add(charger);
    else this.start(charger);
  }

  /** Runs `submit` (set-points given together): each charger's queue starts after all of them are in. */
  together<T>(submit: () => T): T {
    this.holding += 1;
    try {
      return submit();
    } finally {
      this.holding -= 1;
      if (this.holding === 0) {
        const chargers = [...this.held];
        this.held.clear();
        for (const charger of chargers) this.start(charger);
      }
    }
  }

  /** Starts an idle charger's queue now when a limit in it goes down, else at the end of the turn. */
  private start(charger: ChargerEntry): void {
    if (charger.pumping || charger.configuring) return;
    if (this.lowersAny(charger)) {
      this.endOfTurn.delete(charger);
      this.pump(charger);
      return;
    }
    if (this.endOfTurn.has(charger)) return;
    this.endOfTurn.add(charger);
    queueMicrotask(() => {
      if (this.endOfTurn.delete(charger)) this.pump(charger);
    });
  }

  private lowersAny(charger: ChargerEntry): boolean {
    for (const id of charger.queued) {
      const connector = charger.connectors.get(id);
      if (connector && this.limits.lowers(charger, connector)) return true;
    }
    return false;
  }
}
