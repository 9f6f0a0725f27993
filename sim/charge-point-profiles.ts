import { createRPCError } from 'ocpp-rpc';
import type { ChargingRateUnit, ProfileVerdict } from '../lib/ocpp/charging-profiles';
import type { OcppRequest } from '../lib/ocpp/messages';
import { type CommandHost, done, requireProfile } from './charge-point-commands';
import type { CommandOutcome } from './types';
import { profileRules, vendorRefusal } from './vendor-model';

/** The simulated charge point's smart charging commands (3.13, 5.5, 5.7, 5.16). */

export function setChargingProfile(
  host: CommandHost,
  request: OcppRequest<'SetChargingProfile'>,
): CommandOutcome<'SetChargingProfile'> {
  // Errata 3.39: no smart charging is CALLERROR NotSupported; an unknown connector PropertyConstraintViolation.
  requireProfile(host, 'SmartCharging', 'SetChargingProfile');
  const { connectorId, csChargingProfiles: profile } = request;
  if (connectorId !== 0 && !host.hasConnector(connectorId)) {
    throw createRPCError('PropertyConstraintViolation', `no connector ${connectorId}`);
  }
  const tx = connectorId === 0 ? undefined : host.transactionOf(host.connectorById(connectorId));
  const refusal = vendorRefusal(host.vendorBehaviour, profile);
  const verdict: ProfileVerdict = refusal
    ? { status: 'Rejected', reason: refusal }
    : host.profiles.check(connectorId, profile, profileRules(host.configuration, host.connectorCount), tx);
  if (verdict.status === 'Rejected') {
    host.log.info(
      `${host.identity}: SetChargingProfile ${profile.chargingProfileId} rejected: ${verdict.reason}`,
    );
    return done({ status: 'Rejected' });
  }
  const transactionKey = profile.chargingProfilePurpose === 'TxProfile' ? tx?.key : undefined;
  host.profiles.install(connectorId, profile, host.clock.now(), transactionKey);
  host.recompute();
  return done({ status: 'Accepted' });
}

export function clearChargingProfile(
  host: CommandHost,
  request: OcppRequest<'ClearChargingProfile'>,
): CommandOutcome<'ClearChargingProfile'> {
  requireProfile(host, 'SmartCharging', 'ClearChargingProfile');
  const cleared = host.profiles.clear(request, host.clock.now());
  host.recompute();
  return done({ status: cleared ? 'Accepted' : 'Unknown' });
}

export function getCompositeSchedule(
  host: CommandHost,
  request: OcppRequest<'GetCompositeSchedule'>,
): CommandOutcome<'GetCompositeSchedule'> {
  requireProfile(host, 'SmartCharging', 'GetCompositeSchedule');
  if (request.connectorId !== 0 && !host.hasConnector(request.connectorId))
    return done({ status: 'Rejected' });
  const unit: ChargingRateUnit = request.chargingRateUnit ?? 'A';
  return done(
    host.profiles.compositeSchedule(
      request.connectorId,
      host.clock.now(),
      request.duration,
      unit,
      host.limitContext(),
    ),
  );
}
