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

/** What a refused charger is told; the reason is logged, not sent. */
const GENERIC_REFUSALS: Record<RefusalStatus, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
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
}

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
 * known, pending and unknown chargers, and the brakes on guessing: repeated failures from an
 * address are answered later and later (FailureThrottle), attempts behind a late refusal wait.
 */
export class Admission {
  private readonly throttle: FailureThrottle;
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
   * wrong password must not keep a car park's other chargers out. An address holds at most
   * MAX_HELD_ATTEMPTS_PER_ADDRESS attempts back; beyond that it gets 429 at once.
   */
  authenticate(accept: Accept, reject: Reject, handshake: UpgradeHandshake): void {
    const remoteAddress = handshake.remoteAddress ?? 'unknown address';
    const gate = this.gates.get(gateKey(remoteAddress, handshake.identity));
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
    if (!refusal && handshake.protocols.size > 0 && !handshake.protocols.has(OCPP16)) {
      refusal = {
        accepted: false,
        status: 400,
        reason: `offers sub-protocols ${[...handshake.protocols].join(', ')}; this central system speaks ${OCPP16}`,
      };
    }
    if (!refusal) {
      // A charger that offers no sub-protocol is served as OCPP 1.6 (a documented real-world quirk).
      accept({}, handshake.protocols.size === 0 ? false : OCPP16);
      return;
    }
    const { status, reason } = refusal;
    const delayMs = this.throttle.recordFailure(remoteAddress);
    this.context.log.warn(
      `refused charge point ${JSON.stringify(handshake.identity)} from ${remoteAddress}: ${reason} (HTTP ${status}${delayMs ? `, answered after ${delayMs / 1000} s` : ''})`,
    );
    this.context.refused({ identity: handshake.identity, remoteAddress, status, reason });
    // The details stay in the log: telling a stranger which identities exist or why a password
    // failed helps nobody but an attacker.
    const answer = () => reject(status, GENERIC_REFUSALS[status]);
    if (delayMs === 0 || !this.hold(remoteAddress)) {
      answer();
      return;
    }
    this.park(gateKey(remoteAddress, handshake.identity), remoteAddress, answer, delayMs);
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
