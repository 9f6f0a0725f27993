import type { Clock, TimerHandle } from '../clock';
import type { ChargePointEvents } from '../contracts';
import type { Logger } from '../log';
import type { ChargerRecord } from './central-state';
import type { ChargePointInfo, ChargePointViolation, FrameEvent } from './central-types';
import type { ChargerCalls } from './charger-calls';
import { ChargePointConnection, type ChargePointOptions } from './connection';
import type { ConnectorStatePort } from './connector-feed';
import type { ConnectorRegistry } from './connectors';
import type { ServerClient } from './rpc-types';
import type { SharedPath } from './v201/shared-path';

/** What the live connections need of the central system around them. */
export interface LiveConnectionsContext {
  clock: Clock;
  log: Logger;
  /** How long a command waits for the charger's answer, in ms. */
  callTimeoutMs: number;
  /** The connectors, marked online and offline with their charger. */
  connectors: ConnectorRegistry;
  chargePointOptions(chargePointId: string): ChargePointOptions;
  /** Whether the charger is accepted (its calls are served beyond BootNotification). */
  isAccepted(chargePointId: string): boolean;
  /** How long the charger may stay silent before its connection counts as dead, in ms. */
  deadAfterMs(chargePointId: string): number;
  /** The steps a charge-point-initiated call passes (charger-calls.ts: admission, recall, the operator's backend, handlers). */
  readonly calls: ChargerCalls;
  /** A charger connected for the first time: its record is made. */
  seen(chargePointId: string): void;
  /** What happened on the connections, for the central system's listeners. */
  emit: LiveConnectionEmitter;
  /** The central system's typed port of connector states: a connector went online or offline. */
  readonly port: ConnectorStatePort;
  /** Whether the central system's `frame` event has listeners (frames are not built otherwise). */
  framesWanted(): boolean;
  /** What the translation of an OCPP 2.0.1 charger needs of the central system (the calls run its shared calls). */
  ocpp201(chargePointId: string): Omit<SharedPath, 'identity'>;
}

/** The events the live connections report. */
export interface LiveConnectionEmitter {
  (event: 'connect', payload: ChargePointEvents['connect']): void;
  (event: 'disconnect', payload: ChargePointEvents['disconnect']): void;
  (event: 'frame', payload: FrameEvent): void;
  (event: 'violation', payload: ChargePointViolation): void;
}

/**
 * The chargers connected right now: one ChargePointConnection per identity (a new connection of an
 * identity replaces its previous one, once admission has made sure that one is gone or comes from
 * the same address: holder), their connectors' online flag, and the goodbye on stop.
 */
export class LiveConnections {
  private readonly connections = new Map<string, ChargePointConnection>();
  /** Pings out to a connection that another connection of its identity wants to replace (holder). */
  private readonly probes = new Map<ChargePointConnection, Promise<boolean>>();

  constructor(private readonly context: LiveConnectionsContext) {}

  /** The charger's connection, open or just closed; undefined when it has none. */
  get(chargePointId: string): ChargePointConnection | undefined {
    return this.connections.get(chargePointId);
  }

  isConnected(chargePointId: string): boolean {
    return this.connections.get(chargePointId)?.isOpen ?? false;
  }

  /** Identities of the charge points connected right now. */
  connected(): string[] {
    return [...this.connections.values()].filter((c) => c.isOpen).map((c) => c.identity);
  }

  /** Identities with a connection, open or just closed. */
  ids(): string[] {
    return [...this.connections.keys()];
  }

  /**
   * A charge point as the central system tells of it: its durable record (or a fresh one for a
   * charger connected before its record was made) with its live connection and connectors.
   */
  describe(chargePointId: string, record: ChargerRecord | undefined): ChargePointInfo | undefined {
    const connection = this.connections.get(chargePointId);
    if (!record && !connection) return undefined;
    const firstSeenAt = new Date(this.context.clock.now()).toISOString();
    // A changed password's digests stay inside (rotated-passwords.ts): never in a listing.
    const { password: _digests, ...shown } = record ?? {
      chargePointId,
      firstSeenAt,
      approved: false,
      blocked: false,
    };
    const info: ChargePointInfo = {
      ...shown,
      connected: connection?.isOpen ?? false,
      lenient: this.context.chargePointOptions(chargePointId).lenient,
      connectors: this.context.connectors.all(chargePointId),
    };
    if (connection?.isOpen) {
      info.connectedAt = new Date(connection.connectedAt).toISOString();
      if (connection.remoteAddress) info.remoteAddress = connection.remoteAddress;
      info.protocol = connection.protocol;
    }
    return info;
  }

  /**
   * The address of `identity`'s connection when it is open, comes from another address than
   * `remoteAddress`, and still answers a ping: a new connection from elsewhere must not take its
   * place (an impostor, or two chargers set to one identity). Undefined at once when there is no
   * such connection (none, closed, or from the same address: a charger that reconnects).
   */
  holder(identity: string, remoteAddress: string): Promise<string | undefined> | undefined {
    const current = this.connections.get(identity);
    if (!current?.isOpen) return undefined;
    const address = current.remoteAddress ?? 'unknown address';
    if (address === remoteAddress) return undefined;
    // Attempts that ask while a ping is out share its answer: one ping, however many ask.
    let probe = this.probes.get(current);
    if (!probe) {
      probe = current.answersPing().finally(() => this.probes.delete(current));
      this.probes.set(current, probe);
    }
    return probe.then((alive) => (alive && current.isOpen ? address : undefined));
  }

  /** Serves a charger ocpp-rpc accepted. */
  attach(client: ServerClient): void {
    const { context } = this;
    const identity = client.handshake.identity;
    const previous = this.connections.get(identity);
    const connection = new ChargePointConnection({
      identity,
      client,
      chargePoint: context.chargePointOptions(identity),
      clock: context.clock,
      log: context.log,
      callTimeoutMs: context.callTimeoutMs,
      isAccepted: () => context.isAccepted(identity),
      deadAfterMs: () => context.deadAfterMs(identity),
      framesWanted: () => context.framesWanted(),
      ocpp201: context.ocpp201(identity),
    });
    // The WebSocket's CALLs: ocpp-rpc awaits what the handler returns and answers a throw with a
    // CallError.
    client.handle(
      ({ method, params, messageId }: { method?: string; params?: unknown; messageId?: string }) =>
        context.calls.take(connection, method ?? '', params, messageId) as Promise<Record<string, unknown>>,
    );
    this.connections.set(identity, connection);
    if (previous?.isOpen) {
      const from = previous.remoteAddress ?? 'unknown address';
      const now = connection.remoteAddress ?? 'unknown address';
      context.log.info(
        from === now
          ? `charge point ${identity} connected again from ${now}; closing its previous connection`
          : `charge point ${identity} connected again from ${now}; closing its previous connection from ${from}, which did not answer a ping`,
      );
      void previous.close(1000, 'Replaced by a new connection');
    }
    connection.on('frame', ({ direction, frame }: { direction: 'in' | 'out'; frame: string }) =>
      context.emit('frame', { chargePointId: identity, direction, frame }),
    );
    connection.on('violation', (violation) =>
      context.emit('violation', { chargePointId: identity, ...violation }),
    );
    connection.once('close', ({ code, reason }: { code: number; reason: string }) => {
      if (this.connections.get(identity) !== connection) return; // replaced: the new one owns the state
      this.connections.delete(identity);
      for (const state of context.connectors.setOnline(identity, false)) context.port.changed(state);
      context.log.info(`charge point ${identity} disconnected (${code}${reason ? ` ${reason}` : ''})`);
      context.emit('disconnect', { chargePointId: identity, code, reason });
    });
    context.seen(identity);
    for (const state of context.connectors.setOnline(identity, true)) context.port.changed(state);
    context.log.info(
      `charge point ${identity} connected from ${connection.remoteAddress ?? 'unknown address'}${connection.protocol ? (connection.protocol === 'ocpp1.6' ? '' : ` (${connection.protocol})`) : ' (no sub-protocol offered, served as ocpp1.6)'}`,
    );
    context.emit('connect', {
      chargePointId: identity,
      remoteAddress: connection.remoteAddress,
      protocol: connection.protocol,
    });
  }

  /**
   * Closes every connection with 1001 "going away", which tells chargers to reconnect later; a
   * charger that does not answer the close frame within `graceMs` is dropped with the sockets.
   */
  async closeAll(graceMs: number): Promise<void> {
    let graceTimer: TimerHandle | undefined;
    await Promise.race([
      Promise.all(
        [...this.connections.values()].map((connection) => connection.close(1001, 'Central system stopping')),
      ),
      new Promise<void>((resolve) => {
        graceTimer = this.context.clock.setTimeout(resolve, graceMs);
      }),
    ]);
    this.context.clock.clearTimeout(graceTimer);
  }

  /** Forgets every connection (the central system stopped; their sockets are gone). */
  clear(): void {
    this.connections.clear();
  }
}
