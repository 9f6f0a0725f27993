import type { Clock, TimerHandle } from '../clock';

/**
 * The brake on password guessing: how often a failing handshake may be checked, per address and
 * per charge point identity, and what waits meanwhile. The one owner of the rate (FailureThrottle's
 * schedule), of the gates that enforce it and of the bound on attempts held back per address.
 *
 * A failure closes a gate for its delay: the gate of its identity at its address (the address's
 * schedule), and the gate of its identity from everywhere but the identity's own address (the
 * identity's schedule). No attempt is checked while a gate in its way is closed: it waits, unchecked,
 * or is refused with 429, unchecked. A gate closes whether or not the refusal's answer could be held
 * back, so no number of sockets or addresses gets a password checked faster than the schedule.
 */

export interface FailureThrottleOptions {
  /** Failures answered at once before slowing down. */
  freeFailures?: number;
  /** Delay after the first slowed failure; doubles with each further failure. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A key with no failure for this long starts afresh. */
  forgetAfterMs?: number;
  /** Bound on memory: the least recently failed keys are forgotten beyond this many. */
  maxAddresses?: number;
}

/**
 * Counts repeated failed handshakes of one key (an address, or an identity) and says how long the
 * next check must wait: 3 failures are free, then 1 s, doubling up to 30 s per failure. A success
 * does not reset the count: behind NAT or a proxy, a good charger sharing the address would
 * otherwise reset an attacker's count.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; lastMs: number }>();
  private readonly options: Required<FailureThrottleOptions>;

  constructor(
    private readonly clock: Clock,
    options: FailureThrottleOptions = {},
  ) {
    this.options = {
      freeFailures: 3,
      firstDelayMs: 1000,
      maxDelayMs: 30000,
      forgetAfterMs: 15 * 60 * 1000,
      maxAddresses: 10000,
      ...options,
    };
  }

  /** Records a failure and returns how long to wait before answering it (and checking the next). */
  recordFailure(address: string): number {
    const nowMs = this.clock.now();
    const previous = this.failures.get(address);
    const fresh = !previous || nowMs - previous.lastMs > this.options.forgetAfterMs;
    const count = fresh ? 1 : previous.count + 1;
    this.failures.delete(address); // re-insert to keep the map in least-recently-failed order
    this.failures.set(address, { count, lastMs: nowMs });
    if (this.failures.size > this.options.maxAddresses) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
    const slowed = count - this.options.freeFailures;
    if (slowed <= 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** (slowed - 1));
  }

  /** Failures counted for this key right now. */
  failuresOf(address: string): number {
    return this.failures.get(address)?.count ?? 0;
  }
}

/**
 * Attempts that wait, unchecked, at one closed gate; more are refused at once with 429, still
 * unchecked.
 */
export const MAX_WAITING_ATTEMPTS = 8;
/** Attempts of one address held back in all (refusals answered late and attempts waiting): a socket bound. */
export const MAX_HELD_ATTEMPTS_PER_ADDRESS = 64;
/** Identities whose last accepted address is remembered (the oldest forgotten first). */
const MAX_TRUSTED_ADDRESSES = 10_000;

/** Which gate made an attempt wait, or made a refusal's answer late. */
export type BrakeKind = 'per address' | 'per identity';

/** An attempt as the brake sees it: checked when its turn comes, or refused unchecked. */
export interface BrakeAttempt {
  identity: string;
  remoteAddress: string;
  /** The client gave up (its socket is gone): nothing to check, nothing to count. */
  gone(): boolean;
  /** Checks it now; `waited` tells how long and at which gate it waited, if it did. */
  check(waited?: Waited): void;
  /** Refuses it unchecked. */
  refuse(status: 429 | 503, reason: string): void;
}

export interface Waited {
  ms: number;
  brake: BrakeKind;
}

/** How a checked failure is answered. */
export interface FailureAnswer {
  /** How long its answer is held back (0: answered at once). */
  delayMs: number;
  /** The gate whose schedule set the delay (both when equal). */
  brakes: BrakeKind[];
  /** False when the address had no room to hold it: answered at once, the gates closed all the same. */
  held: boolean;
}

interface Waiter {
  attempt: BrakeAttempt;
  sinceMs: number;
  brake: BrakeKind;
}

interface Gate {
  brake: BrakeKind;
  /** Set while the gate is closed. */
  timer?: TimerHandle;
  openAtMs: number;
  waiting: Waiter[];
}

export interface BrakeContext {
  clock: Clock;
  /**
   * A charger this central system knows (configured, listed, recorded): its failures are counted
   * where guesses for made-up identities cannot push them out.
   */
  guarded(identity: string): boolean;
  /** Where the charger was last accepted from by an earlier run (its durable record). */
  recordedAddress(identity: string): string | undefined;
  isListening(): boolean;
  /** An attempt started waiting (not again when it moves on to the next closed gate). */
  held(attempt: { identity: string; remoteAddress: string; waiting: number; brake: BrakeKind }): void;
}

export class Brake {
  private readonly perAddress: FailureThrottle;
  /**
   * Failures per known identity, from every address but the one it was last accepted from. Apart
   * from made-up identities, so that failing for 10,000 of those does not make the central system
   * forget a real charger's count (and check its password at once again); bounded by the chargers
   * known here.
   */
  private readonly perIdentity: FailureThrottle;
  /** Failures per made-up identity (the oldest forgotten beyond 10,000). */
  private readonly perStrangerIdentity: FailureThrottle;
  /** Where each identity was last accepted from: not slowed by others' failures for it. */
  private readonly trusted = new Map<string, string>();
  private readonly gates = new Map<string, Gate>();
  /** Attempts held back per address: refusals answered late and attempts waiting. */
  private readonly heldPerAddress = new Map<string, number>();
  /** Refusals being answered late, and how to answer each at once. */
  private readonly parked = new Map<() => void, TimerHandle>();

  constructor(private readonly context: BrakeContext) {
    this.perAddress = new FailureThrottle(context.clock);
    this.perIdentity = new FailureThrottle(context.clock, { maxAddresses: Number.POSITIVE_INFINITY });
    this.perStrangerIdentity = new FailureThrottle(context.clock);
  }

  /**
   * Checks the attempt now when no gate in its way is closed; else it waits at the first closed one
   * (at most MAX_WAITING_ATTEMPTS there) or is refused with 429, unchecked. An address that already
   * holds MAX_HELD_ATTEMPTS_PER_ADDRESS attempts back gets 429 at once, unchecked, whatever the
   * identity: filling an address opens no way around the gates.
   */
  admit(attempt: BrakeAttempt): void {
    if (this.isFull(attempt.remoteAddress)) {
      attempt.refuse(429, this.fullReason());
      return;
    }
    this.pass(attempt);
  }

  /**
   * A checked attempt failed: counts it for its address and (unless it came from where the identity
   * was last accepted) for its identity, closes the gates for their delays, and answers it at once
   * or after the longer delay when the address has room to hold it.
   */
  failed(identity: string, remoteAddress: string, answer: () => void): FailureAnswer {
    const addressDelayMs = this.perAddress.recordFailure(remoteAddress);
    const identityDelayMs = this.isTrusted(identity, remoteAddress)
      ? 0
      : (this.context.guarded(identity) ? this.perIdentity : this.perStrangerIdentity).recordFailure(
          identity,
        );
    if (addressDelayMs > 0) this.close(gateKey(remoteAddress, identity), 'per address', addressDelayMs);
    if (identityDelayMs > 0) this.close(identityGateKey(identity), 'per identity', identityDelayMs);
    const delayMs = Math.max(addressDelayMs, identityDelayMs);
    const brakes: BrakeKind[] = [];
    if (addressDelayMs === delayMs && delayMs > 0) brakes.push('per address');
    if (identityDelayMs === delayMs && delayMs > 0) brakes.push('per identity');
    if (delayMs === 0 || !this.hold(remoteAddress)) {
      answer();
      return { delayMs, brakes, held: false };
    }
    const release = () => {
      this.parked.delete(release);
      this.unhold(remoteAddress);
      answer();
    };
    this.parked.set(release, this.context.clock.setTimeout(release, delayMs));
    return { delayMs, brakes, held: true };
  }

  /** Remembers where an identity was accepted from (others' failures for it do not slow it there). */
  trust(identity: string, remoteAddress: string): void {
    this.trusted.delete(identity);
    this.trusted.set(identity, remoteAddress);
    if (this.trusted.size > MAX_TRUSTED_ADDRESSES)
      this.trusted.delete(this.trusted.keys().next().value as string);
  }

  /** Counts one more attempt held back at an address; false when the address has its fill. */
  hold(remoteAddress: string): boolean {
    const held = this.heldPerAddress.get(remoteAddress) ?? 0;
    if (held >= MAX_HELD_ATTEMPTS_PER_ADDRESS) return false;
    this.heldPerAddress.set(remoteAddress, held + 1);
    return true;
  }

  unhold(remoteAddress: string): void {
    const held = (this.heldPerAddress.get(remoteAddress) ?? 1) - 1;
    if (held > 0) this.heldPerAddress.set(remoteAddress, held);
    else this.heldPerAddress.delete(remoteAddress);
  }

  fullReason(): string {
    return `${MAX_HELD_ATTEMPTS_PER_ADDRESS} attempts from this address are already held back; not checked (per-address brake)`;
  }

  /** Held refusals are answered now; attempts waiting at a gate get 503. */
  releaseAll(): void {
    for (const [release, timer] of this.parked) {
      this.context.clock.clearTimeout(timer);
      release();
    }
    for (const gate of this.gates.values()) {
      this.context.clock.clearTimeout(gate.timer);
      for (const waiter of gate.waiting.splice(0)) {
        this.unhold(waiter.attempt.remoteAddress);
        if (!waiter.attempt.gone()) waiter.attempt.refuse(503, 'the central system is stopping');
      }
    }
    this.gates.clear();
  }

  private isTrusted(identity: string, remoteAddress: string): boolean {
    return (this.trusted.get(identity) ?? this.context.recordedAddress(identity)) === remoteAddress;
  }

  private isFull(remoteAddress: string): boolean {
    return (this.heldPerAddress.get(remoteAddress) ?? 0) >= MAX_HELD_ATTEMPTS_PER_ADDRESS;
  }

  /** The gates in an attempt's way: its identity at its address, and its identity from anywhere else. */
  private gatesOf(attempt: BrakeAttempt): [string, BrakeKind][] {
    const gates: [string, BrakeKind][] = [[gateKey(attempt.remoteAddress, attempt.identity), 'per address']];
    if (!this.isTrusted(attempt.identity, attempt.remoteAddress))
      gates.push([identityGateKey(attempt.identity), 'per identity']);
    return gates;
  }

  private pass(attempt: BrakeAttempt, waited?: Waiter): void {
    for (const [key, brake] of this.gatesOf(attempt)) {
      const gate = this.gates.get(key);
      if (gate?.timer === undefined) continue;
      if (gate.waiting.length >= MAX_WAITING_ATTEMPTS) {
        attempt.refuse(
          429,
          `${MAX_WAITING_ATTEMPTS} attempts for this charge point${brake === 'per address' ? ' from this address' : ''} already wait at the ${brake === 'per address' ? 'per-address' : 'per-identity'} brake; not checked`,
        );
        return;
      }
      if (!this.hold(attempt.remoteAddress)) {
        attempt.refuse(429, this.fullReason());
        return;
      }
      gate.waiting.push({ attempt, sinceMs: waited?.sinceMs ?? this.context.clock.now(), brake });
      if (!waited) {
        this.context.held({
          identity: attempt.identity,
          remoteAddress: attempt.remoteAddress,
          waiting: gate.waiting.length,
          brake,
        });
      }
      return;
    }
    attempt.check(
      waited ? { ms: this.context.clock.now() - waited.sinceMs, brake: waited.brake } : undefined,
    );
  }

  /** Closes a gate until `delayMs` from now (never opens it earlier than it would). */
  private close(key: string, brake: BrakeKind, delayMs: number): void {
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { brake, openAtMs: 0, waiting: [] };
      this.gates.set(key, gate);
    }
    const openAtMs = this.context.clock.now() + delayMs;
    if (gate.timer !== undefined && gate.openAtMs >= openAtMs) return;
    this.context.clock.clearTimeout(gate.timer);
    const closed = gate;
    closed.openAtMs = openAtMs;
    closed.timer = this.context.clock.setTimeout(() => this.open(key, closed), delayMs);
  }

  /** Lets the attempts waiting at a gate on, in order, until one of them closes it again. */
  private open(key: string, gate: Gate): void {
    gate.timer = undefined;
    while (gate.timer === undefined) {
      const next = gate.waiting.shift();
      if (!next) {
        if (this.gates.get(key) === gate) this.gates.delete(key);
        return;
      }
      this.unhold(next.attempt.remoteAddress);
      if (next.attempt.gone()) continue;
      if (!this.context.isListening()) next.attempt.refuse(503, 'the central system is stopping');
      else this.pass(next.attempt, next);
    }
  }
}

/** Where attempts wait for their turn: one charge point identity at one address. */
function gateKey(remoteAddress: string, identity: string): string {
  return `${remoteAddress}\u0000${identity}`;
}

/** Where attempts for one identity wait, from any address but its trusted one. */
function identityGateKey(identity: string): string {
  return `\u0000${identity}`;
}
