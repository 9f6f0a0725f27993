/**
 * The validated site: a tree of circuits (main connection, sub-distributions, supply lines) with
 * per-phase limits, and the connectors that hang on them, every default filled in and every index
 * resolved; and how a problem with a configuration is reported.
 */
import { ConfigError } from '../../config-error';
import type { GridPhase, Network, Triple } from '../phases';
import type {
  ChargingMode,
  ControlConfig,
  MeterConfig,
  PhaseRotation,
  SheddingRule,
  SiteConfig,
} from './config';

/** A priority or mode written as a JSONata expression. */
export interface ExpressionSetting {
  expression: string;
}

export interface Circuit {
  index: number;
  id: string;
  name: string;
  parentIndex: number | undefined;
  childIndexes: number[];
  limitA: Triple;
  powerLimitW: number | undefined;
  headroomA: Triple;
  meter: Required<Omit<MeterConfig, 'node'>> | undefined;
  fallback: { otherLoadA: Triple | undefined; connectorLimitA: number | undefined };
  unbalanceLimitA: number | undefined;
  /** Indexes of the connectors anywhere below this circuit. */
  connectorIndexes: number[];
}

export interface Connector {
  index: number;
  /** `<chargePointId>/<connectorId>`, the source of the charger's own meter readings. */
  key: string;
  chargePointId: string;
  connectorId: number;
  name: string;
  circuitIndex: number;
  /** Circuit indexes from the connector's own circuit up to its root. */
  path: number[];
  phaseRotation: PhaseRotation;
  /** Grid phase (line conductor) of the charger's L1, L2, L3. */
  gridPhaseOf: readonly [GridPhase, GridPhase, GridPhase];
  phases: 1 | 3;
  /** The site's network: on IT a charger phase loads two conductors (phases.ts `gridPhasesFor`). */
  network: Network;
  minA: number;
  /** The minimum for a car on one phase (`minOnePhaseA`, default `minA`). */
  minOnePhaseA: number;
  /** The minimum for a car on more than one phase (`minThreePhaseA`, default `minA`). */
  minThreePhaseA: number;
  maxA: number;
  priority: number | ExpressionSetting | undefined;
  mode: ChargingMode | ExpressionSetting | undefined;
  canSwitchPhases: boolean;
  offlineA: number;
  /** The charger's own current step (ConnectorConfig.stepA); undefined: the site's `control.stepA`. */
  stepA: number | undefined;
}

export interface PvSettings {
  gridCircuitIndex: number | undefined;
  residualPowerW: number;
  batterySource: string | undefined;
  /** The PV inverters' reading sources (none: generation is not measured). */
  inverterSources: string[];
  batteryPrioritySocPercent: number;
  batteryMaxChargeW: number;
  batteryBufferSocPercent: number;
  enableDelayMs: number;
  disableDelayMs: number;
  phaseSwitchDownDelayMs: number;
  phaseSwitchUpDelayMs: number;
  phaseSwitchUpMarginA: number;
  phaseSwitchSettleMs: number;
  maxPhaseSwitchesPerSession: number;
}

/** A validated site: every default filled in, indexes resolved. */
export interface Site {
  /** TN or IT (phases.ts `Network`): what a connector's phases load. */
  network: Network;
  /**
   * Power per ampere on one conductor, V: W = Σ conductor currents × voltageV. TN: the
   * line-to-neutral voltage. IT: the line-to-line voltage / √3 (132.8 V at 3×230 V), exact for a
   * three-phase load (√3·230·I) and 15 % high for a single-phase one (counted 2 × 132.8 × I for
   * 230 × I): the safe side for a power limit. The configured value stays in `config.voltageV`.
   */
  voltageV: number;
  /** The IANA zone the load manager's words give clock times in (site/time-zone.ts). */
  timeZone: string;
  circuits: Circuit[];
  connectors: Connector[];
  rootIndexes: number[];
  shedding: SheddingRule;
  defaultMode: ChargingMode | ExpressionSetting;
  control: ControlConfig;
  pv: PvSettings;
  /** Things that work but look wrong (for example a child limit above its parent's). */
  warnings: SiteProblem[];
  /** The configuration it was made from (for export). */
  config: SiteConfig;
}

export interface SiteProblem {
  /** Where: `circuit "zone-a" limitA`, `connector "CP-1/1" circuit`, `pv.gridCircuit`. */
  field: string;
  message: string;
}

/** Refusal of a whole site configuration: every problem, not just the first. */
export class SiteConfigError extends ConfigError {
  constructor(readonly problems: SiteProblem[]) {
    const first = problems[0] ?? { field: 'site', message: 'invalid' };
    super(
      first.field,
      problems.length === 1
        ? first.message
        : `${first.message} (and ${problems.length - 1} more: ${problems
            .slice(1)
            .map((p) => `${p.field}: ${p.message}`)
            .join('; ')})`,
    );
    this.name = 'SiteConfigError';
  }
}

/** Charger phase (0 = its L1) to grid phase, for each rotation. */
const ROTATION_MAP: Record<PhaseRotation, readonly [GridPhase, GridPhase, GridPhase]> = {
  RST: [0, 1, 2],
  STR: [1, 2, 0],
  TRS: [2, 0, 1],
  RTS: [0, 2, 1],
  SRT: [1, 0, 2],
  TSR: [2, 1, 0],
};

export function gridPhasesOf(rotation: PhaseRotation): readonly [GridPhase, GridPhase, GridPhase] {
  return ROTATION_MAP[rotation];
}

/**
 * The connector's own minimum for a car charging on `carPhases` phases: `minOnePhaseA` for one
 * (always on a connector wired with one phase), `minThreePhaseA` for two or three. The load manager
 * knows a car's phases from its readings (phase detection); until then, those the connector is wired for.
 */
export function minimumForPhases(connector: Connector, carPhases: number): number {
  return connector.phases === 1 || carPhases === 1 ? connector.minOnePhaseA : connector.minThreePhaseA;
}

export function connectorKey(chargePointId: string, connectorId: number): string {
  return `${chargePointId}/${connectorId}`;
}

export interface SiteValidation {
  /** Set when there is no problem. */
  site?: Site;
  problems: SiteProblem[];
  warnings: SiteProblem[];
}
