import type { DeviceProfile } from '../types';

export const carloGavazziEm24: DeviceProfile = {
  id: 'carlo-gavazzi-em24',
  name: 'Carlo Gavazzi EM24-DIN (RS485)',
  manufacturer: 'Carlo Gavazzi',
  models: ['EM24-DIN (RS485)', 'Victron EM24 (RS485)'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 4,
  // "The word order is LSW->MSW" for every 32-bit value (Carlo Gavazzi protocol).
  wordOrder: 'CDAB',
  powerSign: 'import-positive',
  // "It is possible to read maximum 11 register (word) with a single request" (EM24-DIN protocol).
  maxRegistersPerRequest: 11,
  // 0x00..0x2D (voltages to the system sums) is one dense table in every EM21/EM24 document.
  readable: [[0, 0x2d]],
  registers: [
    { measurand: 'voltageL1', address: 0x00, documented: '300001', type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL2', address: 0x02, documented: '300003', type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'voltageL3', address: 0x04, documented: '300005', type: 'int32', unit: 'V', scale: 0.1 },
    { measurand: 'currentL1', address: 0x0c, documented: '300013', type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL2', address: 0x0e, documented: '300015', type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'currentL3', address: 0x10, documented: '300017', type: 'int32', unit: 'A', scale: 0.001 },
    { measurand: 'powerL1', address: 0x12, documented: '300019', type: 'int32', unit: 'W', scale: 0.1 },
    { measurand: 'powerL2', address: 0x14, documented: '300021', type: 'int32', unit: 'W', scale: 0.1 },
    { measurand: 'powerL3', address: 0x16, documented: '300023', type: 'int32', unit: 'W', scale: 0.1 },
    { measurand: 'powerTotal', address: 0x28, documented: '300041', type: 'int32', unit: 'W', scale: 0.1 },
    {
      measurand: 'frequency',
      address: 0x37,
      documented: '300056',
      type: 'int16',
      unit: 'Hz',
      scale: 0.1,
      uncertain:
        'mbmd reads Hz at 0x37; the EM21/EM24 protocol document and the EM24_E1 map have it at 0x33.',
    },
    {
      measurand: 'importEnergy',
      address: 0x42,
      documented: '300067',
      type: 'int32',
      unit: 'kWh',
      scale: 0.1,
      uncertain:
        'mbmd reads kWh(+) TOT at 0x42; evcc PR #17173 called 0x42 the partial counter and moved to 0x3E, then was reverted.',
    },
    {
      measurand: 'exportEnergy',
      address: 0x5c,
      documented: '300093',
      type: 'int32',
      unit: 'kWh',
      scale: 0.1,
      uncertain:
        'kWh(-) TOT at 0x5C; some variants answer exception 2 (evcc PR #31736 dropped it). It is read in a request of its own so the rest still arrives.',
    },
  ],
  defaults: { unitId: 1 },
  notes: [
    'The Ethernet EM24_E1 uses another map (the EM340 one): pick "Carlo Gavazzi EM340" for it.',
    'The EM21-family protocol fixes the serial port at 1 stop bit, no parity.',
  ],
  sources: [
    'volkszaehler/mbmd meters/rs485/carlogavazzi-em24.go',
    'evcc templates/definition/meter/cg-em24.yaml, PR #17173, PR #31736',
    'Carlo Gavazzi EM24-DIN communication protocol (manualshive, p.4 and p.8)',
  ],
};
