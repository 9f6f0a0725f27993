import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { OCPP20 } from 'typed-ocpp';
import WebSocket from 'ws';

/**
 * The OCPP-J 2.0.1 side of the test charging station (charger201.ts extends it): the connection on
 * plain `ws`, frames judged by typed-ocpp's copy of the OCA JSON schemas (its OCPP20 namespace), and
 * the record of what the CSMS does against the specification. What a station does is left to the
 * subclass, which answers through `answerFor`.
 *
 * - OCPP-J 2.0.1: it dials `<url>/<identity>` offering `ocpp2.0.1` (Basic auth when given a
 *   password); frames are `[2, id, action, payload]`, `[3, id, payload]`, `[4, id, errorCode,
 *   errorDescription, errorDetails]`; its message ids are unique and at most 36 characters; it sends
 *   one CALL at a time and answers a CALL after handling it, on a later turn, as a device does.
 * - Each CALL it sends is valid before it goes; each CALLRESULT must be valid for its CALL.
 * - A CALL of the CSMS that is invalid gets the 2.0.1 CALLERROR for it: RpcFrameworkError (not a
 *   CALL frame), FormatViolation, OccurrenceConstraintViolation, TypeConstraintViolation,
 *   PropertyConstraintViolation, NotImplemented (an action 2.0.1 does not have), NotSupported (one
 *   a CSMS does not send); a message type it does not know gets MessageTypeNotSupported.
 * - Whatever the CSMS does against the specification goes into `violations` (tests assert none):
 *   invalid frames and payloads, a CALL id used twice or over 36 characters, a CALL while one of
 *   its CALLs is unanswered, an answer to no CALL. A property the schemas do not allow counts,
 *   although typed-ocpp's ajv (removeAdditional) strips it silently and calls the rest valid.
 */

export type Action = `${OCPP20.Action}`;
type CallOf<A extends Action> = Extract<OCPP20.Call, [unknown, unknown, A, unknown]>;
export type RequestOf<A extends Action> = CallOf<A>[3];
export type ResponseOf<A extends Action> = OCPP20.CheckedCallResult<CallOf<A>>[2];

/** OCPP-J 2.0.1's error codes: typed-ocpp's ErrorCode has 1.6's FormationViolation, not FormatViolation. */
export type ErrorCode = Exclude<`${OCPP20.ErrorCode}`, 'FormationViolation'> | 'FormatViolation';
const ERROR_CODES = new Set<string>(['FormatViolation', ...Object.values(OCPP20.ErrorCode)]);
ERROR_CODES.delete('FormationViolation');

/** A CALLERROR: the CSMS's answer to a CALL of ours, or thrown by an `answerWith` answer to send one. */
export class CallError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    readonly details: object = {},
  ) {
    super(`${code}: ${description}`);
  }
}

/** What the connection needs of the station's options. */
export interface WireOptions {
  /** ws://host:port/path; the identity is appended. */
  url: string;
  identity: string;
  password?: string;
  protocols?: string[];
  callTimeoutMs?: number;
}

/** A CALL of the CSMS and what it got. */
export interface ReceivedCall {
  action: string;
  payload: unknown;
  /** The CALL frame's length in bytes, as it came. */
  bytes?: number;
  response?: object;
  error?: CallError;
}

interface Pending {
  call: OCPP20.Call;
  resolve(payload: object): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** typed-ocpp's verdict; the properties its ajv strips (removeAdditional) count as failures too. */
function problemsOf(value: unknown, validate: (copy: never) => boolean, errors: () => string[]): string[] {
  const wire = JSON.stringify(value); // what goes on or came off the wire
  const copy = JSON.parse(wire);
  return validate(copy as never) ? stray(JSON.parse(wire), copy, '') : [...errors()];
}

function stray(original: unknown, kept: unknown, path: string): string[] {
  if (typeof original !== 'object' || original === null || typeof kept !== 'object' || kept === null)
    return [];
  return Object.entries(original).flatMap(([key, inner]) =>
    key in kept
      ? stray(inner, (kept as Record<string, unknown>)[key], `${path}/${key}`)
      : [`${path}/${key} must NOT have additional properties`],
  );
}

/** The 2.0.1 error code for a schema problem as typed-ocpp words it. */
function errorCodeFor(problem: string): ErrorCode {
  if (/required property|must NOT have (more|fewer) than \d+ items/.test(problem))
    return 'OccurrenceConstraintViolation';
  if (/must be (string|integer|number|boolean|object|array|null)$/.test(problem))
    return 'TypeConstraintViolation';
  return /must match format/.test(problem) ? 'FormatViolation' : 'PropertyConstraintViolation';
}

export abstract class Charger201Wire extends EventEmitter<{ call: [ReceivedCall]; close: [] }> {
  readonly violations: string[] = [];
  readonly received: ReceivedCall[] = [];
  readonly identity: string;
  private socket: WebSocket | undefined;
  private readonly pending = new Map<string, Pending>();
  /** The one CALL in flight is awaited before the next goes out. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly seenCallIds = new Set<string>();
  private unanswered = 0;
  /** What handling a CSMS CALL leaves to do once it is answered. */
  private afterAnswer: (() => unknown)[] = [];

  constructor(readonly options: WireOptions) {
    super();
    this.identity = options.identity;
  }

  /**
   * The station's answer to a valid CALL of `action` (an OCPP 2.0.1 action), or undefined when a
   * CSMS does not send it (NotSupported). The answer may throw a CallError to send one.
   */
  protected abstract answerFor(action: string): ((request: unknown) => object) | undefined;

  /** The sub-protocol the CSMS agreed to. */
  get protocol(): string | undefined {
    return this.socket?.protocol || undefined;
  }

  /** Opens the connection; rejects with `status` set when the CSMS refuses the upgrade. */
  async connect(): Promise<void> {
    const { url, identity, password } = this.options;
    const protocols = this.options.protocols ?? ['ocpp2.0.1'];
    const basic =
      password === undefined ? undefined : Buffer.from(`${identity}:${password}`).toString('base64');
    const headers = basic ? { authorization: `Basic ${basic}` } : undefined;
    const socket = new WebSocket(`${url.replace(/\/$/, '')}/${encodeURIComponent(identity)}`, protocols, {
      headers,
    });
    this.socket = socket;
    this.seenCallIds.clear();
    this.unanswered = 0;
    socket.on('message', (data, isBinary) => this.receive(isBinary ? undefined : String(data)));
    socket.on('close', () => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`${identity}: connection closed before ${pending.call[2]} was answered`));
        this.pending.delete(id);
      }
      this.emit('close');
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', (err) => {
        const status = Number(/Unexpected server response: (\d+)/.exec(err.message)?.[1]);
        if (!status) return reject(err);
        reject(Object.assign(new Error(`${identity}: upgrade refused with HTTP ${status}`), { status }));
      });
    });
    socket.on('error', () => undefined); // ends in 'close', which fails what waits
    if (!protocols.includes(socket.protocol)) {
      socket.close(1002);
      throw new Error(`${identity}: the CSMS chose sub-protocol "${socket.protocol}", not one offered`);
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = once(socket, 'close');
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000);
    await closed;
  }

  /** Sends a CALL once the one before it is answered (valid, or it rejects without sending). */
  protected call<A extends Action>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>> {
    const sent = this.queue.then(() => this.callNow(action, payload));
    this.queue = sent.catch(() => undefined);
    return sent as Promise<ResponseOf<A>>;
  }

  /** Runs `next` once the CALL being handled is answered. */
  protected later(next: () => unknown): void {
    this.afterAnswer.push(next);
  }

  /**
   * Sends a CALL whose payload is given as JSON text, unchecked: what no valid station can send
   * through `call` (a number JSON.stringify cannot spell, such as `1e999`, which JSON.parse reads as
   * Infinity). Resolves with the CSMS's answer, rejects on its CALLERROR.
   */
  callText(action: string, payloadText: string): Promise<object> {
    const id = randomUUID();
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`not connected (${action})`));
    const call = [2, id, action, {}] as OCPP20.Call;
    return new Promise<object>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.identity}: ${action} not answered`));
      }, this.options.callTimeoutMs ?? 10_000);
      this.pending.set(id, { call, resolve, reject, timer });
      socket.send(`[2,${JSON.stringify(id)},${JSON.stringify(action)},${payloadText}]`);
    });
  }

  private callNow(action: string, payload: unknown): Promise<object> {
    const call = [2, randomUUID(), action, payload] as OCPP20.Call;
    const problems = problemsOf(call, OCPP20.validateCall, () => OCPP20.validateCall.errors).join('; ');
    if (problems) {
      this.violations.push(`the charger's own ${action} is invalid (a test's bug): ${problems}`);
      return Promise.reject(new Error(`${this.identity}: its own ${action} is invalid: ${problems}`));
    }
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`not connected (${action})`));
    return new Promise<object>((resolve, reject) => {
      const timeoutMs = this.options.callTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(call[1]);
        reject(new Error(`${this.identity}: ${action} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(call[1], { call, resolve, reject, timer });
      socket.send(JSON.stringify(call));
    });
  }

  private receive(raw: string | undefined): void {
    let frame: unknown;
    try {
      frame = raw === undefined ? undefined : JSON.parse(raw);
    } catch {
      frame = undefined;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') {
      this.violations.push(`not an OCPP-J message: ${String(raw).slice(0, 120)}`);
      return;
    }
    const id: string = frame[1];
    if (frame[0] === 2) this.receiveCall(frame, id, Buffer.byteLength(raw ?? ''));
    else if (frame[0] === 3 || frame[0] === 4) this.receiveAnswer(frame, id);
    else {
      this.violations.push(`message type ${JSON.stringify(frame[0])} is not OCPP-J 2.0.1`);
      this.reply([4, id, 'MessageTypeNotSupported', `message type ${JSON.stringify(frame[0])}`, {}]);
    }
  }

  private receiveCall(frame: unknown[], id: string, bytes: number): void {
    if (id.length > 36) this.violations.push(`CALL id longer than 36 characters: ${id}`);
    if (this.seenCallIds.has(id)) this.violations.push(`CALL id ${id} used twice`);
    this.seenCallIds.add(id);
    if (this.unanswered > 0)
      this.violations.push(`${String(frame[2])} sent while a CALL of it was unanswered`);
    this.unanswered += 1;
    const received: ReceivedCall = { action: String(frame[2]), payload: frame[3], bytes };
    this.received.push(received);
    let reply: unknown[];
    try {
      received.response = this.handle(frame);
      reply = [3, id, received.response];
    } catch (err) {
      const error = err instanceof CallError ? err : new CallError('InternalError', String(err));
      received.error = error;
      reply = [4, id, error.code, error.description.slice(0, 255), error.details];
    }
    const afterAnswer = this.afterAnswer.splice(0);
    // Handled now, answered on a later turn: a CALL that crosses shows as unanswered.
    setImmediate(() => {
      this.unanswered -= 1;
      this.reply(reply);
      // What follows an answer (a transaction a remote start began, a report) goes after it; what
      // fails there is the CSMS's answer (in violations) or a connection the test closed.
      for (const next of afterAnswer)
        Promise.resolve()
          .then(next)
          .catch(() => undefined);
      this.emit('call', received);
    });
  }

  private reply(frame: unknown[]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** The answer to a CALL of the CSMS; throws the CallError it gets instead. */
  private handle(frame: unknown[]): object {
    const [, id, action, payload] = frame;
    const refuse = (code: ErrorCode, description: string): never => {
      this.violations.push(`${String(action)} CALL ${String(id)}: ${code}: ${description}`);
      throw new CallError(code, description);
    };
    if (frame.length !== 4 || typeof action !== 'string')
      return refuse('RpcFrameworkError', 'not [2, id, action, {}]');
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return refuse('FormatViolation', 'the payload is not a JSON object');
    if (!(Object.values(OCPP20.Action) as string[]).includes(action))
      return refuse('NotImplemented', `${action} is not an OCPP 2.0.1 action`);
    const answer = this.answerFor(action);
    if (!answer) return refuse('NotSupported', `a CSMS does not send ${action}`);
    const problems = problemsOf(frame, OCPP20.validateCall, () => OCPP20.validateCall.errors);
    if (problems[0] !== undefined) return refuse(errorCodeFor(problems[0]), problems.join('; '));
    const response = answer(payload);
    const result = [3, id, response] as OCPP20.CheckedCallResult<OCPP20.Call>;
    const check = (copy: typeof result) => OCPP20.checkCallResult(copy, frame as OCPP20.Call);
    const own = problemsOf(result, check, () => OCPP20.checkCallResult.errors);
    if (own.length === 0) return response;
    this.violations.push(
      `the charger's own answer to ${action} is invalid (a test's bug): ${own.join('; ')}`,
    );
    throw new CallError('InternalError', 'invalid answer');
  }

  private receiveAnswer(frame: unknown[], id: string): void {
    const pending = this.pending.get(id);
    if (!pending) {
      this.violations.push(`an answer to no CALL of ours: ${JSON.stringify(frame).slice(0, 120)}`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    const action = pending.call[2];
    if (frame[0] === 3) {
      const valid = (copy: never) =>
        OCPP20.validateCallResult(copy) && OCPP20.checkCallResult(copy, pending.call);
      const errors = () => [...OCPP20.validateCallResult.errors, ...OCPP20.checkCallResult.errors];
      const problems = problemsOf(frame, valid, errors).join('; ');
      if (problems) {
        this.violations.push(`CALLRESULT to ${action}: ${problems}`);
        pending.reject(new Error(`${this.identity}: invalid CALLRESULT to ${action}: ${problems}`));
      } else pending.resolve(frame[2] as object);
      return;
    }
    const [, , code, description, details] = frame;
    const detailsValid = typeof details === 'object' && details !== null && !Array.isArray(details);
    if (
      frame.length !== 5 ||
      !ERROR_CODES.has(String(code)) ||
      typeof description !== 'string' ||
      !detailsValid
    )
      this.violations.push(`malformed CALLERROR to ${action}: ${JSON.stringify(frame).slice(0, 200)}`);
    pending.reject(new CallError(code as ErrorCode, String(description), detailsValid ? details : {}));
  }
}
