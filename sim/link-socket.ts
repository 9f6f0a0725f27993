import type { RPCClient } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { BootNotificationResponse } from '../lib/ocpp/messages';
import { ReconnectBackoff } from './link-backoff';
import type { ReconnectOptions } from './types';

/** What the socket needs from the link (sim/link.ts). */
export interface SocketHost {
  readonly clock: Clock;
  readonly identity: string;
  readonly endpoint: string;
  readonly log: Logger;
  reconnectOptions(): ReconnectOptions | undefined;
  /** A new, unconnected client. */
  createClient(): RPCClient;
  /** An attempt to connect failed (before the next attempt is scheduled). */
  connectFailed(error: Error & { code?: number }): void;
  /** The WebSocket is open (before the close listener is attached). */
  opening(): void;
  /** The WebSocket is open and watched: register or resume. */
  opened(client: RPCClient): void;
  /** The open WebSocket closed (before reopening or scheduling a reconnect). */
  closed(code: number, reason: string): void;
  /** After a close has been handled. */
  afterClosed(): void;
  reconnecting(delayMs: number, attempt: number): void;
}

/**
 * The simulated charge point's WebSocket (sim/link.ts): opening it, reconnecting with backoff
 * on the Clock, the promise {@link connect} returns, and the state of going off the network
 * (disconnected, closed, rebooting).
 */
export class LinkSocket {
  private current: RPCClient | undefined;
  private isRunning = false;
  private isClosed = false;
  /** A reboot keeps the charge point away until it restarts. */
  rebooting = false;
  private reopenOnClose = false;
  private reconnectTimer: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  private pendingConnect:
    | { resolve: (boot: BootNotificationResponse | undefined) => void; reject: (err: Error) => void }
    | undefined;
  private connectPromise: Promise<BootNotificationResponse | undefined> | undefined;
  private readonly backoff: ReconnectBackoff;

  constructor(private readonly host: SocketHost) {
    this.backoff = new ReconnectBackoff(host.identity);
  }

  /** The client of the current connection (open or opening). */
  get client(): RPCClient | undefined {
    return this.current;
  }

  /** Whether the charge point wants to be on the network (connect() without disconnect()). */
  get running(): boolean {
    return this.isRunning;
  }

  /** See ChargePointLink.connect. */
  connect(): Promise<BootNotificationResponse | undefined> {
    if (this.isClosed) return Promise.reject(new Error(`${this.host.identity} is closed`));
    if (this.isRunning && this.connectPromise) return this.connectPromise;
    this.isRunning = true;
    this.connectPromise = new Promise<BootNotificationResponse | undefined>((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
    });
    // A caller that ignores the promise must not get an unhandled rejection.
    this.connectPromise.catch(() => undefined);
    if (!this.current && !this.rebooting) void this.open();
    return this.connectPromise;
  }

  /** See ChargePointLink.disconnect. */
  async disconnect(): Promise<void> {
    this.isRunning = false;
    this.connectPromise = undefined;
    this.cancelReconnect();
    this.settle(new Error(`${this.host.identity} disconnected`));
    const client = this.current;
    if (client)
      await client.close({ code: 1000, reason: 'Charge point disconnecting' }).catch(() => undefined);
  }

  /** No connect() from now on. */
  markClosed(): void {
    this.isClosed = true;
  }

  /** Drops the connection as a network failure would (no close handshake). */
  drop(): void {
    const socket = (this.current as unknown as { _ws?: { terminate(): void } } | undefined)?._ws;
    socket?.terminate();
  }

  cancelReconnect(): void {
    this.host.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** Back up after a reboot; if the old socket is still closing, dial as soon as it is gone. */
  reopen(): void {
    if (this.current) this.reopenOnClose = true;
    else if (this.isRunning) void this.open();
  }

  /**
   * A reboot's time away (ChargePointLink.reboot): `delayMs` from now, whatever the close handshake
   * takes, then `restart` (volatile state forgotten) and back up. Resolves when the connection is
   * closed.
   */
  rebootFor(delayMs: number, reason: string, restart: () => void): Promise<void> {
    this.restartTimer = this.host.clock.setTimeout(() => {
      this.restartTimer = undefined;
      this.rebooting = false;
      restart();
      this.reopen();
    }, delayMs);
    return this.closeClient(1012, `Rebooting: ${reason}`);
  }

  /** No restart after a reboot: the charge point is switched off. */
  cancelRestart(): void {
    this.host.clock.clearTimeout(this.restartTimer);
  }

  /** Closes the connection; with `fresh`, the reconnect backoff starts again. */
  async closeClient(code: number, reason: string, fresh = false): Promise<void> {
    const client = this.current;
    if (!client) return;
    if (fresh) this.backoff.reset();
    await client.close({ code, reason }).catch(() => undefined);
  }

  /** Settles the promise of connect(): the first BootNotification answer, or the failure. */
  settle(outcome: BootNotificationResponse | undefined | Error): void {
    const pending = this.pendingConnect;
    if (!pending) return;
    this.pendingConnect = undefined;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  private async open(): Promise<void> {
    const client = this.host.createClient();
    this.current = client;
    try {
      await client.connect();
    } catch (err) {
      if (this.current !== client) return;
      this.current = undefined;
      const error = err as Error & { code?: number };
      this.host.connectFailed(error);
      this.settle(error);
      this.scheduleReconnect();
      return;
    }
    if (this.current !== client || !this.isRunning) {
      await client.close({ code: 1000 }).catch(() => undefined);
      return;
    }
    this.host.opening();
    client.once('close', ({ code, reason }: { code: number; reason: string }) =>
      this.onClosed(client, code, reason),
    );
    this.backoff.reset();
    this.host.opened(client);
  }

  private onClosed(client: RPCClient, code: number, reason: string): void {
    if (this.current !== client) return;
    this.current = undefined;
    this.host.closed(code, reason);
    if (this.reopenOnClose) {
      this.reopenOnClose = false;
      if (this.isRunning) void this.open();
    } else if (this.isRunning && !this.rebooting) {
      this.scheduleReconnect();
    }
    this.host.afterClosed();
  }

  private scheduleReconnect(): void {
    if (!this.isRunning || this.isClosed || this.reconnectTimer) return;
    const { delayMs, attempt } = this.backoff.next(this.host.reconnectOptions());
    this.host.reconnecting(delayMs, attempt);
    this.reconnectTimer = this.host.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.isRunning && !this.current && !this.rebooting) void this.open();
    }, delayMs);
  }
}
