// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const bcontrolEm300Lr: DeviceProfile = {
  id: 'bcontrol-em300-lr',
  name: 'B-Control EM300-LR (TQ Energy Manager)',
  manufacturer: 'B-Control / TQ-Systems',
  models: ['EM300-LR', 'TQ Energy Manager EM2xx/EM3xx (Modbus slave profile)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  // The TQ map is one dense block per OBIS group (totals, L1, L2, L3) and the energy counters.
  readable: [
    [0, 159],
    [512, 519],
  ],
  // Power comes as unsigned pairs: P+ (import) and P- (export); the net value is P+ minus P-.
  registers: [
    { measurand: 'powerTotal', address: 0, documented: '1.4.0 P+', type: 'uint32', unit: 'W', scale: 0.1 },
    {
      measurand: 'powerTotal',
      address: 2,
      documented: '2.4.0 P-',
      type: 'uint32',
      unit: 'W',
      scale: 0.1,
      direction: 'export',
    },
    { measurand: 'frequency', address: 26, type: 'uint32', unit: 'Hz', scale: 0.001 },
    { measurand: 'powerL1', address: 40, documented: '21.4.0 P+', type: 'uint32', unit: 'W', scale: 0.1 },
    {
      measurand: 'powerL1',
      address: 42,
      documented: '22.4.0 P-',
      type: 'uint32',
      unit: 'W',
      scale: 0.1,
      direction: 'export',
    },
    { measurand: 'currentL1', address: 60, type: 'uint32', unit: 'A', scale: 0.001 },
    { measurand: 'voltageL1', address: 62, type: 'uint32', unit: 'V', scale: 0.001 },
    { measurand: 'powerL2', address: 80, documented: '41.4.0 P+', type: 'uint32', unit: 'W', scale: 0.1 },
    {
      measurand: 'powerL2',
      address: 82,
      documented: '42.4.0 P-',
      type: 'uint32',
      unit: 'W',
      scale: 0.1,
      direction: 'export',
    },
    { measurand: 'currentL2', address: 100, type: 'uint32', unit: 'A', scale: 0.001 },
    { measurand: 'voltageL2', address: 102, type: 'uint32', unit: 'V', scale: 0.001 },
    { measurand: 'powerL3', address: 120, documented: '61.4.0 P+', type: 'uint32', unit: 'W', scale: 0.1 },
    {
      measurand: 'powerL3',
      address: 122,
      documented: '62.4.0 P-',
      type: 'uint32',
      unit: 'W',
      scale: 0.1,
      direction: 'export',
    },
    { measurand: 'currentL3', address: 140, type: 'uint32', unit: 'A', scale: 0.001 },
    { measurand: 'voltageL3', address: 142, type: 'uint32', unit: 'V', scale: 0.001 },
    { measurand: 'importEnergy', address: 512, documented: '1.8.0', type: 'uint64', unit: 'Wh', scale: 0.1 },
    { measurand: 'exportEnergy', address: 516, documented: '2.8.0', type: 'uint64', unit: 'Wh', scale: 0.1 },
  ],
  defaults: {
    unitId: 247,
    tcpPort: 502,
    serial: { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 },
  },
  notes: [
    'Default unit id is 247. The device accepts at most 5 Modbus TCP connections.',
    'Values are consistent only within one request (TQ): a poll takes 3 requests.',
  ],
  sources: [
    'OpenEMS io.openems.edge.meter.bcontrol.em300 MeterBControlEM300Impl.java',
    'TQ Energy Manager - Modbus Slave.0013 (PDF in the OpenEMS repository)',
  ],
};
