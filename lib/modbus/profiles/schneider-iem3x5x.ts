// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const schneiderIem3x5x: DeviceProfile = {
  id: 'schneider-iem3x5x',
  name: 'Schneider Electric iEM3155 / iEM3255 (iEM3000)',
  manufacturer: 'Schneider Electric',
  models: ['iEM3155', 'iEM3255', 'iEM3000 series Modbus variants'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  // Unused registers between the groups were not confirmed readable: only adjacent values join.
  registers: [
    { measurand: 'currentL1', address: 2999, documented: '3000', type: 'float32', unit: 'A' },
    { measurand: 'currentL2', address: 3001, documented: '3002', type: 'float32', unit: 'A' },
    { measurand: 'currentL3', address: 3003, documented: '3004', type: 'float32', unit: 'A' },
    { measurand: 'voltageL1', address: 3027, documented: '3028', type: 'float32', unit: 'V' },
    { measurand: 'voltageL2', address: 3029, documented: '3030', type: 'float32', unit: 'V' },
    { measurand: 'voltageL3', address: 3031, documented: '3032', type: 'float32', unit: 'V' },
    { measurand: 'powerL1', address: 3053, documented: '3054', type: 'float32', unit: 'kW' },
    { measurand: 'powerL2', address: 3055, documented: '3056', type: 'float32', unit: 'kW' },
    { measurand: 'powerL3', address: 3057, documented: '3058', type: 'float32', unit: 'kW' },
    { measurand: 'powerTotal', address: 3059, documented: '3060', type: 'float32', unit: 'kW' },
    { measurand: 'frequency', address: 3109, documented: '3110', type: 'float32', unit: 'Hz' },
    { measurand: 'importEnergy', address: 3203, documented: '3204', type: 'int64', unit: 'Wh' },
    { measurand: 'exportEnergy', address: 3207, documented: '3208', type: 'int64', unit: 'Wh' },
  ],
  defaults: { unitId: 1, serial: { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 } },
  notes: [
    'Schneider documents 1-based register numbers: the wire address is one less (3028 -> 3027).',
    'Factory serial settings are 19200 8E1; Schneider EVlink installations set address 2, 19200, parity none (EVlink guide).',
    'Com.Protection (on by default) only blocks writes; reading works.',
  ],
  sources: [
    'volkszaehler/mbmd meters/rs485/iem3000.go (off-by-one fixed in #386)',
    'evcc templates/definition/meter/schneider-iem3000.yaml',
    'htvekov/iem3155_esphome',
    'Schneider EVlink guide: iEM3155 parameters',
  ],
};
