import type { GetCompositeScheduleResponse } from '../messages';
import { type ChargingRateUnit, type Limit, round1 } from './model';

/**
 * The composite schedule (1.6 section 3.13.3 and 5.7; 2.0.1 K08): the limits in force from a
 * moment on, as periods relative to it, in the unit asked for. The limits come from the store
 * (store.ts); this writes them as GetCompositeSchedule answers them, in the shared shape (1.6's);
 * lib/ocpp/v201/charging-profiles.ts writes the 2.0.1 answer from it.
 */

/** A schedule period of a composite schedule: a limit from `startPeriod` seconds on. */
export interface CompositePeriod {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
}

/**
 * The composite of connector `connectorId` from `fromMs` for `durationS` seconds, in `unit`: the
 * limit at each of `moments` (those within the duration at which a limit may change), a period
 * wherever it does change. A limit in A becomes W over the phases it allows at `voltageV`.
 */
export function compositeResponse(
  connectorId: number,
  fromMs: number,
  durationS: number,
  unit: ChargingRateUnit,
  voltageV: number,
  moments: Iterable<number>,
  limitAt: (atMs: number) => Limit,
): GetCompositeScheduleResponse {
  const points = new Set<number>([fromMs, ...moments]);
  const periods: CompositePeriod[] = [];
  for (const atMs of [...points].sort((a, b) => a - b)) {
    const limit = limitAt(atMs);
    const value = round1(unit === 'A' ? limit.currentA : limit.currentA * voltageV * limit.phases);
    const last = periods[periods.length - 1];
    if (last && last.limit === value && last.numberPhases === limit.numberPhases) continue;
    periods.push({
      startPeriod: Math.round((atMs - fromMs) / 1000),
      limit: value,
      ...(limit.numberPhases === undefined ? {} : { numberPhases: limit.numberPhases }),
    });
  }
  return {
    status: 'Accepted',
    connectorId,
    scheduleStart: new Date(fromMs).toISOString(),
    // Errata 3.57: startSchedule is omitted in a composite schedule; periods are relative to scheduleStart.
    chargingSchedule: { duration: durationS, chargingRateUnit: unit, chargingSchedulePeriod: periods },
  };
}
