// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const smaInverter: DeviceProfile = {
  id: 'sma-inverter',
  name: 'SMA Sunny Boy / Sunny Tripower (SMA Modbus profile)',
  manufacturer: 'SMA',
  models: ['Sunny Boy', 'Sunny Tripower'],
  kind: 'inverter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  // Inverters count production positive; the Reading counts it as export (negative).
  powerSign: 'export-positive',
  maxRegistersPerRequest: 125,
  // SMA documents single registers only: no unused registers are read.
  registers: [
    { measurand: 'exportEnergy', address: 30513, type: 'uint64', unit: 'Wh' },
    { measurand: 'powerTotal', address: 30775, type: 'int32', unit: 'W' },
    { measurand: 'powerL1', address: 30777, type: 'int32', unit: 'W' },
    { measurand: 'powerL2', address: 30779, type: 'int32', unit: 'W' },
    { measurand: 'powerL3', address: 30781, type: 'int32', unit: 'W' },
    { measurand: 'voltageL1', address: 30783, type: 'uint32', unit: 'V', scale: 0.01 },
    { measurand: 'voltageL2', address: 30785, type: 'uint32', unit: 'V', scale: 0.01 },
    { measurand: 'voltageL3', address: 30787, type: 'uint32', unit: 'V', scale: 0.01 },
    { measurand: 'frequency', address: 30803, type: 'uint32', unit: 'Hz', scale: 0.01 },
    { measurand: 'currentL1', address: 30977, type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL2', address: 30979, type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL3', address: 30981, type: 'int32', unit: 'A', scale: 0.001 },
  ],
  defaults: { unitId: 3, tcpPort: 502 },
  notes: [
    'Enable "Modbus TCP server" in the inverter. Unit id 3 is SMA\'s default.',
    'At night the inverter answers "not a number" (0x80000000, 0xFFFFFFFF): those values are unknown, not zero.',
    'evcc reads 30775 with function code 4; openWB and OpenEMS use 3.',
  ],
  sources: [
    'evcc templates/definition/meter/sma-inverter-modbus.yaml',
    'openWB packages/modules/devices/sma/sma_sunny_boy/inverter.py',
    'OpenEMS io.openems.edge.sma',
  ],
};
