import { once } from 'node:events';
import WebSocket from 'ws';
import type { ChargePointAction } from '../../lib/ocpp/actions';
import type { OcppRequest, OcppResponse } from '../../lib/ocpp/messages';
import { CallErrorReply, PeerCharger, type PeerChargerOptions } from './peer-charger';

/**
 * A charger that speaks OCPP-J 1.6 written from the specification directly on `ws`: no RPC
 * library, nothing of ocpp-rpc or of the package's simulator. It is as plain as a compliant
 * charger can be (OCPP-J 1.6 sections 3 and 4):
 *
 * - it dials `<url>/<identity>` offering the sub-protocol `ocpp1.6` and insists on getting it (3.1);
 * - frames are `[2, id, action, payload]`, `[3, id, payload]`, `[4, id, errorCode, errorDescription,
 *   errorDetails]` (4.2); its ids are unique on the connection and at most 36 characters (4.1.4);
 * - it sends one CALL at a time and waits for the answer before the next (4.1.1);
 * - it answers an action it does not know with NotImplemented and a malformed CALL with
 *   FormationViolation (4.2.3); a message type it does not know it ignores (4.1.3);
 * - it answers a CALL after it has handled it, on a later turn, as a device does.
 *
 * What the central system does against the specification goes into `violations` (the test asserts
 * there are none): a frame that is not a valid message, a CALL id used twice or longer than 36
 * characters, a CALL while one of its CALLs is still unanswered (4.1.1 SHOULD NOT), an answer to no
 * CALL, and an answer missing a field 6.x requires of the answers this charger reads.
 */

const ERROR_CODES = new Set([
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
]);

/** The answer a call gets: the CALLRESULT's payload, or the CALLERROR. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`${code}: ${description}`);
  }
}

interface Pending {
  action: string;
  resolve(payload: object): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const ID_TAG_STATUSES = ['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'];

export class PlainCharger extends PeerCharger {
  readonly violations: string[] = [];
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** The one CALL in flight is awaited before the next goes out (4.1.1). */
  private queue: Promise<unknown> = Promise.resolve();
  /** CALL ids the central system used on this connection. */
  private readonly seenCallIds = new Set<string>();
  /** CALLs of the central system received and not yet answered. */
  private unanswered = 0;
  /** Actions whose answers wait until released (a charger busy with something else). */
  private readonly holding = new Map<string, { replies: (() => void)[]; arrived: () => void }>();

  constructor(identity: string, options: PeerChargerOptions & { callTimeoutMs?: number } = {}) {
    super(identity, options);
  }

  async connect(url: string): Promise<void> {
    const base = url.endsWith('/') ? url : `${url}/`;
    const socket = new WebSocket(`${base}${encodeURIComponent(this.identity)}`, ['ocpp1.6']);
    this.socket = socket;
    socket.on('message', (data, isBinary) => this.receive(isBinary ? undefined : String(data)));
    socket.on('close', () => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(
          new Error(`${this.identity}: connection closed before ${pending.action} was answered`),
        );
        this.pending.delete(id);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined); // ends in 'close', which fails what waits
    if (socket.protocol !== 'ocpp1.6') {
      socket.close();
      throw new Error(
        `${this.identity}: the central system chose sub-protocol "${socket.protocol}", not ocpp1.6`,
      );
    }
    await this.boot('PeerTest', 'plain-ws');
  }

  protected send<A extends ChargePointAction>(action: A, request: OcppRequest<A>): Promise<OcppResponse<A>> {
    const sent = this.queue.then(() => this.callNow(action, request));
    this.queue = sent.catch(() => undefined);
    return sent as Promise<OcppResponse<A>>;
  }

  /**
   * From now on, answers to `action` wait: the charger handles the CALL (its state changes) and
   * answers only when `release()` is called. `arrived` resolves when the first such CALL came.
   */
  hold(action: string): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const entry = { replies: [] as (() => void)[], arrived };
    this.holding.set(action, entry);
    return {
      arrived: first,
      release: () => {
        this.holding.delete(action);
        for (const reply of entry.replies.splice(0)) reply();
      },
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = once(socket, 'close');
    socket.close(1000);
    await closed;
  }

  private callNow(action: string, request: object): Promise<object> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${this.identity} is not connected (${action})`));
    }
    const id = `${this.identity}-${this.nextId++}`.slice(-36);
    return new Promise<object>((resolve, reject) => {
      const timeoutMs = (this.options as { callTimeoutMs?: number }).callTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.identity}: ${action} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { action, resolve, reject, timer });
      socket.send(JSON.stringify([2, id, action, request]));
    }).then((payload) => {
      this.checkAnswer(action, payload);
      return payload;
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
      this.violations.push(`not an OCPP-J message: ${String(raw).slice(0, 80)}`);
      return;
    }
    const [type, id] = frame as [unknown, string];
    if (type === 2) this.receiveCall(frame, id);
    else if (type === 3 || type === 4) this.receiveAnswer(frame, id);
    // 4.1.3: a message type not in the list is ignored.
  }

  private receiveCall(frame: unknown[], id: string): void {
    const [, , action, payload] = frame;
    if (id.length > 36) this.violations.push(`CALL id longer than 36 characters: ${id}`);
    if (this.seenCallIds.has(id)) this.violations.push(`CALL id ${id} used twice`);
    this.seenCallIds.add(id);
    if (this.unanswered > 0)
      this.violations.push(`${String(action)} sent while a CALL was unanswered (4.1.1)`);
    this.unanswered += 1;
    let reply: unknown[];
    if (frame.length !== 4 || typeof action !== 'string' || typeof payload !== 'object' || payload === null) {
      this.violations.push(`malformed CALL ${JSON.stringify(frame).slice(0, 120)}`);
      reply = [4, id, 'FormationViolation', 'a CALL is [2, id, action, {payload}]', {}];
    } else {
      try {
        reply = [3, id, this.answer(action, payload)];
      } catch (err) {
        const code = err instanceof CallErrorReply ? err.code : 'InternalError';
        reply = [4, id, code, (err as Error).message, {}];
      }
    }
    const send = () => {
      this.unanswered -= 1;
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(reply));
    };
    const held = typeof action === 'string' ? this.holding.get(action) : undefined;
    if (held) {
      held.replies.push(send);
      held.arrived();
      return;
    }
    // Handled now, answered on a later turn: a CALL that crosses shows as unanswered.
    setImmediate(send);
  }

  private receiveAnswer(frame: unknown[], id: string): void {
    const pending = this.pending.get(id);
    if (!pending) {
      this.violations.push(`an answer to no CALL of ours: ${JSON.stringify(frame).slice(0, 120)}`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (frame[0] === 3) {
      const payload = frame[2];
      if (frame.length !== 3 || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        this.violations.push(`malformed CALLRESULT to ${pending.action}: ${JSON.stringify(frame)}`);
        pending.reject(new Error(`${pending.action}: malformed CALLRESULT`));
        return;
      }
      this.answerRead(pending.action, payload);
      pending.resolve(payload);
      return;
    }
    const [, , code, description, details] = frame;
    if (
      frame.length !== 5 ||
      typeof code !== 'string' ||
      !ERROR_CODES.has(code) ||
      typeof description !== 'string' ||
      typeof details !== 'object' ||
      details === null
    )
      this.violations.push(`malformed CALLERROR to ${pending.action}: ${JSON.stringify(frame)}`);
    pending.reject(new CallError(String(code), String(description)));
  }

  /** The fields section 6 requires of the answers this charger reads. */
  private checkAnswer(action: string, payload: object): void {
    const p = payload as Record<string, unknown>;
    const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
    const idTagInfo = (v: unknown) =>
      typeof v === 'object' &&
      v !== null &&
      ID_TAG_STATUSES.includes(String((v as { status?: unknown }).status));
    const problem = (() => {
      switch (action) {
        case 'BootNotification':
          if (!['Accepted', 'Pending', 'Rejected'].includes(String(p.status))) return 'status';
          if (!isTime(p.currentTime)) return 'currentTime';
          if (!Number.isInteger(p.interval)) return 'interval';
          return undefined;
        case 'Authorize':
          return idTagInfo(p.idTagInfo) ? undefined : 'idTagInfo';
        case 'StartTransaction':
          if (!idTagInfo(p.idTagInfo)) return 'idTagInfo';
          return Number.isInteger(p.transactionId) ? undefined : 'transactionId';
        case 'StopTransaction':
          return p.idTagInfo === undefined || idTagInfo(p.idTagInfo) ? undefined : 'idTagInfo';
        case 'Heartbeat':
          return isTime(p.currentTime) ? undefined : 'currentTime';
        default:
          return undefined;
      }
    })();
    if (problem)
      this.violations.push(`${action}.conf: ${problem} missing or invalid in ${JSON.stringify(payload)}`);
  }
}
