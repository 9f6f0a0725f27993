import type { ConnectorState } from '../contracts';
import type { LoadManager } from '../dlm/load-manager';
import type { CentralSystemState } from './central-types';

/**
 * Feeds a central system's connector states to a consumer (the load manager, through the port it
 * takes inputs by): the states known now, every change after, and two facts only the central
 * system knows that decide what an uncontrolled charger may draw:
 * a charger the site names but the central system has no record of has never connected (not
 * installed, or not commissioned yet): it draws nothing (`neverConnected`). When it connects for
 * the first time it stays so until it reports its connectors: connecting does not change what it
 * draws, and counting it at its maximum for that moment would pause every other car for the
 * minimum off time (found with the demo flow commissioned one charger at a time).
 */

/**
 * Where the states go: the load manager's inputs (LoadManager.connectorState, and batch: inputs
 * given inside share one update), and its site's connectors.
 */
type LoadManagerInputs = Pick<LoadManager, 'connectorState' | 'batch'> & {
  readonly site: { readonly connectors: readonly { chargePointId: string; connectorId: number }[] };
};

/** A listener of the central system's typed connector-state port. */
export type ConnectorStateListener = (state: ConnectorState) => void;

/**
 * One load manager's feed: a connector's change, given to LoadManager.connectorState. A class the
 * port calls by name (ConnectorStatePort.changed), so that "go to definition" follows a state
 * from the handlers to the load manager without a listener in between.
 */
export class ConnectorFeed {
  constructor(
    private readonly sink: LoadManagerInputs,
    private readonly onError: (err: Error) => void,
  ) {}

  /**
   * One change at a time is given outside a batch: a batch updates at its end, at once, which
   * would defeat a sink that lets the changes of one turn share an update (the load manager's
   * coalesceInputs): each limit a charger confirmed cost a whole update of the site.
   * A copy, as the flows' ConnectorState event gives: the central system keeps changing its own.
   */
  changed(state: ConnectorState): void {
    try {
      this.sink.connectorState({ ...state });
    } catch (err) {
      this.onError(err as Error);
    }
  }
}

/**
 * The central system's typed port of connector states: each change of a connector's state goes
 * to the load managers' feeds and the other listeners (the profile manager), in the order they
 * came, then to the flows' `connector` event. The handlers, the live connections and the
 * connector notes call `changed` on it; the central system owns it (central-wiring.ts makes it).
 */
export class ConnectorStatePort {
  /** Feeds and listeners, in the order they came. */
  private readonly takers = new Set<ConnectorFeed | ConnectorStateListener>();

  constructor(private readonly flows: { emit(event: 'connector', state: ConnectorState): unknown }) {}

  /** A listener of every change; returns the function that unsubscribes. */
  subscribe(listener: ConnectorStateListener): () => void {
    this.takers.add(listener);
    return () => this.takers.delete(listener);
  }

  /** A load manager's feed, called by name; returns the function that takes it off. */
  feed(feed: ConnectorFeed): () => void {
    this.takers.add(feed);
    return () => this.takers.delete(feed);
  }

  /** A connector's state changed: the feeds and listeners first, then the flows' `connector` event. */
  changed(state: ConnectorState): void {
    for (const taker of [...this.takers]) {
      if (taker instanceof ConnectorFeed) taker.changed(state);
      else taker(state);
    }
    this.flows.emit('connector', state);
  }
}

/** What the feed asks of the central system. */
export interface ConnectorStateSource {
  /** The central system's typed port of connector states (CentralSystem.onConnectorState). */
  onConnectorState(listener: ConnectorStateListener): () => void;
  /**
   * Takes a load manager's feed onto that port by name (CentralSystem.feed); a source without it
   * (a test's stand-in) gets the feed as a listener of onConnectorState.
   */
  feed?(feed: ConnectorFeed): () => void;
  readonly state: CentralSystemState;
  readonly connectors: { all(): ConnectorState[] };
  /** The charger's record, undefined when the central system never saw it. */
  chargePoint(chargePointId: string): unknown;
  on(event: 'state', listener: (state: CentralSystemState) => void): unknown;
  off(event: 'state', listener: (state: CentralSystemState) => void): unknown;
  /** The operator's limits of the chargers the sink manages are composed by it (lib/upstream asks). */
  composeOperatorLimits?(manages: (chargePointId: string) => boolean): () => void;
}

/**
 * Starts feeding `sink` from `cs`; returns the function that stops it. A state the sink refuses
 * goes to `onError`, never back into the central system.
 */
export function feedConnectorStates(
  cs: ConnectorStateSource,
  sink: LoadManagerInputs,
  onError: (err: Error) => void,
): () => void {
  const give = (states: Iterable<ConnectorState>) =>
    sink.batch(() => {
      for (const state of states) {
        try {
          sink.connectorState(state);
        } catch (err) {
          onError(err as Error);
        }
      }
    });
  give(cs.connectors.all().map((state) => structuredClone(state)));
  const managed = new Set(sink.site.connectors.map((connector) => connector.chargePointId));
  const stopComposing = cs.composeOperatorLimits?.((chargePointId) => managed.has(chargePointId));
  const neverConnected = () => give(neverConnectedStates(cs, sink.site.connectors));
  neverConnected();
  cs.on('state', neverConnected);
  const feed = new ConnectorFeed(sink, onError);
  const unsubscribe = cs.feed ? cs.feed(feed) : cs.onConnectorState((state) => feed.changed(state));
  return () => {
    unsubscribe();
    stopComposing?.();
    cs.off('state', neverConnected);
  };
}

/**
 * The site's connectors whose charge point the central system has no record of, as never
 * connected. Nothing until the central system is listening: before its durable state is loaded
 * every charger would look unknown.
 */
export function neverConnectedStates(
  cs: Pick<ConnectorStateSource, 'state' | 'chargePoint'>,
  connectors: readonly { chargePointId: string; connectorId: number }[],
): ConnectorState[] {
  if (cs.state !== 'listening') return [];
  return connectors
    .filter((c) => cs.chargePoint(c.chargePointId) === undefined)
    .map((c) => ({
      chargePointId: c.chargePointId,
      connectorId: c.connectorId,
      online: false,
      neverConnected: true,
    }));
}
