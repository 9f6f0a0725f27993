/**
 * Authorization answers between the versions: 1.6's idTagInfo (what the ledger and the id-tag list
 * record) and 2.0.1's idTokenInfo (what a 2.0.1 charger gets, and what a 2.0.1 backend decides).
 */

export interface IdTagInfo16 {
  status: string;
  expiryDate?: string;
  parentIdTag?: string;
}

/** The statuses both versions have; 2.0.1's others are Invalid in 1.6. */
const STATUSES_16 = new Set(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx']);

/** A 1.6 idTagInfo as the 2.0.1 idTokenInfo. */
export function idTokenInfo(info: IdTagInfo16): Record<string, unknown> {
  const out: Record<string, unknown> = { status: info.status };
  if (info.expiryDate !== undefined) out.cacheExpiryDateTime = info.expiryDate;
  if (info.parentIdTag !== undefined) out.groupIdToken = { idToken: info.parentIdTag, type: 'Central' };
  return out;
}

/**
 * A 2.0.1 idTokenInfo as the 1.6 idTagInfo: the statuses 2.0.1 adds (Unknown, NoCredit,
 * NotAllowedTypeEVSE, NotAtThisLocation, NotAtThisTime) are Invalid, and a group id token too long
 * for a 1.6 parentIdTag (20 characters) is left out.
 */
export function idTagInfoOf(info: Record<string, unknown> | undefined): IdTagInfo16 {
  const status = String(info?.status);
  const out: IdTagInfo16 = { status: STATUSES_16.has(status) ? status : 'Invalid' };
  if (typeof info?.cacheExpiryDateTime === 'string') out.expiryDate = info.cacheExpiryDateTime;
  const group = (info?.groupIdToken as { idToken?: unknown } | undefined)?.idToken;
  if (typeof group === 'string' && group.length <= 20) out.parentIdTag = group;
  return out;
}
