import { type RPCClient, TimeoutError } from 'ocpp-rpc';
import { systemClock } from '../clock';

/**
 * Sends a CALL with ocpp-rpc and gives up after `timeoutMs`, as ocpp-rpc's own call timeout does, on
 * the real clock as that does, with its TimeoutError. Not ocpp-rpc's timeout: per call it builds a
 * TimeoutError, an AbortController and a promise timer, and aborts that timer on every answer (a
 * DOMException and an AbortError, stacks captured): a quarter of the central system's CPU on the
 * control path (bench:latency). Here a plain timer, and an abort only when it runs out. (The links
 * to an operator's backend, lib/upstream/link.ts, hang up on a hung backend instead.)
 */
export function callGivingUp(
  client: Pick<RPCClient, 'call'>,
  action: string,
  request: unknown,
  timeoutMs: number,
  /** Called once the call is answered or given up, before whoever awaits it goes on. */
  settled: () => void = noop,
): Promise<unknown> {
  if (!(timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY)) {
    return called(client, action, request, { callTimeoutMs: 0 }).then(
      (response: unknown) => {
        settled();
        return response;
      },
      (err: unknown) => {
        settled();
        throw err;
      },
    );
  }
  const giveUp = new GiveUp();
  const timer = systemClock.setTimeout(() => giveUp.abort(), timeoutMs);
  // One reaction on ocpp-rpc's promise, not an async function around it: a promise and its turns
  // less per command.
  return called(client, action, request, { callTimeoutMs: 0, signal: giveUp as unknown as AbortSignal }).then(
    (response: unknown) => {
      systemClock.clearTimeout(timer);
      settled();
      return response;
    },
    (err: unknown) => {
      systemClock.clearTimeout(timer);
      settled();
      throw giveUp.aborted ? new TimeoutError('Call timeout') : err;
    },
  );
}

function noop(): void {}

/** `promise`, with `done` called once it is settled, before whoever awaits it goes on. */
export function settled<T>(promise: Promise<T>, done: () => void): Promise<T> {
  return promise.then(
    (value) => {
      done();
      return value;
    },
    (err: unknown) => {
      done();
      throw err;
    },
  );
}

/**
 * The call's promise, also where `call` throws at once (ocpp-rpc's is async and never does; a
 * client that did would otherwise skip `settled`, and the connection's queue behind it would wait
 * for ever).
 */
function called(
  client: Pick<RPCClient, 'call'>,
  action: string,
  request: unknown,
  options: Parameters<RPCClient['call']>[2],
): Promise<unknown> {
  try {
    return client.call(action, request, options);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * What ocpp-rpc listens on to give a call up, as it reads its `signal`: `events.once(signal,
 * 'abort')`, which takes any object with addEventListener, and `signal.reason`. Not an
 * AbortController's signal: that one is an EventTarget, and building it and adding the listener
 * cost about 25 µs per command in bench:latency's profiles (a tenth of the command's own CPU in
 * the central system), for an abort that almost never comes. One per call, as the signal was:
 * ocpp-rpc never takes its listener off, so a signal shared by calls would collect them.
 */
export class GiveUp {
  aborted = false;
  readonly reason = 'Call timeout';
  private listener: (() => void) | undefined;

  addEventListener(type: string, listener: () => void): void {
    if (type === 'abort') this.listener = listener;
  }

  removeEventListener(type: string, listener: () => void): void {
    if (type === 'abort' && this.listener === listener) this.listener = undefined;
  }

  /** Gives the call up: ocpp-rpc rejects it and frees its queue for the next one. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}
