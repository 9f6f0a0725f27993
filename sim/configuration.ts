import type { ChangeConfigurationResponse, GetConfigurationResponse } from '../lib/ocpp/messages';
import { PHASE_ROTATIONS } from '../lib/ocpp/phase-rotation';
import { parseMeasurandList } from './metering';

/**
 * The charge point's configuration keys (OCPP 1.6 chapter 9, the security whitepaper chapter 7 and
 * the keys the errata add), with the accessibility the spec gives each and value checks that decide
 * between Accepted and Rejected in ChangeConfiguration.
 */

export type ConfigurationValue = string | number | boolean;

/**
 * How a caller sets a key: a plain value (keeps the key's standard accessibility; an unknown key
 * becomes a writable vendor key), a value with its accessibility, or null to remove a standard key
 * (a charger that lacks it).
 */
export type ConfigurationOverride =
  | ConfigurationValue
  | {
      value: ConfigurationValue;
      readonly?: boolean;
      rebootRequired?: boolean;
      /** For a vendor key: an integer key, so ChangeConfiguration checks the value (default: text). */
      integer?: { min?: number; max?: number };
    }
  | null;

type Kind = 'boolean' | 'integer' | 'csl' | 'string';

interface KeyDefinition {
  kind: Kind;
  /** R: read-only, RW: read-write, W: write-only (never reported, AuthorizationKey). */
  access: 'R' | 'RW' | 'W';
  /** Smallest accepted integer. */
  min?: number;
  /** Largest accepted integer. */
  max?: number;
  /** Extra check of a new value; false answers Rejected. */
  accepts?: (value: string, store: ConfigurationStore) => boolean;
  /** The key whose value caps the number of items in this CSL. */
  maxItemsKey?: string;
  /** Accepted changes take effect after a reboot only. */
  rebootRequired?: boolean;
}

interface Entry {
  name: string;
  value: string;
  definition: KeyDefinition;
}

const measurands = (value: string) => parseMeasurandList(value) !== undefined;
const ROTATIONS: readonly string[] = PHASE_ROTATIONS;
const FEATURE_PROFILES = [
  'Core',
  'FirmwareManagement',
  'LocalAuthListManagement',
  'Reservation',
  'SmartCharging',
  'RemoteTrigger',
];

export const DEFAULT_FEATURE_PROFILES = FEATURE_PROFILES.join(',');

/**
 * Standard keys with their definitions, one row per key as the spec lists them: the rows (and other
 * tables of this shape) are alike by nature, on purpose. Defaults that depend on the charger come
 * from {@link standardDefaults}.
 */
const STANDARD_KEYS: Record<string, KeyDefinition> = {
  // Core profile (9.1)
  AllowOfflineTxForUnknownId: { kind: 'boolean', access: 'RW' },
  AuthorizationCacheEnabled: { kind: 'boolean', access: 'RW' },
  AuthorizeRemoteTxRequests: { kind: 'boolean', access: 'RW' },
  ClockAlignedDataInterval: { kind: 'integer', access: 'RW', min: 0 },
  ConnectionTimeOut: { kind: 'integer', access: 'RW', min: 1 },
  ConnectorPhaseRotation: {
    kind: 'csl',
    access: 'RW',
    maxItemsKey: 'ConnectorPhaseRotationMaxLength',
    // Rewiring is physical: the meter sees a new rotation only after a restart.
    rebootRequired: true,
    accepts: (value, store) =>
      value.split(',').every((item) => {
        const match = /^\s*(\d+)\.(\w+)\s*$/.exec(item);
        return (
          !!match &&
          Number(match[1]) <= store.int('NumberOfConnectors', 0) &&
          ROTATIONS.includes(match[2] ?? '')
        );
      }),
  },
  ConnectorPhaseRotationMaxLength: { kind: 'integer', access: 'R' },
  GetConfigurationMaxKeys: { kind: 'integer', access: 'R' },
  HeartbeatInterval: { kind: 'integer', access: 'RW', min: 1 },
  LocalAuthorizeOffline: { kind: 'boolean', access: 'RW' },
  LocalPreAuthorize: { kind: 'boolean', access: 'RW' },
  MeterValuesAlignedData: {
    kind: 'csl',
    access: 'RW',
    accepts: measurands,
    maxItemsKey: 'MeterValuesAlignedDataMaxLength',
  },
  MeterValuesAlignedDataMaxLength: { kind: 'integer', access: 'R' },
  MeterValuesSampledData: {
    kind: 'csl',
    access: 'RW',
    accepts: measurands,
    maxItemsKey: 'MeterValuesSampledDataMaxLength',
  },
  MeterValuesSampledDataMaxLength: { kind: 'integer', access: 'R' },
  MeterValueSampleInterval: { kind: 'integer', access: 'RW', min: 0 },
  // Errata v4.0 3.82: the message timeout gets a standard key.
  MessageTimeout: { kind: 'integer', access: 'RW', min: 1 },
  NumberOfConnectors: { kind: 'integer', access: 'R' },
  ResetRetries: { kind: 'integer', access: 'RW', min: 0 },
  StopTransactionOnEVSideDisconnect: { kind: 'boolean', access: 'RW' },
  StopTransactionOnInvalidId: { kind: 'boolean', access: 'RW' },
  // Errata v4.0 3.89.
  StopTransactionMaxMeterValues: { kind: 'integer', access: 'R' },
  StopTxnAlignedData: {
    kind: 'csl',
    access: 'RW',
    accepts: measurands,
    maxItemsKey: 'StopTxnAlignedDataMaxLength',
  },
  StopTxnAlignedDataMaxLength: { kind: 'integer', access: 'R' },
  StopTxnSampledData: {
    kind: 'csl',
    access: 'RW',
    accepts: measurands,
    maxItemsKey: 'StopTxnSampledDataMaxLength',
  },
  StopTxnSampledDataMaxLength: { kind: 'integer', access: 'R' },
  SupportedFeatureProfiles: { kind: 'csl', access: 'R' },
  TransactionMessageAttempts: { kind: 'integer', access: 'RW', min: 0 },
  TransactionMessageRetryInterval: { kind: 'integer', access: 'RW', min: 0 },
  UnlockConnectorOnEVSideDisconnect: { kind: 'boolean', access: 'RW' },
  // "Negative values are not allowed. ChangeConfiguration is expected to return a REJECTED result."
  WebSocketPingInterval: { kind: 'integer', access: 'RW', min: 0 },
  // Local auth list management (9.2)
  LocalAuthListEnabled: { kind: 'boolean', access: 'RW' },
  LocalAuthListMaxLength: { kind: 'integer', access: 'R' },
  SendLocalListMaxLength: { kind: 'integer', access: 'R' },
  // Reservation (9.3)
  ReserveConnectorZeroSupported: { kind: 'boolean', access: 'R' },
  // Smart charging (9.4)
  ChargeProfileMaxStackLevel: { kind: 'integer', access: 'R' },
  ChargingScheduleAllowedChargingRateUnit: { kind: 'csl', access: 'R' },
  ChargingScheduleMaxPeriods: { kind: 'integer', access: 'R' },
  ConnectorSwitch3to1PhaseSupported: { kind: 'boolean', access: 'R' },
  MaxChargingProfilesInstalled: { kind: 'integer', access: 'R' },
  // Firmware management (errata v4.0 3.88)
  SupportedFileTransferProtocols: { kind: 'csl', access: 'R' },
  // Security whitepaper chapter 7
  AdditionalRootCertificateCheck: { kind: 'boolean', access: 'R' },
  AuthorizationKey: {
    kind: 'string',
    access: 'W',
    // A00.FR.205: at least 16 bytes, hexadecimal, at most 40 hex digits (20 bytes).
    accepts: (value) => /^[0-9a-fA-F]{32,40}$/.test(value),
  },
  CertificateSignedMaxChainSize: { kind: 'integer', access: 'R' },
  CertificateStoreMaxLength: { kind: 'integer', access: 'R' },
  CpoName: { kind: 'string', access: 'RW' },
  SecurityProfile: { kind: 'integer', access: 'RW', min: 0 },
};

export interface ChargerFacts {
  /** Phases per connector, index 0 = connector 1. */
  connectorPhases: readonly (1 | 3)[];
  securityProfile: number;
  password?: string;
}

/** The value every standard key starts with on this charger. */
function standardDefaults(facts: ChargerFacts): Record<string, string> {
  const n = facts.connectorPhases.length;
  const rotation = [
    '0.RST',
    ...facts.connectorPhases.map((phases, index) => `${index + 1}.${phases === 3 ? 'RST' : 'NotApplicable'}`),
  ];
  return {
    AllowOfflineTxForUnknownId: 'false',
    AuthorizationCacheEnabled: 'true',
    AuthorizeRemoteTxRequests: 'false',
    ClockAlignedDataInterval: '0',
    ConnectionTimeOut: '120',
    ConnectorPhaseRotation: rotation.join(','),
    ConnectorPhaseRotationMaxLength: String(n + 1),
    GetConfigurationMaxKeys: '100',
    HeartbeatInterval: '300',
    LocalAuthorizeOffline: 'true',
    LocalPreAuthorize: 'false',
    MeterValuesAlignedData: 'Energy.Active.Import.Register',
    MeterValuesAlignedDataMaxLength: '12',
    MeterValuesSampledData:
      'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered,Voltage,SoC',
    MeterValuesSampledDataMaxLength: '12',
    MeterValueSampleInterval: '60',
    MessageTimeout: '30',
    NumberOfConnectors: String(n),
    ResetRetries: '3',
    StopTransactionOnEVSideDisconnect: 'true',
    StopTransactionOnInvalidId: 'true',
    StopTransactionMaxMeterValues: '100',
    StopTxnAlignedData: '',
    StopTxnAlignedDataMaxLength: '12',
    StopTxnSampledData: 'Energy.Active.Import.Register',
    StopTxnSampledDataMaxLength: '12',
    SupportedFeatureProfiles: DEFAULT_FEATURE_PROFILES,
    TransactionMessageAttempts: '3',
    TransactionMessageRetryInterval: '60',
    UnlockConnectorOnEVSideDisconnect: 'true',
    WebSocketPingInterval: '30',
    LocalAuthListEnabled: 'true',
    LocalAuthListMaxLength: '1000',
    SendLocalListMaxLength: '100',
    ReserveConnectorZeroSupported: 'false',
    ChargeProfileMaxStackLevel: '8',
    ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
    ChargingScheduleMaxPeriods: '24',
    ConnectorSwitch3to1PhaseSupported: 'false',
    MaxChargingProfilesInstalled: '20',
    SupportedFileTransferProtocols: 'FTP,FTPS,HTTP,HTTPS',
    AdditionalRootCertificateCheck: 'false',
    AuthorizationKey: facts.password ?? '',
    CertificateSignedMaxChainSize: '10000',
    CertificateStoreMaxLength: '10',
    CpoName: '',
    SecurityProfile: String(facts.securityProfile),
  };
}

export type ChangeStatus = ChangeConfigurationResponse['status'];

/**
 * Configuration keys by name. Names are CiString50: looked up without regard to case, reported
 * with the spelling of the spec.
 */
export class ConfigurationStore {
  private readonly entries = new Map<string, Entry>();

  constructor(facts: ChargerFacts, overrides: Record<string, ConfigurationOverride> = {}) {
    const defaults = standardDefaults(facts);
    for (const [name, definition] of Object.entries(STANDARD_KEYS)) {
      this.entries.set(name.toLowerCase(), { name, value: defaults[name] ?? '', definition });
    }
    for (const [name, override] of Object.entries(overrides)) {
      const existing = this.entries.get(name.toLowerCase());
      if (override === null) {
        this.entries.delete(name.toLowerCase());
        continue;
      }
      const spec = typeof override === 'object' ? override : { value: override };
      const definition: KeyDefinition = existing
        ? { ...existing.definition }
        : { kind: typeof spec.value === 'boolean' ? 'boolean' : 'string', access: 'RW' };
      if (spec.readonly !== undefined) definition.access = spec.readonly ? 'R' : 'RW';
      if (spec.rebootRequired !== undefined) definition.rebootRequired = spec.rebootRequired;
      if ('integer' in spec && spec.integer) {
        definition.kind = 'integer';
        if (spec.integer.min !== undefined) definition.min = spec.integer.min;
        if (spec.integer.max !== undefined) definition.max = spec.integer.max;
      }
      this.entries.set(name.toLowerCase(), {
        name: existing?.name ?? name,
        value: String(spec.value),
        definition,
      });
    }
  }

  has(key: string): boolean {
    return this.entries.has(key.toLowerCase());
  }

  get(key: string): string | undefined {
    return this.entries.get(key.toLowerCase())?.value;
  }

  /** An integer key, or `fallback` when the key is absent or not a number. */
  int(key: string, fallback: number): number {
    const value = Number(this.get(key));
    return this.get(key) !== undefined && Number.isInteger(value) ? value : fallback;
  }

  /** A boolean key, or `fallback` when the key is absent. */
  bool(key: string, fallback: boolean): boolean {
    const value = this.get(key)?.trim().toLowerCase();
    return value === undefined ? fallback : value === 'true';
  }

  /** The items of a comma-separated key (empty when absent). */
  csl(key: string): string[] {
    return (this.get(key) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** Sets a value from inside the charge point (the boot interval, an upgraded security profile). */
  setInternal(key: string, value: string): void {
    const entry = this.entries.get(key.toLowerCase());
    if (entry) entry.value = value;
  }

  /** GetConfiguration: every readable key, or the listed ones with the unknown ones apart. */
  report(keys?: readonly string[]): GetConfigurationResponse {
    const describe = (entry: Entry) => ({
      key: entry.name,
      readonly: entry.definition.access === 'R',
      // A write-only key is reported without its value (OCPP-J errata 3.10: "WriteOnly").
      ...(entry.definition.access === 'W' ? {} : { value: entry.value }),
    });
    if (!keys || keys.length === 0) {
      return {
        configurationKey: [...this.entries.values()].filter((e) => e.definition.access !== 'W').map(describe),
      };
    }
    const configurationKey: NonNullable<GetConfigurationResponse['configurationKey']> = [];
    const unknownKey: string[] = [];
    for (const key of keys) {
      const entry = this.entries.get(key.toLowerCase());
      if (entry) configurationKey.push(describe(entry));
      else unknownKey.push(key);
    }
    return unknownKey.length > 0 ? { configurationKey, unknownKey } : { configurationKey };
  }

  /**
   * ChangeConfiguration (5.3): NotSupported for an unknown key, Rejected for a read-only key or a
   * value out of range or format, RebootRequired when the change waits for a restart, else
   * Accepted. Only Accepted and RebootRequired change the stored value.
   */
  change(key: string, value: string): ChangeStatus {
    const entry = this.entries.get(key.toLowerCase());
    if (!entry) return 'NotSupported';
    const { definition } = entry;
    if (definition.access === 'R') return 'Rejected';
    const normalised = this.normalise(definition, value);
    if (normalised === undefined) return 'Rejected';
    entry.value = normalised;
    return definition.rebootRequired ? 'RebootRequired' : 'Accepted';
  }

  /** Whether `value` would be accepted for `key`, without changing anything. */
  wouldAccept(key: string, value: string): boolean {
    const entry = this.entries.get(key.toLowerCase());
    return (
      !!entry && entry.definition.access !== 'R' && this.normalise(entry.definition, value) !== undefined
    );
  }

  /** The canonical spelling of a key, for events and logs. */
  canonicalName(key: string): string | undefined {
    return this.entries.get(key.toLowerCase())?.name;
  }

  private normalise(definition: KeyDefinition, value: string): string | undefined {
    const trimmed = value.trim();
    switch (definition.kind) {
      case 'boolean': {
        const lower = trimmed.toLowerCase();
        return lower === 'true' || lower === 'false' ? lower : undefined;
      }
      case 'integer': {
        if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
        const number = Number(trimmed);
        if (definition.min !== undefined && number < definition.min) return undefined;
        if (definition.max !== undefined && number > definition.max) return undefined;
        return String(number);
      }
      case 'csl': {
        const items = trimmed === '' ? [] : trimmed.split(',');
        // "If this key is not set, a safe value of 1 (one) item SHOULD be assumed" (5.3).
        const maxItems = definition.maxItemsKey
          ? this.int(definition.maxItemsKey, 1)
          : Number.POSITIVE_INFINITY;
        if (items.length > maxItems) return undefined;
        if (definition.accepts && !definition.accepts(trimmed, this)) return undefined;
        return items.map((item) => item.trim()).join(',');
      }
      default:
        if (definition.accepts && !definition.accepts(value, this)) return undefined;
        return value;
    }
  }
}
