import type {
  AuthorizeResponse,
  MeterValuesRequest,
  StatusNotificationRequest,
  StopTransactionRequest,
} from '../../lib/ocpp/messages';
import { idTagInfoOf } from '../../lib/ocpp/v201/id-tokens';

/**
 * The simulator's OCPP 1.6 shapes as OCPP 2.0.1 writes them and back: the mirror image, for the
 * charger side, of what the central system's lib/ocpp/v201 reads. Pure functions, no state.
 * Charging profiles convert in the product's model (lib/ocpp/v201/charging-profiles.ts).
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

/** A 2.0.1 idTokenInfo as the 1.6 idTagInfo (the product's reading, lib/ocpp/v201/id-tokens.ts); undefined for none. */
export function idTagInfo16(info: Json | undefined): IdTagInfo16 | undefined {
  return info ? (idTagInfoOf(info) as IdTagInfo16) : undefined;
}
