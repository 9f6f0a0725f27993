import { createRPCError } from 'ocpp-rpc';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { LimitContext } from '../lib/ocpp/charging-profiles';
import type { OcppRequest, OcppResponse } from '../lib/ocpp/messages';
import type { CertificateStore } from './certificate-store';
import type { TriggerHost } from './charge-point-triggers';
import type { ConfigurationStore } from './configuration';
import type { Connector, IdTagInfo, Reservation, StopReason } from './station';
import type { StartOptions } from './transactions';
import type { CommandOutcome, CsAction, StatusEvent, TlsOptions, VendorBehaviour } from './types';
import { profileRules, vendorRefusal } from './vendor-model';
import type { VendorProfileStore } from './vendor-profile-store';

/**
 * The simulated charge point's commands on its connectors (sim/charge-point.ts): availability
 * and unlocking, reservations, the local authorization list, remote start and stop. Each takes the
 * charge point's state through {@link CommandHost}.
 */

/** The charge point state and services its commands use (these, and those of charge-point-config.ts, -profiles.ts and -triggers.ts). */
export interface CommandHost extends TriggerHost {
  readonly clock: Clock;
  readonly configuration: ConfigurationStore;
  readonly identity: string;
  readonly log: Logger;
  readonly vendorBehaviour: Readonly<VendorBehaviour>;
  readonly profiles: VendorProfileStore;
  readonly connectors: readonly Connector[];
  readonly connectorCount: number;
  readonly reservations: Map<number, Reservation>;
  readonly authCache: Map<string, IdTagInfo>;
  localList: Map<string, IdTagInfo>;
  localListVersion: number;
  chargePointAvailability: 'Operative' | 'Inoperative';
  connectorById(connectorId: number): Connector;
  transactionById(transactionId: number): Connector | undefined;
  canStartOn(c: Connector): boolean;
  isInoperative(c: Connector): boolean;
  statusOf(connectorId: number): StatusEvent;
  reservationBlocking(
    c: Connector,
    idTag: string,
    parentIdTag: string | undefined,
  ): Reservation | 'blocked' | undefined;
  endReservation(reservationId: number): void;
  startTransaction(connectorId: number, idTag: string, options: StartOptions): Promise<unknown>;
  finishTransaction(c: Connector, reason: StopReason): void;
  recompute(): void;
  // For ChangeConfiguration and the smart charging commands.
  readonly certificates: CertificateStore;
  readonly endpoint: string;
  readonly tls: TlsOptions | undefined;
  hasClientCertificate(): boolean;
  transactionOf(c: Connector): { key: number; transactionId?: number } | undefined;
  limitContext(): LimitContext;
  rearmHeartbeat(): void;
  restartAlignedTimer(): void;
  applyTimings(): void;
  applyLocalCap(): void;
  securityLog(type: string, techInfo?: string): void;
  reconnectNow(): Promise<void>;
}

/** A command of a feature profile this charger does not announce is CALLERROR NotSupported. */
export function requireProfile(host: CommandHost, profile: string, action: string): void {
  if (!host.supports(profile))
    throw createRPCError('NotSupported', `${action}: feature profile ${profile} is not supported`);
}

export const done = <A extends CsAction>(response: OcppResponse<A>, after?: () => void): CommandOutcome<A> =>
  after ? { response, after } : { response };

// ---- Availability -------------------------------------------------------------------------

export function changeAvailability(
  host: CommandHost,
  request: OcppRequest<'ChangeAvailability'>,
): CommandOutcome<'ChangeAvailability'> {
  const { connectorId, type } = request;
  if (connectorId !== 0 && !host.hasConnector(connectorId)) return done({ status: 'Rejected' });
  // "In the case the ChangeAvailability.req contains ConnectorId = 0, the status change applies to the Charge Point and all Connectors" (5.2).
  const targets = connectorId === 0 ? host.connectors : [host.connectorById(connectorId)];
  const already =
    targets.every((c) => (c.scheduledAvailability ?? c.availability) === type) &&
    (connectorId !== 0 || host.chargePointAvailability === type);
  if (already) return done({ status: 'Accepted' });
  let scheduled = false;
  for (const c of targets) {
    if (type === 'Inoperative' && c.transaction) {
      // "When a transaction is in progress Charge Point SHALL respond with availability status 'Scheduled'" (5.2).
      c.scheduledAvailability = 'Inoperative';
      scheduled = true;
    } else {
      c.availability = type;
      c.scheduledAvailability = undefined;
    }
  }
  if (connectorId === 0) host.chargePointAvailability = type;
  host.recompute();
  return done({ status: scheduled ? 'Scheduled' : 'Accepted' });
}

export function unlockConnector(
  host: CommandHost,
  request: OcppRequest<'UnlockConnector'>,
): CommandOutcome<'UnlockConnector'> {
  // Errata 3.85: an unknown connector is NotSupported.
  if (!host.hasConnector(request.connectorId)) return done({ status: 'NotSupported' });
  const c = host.connectorById(request.connectorId);
  // 5.18: "If there was a transaction in progress on the specific connector, then Charge Point SHALL finish the transaction first".
  if (c.transaction) {
    host.finishTransaction(c, 'UnlockCommand');
    host.recompute();
  }
  return done({ status: 'Unlocked' });
}

// ---- Reservations -------------------------------------------------------------------------

export function cancelReservation(
  host: CommandHost,
  request: OcppRequest<'CancelReservation'>,
): CommandOutcome<'CancelReservation'> {
  if (!host.supports('Reservation') || !host.reservations.has(request.reservationId)) {
    return done({ status: 'Rejected' });
  }
  host.endReservation(request.reservationId);
  host.recompute();
  return done({ status: 'Accepted' });
}

export function reserveNow(
  host: CommandHost,
  request: OcppRequest<'ReserveNow'>,
): CommandOutcome<'ReserveNow'> {
  const { connectorId, reservationId } = request;
  if (!host.supports('Reservation')) return done({ status: 'Rejected' });
  if (connectorId === 0 && !host.configuration.bool('ReserveConnectorZeroSupported', false)) {
    return done({ status: 'Rejected' });
  }
  if (connectorId !== 0 && !host.hasConnector(connectorId)) return done({ status: 'Rejected' });
  const expiryMs = Date.parse(request.expiryDate);
  if (!(expiryMs > host.clock.now())) return done({ status: 'Rejected' });
  // "If the reservationId in the request matches a reservation in the Charge Point, then the Charge Point SHALL replace that reservation" (5.13).
  const replacing = host.reservations.get(reservationId);
  const others = [...host.reservations.values()].filter((r) => r.reservationId !== reservationId);
  if (connectorId === 0) {
    if (host.statusOf(0).status === 'Faulted') return done({ status: 'Faulted' });
    if (host.chargePointAvailability === 'Inoperative') return done({ status: 'Unavailable' });
    const free = host.connectors.filter(
      (c) => host.canStartOn(c) && !c.ev && !others.some((r) => r.connectorId === c.id),
    );
    if (free.length === 0 || others.some((r) => r.connectorId === 0)) return done({ status: 'Occupied' });
  } else {
    const c = host.connectorById(connectorId);
    if (c.fault) return done({ status: 'Faulted' });
    if (host.isInoperative(c)) return done({ status: 'Unavailable' });
    const occupied =
      c.transaction ||
      c.ev ||
      c.finishing ||
      c.pendingStart ||
      others.some((r) => r.connectorId === connectorId);
    if (occupied) return done({ status: 'Occupied' });
  }
  if (replacing) host.endReservation(reservationId);
  const timer = host.clock.setTimeout(() => {
    // "When a reservation expires, the Charge Point SHALL terminate the reservation and make the connector available" (5.13).
    if (host.reservations.get(reservationId)?.timer !== timer) return;
    host.reservations.delete(reservationId);
    host.recompute();
  }, expiryMs - host.clock.now());
  host.reservations.set(reservationId, {
    reservationId,
    connectorId,
    idTag: request.idTag,
    ...(request.parentIdTag ? { parentIdTag: request.parentIdTag } : {}),
    expiryMs,
    timer,
  });
  host.recompute();
  return done({ status: 'Accepted' });
}

// ---- Local authorization list -------------------------------------------------------------

export function sendLocalList(
  host: CommandHost,
  request: OcppRequest<'SendLocalList'>,
): CommandOutcome<'SendLocalList'> {
  if (!host.supports('LocalAuthListManagement')) return done({ status: 'NotSupported' });
  const entries = request.localAuthorizationList ?? [];
  // Errata 3.52: listVersion is never 0 or -1; 6.41: idTags are unique.
  const failed =
    request.listVersion <= 0 ||
    entries.length > host.configuration.int('SendLocalListMaxLength', 1) ||
    new Set(entries.map((e) => e.idTag)).size !== entries.length;
  if (failed) return done({ status: 'Failed' });
  let next: Map<string, IdTagInfo>;
  if (request.updateType === 'Full') {
    next = new Map(entries.filter((e) => e.idTagInfo).map((e) => [e.idTag, e.idTagInfo as IdTagInfo]));
  } else {
    // 7.47 VersionMismatch: a differential update whose version is not above the current one.
    if (request.listVersion <= host.localListVersion) return done({ status: 'VersionMismatch' });
    next = new Map(host.localList);
    for (const entry of entries) {
      if (entry.idTagInfo) next.set(entry.idTag, entry.idTagInfo);
      else next.delete(entry.idTag);
    }
  }
  if (next.size > host.configuration.int('LocalAuthListMaxLength', 0)) return done({ status: 'Failed' });
  host.localList = next;
  host.localListVersion = request.listVersion;
  // 3.5.3: identifiers on the local list are not kept in the cache.
  for (const idTag of next.keys()) host.authCache.delete(idTag);
  return done({ status: 'Accepted' });
}

export function clearCache(host: CommandHost): CommandOutcome<'ClearCache'> {
  // Errata 3.23: without an authorization cache, Rejected.
  if (!host.configuration.has('AuthorizationCacheEnabled')) return done({ status: 'Rejected' });
  host.authCache.clear();
  return done({ status: 'Accepted' });
}

export function getLocalListVersion(host: CommandHost): CommandOutcome<'GetLocalListVersion'> {
  // 5.10: -1 when not supported, 0 when the list is empty.
  if (!host.supports('LocalAuthListManagement')) return done({ listVersion: -1 });
  return done({ listVersion: host.localList.size === 0 ? 0 : host.localListVersion });
}

// ---- Remote start and stop ----------------------------------------------------------------

export function remoteStart(
  host: CommandHost,
  request: OcppRequest<'RemoteStartTransaction'>,
): CommandOutcome<'RemoteStartTransaction'> {
  const reject = done<'RemoteStartTransaction'>({ status: 'Rejected' });
  // 4.2: "While in pending state, the following Central System initiated messages are not allowed".
  if (host.registration === 'Pending') return reject;
  let profile = request.chargingProfile;
  if (profile && host.vendorBehaviour.rejectProfileInRemoteStart) {
    // What evcc #6882 reports from Wallbox: "ProtocolError - validation of RemoteStartTransaction failed".
    throw createRPCError('ProtocolError', 'validation of RemoteStartTransaction failed');
  }
  if (profile && !host.supports('SmartCharging')) {
    // "If a Charge Point without support for Smart Charging receives ... this parameter SHOULD be ignored" (5.11).
    profile = undefined;
  }
  if (profile) {
    // 5.16.2: TxProfile, and no transactionId.
    if (profile.chargingProfilePurpose !== 'TxProfile' || profile.transactionId !== undefined) return reject;
    if (vendorRefusal(host.vendorBehaviour, profile)) return reject;
    const rules = profileRules(host.configuration, host.connectorCount);
    const verdict = host.profiles.check(1, profile, rules, { key: -1 });
    if (verdict.status !== 'Accepted') return reject;
  }
  const candidates =
    request.connectorId === undefined
      ? [...host.connectors].sort((a, b) => Number(!!b.ev) - Number(!!a.ev))
      : host.hasConnector(request.connectorId)
        ? [host.connectorById(request.connectorId)]
        : [];
  const c = candidates.find(
    (candidate) =>
      host.canStartOn(candidate) &&
      host.reservationBlocking(candidate, request.idTag, undefined) !== 'blocked',
  );
  if (!c) return reject;
  return done({ status: 'Accepted' }, () => {
    // 5.11: with AuthorizeRemoteTxRequests the id tag is authorized as for a local start.
    const authorize = host.configuration.bool('AuthorizeRemoteTxRequests', false);
    host
      .startTransaction(c.id, request.idTag, {
        authorize,
        ...(profile ? { chargingProfile: profile } : {}),
      })
      .catch((err: Error) =>
        host.log.warn(`${host.identity}: remote start on connector ${c.id} failed: ${err.message}`),
      );
  });
}

export function remoteStop(
  host: CommandHost,
  request: OcppRequest<'RemoteStopTransaction'>,
): CommandOutcome<'RemoteStopTransaction'> {
  // 4.2: RemoteStopTransaction is not allowed while Pending.
  if (host.registration === 'Pending') return done({ status: 'Rejected' });
  const c = host.transactionById(request.transactionId);
  if (!c) return done({ status: 'Rejected' });
  return done({ status: 'Accepted' }, () => {
    if (c.transaction?.transactionId === request.transactionId) {
      host.finishTransaction(c, 'Remote');
      host.recompute();
    }
  });
}
