// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const abbB23B24: DeviceProfile = {
  id: 'abb-b23-b24',
  name: 'ABB B23 / B24 (and A43 / A44)',
  manufacturer: 'ABB',
  models: ['B23', 'B24', 'A43', 'A44'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  readable: [
    [0x5000, 0x500f],
    [0x5b00, 0x5b3b],
  ],
  // ABB marks missing values with the largest signed value too (openWB b23.py, mbmd abb.go).
  notAvailable: {
    int16: ['0x7FFF'],
    int32: ['0x7FFFFFFF'],
    int64: ['0x7FFFFFFFFFFFFFFF'],
  },
  registers: [
    { measurand: 'importEnergy', address: 0x5000, type: 'uint64', unit: 'kWh', scale: 0.01 },
    { measurand: 'exportEnergy', address: 0x5004, type: 'uint64', unit: 'kWh', scale: 0.01 },
    { measurand: 'voltageL1', address: 0x5b00, type: 'uint32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL2', address: 0x5b02, type: 'uint32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL3', address: 0x5b04, type: 'uint32', unit: 'V', scale: 0.1 },
    { measurand: 'currentL1', address: 0x5b0c, type: 'uint32', unit: 'A', scale: 0.01 },
    { measurand: 'currentL2', address: 0x5b0e, type: 'uint32', unit: 'A', scale: 0.01 },
    { measurand: 'currentL3', address: 0x5b10, type: 'uint32', unit: 'A', scale: 0.01 },
    { measurand: 'powerTotal', address: 0x5b14, type: 'int32', unit: 'W', scale: 0.01 },
    { measurand: 'powerL1', address: 0x5b16, type: 'int32', unit: 'W', scale: 0.01 },
    { measurand: 'powerL2', address: 0x5b18, type: 'int32', unit: 'W', scale: 0.01 },
    { measurand: 'powerL3', address: 0x5b1a, type: 'int32', unit: 'W', scale: 0.01 },
    { measurand: 'frequency', address: 0x5b2c, type: 'uint16', unit: 'Hz', scale: 0.01 },
  ],
  defaults: { unitId: 1 },
  notes: ['ABB prints hexadecimal register numbers that are the wire addresses.'],
  sources: [
    'volkszaehler/mbmd meters/rs485/abb.go',
    'openWB packages/modules/common/b23.py',
    'evcc templates/definition/meter/abb-ab.yaml',
  ],
};
