/**
 * The type each id token was seen with (OCPP 2.0.1 IdTokenEnumType: ISO14443, ISO15693, KeyCode,
 * eMAID, MacAddress, Local, Central, NoAuthorization). A flow and the id-tag list name a card by its
 * 1.6 idTag alone; a 2.0.1 station matches a token by value and type, so a card it reported as
 * ISO14443 must go back to it (SendLocalList, ReserveNow, RequestStartTransaction) as ISO14443, not
 * as `Central`. Learned from what 2.0.1 stations send (Authorize, TransactionEvent), shared by all
 * of them (a card is the same card at every station), kept in memory, at most MAX_TOKENS (the
 * longest unseen forgotten first). A token never seen goes as `Central` (a token the CSMS made up,
 * as 2.0.1 defines it).
 */
export const UNSEEN_TOKEN_TYPE = 'Central';
const MAX_TOKENS = 10_000;

export class TokenTypes {
  private readonly seen = new Map<string, string>();

  /** A token as a station sent it (its latest type wins). */
  saw(token: { idToken?: unknown; type?: unknown } | undefined): void {
    if (typeof token?.idToken !== 'string' || typeof token.type !== 'string') return;
    this.seen.delete(token.idToken);
    this.seen.set(token.idToken, token.type);
    if (this.seen.size > MAX_TOKENS) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** The type a token goes back with: the one it was seen with, else `Central`. */
  typeOf(idToken: string): string {
    return this.seen.get(idToken) ?? UNSEEN_TOKEN_TYPE;
  }
}
