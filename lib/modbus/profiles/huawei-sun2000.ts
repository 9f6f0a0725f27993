// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

const huaweiDefaults = {
  unitId: 1,
  tcpPort: 502,
  // "The SDongle can react quite slowly" (huawei-solar-lib); evcc waits 1 s after connecting.
  timeoutMs: 5000,
  pauseAfterConnectMs: 1000,
  minPollIntervalMs: 2000,
} as const;

const huaweiNotes = [
  'Modbus TCP must be enabled with installer access. The SDongle serves one client at a time: stop other readers (or proxies) first.',
  "Slow gateway: the profile suggests a 5 s timeout and a 1 s pause after connecting (evcc, openWB). The inverter's own unit id is often 0 behind some dongles.",
];

export const huaweiSun2000Inverter: DeviceProfile = {
  id: 'huawei-sun2000-inverter',
  name: 'Huawei SUN2000 inverter (native)',
  manufacturer: 'Huawei',
  models: ['SUN2000 (L1/KTL/M)'],
  kind: 'inverter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'export-positive',
  maxRegistersPerRequest: 125,
  // 32064..32095 is one documented run (input power to shutdown time).
  readable: [[32064, 32095]],
  registers: [
    { measurand: 'voltageL1', address: 32069, type: 'uint16', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL2', address: 32070, type: 'uint16', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL3', address: 32071, type: 'uint16', unit: 'V', scale: 0.1 },
    { measurand: 'currentL1', address: 32072, type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL2', address: 32074, type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL3', address: 32076, type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'powerTotal', address: 32080, type: 'int32', unit: 'W' },
    { measurand: 'frequency', address: 32085, type: 'uint16', unit: 'Hz', scale: 0.01 },
    { measurand: 'exportEnergy', address: 32106, type: 'uint32', unit: 'kWh', scale: 0.01 },
  ],
  defaults: huaweiDefaults,
  notes: huaweiNotes,
  sources: [
    'evcc templates/definition/meter/huawei-sun2000-inverter.yaml',
    'wlcrs/huawei-solar-lib src/huawei_solar/registers.py',
    'openWB packages/modules/devices/huawei',
  ],
};

export const huaweiSun2000Meter: DeviceProfile = {
  id: 'huawei-sun2000-meter',
  name: 'Huawei grid meter via SUN2000 (DTSU666-H / DDSU666-H)',
  manufacturer: 'Huawei',
  models: ['DTSU666-H', 'DDSU666-H (read through the SUN2000 inverter)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  // 37113 and the phase powers count export positive (evcc and openWB negate them).
  powerSign: 'export-positive',
  maxRegistersPerRequest: 125,
  // evcc reads 37101..37137 as one block.
  readable: [[37100, 37138]],
  registers: [
    { measurand: 'voltageL1', address: 37101, type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL2', address: 37103, type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL3', address: 37105, type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'currentL1', address: 37107, type: 'int32', unit: 'A', scale: 0.01 },
    { measurand: 'currentL2', address: 37109, type: 'int32', unit: 'A', scale: 0.01 },
    { measurand: 'currentL3', address: 37111, type: 'int32', unit: 'A', scale: 0.01 },
    { measurand: 'powerTotal', address: 37113, type: 'int32', unit: 'W' },
    { measurand: 'frequency', address: 37118, type: 'int16', unit: 'Hz', scale: 0.01 },
    { measurand: 'exportEnergy', address: 37119, type: 'int32', unit: 'kWh', scale: 0.01 },
    { measurand: 'importEnergy', address: 37121, type: 'int32', unit: 'kWh', scale: 0.01 },
    { measurand: 'powerL1', address: 37132, type: 'int32', unit: 'W' },
    { measurand: 'powerL2', address: 37134, type: 'int32', unit: 'W' },
    { measurand: 'powerL3', address: 37136, type: 'int32', unit: 'W' },
  ],
  defaults: huaweiDefaults,
  notes: huaweiNotes,
  sources: [
    'evcc templates/definition/meter/huawei-sun2000-hybrid.yaml',
    'wlcrs/huawei-solar-lib src/huawei_solar/registers.py',
    'openWB packages/modules/devices/huawei/huawei/counter.py',
  ],
};
