/**
 * The device-profile data format: what a meter's register map looks like as plain data (no
 * functions), so a profile can be shipped in `lib/modbus/profiles/`, typed into the editor or
 * pasted as JSON, and checked by {@link validateProfile} in `profiles.ts`.
 *
 * Every address is the 0-based address sent on the wire (PDU address). Vendors print other
 * numbers (Eastron "30001" = 0, Schneider "3028" = 3027); `documented` keeps theirs as a hint.
 */

/** How a value is stored in its registers. 32- and 64-bit types span 2 and 4 registers. */
export type RegisterType =
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export const REGISTER_TYPES: readonly RegisterType[] = [
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
];

/**
 * Order of the bytes of a multi-register value, A being the most significant byte.
 * - `ABCD`: big-endian, the Modbus default (most significant word first).
 * - `CDAB`: least significant word first, bytes big-endian in each word (Carlo Gavazzi, Phoenix).
 * - `BADC`: most significant word first, bytes swapped in each word.
 * - `DCBA`: little-endian throughout.
 * For 64-bit values the same rule extends to four words (`CDAB` = words in reverse order).
 */
export type WordOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

export const WORD_ORDERS: readonly WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/** Read holding registers (3) or input registers (4). */
export type FunctionCode = 3 | 4;

/** What a register measures; each maps to one field of the Reading. */
export type Measurand =
  | 'voltageL1'
  | 'voltageL2'
  | 'voltageL3'
  | 'currentL1'
  | 'currentL2'
  | 'currentL3'
  | 'powerL1'
  | 'powerL2'
  | 'powerL3'
  | 'powerTotal'
  | 'importEnergy'
  | 'exportEnergy'
  | 'frequency'
  | 'powerFactor'
  | 'reactivePowerTotal';

/**
 * Every measurand, and whether its sign is the direction of the flow: import positive in a
 * Reading, so flipped for a device that counts export positive (`powerSign`).
 */
const DIRECTED_BY_SIGN: Record<Measurand, boolean> = {
  voltageL1: false,
  voltageL2: false,
  voltageL3: false,
  currentL1: true,
  currentL2: true,
  currentL3: true,
  powerL1: true,
  powerL2: true,
  powerL3: true,
  powerTotal: true,
  importEnergy: false,
  exportEnergy: false,
  frequency: false,
  powerFactor: false,
  reactivePowerTotal: true,
};

export const MEASURANDS = Object.keys(DIRECTED_BY_SIGN) as readonly Measurand[];

/** The measurands whose sign is the direction of the flow (current, active and reactive power). */
export const SIGNED_MEASURANDS: ReadonlySet<Measurand> = new Set(
  MEASURANDS.filter((measurand) => DIRECTED_BY_SIGN[measurand]),
);

/** The unit a register's value is in once `scale` (and a scale factor) is applied. */
export type RegisterUnit =
  | 'V'
  | 'mV'
  | 'kV'
  | 'A'
  | 'mA'
  | 'W'
  | 'kW'
  | 'MW'
  | 'Wh'
  | 'kWh'
  | 'MWh'
  | 'Hz'
  | 'mHz'
  | 'var'
  | 'kvar'
  | '1'
  | '%';

/**
 * Which way a device counts power and current. `import-positive` is the Reading's convention
 * (the site draws from the grid, the load consumes); `export-positive` devices (Huawei's grid
 * meter, SolarEdge meters, every inverter's AC power) are negated by the decoder.
 */
export type PowerSign = 'import-positive' | 'export-positive';

export interface RegisterDefinition {
  measurand: Measurand;
  /** 0-based wire address of the first register of the value. */
  address: number;
  type: RegisterType;
  unit: RegisterUnit;
  /** The raw number times `scale` is the value in `unit`. Default 1. */
  scale?: number;
  /**
   * Address of a SunSpec-style scale factor (int16 `sunssf`): the value is also multiplied by
   * 10^sf. The planner reads it in the same request as the value, since devices may change it.
   */
  scaleFactorAddress?: number;
  /** Overrides the profile's word order for this register. */
  wordOrder?: WordOrder;
  /**
   * For devices that report import and export as two unsigned registers (B-Control P+ / P−):
   * registers of the same measurand are added, `export` ones subtracted. Default `import`.
   */
  direction?: 'import' | 'export';
  /** Raw values (hex, as stored, e.g. `0x7FFF`) that mean "not available" besides the defaults. */
  notAvailable?: string[];
  /** The vendor's own number for the register, shown as a hint ("30001", "3028"). */
  documented?: string;
  /** Set when sources disagree or nobody confirmed the value: says what is in doubt. */
  uncertain?: string;
}

/** Settings a profile suggests to the editor and the bus; the user may change every one. */
export interface ProfileDefaults {
  unitId?: number;
  tcpPort?: number;
  serial?: { baudRate: number; dataBits: 7 | 8; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 };
  /** A response timeout this device needs (slow gateways); the bus default otherwise. */
  timeoutMs?: number;
  /** Pause after the connection opens before the first request to this device. */
  pauseAfterConnectMs?: number;
  /** Shortest sensible poll interval for this device. */
  minPollIntervalMs?: number;
}

/** SunSpec devices: registers are found by walking the model chain, not at fixed addresses. */
export interface SunSpecDiscovery {
  /** Where the "SunS" marker may sit, tried in order. */
  baseAddresses: number[];
  /**
   * Models to read, in order of preference: the first one the device has is used. Their point
   * maps are in `models`.
   */
  preferredModels: number[];
  /** Point maps per model id: offsets count from the model's ID register (0 = ID, 1 = length). */
  models: Record<string, SunSpecModelMap>;
}

export interface SunSpecModelMap {
  name: string;
  points: SunSpecPoint[];
}

export interface SunSpecPoint {
  measurand: Measurand;
  offset: number;
  /** SunSpec types are mapped onto ours: acc32 is uint32 with 0 meaning "not implemented". */
  type: RegisterType;
  unit: RegisterUnit;
  /** Offset of the point's scale factor in the same model (int+SF models). */
  scaleFactorOffset?: number;
  notAvailable?: string[];
  direction?: 'import' | 'export';
}

export interface DeviceProfile {
  /** Stable identifier saved in flows: lower case, dashes. */
  id: string;
  /** What the editor's list shows. */
  name: string;
  manufacturer: string;
  /** Model names the profile covers. */
  models: string[];
  kind: 'meter' | 'inverter';
  phases: 1 | 3;
  /**
   * False when the register map could not be confirmed for this model (taken from a sibling's
   * map, say); the editor warns before use.
   */
  verified: boolean;
  functionCode: FunctionCode;
  wordOrder: WordOrder;
  powerSign: PowerSign;
  /**
   * Most registers one request may ask for: the Modbus limit is 125; some meters allow fewer
   * (the SDM72D-M manual: 30 values, i.e. 60 registers).
   */
  maxRegistersPerRequest: number;
  /**
   * Address ranges (inclusive) in which the device answers any read, so unused registers between
   * two wanted ones may be read to save a request. Outside them only adjacent values are joined.
   */
  readable?: [number, number][];
  /** Raw values per type that mean "not available", added to the defaults of `decode.ts`. */
  notAvailable?: Partial<Record<RegisterType, string[]>>;
  /**
   * How the sign of each phase current is found: `from-power` (most meters report the current's
   * magnitude: it takes the sign of the phase's power), or `as-read`.
   */
  currentSign?: 'from-power' | 'as-read';
  registers: RegisterDefinition[];
  sunspec?: SunSpecDiscovery;
  defaults?: ProfileDefaults;
  /** Things an integrator must know: quirks, settings to change on the device. */
  notes?: string[];
  /** Where the register map comes from. */
  sources: string[];
}
