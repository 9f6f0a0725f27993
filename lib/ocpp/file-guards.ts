import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';

/**
 * What keeps the file exchange (files.ts) usable under misuse: whose address a link answers, how
 * long a transfer may take nothing, and how refused requests are logged without a line each.
 */

/** How long a transfer may move no byte (an upload's body, a download taken by the charger) before it is cut. */
export const TRANSFER_IDLE_MS = 60 * 1000;
/** How often refused requests from one address are summed up in the log after its first line. */
export const REFUSAL_SUMMARY_MS = 60 * 1000;
/**
 * Addresses whose refusals are counted apart, each with a line of its own; refusals from further
 * addresses are summed together without one, so the log gets at most about twice this many lines a
 * minute however many addresses a flood comes from.
 */
export const MAX_SUMMARIZED_ADDRESSES = 100;

/**
 * One address written one way: an IPv4 client of a dual-stack socket reads `::ffff:192.0.2.7`,
 * the same client `192.0.2.7` elsewhere.
 */
export function plainAddress(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * Whether a file request from `from` may use a link of a charger whose OCPP connection comes from
 * `charger`. Both are the TCP peer's address as this server's socket sees it, the same one the
 * handshake and its brake go by: a header such as X-Forwarded-For is anyone's to write, so it
 * is not trusted here either. Behind a reverse proxy both are the proxy's; behind NAT every host
 * of the charger's site shares its address.
 */
export function sameAddress(from: string | undefined, charger: string | undefined): boolean {
  return from !== undefined && charger !== undefined && plainAddress(from) === plainAddress(charger);
}

export type RefusalReason = 'unknown token' | 'used or expired token' | "another charger's address";

/**
 * The log of refused file requests: the first from an address in full, then one line per
 * REFUSAL_SUMMARY_MS with how many more came, by reason; an address quiet for a whole interval
 * starts afresh. A flood of guessed tokens (thousands a second) writes a line a minute, not
 * thousands; memory and lines are bounded (MAX_SUMMARIZED_ADDRESSES), so many addresses grow neither.
 */
export class RefusalLog {
  /** Per address, the refusals since its last line (empty: its line of this interval is written). */
  private readonly counts = new Map<string, Partial<Record<RefusalReason, number>>>();
  /** Refusals from addresses beyond the room, in this interval. */
  private others = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** A request from `address` was refused for `reason`; `line` is its full log line. */
  refused(address: string, reason: RefusalReason, line: () => string): void {
    const counts = this.counts.get(address);
    if (counts) {
      counts[reason] = (counts[reason] ?? 0) + 1;
      return;
    }
    if (this.counts.size >= MAX_SUMMARIZED_ADDRESSES) this.others++;
    else {
      this.counts.set(address, {});
      this.log.warn(line());
    }
    this.timer ??= this.clock.setTimeout(() => this.summarize(), REFUSAL_SUMMARY_MS);
  }

  /** Addresses whose refusals are being counted (for tests: the bound holds). */
  get tracked(): number {
    return this.counts.size;
  }

  /** Stops the summary timer; what was counted and not yet said is said now. */
  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.say();
    this.counts.clear();
  }

  private summarize(): void {
    this.timer = undefined;
    this.say();
    if (this.counts.size > 0 || this.others > 0)
      this.timer = this.clock.setTimeout(() => this.summarize(), REFUSAL_SUMMARY_MS);
  }

  private say(): void {
    const minutes = REFUSAL_SUMMARY_MS / 60_000;
    const within = `in the last ${minutes === 1 ? 'minute' : `${minutes} minutes`}`;
    for (const [address, counts] of this.counts) {
      const count = total(counts);
      if (count === 0) {
        this.counts.delete(address);
        continue;
      }
      const reasons = Object.entries(counts).map(([reason, n]) => `${n} ${reason}`);
      this.log.warn(`${count} more file requests from ${address} refused ${within} (${reasons.join(', ')})`);
      this.counts.set(address, {});
    }
    if (this.others > 0) {
      this.log.warn(
        `${this.others} more file requests refused ${within} from further addresses (${MAX_SUMMARIZED_ADDRESSES} addresses are counted apart)`,
      );
    }
    this.others = 0;
  }
}

function total(counts: Partial<Record<RefusalReason, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
}

/**
 * Cuts a transfer that moves nothing for TRANSFER_IDLE_MS: `moved()` on each sign of progress,
 * `stop()` when it ends. On the injected clock, one timer per transfer, set again only when it
 * falls due (not per chunk). `sample`, when given, is asked at each check whether progress was
 * made since the last (a download's bytes still queued for the charger).
 */
export class IdleWatch {
  private lastMs: number;
  private timer: TimerHandle | undefined;
  private previous: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly stalled: () => void,
    private readonly sample?: () => number,
    private readonly idleMs = TRANSFER_IDLE_MS,
  ) {
    this.lastMs = clock.now();
    this.previous = sample?.();
    this.arm(idleMs);
  }

  moved(): void {
    this.lastMs = this.clock.now();
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimeout(() => this.check(), delayMs);
  }

  private check(): void {
    if (this.sample) {
      const now = this.sample();
      if (now !== this.previous) this.moved();
      this.previous = now;
    }
    const quietMs = this.clock.now() - this.lastMs;
    if (quietMs >= this.idleMs) {
      this.timer = undefined;
      this.stalled();
    } else this.arm(this.sample ? Math.min(this.idleMs - quietMs, this.idleMs / 4) : this.idleMs - quietMs);
  }
}

/** What of a refused request's body is still read, so that its answer is not lost to a reset. */
const LINGER_BYTES = 64 * 1024;
const LINGER_MS = 1000;

/**
 * Once `response` is sent, closes the connection of a request whose body was not read (a refused
 * one). Closing a socket with unread bytes makes the kernel reset it, and a client still sending
 * its body then often loses the answer: what is on its way is read and dropped first, for at most
 * LINGER_BYTES and LINGER_MS, so a refused request with a body still reads its 403 or 410.
 */
export function closeIfUnread(request: IncomingMessage, response: ServerResponse, clock: Clock): void {
  if (request.complete) return;
  // Said in the answer, so that a client does not send its next request on a connection closing.
  response.setHeader('Connection', 'close');
  // 'prefinish': the answer is complete, before Node's server would drop the body unread.
  response.once('prefinish', () => {
    if (request.complete) return;
    const socket = request.socket;
    // Node's server closes a `Connection: close` answer's socket as soon as the answer is out
    // (destroySoon), reset by the body still coming: here it only half-closes, the linger closes.
    socket.destroySoon = () => {
      if (socket.writable) socket.end();
    };
    const close = () => {
      clock.clearTimeout(timer);
      socket.destroy();
    };
    const timer = clock.setTimeout(close, LINGER_MS);
    let read = 0;
    request.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > LINGER_BYTES) close();
    });
    // All of it read: closed once the answer has left (a reset could no longer lose it), however
    // long a big answer takes (a firmware download has a watch of its own).
    request.once('end', () => {
      clock.clearTimeout(timer);
      if (socket.writableFinished) close();
      else socket.once('finish', close);
    });
    request.once('error', close);
    socket.once('close', () => clock.clearTimeout(timer));
  });
}
