import type { ClearCriteria, InstalledProfile, ModelProfile, ProfileRules, ProfileVerdict } from './model';

/**
 * Whether a charge point takes a profile (SetChargingProfile, or the profile of a remote start) and
 * which installed ones it replaces or a clear removes: 3.13.1, 5.16.3 and the errata. The rules of
 * 2.0.1 that differ (K01) are in lib/ocpp/v201/charging-profiles.ts.
 */

/**
 * Checks a profile against the charge point's capabilities and state. `transaction` is the one
 * running on the connector; `installed` what the charge point has now.
 */
export function checkProfile(
  connectorId: number,
  profile: ModelProfile,
  rules: ProfileRules,
  installed: readonly InstalledProfile[],
  transaction?: { key: number; transactionId?: number },
): ProfileVerdict {
  const reject = (reason: string): ProfileVerdict => ({ status: 'Rejected', reason });
  const schedule = profile.chargingSchedule;
  const periods = schedule.chargingSchedulePeriod;
  switch (profile.chargingProfilePurpose) {
    case 'ChargePointMaxProfile':
      // "ChargePointMaxProfile can only be set at Charge Point ConnectorId 0" (3.13.1).
      if (connectorId !== 0) return reject('ChargePointMaxProfile is only allowed on connector 0');
      break;
    case 'TxProfile':
      // "TxProfile SHALL only be set at Charge Point ConnectorId >0" and only with a transaction (3.13.1).
      if (connectorId === 0) return reject('TxProfile is not allowed on connector 0');
      if (!transaction) return reject(`no transaction on connector ${connectorId}`);
      // A transaction whose id has not been read yet is the one the profile names: a charger reads
      // its StartTransaction answer before the next frame, the simulator a moment after.
      if (
        profile.transactionId !== undefined &&
        transaction.transactionId !== undefined &&
        profile.transactionId !== transaction.transactionId
      ) {
        return reject(`transaction ${profile.transactionId} is not the one on connector ${connectorId}`);
      }
      break;
    default:
  }
  if (profile.stackLevel < 0 || profile.stackLevel > rules.maxStackLevel) {
    return reject(
      `stackLevel ${profile.stackLevel} is above ChargeProfileMaxStackLevel ${rules.maxStackLevel}`,
    );
  }
  if (!rules.allowedUnits.has(schedule.chargingRateUnit)) {
    return reject(`chargingRateUnit ${schedule.chargingRateUnit} is not allowed here`);
  }
  if (periods.length === 0 || periods.length > rules.maxPeriods) {
    return reject(`${periods.length} periods; ChargingScheduleMaxPeriods is ${rules.maxPeriods}`);
  }
  // "The startPeriod of the first ChargingSchedulePeriod in a ChargingSchedule SHALL always be 0" (errata 3.45).
  if (periods[0]?.startPeriod !== 0) return reject('the first period must start at 0');
  for (let i = 1; i < periods.length; i++) {
    if ((periods[i]?.startPeriod ?? 0) <= (periods[i - 1]?.startPeriod ?? 0)) {
      return reject('startPeriod values must increase');
    }
  }
  if (periods.some((period) => period.limit < 0)) return reject('a limit is negative');
  if (profile.chargingProfileKind === 'Recurring') {
    if (!profile.recurrencyKind) return reject('a Recurring profile needs recurrencyKind');
    if (!schedule.startSchedule) return reject('a Recurring profile needs startSchedule');
  } else if (profile.recurrencyKind) {
    // Errata 3.56: recurrencyKind "SHALL only be used when ... Recurring".
    return reject('recurrencyKind is only for Recurring profiles');
  }
  if (profile.validFrom && profile.validTo && Date.parse(profile.validTo) <= Date.parse(profile.validFrom)) {
    return reject('validTo is not after validFrom');
  }
  const remaining = installed.filter((other) => !replaces(connectorId, profile, other));
  if (remaining.length + 1 > rules.maxInstalled) {
    return reject(`MaxChargingProfilesInstalled (${rules.maxInstalled}) reached`);
  }
  return { status: 'Accepted' };
}

/**
 * Whether `incoming`, set on `connectorId`, replaces `installed`: the same chargingProfileId, or the
 * same purpose and stackLevel on the same connector (5.16.3; keyed per connector so that a
 * connector's own TxDefaultProfile leaves connector 0's in place, 3.13.1).
 */
export function replaces(connectorId: number, incoming: ModelProfile, installed: InstalledProfile): boolean {
  if (installed.profile.chargingProfileId === incoming.chargingProfileId) return true;
  return (
    installed.connectorId === connectorId &&
    installed.profile.chargingProfilePurpose === incoming.chargingProfilePurpose &&
    installed.profile.stackLevel === incoming.stackLevel
  );
}

/**
 * Whether a ClearChargingProfile removes `installed`, with errata 3.25/3.26 semantics: an id clears
 * that profile only; otherwise every profile that matches all given fields; no field at all clears
 * everything.
 */
export function clears(request: ClearCriteria, installed: InstalledProfile): boolean {
  if (request.id !== undefined) return installed.profile.chargingProfileId === request.id;
  return (
    (request.connectorId === undefined || installed.connectorId === request.connectorId) &&
    (request.chargingProfilePurpose === undefined ||
      installed.profile.chargingProfilePurpose === request.chargingProfilePurpose) &&
    (request.stackLevel === undefined || installed.profile.stackLevel === request.stackLevel)
  );
}
