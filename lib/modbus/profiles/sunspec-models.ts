// SunSpec model point maps transcribed from the sunspec/models JSON. Models alike in shape (integer
// or float, one or three phases) are kept apart on purpose: each checked against its model, not derived.
import type { SunSpecDiscovery, SunSpecModelMap } from '../types';

/**
 * Point maps of the SunSpec models ampflow reads (sunspec/models JSON). Offsets count from the
 * model's ID register. Accumulators (acc32, acc64) are unsigned with 0 meaning "not implemented"
 * (SunSpec Information Model Specification): every one carries `notAvailable` 0, so an inverter
 * that does not count energy reads as unknown, never as 0 Wh. Float accumulators use NaN.
 */

/** Meters with integer values and scale factors: 201 single phase, 202 split phase, 203 wye, 204 delta. */
const meterIntegerPoints: SunSpecModelMap['points'] = [
  { measurand: 'currentL1', offset: 3, type: 'int16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'currentL2', offset: 4, type: 'int16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'currentL3', offset: 5, type: 'int16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'voltageL1', offset: 8, type: 'int16', unit: 'V', scaleFactorOffset: 15 },
  { measurand: 'voltageL2', offset: 9, type: 'int16', unit: 'V', scaleFactorOffset: 15 },
  { measurand: 'voltageL3', offset: 10, type: 'int16', unit: 'V', scaleFactorOffset: 15 },
  { measurand: 'frequency', offset: 16, type: 'int16', unit: 'Hz', scaleFactorOffset: 17 },
  { measurand: 'powerTotal', offset: 18, type: 'int16', unit: 'W', scaleFactorOffset: 22 },
  { measurand: 'powerL1', offset: 19, type: 'int16', unit: 'W', scaleFactorOffset: 22 },
  { measurand: 'powerL2', offset: 20, type: 'int16', unit: 'W', scaleFactorOffset: 22 },
  { measurand: 'powerL3', offset: 21, type: 'int16', unit: 'W', scaleFactorOffset: 22 },
  {
    measurand: 'exportEnergy',
    offset: 38,
    type: 'uint32',
    unit: 'Wh',
    scaleFactorOffset: 54,
    notAvailable: ['0x00000000'],
  },
  {
    measurand: 'importEnergy',
    offset: 46,
    type: 'uint32',
    unit: 'Wh',
    scaleFactorOffset: 54,
    notAvailable: ['0x00000000'],
  },
];

/** Meters with float values: 211 single phase, 212 split phase, 213 wye, 214 delta. */
const meterFloatPoints: SunSpecModelMap['points'] = [
  { measurand: 'currentL1', offset: 4, type: 'float32', unit: 'A' },
  { measurand: 'currentL2', offset: 6, type: 'float32', unit: 'A' },
  { measurand: 'currentL3', offset: 8, type: 'float32', unit: 'A' },
  { measurand: 'voltageL1', offset: 12, type: 'float32', unit: 'V' },
  { measurand: 'voltageL2', offset: 14, type: 'float32', unit: 'V' },
  { measurand: 'voltageL3', offset: 16, type: 'float32', unit: 'V' },
  { measurand: 'frequency', offset: 26, type: 'float32', unit: 'Hz' },
  { measurand: 'powerTotal', offset: 28, type: 'float32', unit: 'W' },
  { measurand: 'powerL1', offset: 30, type: 'float32', unit: 'W' },
  { measurand: 'powerL2', offset: 32, type: 'float32', unit: 'W' },
  { measurand: 'powerL3', offset: 34, type: 'float32', unit: 'W' },
  { measurand: 'exportEnergy', offset: 60, type: 'float32', unit: 'Wh' },
  { measurand: 'importEnergy', offset: 68, type: 'float32', unit: 'Wh' },
];

/** Inverters with integer values and scale factors: 101 single, 102 split, 103 three phase. */
const inverterIntegerPoints: SunSpecModelMap['points'] = [
  { measurand: 'currentL1', offset: 3, type: 'uint16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'currentL2', offset: 4, type: 'uint16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'currentL3', offset: 5, type: 'uint16', unit: 'A', scaleFactorOffset: 6 },
  { measurand: 'voltageL1', offset: 10, type: 'uint16', unit: 'V', scaleFactorOffset: 13 },
  { measurand: 'voltageL2', offset: 11, type: 'uint16', unit: 'V', scaleFactorOffset: 13 },
  { measurand: 'voltageL3', offset: 12, type: 'uint16', unit: 'V', scaleFactorOffset: 13 },
  { measurand: 'powerTotal', offset: 14, type: 'int16', unit: 'W', scaleFactorOffset: 15 },
  { measurand: 'frequency', offset: 16, type: 'uint16', unit: 'Hz', scaleFactorOffset: 17 },
  {
    measurand: 'exportEnergy',
    offset: 24,
    type: 'uint32',
    unit: 'Wh',
    scaleFactorOffset: 26,
    notAvailable: ['0x00000000'],
  },
];

/** Inverters with float values: 111 single, 112 split, 113 three phase. */
const inverterFloatPoints: SunSpecModelMap['points'] = [
  { measurand: 'currentL1', offset: 4, type: 'float32', unit: 'A' },
  { measurand: 'currentL2', offset: 6, type: 'float32', unit: 'A' },
  { measurand: 'currentL3', offset: 8, type: 'float32', unit: 'A' },
  { measurand: 'voltageL1', offset: 16, type: 'float32', unit: 'V' },
  { measurand: 'voltageL2', offset: 18, type: 'float32', unit: 'V' },
  { measurand: 'voltageL3', offset: 20, type: 'float32', unit: 'V' },
  { measurand: 'powerTotal', offset: 22, type: 'float32', unit: 'W' },
  { measurand: 'frequency', offset: 24, type: 'float32', unit: 'Hz' },
  { measurand: 'exportEnergy', offset: 32, type: 'float32', unit: 'Wh' },
];

/** DER AC measurement (model 701, the newer inverter model). */
const derAcPoints: SunSpecModelMap['points'] = [
  { measurand: 'powerTotal', offset: 10, type: 'int16', unit: 'W', scaleFactorOffset: 116 },
  { measurand: 'frequency', offset: 17, type: 'uint32', unit: 'Hz', scaleFactorOffset: 115 },
  // TotWhInj and TotWhAbs are acc64: 0 = not implemented.
  {
    measurand: 'exportEnergy',
    offset: 19,
    type: 'uint64',
    unit: 'Wh',
    scaleFactorOffset: 120,
    notAvailable: ['0x0000000000000000'],
  },
  {
    measurand: 'importEnergy',
    offset: 23,
    type: 'uint64',
    unit: 'Wh',
    scaleFactorOffset: 120,
    notAvailable: ['0x0000000000000000'],
  },
  { measurand: 'powerL1', offset: 41, type: 'int16', unit: 'W', scaleFactorOffset: 116 },
  { measurand: 'currentL1', offset: 45, type: 'int16', unit: 'A', scaleFactorOffset: 113 },
  { measurand: 'voltageL1', offset: 47, type: 'uint16', unit: 'V', scaleFactorOffset: 114 },
  { measurand: 'powerL2', offset: 64, type: 'int16', unit: 'W', scaleFactorOffset: 116 },
  { measurand: 'currentL2', offset: 68, type: 'int16', unit: 'A', scaleFactorOffset: 113 },
  { measurand: 'voltageL2', offset: 70, type: 'uint16', unit: 'V', scaleFactorOffset: 114 },
  { measurand: 'powerL3', offset: 87, type: 'int16', unit: 'W', scaleFactorOffset: 116 },
  { measurand: 'currentL3', offset: 91, type: 'int16', unit: 'A', scaleFactorOffset: 113 },
  { measurand: 'voltageL3', offset: 93, type: 'uint16', unit: 'V', scaleFactorOffset: 114 },
];

export const SUNSPEC_METER_MODELS: Record<string, SunSpecModelMap> = {
  '201': { name: 'meter, single phase (int+SF)', points: meterIntegerPoints },
  '202': { name: 'meter, split phase (int+SF)', points: meterIntegerPoints },
  '203': { name: 'meter, three phase wye (int+SF)', points: meterIntegerPoints },
  '204': { name: 'meter, three phase delta (int+SF)', points: meterIntegerPoints },
  '211': { name: 'meter, single phase (float)', points: meterFloatPoints },
  '212': { name: 'meter, split phase (float)', points: meterFloatPoints },
  '213': { name: 'meter, three phase wye (float)', points: meterFloatPoints },
  '214': { name: 'meter, three phase delta (float)', points: meterFloatPoints },
};

export const SUNSPEC_INVERTER_MODELS: Record<string, SunSpecModelMap> = {
  '101': { name: 'inverter, single phase (int+SF)', points: inverterIntegerPoints },
  '102': { name: 'inverter, split phase (int+SF)', points: inverterIntegerPoints },
  '103': { name: 'inverter, three phase (int+SF)', points: inverterIntegerPoints },
  '111': { name: 'inverter, single phase (float)', points: inverterFloatPoints },
  '112': { name: 'inverter, split phase (float)', points: inverterFloatPoints },
  '113': { name: 'inverter, three phase (float)', points: inverterFloatPoints },
  '701': { name: 'DER AC measurement', points: derAcPoints },
};

/** Where "SunS" may sit (mbmd probes in this order). */
export const SUNSPEC_BASE_ADDRESSES = [40000, 50000, 0];

/** Three-phase models first: a device offering several picks the richest. */
export const SUNSPEC_METER_PREFERENCE = [203, 213, 204, 214, 202, 212, 201, 211];
export const SUNSPEC_INVERTER_PREFERENCE = [103, 113, 102, 112, 101, 111, 701];

/** The standard discoveries a shipped SunSpec profile names (`"sunspec": "meter"` or `"inverter"`). */
export const SUNSPEC_DISCOVERY: Readonly<Record<string, SunSpecDiscovery>> = {
  meter: {
    baseAddresses: SUNSPEC_BASE_ADDRESSES,
    preferredModels: SUNSPEC_METER_PREFERENCE,
    models: SUNSPEC_METER_MODELS,
  },
  inverter: {
    baseAddresses: SUNSPEC_BASE_ADDRESSES,
    preferredModels: SUNSPEC_INVERTER_PREFERENCE,
    models: SUNSPEC_INVERTER_MODELS,
  },
};
