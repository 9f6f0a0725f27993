/**
 * Where the PV surplus the cars could have taken went instead, for the PV day figures: each second
 * the shortfall (what the cars could have taken of the surplus minus what they took) is shared
 * among the pv cars that could have taken more, each by what holds it, read from its set-point's
 * reason and from the simulated charger; what no car explains is the margin (the residual power
 * kept back, 0.1 A steps, meter and charger lag while a car follows the surplus).
 */
import type { SetPoint } from '../lib/contracts';

export const PV_LOSS_CAUSES = {
  belowMinimum: 'surplus below a car’s minimum (6 A: 1.38 kW on one phase, 4.14 kW on three)',
  othersTake:
    'a car a dip stopped waits: the surplus its start needs is what the cars charging take (they would give it up)',
  enableDelay: 'enable delay (enough surplus, waiting enableDelayMs before a start)',
  restartReserve:
    'restart reserve after a dip (enough surplus, waiting until what it gives beyond the minimum pays for the next dip)',
  minimumOff: 'minimum off time after a stop',
  following: 'charger not following yet (response delay, phase-switch pause)',
  pacing: 'ramp and increase pacing (rampUpAPerS, minUpdateIntervalMs, minChangeA)',
  onePhaseMax: 'one phase at its maximum (16 A = 3.68 kW) below the three-phase switch-up',
  limit: 'a breaker, a power limit or the unbalance limit holds the car',
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

/** What holds this car back now (`PvLossCause`), from its set-point and charger. */
export function pvHeldBy(car: PvCarNow, setPoint: SetPoint | undefined, maxA: number): PvLossCause {
  if (!setPoint) return 'margin';
  const reason = setPoint.reason;
  if (reason.includes('pv: waiting for surplus') || reason.includes('paused: PV surplus'))
    return 'belowMinimum';
  if (reason.includes('the cars charging take the surplus')) return 'othersTake';
  if (reason.includes('pv: enough surplus; clouds stopped it')) return 'restartReserve';
  if (reason.includes('pv: enough surplus')) return 'enableDelay';
  if (reason.includes('minimum off time')) return 'minimumOff';
  if (setPoint.limitA > 0 && (car.offeredA !== setPoint.limitA || car.phases !== setPoint.phases))
    return 'following';
  if (/ramping up|holding|\(then up to/.test(reason)) return 'pacing';
  if (setPoint.phases === 1 && setPoint.limitA >= maxA && car.carMaxW > car.drawW) return 'onePhaseMax';
  if (/ is full|power limit|unbalance limit|site limit/.test(reason)) return 'limit';
  return 'margin';
}

/**
 * This second's lost surplus (W) by cause: shared among the pv cars that could have taken more,
 * each weighted by how much of it it could have taken alone (its room, at most the loss), so a
 * car that could have taken all of it counts as much as another that could, and one that could
 * take a little counts for that little.
 */
export function pvLossShares(
  cars: readonly PvCarNow[],
  setPoints: readonly SetPoint[],
  maxA: (key: string) => number,
  lostW: number,
): Partial<Record<PvLossCause, number>> {
  const weights: [PvLossCause, number][] = [];
  let total = 0;
  for (const car of cars) {
    const roomW = Math.min(lostW, car.carMaxW - car.drawW);
    if (car.carMaxW <= 0 || roomW <= 0) continue;
    const setPoint = setPoints.find((s) => `${s.chargePointId}/${s.connectorId}` === car.key);
    weights.push([pvHeldBy(car, setPoint, maxA(car.key)), roomW]);
    total += roomW;
  }
  if (total <= 0) return { margin: lostW };
  const shares: Partial<Record<PvLossCause, number>> = {};
  for (const [cause, weight] of weights) shares[cause] = (shares[cause] ?? 0) + (lostW * weight) / total;
  return shares;
}
