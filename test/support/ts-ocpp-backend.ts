import { EventEmitter, once } from 'node:events';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CentralSystem, type RequestMetadata } from '@voltbras/ts-ocpp';
import { chargePointActions } from '@voltbras/ts-ocpp/dist/messages/cp';
import { validateMessageResponse } from '@voltbras/ts-ocpp/dist/messages/validation';
import { parseOCPPMessage } from '@voltbras/ts-ocpp/dist/ws/format';
import { MessageType, type OCPPJMessage } from '@voltbras/ts-ocpp/dist/ws/types';

/** One WebSocket handshake as the backend saw it. */
export interface Handshake {
  identity: string;
  password?: string;
  /** Why the backend refused it (HTTP 401). */
  refused?: string;
}

export interface TsOcppBackendOptions {
  /** Basic auth: the one password every charger must send (a wrong or missing one: HTTP 401). */
  password?: string;
  /** How long `call` waits for the charger's answer (ms); ts-ocpp's default is 30 s. */
  callTimeoutMs?: number;
}

/** A recorded CALL of a charger. */
export interface BackendCall {
  identity: string;
  action: string;
  params: Record<string, unknown>;
}

/**
 * An answer of the backend to one action: the answer's payload, or a Promise of it (a late answer).
 * `byDefault` gives what the backend would have answered (for StartTransaction it takes the next id).
 */
export type AnswerFn = (
  request: Record<string, unknown>,
  identity: string,
  byDefault: () => Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** A charger connected to the backend (one WebSocket). */
export interface TsOcppClient {
  readonly identity: string;
  /** Its handshake (identity and Basic-auth password). */
  readonly handshake: Handshake;
  /** Sends a command to this charger (as `TsOcppBackend.call`). */
  call(action: string, params: unknown): Promise<unknown>;
  /** Drops this charger's WebSocket (its pending commands reject). */
  close(): void;
}

/** An error of `call`: the charger's CALLERROR (as ocpp-rpc's RPCError names it), or a local one. */
export interface CallError extends Error {
  rpcErrorCode?: string;
  rpcErrorMessage?: string;
  details?: unknown;
}

/** The socket of ts-ocpp's connection (its own ws 7), as far as this backend uses it. */
interface LibrarySocket extends EventEmitter {
  readonly readyState: number;
  terminate(): void;
  close(code?: number, reason?: string): void;
}

/** ts-ocpp's per-socket Connection: its socket and its table of CALLs awaiting their answer. */
interface LibraryConnection {
  readonly socket: LibrarySocket;
  messageTriggers: Record<string, (message: OCPPJMessage) => void>;
}

type VerifyClient = (
  info: { req: IncomingMessage },
  done: (verified: boolean, code?: number, message?: string) => void,
) => void;

/** The private members of ts-ocpp's CentralSystem this backend has to reach (see the class comment). */
interface Internals {
  httpServer: HttpServer;
  websocketsServer: EventEmitter & { options: { verifyClient: VerifyClient | null } };
  connections: Record<string, LibraryConnection[] | undefined>;
}

function internalsOf(cs: CentralSystem): Internals {
  const internals = cs as unknown as Partial<Internals>;
  if (!internals.httpServer || !internals.websocketsServer?.options || !internals.connections)
    throw new Error(
      '@voltbras/ts-ocpp CentralSystem no longer has httpServer, websocketsServer, connections',
    );
  return internals as Internals;
}

/** The identity in ts-ocpp's chargePointId: the URL's last path segment, which it does not decode. */
function identityOf(chargePointId: string): string {
  try {
    return decodeURIComponent(chargePointId);
  } catch {
    return chargePointId;
  }
}

const never = () => new Promise<never>(() => undefined);
const WS_OPEN = 1;

/**
 * An operator's OCPP 1.6-J backend for the upstream-proxy tests, NOT built on ocpp-rpc: it is
 * @voltbras/ts-ocpp's `CentralSystem` (a TypeScript OCPP implementation written elsewhere), with the
 * same surface as the ocpp-rpc-based `UpstreamBackend` (test/support/upstream-backend.ts), so a test
 * can use either. ts-ocpp does the HTTP server and WebSocket upgrade (its own ws 7, sub-protocol
 * ocpp1.6), the OCPP-J framing, the correlation of CALLs and answers, and the strict validation of
 * every request both ways against the OCA OCPP 1.6 JSON schemas it ships (`jsonschema`):
 * `rejectInvalidRequests` is on, so a charger's invalid request never reaches the handler and is
 * answered with a CALLERROR; the backend records it in `badMessages`. Its own answers are checked
 * with ts-ocpp's `validateMessageResponse` (recorded in `badAnswers`, sent anyway, so a test can
 * still answer something odd on purpose).
 *
 * Answers as a simple CSMS does (as `UpstreamBackend`): BootNotification Accepted (interval 3600),
 * Authorize Accepted, transaction ids from 7001 on, DataTransfer Accepted; `answer(action, fn)`
 * overrides one action (Rejected, Pending, a late answer); `hang` leaves calls unanswered.
 *
 * What ts-ocpp's CentralSystem does not offer, and how this backend gets it (reaching into the
 * class's private members `httpServer`, `websocketsServer` and `connections`, checked at start):
 * - It listens in its constructor and tells nobody when it does (or that it failed: it only
 *   console.errors EADDRINUSE), nor on which port: the backend waits for its http server's
 *   `listening` (or `error`) and reads the port from it. So port 0 works, and a restart (a new
 *   CentralSystem: a closed one cannot listen again) asks for the same port.
 * - No handshake hook and no Basic auth: the backend sets the `verifyClient` option of its ws
 *   server, which records the handshake and refuses a wrong password with HTTP 401.
 * - Its connection listener gets only (chargePointId, status), no socket or request: the backend
 *   listens to its ws server's `connection` instead (after the library's own listener, which has
 *   made the Connection by then) to know each charger's socket.
 * - A command whose charger goes away is not failed: ts-ocpp waits for its timeout (30 s, a live
 *   timer that would outlive the test). When a socket closes the backend settles that Connection's
 *   pending commands with a CALLERROR, so `call` rejects at once and no timer is left.
 * - It answers an invalid request with CALLERROR GenericError ("[ValidationError] jsonschema
 *   errors: ...") rather than FormationViolation and the like, an unknown action the same way
 *   (not NotImplemented), and a frame it cannot parse not at all (the backend records that too).
 * - `close()` terminates the sockets (the charger sees 1006, not ocpp-rpc's 1001).
 * - Its chargePointId is the URL's last path segment undecoded; the backend decodes it for its
 *   records (`identity`) and talks to ts-ocpp with the raw one. Its `sendRequest` uses a charger's
 *   oldest open socket when it has two.
 * A late or never-coming answer needs nothing: ts-ocpp awaits the handler's Promise.
 *
 * Events: `call` ({ identity, action, params }) after each recorded CALL; `client` (identity);
 * `disconnect` (identity); `handshake` (the entry of `handshakes`); `badMessage` (the entry).
 */
export class TsOcppBackend extends EventEmitter {
  /** The charger requests that passed validation, in arrival order. */
  readonly calls: BackendCall[] = [];
  /** Calls this returns true for are never answered (a hung backend). */
  hang: ((action: string, request: Record<string, unknown>) => boolean) | undefined;
  /** Requests the strict server refused (a schema violation, an unparseable frame): tests assert none. */
  readonly badMessages: string[] = [];
  /** The backend's own answers that ts-ocpp's response schemas refuse (sent all the same). */
  readonly badAnswers: string[] = [];
  /** The identity and password of every handshake. */
  readonly handshakes: Handshake[] = [];
  /** The chargers connected now, by identity. */
  readonly clients = new Map<string, TsOcppClient>();
  private server: CentralSystem | undefined;
  private port = 0;
  private nextTransactionId = 7001;
  private readonly overrides = new Map<string, AnswerFn>();
  /** The action of each charger CALL not yet answered, by `${chargePointId} ${messageId}`. */
  private readonly pendingActions = new Map<string, string>();

  constructor(private readonly options: TsOcppBackendOptions = {}) {
    super();
  }

  /** Where the proxy dials, with the identity at the end. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ocpp/{identity}`;
  }

  /** Whether it is listening. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /**
   * Overrides the backend's answer to one action (undefined: back to the default), e.g.
   * `answer('BootNotification', () => ({ status: 'Rejected', currentTime, interval: 60 }))`.
   */
  answer(action: string, fn: AnswerFn | undefined): this {
    if (fn) this.overrides.set(action, fn);
    else this.overrides.delete(action);
    return this;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('the backend is already started');
    const server = new CentralSystem(
      this.port,
      (request, metadata) => this.handle(request as never, metadata) as never,
      {
        host: '127.0.0.1',
        rejectInvalidRequests: true,
        ...(this.options.callTimeoutMs === undefined
          ? {}
          : { websocketRequestTimeout: this.options.callTimeoutMs }),
        onRawWebsocketData: (data, { chargePointId }) => this.checkFrame(chargePointId, data),
        onWebsocketRequestResponse: (initiator, type, message, { chargePointId }) => {
          if (initiator === 'chargepoint') this.noteRefusal(type, message, chargePointId);
        },
      },
    );
    let internals: Internals;
    try {
      internals = internalsOf(server);
    } catch (err) {
      await server.close();
      throw err;
    }
    const http = internals.httpServer;
    if (!http.listening) {
      const failed = once(http, 'error').then(([err]) => {
        throw err as Error;
      });
      try {
        await Promise.race([once(http, 'listening'), failed]);
      } catch (err) {
        await server.close().catch(() => undefined);
        throw err;
      }
    }
    this.port = (http.address() as AddressInfo).port;
    internals.websocketsServer.options.verifyClient = (info, done) => this.verify(info.req, done);
    internals.websocketsServer.on('connection', (socket: LibrarySocket, request: IncomingMessage) =>
      this.connected(internals, socket, request),
    );
    this.server = server;
  }

  /** Stops the backend: every charger's link drops; `start()` brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const sockets = [...this.clients.values()];
    this.clients.clear();
    for (const client of sockets) client.close();
    await server.close();
    this.pendingActions.clear();
  }

  /** Sends a command to a charger through its link; resolves with its answer. */
  async call(identity: string, action: string, params: unknown): Promise<unknown> {
    const client = this.clients.get(identity);
    if (!client) throw new Error(`${identity} is not connected to the backend`);
    return client.call(action, params);
  }

  /** The CALLs of one action (from one identity, if given). */
  of(action: string, identity?: string): BackendCall[] {
    return this.calls.filter(
      (c) => c.action === action && (identity === undefined || c.identity === identity),
    );
  }

  /** The default answers, as `UpstreamBackend` gives them. */
  private byDefault(action: string): Record<string, unknown> | undefined {
    const now = new Date().toISOString();
    switch (action) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime: now, interval: 3600 };
      case 'Heartbeat':
        return { currentTime: now };
      case 'StatusNotification':
      case 'MeterValues':
      case 'FirmwareStatusNotification':
      case 'DiagnosticsStatusNotification':
        return {};
      case 'Authorize':
      case 'StopTransaction':
        return { idTagInfo: { status: 'Accepted' } };
      case 'StartTransaction':
        return { transactionId: this.nextTransactionId++, idTagInfo: { status: 'Accepted' } };
      case 'DataTransfer':
        return { status: 'Accepted', data: 'from the backend' };
      default:
        return undefined;
    }
  }

  /** ts-ocpp's request handler: only requests that passed its schemas get here. */
  private async handle(
    request: { action: string; ocppVersion: string } & Record<string, unknown>,
    metadata: RequestMetadata,
  ): Promise<Record<string, unknown>> {
    const { action, ocppVersion, ...params } = request;
    const identity = identityOf(metadata.chargePointId);
    this.calls.push({ identity, action, params });
    this.emit('call', { identity, action, params });
    // A hung backend: never answered (the pending Promise holds no timer; it goes with the socket).
    if (this.hang?.(action, params)) await never();
    const byDefault = () => {
      const answer = this.byDefault(action);
      if (!answer) throw new Error(`the backend has no answer to ${action}`);
      return answer;
    };
    const override = this.overrides.get(action);
    const answer = override ? await override(params, identity, byDefault) : byDefault();
    const checked = validateMessageResponse(action as never, answer, chargePointActions);
    if (checked.isLeft()) this.badAnswers.push(`${identity}: ${action}: ${checked.extract().message}`);
    return { action, ocppVersion, ...answer };
  }

  /** The handshake: recorded, and refused with HTTP 401 when the password is wrong. */
  private verify(
    request: IncomingMessage,
    done: (verified: boolean, code?: number, message?: string) => void,
  ) {
    const segment = (request.url ?? '').split('/').pop() ?? '';
    const entry: Handshake = { identity: identityOf(segment) };
    const authorization = request.headers.authorization;
    if (authorization?.startsWith('Basic ')) {
      const credentials = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
      const colon = credentials.indexOf(':');
      if (colon >= 0) entry.password = credentials.slice(colon + 1);
    }
    const { password } = this.options;
    if (password !== undefined && entry.password !== password) entry.refused = 'wrong password';
    this.handshakes.push(entry);
    this.emit('handshake', entry);
    if (entry.refused) done(false, 401, 'Unauthorized');
    else done(true);
  }

  /** A WebSocket ts-ocpp took (its own `connection` listener ran first and made the Connection). */
  private connected(internals: Internals, socket: LibrarySocket, request: IncomingMessage): void {
    const chargePointId = (request.url ?? '').split('/').pop() ?? '';
    const connection = internals.connections[chargePointId]?.find((c) => c.socket === socket);
    // ts-ocpp closed it at once (no ocpp1.6 sub-protocol, no identity).
    if (!connection) return;
    const identity = identityOf(chargePointId);
    const handshake = this.handshakes.findLast((h) => h.identity === identity && !h.refused) ?? { identity };
    const client: TsOcppClient = {
      identity,
      handshake,
      call: (action, params) => this.send(chargePointId, socket, action, params),
      close: () => socket.terminate(),
    };
    this.clients.set(identity, client);
    socket.on('close', () => {
      // Its commands still waiting fail now, not at ts-ocpp's timeout (whose timer this clears).
      for (const [id, settle] of Object.entries(connection.messageTriggers)) {
        settle({
          id,
          type: MessageType.CALLERROR,
          errorCode: 'GenericError',
          errorDescription: 'the connection closed before the answer',
        });
      }
      if (this.clients.get(identity) === client) this.clients.delete(identity);
      this.emit('disconnect', identity);
    });
    this.emit('client', identity);
  }

  /** A command through ts-ocpp's sendRequest (which checks it against the schemas first). */
  private async send(chargePointId: string, socket: LibrarySocket, action: string, params: unknown) {
    const server = this.server;
    if (!server || socket.readyState !== WS_OPEN)
      throw new Error(`${identityOf(chargePointId)} is not connected to the backend`);
    const result = await server
      .sendRequest({
        ocppVersion: 'v1.6-json',
        chargePointId,
        action: action as never,
        payload: (params ?? {}) as never,
      })
      .run();
    if (result.isRight()) return result.extract();
    const failure = result.extract() as Error & {
      errorCode?: string;
      errorDescription?: string;
      errorDetails?: unknown;
    };
    const error: CallError = new Error(
      failure.errorCode
        ? `${action}: ${failure.errorCode} ${failure.errorDescription ?? ''}`.trim()
        : `${action}: ${failure.message}`,
    );
    if (failure.errorCode) {
      error.rpcErrorCode = failure.errorCode;
      error.rpcErrorMessage = failure.errorDescription ?? '';
      error.details = failure.errorDetails;
    }
    throw error;
  }

  /** Every frame of a charger: one ts-ocpp cannot parse it ignores silently; the backend records it. */
  private checkFrame(chargePointId: string, data: unknown): void {
    const parsed = parseOCPPMessage(typeof data === 'string' ? data : (data as never));
    if (parsed.isLeft()) this.refused(chargePointId, `unparseable frame: ${parsed.extract().message}`);
  }

  /** ts-ocpp's strict mode refused a charger's request: its CALLERROR names the ValidationError. */
  private noteRefusal(type: 'request' | 'response', message: OCPPJMessage, chargePointId: string): void {
    const key = `${chargePointId} ${message.id}`;
    if (type === 'request' && message.type === MessageType.CALL) {
      this.pendingActions.set(key, message.action);
      return;
    }
    if (type !== 'response') return;
    const action = this.pendingActions.get(key) ?? '?';
    this.pendingActions.delete(key);
    if (message.type === MessageType.CALLERROR && message.errorDescription.startsWith('[ValidationError]'))
      this.refused(chargePointId, `${action}: ${message.errorDescription}`);
  }

  private refused(chargePointId: string, what: string): void {
    const entry = `${identityOf(chargePointId)}: ${what}`;
    this.badMessages.push(entry);
    this.emit('badMessage', entry);
  }
}
