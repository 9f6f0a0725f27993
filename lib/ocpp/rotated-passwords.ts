import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PasswordBook } from './passwords';

/**
 * A charger's password changed over OCPP (security whitepaper A01: ChangeConfiguration of
 * AuthorizationKey), kept in its durable record. The rule, owned here:
 *
 * - When the charger accepts a new AuthorizationKey, the new password is kept as `next`; the one it
 *   connected with until then (the configured one, or an earlier change) is still accepted, so a
 *   charger that has not reconnected yet, or answered Accepted and kept the old one, is not shut out.
 * - The first time it connects with `next`, `next` becomes `current` and only it is accepted.
 * - A changed password replaces the configured one (the node's password line, `--passwords`) only
 *   while that line stays what it was when the charger took the change: an operator who edits the
 *   charger's line later has the last word again.
 *
 * (A01.FR.03 has the central system drop the old credentials as soon as the charger answers
 * Accepted; ampflow drops them once the charger has shown it uses the new one.)
 *
 * Only salted SHA-256 digests are kept, never the password: the journal and the admin endpoints
 * must not hold it. The whitepaper's passwords are 16 or more random bytes (A00.FR.205), beyond any
 * dictionary; the brake (brake.ts) bounds guessing at the handshake.
 */

export interface PasswordDigest {
  salt: string;
  sha256: string;
}

export interface RotatedPassword {
  /** When the last change was accepted or taken (ISO 8601). */
  at: string;
  /** The password the charger connects with since its last change took effect. */
  current?: PasswordDigest;
  /** Set by an accepted ChangeConfiguration(AuthorizationKey), not yet used to connect. */
  next?: PasswordDigest;
  /** The configured password `current` replaced (absent: there was none). */
  replaces?: PasswordDigest;
}

/** Which password a charger presented: the configured one, its changed one, or the new one. */
export type PasswordMatch = 'configured' | 'current' | 'next';

export function digestPassword(password: Buffer, salt: Buffer = randomBytes(16)): PasswordDigest {
  return { salt: salt.toString('hex'), sha256: digest(salt, password).toString('hex') };
}

function digest(salt: Buffer, password: Buffer): Buffer {
  return createHash('sha256').update(salt).update(password).digest();
}

/** Compares in constant time. */
export function digestMatches(stored: PasswordDigest, presented: Buffer): boolean {
  const expected = Buffer.from(stored.sha256, 'hex');
  const actual = digest(Buffer.from(stored.salt, 'hex'), presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether the charger's configured password is still the one its changed password replaced. */
function configuredUnchanged(book: PasswordBook, identity: string, rotated: RotatedPassword): boolean {
  const configured = book.passwordOf(identity);
  if (!configured || !rotated.replaces) return !configured && !rotated.replaces;
  return digestMatches(rotated.replaces, configured);
}

/** Whether the charger has a password at all: configured, or changed over OCPP. */
export function hasPassword(book: PasswordBook, identity: string, rotated?: RotatedPassword): boolean {
  return book.covers(identity) || Boolean(rotated?.next ?? rotated?.current);
}

/** Which of the charger's passwords `presented` is, by the rule above; undefined: none. */
export function matchPassword(
  book: PasswordBook,
  identity: string,
  rotated: RotatedPassword | undefined,
  presented: Buffer,
): PasswordMatch | undefined {
  if (rotated?.next && digestMatches(rotated.next, presented)) return 'next';
  if (rotated?.current && configuredUnchanged(book, identity, rotated))
    return digestMatches(rotated.current, presented) ? 'current' : undefined;
  return book.verify(identity, presented) ? 'configured' : undefined;
}

/** The record after the charger accepted `password` as its new AuthorizationKey. */
export function passwordAccepted(
  rotated: RotatedPassword | undefined,
  password: Buffer,
  at: string,
): RotatedPassword {
  return { ...rotated, at, next: digestPassword(password) };
}

/** The record once the charger connected with its new password: only that one from now on. */
export function passwordTaken(
  book: PasswordBook,
  identity: string,
  rotated: RotatedPassword & { next: PasswordDigest },
  at: string,
): RotatedPassword {
  const configured = book.passwordOf(identity);
  return {
    at,
    current: rotated.next,
    ...(configured ? { replaces: digestPassword(configured) } : {}),
  };
}
