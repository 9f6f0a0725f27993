// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';
import { CARLO_GAVAZZI_INSTANTANEOUS } from './carlo-gavazzi-common';

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
    ...CARLO_GAVAZZI_INSTANTANEOUS,
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
