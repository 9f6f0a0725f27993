// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const eastronSdm72dM: DeviceProfile = {
  id: 'eastron-sdm72d-m',
  name: 'Eastron SDM72D-M (v1)',
  manufacturer: 'Eastron',
  models: ['SDM72D-M (v1)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 4,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 60,
  // The v1 table is sparse and unused registers were not confirmed readable: no gaps are read.
  registers: [
    { measurand: 'powerTotal', address: 52, documented: '30053', type: 'float32', unit: 'W' },
    { measurand: 'importEnergy', address: 72, documented: '30073', type: 'float32', unit: 'kWh' },
    { measurand: 'exportEnergy', address: 74, documented: '30075', type: 'float32', unit: 'kWh' },
  ],
  defaults: { serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } },
  notes: [
    'The v1 meter has no voltage, current or per-phase power registers: readings carry total power and energy only.',
    "Default unit id and baud rate were not found in a source; parity none is the manual's default.",
  ],
  sources: ['volkszaehler/mbmd meters/rs485/sdm72.go', 'evcc templates/definition/meter/eastron-sdm72.yaml'],
};
