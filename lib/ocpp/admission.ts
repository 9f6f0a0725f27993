import type { TLSSocket } from 'node:tls';
import type { Clock, TimerHandle } from '../clock';
import type { Logger } from '../log';
import type { ChargerRecord } from './central-state';
import type { HeldAttempt, Refusal, RefusalStatus } from './central-types';
import {
  decideHandshake,
  FailureThrottle,
  type SecurityProfile,
  type UnknownChargePointPolicy,
} from './handshake';
import { OCPP16 } from './listener';
import { PasswordBook } from './passwords';
import type { UpgradeHandshake } from './rpc-types';
import { OCPP201 } from './v201/schemas';

/** What a refused charger is told; the reason is logged, not sent. */
const GENERIC_REFUSALS: Record<RefusalStatus, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * Attempts of one identity from one address that wait, unchecked, while a refusal of that identity
 * from that address is answered late; more are refused at once with 429, still unchecked.
 */
const MAX_WAITING_ATTEMPTS_PER_ADDRESS = 8;
/** Attempts of one address held back in all (refusals answered late and attempts waiting): a socket bound. */
const MAX_HELD_ATTEMPTS_PER_ADDRESS = 64;
/** Identities whose last accepted address is remembered (the oldest forgotten first). */
const MAX_TRUSTED_ADDRESSES = 10_000;

/** Who may connect: the part of CentralSystemOptions admission reads. */
export interface AdmissionOptions {
  securityProfile?: SecurityProfile;
  /** Profiles 1 and 2. */
  passwords?: PasswordBook;
  /** Profile 3: the client certificate's O must contain this. */
  certificateOrganization?: string;
  unknownChargePoints?: UnknownChargePointPolicy;
  /** Configured charge points: known by configuration. */
  chargePoints?: Record<string, unknown>;
  /**
   * The OCPP versions served, by sub-protocol, most preferred first: a charger that offers several
   * gets the first of these it offers. Both by default, 1.6 first.
   */
  protocols?: readonly SubProtocol[];
}

export type SubProtocol = typeof OCPP16 | typeof OCPP201;

/** What a central system serves unless told otherwise. */
export const DEFAULT_PROTOCOLS: readonly SubProtocol[] = [OCPP16, OCPP201];

/** What admission needs to know and tell outside itself. */
export interface AdmissionContext {
  clock: Clock;
  log: Logger;
  /** The charger's durable record (approved, blocked, registration), if there is one. */
  record(chargePointId: string): ChargerRecord | undefined;
  /** Whether the central system is listening; attempts let through later are refused when not. */
  isListening(): boolean;
  refused(refusal: Refusal): void;
  held(attempt: HeldAttempt): void;
  /**
   * The address of the identity's live connection from another address that still answers a
   * ping (LiveConnections.holder); undefined at once when there is none.
   */
  holder(identity: string, remoteAddress: string): Promise<string | undefined> | undefined;
}

type Accept = (session?: Record<string, unknown>, protocol?: string | false) => void;
type Reject = (code: number, message: string) => void;

/** An identity at an address with a refusal being answered late, and its attempts waiting for their turn. */
interface AddressGate {
  parked: boolean;
  waiting: { check: () => void; refuse: (status: 503) => void }[];
}

/**
 * Decides who may connect and be served: identities, passwords and certificates (decideHandshake),
 * known, pending and unknown chargers, a live charger's place (not taken from another address
 * while it answers), and the brakes on guessing: repeated failures from an address, and for an
 * identity from anywhere, are answered later and later (FailureThrottle), attempts behind a late
 * refusal wait.
 */
export class Admission {
  private readonly throttle: FailureThrottle;
  /** Failures per identity, from every address but the one it was last accepted from. */
  private readonly identityThrottle: FailureThrottle;
  /** Where each identity was last accepted from: not slowed by others' failures for it. */
  private readonly trusted = new Map<string, string>();
  /** Keyed by address and identity (gateKey). */
  private readonly gates = new Map<string, AddressGate>();
  /** Attempts held back per address: parked refusals and waiting attempts. */
  private readonly heldPerAddress = new Map<string, number>();
  /** Refusals being answered late, and how to answer each at once. */
  private readonly releaseParked = new Map<() => void, TimerHandle>();

  constructor(
    private readonly options: Readonly<AdmissionOptions>,
    private readonly context: AdmissionContext,
  ) {
    this.throttle = new FailureThrottle(context.clock);
    this.identityThrottle = new FailureThrottle(context.clock);
  }

  /** Known: configured, listed in the password book, or approved by the operator. */
  isKnown(chargePointId: string): boolean {
    return (
      Boolean(this.options.chargePoints?.[chargePointId]) ||
      Boolean(this.options.passwords?.lists(chargePointId)) ||
      Boolean(this.context.record(chargePointId)?.approved)
    );
  }

  /** Accepted: its last BootNotification was answered Accepted, or it is known and approved. */
  isAccepted(chargePointId: string): boolean {
    const record = this.context.record(chargePointId);
    if (record?.registration)
      return record.registration === 'Accepted' || (record.approved && !record.blocked);
    // Never booted here (it booted before the central system's state existed): serve it when known
    // or when unknown chargers are accepted.
    return this.isKnown(chargePointId) || this.options.unknownChargePoints === 'accept';
  }

  /**
   * Decides a WebSocket upgrade. Repeated failures from one address are answered later and later
   * (FailureThrottle); while a refusal of an identity from an address is held back, further
   * attempts for that identity from that address wait unchecked for their turn, so that password
   * guesses sent in parallel are checked no faster than guesses sent one after another. Other
   * chargers behind the same address (a site router, NAT) are checked at once: one charger with a
   * wrong password must not keep a car park's other chargers out. Guesses for one identity from
   * many addresses are slowed as one: while a refusal of the identity is held back for its own
   * failures, its attempts from any address wait, except from the address it was last accepted
   * from (the charger itself is not locked out by others guessing its password). An address
   * holds at most MAX_HELD_ATTEMPTS_PER_ADDRESS attempts back; beyond that it gets 429 at once.
   */
  authenticate(accept: Accept, reject: Reject, handshake: UpgradeHandshake): void {
    const remoteAddress = handshake.remoteAddress ?? 'unknown address';
    const identity = handshake.identity;
    const gate =
      this.gates.get(gateKey(remoteAddress, identity)) ??
      (this.trusted.get(identity) === remoteAddress ? undefined : this.gates.get(identityGateKey(identity)));
    if (!gate) {
      this.check(accept, reject, handshake, remoteAddress);
      return;
    }
    const refuse = (status: 429 | 503, reason: string) => {
      this.context.log.warn(
        `refused charge point ${JSON.stringify(handshake.identity)} from ${remoteAddress}: ${reason} (HTTP ${status})`,
      );
      this.context.refused({ identity: handshake.identity, remoteAddress, status, reason });
      reject(status, GENERIC_REFUSALS[status]);
    };
    if (gate.waiting.length >= MAX_WAITING_ATTEMPTS_PER_ADDRESS) {
      refuse(
        429,
        `${MAX_WAITING_ATTEMPTS_PER_ADDRESS} attempts for this charge point from this address already wait while its failed ones are answered late; not checked`,
      );
      return;
    }
    if (!this.hold(remoteAddress)) {
      refuse(
        429,
        `${MAX_HELD_ATTEMPTS_PER_ADDRESS} attempts from this address are already held back; not checked`,
      );
      return;
    }
    gate.waiting.push({
      check: () => {
        this.unhold(remoteAddress);
        // The client gave up waiting: nothing to check, nothing to count.
        if (handshake.request.socket.destroyed) return;
        this.check(accept, reject, handshake, remoteAddress);
      },
      refuse: (status) => {
        this.unhold(remoteAddress);
        refuse(status, 'the central system is stopping');
      },
    });
    this.context.held({ identity: handshake.identity, remoteAddress, waiting: gate.waiting.length });
  }

  /** Held refusals are answered now; attempts waiting behind them get 503 unless still listening. */
  releaseAll(): void {
    for (const [release, timer] of this.releaseParked) {
      this.context.clock.clearTimeout(timer);
      release();
    }
  }

  private check(accept: Accept, reject: Reject, handshake: UpgradeHandshake, remoteAddress: string): void {
    const tlsSocket = handshake.request.socket as TLSSocket;
    const decision = decideHandshake(
      {
        identity: handshake.identity,
        remoteAddress,
        ...(handshake.password ? { password: handshake.password } : {}),
        ...(!handshake.password && handshake.headers.authorization ? { authorizationSent: true } : {}),
        ...(typeof tlsSocket.getPeerCertificate === 'function'
          ? {
              peerCertificate: tlsSocket.getPeerCertificate(),
              certificateAuthorized: tlsSocket.authorized === true,
            }
          : {}),
      },
      {
        securityProfile: this.options.securityProfile ?? 0,
        passwords: this.options.passwords ?? PasswordBook.empty(),
        unknownChargePoints: this.options.unknownChargePoints ?? 'pending',
        isKnown: (id) => this.isKnown(id),
        isBlocked: (id) => Boolean(this.context.record(id)?.blocked),
        ...(this.options.certificateOrganization
          ? { certificateOrganization: this.options.certificateOrganization }
          : {}),
      },
    );
    let refusal = decision.accepted ? undefined : decision;
    const served = this.options.protocols ?? DEFAULT_PROTOCOLS;
    const protocol = served.find((offered) => handshake.protocols.has(offered));
    if (!refusal && handshake.protocols.size > 0 && !protocol) {
      refusal = {
        accepted: false,
        status: 400,
        reason: `offers sub-protocols ${[...handshake.protocols].join(', ')}; this central system speaks ${served.join(', ')}`,
      };
    }
    if (refusal) {
      this.refuse(reject, handshake.identity, remoteAddress, refusal.status, refusal.reason);
      return;
    }
    // A charger that offers no sub-protocol is served as OCPP 1.6 (a documented real-world quirk).
    const admit = () => {
      this.trust(handshake.identity, remoteAddress);
      accept({}, protocol ?? false);
    };
    const holder = this.context.holder(handshake.identity, remoteAddress);
    if (!holder) {
      admit();
      return;
    }
    // Its live connection from elsewhere is asked first: it keeps its place while it answers. The
    // attempt is held back meanwhile (counted against its address's bound).
    if (!this.hold(remoteAddress)) {
      this.refuse(
        reject,
        handshake.identity,
        remoteAddress,
        429,
        `${MAX_HELD_ATTEMPTS_PER_ADDRESS} attempts from this address are already held back`,
      );
      return;
    }
    void holder.then((address) => {
      this.unhold(remoteAddress);
      if (handshake.request.socket.destroyed) return;
      if (!this.context.isListening()) reject(503, GENERIC_REFUSALS[503]);
      else if (address === undefined) admit();
      else {
        this.refuse(
          reject,
          handshake.identity,
          remoteAddress,
          409,
          `already connected from ${address}, which still answers; a second connection from ${remoteAddress} is refused (an impostor, or two chargers set to one identity)`,
        );
      }
    });
  }

  /**
   * Refuses an attempt that was checked, later and later for repeated failures of its address, or
   * of its identity from addresses it was not last accepted from. The details stay in the log:
   * telling a stranger which identities exist or why a password failed helps nobody but an attacker.
   */
  private refuse(
    reject: Reject,
    identity: string,
    remoteAddress: string,
    status: RefusalStatus,
    reason: string,
  ): void {
    const addressDelayMs = this.throttle.recordFailure(remoteAddress);
    const identityDelayMs =
      this.trusted.get(identity) === remoteAddress ? 0 : this.identityThrottle.recordFailure(identity);
    const delayMs = Math.max(addressDelayMs, identityDelayMs);
    const slowedFor = identityDelayMs > addressDelayMs ? ' for this charge point' : '';
    this.context.log.warn(
      `refused charge point ${JSON.stringify(identity)} from ${remoteAddress}: ${reason} (HTTP ${status}${delayMs ? `, answered after ${delayMs / 1000} s${slowedFor}` : ''})`,
    );
    this.context.refused({ identity, remoteAddress, status, reason });
    const answer = () => reject(status, GENERIC_REFUSALS[status]);
    if (delayMs === 0 || !this.hold(remoteAddress)) {
      answer();
      return;
    }
    // Held for the identity's failures: its attempts from every address but its trusted one wait.
    const forIdentity = identityDelayMs > 0 && identityDelayMs >= addressDelayMs;
    const key = forIdentity ? identityGateKey(identity) : gateKey(remoteAddress, identity);
    this.park(key, remoteAddress, answer, delayMs);
  }

  /** Remembers where an identity was accepted from (others' failures for it do not slow it there). */
  private trust(identity: string, remoteAddress: string): void {
    this.trusted.delete(identity);
    this.trusted.set(identity, remoteAddress);
    if (this.trusted.size > MAX_TRUSTED_ADDRESSES)
      this.trusted.delete(this.trusted.keys().next().value as string);
  }

  /** Answers a refusal after `delayMs`; attempts of its identity and address wait until then. */
  private park(key: string, remoteAddress: string, answer: () => void, delayMs: number): void {
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { parked: false, waiting: [] };
      this.gates.set(key, gate);
    }
    const held = gate;
    held.parked = true;
    const release = () => {
      this.releaseParked.delete(release);
      this.unhold(remoteAddress);
      answer();
      held.parked = false;
      this.openGate(key, held);
    };
    const timer = this.context.clock.setTimeout(release, delayMs);
    this.releaseParked.set(release, timer);
  }

  /** Counts one more attempt held back at an address; false when the address has its fill. */
  private hold(remoteAddress: string): boolean {
    const held = this.heldPerAddress.get(remoteAddress) ?? 0;
    if (held >= MAX_HELD_ATTEMPTS_PER_ADDRESS) return false;
    this.heldPerAddress.set(remoteAddress, held + 1);
    return true;
  }

  private unhold(remoteAddress: string): void {
    const held = (this.heldPerAddress.get(remoteAddress) ?? 1) - 1;
    if (held > 0) this.heldPerAddress.set(remoteAddress, held);
    else this.heldPerAddress.delete(remoteAddress);
  }

  /** Checks the attempts waiting at a gate, in order, until one of them is held back again. */
  private openGate(key: string, gate: AddressGate): void {
    while (!gate.parked) {
      const next = gate.waiting.shift();
      if (!next) {
        this.gates.delete(key);
        return;
      }
      if (this.context.isListening()) next.check();
      else next.refuse(503);
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
