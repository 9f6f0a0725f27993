// Profiles of SunSpec devices, one per vendor's use of the models (unit ids, sign, notes from its
// manual). Alike on purpose: each checked against its vendor's documentation, not derived.
import type { DeviceProfile, SunSpecDiscovery } from '../types';
import {
  SUNSPEC_BASE_ADDRESSES,
  SUNSPEC_INVERTER_MODELS,
  SUNSPEC_INVERTER_PREFERENCE,
  SUNSPEC_METER_MODELS,
  SUNSPEC_METER_PREFERENCE,
} from './sunspec-models';

const meterDiscovery: SunSpecDiscovery = {
  baseAddresses: SUNSPEC_BASE_ADDRESSES,
  preferredModels: SUNSPEC_METER_PREFERENCE,
  models: SUNSPEC_METER_MODELS,
};

const inverterDiscovery: SunSpecDiscovery = {
  baseAddresses: SUNSPEC_BASE_ADDRESSES,
  preferredModels: SUNSPEC_INVERTER_PREFERENCE,
  models: SUNSPEC_INVERTER_MODELS,
};

const sunspecSources = [
  'sunspec/models json/model_1, 103, 113, 203, 213, 701',
  'OpenEMS io.openems.edge.bridge.modbus sunspec (AbstractOpenemsSunSpecComponent, Point)',
  'volkszaehler/mbmd meters/sunspec/sunspec.go',
];

const discoveryNote =
  'Registers are found by walking the SunSpec models from "SunS" at 40000, 50000 or 0; values and their scale factors are read in one request.';

const sunspecMeterBase = {
  kind: 'meter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  maxRegistersPerRequest: 125,
  registers: [],
  sunspec: meterDiscovery,
  sources: sunspecSources,
} as const;

const sunspecInverterBase = {
  kind: 'inverter',
  phases: 3,
  verified: true,
  functionCode: 3,
  wordOrder: 'ABCD',
  // SunSpec inverters count production positive: the Reading shows it as export.
  powerSign: 'export-positive',
  maxRegistersPerRequest: 125,
  registers: [],
  sunspec: inverterDiscovery,
  sources: sunspecSources,
} as const;

export const sunspecMeter: DeviceProfile = {
  ...sunspecMeterBase,
  registers: [],
  id: 'sunspec-meter',
  name: 'SunSpec meter (models 201-204, 211-214)',
  manufacturer: 'SunSpec',
  models: ['Any SunSpec meter model 20x/21x', 'Kostal KSEM (unit 71)', 'TQ EM300 SunSpec set'],
  powerSign: 'import-positive',
  defaults: { unitId: 1, tcpPort: 502 },
  notes: [
    discoveryNote,
    'SunSpec does not define the sign of meter power: this profile takes import as positive (Fronius, Kostal KSEM). For SolarEdge meters pick the SolarEdge profile.',
  ],
};

export const sunspecInverter: DeviceProfile = {
  ...sunspecInverterBase,
  registers: [],
  id: 'sunspec-inverter',
  name: 'SunSpec inverter (models 101-103, 111-113, 701)',
  manufacturer: 'SunSpec',
  models: ['Any SunSpec inverter', 'Fronius Symo / Primo / GEN24 (unit 1)'],
  defaults: { unitId: 1, tcpPort: 502 },
  notes: [discoveryNote, 'Production shows as negative power (export) and as export energy.'],
};

export const froniusSunspecMeter: DeviceProfile = {
  ...sunspecMeterBase,
  registers: [],
  id: 'fronius-sunspec-meter',
  name: 'Fronius Smart Meter via inverter (SunSpec)',
  manufacturer: 'Fronius',
  models: ['Fronius Smart Meter behind GEN24 (unit 200) or SnapINverter Datamanager (unit 240)'],
  powerSign: 'import-positive',
  defaults: { unitId: 200, tcpPort: 502 },
  notes: [
    discoveryNote,
    'GEN24: meter unit 200 (further meters 201..); SnapINverter: 240. Fronius documents 1-based register numbers.',
    'The inverter\'s "float" or "int+SF" SunSpec setting is detected on its own.',
  ],
};

export const solaredgeSunspecMeter: DeviceProfile = {
  ...sunspecMeterBase,
  registers: [],
  id: 'solaredge-sunspec-meter',
  name: 'SolarEdge meter via inverter (SunSpec)',
  manufacturer: 'SolarEdge',
  models: ['SE-MTR / WattNode meter 1 behind a SolarEdge inverter (model 203)'],
  // SolarEdge meters count export positive (evcc and openWB negate them).
  powerSign: 'export-positive',
  defaults: { unitId: 1, tcpPort: 1502 },
  notes: [
    discoveryNote,
    "Only one client may use the inverter's Modbus TCP at a time. Port 1502 is SolarEdge's default.",
    'The first meter in the model chain is read (meter 1).',
  ],
};

export const solaredgeSunspecInverter: DeviceProfile = {
  ...sunspecInverterBase,
  registers: [],
  id: 'solaredge-sunspec-inverter',
  name: 'SolarEdge inverter (SunSpec)',
  manufacturer: 'SolarEdge',
  models: ['SolarEdge inverters with Modbus TCP'],
  defaults: { unitId: 1, tcpPort: 1502 },
  notes: [discoveryNote, "Only one client may use the inverter's Modbus TCP at a time."],
};

export const smaSunspecInverter: DeviceProfile = {
  ...sunspecInverterBase,
  registers: [],
  id: 'sma-sunspec-inverter',
  name: 'SMA inverter (SunSpec)',
  manufacturer: 'SMA',
  models: ['Sunny Tripower / Sunny Boy SunSpec profile'],
  defaults: { unitId: 126, tcpPort: 502 },
  notes: [
    discoveryNote,
    'The SunSpec unit id is the one set in the SMA web interface plus 123 (126 by default).',
    'Some SMA inverters have no end-of-models marker: the walk stops at the first unreadable address.',
  ],
};

export const kostalSunspecInverter: DeviceProfile = {
  ...sunspecInverterBase,
  registers: [],
  id: 'kostal-sunspec-inverter',
  name: 'Kostal PLENTICORE inverter (SunSpec)',
  manufacturer: 'Kostal',
  models: ['PLENTICORE plus / hybrid G1-G3'],
  defaults: { unitId: 71, tcpPort: 1502 },
  notes: [
    discoveryNote,
    "Only one client may use the inverter's Modbus TCP at a time.",
    "Some firmware sends negative energy accumulators (mbmd FixKostal): such counters read as huge numbers; compare the first reading with the inverter's display.",
  ],
};
