/**
 * The central system's list of id tags (RFID badges and other OCPP IdTokens): answers Authorize
 * and the like from it, and produces the SendLocalList.req messages that keep each charger's
 * Local Authorization List (OCPP 1.6 §3.5.2) in step with it.
 *
 * The list is plain data: {@link IdTagList.toJSON} gives a JSON-safe snapshot (entries, version
 * and change history) and {@link IdTagList.fromSnapshot} rebuilds an identical list from it, so
 * the journal store can persist it. Nothing here reads the clock; `lookup` takes `nowMs`.
 *
 * ConcurrentTx is deliberately not decided here: whether an idTag "is already involved in another
 * transaction" (§7.2) depends on the transactions running right now, which only the caller knows.
 * The caller takes {@link IdTagLookup.idTagInfo} and replaces an Accepted status by ConcurrentTx
 * where its transaction rules say so. For the same reason the list never stores ConcurrentTx.
 *
 * Its parts live next to this file: what an entry is and how it is read (id-tag-entry.ts), the
 * version and its change history (id-tag-history.ts), the SendLocalList.req messages built from
 * them (local-list-updates.ts) and the reading of a snapshot (id-tag-snapshot.ts).
 */
import { ConfigError } from '../config-error';
import {
  type AuthorizationData,
  foldCase,
  type IdTagEntry,
  type IdTagInfo,
  isHexUid,
  parseEntry,
  reverseByteOrder,
  sortByKey,
  storedIdTagInfo,
  tagField,
} from './id-tag-entry';
import { IdTagHistory, type IdTagHistoryBounds } from './id-tag-history';
import { type IdTagListSnapshot, readSnapshot } from './id-tag-snapshot';
import { localListUpdates } from './local-list-updates';
import type { SendLocalListRequest } from './messages';

export { type IdTagEntry, type IdTagInfo, isHexUid, reverseByteOrder } from './id-tag-entry';
export { LIST_VERSION_STEP } from './id-tag-history';
export type { IdTagListSnapshot } from './id-tag-snapshot';

/**
 * How a presented idTag is compared with the list. Readers disagree on how they spell the same
 * card UID: upper or lower case, byte 0 first (ISO 14443-3, as §3.9 recommends) or last — the
 * Bender CC613 manual (§5.3 "RFID Tag letter case") lists 0a0e9b83, 0A0E9B83, 839b0e0a and
 * 839B0E0A for one card.
 */
export interface IdTagMatching {
  /** IdToken is case insensitive (§7.28), so this defaults to true. */
  caseInsensitive: boolean;
  /**
   * A presented tag made of an even number (4 to 20) of hex digits also matches the entry that
   * spells its bytes in reverse order. Defaults to true. Other tags are never reversed: §3.9 says
   * IdTokens may hold any data, and only hex UIDs have a byte order.
   */
  byteOrderVariants: boolean;
}

export const DEFAULT_ID_TAG_MATCHING: Readonly<IdTagMatching> = {
  caseInsensitive: true,
  byteOrderVariants: true,
};

export interface IdTagListOptions extends IdTagHistoryBounds {
  matching?: Partial<IdTagMatching>;
}

export interface IdTagLookup {
  /** The entry the presented tag matched, or undefined for an unknown tag. */
  entry: IdTagEntry | undefined;
  /** What to answer the charger; `{ status: 'Invalid' }` ("Identifier is unknown", §7.2) when no entry matched. */
  idTagInfo: IdTagInfo;
}

/** What a mutation did. Save the list when `changed`; push to chargers when the version moved. */
export interface IdTagListChange {
  /** Anything stored changed, notes and priorities included. */
  changed: boolean;
  previousVersion: number;
  version: number;
}

/**
 * The id-tag list. Entries are keyed case-insensitively whatever the matching options say:
 * "abcd" and "ABCD" are the same IdToken to a charger (§7.28) and SendLocalList.req forbids
 * duplicates (§6.41), so upserting "ABCD" replaces "abcd" rather than adding a second entry.
 *
 * Versions: `version` starts at 0 (the value GetLocalListVersion.conf uses for an empty list,
 * §5.10) and grows by {@link LIST_VERSION_STEP} for every mutation that alters what a charger
 * stores — idTag spelling, status, expiryDate, parentIdTag. Notes and priorities never reach a charger, so changing only
 * those does not move it. Each version step is kept in a bounded
 * history so that a charger a few versions behind gets a Differential update.
 */
export class IdTagList {
  readonly matching: Readonly<IdTagMatching>;
  private readonly history: IdTagHistory;
  private byKey = new Map<string, IdTagEntry>();

  constructor(options: IdTagListOptions = {}) {
    this.matching = Object.freeze({ ...DEFAULT_ID_TAG_MATCHING, ...definedOnly(options.matching ?? {}) });
    this.history = new IdTagHistory(options);
  }

  /**
   * Rebuilds a list from {@link toJSON}'s output. The entries are checked again under `options`,
   * so switching byte-order matching on over a list that holds both spellings of one card fails
   * here with the same ConfigError an upsert would give. A snapshot that is not one (damaged
   * file) throws a TypeError.
   */
  static fromSnapshot(snapshot: unknown, options: IdTagListOptions = {}): IdTagList {
    const list = new IdTagList(options);
    const { version, entries, history } = readSnapshot(snapshot);
    const next = list.buildMap(entries.map((raw, index) => parseEntry(raw, index)));
    list.checkConsistency(next, new Set(next.keys()));
    list.byKey = next;
    list.history.restore(version, history);
    return list;
  }

  /** The version a charger holding this list reports in GetLocalListVersion.conf. */
  get version(): number {
    return this.history.version;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The entry stored under `idTag` (case-insensitive, no byte-order variants: this is for editing). */
  get(idTag: string): IdTagEntry | undefined {
    const entry = this.byKey.get(foldCase(idTag));
    return entry && { ...entry };
  }

  /** All entries, sorted by idTag. */
  entries(): IdTagEntry[] {
    return this.sortedEntries().map((entry) => ({ ...entry }));
  }

  /**
   * Adds or replaces entries (each replaces the whole stored entry with the same idTag; omitted
   * fields are cleared). All or nothing: if any entry is unusable a ConfigError naming the tag and
   * the field is thrown and the list is unchanged.
   */
  upsert(entries: readonly IdTagEntry[]): IdTagListChange {
    const parsed = entries.map((raw, index) => parseEntry(raw, index));
    const incoming = this.buildMap(parsed);
    const next = new Map(this.byKey);
    for (const [key, entry] of incoming) next.set(key, entry);
    return this.commit(next, new Set(incoming.keys()));
  }

  /**
   * Removes the entries stored under `idTags` (case-insensitive). All or nothing: a tag that is
   * not in the list, or one that is still the parentIdTag of an entry that stays, is a ConfigError.
   */
  remove(idTags: readonly string[]): IdTagListChange {
    const next = new Map(this.byKey);
    for (const idTag of idTags) {
      const key = foldCase(String(idTag));
      if (!this.byKey.has(key)) throw new ConfigError(tagField(String(idTag)), 'is not in the list');
      next.delete(key);
    }
    for (const entry of sortByKey([...next.values()])) {
      if (entry.parentIdTag === undefined) continue;
      const parent = this.byKey.get(foldCase(entry.parentIdTag));
      if (parent && !next.has(foldCase(parent.idTag))) {
        throw new ConfigError(
          tagField(parent.idTag),
          `cannot be removed: it is the parentIdTag of "${entry.idTag}"; change or remove "${entry.idTag}" too`,
        );
      }
    }
    return this.commit(next, new Set());
  }

  /** Makes `entries` the whole list. All or nothing, like {@link upsert}. */
  replaceAll(entries: readonly IdTagEntry[]): IdTagListChange {
    const next = this.buildMap(entries.map((raw, index) => parseEntry(raw, index)));
    return this.commit(next, new Set(next.keys()));
  }

  /**
   * Finds the entry a presented idTag (from Authorize.req, StartTransaction.req, …) stands for and
   * the IdTagInfo to answer with. An Accepted entry whose expiryDate is at or before `nowMs`
   * answers Expired (§3.5.4: "Identifiers that were valid but are apparently expired due to
   * passage of time MUST also be rejected"); Blocked and Invalid stay as they are, being the more
   * specific refusal. parentIdTag and expiryDate are included when set. ConcurrentTx is the
   * caller's decision (see the file comment).
   */
  lookup(presentedIdTag: string, nowMs: number): IdTagLookup {
    const entry = this.match(presentedIdTag);
    if (!entry) return { entry: undefined, idTagInfo: { status: 'Invalid' } };
    const expired =
      entry.status === 'Accepted' && entry.expiryDate !== undefined && nowMs >= Date.parse(entry.expiryDate);
    const idTagInfo: IdTagInfo = { ...storedIdTagInfo(entry), status: expired ? 'Expired' : entry.status };
    return { entry: { ...entry }, idTagInfo };
  }

  /**
   * The SendLocalList.req messages, to be sent in order (each only after the previous one was
   * Accepted), that bring a charger whose GetLocalListVersion.conf said `chargerVersion` to this
   * list's version: Differential updates from the history where they can, else a Full update.
   * Empty when there is nothing to send. The rules are {@link localListUpdates}'s.
   *
   * @param maxEntriesPerMessage the charger's SendLocalListMaxLength (§9.2.3). Fitting the list
   *   into LocalAuthListMaxLength is the caller's concern.
   */
  localListUpdates(chargerVersion: number | undefined, maxEntriesPerMessage: number): SendLocalListRequest[] {
    return localListUpdates(this.history, () => this.sortedEntries(), chargerVersion, maxEntriesPerMessage);
  }

  /** The JSON-safe state; {@link fromSnapshot} turns it back into an identical list. */
  toJSON(): IdTagListSnapshot {
    return { version: this.history.version, entries: this.entries(), history: this.history.toJSON() };
  }

  private match(presented: string): IdTagEntry | undefined {
    if (typeof presented !== 'string') return undefined;
    const direct = this.findSpelled(presented);
    if (direct || !this.matching.byteOrderVariants || !isHexUid(presented)) return direct;
    return this.findSpelled(reverseByteOrder(presented));
  }

  private findSpelled(idTag: string): IdTagEntry | undefined {
    const entry = this.byKey.get(foldCase(idTag));
    if (!entry) return undefined;
    return this.matching.caseInsensitive || entry.idTag === idTag ? entry : undefined;
  }

  /** Keys a batch, refusing two entries for one idTag (which one would the operator mean?). */
  private buildMap(entries: readonly IdTagEntry[]): Map<string, IdTagEntry> {
    const map = new Map<string, IdTagEntry>();
    for (const entry of entries) {
      const key = foldCase(entry.idTag);
      const earlier = map.get(key);
      if (earlier) {
        throw new ConfigError(
          tagField(entry.idTag),
          `is listed twice in one change (also as "${earlier.idTag}"); idTags are case insensitive`,
        );
      }
      map.set(key, entry);
    }
    return map;
  }

  /** Checks parents and ambiguous byte-order twins; `touched` are the keys the change brings in. */
  private checkConsistency(next: Map<string, IdTagEntry>, touched: Set<string>): void {
    for (const entry of sortByKey([...next.values()])) {
      if (entry.parentIdTag !== undefined && !next.has(foldCase(entry.parentIdTag))) {
        throw new ConfigError(
          `${tagField(entry.idTag)}.parentIdTag`,
          `"${entry.parentIdTag}" is not in the list; add the parent tag first or in the same change`,
        );
      }
    }
    if (!this.matching.byteOrderVariants) return;
    for (const entry of sortByKey([...next.values()])) {
      if (!isHexUid(entry.idTag)) continue;
      const reversed = reverseByteOrder(entry.idTag);
      const twin = next.get(foldCase(reversed));
      if (!twin || twin === entry) continue;
      if (!this.matching.caseInsensitive && twin.idTag !== reversed) continue;
      // Name the entry this change brings in first, so the message points at what was just typed.
      const [named, other] = touched.has(foldCase(entry.idTag)) ? [entry, twin] : [twin, entry];
      throw new ConfigError(
        tagField(named.idTag),
        `and "${other.idTag}" are the same badge UID in reverse byte order, and byte-order variants match ` +
          'either spelling; keep only one of them',
      );
    }
  }

  private commit(next: Map<string, IdTagEntry>, touched: Set<string>): IdTagListChange {
    this.checkConsistency(next, touched);
    const previousVersion = this.history.version;
    const updates: AuthorizationData[] = [];
    let changed = false;
    for (const [key, entry] of this.byKey) {
      if (!next.has(key)) updates.push({ idTag: entry.idTag });
    }
    for (const [key, entry] of next) {
      const before = this.byKey.get(key);
      if (!before || !sameForCharger(before, entry)) {
        updates.push({ idTag: entry.idTag, idTagInfo: storedIdTagInfo(entry) });
      } else if (!sameEntry(before, entry)) {
        changed = true;
      }
    }
    this.byKey = new Map(sortByKey([...next.values()]).map((entry) => [foldCase(entry.idTag), entry]));
    if (updates.length > 0) {
      changed = true;
      this.history.record(updates);
    }
    return { changed, previousVersion, version: this.history.version };
  }

  private sortedEntries(): IdTagEntry[] {
    return sortByKey([...this.byKey.values()]);
  }
}

function sameForCharger(a: IdTagEntry, b: IdTagEntry): boolean {
  return (
    a.idTag === b.idTag &&
    a.status === b.status &&
    a.expiryDate === b.expiryDate &&
    a.parentIdTag === b.parentIdTag
  );
}

function sameEntry(a: IdTagEntry, b: IdTagEntry): boolean {
  return (
    sameForCharger(a, b) && a.priority === b.priority && a.note === b.note && a.oneAtATime === b.oneAtATime
  );
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
