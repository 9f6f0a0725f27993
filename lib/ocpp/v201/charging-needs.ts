import type { CarNeeds } from '../../contracts';

interface ChargingNeeds201 {
  requestedEnergyTransfer: string;
  departureTime?: string;
  acChargingParameters?: { energyAmount: number; evMinCurrent: number; evMaxCurrent: number };
  dcChargingParameters?: { energyAmount?: number };
}

const PHASES: Record<string, 1 | 2 | 3> = { AC_single_phase: 1, AC_two_phase: 2, AC_three_phase: 3 };

/**
 * A car's needs as an OCPP 2.0.1 charger passes them on from ISO 15118 (NotifyEVChargingNeeds,
 * use case K15): for AC the least and most current per phase it takes, its phases, the energy it
 * wants (Wh); the driver's departure time. A minimum above the maximum, or a value that is no
 * current at all, is left out rather than believed.
 */
export function carNeedsOf(request: { chargingNeeds: ChargingNeeds201 }, at: string): CarNeeds {
  const needs: CarNeeds = { at };
  const { chargingNeeds } = request;
  const ac = chargingNeeds.acChargingParameters;
  const phases = PHASES[chargingNeeds.requestedEnergyTransfer];
  if (phases) needs.phases = phases;
  if (ac) {
    if (ac.evMaxCurrent > 0) needs.maxA = ac.evMaxCurrent;
    if (ac.evMinCurrent >= 0 && ac.evMinCurrent <= (needs.maxA ?? Number.POSITIVE_INFINITY))
      needs.minA = ac.evMinCurrent;
  }
  const energyWh = ac?.energyAmount ?? chargingNeeds.dcChargingParameters?.energyAmount;
  if (energyWh !== undefined && energyWh >= 0) needs.energyWh = energyWh;
  if (chargingNeeds.departureTime !== undefined) needs.departureTime = chargingNeeds.departureTime;
  return needs;
}
