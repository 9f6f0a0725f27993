/**
 * Where the PV surplus the cars could have taken went instead, for the PV day figures: each second
 * the shortfall (what the cars could have taken of the surplus minus what they took) is put down to
 * the first pv car (in site order) that is held back, by what holds it, read from its set-point's
 * reason and from the simulated charger; what no car explains is the margin (the residual power
 * kept back, 0.1 A steps, meter and charger lag while a car follows the surplus).
 */
import type { SetPoint } from '../contracts';

export const PV_LOSS_CAUSES = {
  belowMinimum: 'surplus below a car’s minimum (6 A: 1.38 kW on one phase, 4.14 kW on three)',
  enableDelay: 'enable delay (enough surplus, waiting enableDelayMs before a start)',
  minimumOff: 'minimum off time after a stop',
  following: 'charger not following yet (response delay, phase-switch pause)',
  pacing: 'ramp and increase pacing (rampUpAPerS, minUpdateIntervalMs, minChangeA)',
  onePhaseMax: 'one phase at its maximum (16 A = 3.68 kW) below the three-phase switch-up',
  margin: 'margin (residual power, 0.1 A steps, meter lag)',
} as const;

export type PvLossCause = keyof typeof PV_LOSS_CAUSES;

/** What the simulated charger does now (from `SiteSimulator.chargerStats`). */
export interface PvCarNow {
  key: string;
  offeredA: number;
  phases: number;
  carMaxW: number;
  drawW: number;
}

/** The cause of this second's shortfall (`PvLossCause`), from the pv cars' set-points and chargers. */
export function pvLossCause(
  cars: readonly PvCarNow[],
  setPoints: readonly SetPoint[],
  maxA: (key: string) => number,
): PvLossCause {
  for (const car of cars) {
    if (car.carMaxW <= 0) continue;
    const setPoint = setPoints.find((s) => `${s.chargePointId}/${s.connectorId}` === car.key);
    if (!setPoint) continue;
    const reason = setPoint.reason;
    if (reason.includes('pv: waiting for surplus') || reason.includes('paused: PV surplus'))
      return 'belowMinimum';
    if (reason.includes('pv: enough surplus')) return 'enableDelay';
    if (reason.includes('minimum off time')) return 'minimumOff';
    if (setPoint.limitA > 0 && (car.offeredA !== setPoint.limitA || car.phases !== setPoint.phases))
      return 'following';
    if (/ramping up|holding|\(then up to/.test(reason)) return 'pacing';
    if (setPoint.phases === 1 && setPoint.limitA >= maxA(car.key) && car.carMaxW > car.drawW)
      return 'onePhaseMax';
  }
  return 'margin';
}
