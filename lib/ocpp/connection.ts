import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import { type Logger, WarnOnce } from '../log';
import type { CentralSystemAction } from './actions';
import { CommandError, describeCallFailure } from './command-error';
import { type Dialect, dialect16, dialect201 } from './dialect';
import { callGivingUp, settled } from './give-up';
import { answersPing } from './liveness';
import type { OcppRequest, OcppResponse } from './messages';
import { outgoing } from './outgoing';
import type { RpcClientOptions, ServerClient } from './rpc-types';
import { StartHold } from './start-hold';
import { TriggeredMessages } from './triggered-messages';
import { takeConfigurationAnswer } from './v16/configuration-answer';
import { findViolation, ocppError, type Violation, violationError } from './v16/validation';
import { OCPP201 } from './v201/schemas';
import type { SharedPath, Translation201 } from './v201/shared-path';
import { Station201 } from './v201/station';
import { speakErrorsOf, withoutSecrets } from './wire';

/**
 * A connection's commands one at a time, in the order they were made (connection.ts): a call goes
 * out once the calls before it ended, answered or given up. One function ends every turn, and no
 * promise is chained per call to wait on (most calls find nothing in flight).
 */
export class CallTurns {
  /** Calls made whose turn has not ended (answered or given up), the one with ocpp-rpc included. */
  private pending = 0;
  /** Calls waiting for the one before them to end, in order: each hands its own to ocpp-rpc. */
  private readonly waiting: (() => void)[] = [];

  /** A call's turn ended, answered or not: the next one goes. */
  readonly ended = (): void => {
    this.pending -= 1;
    this.waiting.shift()?.();
  };

  /**
   * Takes a turn for `send`: at once, in this turn, when nothing is in flight; else once the calls
   * before it ended. `send` must call {@link ended} when its call is answered or given up.
   */
  take(send: () => Promise<unknown>): Promise<unknown> {
    const turn =
      this.pending === 0
        ? send()
        : new Promise<unknown>((resolve) => {
            this.waiting.push(() => resolve(send()));
          });
    this.pending += 1;
    return turn;
  }
}

export {
  CENTRAL_SYSTEM_ACTIONS,
  type CentralSystemAction,
  CHARGE_POINT_ACTIONS,
  type ChargePointAction,
  isCentralSystemAction,
} from './actions';
export { CommandError } from './command-error';

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
  /** No frame for this long means the connection is dead (a generous multiple of the heartbeat). */
  deadAfterMs(): number;
  /** Whether anyone listens to `frame` events: none is built otherwise (two per message). */
  framesWanted(): boolean;
  /**
   * What the translation of an OCPP 2.0.1 charger needs of the central system (v201/shared-path.ts)
   * besides the shared calls it yields (ChargerCalls runs them).
   */
  ocpp201?: Omit<SharedPath, 'identity'>;
}

/** A charger's message as it came, in its version's shapes (for the flows' `msg.ocpp`). */
export interface RawMessage {
  version: string;
  action: string;
  request: unknown;
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
  /** Messages the central system asked for: allowed before the charger is accepted. */
  private readonly triggers: TriggeredMessages;
  private watchdog: TimerHandle | undefined;
  private closed = false;
  /** Commands one at a time, in order (CallTurns, above). */
  private readonly turns = new CallTurns();
  /** Commands wait while a StartTransaction answer is on its way (start-hold.ts). */
  private readonly startHold = new StartHold();
  /** The translation of an OCPP 2.0.1 charger; undefined for 1.6. */
  private readonly station: Station201 | undefined;
  /** The version's rules for the charger's calls, chosen by the sub-protocol of its handshake. */
  private readonly dialect: Dialect;
  /** Requests of commands sent as the flow wrote them (outgoing.ts), so the traffic gate need not decide again. */
  private readonly asWritten = new WeakSet<object>();
  /** The 2.0.1 message being handled, while the handlers take the shared calls it became. */
  private raw: RawMessage | undefined;
  /** Breaches taken on (a long configuration value) are said once per connection. */
  private readonly said = new WarnOnce({ info() {}, warn: (m) => this.options.log.warn(m), error() {} });

  constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.identity = options.identity;
    this.connectedAt = options.clock.now();
    this.lastFrameMs = this.connectedAt;
    this.triggers = new TriggeredMessages(options.clock);
    const { client } = options;
    if (client.protocol === OCPP201 && options.ocpp201) {
      const station = new Station201({ ...options.ocpp201, identity: this.identity });
      this.station = station;
      this.dialect = dialect201(station);
    } else this.dialect = dialect16;
    // The charger's CALLs are taken by the step above (LiveConnections.attach registers
    // ChargerCalls.take with ocpp-rpc), which asks this connection to admit each and check its answer.
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
      else this.startHold.answered(String(payload?.[1]));
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
      this.startHold.end();
      this.emit('close', { code, reason: reason.toString() });
    });
    // ocpp-rpc's typings require every option; reconfigure merges the one given.
    client.reconfigure({ pingIntervalMs: options.chargePoint.pingIntervalS * 1000 } as RpcClientOptions);
    speakErrorsOf(client, client.protocol ?? '');
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

  /** The `Host` the charger dialled (its upgrade request's header): where it reaches this central system. */
  get dialledHost(): string | undefined {
    return this.options.client.handshake.request.headers.host;
  }

  /**
   * Sends a central-system command and returns the charger's answer; `asWritten`: in the charger's
   * own version's words already (outgoing.ts).
   */
  async call<A extends CentralSystemAction>(
    action: A,
    request: OcppRequest<A>,
    timeoutMs = this.options.callTimeoutMs,
    asWritten = false,
  ): Promise<OcppResponse<A>> {
    const wire = outgoing(this.station, this.identity, action, request, asWritten);
    if (wire.native && typeof request === 'object' && request !== null) this.asWritten.add(request);
    if (this.closed) throw new CommandError(`charge point ${this.identity} is not connected`, 'Offline');
    if (wire.answer !== undefined) return wire.answer as OcppResponse<A>;
    // Allowed before the call goes out: the answer and the triggered message may arrive together.
    const triggered = this.triggers.asked(action, request);
    let response: unknown;
    try {
      // Nothing in flight: out at once, in this turn; else once the calls before it ended.
      response = await this.turns.take(() => this.callNow(wire.action, wire.request, timeoutMs));
    } catch (err) {
      if (triggered) this.triggers.refused(triggered);
      throw describeCallFailure(this.identity, wire.action, err as Error & { rpcErrorCode?: string }, {
        timeoutMs,
        closed: this.closed,
      });
    }
    if (triggered && (response as { status?: string } | null)?.status !== 'Accepted') {
      this.triggers.refused(triggered);
    }
    let responseViolation: Violation | undefined;
    if (this.station) responseViolation = this.station.validate(wire.action, 'response', response);
    else if (action === 'GetConfiguration' && !this.lenient)
      ({ response, violation: responseViolation } = takeConfigurationAnswer(this.identity, response, (m) =>
        this.said.warn(m),
      ));
    else responseViolation = findViolation(action, 'response', response);
    if (responseViolation) {
      this.reportViolation(responseViolation);
      if (!this.lenient) {
        throw new CommandError(
          `charge point ${this.identity} answered ${wire.action} with an invalid response: ${responseViolation.summary}`,
          'InvalidResponse',
        );
      }
    }
    return (wire.read ? wire.read(response as Record<string, unknown>) : response) as OcppResponse<A>;
  }

  /** Whether a command goes to this (2.0.1) charger as the flow wrote it, untranslated (outgoing.ts). */
  sendsAsWritten(request: unknown): boolean {
    return typeof request === 'object' && request !== null && this.asWritten.has(request);
  }

  /**
   * Hands one call to ocpp-rpc, the previous one answered or given up (so it goes out at once), and
   * gives up on it after `timeoutMs` from then (callGivingUp); its end lets the next one go.
   */
  private callNow(action: string, request: unknown, timeoutMs: number): Promise<unknown> {
    const { client } = this.options;
    if (!this.station) return callGivingUp(client, action, request, timeoutMs, this.turns.ended);
    // A 2.0.1 station may take a command in several CALLs (a long GetVariables): one turn.
    const sent = this.station.send(action, request, (part) => callGivingUp(client, action, part, timeoutMs));
    return settled(sent, this.turns.ended);
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
    if (!this.closed) this.startHold.hold();
  }

  /** Commands wait for a StartTransaction answer to go out (startAnswered). */
  get holding(): boolean {
    return this.startHold.holding;
  }

  /** Resolves once no command waits for a StartTransaction answer. */
  startAnswered(): Promise<void> {
    return this.startHold.released();
  }

  /**
   * Whether a charger's CALL may be answered, by its version's rules (dialect.ts) and errata 3.8:
   * throws the CallError it is answered with (NotImplemented, NotSupported, a schema violation
   * unless lenient, SecurityError before acceptance). ChargerCalls.take asks before answering.
   */
  admit(method: string, params: unknown, messageId?: string): void {
    const { dialect } = this;
    if (!dialect.knows(method))
      throw ocppError('NotImplemented', `${method} is not an ${dialect.name} action`);
    if (!dialect.sentByChargers(method)) {
      throw ocppError('NotSupported', `${method} is sent by a central system, not by a charge point`);
    }
    const violation = dialect.validate(method, 'request', params);
    if (violation) {
      this.reportViolation(violation);
      if (!this.lenient) throw violationError(violation);
    }
    if (method !== 'BootNotification' && !this.options.isAccepted() && !this.triggers.allows(method)) {
      throw ocppError('SecurityError', `${method} before the central system accepted this charge point`);
    }
    if (method === 'StartTransaction' && messageId !== undefined) this.startHold.started(messageId);
  }

  /** An OCPP 2.0.1 connection's translation (v201/station.ts); undefined for 1.6. */
  get translation(): Station201 | undefined {
    return this.station;
  }

  /**
   * A valid 2.0.1 call's translation by the station (v201/station.ts), for ChargerCalls to run;
   * `decided` is an answer decided elsewhere (the operator's backend), in 2.0.1's shapes. The
   * message as it came is kept for the handlers meanwhile (inbound).
   */
  translate201(
    station: Station201,
    method: string,
    request: Record<string, unknown>,
    decided?: Record<string, unknown>,
  ): Translation201 {
    this.raw = { version: OCPP201, action: method, request };
    return station.translate(method, request, decided);
  }

  /**
   * The 2.0.1 message being handled (for the flows' `msg.ocpp`), read by the handlers when they
   * take what it became; undefined for 1.6.
   */
  get inbound(): RawMessage | undefined {
    return this.raw;
  }

  /** What the charger is answered when handling its call failed: a CallError of ours as it is. */
  handlingFailed(action: string, err: unknown): unknown {
    if ((err as { rpcErrorCode?: string }).rpcErrorCode) return err;
    // Our failure (the durable state, a bug): the charger retries later; details stay in the log.
    this.options.log.error(`handling ${action} from ${this.identity} failed: ${(err as Error).message}`);
    return ocppError('InternalError', `the central system could not process ${action}`);
  }

  /** The answer, checked against the schema: a bug of ours never sends the charger something invalid. */
  checkedAnswer(action: string, response: unknown): unknown {
    const own = this.dialect.validate(action, 'response', response);
    if (own) {
      this.options.log.error(`answer to ${action} from ${this.identity} is invalid: ${own.summary}`);
      throw ocppError('InternalError', `the central system could not answer ${action}`);
    }
    return response;
  }

  private reportViolation(violation: Violation): void {
    const verdict = this.lenient ? 'accepted (lenient)' : 'refused';
    this.options.log.warn(
      `charge point ${this.identity}: ${violation.action} ${violation.kind} breaks the ${this.dialect.name} schema, ${verdict}: ${violation.summary}`,
    );
    this.emit('violation', violation);
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
