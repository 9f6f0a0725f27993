import type { PeerCertificate } from 'node:tls';
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
  /** An Authorization header came, though no password could be read from it for this identity. */
  authorizationSent?: boolean;
  remoteAddress: string;
  /** Profile 3: the client certificate, and whether TLS verified its chain against the chargers' CA. */
  peerCertificate?: PeerCertificate;
  certificateAuthorized?: boolean;
}

/**
 * Identities are printable and at most 48 characters (OCPP's identifierString, CiString48 in
 * later versions): enough for every identity in the manuals (`+49*839*0000000001`,
 * `TACW1142021G1XYZ`), and no room for log injection or records kilobytes long.
 */
function isValidIdentity(identity: string): boolean {
  if (identity.length > 48) return false;
  for (const char of identity) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

export type HandshakeDecision =
  | { accepted: true }
  | { accepted: false; status: 400 | 401 | 404; reason: string };

export function decideHandshake(request: HandshakeRequest, policy: HandshakePolicy): HandshakeDecision {
  const { identity } = request;
  if (identity === '') return { accepted: false, status: 400, reason: 'no charge point identity in the URL' };
  if (!isValidIdentity(identity)) {
    return {
      accepted: false,
      status: 400,
      reason: 'the identity is longer than 48 characters or has control characters',
    };
  }
  if (policy.isBlocked(identity))
    return { accepted: false, status: 404, reason: 'charge point rejected by the operator' };

  if (policy.securityProfile === 1 || policy.securityProfile === 2) {
    if (!policy.passwords.covers(identity)) {
      return { accepted: false, status: 401, reason: 'no password is configured for this charge point' };
    }
    if (!request.password) {
      // The Basic user name must be the identity (OCPP 1.6 security whitepaper, OCPP 2.0.1 A00.FR.203).
      const reason = request.authorizationSent
        ? 'the HTTP Basic user name is not the charge point identity (or the header cannot be read)'
        : 'no password sent (HTTP Basic)';
      return { accepted: false, status: 401, reason };
    }
    if (!policy.passwords.verify(identity, request.password)) {
      return { accepted: false, status: 401, reason: 'wrong password' };
    }
  }
  if (policy.securityProfile === 3) {
    const problem = request.certificateAuthorized
      ? certificateProblem(identity, request.peerCertificate, policy.certificateOrganization)
      : 'the client certificate is missing or not signed by the chargers’ CA';
    if (problem) return { accepted: false, status: 401, reason: problem };
  }

  if (!policy.isKnown(identity) && policy.unknownChargePoints === 'reject') {
    return {
      accepted: false,
      status: 404,
      reason: 'unknown charge point (unknown charge points are rejected)',
    };
  }
  return { accepted: true };
}

/**
 * A00.FR.405 asks that the CN "contains the unique serial number" of the charge point; this
 * central system identifies chargers by their identity, so the CN must be exactly the identity.
 * A substring match would let the holder of a certificate for CP10 pose as CP1.
 */
function certificateProblem(
  identity: string,
  certificate: PeerCertificate | undefined,
  organization?: string,
) {
  if (!certificate || Object.keys(certificate).length === 0)
    return 'no client certificate (security profile 3)';
  const commonName = String(certificate.subject?.CN ?? '');
  if (commonName !== identity) {
    return `client certificate CN "${commonName}" is not the charge point identity`;
  }
  if (organization && String(certificate.subject?.O ?? '') !== organization) {
    return `client certificate O "${String(certificate.subject?.O ?? '')}" is not "${organization}"`;
  }
  return undefined;
}
