import type { Triple } from '../lib/dlm/site';
import type { SimulatedMeter } from './modbus-meter';

/** The demo site's mains voltage per phase, V (sim/demo-site.ts). */
export const VOLTAGE_V: Triple = [230.4, 231.1, 229.7];

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * What the demo site's grid meter and PV inverter serve (sim/demo-site.ts): the grid's
 * currents and powers with the energy registers, and the inverter's production as export.
 */
export function serveMeters(
  gridMeter: SimulatedMeter,
  inverter: SimulatedMeter,
  reading: {
    gridA: Triple;
    powerW: Triple;
    totalPowerW: number;
    importWh: number;
    exportWh: number;
    pvW: number;
    pvA: number;
    pvEnergyWh: number;
  },
): void {
  const { pvW, pvA } = reading;
  gridMeter.set({
    voltageV: VOLTAGE_V,
    currentA: reading.gridA,
    powerW: reading.powerW,
    totalPowerW: reading.totalPowerW,
    importWh: Math.round(reading.importWh),
    exportWh: Math.round(reading.exportWh),
    frequencyHz: 50,
    powerFactor: 1,
    reactivePowerVar: 0,
  });
  const pvPhaseW = -Math.round(pvW / 3);
  inverter.set({
    voltageV: VOLTAGE_V,
    currentA: [-round1(pvA), -round1(pvA), -round1(pvA)],
    powerW: [pvPhaseW, pvPhaseW, pvPhaseW],
    totalPowerW: -pvW,
    importWh: 0,
    exportWh: Math.round(reading.pvEnergyWh),
    frequencyHz: 50,
    powerFactor: 1,
    reactivePowerVar: 0,
  });
}
