/**
 * How the SendLocalList.req messages that bring a charger's Local Authorization List (OCPP 1.6
 * §3.5.2) to the id-tag list's version are built: Differential updates from the list's change
 * history when the charger holds one of its past versions, otherwise a Full update, chunked to
 * the charger's SendLocalListMaxLength. The list and its history are lib/ocpp/id-tags.ts and
 * lib/ocpp/id-tag-history.ts.
 */
import {
  type AuthorizationData,
  copyUpdate,
  foldCase,
  type IdTagEntry,
  sortByKey,
  storedIdTagInfo,
} from './id-tag-entry';
import { type IdTagHistory, type IdTagListHistoryStep, LIST_VERSION_STEP } from './id-tag-history';
import type { SendLocalListRequest } from './messages';

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
export function localListUpdates(
  history: IdTagHistory,
  sortedEntries: () => IdTagEntry[],
  chargerVersion: number | undefined,
  maxEntriesPerMessage: number,
): SendLocalListRequest[] {
  if (!Number.isInteger(maxEntriesPerMessage) || maxEntriesPerMessage < 1) {
    throw new RangeError(
      `maxEntriesPerMessage must be a whole number of at least 1, not ${maxEntriesPerMessage}`,
    );
  }
  const version = history.version;
  if (chargerVersion === version || version === 0) return [];
  if (
    chargerVersion !== undefined &&
    Number.isInteger(chargerVersion) &&
    chargerVersion >= Math.max(LIST_VERSION_STEP, history.oldestDiffBase()) &&
    chargerVersion < version &&
    (version - chargerVersion) % LIST_VERSION_STEP === 0
  ) {
    const differential = differentialUpdates(
      history.stepsAfter(chargerVersion),
      chargerVersion,
      maxEntriesPerMessage,
    );
    if (differential) return differential;
  }
  return fullUpdates(version, sortedEntries(), maxEntriesPerMessage);
}

function differentialUpdates(
  steps: IdTagListHistoryStep[],
  fromVersion: number,
  max: number,
): SendLocalListRequest[] | undefined {
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
function fullUpdates(version: number, entries: IdTagEntry[], max: number): SendLocalListRequest[] {
  const all = entries.map((entry) => ({
    idTag: entry.idTag,
    idTagInfo: storedIdTagInfo(entry),
  }));
  const chunks: AuthorizationData[][] = [];
  for (let start = 0; start < all.length; start += max) chunks.push(all.slice(start, start + max));
  if (chunks.length <= 1) {
    return [{ listVersion: version, updateType: 'Full', localAuthorizationList: chunks[0] ?? [] }];
  }
  const versions = [...intermediateVersions(version, chunks.length - 1), version];
  return chunks.map((chunk, index) => ({
    listVersion: versions[index] ?? version,
    updateType: index === 0 ? 'Full' : 'Differential',
    localAuthorizationList: chunk,
  }));
}

/** Strictly increasing versions just below the list's own, never a whole list's (see {@link fullUpdates}). */
function intermediateVersions(version: number, count: number): number[] {
  if (count >= LIST_VERSION_STEP || version - count < 1) {
    throw new RangeError(
      `the list needs more than ${LIST_VERSION_STEP} SendLocalList messages; raise SendLocalListMaxLength`,
    );
  }
  return Array.from({ length: count }, (_, index) => version - count + index);
}

function differential(listVersion: number, updates: Map<string, AuthorizationData>): SendLocalListRequest {
  return {
    listVersion,
    updateType: 'Differential',
    localAuthorizationList: sortByKey([...updates.values()]).map(copyUpdate),
  };
}
