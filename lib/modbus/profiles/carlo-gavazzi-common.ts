import type { RegisterDefinition } from '../types';

/**
 * Voltages, currents and powers: the same wire addresses on every Carlo Gavazzi meter of the
 * EM21/EM24 and EM300 families (300001... minus 300001), int32 with the low word first. Only
 * frequency and the energy counters sit at different addresses per family.
 */
export const CARLO_GAVAZZI_INSTANTANEOUS: readonly RegisterDefinition[] = [
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
];
