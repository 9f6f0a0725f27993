/**
 * Dynamic load management: the site model, the pure allocator and the stateful load manager.
 * The export lists repeat site.ts's on purpose: this is the package's public surface, site.ts the
 * room's own (duplicates lists them as a pair).
 */
export {
  type Allocation,
  type AllocationProblem,
  allocate,
  type Bound,
  type CircuitBudget,
  type ConnectorAllocation,
  type ConnectorDemand,
} from './allocation/allocate';
export { checkAllocation, type InvariantViolation } from './allocation/invariant';
export {
  type DlmCommand,
  LoadManager,
  type LoadManagerEvents,
  type LoadManagerOptions,
} from './load-manager';
export { DLM_COMMAND_TOPICS, type DlmInput, parseDlmMessage } from './messages';
export { ExpressionEvaluator, type ExpressionInput } from './modes/expressions';
export type { CircuitSummary, ConnectorSummary, PvSummary, SiteSummary } from './report/summary';
export {
  CHARGING_MODES,
  type ChargingMode,
  type Circuit,
  type CircuitConfig,
  type Connector,
  type ConnectorConfig,
  type ControlConfig,
  DEFAULT_CONTROL,
  type FallbackConfig,
  GRID_PHASES,
  type GridPhase,
  gridPhasesOf,
  METER_LOCATIONS,
  type MeterConfig,
  type MeterLocation,
  PHASE_ROTATIONS,
  type PhaseRotation,
  type PvConfig,
  parseSite,
  SHEDDING_RULES,
  type SheddingRule,
  type Site,
  type SiteConfig,
  SiteConfigError,
  type SiteProblem,
  type SiteValidation,
  type Triple,
  validateSite,
} from './site';
