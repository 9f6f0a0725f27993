import type { Clock, TimerHandle } from '../clock';
import type { BusState } from './bus-options';
import type { Connector, ModbusConnection } from './connection';
import { withFault } from './errors';

/** What the connection lifecycle tells its bus. */
export interface LifecycleHooks {
  /** The bus's state changed; `error` says why it is waiting. */
  state(state: BusState, error?: Error): void;
  /** A connection opened; the state turns `connected` right after. */
  opened(): void;
  /** A connect attempt failed; a reconnect follows. */
  connectFailed(error: Error): void;
  /**
   * The open connection broke: whatever was on it must go again. Called before it is closed and
   * a reconnect is scheduled.
   */
  broke(error: Error): void;
  /** Bytes arrived on the open connection, answer or not. */
  received(bytes: number): void;
}

export interface LifecycleSettings {
  connector: Connector;
  clock: Clock;
  /** "tcp://10.0.0.5:502", for errors. */
  address: string;
  connectTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; stableAfterMs: number };
}

/**
 * The connection of one bus, from connect to close: times connect attempts out, reconnects with
 * doubling delays (from `initialMs` up to `maxMs`, starting again only after a connection held
 * for `stableAfterMs`: a gateway that accepts, answers once and drops is not hammered), and owns
 * the bus's state. Each attempt is numbered, so that a late event of an earlier connection can
 * never touch the current one.
 */
export class ConnectionLifecycle {
  private currentState: BusState = 'idle';
  private problem: Error | undefined;
  private openConnection: ModbusConnection | undefined;
  private connectAbort: AbortController | undefined;
  private connectTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private connectAttempt = 0;
  private reconnectFailures = 0;
  private openedAtMs = 0;

  constructor(
    private readonly settings: LifecycleSettings,
    private readonly hooks: LifecycleHooks,
  ) {}

  get state(): BusState {
    return this.currentState;
  }

  /** Why the bus is not connected (the last connection error), if it is not. */
  get lastError(): Error | undefined {
    return this.problem;
  }

  /** The open connection, while `connected`. */
  get connection(): ModbusConnection | undefined {
    return this.openConnection;
  }

  /** When the current connection opened (epoch ms). */
  get connectedAtMs(): number {
    return this.openedAtMs;
  }

  /** Starts connecting if the bus never has. Idempotent. */
  open(): void {
    if (this.currentState === 'idle') this.connect();
  }

  /**
   * The connection broke (it said so, or the bus gave up on it): closes it and schedules a
   * reconnect. Ignored unless connected.
   */
  lost(error: Error): void {
    if (this.currentState !== 'connected') return;
    const { clock, reconnect } = this.settings;
    // Reconnect delays start again only after a connection that held for a while.
    if (clock.now() - this.openedAtMs >= reconnect.stableAfterMs) this.reconnectFailures = 0;
    const connection = this.openConnection;
    this.openConnection = undefined;
    this.hooks.broke(error);
    void connection?.close();
    this.scheduleReconnect(error);
  }

  /**
   * Stops for good: state `closed`, no more connects. Returns the connection still open, for the
   * bus to close once it has failed what was on it.
   */
  stop(): ModbusConnection | undefined {
    if (this.currentState === 'closed') return undefined;
    this.setState('closed');
    this.connectAbort?.abort();
    this.settings.clock.clearTimeout(this.connectTimer);
    this.settings.clock.clearTimeout(this.reconnectTimer);
    const connection = this.openConnection;
    this.openConnection = undefined;
    return connection;
  }

  private setState(state: BusState, error?: Error): void {
    if (error) this.problem = error;
    else if (state === 'connected') this.problem = undefined;
    if (state === this.currentState && !error) return;
    this.currentState = state;
    this.hooks.state(state, error);
  }

  private connect(): void {
    if (this.currentState === 'closed') return;
    const { clock, connector, connectTimeoutMs, address } = this.settings;
    clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const attempt = ++this.connectAttempt;
    const abort = new AbortController();
    this.connectAbort = abort;
    this.setState('connecting');
    this.connectTimer = clock.setTimeout(() => {
      if (attempt !== this.connectAttempt) return;
      abort.abort();
      this.connectFailed(
        withFault(new Error(`no connection to ${address} within ${connectTimeoutMs} ms`), {
          kind: 'connectTimeout',
          ms: connectTimeoutMs,
        }),
      );
    }, connectTimeoutMs);
    const onLost = (error: Error) => {
      if (attempt === this.connectAttempt) this.lost(error);
    };
    const onReceive = (bytes: number) => {
      if (attempt === this.connectAttempt) this.hooks.received(bytes);
    };
    connector.connect({ onLost, onReceive }, abort.signal).then(
      (connection) => {
        if (attempt !== this.connectAttempt || this.currentState !== 'connecting') {
          void connection.close();
          return;
        }
        clock.clearTimeout(this.connectTimer);
        this.openConnection = connection;
        this.openedAtMs = clock.now();
        this.hooks.opened();
        this.setState('connected');
      },
      (error: Error) => {
        if (attempt !== this.connectAttempt || this.currentState !== 'connecting') return;
        this.connectFailed(error);
      },
    );
  }

  private connectFailed(error: Error): void {
    this.hooks.connectFailed(error);
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    const { clock, reconnect } = this.settings;
    clock.clearTimeout(this.connectTimer);
    if (this.currentState === 'closed') return;
    this.connectAttempt += 1;
    const delayMs = Math.min(reconnect.maxMs, reconnect.initialMs * 2 ** this.reconnectFailures);
    this.reconnectFailures += 1;
    this.setState('waiting', error);
    this.reconnectTimer = clock.setTimeout(() => this.connect(), delayMs);
  }
}
