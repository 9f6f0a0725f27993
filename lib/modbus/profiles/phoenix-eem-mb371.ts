// A register map transcribed from the device's manual (sources below). Its likeness to the other
// profiles is deliberate: one map per device, checked against its manual, not derived from another.
import type { DeviceProfile } from '../types';

export const phoenixEemMb371: DeviceProfile = {
  id: 'phoenix-eem-mb371',
  name: 'Phoenix Contact EEM-MB371 (unverified)',
  manufacturer: 'Phoenix Contact',
  models: ['EEM-MB371 (map of the EEM-MB370, not confirmed)', 'EEM-MB370-24DC', 'EEM-MA370-24DC'],
  kind: 'meter',
  phases: 3,
  verified: false,
  functionCode: 3,
  wordOrder: 'CDAB',
  powerSign: 'import-positive',
  maxRegistersPerRequest: 125,
  registers: [
    { measurand: 'voltageL1', address: 0x8006, type: 'float32', unit: 'V' },
    { measurand: 'voltageL2', address: 0x8008, type: 'float32', unit: 'V' },
    { measurand: 'voltageL3', address: 0x800a, type: 'float32', unit: 'V' },
    { measurand: 'frequency', address: 0x800c, type: 'float32', unit: 'Hz' },
    { measurand: 'currentL1', address: 0x800e, type: 'float32', unit: 'A' },
    { measurand: 'currentL2', address: 0x8010, type: 'float32', unit: 'A' },
    { measurand: 'currentL3', address: 0x8012, type: 'float32', unit: 'A' },
    { measurand: 'powerTotal', address: 0x8016, type: 'float32', unit: 'W' },
    { measurand: 'powerL1', address: 0x801e, type: 'float32', unit: 'W' },
    { measurand: 'powerL2', address: 0x8020, type: 'float32', unit: 'W' },
    { measurand: 'powerL3', address: 0x8022, type: 'float32', unit: 'W' },
    {
      measurand: 'importEnergy',
      address: 0x8100,
      type: 'float32',
      unit: 'Wh',
      uncertain: 'OpenEMS maps 0x8100 unscaled to Wh; the unit was not confirmed in a manual.',
    },
    {
      measurand: 'exportEnergy',
      address: 0x8106,
      type: 'float32',
      unit: 'Wh',
      uncertain: 'As import energy: unit not confirmed.',
    },
  ],
  defaults: { unitId: 1, tcpPort: 502 },
  notes: [
    "No EEM-MB371 register list was found: this is OpenEMS's map of the EEM-MB370. Compare the first readings with the meter's display before relying on them.",
    'The meter ships with the static address 192.168.1.2; switch it to DHCP or your LAN range in its web page.',
    'Sign assumed import-positive (OpenEMS grid meter without invert).',
  ],
  sources: [
    'OpenEMS io.openems.edge.meter.phoenixcontact PhoenixContactMeterImpl.java',
    'Powerstation TWO manual, section Phoenix Contact EEM-MB371',
  ],
};
