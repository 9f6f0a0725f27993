/**
 * Reading an id-tag list snapshot back: the structural check of what IdTagList.toJSON
 * wrote, and the migration of lists saved before versions moved in steps of
 * {@link LIST_VERSION_STEP}. The entries are checked separately, as an upsert would
 * (lib/ocpp/id-tags.ts).
 */
import {
  type AuthorizationData,
  ID_TAG_STATUSES,
  type IdTagEntry,
  type IdTagInfo,
  type IdTagStatus,
} from './id-tag-entry';
import { type IdTagListHistoryStep, LIST_VERSION_STEP } from './id-tag-history';

/** The JSON form of a list: `JSON.parse(JSON.stringify(list))` is one of these. */
export interface IdTagListSnapshot {
  version: number;
  entries: IdTagEntry[];
  /** Oldest first; versions {@link LIST_VERSION_STEP} apart, ending at `version`. */
  history: IdTagListHistoryStep[];
}

/** Structural check of a snapshot; entries are checked separately, as an upsert would. */
export function readSnapshot(snapshot: unknown): {
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
