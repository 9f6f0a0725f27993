import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type RPCServerClient from 'ocpp-rpc/lib/server-client';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { ConfigError, parsePort } from '../config-error';
import { type Logger, silentLogger } from '../log';

/** The port chargers dial by default (`ws://<gateway>:9000/<identity>` in the vendor manuals). */
export const DEFAULT_OCPP_PORT = 9000;

/** OCPP-J sub-protocol this central system speaks. */
export const OCPP16 = 'ocpp1.6';

export interface CentralSystemOptions {
  /** Interface to listen on; empty or undefined means every interface. */
  host?: string;
  /** TCP port; 0 picks a free port (tests, tools). */
  port: number;
  log?: Logger;
  clock?: Clock;
  /** How long `stop()` waits for chargers to answer the close frame before dropping them. */
  closeGraceMs?: number;
}

const DEFAULT_CLOSE_GRACE_MS = 2000;

export type CentralSystemState = 'stopped' | 'starting' | 'listening' | 'failed' | 'stopping';

/** The shape the editor and the command-line tool hand in; every field as typed by a person. */
export interface CentralSystemSettings {
  host?: unknown;
  port?: unknown;
}

/** Turns settings as typed into options, or throws a {@link ConfigError} naming the field. */
export function parseCentralSystemSettings(
  settings: CentralSystemSettings,
): Pick<CentralSystemOptions, 'host' | 'port'> {
  const port = parsePort('port', settings.port, DEFAULT_OCPP_PORT);
  if (settings.host !== undefined && settings.host !== null && typeof settings.host !== 'string') {
    throw new ConfigError('host', 'must be a host name or an IP address');
  }
  const host = settings.host?.trim() ?? '';
  if (/[\s/]/.test(host)) {
    throw new ConfigError('host', `"${host}" is not a host name or an IP address`);
  }
  return host ? { host, port } : { port };
}

/**
 * An OCPP 1.6-J central system: owns the listening socket and the charge points connected to it.
 *
 * Lifecycle: `start()` binds the port (rejecting with a message that names the host and port
 * when it cannot), `stop()` closes every charger connection with 1001 "going away" and releases
 * the port before it resolves, so a redeploy can bind the same port at once.
 *
 * Events: `state` (CentralSystemState), `connect` (identity), `disconnect` (identity).
 */
export class CentralSystem extends EventEmitter {
  readonly options: Readonly<CentralSystemOptions>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private httpServer: Server | undefined;
  private rpcServer: RPCServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Map<string, RPCServerClient>();
  private currentState: CentralSystemState = 'stopped';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: CentralSystemOptions) {
    super();
    this.options = { ...options };
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  get state(): CentralSystemState {
    return this.currentState;
  }

  /** Where chargers dial in, e.g. `ws://0.0.0.0:9000/`; undefined until listening. */
  get url(): string | undefined {
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    if (!address || this.currentState !== 'listening') return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `ws://${host}:${address.port}/`;
  }

  /** The bound port (useful with `port: 0`); undefined until listening. */
  get port(): number | undefined {
    const address = this.httpServer?.address() as AddressInfo | null | undefined;
    return address?.port;
  }

  /** Identities of the charge points connected right now. */
  connectedChargePoints(): string[] {
    return [...this.clients.keys()];
  }

  /** Binds the port; rejects with a message naming host and port when that is impossible. */
  start(): Promise<void> {
    if (this.currentState !== 'stopped' && this.currentState !== 'failed') {
      return Promise.reject(new Error(`central system cannot start while ${this.currentState}`));
    }
    this.starting = this.open().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    this.setState('starting');
    const rpcServer = new RPCServer({ protocols: [OCPP16], strictMode: true });
    rpcServer.on('error', (err: Error) => this.log.warn(`WebSocket server error: ${err.message}`));
    rpcServer.on('client', (client: RPCServerClient) => this.onClient(client));

    const httpServer = createServer({ noDelay: true }, (_request, response) => {
      response.statusCode = 426;
      response.setHeader('Upgrade', 'websocket');
      response.end(
        'This is an OCPP 1.6-J central system: connect with a WebSocket to ws://<host>:<port>/<chargePointId>\n',
      );
    });
    httpServer.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    httpServer.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      rpcServer.handleUpgrade(request, socket, head).catch((err: Error) => {
        this.log.warn(
          `WebSocket upgrade from ${socket.remoteAddress ?? 'unknown address'} failed: ${err.message}`,
        );
        socket.destroy();
      });
    });
    this.httpServer = httpServer;
    this.rpcServer = rpcServer;

    const where = `${this.options.host || '0.0.0.0'}:${this.options.port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen({ port: this.options.port, host: this.options.host || undefined }, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.httpServer = undefined;
      this.rpcServer = undefined;
      await rpcServer.close({ force: true });
      this.setState('failed');
      throw new Error(describeListenError(err as NodeJS.ErrnoException, where));
    }
    httpServer.on('error', (err: Error) => this.log.error(`listening socket ${where}: ${err.message}`));
    this.setState('listening');
    const dialIn = this.options.host ? this.url : `ws://<this machine>:${this.port}/ (every interface)`;
    this.log.info(`OCPP 1.6-J central system listening on ${dialIn}, chargers dial <url>/<chargePointId>`);
  }

  /** Closes every connection and the listening socket. Safe to call at any time, any number of times. */
  stop(): Promise<void> {
    this.stopping ??= this.close().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const { httpServer, rpcServer } = this;
    if (!httpServer || !rpcServer) return;
    this.setState('stopping');
    this.httpServer = undefined;
    this.rpcServer = undefined;
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));

    // A close frame with 1001 "going away" tells chargers to reconnect later; a charger that does
    // not answer it within the grace period is dropped.
    let graceTimer: TimerHandle | undefined;
    await Promise.race([
      Promise.all(
        [...this.clients.values()].map((client) =>
          client.close({ code: 1001, reason: 'Central system stopping' }).catch(() => undefined),
        ),
      ),
      new Promise<void>((resolve) => {
        graceTimer = this.clock.setTimeout(resolve, this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      }),
    ]);
    this.clock.clearTimeout(graceTimer);
    for (const socket of this.sockets) socket.destroy();
    await rpcServer.close({ code: 1001, force: true });
    await closed;
    this.clients.clear();
    this.setState('stopped');
  }

  private onClient(client: RPCServerClient): void {
    const identity = client.handshake.identity;
    this.clients.set(identity, client);
    this.emit('connect', identity);
    client.once('close', () => {
      if (this.clients.get(identity) === client) this.clients.delete(identity);
      this.emit('disconnect', identity);
    });
  }

  private setState(state: CentralSystemState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }
}

function describeListenError(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use by another program or node`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: the host is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}
