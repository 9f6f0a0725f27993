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
  passwords: Pick<PasswordBook, 'covers' | 'verify'>;
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
 * OCPP's identifierString (OCPP 2.0.1 part 2, primitive datatypes), which OCPP 2.0.1 part 4 asks of
 * the identity in the connection URL, at most 48 characters: a-z, A-Z, 0-9 and `* - _ = : + | @ .`.
 * Enough for every identity in the manuals (`+49*839*0000000001`, `TACW1142021G1XYZ`); no room for
 * look-alikes (`CP-A ` or `CP-A/` read like CP-A in a log), log injection or records kilobytes long.
 */
const IDENTIFIER_CHARACTER = /^[A-Za-z0-9*\-_=:+|@.]$/;
const MAX_IDENTITY_LENGTH = 48;

/** Why an identity is not an identifierString (the first offending character and its position), or undefined. */
export function identityProblem(identity: string): string | undefined {
  if (identity === '') return 'no charge point identity in the URL';
  const characters = [...identity];
  const at = characters.findIndex((char) => !IDENTIFIER_CHARACTER.test(char));
  if (at >= 0) {
    const char = characters[at] as string;
    const code = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `the identity has ${JSON.stringify(char)} (${code}) at position ${at + 1}; OCPP identities (identifierString) allow only a-z, A-Z, 0-9 and * - _ = : + | @ .`;
  }
  if (characters.length > MAX_IDENTITY_LENGTH)
    return `the identity is ${characters.length} characters long; OCPP allows at most ${MAX_IDENTITY_LENGTH}`;
  return undefined;
}

export type HandshakeDecision =
  | { accepted: true }
  | { accepted: false; status: 400 | 401 | 404; reason: string };

export function decideHandshake(request: HandshakeRequest, policy: HandshakePolicy): HandshakeDecision {
  const { identity } = request;
  const problem = identityProblem(identity);
  if (problem) return { accepted: false, status: 400, reason: problem };
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
 * The one rule for a profile-3 client certificate's CN: it is exactly the charge point identity
 * (case included), nothing more and nothing less. The OCPP 1.6 security whitepaper says the CN
 * "consists of the unique serial number of the Charge Point" (A00.FR.511; A00.FR.405 checks that it
 * "contains" it); ampflow knows a charger by its identity, so the identity is that serial number
 * here. A substring match would let the holder of a certificate for CP10 pose as CP1. The handshake
 * checks it and `ampflow-cs certs` writes it; the docs say the same.
 */
export function clientCertificateCommonName(identity: string): string {
  return identity;
}

/**
 * Why a certificate's subject does not belong to `identity` under the CN rule above (and the CPO
 * name in O when one is set, A00.FR.404), or undefined.
 */
export function certificateProblem(
  identity: string,
  certificate: PeerCertificate | undefined,
  organization?: string,
) {
  if (!certificate || Object.keys(certificate).length === 0)
    return 'no client certificate (security profile 3)';
  const commonName = String(certificate.subject?.CN ?? '');
  if (commonName !== clientCertificateCommonName(identity)) {
    return `client certificate CN "${commonName}" is not the charge point identity (the CN must equal it exactly)`;
  }
  if (organization && String(certificate.subject?.O ?? '') !== organization) {
    return `client certificate O "${String(certificate.subject?.O ?? '')}" is not "${organization}"`;
  }
  return undefined;
}
