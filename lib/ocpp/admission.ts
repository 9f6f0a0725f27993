import type { TLSSocket } from 'node:tls';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import { Brake, type BrakeKind, type Waited } from './brake';
import type { ChargerRecord } from './central-state';
import type { HeldAttempt, Refusal, RefusalStatus } from './central-types';
import { decideHandshake, type SecurityProfile, type UnknownChargePointPolicy } from './handshake';
import { OCPP16 } from './listener';
import { PasswordBook } from './passwords';
import {
  hasPassword,
  matchPassword,
  type PasswordMatch,
  passwordTaken,
  type RotatedPassword,
} from './rotated-passwords';
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
  /** Identities with a durable record or a live connection. */
  identities(): Iterable<string>;
  /**
   * A charger got in from this address (kept in its record: ChargerRecord.lastAddress), and with
   * the new password it had accepted: its record's password from now on.
   */
  accepted(identity: string, remoteAddress: string, password?: RotatedPassword): void;
}

type Accept = (session?: Record<string, unknown>, protocol?: string | false) => void;
type Reject = (code: number, message: string) => void;

/**
 * Decides who may connect and be served: identities, passwords and certificates (decideHandshake),
 * known, pending and unknown chargers, a live charger's place (not taken from another address
 * while it answers), and the brakes on guessing: repeated failures from an address, and for an
 * identity from anywhere, close gates for later and later (Brake), attempts behind a closed gate
 * wait or are refused unchecked.
 */
export class Admission {
  /** The brake on guessing: its rate, its gates, what an address may hold back. */
  private readonly brake: Brake;

  constructor(
    private readonly options: Readonly<AdmissionOptions>,
    private readonly context: AdmissionContext,
  ) {
    this.brake = new Brake({
      clock: context.clock,
      guarded: (identity) => this.isKnown(identity) || context.record(identity) !== undefined,
      recordedAddress: (identity) => context.record(identity)?.lastAddress,
      isListening: () => context.isListening(),
      held: ({ identity, remoteAddress, waiting }) => context.held({ identity, remoteAddress, waiting }),
    });
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
   * Decides a WebSocket upgrade once the brake (brake.ts) lets it be checked. A failure closes, for
   * its delay, the gate of its identity at its address and the gate of its identity from every
   * address but the one it was last accepted from; attempts behind a closed gate wait unchecked or
   * get 429 unchecked, so guesses in parallel, from many addresses or from a full address are
   * checked no faster than one after another. Other chargers behind the same address (a site
   * router, NAT) are checked at once: one charger with a wrong password must not keep a car park's
   * other chargers out; the charger itself is not held behind others guessing its password from
   * elsewhere.
   */
  authenticate(accept: Accept, reject: Reject, handshake: UpgradeHandshake): void {
    const remoteAddress = handshake.remoteAddress ?? 'unknown address';
    const identity = handshake.identity;
    this.brake.admit({
      identity,
      remoteAddress,
      gone: () => handshake.request.socket.destroyed,
      check: (waited) => this.check(accept, reject, handshake, remoteAddress, waited),
      refuse: (status, reason) => {
        this.context.log.warn(
          `refused charge point ${JSON.stringify(identity)} from ${remoteAddress}: ${reason} (HTTP ${status})`,
        );
        this.context.refused({ identity, remoteAddress, status, reason });
        reject(status, GENERIC_REFUSALS[status]);
      },
    });
  }

  private nowIso(): string {
    return new Date(this.context.clock.now()).toISOString();
  }

  /** Held refusals are answered now; attempts waiting behind them get 503. */
  releaseAll(): void {
    this.brake.releaseAll();
  }

  /**
   * Another identity this central system knows (configured, listed with a password, recorded or
   * connected) that differs from `identity` only in case, when `identity` itself is none of these.
   * identifierString is case-insensitive: `cp-a` is CP-A, and is refused rather than made a
   * second charger (the case of an identity is kept, never changed).
   */
  private caseTwin(identity: string): string | undefined {
    if (this.isKnown(identity) || this.context.record(identity)) return undefined;
    const lower = identity.toLowerCase();
    const candidates = [
      Object.keys(this.options.chargePoints ?? {}),
      this.options.passwords?.identities() ?? [],
      this.context.identities(),
    ];
    for (const ids of candidates)
      for (const id of ids) if (id !== identity && id.toLowerCase() === lower) return id;
    return undefined;
  }

  private check(
    accept: Accept,
    reject: Reject,
    handshake: UpgradeHandshake,
    remoteAddress: string,
    waited?: Waited,
  ): void {
    const tlsSocket = handshake.request.socket as TLSSocket;
    const book = this.options.passwords ?? PasswordBook.empty();
    const rotated = this.context.record(handshake.identity)?.password;
    let presented: PasswordMatch | undefined;
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
        passwords: {
          covers: (id) => hasPassword(book, id, rotated),
          verify: (id, password) => {
            presented = password ? matchPassword(book, id, rotated, password) : undefined;
            return presented !== undefined;
          },
        },
        unknownChargePoints: this.options.unknownChargePoints ?? 'pending',
        isKnown: (id) => this.isKnown(id),
        isBlocked: (id) => Boolean(this.context.record(id)?.blocked),
        ...(this.options.certificateOrganization
          ? { certificateOrganization: this.options.certificateOrganization }
          : {}),
      },
    );
    let refusal: { status: RefusalStatus; reason: string } | undefined = decision.accepted
      ? undefined
      : decision;
    const twin = refusal ? undefined : this.caseTwin(handshake.identity);
    if (twin !== undefined) {
      refusal = {
        status: 409,
        reason: `differs from the charge point ${JSON.stringify(twin)} only in case; OCPP identities are case-insensitive, so it would be the same charger twice: set the charger to ${JSON.stringify(twin)}, or list ${JSON.stringify(handshake.identity)} among the known chargers if it is another one`,
      };
    }
    const served = this.options.protocols ?? DEFAULT_PROTOCOLS;
    const protocol = served.find((offered) => handshake.protocols.has(offered));
    if (!refusal && handshake.protocols.size > 0 && !protocol) {
      refusal = {
        status: 400,
        reason: `offers sub-protocols ${[...handshake.protocols].join(', ')}; this central system speaks ${served.join(', ')}`,
      };
    }
    if (refusal) {
      this.refuse(reject, handshake.identity, remoteAddress, refusal.status, refusal.reason, waited);
      return;
    }
    // A charger that offers no sub-protocol is served as OCPP 1.6 (a documented real-world quirk).
    const admit = () => {
      this.brake.trust(handshake.identity, remoteAddress);
      // Its first connection with the new password it accepted: from now on only that one (unless
      // another change was accepted meanwhile: that one waits for its own connection).
      const now = this.context.record(handshake.identity)?.password;
      const taken =
        presented === 'next' && now?.next && now.next.sha256 === rotated?.next?.sha256
          ? passwordTaken(book, handshake.identity, { ...now, next: now.next }, this.nowIso())
          : undefined;
      this.context.accepted(handshake.identity, remoteAddress, taken);
      accept({}, protocol ?? false);
    };
    const holder = this.context.holder(handshake.identity, remoteAddress);
    if (!holder) {
      admit();
      return;
    }
    // Its live connection from elsewhere is asked first: it keeps its place while it answers. The
    // attempt is held back meanwhile (counted against its address's bound).
    if (!this.brake.hold(remoteAddress)) {
      this.refuse(reject, handshake.identity, remoteAddress, 429, this.brake.fullReason());
      return;
    }
    void holder.then((address) => {
      this.brake.unhold(remoteAddress);
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
   * Refuses an attempt that was checked; the brake answers it later and later for repeated failures
   * of its address, or of its identity from addresses it was not last accepted from. The details
   * stay in the log, with the brake that made it wait or answered it late: telling a stranger which
   * identities exist or why a password failed helps nobody but an attacker.
   */
  private refuse(
    reject: Reject,
    identity: string,
    remoteAddress: string,
    status: RefusalStatus,
    reason: string,
    waited?: Waited,
  ): void {
    this.context.refused({ identity, remoteAddress, status, reason });
    const answer = this.brake.failed(identity, remoteAddress, () => reject(status, GENERIC_REFUSALS[status]));
    const notes: string[] = [];
    if (waited) notes.push(`waited ${waited.ms / 1000} s at the ${brakeName([waited.brake])}`);
    if (answer.delayMs > 0) {
      notes.push(
        answer.held
          ? `answered after ${answer.delayMs / 1000} s by the ${brakeName(answer.brakes)}`
          : `answered at once as the address holds enough back, next check in ${answer.delayMs / 1000} s by the ${brakeName(answer.brakes)}`,
      );
    }
    this.context.log.warn(
      `refused charge point ${JSON.stringify(identity)} from ${remoteAddress}: ${reason} (HTTP ${status}${notes.map((note) => `, ${note}`).join('')})`,
    );
  }
}

/** `per-address brake`, `per-identity brake`, or both. */
function brakeName(brakes: BrakeKind[]): string {
  return `${brakes.map((brake) => (brake === 'per address' ? 'per-address' : 'per-identity')).join(' and ')} brake`;
}
