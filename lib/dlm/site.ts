/**
 * The site model of the load manager: a tree of circuits (main connection, sub-distributions,
 * supply lines) with per-phase limits, and the connectors that hang on them. `SiteConfig` is
 * plain JSON (what the editor saves and the user imports/exports); `validateSite` turns it into a
 * `Site` with every default filled in, or lists every problem at once.
 *
 * This module gathers the site model's parts for the rest of the package: the configuration and
 * its defaults (site/config.ts), the validated model (site/model.ts), the validation
 * (site/validate.ts and the section readers it uses) and the per-phase types (phases.ts).
 */
export { GRID_PHASES, type GridPhase, type Triple, triple } from './phases';
export {
  CHARGING_MODES,
  type ChargingMode,
  type CircuitConfig,
  type ConnectorConfig,
  type ControlConfig,
  DEFAULT_CONTROL,
  DEFAULT_FALLBACK_CONNECTOR_A,
  DEFAULT_MAX_A,
  DEFAULT_MIN_A,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_UNBALANCE_LIMIT_A,
  DEFAULT_VOLTAGE_V,
  type FallbackConfig,
  METER_LOCATIONS,
  type MeterConfig,
  type MeterLocation,
  PHASE_ROTATIONS,
  type PhaseRotation,
  type PvConfig,
  SHEDDING_RULES,
  type SheddingRule,
  type SiteConfig,
} from './site/config';
export { describeValue, phaseLimitOf } from './site/fields';
export {
  type Circuit,
  type Connector,
  connectorKey,
  type ExpressionSetting,
  gridPhasesOf,
  type PvSettings,
  type Site,
  SiteConfigError,
  type SiteProblem,
  type SiteValidation,
} from './site/model';
export { parseSite, validateSite } from './site/validate';
