// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';
import { CARLO_GAVAZZI_INSTANTANEOUS } from './carlo-gavazzi-common';

export const carloGavazziEm340: DeviceProfile = {
  id: 'carlo-gavazzi-em340',
  name: 'Carlo Gavazzi EM330 / EM340 / ET340 (and EM24_E1)',
  manufacturer: 'Carlo Gavazzi',
  models: ['EM330', 'EM340', 'ET330', 'ET340', 'EM24_E1 (Ethernet) shares the map'],
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 4,
  wordOrder: 'CDAB',
  powerSign: 'import-positive',
  // The EM300 protocol was not read; the 11-register limit of the EM21/EM24 protocol is assumed.
  maxRegistersPerRequest: 11,
  readable: [[0, 0x37]],
  registers: [
    ...CARLO_GAVAZZI_INSTANTANEOUS,
    { measurand: 'frequency', address: 0x33, documented: '300052', type: 'int16', unit: 'Hz', scale: 0.1 },
    {
      measurand: 'importEnergy',
      address: 0x34,
      documented: '300053',
      type: 'int32',
      unit: 'kWh',
      scale: 0.1,
    },
    {
      measurand: 'exportEnergy',
      address: 0x4e,
      documented: '300079',
      type: 'int32',
      unit: 'kWh',
      scale: 0.1,
    },
  ],
  defaults: { unitId: 1 },
  notes: ['Carlo Gavazzi numbers registers from 300001: the wire address is the number minus 300001.'],
  sources: [
    'volkszaehler/mbmd meters/rs485/carlogavazzi-ex3x0.go',
    'OpenEMS io.openems.edge.meter.carlo.gavazzi MeterCarloGavazziEm300Impl.java',
    'openWB packages/modules/devices/carlo_gavazzi/carlo_gavazzi/counter.py',
  ],
};
