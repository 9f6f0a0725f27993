/**
 * Profiles that end on their own (7.8 `validTo`): when one is due to be re-sent, and when the
 * charger's refresh timer fires. Pure functions; lib/profiles/offline-fallback.ts owns the rule.
 */

/** A profile that ends at `validToMs` is re-sent once less than half of `afterMs` is left. */
export function refreshDue(validToMs: number | undefined, nowMs: number, afterMs: number): boolean {
  return validToMs !== undefined && nowMs >= validToMs - afterMs / 2;
}

/**
 * Where in the first quarter of the refresh window a charger's refreshes go, ms: the same for a
 * charger every time, different between chargers, so a car park's profiles do not all go at once.
 */
export function spreadMs(chargePointId: string, afterMs: number): number {
  let hash = 2166136261;
  for (let i = 0; i < chargePointId.length; i++) {
    hash ^= chargePointId.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return ((hash >>> 0) / 2 ** 32) * (afterMs / 4);
}
