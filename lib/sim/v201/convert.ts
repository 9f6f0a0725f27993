import type {
  AuthorizeResponse,
  GetCompositeScheduleResponse,
  MeterValuesRequest,
  SetChargingProfileRequest,
  StatusNotificationRequest,
  StopTransactionRequest,
} from '../../ocpp/messages';

/**
 * The simulator's OCPP 1.6 shapes as OCPP 2.0.1 writes them and back: the mirror image, for the
 * charger side, of what the central system's lib/ocpp/v201 reads. Pure functions, no state.
 */

type Json = Record<string, unknown>;
type MeterValue = MeterValuesRequest['meterValue'][number];
export type IdTagInfo16 = AuthorizeResponse['idTagInfo'];

// ---- Meter values ------------------------------------------------------------------------

/** 1.6 measurands OCPP 2.0.1 has no MeasurandEnumType value for (Temperature and RPM are gone). */
const NO_MEASURAND_201 = new Set(['Temperature', 'RPM']);

/**
 * 1.6 meter values as 2.0.1 writes them: a number with a unitOfMeasure instead of a decimal string
 * with a unit. Frequency, unit-less in 1.6 (Hz by definition), gets `Hz`: 2.0.1's default unit is
 * Wh. Values of measurands 2.0.1 lacks are left out, and a meter value left empty with them.
 */
export function meterValuesTo201(values: readonly MeterValue[]): Json[] {
  const out: Json[] = [];
  for (const value of values) {
    const sampledValue: Json[] = [];
    for (const sampled of value.sampledValue) {
      if (sampled.measurand && NO_MEASURAND_201.has(sampled.measurand)) continue;
      const item: Json = { value: Number(sampled.value) };
      if (sampled.context !== undefined) item.context = sampled.context;
      if (sampled.measurand !== undefined) item.measurand = sampled.measurand;
      if (sampled.phase !== undefined) item.phase = sampled.phase;
      if (sampled.location !== undefined) item.location = sampled.location;
      const unit = sampled.unit ?? (sampled.measurand === 'Frequency' ? 'Hz' : undefined);
      if (unit !== undefined) item.unitOfMeasure = { unit: unit === 'Celcius' ? 'Celsius' : unit };
      sampledValue.push(item);
    }
    if (sampledValue.length > 0) out.push({ timestamp: value.timestamp, sampledValue });
  }
  return out;
}

/** The energy register, Wh, as a 2.0.1 meter value of `context`. */
export function registerValue201(timestamp: string, energyWh: number, context: string): Json {
  return {
    timestamp,
    sampledValue: [
      {
        value: energyWh,
        context,
        measurand: 'Energy.Active.Import.Register',
        unitOfMeasure: { unit: 'Wh' },
      },
    ],
  };
}

/** The newest phase-less energy register among 2.0.1 meter values (in their order), Wh. */
export function lastRegister201(values: readonly Json[]): number | undefined {
  let found: number | undefined;
  for (const value of values) {
    for (const sampled of value.sampledValue as Json[]) {
      const measurand = (sampled.measurand as string | undefined) ?? 'Energy.Active.Import.Register';
      if (measurand === 'Energy.Active.Import.Register' && sampled.phase === undefined)
        found = sampled.value as number;
    }
  }
  return found;
}

/** The reading context of the first sampled value, which names why the values were taken. */
export function contextOf(values: readonly MeterValue[]): string | undefined {
  return values[0]?.sampledValue[0]?.context;
}

// ---- Status ------------------------------------------------------------------------------

type Status16 = StatusNotificationRequest['status'];

/**
 * A connector's 1.6 status as the 2.0.1 connectorStatus: what 1.6 says of the session (Preparing,
 * Charging, Suspended*, Finishing) is, for the connector, whether a cable is in it.
 */
export function connectorStatus201(status: Status16, plugged: boolean): string {
  switch (status) {
    case 'Available':
    case 'Reserved':
    case 'Unavailable':
    case 'Faulted':
      return status;
    default:
      return plugged ? 'Occupied' : 'Available';
  }
}

/** The 2.0.1 chargingState of a transaction whose connector has this 1.6 status. */
export function chargingState201(status: Status16, plugged: boolean): string {
  if (!plugged) return 'Idle';
  switch (status) {
    case 'Charging':
    case 'SuspendedEV':
    case 'SuspendedEVSE':
      return status;
    default:
      return 'EVConnected';
  }
}

// ---- Transactions ------------------------------------------------------------------------

type StopReason16 = NonNullable<StopTransactionRequest['reason']>;

/** 1.6 stop reason → 2.0.1 stoppedReason and the triggerReason of the Ended event. */
const STOP_REASONS: Record<StopReason16, { stoppedReason: string; triggerReason: string }> = {
  DeAuthorized: { stoppedReason: 'DeAuthorized', triggerReason: 'Deauthorized' },
  EmergencyStop: { stoppedReason: 'EmergencyStop', triggerReason: 'AbnormalCondition' },
  EVDisconnected: { stoppedReason: 'EVDisconnected', triggerReason: 'EVCommunicationLost' },
  HardReset: { stoppedReason: 'ImmediateReset', triggerReason: 'ResetCommand' },
  Local: { stoppedReason: 'Local', triggerReason: 'StopAuthorized' },
  Other: { stoppedReason: 'Other', triggerReason: 'AbnormalCondition' },
  PowerLoss: { stoppedReason: 'PowerLoss', triggerReason: 'AbnormalCondition' },
  Reboot: { stoppedReason: 'Reboot', triggerReason: 'AbnormalCondition' },
  Remote: { stoppedReason: 'Remote', triggerReason: 'RemoteStop' },
  SoftReset: { stoppedReason: 'Reboot', triggerReason: 'ResetCommand' },
  UnlockCommand: { stoppedReason: 'Other', triggerReason: 'UnlockCommand' },
};

export function stopReason201(reason: StopReason16 | undefined): {
  stoppedReason: string;
  triggerReason: string;
} {
  return STOP_REASONS[reason ?? 'Local'];
}

/** What a TransactionEvent Updated from a MeterValues of this context was triggered by. */
export function meterTrigger201(context: string | undefined): string {
  if (context === 'Sample.Clock') return 'MeterValueClock';
  if (context === 'Trigger') return 'Trigger';
  return 'MeterValuePeriodic';
}

// ---- Authorization -----------------------------------------------------------------------

const STATUSES_16 = new Set(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx']);

/**
 * A 2.0.1 idTokenInfo as the 1.6 idTagInfo: the statuses 2.0.1 adds (Unknown, NoCredit,
 * NotAllowedTypeEVSE, NotAtThisLocation, NotAtThisTime) are Invalid, a group id token too long
 * for a 1.6 parentIdTag is left out.
 */
export function idTagInfo16(info: Json | undefined): IdTagInfo16 | undefined {
  if (!info) return undefined;
  const status = String(info.status);
  const out: IdTagInfo16 = {
    status: (STATUSES_16.has(status) ? status : 'Invalid') as IdTagInfo16['status'],
  };
  if (typeof info.cacheExpiryDateTime === 'string') out.expiryDate = info.cacheExpiryDateTime;
  const group = (info.groupIdToken as { idToken?: string } | undefined)?.idToken;
  if (group !== undefined && group.length <= 20) out.parentIdTag = group;
  return out;
}

// ---- Smart charging ----------------------------------------------------------------------

type Profile16 = SetChargingProfileRequest['csChargingProfiles'];

/** 2.0.1 limits are any number; 1.6 wants multiples of 0.1 (rounded down, never above the limit). */
function tenths(value: number): number {
  return Math.floor(value * 10 + 1e-9) / 10;
}

export function purposeTo16(purpose: string): Profile16['chargingProfilePurpose'] | undefined {
  if (purpose === 'ChargingStationMaxProfile') return 'ChargePointMaxProfile';
  if (purpose === 'TxDefaultProfile' || purpose === 'TxProfile') return purpose;
  // ChargingStationExternalConstraints: limits of an energy management system, no 1.6 counterpart.
  return undefined;
}

/**
 * A 2.0.1 chargingProfile as the 1.6 csChargingProfiles: the first schedule (2.0.1 allows three
 * for ISO 15118 offers), without schedule id, phaseToUse and salesTariff; the transaction by the
 * simulator's number. Undefined when it cannot be one (external constraints, a transaction the
 * simulator does not know).
 */
export function profileTo16(profile: Json, transactionId: number | undefined): Profile16 | undefined {
  const purpose = purposeTo16(String(profile.chargingProfilePurpose));
  const schedule = (profile.chargingSchedule as Json[])[0];
  if (!purpose || !schedule) return undefined;
  if (profile.transactionId !== undefined && transactionId === undefined) return undefined;
  const periods = (schedule.chargingSchedulePeriod as Json[]).map((period) => ({
    startPeriod: period.startPeriod as number,
    limit: tenths(period.limit as number),
    ...(period.numberPhases === undefined ? {} : { numberPhases: period.numberPhases as number }),
  }));
  const chargingSchedule: Profile16['chargingSchedule'] = {
    chargingRateUnit: schedule.chargingRateUnit as 'A' | 'W',
    chargingSchedulePeriod: periods,
  };
  if (schedule.duration !== undefined) chargingSchedule.duration = schedule.duration as number;
  if (schedule.startSchedule !== undefined) chargingSchedule.startSchedule = schedule.startSchedule as string;
  if (schedule.minChargingRate !== undefined)
    chargingSchedule.minChargingRate = tenths(schedule.minChargingRate as number);
  const out: Profile16 = {
    chargingProfileId: profile.id as number,
    stackLevel: profile.stackLevel as number,
    chargingProfilePurpose: purpose,
    chargingProfileKind: profile.chargingProfileKind as Profile16['chargingProfileKind'],
    chargingSchedule,
  };
  if (transactionId !== undefined) out.transactionId = transactionId;
  if (profile.recurrencyKind !== undefined)
    out.recurrencyKind = profile.recurrencyKind as Profile16['recurrencyKind'];
  if (profile.validFrom !== undefined) out.validFrom = profile.validFrom as string;
  if (profile.validTo !== undefined) out.validTo = profile.validTo as string;
  return out;
}

/** A 1.6 composite schedule as the 2.0.1 answer (its `schedule`: evseId, duration, scheduleStart required). */
export function compositeTo201(
  response: GetCompositeScheduleResponse,
  evseId: number,
  durationS: number,
  nowIso: string,
): Json {
  const schedule = response.chargingSchedule;
  if (response.status !== 'Accepted' || !schedule || schedule.chargingSchedulePeriod.length === 0)
    return { status: 'Rejected' };
  return {
    status: 'Accepted',
    schedule: {
      evseId,
      duration: schedule.duration ?? durationS,
      scheduleStart: response.scheduleStart ?? schedule.startSchedule ?? nowIso,
      chargingRateUnit: schedule.chargingRateUnit,
      chargingSchedulePeriod: schedule.chargingSchedulePeriod.map((period) => ({ ...period })),
    },
  };
}
