import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RPCServer } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../clock';
import { ConfigError } from '../config-error';
import type { Logger } from '../log';
import { closeIfUnread } from './file-guards';
import { UPLOAD_TIMEOUT_MS } from './files';
import type { SecurityProfile } from './handshake';
import type { RpcServerOptions, ServerClient, UpgradeHandshake } from './rpc-types';
import { loadTlsMaterial, type TlsSettings } from './transport';
import { OCPP201 } from './v201/schemas';

/** The port chargers dial by default (`ws://<gateway>:9000/<identity>` in the vendor manuals). */
export const DEFAULT_OCPP_PORT = 9000;

/** OCPP-J sub-protocols this central system speaks. */
export const OCPP16 = 'ocpp1.6';

/** Defaults of the connection settings the listener and the central system share. */
export const CONNECTION_DEFAULTS = {
  pingIntervalS: 60,
  callTimeoutS: 30,
  maxFrameBytes: 1024 * 1024,
  handshakeTimeoutMs: 20000,
} as const;

/** Where and how chargers connect: the part of CentralSystemOptions the listener reads. */
export interface ListenerOptions {
  /** Interface to listen on; empty or undefined means every interface. */
  host?: string;
  /** TCP port of its own listener; 0 picks a free port. Ignored when `server` is given. */
  port?: number;
  /** Share this HTTP(S) server (Node-RED's) instead of listening on a port of its own. */
  server?: HttpServer | HttpsServer;
  /** Only upgrade requests under this path are chargers; the identity is the segment after it. */
  path?: string;
  /**
   * On a shared server: the URL path (from the server's root, ending in `/`) under which the
   * server's owner hands plain HTTP requests to the file exchange (files.ts); without it a shared
   * server serves no files. The own server serves them under `path`.
   */
  filesPath?: string;
  securityProfile?: SecurityProfile;
  /** Profiles 2 and 3, own listener only (a shared server has its own TLS). */
  tls?: TlsSettings;
  /** Default WebSocket ping interval in s; 0 switches pings off. */
  pingIntervalS?: number;
  callTimeoutS?: number;
  /** Largest frame accepted, in bytes; a larger one closes the connection (1009). */
  maxFrameBytes?: number;
  /**
   * Own listener: a connection that has not completed its TLS handshake, or has not sent its whole
   * HTTP upgrade request, within this time is closed (slow or stalled handshakes hold no socket
   * for long). Default 20 s.
   */
  handshakeTimeoutMs?: number;
}

/** What the listener hands on: each upgrade to decide, each accepted charger's connection. */
export interface ListenerHooks {
  authenticate(
    accept: (session?: Record<string, unknown>, protocol?: string | false) => void,
    reject: (code: number, message: string) => void,
    handshake: UpgradeHandshake,
  ): void;
  onClient(client: ServerClient): void;
  /** A plain HTTP request on the own server (files.ts): true when answered, else 426 follows. */
  request?(request: IncomingMessage, response: ServerResponse): boolean;
}

/**
 * The central system's front door: its own HTTP(S) server (or a path on a shared one), WebSocket
 * upgrades routed to ocpp-rpc, and the deadlines that keep slow or stalled handshakes from
 * holding sockets. Who may connect is decided elsewhere (ListenerHooks.authenticate).
 */
export class OcppListener {
  private httpServer: HttpServer | HttpsServer | undefined;
  private rpcServer: RPCServer | undefined;
  private upgradeListener: ((request: IncomingMessage, socket: Socket, head: Buffer) => void) | undefined;
  private readonly sockets = new Set<Socket>();
  /** TLS connections that have not sent their request yet, and when they are dropped. */
  private readonly handshakeTimers = new Map<Socket, TimerHandle>();

  /** Throws a ConfigError naming the setting when the options cannot work together. */
  constructor(
    private readonly options: Readonly<ListenerOptions>,
    private readonly hooks: ListenerHooks,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    const profile = options.securityProfile ?? 0;
    if (options.server) {
      if (options.tls) {
        throw new ConfigError(
          'tls',
          'TLS settings apply to an own listener; a shared server brings its own TLS',
        );
      }
      if (this.pathPrefix === '/') {
        throw new ConfigError(
          'path',
          'sharing a server needs a path of its own, such as /ocpp (/ is the editor)',
        );
      }
      if (profile === 3) {
        throw new ConfigError(
          'securityProfile',
          'security profile 3 (client certificates) needs a port of its own',
        );
      }
      if (profile === 2 && !(options.server instanceof HttpsServer)) {
        throw new ConfigError(
          'securityProfile',
          'security profile 2 on a shared server needs Node-RED to run on HTTPS',
        );
      }
    } else if ((profile === 2 || profile === 3) && !options.tls) {
      throw new ConfigError('securityProfile', `security profile ${profile} needs TLS (certificate and key)`);
    }
  }

  /** Whether it accepts chargers: between listen() and close(). */
  get isOpen(): boolean {
    return this.rpcServer !== undefined;
  }

  get isTls(): boolean {
    return Boolean(this.options.tls) || this.options.server instanceof HttpsServer;
  }

  /** The path prefix chargers dial under, always ending in `/`. */
  get pathPrefix(): string {
    const path = this.options.path ?? '/';
    const withSlash = path.startsWith('/') ? path : `/${path}`;
    return withSlash.endsWith('/') ? withSlash : `${withSlash}/`;
  }

  /** The bound port of its own server; undefined on a shared server or before listening. */
  get port(): number | undefined {
    return this.address()?.port;
  }

  /** Where chargers dial in, e.g. `ws://127.0.0.1:9000/`; undefined without an own bound server. */
  get url(): string | undefined {
    const address = this.address();
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.isTls ? 'wss' : 'ws'}://${host}:${address.port}${this.pathPrefix}`;
  }

  /** Where it listens, for the log: an own server's address, or the shared server's path. */
  where(): string | undefined {
    if (this.options.server) return `the shared HTTP server under ${this.pathPrefix}`;
    if (this.options.host) return this.url;
    return `${this.isTls ? 'wss' : 'ws'}://<this machine>:${this.port}${this.pathPrefix} (every interface)`;
  }

  private address(): AddressInfo | undefined {
    return (this.httpServer?.address() as AddressInfo | null | undefined) ?? undefined;
  }

  /** Binds the port (or joins the shared server); rejects with a message naming what is wrong. */
  async listen(): Promise<void> {
    const rpcServer = new RPCServer({
      // Which one a charger gets is admission's choice (AdmissionOptions.protocols).
      protocols: [OCPP16, OCPP201],
      // Validation happens in ChargePointConnection (lenient chargers, chargers without sub-protocol).
      strictMode: false,
      callTimeoutMs: (this.options.callTimeoutS ?? CONNECTION_DEFAULTS.callTimeoutS) * 1000,
      pingIntervalMs: (this.options.pingIntervalS ?? CONNECTION_DEFAULTS.pingIntervalS) * 1000,
      wssOptions: { maxPayload: this.options.maxFrameBytes ?? CONNECTION_DEFAULTS.maxFrameBytes },
    } as RpcServerOptions);
    rpcServer.on('error', (err: Error) => this.log.warn(`WebSocket server error: ${err.message}`));
    rpcServer.on('client', (client: ServerClient) => this.hooks.onClient(client));
    rpcServer.auth((accept, reject, handshake) => this.hooks.authenticate(accept, reject, handshake));
    this.rpcServer = rpcServer;

    const prefix = this.pathPrefix;
    const onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const pathname = (request.url ?? '/').split('?')[0] ?? '/';
      if (this.options.server && !pathname.startsWith(prefix)) return; // another user of the shared server
      if (!pathname.startsWith(prefix)) {
        socket.end(
          `HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nChargers dial ${prefix}<chargePointId>\n`,
        );
        return;
      }
      rpcServer.handleUpgrade(request, socket, head).catch((err: Error) => {
        this.log.warn(
          `WebSocket upgrade from ${socket.remoteAddress ?? 'unknown address'} failed: ${err.message}`,
        );
        socket.destroy();
      });
    };
    this.upgradeListener = onUpgrade;

    if (this.options.server) {
      this.options.server.on('upgrade', onUpgrade);
      return;
    }
    const server = this.createOwnServer(onUpgrade);
    this.httpServer = server;

    const port = this.options.port ?? DEFAULT_OCPP_PORT;
    const where = `${this.options.host || '0.0.0.0'}:${port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: this.options.host || undefined }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.httpServer = undefined;
      this.rpcServer = undefined;
      await rpcServer.close({ force: true });
      throw new Error(describeListenError(err as NodeJS.ErrnoException, where));
    }
    server.on('error', (err: Error) => this.log.error(`listening socket ${where}: ${err.message}`));
  }

  /**
   * Stops accepting chargers; `drain` runs while the listening socket closes and before the open
   * sockets are destroyed (the central system says goodbye to its chargers there).
   */
  async close(drain: () => Promise<void>): Promise<void> {
    const { httpServer, rpcServer } = this;
    this.httpServer = undefined;
    this.rpcServer = undefined;
    if (this.options.server && this.upgradeListener) this.options.server.off('upgrade', this.upgradeListener);
    const closed = httpServer ? new Promise<void>((resolve) => httpServer.close(() => resolve())) : undefined;
    await drain();
    for (const socket of this.sockets) socket.destroy();
    for (const timer of this.handshakeTimers.values()) this.clock.clearTimeout(timer);
    this.handshakeTimers.clear();
    await rpcServer?.close({ code: 1001, force: true });
    await closed;
  }

  private createOwnServer(
    onUpgrade: (request: IncomingMessage, socket: Socket, head: Buffer) => void,
  ): HttpServer | HttpsServer {
    const prefix = this.pathPrefix;
    const answerPlainHttp = (request: IncomingMessage, response: ServerResponse) => {
      if (answeredSafely(request, response, this.log, (req, res) => this.hooks.request?.(req, res) ?? false))
        return;
      closeIfUnread(request, response, this.clock);
      response.statusCode = 426;
      response.setHeader('Upgrade', 'websocket');
      response.end(
        `This is an OCPP 1.6-J and 2.0.1 central system: connect with a WebSocket to ${prefix}<chargePointId>\n`,
      );
    };
    // Node's defaults let a connection that never completes its handshake hold a socket for 60 to
    // 90 s (HTTP headers) or 120 s (TLS): a cheap way to exhaust file descriptors.
    const handshakeTimeoutMs = this.options.handshakeTimeoutMs ?? CONNECTION_DEFAULTS.handshakeTimeoutMs;
    // A request's body (only a charger's upload to files.ts has one) may take longer: a refused
    // request's socket is closed once answered instead of reading its body (closeIfUnread).
    const httpTimeouts = {
      headersTimeout: handshakeTimeoutMs,
      requestTimeout: Math.max(handshakeTimeoutMs, UPLOAD_TIMEOUT_MS),
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(handshakeTimeoutMs / 4))),
    };
    let server: HttpServer | HttpsServer;
    if (this.options.tls) {
      const profile = this.options.securityProfile ?? 0;
      const material = loadTlsMaterial(this.options.tls, profile === 3);
      server = createHttpsServer(
        {
          ...material,
          ...httpTimeouts,
          handshakeTimeout: handshakeTimeoutMs,
          requestCert: profile === 3,
          rejectUnauthorized: profile === 3,
        },
        answerPlainHttp,
      );
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        this.log.warn(
          `TLS handshake from ${socket.remoteAddress ?? 'unknown address'} failed: ${err.message}`,
        );
      });
    } else {
      server = createHttpServer({ noDelay: true, ...httpTimeouts }, answerPlainHttp);
    }
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A TLS connection that sends no request at all: Node.js 20's headersTimeout closes it too
    // (with a 408), but only at its next connections check; each connection gets until the
    // handshake timeout to send its upgrade request (or any request), whichever comes first.
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      const timer = this.clock.setTimeout(() => {
        if (!socket.destroyed) socket.destroy();
      }, handshakeTimeoutMs);
      this.handshakeTimers.set(socket, timer);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.clearHandshakeTimer(socket);
      });
    });
    server.on('request', (request: IncomingMessage) => this.clearHandshakeTimer(request.socket));
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      this.clearHandshakeTimer(socket);
      onUpgrade(request, socket, head);
    });
    return server;
  }

  private clearHandshakeTimer(socket: Socket): void {
    const timer = this.handshakeTimers.get(socket);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.handshakeTimers.delete(socket);
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

/**
 * Runs `handle` on a plain HTTP request to the chargers' port; whatever it throws is answered 500,
 * logged once with the request and its sender, and never leaves the server's 'request' event (where
 * it would end the Node-RED process). True when the request was answered (by `handle` or here).
 */
export function answeredSafely(
  request: IncomingMessage,
  response: ServerResponse,
  log: Pick<Logger, 'error'>,
  handle: (request: IncomingMessage, response: ServerResponse) => boolean,
): boolean {
  try {
    return handle(request, response);
  } catch (err) {
    const path = (request.url ?? '/').split('?')[0];
    log.error(
      `HTTP ${request.method} ${path} from ${request.socket.remoteAddress ?? 'unknown address'} failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    if (response.headersSent) response.destroy();
    else {
      response.statusCode = 500;
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.setHeader('Connection', 'close');
      response.end('internal error\n');
    }
    return true;
  }
}
