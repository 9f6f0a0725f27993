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
 */
import { ConfigError } from '../config-error';
import type { AuthorizeResponse, SendLocalListRequest } from './messages';

/** IdTagInfo as sent in Authorize.conf, StartTransaction.conf and SendLocalList.req (§7.27). */
export type IdTagInfo = AuthorizeResponse['idTagInfo'];

/** One entry of SendLocalList.req's localAuthorizationList (§7.1 AuthorizationData). */
export type AuthorizationData = NonNullable<SendLocalListRequest['localAuthorizationList']>[number];

/** The statuses a stored tag can have; ConcurrentTx is decided by the caller (see the file comment). */
export type IdTagStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';

export const ID_TAG_STATUSES: readonly IdTagStatus[] = ['Accepted', 'Blocked', 'Expired', 'Invalid'];

/** IdToken is a CiString20Type: "a case insensitive string with a maximum length of 20 characters" (errata 3.58). */
export const ID_TAG_MAX_LENGTH = 20;

export interface IdTagEntry {
  /** As the operator entered it, at most 20 characters (CiString20). */
  idTag: string;
  status: IdTagStatus;
  /** RFC 3339 date-time with offset; once past, an Accepted tag answers Expired. */
  expiryDate?: string;
  /** Group (§3.10); must be the idTag of an entry of this list. */
  parentIdTag?: string;
  /** Higher is charged first by the load manager (VIP tags); never sent to chargers. */
  priority?: number;
  /** Who or what the tag belongs to, for facility staff; never sent to chargers. */
  note?: string;
  /**
   * This card (or, on a parent, every card of its group) may charge one car at a time: a second
   * start elsewhere is answered ConcurrentTx when the central system's rule is `listed`. Never
   * sent to chargers.
   */
  oneAtATime?: boolean;
}

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

export interface IdTagListOptions {
  matching?: Partial<IdTagMatching>;
  /** How many past versions the change history keeps for Differential updates (default 100). */
  maxHistoryVersions?: number;
  /**
   * Cap on the AuthorizationData kept in the whole history (default 5000), so a list that is
   * often replaced wholesale does not grow its snapshot without bound.
   */
  maxHistoryUpdates?: number;
}

/** What one version changed, as a Differential SendLocalList.req would carry it. */
export interface IdTagListHistoryStep {
  /** The list version this step produced. */
  version: number;
  /** Sorted by idTag; an entry without idTagInfo removes the tag. */
  updates: AuthorizationData[];
}

/** The JSON form of a list: `JSON.parse(JSON.stringify(list))` is one of these. */
export interface IdTagListSnapshot {
  version: number;
  entries: IdTagEntry[];
  /** Oldest first; versions {@link LIST_VERSION_STEP} apart, ending at `version`. */
  history: IdTagListHistoryStep[];
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
 * How far the list version moves per change. The numbers in between label the messages of a Full
 * update sent in several parts (see {@link IdTagList.localListUpdates}): a charger that stops
 * half-way holds a number that was never the version of a whole list, so it gets a Full update
 * next time, and every version stays a positive, increasing number as chargers expect.
 */
export const LIST_VERSION_STEP = 1000;

const DEFAULT_MAX_HISTORY_VERSIONS = 100;
const DEFAULT_MAX_HISTORY_UPDATES = 5000;

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
  private readonly maxHistoryVersions: number;
  private readonly maxHistoryUpdates: number;
  private byKey = new Map<string, IdTagEntry>();
  private currentVersion = 0;
  private history: IdTagListHistoryStep[] = [];

  constructor(options: IdTagListOptions = {}) {
    this.matching = Object.freeze({ ...DEFAULT_ID_TAG_MATCHING, ...definedOnly(options.matching ?? {}) });
    this.maxHistoryVersions = historyBound(
      'maxHistoryVersions',
      options.maxHistoryVersions,
      DEFAULT_MAX_HISTORY_VERSIONS,
    );
    this.maxHistoryUpdates = historyBound(
      'maxHistoryUpdates',
      options.maxHistoryUpdates,
      DEFAULT_MAX_HISTORY_UPDATES,
    );
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
    list.currentVersion = version;
    list.history = history;
    list.trimHistory();
    return list;
  }

  /** The version a charger holding this list reports in GetLocalListVersion.conf. */
  get version(): number {
    return this.currentVersion;
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
   * list's version. Empty when there is nothing to send.
   *
   * - Same version: nothing.
   * - Version 0 (a new list nobody ever filled): nothing. Errata 3.52 forbids listVersion 0 in
   *   SendLocalList.req, and a list this central system never managed leaves the charger's alone.
   * - One of this list's past versions (a whole number of {@link LIST_VERSION_STEP}s below the
   *   current one) that the history still reaches back to: Differential updates. Each message carries the merged changes of whole version steps and
   *   that step's real version, so a charger that stops half-way holds exactly one of this list's
   *   past versions and the next call continues from there. A single step with more changes than
   *   `maxEntriesPerMessage` cannot be split that way, so then a Full update is sent instead.
   * - Anything else — 0 (the charger's list is empty), -1, undefined (version not known, or a
   *   Differential was refused: §5.15 says to "retry sending the full local authorization list
   *   with updateType Full"), a number between steps (a Full update sent in parts was cut off), a
   *   version older than the history or newer than the list: a Full
   *   update, chunked as {@link fullUpdates} explains. A charger that reported -1 does not support
   *   local lists (§5.10) and will answer NotSupported; whether to ask it at all is the caller's
   *   choice.
   *
   * Entries carry idTagInfo as the charger should store it: the stored status (never Expired by
   * time — the charger applies expiryDate itself, §3.5.4), expiryDate and parentIdTag. Removed
   * tags appear in Differential updates without idTagInfo (§7.1: "If this element is absent,
   * than the entry for this idtag in the Local Authorization List SHALL be deleted").
   *
   * @param maxEntriesPerMessage the charger's SendLocalListMaxLength (§9.2.3). Fitting the list
   *   into LocalAuthListMaxLength is the caller's concern.
   */
  localListUpdates(chargerVersion: number | undefined, maxEntriesPerMessage: number): SendLocalListRequest[] {
    if (!Number.isInteger(maxEntriesPerMessage) || maxEntriesPerMessage < 1) {
      throw new RangeError(
        `maxEntriesPerMessage must be a whole number of at least 1, not ${maxEntriesPerMessage}`,
      );
    }
    if (chargerVersion === this.currentVersion || this.currentVersion === 0) return [];
    if (
      chargerVersion !== undefined &&
      Number.isInteger(chargerVersion) &&
      chargerVersion >= Math.max(LIST_VERSION_STEP, this.oldestDiffBase()) &&
      chargerVersion < this.currentVersion &&
      (this.currentVersion - chargerVersion) % LIST_VERSION_STEP === 0
    ) {
      const differential = this.differentialUpdates(chargerVersion, maxEntriesPerMessage);
      if (differential) return differential;
    }
    return this.fullUpdates(maxEntriesPerMessage);
  }

  /** The JSON-safe state; {@link fromSnapshot} turns it back into an identical list. */
  toJSON(): IdTagListSnapshot {
    return {
      version: this.currentVersion,
      entries: this.entries(),
      history: this.history.map((step) => ({ version: step.version, updates: step.updates.map(copyUpdate) })),
    };
  }

  /** The oldest version a Differential update can start from. */
  private oldestDiffBase(): number {
    return this.currentVersion - this.history.length * LIST_VERSION_STEP;
  }

  private differentialUpdates(fromVersion: number, max: number): SendLocalListRequest[] | undefined {
    const steps = this.history.filter((step) => step.version > fromVersion);
    if (steps.some((step) => step.updates.length > max)) return undefined;
    const messages: SendLocalListRequest[] = [];
    let pending = new Map<string, AuthorizationData>();
    let pendingVersion = fromVersion;
    for (const step of steps) {
      // A later change to the same tag supersedes an earlier one: only the final state matters.
      const merged = new Map(pending);
      for (const update of step.updates) merged.set(foldCase(update.idTag), update);
      if (merged.size > max) {
        messages.push(differential(pendingVersion, pending));
        pending = new Map(step.updates.map((update) => [foldCase(update.idTag), update]));
      } else {
        pending = merged;
      }
      pendingVersion = step.version;
    }
    messages.push(differential(pendingVersion, pending));
    return messages;
  }

  /**
   * The whole list as a Full update. When it holds more than `max` entries (the charger's
   * SendLocalListMaxLength, "Maximum number of identifications that can be send in a single
   * SendLocalList.req", §9.2.3), the first chunk goes as a Full update and the rest as
   * Differential updates that add entries. That yields exactly the full list: a Full update means
   * the list "must be replaced by the values in this message" (§7.48), then each Differential
   * entry with idTagInfo "SHALL be added or updated" (§7.1), and the idTags are unique (§6.41) so
   * no chunk overwrites another.
   *
   * listVersion of each message: the last one carries this list's version, because listVersion is
   * "the version number of the list after the update has been applied" (§6.41) — the complete
   * list. The earlier ones cannot carry it too: a charger refuses a Differential whose version "is
   * less or equal then version number of current list" (§7.47 VersionMismatch), so the versions
   * must strictly increase. Nor may an earlier one carry a version this list can later diff from:
   * a charger that stops half-way (connection lost) keeps a partial list under that number (§5.15:
   * the version the charger "MUST associate with the local authorization list after it has been
   * updated") and would then get a Differential on top of the wrong base. Versions move in steps of
   * {@link LIST_VERSION_STEP}, so the earlier messages carry the numbers just below this list's
   * version, which were never a whole list's version: a charger holding one gets a Full update
   * again. All are positive (errata 3.52 reserves 0 and -1).
   */
  private fullUpdates(max: number): SendLocalListRequest[] {
    const all = this.sortedEntries().map((entry) => ({
      idTag: entry.idTag,
      idTagInfo: storedIdTagInfo(entry),
    }));
    const chunks: AuthorizationData[][] = [];
    for (let start = 0; start < all.length; start += max) chunks.push(all.slice(start, start + max));
    if (chunks.length <= 1) {
      return [
        { listVersion: this.currentVersion, updateType: 'Full', localAuthorizationList: chunks[0] ?? [] },
      ];
    }
    const versions = [...this.intermediateVersions(chunks.length - 1), this.currentVersion];
    return chunks.map((chunk, index) => ({
      listVersion: versions[index] ?? this.currentVersion,
      updateType: index === 0 ? 'Full' : 'Differential',
      localAuthorizationList: chunk,
    }));
  }

  /** Strictly increasing versions just below the list's own, never a whole list's (see {@link fullUpdates}). */
  private intermediateVersions(count: number): number[] {
    if (count >= LIST_VERSION_STEP || this.currentVersion - count < 1) {
      throw new RangeError(
        `the list needs more than ${LIST_VERSION_STEP} SendLocalList messages; raise SendLocalListMaxLength`,
      );
    }
    return Array.from({ length: count }, (_, index) => this.currentVersion - count + index);
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
    const previousVersion = this.currentVersion;
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
      this.currentVersion += LIST_VERSION_STEP;
      updates.sort((a, b) => compareKeys(a.idTag, b.idTag));
      this.history.push({ version: this.currentVersion, updates });
      this.trimHistory();
    }
    return { changed, previousVersion, version: this.currentVersion };
  }

  private trimHistory(): void {
    let total = this.history.reduce((sum, step) => sum + step.updates.length, 0);
    while (this.history.length > this.maxHistoryVersions || total > this.maxHistoryUpdates) {
      total -= this.history.shift()?.updates.length ?? 0;
    }
  }

  private sortedEntries(): IdTagEntry[] {
    return sortByKey([...this.byKey.values()]);
  }
}

/** True for a tag that looks like a card UID in hex: an even number (4 to 20) of hex digits. */
export function isHexUid(idTag: string): boolean {
  return /^(?:[0-9a-f]{2}){2,10}$/i.test(idTag);
}

/** `0a0e9b83` → `839b0e0a`: the same bytes, last first. Letter case is kept. */
export function reverseByteOrder(hex: string): string {
  const bytes = hex.match(/../g) ?? [];
  return bytes.reverse().join('');
}

/**
 * ASCII-only upper case: CiString case insensitivity is about the letters card UIDs and account
 * codes use, and a locale or Unicode fold (ß → SS) would merge tags a charger keeps apart.
 */
function foldCase(idTag: string): string {
  return idTag.replace(/[a-z]/g, (letter) => letter.toUpperCase());
}

function compareKeys(a: string, b: string): number {
  const ka = foldCase(a);
  const kb = foldCase(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function sortByKey<T extends { idTag: string }>(items: T[]): T[] {
  return items.sort((a, b) => compareKeys(a.idTag, b.idTag));
}

function storedIdTagInfo(entry: IdTagEntry): IdTagInfo {
  const info: IdTagInfo = { status: entry.status };
  if (entry.expiryDate !== undefined) info.expiryDate = entry.expiryDate;
  if (entry.parentIdTag !== undefined) info.parentIdTag = entry.parentIdTag;
  return info;
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

function differential(listVersion: number, updates: Map<string, AuthorizationData>): SendLocalListRequest {
  return {
    listVersion,
    updateType: 'Differential',
    localAuthorizationList: sortByKey([...updates.values()]).map(copyUpdate),
  };
}

function copyUpdate(update: AuthorizationData): AuthorizationData {
  return update.idTagInfo
    ? { idTag: update.idTag, idTagInfo: { ...update.idTagInfo } }
    : { idTag: update.idTag };
}

function tagField(idTag: string): string {
  return `idTags[${JSON.stringify(idTag)}]`;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function historyBound(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(field, `must be a whole number of at least 0, not ${value}`);
  }
  return value;
}

/** Optional text fields: an editor form sends "" or null for an empty box. */
function optionalText(value: unknown): unknown {
  return value === '' || value === null ? undefined : value;
}

/** Validates one entry as typed (by a person, a flow or a snapshot) and returns a clean copy. */
function parseEntry(raw: unknown, index: number): IdTagEntry {
  if (typeof raw !== 'object' || raw === null) {
    throw new ConfigError(`idTags[${index}]`, 'must be an object with idTag and status');
  }
  const fields = raw as Record<string, unknown>;
  const idTag = fields.idTag;
  if (typeof idTag !== 'string' || idTag === '') {
    throw new ConfigError(`idTags[${index}].idTag`, 'is empty; every entry needs the badge or token id');
  }
  const field = tagField(idTag);
  checkIdTagText(`${field}.idTag`, idTag);

  const status = fields.status;
  if (status === 'ConcurrentTx') {
    throw new ConfigError(
      `${field}.status`,
      'ConcurrentTx is decided per transaction by the central system, not stored in the list',
    );
  }
  if (typeof status !== 'string' || !(ID_TAG_STATUSES as readonly string[]).includes(status)) {
    throw new ConfigError(
      `${field}.status`,
      `${JSON.stringify(status ?? null)} is not a status; use one of ${ID_TAG_STATUSES.join(', ')}`,
    );
  }
  const entry: IdTagEntry = { idTag, status: status as IdTagStatus };

  const expiryDate = optionalText(fields.expiryDate);
  if (expiryDate !== undefined) {
    if (typeof expiryDate !== 'string' || !isDateTime(expiryDate)) {
      throw new ConfigError(
        `${field}.expiryDate`,
        `${JSON.stringify(expiryDate)} is not a date and time; write it like 2026-12-31T23:59:59Z or ` +
          '2026-12-31T23:59:59+01:00',
      );
    }
    entry.expiryDate = expiryDate;
  }

  const parentIdTag = optionalText(fields.parentIdTag);
  if (parentIdTag !== undefined) {
    if (typeof parentIdTag !== 'string') {
      throw new ConfigError(`${field}.parentIdTag`, 'must be the idTag of another entry of the list');
    }
    checkIdTagText(`${field}.parentIdTag`, parentIdTag);
    entry.parentIdTag = parentIdTag;
  }

  const priority = fields.priority;
  if (priority !== undefined && priority !== null) {
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new ConfigError(`${field}.priority`, `${JSON.stringify(priority)} is not a number`);
    }
    entry.priority = priority;
  }

  const note = optionalText(fields.note);
  if (note !== undefined) {
    if (typeof note !== 'string') throw new ConfigError(`${field}.note`, 'must be text');
    entry.note = note;
  }

  const oneAtATime = fields.oneAtATime;
  if (oneAtATime !== undefined && oneAtATime !== null) {
    if (typeof oneAtATime !== 'boolean') {
      throw new ConfigError(`${field}.oneAtATime`, `${JSON.stringify(oneAtATime)} is not true or false`);
    }
    if (oneAtATime) entry.oneAtATime = true;
  }
  return entry;
}

function checkIdTagText(field: string, text: string): void {
  const length = [...text].length;
  if (length > ID_TAG_MAX_LENGTH) {
    throw new ConfigError(
      field,
      `"${text}" is ${length} characters; OCPP allows at most ${ID_TAG_MAX_LENGTH}`,
    );
  }
  if (text.trim() !== text) {
    throw new ConfigError(field, `"${text}" starts or ends with a space; readers never send one`);
  }
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) {
      throw new ConfigError(field, `${JSON.stringify(text)} contains a control character`);
    }
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * An RFC 3339 date-time, offset included: the "date-time" format the OCPP-J schemas give
 * expiryDate, so what the list stores can go to a charger as it is. Date.parse alone is too
 * lenient (it takes 2026-02-30 as 2 March).
 */
function isDateTime(text: string): boolean {
  const match = DATE_TIME.exec(text);
  if (!match) return false;
  const [, year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match.map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 59 &&
    (Number.isNaN(offsetHours) || (offsetHours ?? 0) <= 23) &&
    (Number.isNaN(offsetMinutes) || (offsetMinutes ?? 0) <= 59) &&
    !Number.isNaN(Date.parse(text))
  );
}

/** Structural check of a snapshot; entries are checked separately, as an upsert would. */
function readSnapshot(snapshot: unknown): {
  version: number;
  entries: unknown[];
  history: IdTagListHistoryStep[];
} {
  const fail = (why: string): never => {
    throw new TypeError(`not an id-tag list snapshot: ${why}`);
  };
  if (typeof snapshot !== 'object' || snapshot === null) return fail('not an object');
  const { version, entries, history } = snapshot as Record<string, unknown>;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return fail('bad version');
  if (!Array.isArray(entries)) return fail('entries is not a list');
  if (version === 0 && entries.length > 0) return fail('version 0 is the empty list, but it has entries');
  if (!Array.isArray(history)) return fail('history is not a list');
  if (version % LIST_VERSION_STEP !== 0) return migrateUnsteppedSnapshot(version, entries, history, fail);
  const steps = history.map((step: unknown, index): IdTagListHistoryStep => {
    const expected = version - (history.length - 1 - index) * LIST_VERSION_STEP;
    if (typeof step !== 'object' || step === null) return fail(`history[${index}] is not an object`);
    const { version: stepVersion, updates } = step as Record<string, unknown>;
    if (stepVersion !== expected || expected < 1)
      return fail(`history[${index}] should be version ${expected}`);
    if (!Array.isArray(updates) || updates.length === 0) return fail(`history[${index}] has no updates`);
    return { version: expected, updates: updates.map((update: unknown) => readUpdate(update, index, fail)) };
  });
  return { version, entries, history: steps };
}

/**
 * A list saved before versions moved in steps of {@link LIST_VERSION_STEP} (versions 1, 2, 3 …):
 * its versions are scaled up, so it loads and every version it now sends is positive. Chargers
 * holding an old number get a Full update once.
 */
function migrateUnsteppedSnapshot(
  version: number,
  entries: unknown[],
  history: unknown[],
  fail: (why: string) => never,
): { version: number; entries: unknown[]; history: IdTagListHistoryStep[] } {
  const steps = history.map((step: unknown, index): IdTagListHistoryStep => {
    const expected = version - history.length + index + 1;
    const { version: stepVersion, updates } = (step ?? {}) as Record<string, unknown>;
    if (stepVersion !== expected || expected < 1)
      return fail(`history[${index}] should be version ${expected}`);
    if (!Array.isArray(updates) || updates.length === 0) return fail(`history[${index}] has no updates`);
    return {
      version: expected * LIST_VERSION_STEP,
      updates: updates.map((update: unknown) => readUpdate(update, index, fail)),
    };
  });
  return { version: version * LIST_VERSION_STEP, entries, history: steps };
}

function readUpdate(update: unknown, index: number, fail: (why: string) => never): AuthorizationData {
  const where = `history[${index}]`;
  if (typeof update !== 'object' || update === null)
    return fail(`${where} has an update that is not an object`);
  const { idTag, idTagInfo } = update as Record<string, unknown>;
  if (typeof idTag !== 'string' || idTag === '') return fail(`${where} has an update without idTag`);
  if (idTagInfo === undefined) return { idTag };
  if (typeof idTagInfo !== 'object' || idTagInfo === null)
    return fail(`${where}: ${idTag} has a bad idTagInfo`);
  const { status, expiryDate, parentIdTag } = idTagInfo as Record<string, unknown>;
  if (typeof status !== 'string' || !(ID_TAG_STATUSES as readonly string[]).includes(status)) {
    return fail(`${where}: ${idTag} has a bad status`);
  }
  const info: IdTagInfo = { status: status as IdTagStatus };
  if (expiryDate !== undefined) {
    if (typeof expiryDate !== 'string') return fail(`${where}: ${idTag} has a bad expiryDate`);
    info.expiryDate = expiryDate;
  }
  if (parentIdTag !== undefined) {
    if (typeof parentIdTag !== 'string') return fail(`${where}: ${idTag} has a bad parentIdTag`);
    info.parentIdTag = parentIdTag;
  }
  return { idTag, idTagInfo: info };
}
