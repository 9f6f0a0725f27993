// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const eastronSdm630: DeviceProfile = {
  id: 'eastron-sdm630',
  name: 'Eastron SDM630 v2 / SDM72D-M-2',
  manufacturer: 'Eastron',
  models: ['SDM630-Modbus V2', 'SDM630MCT V2', 'SDM72D-M-2 (v2, same map)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 4,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  // "Each request for data must be restricted to 30 parameters or less" (SDM72D-M manual).
  maxRegistersPerRequest: 60,
  // 30001..30080 is the documented input-register table; reads across it are answered.
  readable: [[0, 79]],
  registers: [
    { measurand: 'voltageL1', address: 0, documented: '30001', type: 'float32', unit: 'V' },
    { measurand: 'voltageL2', address: 2, documented: '30003', type: 'float32', unit: 'V' },
    { measurand: 'voltageL3', address: 4, documented: '30005', type: 'float32', unit: 'V' },
    { measurand: 'currentL1', address: 6, documented: '30007', type: 'float32', unit: 'A' },
    { measurand: 'currentL2', address: 8, documented: '30009', type: 'float32', unit: 'A' },
    { measurand: 'currentL3', address: 10, documented: '30011', type: 'float32', unit: 'A' },
    { measurand: 'powerL1', address: 12, documented: '30013', type: 'float32', unit: 'W' },
    { measurand: 'powerL2', address: 14, documented: '30015', type: 'float32', unit: 'W' },
    { measurand: 'powerL3', address: 16, documented: '30017', type: 'float32', unit: 'W' },
    { measurand: 'powerTotal', address: 52, documented: '30053', type: 'float32', unit: 'W' },
    { measurand: 'frequency', address: 70, documented: '30071', type: 'float32', unit: 'Hz' },
    { measurand: 'importEnergy', address: 72, documented: '30073', type: 'float32', unit: 'kWh' },
    { measurand: 'exportEnergy', address: 74, documented: '30075', type: 'float32', unit: 'kWh' },
  ],
  defaults: { unitId: 1, serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } },
  notes: [
    "Serial defaults 9600 8N1 come from sibling manuals (SDM630MCT-ML, SDM72D-M); one wiki says even parity. Check the meter's display.",
    'Some SDM72 units answer only 10 registers per request (openWB): lower "max registers per request" if the meter answers exception 3.',
  ],
  sources: [
    'volkszaehler/mbmd meters/rs485/sdm.go, sdm72v2.go',
    'evcc templates/definition/meter/eastron-sdm72v2_630.yaml',
    'openWB packages/modules/common/sdm.py',
    'Eastron SDM72D-M manual p.14 (30053 = 0x0034)',
  ],
};
