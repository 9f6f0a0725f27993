import type { IdTagInfo } from '../lib/ocpp/id-tags';
import type { OcppResponse } from '../lib/ocpp/messages';
import type { ConfigurationStore } from './configuration';
import { NotConnectedError } from './types';

/**
 * Whether an id tag may charge on the simulated charge point (3.5): who is asked, the central
 * system or the charge point's own local list and cache, and what holds while offline. The local
 * list and cache themselves are in local-authorization.ts; sessions (transactions.ts) ask here.
 */

/** Raised when an id tag is not authorized. */
export class AuthorizationError extends Error {
  constructor(
    readonly idTag: string,
    readonly status: IdTagInfo['status'],
  ) {
    super(`id tag ${idTag} not authorized: ${status}`);
    this.name = 'AuthorizationError';
  }
}

/** What deciding on an id tag reads of the charge point, each at the moment it is needed. */
export interface AuthorizeHost {
  readonly configuration: ConfigurationStore;
  isOnline(): boolean;
  /** The last BootNotification answered Accepted. */
  isAccepted(): boolean;
  /** Whether the central system has ever accepted the charge point since power-on (4.2.1). */
  everAccepted(): boolean;
  /** The local list or cache entry (local-authorization.ts). */
  localAuthorization(idTag: string): IdTagInfo | undefined;
  /** Sends Authorize.req. */
  callAuthorize(idTag: string): Promise<OcppResponse<'Authorize'>>;
  /** Updates the authorization cache from an answer. */
  remember(idTag: string, info: IdTagInfo): void;
}

/**
 * Authorizes an id tag: with the central system when online (unless LocalPreAuthorize and the
 * local list or cache accept it), else from the local list and cache (LocalAuthorizeOffline)
 * or AllowOfflineTxForUnknownId (3.5).
 */
export async function authorizeIdTag(host: AuthorizeHost, idTag: string): Promise<IdTagInfo> {
  const { configuration } = host;
  const local = host.localAuthorization(idTag);
  if (host.isOnline() && host.isAccepted()) {
    if (local?.status === 'Accepted' && configuration.bool('LocalPreAuthorize', false)) return local;
    try {
      const response = await host.callAuthorize(idTag);
      host.remember(idTag, response.idTagInfo);
      return response.idTagInfo;
    } catch (err) {
      if (!(err instanceof NotConnectedError) && host.isOnline()) throw err;
    }
  }
  if (!host.everAccepted()) return { status: 'Invalid' };
  if (local && configuration.bool('LocalAuthorizeOffline', true)) return local;
  if (!local && configuration.bool('AllowOfflineTxForUnknownId', false)) return { status: 'Accepted' };
  return { status: 'Invalid' };
}
