// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const janitzaUmg604: DeviceProfile = {
  id: 'janitza-umg604',
  name: 'Janitza UMG 604 (and UMG 96PA)',
  manufacturer: 'Janitza',
  models: ['UMG 604', 'UMG 96PA (same 19000 block)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  // 19000..19121 is a dense table of float values (two registers each).
  readable: [[19000, 19121]],
  registers: [
    { measurand: 'voltageL1', address: 19000, type: 'float32', unit: 'V' },
    { measurand: 'voltageL2', address: 19002, type: 'float32', unit: 'V' },
    { measurand: 'voltageL3', address: 19004, type: 'float32', unit: 'V' },
    { measurand: 'currentL1', address: 19012, type: 'float32', unit: 'A' },
    { measurand: 'currentL2', address: 19014, type: 'float32', unit: 'A' },
    { measurand: 'currentL3', address: 19016, type: 'float32', unit: 'A' },
    { measurand: 'powerL1', address: 19020, type: 'float32', unit: 'W' },
    { measurand: 'powerL2', address: 19022, type: 'float32', unit: 'W' },
    { measurand: 'powerL3', address: 19024, type: 'float32', unit: 'W' },
    { measurand: 'powerTotal', address: 19026, type: 'float32', unit: 'W' },
    { measurand: 'frequency', address: 19050, type: 'float32', unit: 'Hz' },
    { measurand: 'importEnergy', address: 19068, type: 'float32', unit: 'Wh' },
    { measurand: 'exportEnergy', address: 19076, type: 'float32', unit: 'Wh' },
  ],
  defaults: { unitId: 1, tcpPort: 502 },
  notes: ['OpenEMS reads another block of the UMG 604 (1317..); both are documented.'],
  sources: [
    'openWB packages/modules/devices/janitza/janitza/counter.py',
    'volkszaehler/mbmd meters/rs485/janitza.go',
    'evcc templates/definition/meter/janitza.yaml',
    'aggsoft UMG604 register list',
  ],
};
