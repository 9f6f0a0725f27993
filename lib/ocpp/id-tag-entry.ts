/**
 * What one id-tag entry is and how it is spelled: the entry and AuthorizationData types, the
 * case fold and sort order that key the list, byte-order variants of hex card UIDs, and the
 * validation that turns an entry as typed (by a person, a flow or a snapshot) into a clean copy.
 * The list itself is lib/ocpp/id-tags.ts.
 */
import { ConfigError } from '../config-error';
import type { AuthorizeResponse, SendLocalListRequest } from './messages';

/** IdTagInfo as sent in Authorize.conf, StartTransaction.conf and SendLocalList.req (§7.27). */
export type IdTagInfo = AuthorizeResponse['idTagInfo'];

/** One entry of SendLocalList.req's localAuthorizationList (§7.1 AuthorizationData). */
export type AuthorizationData = NonNullable<SendLocalListRequest['localAuthorizationList']>[number];

/** The statuses a stored tag can have; ConcurrentTx is decided by the caller (see lib/ocpp/id-tags.ts). */
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
export function foldCase(idTag: string): string {
  return idTag.replace(/[a-z]/g, (letter) => letter.toUpperCase());
}

export function compareKeys(a: string, b: string): number {
  const ka = foldCase(a);
  const kb = foldCase(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function sortByKey<T extends { idTag: string }>(items: T[]): T[] {
  return items.sort((a, b) => compareKeys(a.idTag, b.idTag));
}

export function storedIdTagInfo(entry: IdTagEntry): IdTagInfo {
  const info: IdTagInfo = { status: entry.status };
  if (entry.expiryDate !== undefined) info.expiryDate = entry.expiryDate;
  if (entry.parentIdTag !== undefined) info.parentIdTag = entry.parentIdTag;
  return info;
}

export function copyUpdate(update: AuthorizationData): AuthorizationData {
  return update.idTagInfo
    ? { idTag: update.idTag, idTagInfo: { ...update.idTagInfo } }
    : { idTag: update.idTag };
}

export function tagField(idTag: string): string {
  return `idTags[${JSON.stringify(idTag)}]`;
}

/** Optional text fields: an editor form sends "" or null for an empty box. */
function optionalText(value: unknown): unknown {
  return value === '' || value === null ? undefined : value;
}

/** Validates one entry as typed (by a person, a flow or a snapshot) and returns a clean copy. */
export function parseEntry(raw: unknown, index: number): IdTagEntry {
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
