import { ManualClock } from '../../lib/clock';
import type { SetChargingProfileRequest } from '../../lib/ocpp/messages';

/** Charging profiles as tests write them: an Absolute TxDefaultProfile unless told otherwise. */

export type ChargingProfile = SetChargingProfileRequest['csChargingProfiles'];

export type ProfileFields = Partial<ChargingProfile> & {
  /** [startPeriod, limit] pairs; one period of 16 A unless given. */
  limits?: [number, number][];
  unit?: 'A' | 'W';
  numberPhases?: number;
  /** When the schedule starts; when the simulators' ManualClock does unless given. */
  startSchedule?: string;
};

/** An Absolute TxDefaultProfile, id 1 at stack level 0, in A; other fields as given. */
export function chargingProfile(fields: ProfileFields = {}): ChargingProfile {
  const {
    limits = [[0, 16]],
    unit = 'A',
    numberPhases,
    startSchedule = new Date(new ManualClock().now()).toISOString(),
    ...rest
  } = fields;
  return {
    chargingProfileId: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: {
      startSchedule,
      chargingRateUnit: unit,
      chargingSchedulePeriod: limits.map(([startPeriod, limit]) => ({
        startPeriod,
        limit,
        ...(numberPhases === undefined ? {} : { numberPhases }),
      })),
    },
    ...rest,
  };
}
