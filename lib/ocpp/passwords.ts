import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config-error';

/**
 * Charge point passwords for HTTP Basic authentication (security profiles 1 and 2), as kept in a
 * Node-RED credential or a passwords file: one charger per line, `<identity> <password>`, with `#`
 * comments. The identity `*` gives the password for every charger not listed. The password is the
 * charger's AuthorizationKey; the security whitepaper asks for at least 16 bytes (A00.FR.205).
 */
export class PasswordBook {
  private readonly byIdentity: ReadonlyMap<string, Buffer>;

  private constructor(entries: Map<string, Buffer>) {
    this.byIdentity = entries;
  }

  static empty(): PasswordBook {
    return new PasswordBook(new Map());
  }

  /** Parses the text form; throws a ConfigError naming the line at fault. */
  static parse(text: string, field = 'passwords'): PasswordBook {
    const entries = new Map<string, Buffer>();
    text.split(/\r?\n/).forEach((rawLine, index) => {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#')) return;
      const match = /^(\S+)\s+(.+)$/.exec(line);
      if (!match) {
        throw new ConfigError(field, `line ${index + 1}: expected "<charge point identity> <password>"`);
      }
      const [, identity, password] = match as unknown as [string, string, string];
      if (entries.has(identity)) {
        throw new ConfigError(field, `line ${index + 1}: charge point ${identity} is listed twice`);
      }
      entries.set(identity, Buffer.from(password.trim(), 'utf8'));
    });
    return new PasswordBook(entries);
  }

  get size(): number {
    return this.byIdentity.size;
  }

  /** Whether `identity` is listed by name (not only covered by `*`). */
  lists(identity: string): boolean {
    return identity !== '*' && this.byIdentity.has(identity);
  }

  /** Whether `identity` has a password of its own or through `*`. */
  covers(identity: string): boolean {
    return this.byIdentity.has(identity) || this.byIdentity.has('*');
  }

  /** Identities listed by name (not `*`). */
  identities(): string[] {
    return [...this.byIdentity.keys()].filter((identity) => identity !== '*');
  }

  /** The configured password of `identity` (its own line, or `*`'s), for rotated-passwords.ts. */
  passwordOf(identity: string): Buffer | undefined {
    return this.byIdentity.get(identity) ?? this.byIdentity.get('*');
  }

  /**
   * Compares in constant time, length included (both sides are hashed first); false when the
   * charger has no password here.
   */
  verify(identity: string, presented: Buffer | undefined): boolean {
    const expected = this.byIdentity.get(identity) ?? this.byIdentity.get('*');
    if (!expected || !presented) return false;
    const digest = (value: Buffer) => createHash('sha256').update(value).digest();
    return timingSafeEqual(digest(expected), digest(presented));
  }

  /** Identities whose password is shorter than the whitepaper's 16 bytes, for a warning. */
  weakPasswords(): string[] {
    return [...this.byIdentity.entries()].filter(([, password]) => password.length < 16).map(([id]) => id);
  }
}
