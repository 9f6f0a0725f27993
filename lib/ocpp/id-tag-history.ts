/**
 * The id-tag list's version and its bounded change history: how far the version moves per
 * change, what each version step changed (as a Differential SendLocalList.req would carry it),
 * and how much of that history is kept. The entries themselves are lib/ocpp/id-tags.ts's.
 */
import { ConfigError } from '../config-error';
import { type AuthorizationData, compareKeys, copyUpdate } from './id-tag-entry';

/**
 * How far the list version moves per change. The numbers in between label the messages of a Full
 * update sent in several parts (see lib/ocpp/local-list-updates.ts): a charger that stops
 * half-way holds a number that was never the version of a whole list, so it gets a Full update
 * next time, and every version stays a positive, increasing number as chargers expect.
 */
export const LIST_VERSION_STEP = 1000;

const DEFAULT_MAX_HISTORY_VERSIONS = 100;
const DEFAULT_MAX_HISTORY_UPDATES = 5000;

export interface IdTagHistoryBounds {
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

/**
 * `version` starts at 0 (the value GetLocalListVersion.conf uses for an empty list, §5.10) and
 * grows by {@link LIST_VERSION_STEP} per {@link record}. The steps are kept oldest first, within
 * both bounds, so that a charger a few versions behind gets a Differential update.
 */
export class IdTagHistory {
  private readonly maxVersions: number;
  private readonly maxUpdates: number;
  private current = 0;
  private steps: IdTagListHistoryStep[] = [];

  constructor(bounds: IdTagHistoryBounds) {
    this.maxVersions = historyBound(
      'maxHistoryVersions',
      bounds.maxHistoryVersions,
      DEFAULT_MAX_HISTORY_VERSIONS,
    );
    this.maxUpdates = historyBound(
      'maxHistoryUpdates',
      bounds.maxHistoryUpdates,
      DEFAULT_MAX_HISTORY_UPDATES,
    );
  }

  get version(): number {
    return this.current;
  }

  /** Takes over a version and its steps as read from a snapshot, trimmed to this history's bounds. */
  restore(version: number, steps: IdTagListHistoryStep[]): void {
    this.current = version;
    this.steps = steps;
    this.trim();
  }

  /** Moves the version one step on; `updates` (not empty) are what the new version changed. */
  record(updates: AuthorizationData[]): void {
    this.current += LIST_VERSION_STEP;
    updates.sort((a, b) => compareKeys(a.idTag, b.idTag));
    this.steps.push({ version: this.current, updates });
    this.trim();
  }

  /** The kept steps that produced versions after `version`, oldest first. */
  stepsAfter(version: number): IdTagListHistoryStep[] {
    return this.steps.filter((step) => step.version > version);
  }

  /** The oldest version a Differential update can start from. */
  oldestDiffBase(): number {
    return this.current - this.steps.length * LIST_VERSION_STEP;
  }

  toJSON(): IdTagListHistoryStep[] {
    return this.steps.map((step) => ({ version: step.version, updates: step.updates.map(copyUpdate) }));
  }

  private trim(): void {
    let total = this.steps.reduce((sum, step) => sum + step.updates.length, 0);
    while (this.steps.length > this.maxVersions || total > this.maxUpdates) {
      total -= this.steps.shift()?.updates.length ?? 0;
    }
  }
}

function historyBound(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(field, `must be a whole number of at least 0, not ${value}`);
  }
  return value;
}
