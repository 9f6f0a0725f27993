import { EventEmitter } from 'node:events';
import { TimeoutError } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';
import {
  CENTRAL_SYSTEM_ACTIONS,
  type CentralSystemAction,
  CHARGE_POINT_ACTIONS,
  type ChargePointAction,
} from './actions';
import type { MaybePromise } from './central-types';
import { callGivingUp } from './give-up';
import { answersPing } from './liveness';
import type { OcppRequest, OcppResponse } from './messages';
import type { RpcClientOptions, ServerClient } from './rpc-types';
import { findViolation, isOcppAction, ocppError, type Violation, violationError } from './validation';

export {
  CENTRAL_SYSTEM_ACTIONS,
  type CentralSystemAction,
  CHARGE_POINT_ACTIONS,
  type ChargePointAction,
} from './actions';

const chargePointActions = new Set<string>(CHARGE_POINT_ACTIONS);
const centralSystemActions = new Set<string>(CENTRAL_SYSTEM_ACTIONS);

export function isCentralSystemAction(action: string): action is CentralSystemAction {
  return centralSystemActions.has(action);
}

/** Per-charger behaviour the operator can set. */
export interface ChargePointOptions {
  /** Log schema violations of this charger and carry on, instead of answering with a CallError. */
  lenient: boolean;
  /** WebSocket ping interval in s; 0 switches pings off (some chargers never answer them). */
  pingIntervalS: number;
}

export interface ConnectionOptions {
  identity: string;
  client: ServerClient;
  chargePoint: ChargePointOptions;
  clock: Clock;
  log: Logger;
  callTimeoutMs: number;
  /** Whether the charger is accepted (its last BootNotification answer); decides errata 3.8. */
  isAccepted(): boolean;
  /**
   * Answers one charge-point-initiated call: the response, or its promise where it is not decided
   * at once; throws (or rejects with) an ocppError to answer with a CallError.
   */
  handle(
    action: ChargePointAction,
    request: unknown,
    connection: ChargePointConnection,
  ): MaybePromise<unknown>;
  /** No frame for this long means the connection is dead (a generous multiple of the heartbeat). */
  deadAfterMs(): number;
  /** Whether anyone listens to `frame` events: none is built otherwise (two per message). */
  framesWanted(): boolean;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: 'Offline' | 'Timeout' | 'CallError' | 'InvalidRequest' | 'InvalidResponse',
    readonly ocppErrorCode?: string,
  ) {
    super(message);
    // The name is the contract other rooms recognise it by (lib/contracts.ts isCommandFailure).
    this.name = 'CommandError';
  }
}

/**
 * One charge point's WebSocket session. Validates what comes in (strictly, or leniently for
 * chargers with known deviations), gates calls before the charger is accepted (OCPP-J 1.6 errata
 * 3.8: SecurityError), validates what goes out, and watches for a dead connection.
 *
 * Events: `frame` ({direction, frame}), `violation` (Violation), `close` ({code, reason}).
 */
export class ChargePointConnection extends EventEmitter {
  readonly identity: string;
  readonly connectedAt: number;
  private readonly options: ConnectionOptions;
  private lastFrameMs: number;
  private answerMs: number | undefined;
  /** Messages the central system asked for with (Extended)TriggerMessage, allowed until this time. */
  private readonly triggeredUntilMs = new Map<string, number>();
  private watchdog: TimerHandle | undefined;
  private closed = false;
  /** Calls made whose turn has not ended (answered or given up), the one with ocpp-rpc included. */
  private callsPending = 0;
  /** Calls waiting for the one before them to end, in order: each hands its own to ocpp-rpc. */
  private readonly waiting: (() => void)[] = [];
  /**
   * A call's turn ended, answered or not: the next one goes. One function for every call, and no
   * promise chained per call to wait on (most calls find nothing in flight).
   */
  private readonly turnEnded = (): void => {
    this.callsPending -= 1;
    this.waiting.shift()?.();
  };
  /** Message ids of the charger's StartTransaction calls whose answer has not gone out yet. */
  private readonly startsUnanswered = new Set<string>();
  /**
   * Set while a transaction is known here and not yet to the charger (its StartTransaction answer
   * is still on its way): commands wait for it, so that none names a transaction the charger does
   * not know (OCPP 1.6 §3.13.2: a TxProfile for an unknown transaction is rejected). The traffic
   * gate (traffic.ts), through which every command comes, waits for `startAnswered`.
   */
  private held: { promise: Promise<void>; release: () => void } | undefined;

  constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.identity = options.identity;
    this.connectedAt = options.clock.now();
    this.lastFrameMs = this.connectedAt;
    const { client } = options;

    // ocpp-rpc awaits what the handler returns and answers a throw with a CallError: an answer
    // decided at once needs no promise of ours.
    client.handle(
      ({ method, params, messageId }: { method?: string; params?: unknown; messageId?: string }) =>
        this.dispatch(method ?? '', params, messageId) as Promise<Record<string, unknown>>,
    );
    client.on('message', ({ message, outbound }: { message: Buffer | string; outbound: boolean }) => {
      if (!options.framesWanted()) return;
      this.emit('frame', { direction: outbound ? 'out' : 'in', frame: message.toString() });
    });
    // When an answer arrives, before the call that waits for it goes on (a message the charger sent
    // after answering may already be handled by then): from this instant what it answered holds.
    // ocpp-rpc tells of an answer of ours just before it writes it: commands held for it go out
    // on a later turn, after it.
    client.on('response', ({ outbound, payload }: { outbound: boolean; payload?: unknown[] }) => {
      if (!outbound) this.answerMs = this.options.clock.now();
      else if (this.startsUnanswered.delete(String(payload?.[1])) && this.startsUnanswered.size === 0)
        this.release();
    });
    // Any byte from the charger shows it is alive: OCPP messages, pongs, and its own pings, which
    // OCPP-J 1.6 section 5.3 lets replace heartbeats (ocpp-rpc reports none of the last).
    const socket = client.handshake.request.socket;
    const touch = () => {
      this.lastFrameMs = this.options.clock.now();
    };
    socket.on('data', touch);
    client.on('badMessage', ({ buffer, error }: { buffer: Buffer; error: Error }) => {
      this.options.log.warn(
        `charge point ${this.identity}: unreadable frame (${error.message}): ${withoutSecrets(buffer.toString())}`,
      );
    });
    client.once('close', ({ code, reason }: { code: number; reason: string | Buffer }) => {
      socket.off('data', touch);
      this.closed = true;
      this.options.clock.clearTimeout(this.watchdog);
      this.startsUnanswered.clear();
      this.release();
      this.emit('close', { code, reason: reason.toString() });
    });
    // ocpp-rpc's typings require every option; reconfigure merges the one given.
    client.reconfigure({ pingIntervalMs: options.chargePoint.pingIntervalS * 1000 } as RpcClientOptions);
    speakOcpp16Errors(client);
    this.armWatchdog();
  }

  /** When the charger's latest answer to a command arrived (clock ms); undefined before the first. */
  get answeredAtMs(): number | undefined {
    return this.answerMs;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Whether the charger still answers a ping (liveness.ts), before another connection may replace it. */
  answersPing(): Promise<boolean> {
    return this.closed ? Promise.resolve(false) : answersPing(this.options.client, this.options.clock);
  }

  get lenient(): boolean {
    return this.options.chargePoint.lenient;
  }

  /** The sub-protocol agreed at the handshake ('' for chargers that offered none). */
  get protocol(): string {
    return this.options.client.protocol ?? '';
  }

  get remoteAddress(): string | undefined {
    return this.options.client.handshake.remoteAddress;
  }

  /** Sends a central-system command and returns the charger's answer. */
  async call<A extends CentralSystemAction>(
    action: A,
    request: OcppRequest<A>,
    timeoutMs = this.options.callTimeoutMs,
  ): Promise<OcppResponse<A>> {
    if (!isCentralSystemAction(action)) {
      throw new CommandError(`${action} is not a command a central system sends`, 'InvalidRequest');
    }
    const requestViolation = findViolation(action, 'request', request);
    if (requestViolation) {
      throw new CommandError(`${action} to ${this.identity}: ${requestViolation.summary}`, 'InvalidRequest');
    }
    if (this.closed) throw new CommandError(`charge point ${this.identity} is not connected`, 'Offline');
    // Allowed before the call goes out: the answer and the triggered message may arrive together.
    const triggered = triggeredAction(action, request);
    if (triggered)
      this.triggeredUntilMs.set(triggered, this.options.clock.now() + TRIGGERED_MESSAGE_WINDOW_MS);
    let response: unknown;
    try {
      // Nothing in flight: out at once, in this turn; else once the calls before it ended.
      const turn =
        this.callsPending === 0
          ? this.callNow(action, request, timeoutMs)
          : new Promise<unknown>((resolve) => {
              this.waiting.push(() => resolve(this.callNow(action, request, timeoutMs)));
            });
      this.callsPending += 1;
      response = await turn;
    } catch (err) {
      if (triggered) this.triggeredUntilMs.delete(triggered);
      throw this.describeCallFailure(action, err as Error & { rpcErrorCode?: string }, timeoutMs);
    }
    if (triggered && (response as { status?: string } | null)?.status !== 'Accepted') {
      this.triggeredUntilMs.delete(triggered);
    }
    const responseViolation = findViolation(action, 'response', response);
    if (responseViolation) {
      this.reportViolation(responseViolation);
      if (!this.lenient) {
        throw new CommandError(
          `charge point ${this.identity} answered ${action} with an invalid response: ${responseViolation.summary}`,
          'InvalidResponse',
        );
      }
    }
    return response as OcppResponse<A>;
  }

  /**
   * Hands one call to ocpp-rpc, the previous one answered or given up (so it goes out at once), and
   * gives up on it after `timeoutMs` from then (callGivingUp); its end lets the next one go.
   */
  private callNow(action: string, request: unknown, timeoutMs: number): Promise<unknown> {
    return callGivingUp(this.options.client, action, request, timeoutMs, this.turnEnded);
  }

  /**
   * Closes this session (for a replacement connection or a stop). `force` drops the socket without
   * a closing handshake, for a peer that is gone.
   */
  async close(code: number, reason: string, force = false): Promise<void> {
    if (this.closed) return;
    await this.options.client.close({ code, reason, force }).catch(() => undefined);
  }

  /**
   * A transaction the charger is starting is now known to the central system: commands to the
   * charger wait until it has the StartTransaction answer that gives it the transaction's id (a
   * room between, such as the operator's backend, may take a while to hand the answer on).
   */
  holdCommandsUntilStartAnswered(): void {
    if (this.held || this.startsUnanswered.size === 0 || this.closed) return;
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = { promise, release };
  }

  /** Commands wait for a StartTransaction answer to go out (startAnswered). */
  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Resolves once no command waits for a StartTransaction answer. */
  async startAnswered(): Promise<void> {
    while (this.held) await this.held.promise;
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    held?.release();
  }

  private dispatch(method: string, params: unknown, messageId?: string): MaybePromise<unknown> {
    if (!isOcppAction(method)) throw ocppError('NotImplemented', `${method} is not an OCPP 1.6 action`);
    if (!chargePointActions.has(method)) {
      throw ocppError('NotSupported', `${method} is sent by a central system, not by a charge point`);
    }
    const action = method as ChargePointAction;
    const violation = findViolation(action, 'request', params);
    if (violation) {
      this.reportViolation(violation);
      if (!this.lenient) throw violationError(violation);
    }
    if (action !== 'BootNotification' && !this.options.isAccepted() && !this.wasTriggered(action)) {
      throw ocppError('SecurityError', `${action} before the central system accepted this charge point`);
    }
    if (action === 'StartTransaction' && messageId !== undefined) this.startsUnanswered.add(messageId);
    let response: MaybePromise<unknown>;
    try {
      response = this.options.handle(action, params, this);
    } catch (err) {
      throw this.handlingFailed(action, err);
    }
    if (!(response instanceof Promise)) return this.checkedAnswer(action, response);
    return response.then(
      (answer) => this.checkedAnswer(action, answer),
      (err: unknown) => {
        throw this.handlingFailed(action, err);
      },
    );
  }

  /** What the charger is answered when handling its call failed: a CallError of ours as it is. */
  private handlingFailed(action: ChargePointAction, err: unknown): unknown {
    if ((err as { rpcErrorCode?: string }).rpcErrorCode) return err;
    // Our failure (the durable state, a bug): the charger retries later; details stay in the log.
    this.options.log.error(`handling ${action} from ${this.identity} failed: ${(err as Error).message}`);
    return ocppError('InternalError', `the central system could not process ${action}`);
  }

  /** The answer, checked against the schema: a bug of ours never sends the charger something invalid. */
  private checkedAnswer(action: ChargePointAction, response: unknown): unknown {
    const own = findViolation(action, 'response', response);
    if (own) {
      this.options.log.error(`answer to ${action} from ${this.identity} is invalid: ${own.summary}`);
      throw ocppError('InternalError', `the central system could not answer ${action}`);
    }
    return response;
  }

  /**
   * OCPP 1.6 section 4.2: a charger that is not yet accepted "SHALL NOT send request messages ...
   * unless it has been instructed by the Central System to do so with a TriggerMessage.req". Those
   * messages are answered; every other one gets the SecurityError of OCPP-J errata 3.8.
   */
  private wasTriggered(action: string): boolean {
    const untilMs = this.triggeredUntilMs.get(action);
    return untilMs !== undefined && this.options.clock.now() <= untilMs;
  }

  private reportViolation(violation: Violation): void {
    const verdict = this.lenient ? 'accepted (lenient)' : 'refused';
    this.options.log.warn(
      `charge point ${this.identity}: ${violation.action} ${violation.kind} breaks the OCPP 1.6 schema, ${verdict}: ${violation.summary}`,
    );
    this.emit('violation', violation);
  }

  private describeCallFailure(action: string, err: Error & { rpcErrorCode?: string }, timeoutMs: number) {
    if (err instanceof TimeoutError) {
      const within = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
      return new CommandError(
        `charge point ${this.identity} did not answer ${action} within ${within}`,
        'Timeout',
      );
    }
    if (err.rpcErrorCode) {
      return new CommandError(
        `charge point ${this.identity} answered ${action} with CallError ${err.rpcErrorCode}: ${err.message}`,
        'CallError',
        err.rpcErrorCode,
      );
    }
    if (this.closed || /socket not open|going away|closed/i.test(err.message)) {
      return new CommandError(
        `charge point ${this.identity} disconnected before answering ${action}`,
        'Offline',
      );
    }
    return new CommandError(`${action} to ${this.identity} failed: ${err.message}`, 'CallError');
  }

  private armWatchdog(): void {
    const deadAfterMs = this.options.deadAfterMs();
    const silentMs = this.options.clock.now() - this.lastFrameMs;
    this.watchdog = this.options.clock.setTimeout(
      () => {
        if (this.closed) return;
        if (this.options.clock.now() - this.lastFrameMs >= deadAfterMs) {
          this.options.log.warn(
            `charge point ${this.identity}: nothing received for ${Math.round(deadAfterMs / 1000)} s, closing the connection as dead`,
          );
          void this.close(1001, 'No frames received', true);
          return;
        }
        this.armWatchdog();
      },
      Math.max(1000, deadAfterMs - silentMs),
    );
  }
}

/**
 * CallError codes as OCPP-J 1.6 spells them on the wire. ocpp-rpc answers frames it cannot read
 * with the OCPP 2.0.1 codes RpcFrameworkError and MessageTypeNotSupported, which 1.6 does not
 * have (1.6 calls a payload "syntactically incorrect or not conform the PDU structure" a
 * FormationViolation, section 4.2.3), and on `ocpp1.6` connections it renames
 * OccurenceConstraintViolation to OccurrenceConstraintViolation, although the OCPP-J 1.6 errata
 * (section 5.1) keeps the original spelling. Outgoing CallErrors are put right here.
 */
const OCPP16_ERROR_CODES: Record<string, string> = {
  RpcFrameworkError: 'FormationViolation',
  MessageTypeNotSupported: 'FormationViolation',
  OccurrenceConstraintViolation: 'OccurenceConstraintViolation',
  FormatViolation: 'FormationViolation',
};

function speakOcpp16Errors(client: ServerClient): void {
  const sendRaw = client.sendRaw.bind(client);
  client.sendRaw = (message: string) => {
    if (message.startsWith('[4,')) {
      const frame = JSON.parse(message) as [number, string, string, string, object];
      const code = OCPP16_ERROR_CODES[frame[2]];
      if (code) {
        frame[2] = code;
        return sendRaw(JSON.stringify(frame));
      }
    }
    return sendRaw(message);
  };
}

/** How long a charger has to send a message the central system triggered. */
const TRIGGERED_MESSAGE_WINDOW_MS = 60_000;

/** The charge-point action a (Extended)TriggerMessage asks for. */
function triggeredAction(action: string, request: unknown): string | undefined {
  if (action !== 'TriggerMessage' && action !== 'ExtendedTriggerMessage') return undefined;
  const requested = (request as { requestedMessage?: string }).requestedMessage;
  return requested === 'SignChargePointCertificate' ? 'SignCertificate' : requested;
}

/**
 * An unreadable frame for the log: truncated, and cut before anything that follows an
 * AuthorizationKey (a broken ChangeConfiguration or GetConfiguration may carry the password).
 */
function withoutSecrets(text: string): string {
  const at = text.search(/authorizationkey/i);
  if (at === -1) return truncate(text);
  return `${truncate(text.slice(0, at + 'AuthorizationKey'.length))} … (the rest is not logged: it may hold the charger's password)`;
}

function truncate(text: string, length = 200): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
