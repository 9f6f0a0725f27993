import type { PeerCertificate } from 'node:tls';
import type { Clock } from '../clock';
import type { PasswordBook } from './passwords';

/**
 * Who may open a WebSocket to the central system: the decision taken at the HTTP upgrade, before
 * any OCPP message is exchanged (OCPP 1.6 security whitepaper, section 2).
 */

export type SecurityProfile = 0 | 1 | 2 | 3;

/** What to do with a charge point the central system does not know. */
export type UnknownChargePointPolicy = 'reject' | 'accept' | 'pending';

export interface HandshakePolicy {
  securityProfile: SecurityProfile;
  passwords: PasswordBook;
  unknownChargePoints: UnknownChargePointPolicy;
  /** Configured in the node, approved by the operator, or accepted before. */
  isKnown(identity: string): boolean;
  /** Rejected by the operator: refused whatever the policy. */
  isBlocked(identity: string): boolean;
  /** Profile 3: the client certificate's O must contain this (A00.FR.404); unchecked when empty. */
  certificateOrganization?: string;
}

export interface HandshakeRequest {
  identity: string;
  password?: Buffer;
  remoteAddress: string;
  /** Profile 3: the verified client certificate (TLS already checked its chain). */
  peerCertificate?: PeerCertificate;
}

export type HandshakeDecision =
  | { accepted: true; known: boolean }
  | { accepted: false; status: 400 | 401 | 404; reason: string };

export function decideHandshake(request: HandshakeRequest, policy: HandshakePolicy): HandshakeDecision {
  const { identity } = request;
  if (identity === '') return { accepted: false, status: 400, reason: 'no charge point identity in the URL' };
  if (policy.isBlocked(identity))
    return { accepted: false, status: 404, reason: 'charge point rejected by the operator' };

  if (policy.securityProfile === 1 || policy.securityProfile === 2) {
    if (!policy.passwords.covers(identity)) {
      return { accepted: false, status: 401, reason: 'no password is configured for this charge point' };
    }
    if (!request.password) return { accepted: false, status: 401, reason: 'no password sent (HTTP Basic)' };
    if (!policy.passwords.verify(identity, request.password)) {
      return { accepted: false, status: 401, reason: 'wrong password' };
    }
  }
  if (policy.securityProfile === 3) {
    const problem = certificateProblem(identity, request.peerCertificate, policy.certificateOrganization);
    if (problem) return { accepted: false, status: 401, reason: problem };
  }

  const known = policy.isKnown(identity);
  if (!known && policy.unknownChargePoints === 'reject') {
    return {
      accepted: false,
      status: 404,
      reason: 'unknown charge point (unknown charge points are rejected)',
    };
  }
  return { accepted: true, known };
}

function certificateProblem(
  identity: string,
  certificate: PeerCertificate | undefined,
  organization?: string,
) {
  if (!certificate || Object.keys(certificate).length === 0)
    return 'no client certificate (security profile 3)';
  const commonName = String(certificate.subject?.CN ?? '');
  if (!commonName.includes(identity)) {
    return `client certificate CN "${commonName}" does not contain the charge point identity`;
  }
  if (organization && !String(certificate.subject?.O ?? '').includes(organization)) {
    return `client certificate O "${String(certificate.subject?.O ?? '')}" does not contain "${organization}"`;
  }
  return undefined;
}

export interface FailureThrottleOptions {
  /** Failures from one address answered at once before slowing down. */
  freeFailures?: number;
  /** Delay after the first slowed failure; doubles with each further failure. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** An address with no failure for this long starts afresh. */
  forgetAfterMs?: number;
  /** Bound on memory: the oldest addresses are forgotten beyond this many. */
  maxAddresses?: number;
}

/**
 * Slows down repeated failed handshakes from one address (password guessing, a misconfigured
 * charger hammering the port): the refusal is answered after a delay that doubles per failure.
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

  /** Records a failure and returns how long to wait before answering it. */
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

  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}
