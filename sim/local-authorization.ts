import type { IdTagInfo } from '../lib/ocpp/id-tags';
import type { ConfigurationStore } from './configuration';

/**
 * The simulated charge point's own authorization data (sim/station.ts, 3.5): the local list
 * and the bounded authorization cache, each only when its configuration key enables it.
 */
export interface LocalAuthorizationData {
  readonly configuration: ConfigurationStore;
  readonly localList: ReadonlyMap<string, IdTagInfo>;
  /** In eviction order: the entry used least recently first. */
  readonly authCache: Map<string, IdTagInfo>;
}

/** The local list entry (when enabled) or the cache entry (when enabled), with expiry applied. */
export function localAuthorization(
  data: LocalAuthorizationData,
  idTag: string,
  now: number,
): IdTagInfo | undefined {
  const { configuration, localList, authCache } = data;
  const expired = (info: IdTagInfo): IdTagInfo =>
    info.status === 'Accepted' && info.expiryDate && Date.parse(info.expiryDate) < now
      ? { ...info, status: 'Expired' }
      : info;
  const listed = configuration.bool('LocalAuthListEnabled', false) ? localList.get(idTag) : undefined;
  if (listed) return expired(listed);
  const cached = configuration.bool('AuthorizationCacheEnabled', false) ? authCache.get(idTag) : undefined;
  if (!cached) return undefined;
  // Used: it moves to the end of the eviction order.
  authCache.delete(idTag);
  authCache.set(idTag, cached);
  return expired(cached);
}

/** Updates the authorization cache from an IdTagInfo (3.5.1), unless the tag is on the local list (3.5.3). */
export function rememberIdTag(
  data: LocalAuthorizationData,
  idTag: string,
  info: IdTagInfo,
  size: number,
): void {
  const { configuration, localList, authCache } = data;
  if (!configuration.bool('AuthorizationCacheEnabled', false) || localList.has(idTag)) return;
  authCache.delete(idTag);
  authCache.set(idTag, info);
  for (const oldest of authCache.keys()) {
    if (authCache.size <= size) break;
    authCache.delete(oldest);
  }
}
