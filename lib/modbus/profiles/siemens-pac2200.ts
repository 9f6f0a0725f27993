// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const siemensPac2200: DeviceProfile = {
  id: 'siemens-pac2200',
  name: 'Siemens SENTRON PAC2200 (7KM2200)',
  manufacturer: 'Siemens',
  models: ['SENTRON PAC2200 (7KM2200)', 'PAC3200 / PAC4200 share the map (OpenEMS)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  // Offsets 1..80 are consecutive float values; 801..816 the energy counters. A read must start at
  // the first register of a value (the manual), which the planner always does.
  readable: [
    [1, 80],
    [801, 816],
  ],
  registers: [
    { measurand: 'voltageL1', address: 1, documented: 'offset 1', type: 'float32', unit: 'V' },
    { measurand: 'voltageL2', address: 3, documented: 'offset 3', type: 'float32', unit: 'V' },
    { measurand: 'voltageL3', address: 5, documented: 'offset 5', type: 'float32', unit: 'V' },
    { measurand: 'currentL1', address: 13, documented: 'offset 13', type: 'float32', unit: 'A' },
    { measurand: 'currentL2', address: 15, documented: 'offset 15', type: 'float32', unit: 'A' },
    { measurand: 'currentL3', address: 17, documented: 'offset 17', type: 'float32', unit: 'A' },
    { measurand: 'powerL1', address: 25, documented: 'offset 25', type: 'float32', unit: 'W' },
    { measurand: 'powerL2', address: 27, documented: 'offset 27', type: 'float32', unit: 'W' },
    { measurand: 'powerL3', address: 29, documented: 'offset 29', type: 'float32', unit: 'W' },
    {
      measurand: 'frequency',
      address: 55,
      documented: 'offset 55',
      type: 'float32',
      unit: 'Hz',
      uncertain:
        'openWB and the PAC RS485/PAC4200 manuals read frequency at offset 55; mbmd pac2200.go reads 46.',
    },
    { measurand: 'powerTotal', address: 65, documented: 'offset 65', type: 'float32', unit: 'W' },
    { measurand: 'importEnergy', address: 801, documented: 'offset 801', type: 'float64', unit: 'Wh' },
    { measurand: 'exportEnergy', address: 809, documented: 'offset 809', type: 'float64', unit: 'Wh' },
  ],
  defaults: { unitId: 1, tcpPort: 502 },
  notes: [
    'Energy is the tariff 1 counter ("active energy import/export tariff 1"), as every source reads it; a meter switching tariffs also counts in tariff 2 (805, 813).',
    'Over TCP the meter ignores unit id 255 (libmodbus #121): use 1.',
  ],
  sources: [
    'openWB packages/modules/devices/siemens/siemens_sentron/counter.py',
    'OpenEMS io.openems.edge.meter.siemens MeterSiemensPac2200Impl.java',
    'volkszaehler/mbmd meters/rs485/pac2200.go',
    'evcc templates/definition/meter/siemens-pac2200.yaml',
    'SENTRON PAC2200 manual p.91; PAC RS485 manual p.34',
  ],
};
