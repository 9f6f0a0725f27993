// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const eastronSdm120: DeviceProfile = {
  id: 'eastron-sdm120',
  name: 'Eastron SDM120 (single phase)',
  manufacturer: 'Eastron',
  models: ['SDM120-Modbus'],
  kind: 'meter',
  phases: 1,
  verified: true,
  functionCode: 4,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 60,
  // openWB reads 0..13 and 70..75 in production; bulk reads beyond are undocumented.
  readable: [
    [0, 13],
    [70, 75],
  ],
  registers: [
    { measurand: 'voltageL1', address: 0, documented: '30001', type: 'float32', unit: 'V' },
    { measurand: 'currentL1', address: 6, documented: '30007', type: 'float32', unit: 'A' },
    { measurand: 'powerL1', address: 12, documented: '30013', type: 'float32', unit: 'W' },
    { measurand: 'powerTotal', address: 12, documented: '30013', type: 'float32', unit: 'W' },
    { measurand: 'frequency', address: 70, documented: '30071', type: 'float32', unit: 'Hz' },
    { measurand: 'importEnergy', address: 72, documented: '30073', type: 'float32', unit: 'kWh' },
    { measurand: 'exportEnergy', address: 74, documented: '30075', type: 'float32', unit: 'kWh' },
  ],
  defaults: { unitId: 1 },
  notes: ['Set the phase the meter is wired to in the meter node; its values go to that phase.'],
  sources: [
    'volkszaehler/mbmd meters/rs485/sdm120.go',
    'evcc templates/definition/meter/eastron-sdm120.yaml',
    'openWB packages/modules/common/sdm.py',
  ],
};
