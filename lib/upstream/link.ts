import { EventEmitter } from 'node:events';
import { RPCClient } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';
import type { OcppAction } from '../ocpp/messages';
import type { RpcClientOptions } from '../ocpp/rpc-types';
import { findViolation, isOcppAction, ocppError } from '../ocpp/v16/validation';
import { findViolation201, isCsmsAction201, OCPP201 } from '../ocpp/v201/schemas';
import { settingsFor, type UpstreamSettings, upstreamEndpoint } from './settings';

/** The link's state: `connecting` (first try or between tries), `open`, `closed` (for good). */
export type LinkState = 'connecting' | 'open' | 'closed';

/** A CALL from the upstream backend to the charger; resolves with the answer it gets back. */
export type UpstreamCallHandler = (action: string, request: unknown) => Promise<unknown>;

export interface UpstreamLinkOptions {
  identity: string;
  settings: UpstreamSettings;
  clock: Clock;
  log: Logger;
  /** Answers the upstream's CALLs (forwarded to the charger by the proxy). */
  handle: UpstreamCallHandler;
  /** The charger's OCPP version, which the link speaks too (ocpp1.6 unless said). */
  protocol?: string;
}

/** What a link checks of the frames it passes, per OCPP version. */
interface Dialect {
  protocol: string;
  name: string;
  /** Whether the backend may send it (a command of a central system's). */
  isCommand(action: string): boolean;
  violation(
    action: string,
    kind: 'request' | 'response',
    payload: unknown,
  ): { errorCode: string; summary: string } | undefined;
}

const DIALECTS: Record<string, Dialect> = {
  'ocpp1.6': {
    protocol: 'ocpp1.6',
    name: 'OCPP 1.6',
    isCommand: isOcppAction,
    violation: (action, kind, payload) => findViolation(action as OcppAction, kind, payload),
  },
  [OCPP201]: {
    protocol: OCPP201,
    name: 'OCPP 2.0.1',
    isCommand: isCsmsAction201,
    violation: findViolation201,
  },
};

/** Thrown by `call` when the upstream is not connected or did not answer: the proxy decides locally. */
export class UpstreamUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamUnreachable';
  }
}

/**
 * One charger's connection to its upstream OCPP backend, as that charger: the same identity, the
 * charger's sub-protocol (ocpp1.6 or ocpp2.0.1), its upstream password (Basic auth, security profile 1/2) and TLS material
 * (profile 2/3). It reconnects on its own with exponential backoff and jitter on the injected
 * clock; `call` never waits for a connection (a charger's request must not hang on an absent
 * backend). Both directions are checked against the schemas of the charger's version: the upstream gets nothing
 * invalid from us, and an invalid answer of the upstream is not passed on.
 *
 * Events: `up`, `down` ({ reason }), `state` (LinkState), `retrying` (a try failed; the next waits).
 */
export class UpstreamLink extends EventEmitter {
  readonly identity: string;
  private readonly options: UpstreamLinkOptions;
  private readonly dialect: Dialect;
  private client: RPCClient | undefined;
  private current: LinkState = 'connecting';
  private attempt = 0;
  private retryTimer: TimerHandle | undefined;
  /** The last failure logged, so a backend that stays away is logged once per cause. */
  private lastFailure: string | undefined;

  constructor(options: UpstreamLinkOptions) {
    super();
    this.options = options;
    this.identity = options.identity;
    this.dialect = DIALECTS[options.protocol ?? 'ocpp1.6'] ?? (DIALECTS['ocpp1.6'] as Dialect);
  }

  /** The sub-protocol the link speaks: the charger's. */
  get protocol(): string {
    return this.dialect.protocol;
  }

  get state(): LinkState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current === 'open';
  }

  /** Connecting for the first time since `start` (no try has failed yet): worth waiting for. */
  get firstTry(): boolean {
    return this.current === 'connecting' && this.attempt === 0;
  }

  /** Starts connecting (and reconnecting until `close`). */
  start(): void {
    if (this.current === 'closed' || this.client) return;
    this.connect();
  }

  /** Sends a CALL upstream; rejects with UpstreamUnreachable when it cannot be delivered or answered. */
  async call(action: string, request: unknown): Promise<unknown> {
    const client = this.client;
    if (!client || this.current !== 'open') {
      throw new UpstreamUnreachable(`upstream of ${this.identity} is not connected`);
    }
    const violation = this.dialect.violation(action, 'request', request);
    if (violation)
      throw ocppError(violation.errorCode as never, `${action} for upstream: ${violation.summary}`);
    // A backend that does not answer within the call timeout is hung: the link hangs up (which
    // fails this call) and connects again. One timer per call on the injected clock, and no
    // AbortController and abort listener per call as ocpp-rpc's own timeout or a signal would cost.
    const limitMs = this.options.settings.callTimeoutMs;
    let hung = false;
    const timer = this.options.clock.setTimeout(() => {
      hung = true;
      this.hangUp(client, `did not answer ${action} within ${limitMs} ms`);
    }, limitMs);
    let response: unknown;
    try {
      response = await client.call(action, request, { callTimeoutMs: 0 });
    } catch (err) {
      const code = (err as { rpcErrorCode?: string }).rpcErrorCode;
      // A CALLERROR is the backend's answer; anything else (timeout, disconnect) is unreachable.
      if (code && !hung && !/disconnect|timeout/i.test((err as Error).message)) throw err;
      throw new UpstreamUnreachable(
        `upstream of ${this.identity} did not answer ${action}: ${hung ? `no answer within ${limitMs} ms` : (err as Error).message || (err as Error).name}`,
      );
    } finally {
      this.options.clock.clearTimeout(timer);
    }
    const answerViolation = this.dialect.violation(action, 'response', response);
    if (answerViolation) {
      throw ocppError(
        'FormationViolation',
        `upstream of ${this.identity} answered ${action} with an invalid response: ${answerViolation.summary}`,
      );
    }
    return response;
  }

  /** Closes the link for good (the charger left, or the proxy stops). */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.setState('closed');
    this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    await client
      ?.close({ code: 1000, reason: 'Charger disconnected', awaitPending: false })
      .catch(() => undefined);
  }

  /** Drops a connection whose backend stopped answering; `lost` then connects again with backoff. */
  private hangUp(client: RPCClient, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.close({ force: true }).catch(() => undefined);
    this.lost(reason);
  }

  private connect(): void {
    const { settings, identity, log } = { ...this.options, identity: this.identity };
    const client = new RPCClient(clientOptions(identity, settings, this.dialect.protocol));
    this.client = client;
    client.handle(async ({ method, params }: { method?: string; params?: unknown }) => {
      const action = method ?? '';
      const { dialect } = this;
      if (!dialect.isCommand(action))
        throw ocppError('NotImplemented', `${action} is not an ${dialect.name} command of a central system`);
      const violation = dialect.violation(action, 'request', params);
      if (violation) throw ocppError(violation.errorCode as never, `${action} request: ${violation.summary}`);
      return (await this.options.handle(action, params)) as Record<string, unknown>;
    });
    // ocpp-rpc emits `close` (1006) for a connection that never opened too, before `connect`
    // rejects: that failure is told by the rejection, which knows why (HTTP status, TLS).
    let opened = false;
    client.once('close', ({ code, reason }: { code: number; reason: string | Buffer }) => {
      if (this.client !== client || !opened) return;
      this.client = undefined;
      this.lost(`closed (${code}${String(reason) ? ` ${String(reason)}` : ''})`);
    });
    client.connect().then(
      () => {
        opened = true;
        if (this.client !== client || this.current === 'closed') {
          client.close({ force: true }).catch(() => undefined);
          return;
        }
        this.attempt = 0;
        if (this.lastFailure) log.info(`upstream of ${identity} is connected again`);
        this.lastFailure = undefined;
        this.setState('open');
        this.emit('up');
      },
      (err: Error) => {
        if (this.client !== client) return;
        this.client = undefined;
        this.lost(describeFailure(err, settingsFor(settings, identity)));
      },
    );
  }

  /** The connection failed or dropped: tell, and try again after the backoff. */
  private lost(reason: string): void {
    if (this.current === 'closed') return;
    const wasOpen = this.current === 'open';
    this.setState('connecting');
    if (wasOpen) this.emit('down', { reason });
    this.emit('retrying', { reason });
    if (reason !== this.lastFailure) {
      this.options.log.warn(`upstream of ${this.identity}: ${reason}; trying again with backoff`);
      this.lastFailure = reason;
    }
    const { initialDelayMs, maxDelayMs } = this.options.settings.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    // Jitter: chargers that lost one backend together do not all come back in the same instant.
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.current !== 'closed') this.connect();
    }, delay);
  }

  private setState(state: LinkState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }
}

function clientOptions(identity: string, all: UpstreamSettings, protocol: string): RpcClientOptions {
  const settings = settingsFor(all, identity);
  const tls = settings.tls;
  return {
    identity,
    endpoint: upstreamEndpoint(settings.url),
    protocols: [protocol],
    ...(settings.password === undefined ? {} : { password: settings.password }),
    reconnect: false,
    strictMode: false,
    callTimeoutMs: settings.callTimeoutMs,
    pingIntervalMs: settings.pingIntervalMs,
    ...(tls
      ? {
          wsOpts: {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
          },
        }
      : {}),
  } as RpcClientOptions;
}

/** A failed connection in words, without any secret (the URL carries no password). */
function describeFailure(err: Error, settings: UpstreamSettings): string {
  // ocpp-rpc rejects a refused handshake with the HTTP status as `code`; ws says it in the message.
  const raw = (err as { code?: unknown }).code;
  const status =
    typeof raw === 'number' ? String(raw) : /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  if (status === '401' || status === '403') {
    const sent = [
      ...(settings.password === undefined ? [] : ['the password']),
      ...(settings.tls?.cert ? ['the client certificate'] : []),
    ];
    return sent.length > 0
      ? `the backend refused ${sent.join(' or ')} (HTTP ${status})`
      : `the backend wants credentials (HTTP ${status}); no upstream password or client certificate is set`;
  }
  if (status) return `the backend answered the WebSocket handshake with HTTP ${status}`;
  const code = typeof raw === 'string' ? raw : undefined;
  if (code && /CERT|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return `the backend's TLS certificate is not trusted (${code}: ${err.message}); is the upstream CA the one that signed it?`;
  }
  if (/alert (unknown ca|bad certificate|certificate required)/i.test(err.message)) {
    return `the backend refused the client certificate during the TLS handshake (${err.message})`;
  }
  // TLS 1.3: the backend checks the client certificate after the client's handshake; a refusal
  // reaches the client as a reset before the WebSocket handshake.
  if (code === 'ECONNRESET' && settings.tls?.cert && /^wss:/.test(settings.url)) {
    return 'the backend reset the connection during the TLS handshake (ECONNRESET): it may refuse the client certificate';
  }
  return `cannot connect (${code ?? err.message})`;
}
