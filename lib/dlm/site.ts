/**
 * The site model of the load manager: a tree of circuits (main connection, sub-distributions,
 * supply lines) with per-phase limits, and the connectors that hang on them. `SiteConfig` is
 * plain JSON (what the editor saves and the user imports/exports); `validateSite` turns it into a
 * `Site` with every default filled in, or lists every problem at once.
 */
import jsonata from 'jsonata';
import { ConfigError } from '../config-error';

/** A value per grid phase: index 0, 1, 2 = grid L1, L2, L3. */
export type Triple = [number, number, number];
/** A grid phase as an index into a Triple. */
export type GridPhase = 0 | 1 | 2;
export const GRID_PHASES: readonly GridPhase[] = [0, 1, 2];

/**
 * OCPP `ConnectorPhaseRotation`: which grid phase each of the charger's L1, L2, L3 is wired to
 * (R, S, T = grid L1, L2, L3). `STR` means the charger's L1 is on grid L2, L2 on L3, L3 on L1.
 */
export const PHASE_ROTATIONS = ['RST', 'STR', 'TRS', 'RTS', 'SRT', 'TSR'] as const;
export type PhaseRotation = (typeof PHASE_ROTATIONS)[number];

export const CHARGING_MODES = ['fast', 'pv', 'minpv', 'off'] as const;
/**
 * `fast`: as much as the circuits allow; `pv`: only PV surplus (paused below the minimum);
 * `minpv`: the minimum always, PV surplus on top; `off`: paused.
 */
export type ChargingMode = (typeof CHARGING_MODES)[number];

export const SHEDDING_RULES = ['firstStarted', 'mostEnergyFirst'] as const;
/**
 * Who is paused when not every charging car can get its minimum: `firstStarted` keeps the
 * earliest-started sessions charging; `mostEnergyFirst` pauses the session that already received
 * the most energy.
 */
export type SheddingRule = (typeof SHEDDING_RULES)[number];

export const METER_LOCATIONS = ['includesChargers', 'otherLoadsOnly'] as const;
/**
 * Where a circuit's meter sits (Bender "External Meter Location"), and what the load manager
 * takes it to measure:
 *
 * - `includesChargers`: everything that flows through the circuit, that is every load below it:
 *   the chargers, the other loads on the circuit itself and everything on its child circuits. The
 *   other loads of the circuit are its reading minus what the chargers below draw (each at most
 *   what it may draw), and never less than what its child circuits count.
 * - `otherLoadsOnly`: loads on this circuit that are not chargers (the chargers are on a branch it
 *   does not measure). Whether it also sees the loads of the child circuits is not known, so the
 *   load manager takes the safe side: the other loads of the circuit are its reading PLUS what its
 *   child circuits count (their meters, their fallbacks). A meter that does see them is then
 *   counted twice (safe, but less for the chargers); `validateSite` warns where this can happen.
 *
 * A circuit without a meter counts what its child circuits count (the sum of its children): it is
 * taken to have no other loads of its own, even where a meter above it sees loads somewhere below
 * (it cannot tell where). Keep room for unmetered loads on such a circuit with `headroomA`.
 */
export type MeterLocation = (typeof METER_LOCATIONS)[number];

export interface MeterConfig {
  /** The `source` of the Readings this meter produces (the meter's name). */
  source: string;
  location: MeterLocation;
  /**
   * Data older than this makes the circuit fall back. Default 30 000 ms. Each phase has its own
   * age: a phase a reading does not carry (null, not a number) goes stale on its own.
   */
  staleAfterMs?: number;
  /**
   * Nothing below this meter generates (no PV, no battery feeding in). Only then is a reading that
   * carries only a total power used per phase (the whole total on every phase, the worst case);
   * otherwise export on one phase could hide import on another, and such a reading gives no
   * current data (the circuit falls back when nothing else arrives). Default false.
   */
  noGenerationBelow?: boolean;
}

/**
 * What a circuit assumes while its meter is stale. `otherLoadA` (Bender "External Load
 * Fallback"): the other loads are taken to be this current per phase; the safety invariant holds
 * with it. `connectorLimitA` (the Climkit gateway's 6 A): every connector below the circuit gets at
 * most this; the other loads are then taken at their last fresh value, so whether the breaker holds
 * depends on the operator's choice of the value. Both may be set; with neither, 6 A per connector.
 */
export interface FallbackConfig {
  otherLoadA?: number | Triple;
  connectorLimitA?: number;
}

export interface CircuitConfig {
  id: string;
  name?: string;
  /** The circuit this one is fed from; absent for the root (the grid connection). */
  parent?: string;
  /** Breaker/cable limit per phase in A: one number for all three phases, or [L1, L2, L3]. */
  limitA: number | Triple;
  /** Optional limit on the total active power through the circuit, W. */
  powerLimitW?: number;
  /** Current kept free per phase (Bender "External Load Headroom"). Default 0. */
  headroomA?: number | Triple;
  meter?: MeterConfig;
  fallback?: FallbackConfig;
  /**
   * Largest difference between the most and the least loaded grid phase that the connectors
   * below may cause (VDE-AR-N 4100: 4.6 kVA ≈ 20 A). Roots default to the site's `unbalanceLimitA`.
   */
  unbalanceLimitA?: number;
}

export interface ConnectorConfig {
  chargePointId: string;
  /** Default 1. */
  connectorId?: number;
  name?: string;
  /** The id of the circuit (supply line) the connector hangs on. */
  circuit: string;
  /** Default `RST`. */
  phaseRotation?: PhaseRotation;
  /** Phases wired to the connector: 1 (uses the charger's L1 only) or 3. Default 3. */
  phases?: 1 | 3;
  /** The lowest current a car takes (IEC 61851: 6 A; some cars need 7-8 A). Default 6. */
  minA?: number;
  /** Operator/installation/cable limit per phase. Default 32. */
  maxA?: number;
  /**
   * Higher is served first. A number, or a JSONata expression written as a string starting with
   * `=` (for example `"=connector.transaction.idTag in ['VIP-1'] ? 10 : 0"`). Default: the id tag's
   * priority, else 0.
   */
  priority?: number | string;
  /** A mode, or a JSONata expression starting with `=`. Default: the site's `defaultMode`. */
  mode?: ChargingMode | string;
  /** The charger can switch between 1 and 3 phases during a session. */
  canSwitchPhases?: boolean;
  /**
   * What the charger may draw per phase when it cannot be controlled: while it is offline or
   * before its state is known (its own fallback, Bender "Disconnected Limit"). Default `maxA`.
   */
  offlineA?: number;
}

/** Timers and thresholds of the controller; every field has a default (`DEFAULT_CONTROL`). */
export interface ControlConfig {
  /** At most one increase per connector per interval; decreases that protect a circuit are immediate. */
  minUpdateIntervalMs: number;
  /** Increases are ramped: at most this many A per second since the connector's last change. */
  rampUpAPerS: number;
  /** Set-point resolution (rounded down). */
  stepA: number;
  /** Changes smaller than this are not sent unless a circuit needs them. */
  minChangeA: number;
  /** A connector started by the load manager keeps charging at least this long, if it fits. */
  minOnMs: number;
  /** A connector paused by the load manager stays paused at least this long... */
  minOffMs: number;
  /**
   * ...doubled for each further pause that follows a charge shorter than this, up to this (so a
   * recurring peak does not switch a contactor every few minutes).
   */
  minOffMaxMs: number;
  /** A paused connector restarts only when its minimum plus this margin fits (start hysteresis). */
  startMarginA: number;
  /** How often the controller re-evaluates on its own (staleness, timers). */
  tickMs: number;
  /** A charger drawing more than its set-point plus this... */
  overdrawToleranceA: number;
  /**
   * ...for longer than this is reported and counted at what it draws; its set-point is not raised
   * while it is. Once it was, a further overdraw in the same session counts at once.
   */
  overdrawGraceMs: number;
  /**
   * A charger counted at what it draws is trusted again only when its own readings, measured after
   * its last set-point change, show it following for this long (two readings at least this far apart).
   */
  overdrawClearMs: number;
  /**
   * A charger is given this long to follow a decrease: its readings within this time after a change
   * are compared with the higher of the two set-points, and an increase of another connector that
   * needs the current a decrease frees waits until the decreased charger's reading shows it
   * followed, or this long.
   */
  decreaseSettleMs: number;
  /** A car drawing more than this below its set-point... */
  underDrawMarginA: number;
  /** ...for this long gets its set-point lowered to its draw plus `underDrawHeadroomA`. */
  underDrawAfterMs: number;
  underDrawHeadroomA: number;
  /**
   * A car is counted on fewer phases only after two readings of its charger, at least this far
   * apart and with none between them showing another phase, saw it use those phases only (a phase
   * not measured counts as used).
   */
  phaseDetectionMs: number;
  /** A charger's own current measurement older than this is not used. */
  connectorDrawStaleAfterMs: number;
  /** Summary on output 2 at least this often (and at once after a set-point changes). */
  summaryIntervalMs: number;
  /** `mostEnergyFirst`: a paused session replaces a charging one only with this much less energy. */
  shedHysteresisWh: number;
  /**
   * Count a car whose phases are not measured yet as a single-phase car on its L1 for the
   * unbalance limit (default false: on all its wired phases, as for the capacity).
   */
  strictUnbalance: boolean;
}

export interface PvConfig {
  /** The circuit whose meter is the grid meter (import positive). Default: the only root. */
  gridCircuit?: string;
  /** Kept back from the surplus as a household safety margin, W. Default 100. */
  residualPowerW?: number;
  /** Reading source of the home battery: `totalPowerW` positive while charging, `socPercent`. */
  batterySource?: string;
  /** While the battery's SoC is below this, its charge power is not for cars. Default 0 (cars first). */
  batteryPrioritySocPercent?: number;
  /**
   * The battery's highest charge power, W. While it has priority, what it could take beyond what it
   * takes now is kept back too (a battery only charges from what is exported, so without this the
   * cars would take the surplus first). Default 0.
   */
  batteryMaxChargeW?: number;
  /** Enough surplus for a car's minimum this long before a `pv` car starts. Default 60 000. */
  enableDelayMs?: number;
  /** Too little surplus this long before a `pv` car stops. Default 180 000. */
  disableDelayMs?: number;
  /** 3p → 1p after this long with too little for 3 phases. Default 180 000. */
  phaseSwitchDownDelayMs?: number;
  /** 1p → 3p after this long with enough for 3 phases. Default 300 000. */
  phaseSwitchUpDelayMs?: number;
  /** Switch up only when the 3-phase minimum fits with this margin per phase, A. Default 1. */
  phaseSwitchUpMarginA?: number;
  /** After a switch the charger needs this long; both phase sets are counted meanwhile. Default 60 000. */
  phaseSwitchSettleMs?: number;
  /** Per session. Default 4. */
  maxPhaseSwitchesPerSession?: number;
}

export interface SiteConfig {
  /** Line-to-neutral voltage used to turn currents into power. Default 230. */
  voltageV?: number;
  circuits: CircuitConfig[];
  connectors: ConnectorConfig[];
  /** Default `firstStarted`. */
  shedding?: SheddingRule;
  /** Unbalance limit at the root circuits, A; `null` turns it off. Default 20. */
  unbalanceLimitA?: number | null;
  /** Mode of connectors that set none. Default `fast`. */
  defaultMode?: ChargingMode | string;
  control?: Partial<ControlConfig>;
  pv?: PvConfig;
}

export const DEFAULT_CONTROL: Readonly<ControlConfig> = {
  minUpdateIntervalMs: 30_000,
  rampUpAPerS: 0.5,
  stepA: 0.1,
  minChangeA: 1,
  minOnMs: 120_000,
  minOffMs: 60_000,
  minOffMaxMs: 900_000,
  startMarginA: 1,
  tickMs: 1_000,
  overdrawToleranceA: 1,
  overdrawGraceMs: 20_000,
  overdrawClearMs: 60_000,
  decreaseSettleMs: 10_000,
  underDrawMarginA: 2,
  underDrawAfterMs: 60_000,
  underDrawHeadroomA: 1,
  phaseDetectionMs: 30_000,
  connectorDrawStaleAfterMs: 180_000,
  summaryIntervalMs: 10_000,
  shedHysteresisWh: 2_000,
  strictUnbalance: false,
};

export const DEFAULT_STALE_AFTER_MS = 30_000;
export const DEFAULT_FALLBACK_CONNECTOR_A = 6;
export const DEFAULT_UNBALANCE_LIMIT_A = 20;
export const DEFAULT_MIN_A = 6;
export const DEFAULT_MAX_A = 32;
export const DEFAULT_VOLTAGE_V = 230;

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
  meter: Required<MeterConfig> | undefined;
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
  /** Grid phase of the charger's L1, L2, L3. */
  gridPhaseOf: readonly [GridPhase, GridPhase, GridPhase];
  phases: 1 | 3;
  minA: number;
  maxA: number;
  priority: number | ExpressionSetting | undefined;
  mode: ChargingMode | ExpressionSetting | undefined;
  canSwitchPhases: boolean;
  offlineA: number;
}

export interface PvSettings {
  gridCircuitIndex: number | undefined;
  residualPowerW: number;
  batterySource: string | undefined;
  batteryPrioritySocPercent: number;
  batteryMaxChargeW: number;
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
  voltageV: number;
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

export function connectorKey(chargePointId: string, connectorId: number): string {
  return `${chargePointId}/${connectorId}`;
}

export function triple(value: number): Triple {
  return [value, value, value];
}

export interface SiteValidation {
  /** Set when there is no problem. */
  site?: Site;
  problems: SiteProblem[];
  warnings: SiteProblem[];
}

/** Returns the validated site, or throws a SiteConfigError listing every problem. */
export function parseSite(config: unknown): Site {
  const result = validateSite(config);
  if (!result.site) throw new SiteConfigError(result.problems);
  return result.site;
}

/**
 * Checks a site configuration and reports every problem (refused) and warning (accepted but
 * suspicious), each naming the circuit or connector and the field.
 */
export function validateSite(input: unknown): SiteValidation {
  const problems: SiteProblem[] = [];
  const warnings: SiteProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const warn = (field: string, message: string) => warnings.push({ field, message });

  if (!isObject(input)) {
    return {
      problems: [{ field: 'site', message: 'expected an object with circuits and connectors' }],
      warnings,
    };
  }
  const config = input as unknown as SiteConfig;
  const voltageV = optionalNumber(
    config.voltageV,
    'voltageV',
    DEFAULT_VOLTAGE_V,
    { min: 50, max: 500 },
    problem,
  );
  const rawCircuits: unknown[] = Array.isArray(config.circuits) ? config.circuits : [];
  const rawConnectors: unknown[] = Array.isArray(config.connectors) ? config.connectors : [];
  if (!Array.isArray(config.circuits)) problem('circuits', 'expected a list of circuits');
  else if (rawCircuits.length === 0)
    problem('circuits', 'at least one circuit (the grid connection) is needed');
  if (config.connectors !== undefined && !Array.isArray(config.connectors)) {
    problem('connectors', 'expected a list of connectors');
  }
  const shedding = choice(config.shedding, 'shedding', SHEDDING_RULES, 'firstStarted', problem);
  const siteUnbalance =
    config.unbalanceLimitA === null
      ? undefined
      : optionalNumber(
          config.unbalanceLimitA,
          'unbalanceLimitA',
          DEFAULT_UNBALANCE_LIMIT_A,
          { min: 0 },
          problem,
        );
  const defaultMode = modeSetting(config.defaultMode, 'defaultMode', problem) ?? 'fast';
  const control = controlSettings(config.control, problem);

  // Circuits: ids first, so parents can be resolved in any order.
  const circuits: Circuit[] = [];
  const circuitIndex = new Map<string, number>();
  rawCircuits.forEach((raw, position) => {
    const at = `circuits[${position}]`;
    if (!isObject(raw)) {
      problem(at, 'expected an object');
      return;
    }
    const id = typeof raw.id === 'string' ? raw.id.trim() : '';
    if (!id) {
      problem(`${at}.id`, 'every circuit needs an id');
      return;
    }
    const where = `circuit "${id}"`;
    if (circuitIndex.has(id)) {
      problem(`${where} id`, 'is used by more than one circuit');
      return;
    }
    const limitA = phaseValues(raw.limitA, `${where} limitA`, problem, { required: true });
    const headroomA = phaseValues(raw.headroomA, `${where} headroomA`, problem) ?? triple(0);
    const powerLimitW =
      raw.powerLimitW === undefined || raw.powerLimitW === null
        ? undefined
        : optionalNumber(raw.powerLimitW, `${where} powerLimitW`, 0, { min: 0 }, problem);
    let meter: Circuit['meter'];
    if (raw.meter !== undefined && raw.meter !== null) {
      if (!isObject(raw.meter)) problem(`${where} meter`, 'expected { source, location }');
      else {
        const source = typeof raw.meter.source === 'string' ? raw.meter.source.trim() : '';
        if (!source) problem(`${where} meter.source`, 'name the Reading source of the meter');
        const location = choice(
          raw.meter.location,
          `${where} meter.location`,
          METER_LOCATIONS,
          undefined,
          problem,
        );
        if (raw.meter.location === undefined) {
          problem(`${where} meter.location`, `say where the meter is: ${METER_LOCATIONS.join(' or ')}`);
        }
        const staleAfterMs = optionalNumber(
          raw.meter.staleAfterMs,
          `${where} meter.staleAfterMs`,
          DEFAULT_STALE_AFTER_MS,
          { min: 1000 },
          problem,
        );
        const noGenerationBelow = raw.meter.noGenerationBelow ?? false;
        if (typeof noGenerationBelow !== 'boolean') {
          problem(
            `${where} meter.noGenerationBelow`,
            `${JSON.stringify(noGenerationBelow)} is not true or false`,
          );
        }
        if (source && location) {
          meter = { source, location, staleAfterMs, noGenerationBelow: noGenerationBelow === true };
        }
      }
    }
    const fallbackRaw = isObject(raw.fallback) ? raw.fallback : {};
    if (raw.fallback !== undefined && !isObject(raw.fallback)) {
      problem(`${where} fallback`, 'expected { otherLoadA, connectorLimitA }');
    }
    const otherLoadA = phaseValues(fallbackRaw.otherLoadA, `${where} fallback.otherLoadA`, problem);
    let connectorLimitA =
      fallbackRaw.connectorLimitA === undefined || fallbackRaw.connectorLimitA === null
        ? undefined
        : optionalNumber(
            fallbackRaw.connectorLimitA,
            `${where} fallback.connectorLimitA`,
            0,
            { min: 0 },
            problem,
          );
    if (otherLoadA === undefined && connectorLimitA === undefined)
      connectorLimitA = DEFAULT_FALLBACK_CONNECTOR_A;
    const unbalanceLimitA =
      raw.unbalanceLimitA === undefined || raw.unbalanceLimitA === null
        ? undefined
        : optionalNumber(raw.unbalanceLimitA, `${where} unbalanceLimitA`, 0, { min: 0 }, problem);
    circuitIndex.set(id, circuits.length);
    circuits.push({
      index: circuits.length,
      id,
      name: typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : id,
      parentIndex: undefined,
      childIndexes: [],
      limitA: limitA ?? triple(0),
      powerLimitW,
      headroomA,
      meter,
      fallback: { otherLoadA, connectorLimitA },
      unbalanceLimitA,
      connectorIndexes: [],
    });
    if (limitA && headroomA.some((h, p) => h >= (limitA[p] ?? 0) && (limitA[p] ?? 0) > 0)) {
      warn(`${where} headroomA`, 'leaves nothing for the chargers on at least one phase');
    }
  });

  // Parents, then cycles.
  rawCircuits.forEach((raw) => {
    if (!isObject(raw) || typeof raw.id !== 'string') return;
    const index = circuitIndex.get(raw.id.trim());
    const circuit = index === undefined ? undefined : circuits[index];
    if (!circuit || raw.parent === undefined || raw.parent === null || raw.parent === '') return;
    const where = `circuit "${circuit.id}" parent`;
    const parentIndex = typeof raw.parent === 'string' ? circuitIndex.get(raw.parent.trim()) : undefined;
    if (parentIndex === undefined) {
      problem(where, `no circuit has the id "${String(raw.parent)}"`);
      return;
    }
    if (parentIndex === circuit.index) {
      problem(where, 'a circuit cannot feed itself');
      return;
    }
    circuit.parentIndex = parentIndex;
  });
  const inCycle = new Set<number>();
  for (const circuit of circuits) {
    const seen = new Set<number>();
    let at: Circuit | undefined = circuit;
    while (at && at.parentIndex !== undefined) {
      if (seen.has(at.index)) {
        if (!inCycle.has(circuit.index)) {
          const cycle = [...seen].map((i) => circuits[i]?.id).join(' → ');
          problem(
            `circuit "${circuit.id}" parent`,
            `the circuits form a cycle (${cycle}); the tree needs a root`,
          );
          for (const i of seen) inCycle.add(i);
        }
        break;
      }
      seen.add(at.index);
      at = circuits[at.parentIndex];
    }
  }
  if (inCycle.size === 0) {
    for (const circuit of circuits) {
      if (circuit.parentIndex === undefined) continue;
      circuits[circuit.parentIndex]?.childIndexes.push(circuit.index);
      const parent = circuits[circuit.parentIndex];
      if (parent) {
        const above = circuit.limitA.flatMap((limit, p) =>
          limit > (parent.limitA[p] ?? 0) ? [`L${p + 1} ${limit} A`] : [],
        );
        if (above.length > 0) {
          warn(
            `circuit "${circuit.id}" limitA`,
            `${above.join(', ')} above its parent "${parent.id}" (${parent.limitA.join('/')} A); the parent's limit applies`,
          );
        }
      }
    }
  }
  const rootIndexes = circuits.filter((c) => c.parentIndex === undefined).map((c) => c.index);
  for (const index of rootIndexes) {
    const root = circuits[index];
    if (root && root.unbalanceLimitA === undefined) root.unbalanceLimitA = siteUnbalance;
  }
  const meterSources = new Map<string, string>();
  for (const circuit of circuits) {
    if (!circuit.meter) continue;
    const other = meterSources.get(circuit.meter.source);
    if (other) {
      problem(
        `circuit "${circuit.id}" meter.source`,
        `"${circuit.meter.source}" is already the meter of circuit "${other}"`,
      );
    }
    meterSources.set(circuit.meter.source, circuit.id);
  }

  // Connectors.
  const connectors: Connector[] = [];
  const connectorKeys = new Set<string>();
  rawConnectors.forEach((raw, position) => {
    const at = `connectors[${position}]`;
    if (!isObject(raw)) {
      problem(at, 'expected an object');
      return;
    }
    const chargePointId = typeof raw.chargePointId === 'string' ? raw.chargePointId.trim() : '';
    if (!chargePointId) {
      problem(`${at}.chargePointId`, 'every connector needs its charger identity');
      return;
    }
    const connectorId = optionalNumber(
      raw.connectorId,
      `${at}.connectorId`,
      1,
      { min: 1, integer: true },
      problem,
    );
    const key = connectorKey(chargePointId, connectorId);
    const where = `connector "${key}"`;
    if (connectorKeys.has(key)) {
      problem(where, 'is listed more than once');
      return;
    }
    connectorKeys.add(key);
    const circuitId = typeof raw.circuit === 'string' ? raw.circuit.trim() : '';
    const circuitIndexOf = circuitIndex.get(circuitId);
    if (!circuitId) problem(`${where} circuit`, 'name the circuit (supply line) the connector hangs on');
    else if (circuitIndexOf === undefined)
      problem(`${where} circuit`, `no circuit has the id "${circuitId}"`);
    const rotation =
      choice(raw.phaseRotation, `${where} phaseRotation`, PHASE_ROTATIONS, 'RST', problem) ?? 'RST';
    const phases = raw.phases === undefined || raw.phases === null ? 3 : raw.phases;
    if (phases !== 1 && phases !== 3) problem(`${where} phases`, `${String(raw.phases)} is not 1 or 3`);
    const minA = optionalNumber(raw.minA, `${where} minA`, DEFAULT_MIN_A, { min: 6, max: 80 }, problem);
    const maxA = optionalNumber(raw.maxA, `${where} maxA`, DEFAULT_MAX_A, { min: 0, max: 80 }, problem);
    if (minA > maxA) problem(`${where} minA`, `${minA} A is above maxA ${maxA} A`);
    const offlineA = optionalNumber(raw.offlineA, `${where} offlineA`, maxA, { min: 0, max: 80 }, problem);
    let priority: Connector['priority'];
    if (typeof raw.priority === 'string' && raw.priority.trim().startsWith('=')) {
      priority = expression(raw.priority, `${where} priority`, problem);
    } else if (raw.priority !== undefined && raw.priority !== null && raw.priority !== '') {
      priority = optionalNumber(raw.priority, `${where} priority`, 0, {}, problem);
    }
    const mode = modeSetting(raw.mode, `${where} mode`, problem);
    const canSwitchPhases = raw.canSwitchPhases === true;
    if (canSwitchPhases && phases !== 3) {
      warn(`${where} canSwitchPhases`, 'only a connector wired with 3 phases can switch; ignored');
    }
    if (circuitIndexOf === undefined) return;
    connectors.push({
      index: connectors.length,
      key,
      chargePointId,
      connectorId,
      name: typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : key,
      circuitIndex: circuitIndexOf,
      path: [],
      phaseRotation: rotation,
      gridPhaseOf: gridPhasesOf(rotation),
      phases: phases === 1 ? 1 : 3,
      minA,
      maxA,
      priority,
      mode,
      canSwitchPhases: canSwitchPhases && phases === 3,
      offlineA,
    });
  });

  const pv = pvSettings(config.pv, circuitIndex, circuits, rootIndexes, problem);

  if (problems.length > 0 || inCycle.size > 0) return { problems, warnings };

  for (const connector of connectors) {
    let at: number | undefined = connector.circuitIndex;
    while (at !== undefined) {
      connector.path.push(at);
      const circuit: Circuit | undefined = circuits[at];
      circuit?.connectorIndexes.push(connector.index);
      at = circuit?.parentIndex;
    }
  }
  // An `otherLoadsOnly` meter above circuits that count other loads of their own: their loads are
  // added to its reading (the safe side); if the meter sees them too, they count twice.
  const descendantsWithOthers = (circuit: Circuit): Circuit[] =>
    circuit.childIndexes.flatMap((i) => {
      const child = circuits[i];
      if (!child) return [];
      return child.meter ? [child] : descendantsWithOthers(child);
    });
  for (const circuit of circuits) {
    if (circuit.meter?.location !== 'otherLoadsOnly') continue;
    const below = descendantsWithOthers(circuit);
    if (below.length === 0) continue;
    warn(
      `circuit "${circuit.id}" meter.location`,
      `the other loads counted on ${below.map((c) => `"${c.id}"`).join(', ')} (below it) are added to what meter "${circuit.meter.source}" reads; if that meter measures them too they count twice (safe, but less current for the chargers)`,
    );
  }
  for (const circuit of circuits) {
    const limit = circuit.fallback.connectorLimitA;
    if (limit === undefined || circuit.fallback.otherLoadA !== undefined || !circuit.meter) continue;
    const onPhase = triple(0);
    for (const index of circuit.connectorIndexes) {
      const connector = connectors[index];
      if (!connector) continue;
      const used = connector.phases === 1 ? [connector.gridPhaseOf[0]] : GRID_PHASES;
      for (const p of used) onPhase[p] += Math.max(limit, 0) >= connector.minA ? limit : 0;
    }
    onPhase.forEach((total, p) => {
      const available = (circuit.limitA[p] ?? 0) - (circuit.headroomA[p] ?? 0);
      if (total > available) {
        warn(
          `circuit "${circuit.id}" fallback.connectorLimitA`,
          `while the meter is stale, ${limit} A for each of its connectors is ${round1(total)} A on L${p + 1}, above the ${round1(available)} A available; set fallback.otherLoadA for a fallback the load manager can guarantee`,
        );
      }
    });
  }

  return {
    site: {
      voltageV,
      circuits,
      connectors,
      rootIndexes,
      shedding: shedding ?? 'firstStarted',
      defaultMode,
      control,
      pv,
      warnings,
      config: structuredClone(config),
    },
    problems,
    warnings,
  };
}

function pvSettings(
  raw: unknown,
  circuitIndex: Map<string, number>,
  circuits: Circuit[],
  rootIndexes: number[],
  problem: (field: string, message: string) => void,
): PvSettings {
  const pv = isObject(raw) ? raw : {};
  if (raw !== undefined && raw !== null && !isObject(raw)) problem('pv', 'expected an object');
  let gridCircuitIndex: number | undefined;
  if (typeof pv.gridCircuit === 'string' && pv.gridCircuit.trim()) {
    gridCircuitIndex = circuitIndex.get(pv.gridCircuit.trim());
    if (gridCircuitIndex === undefined)
      problem('pv.gridCircuit', `no circuit has the id "${pv.gridCircuit}"`);
    else if (!circuits[gridCircuitIndex]?.meter) {
      problem('pv.gridCircuit', `circuit "${pv.gridCircuit}" has no meter to compute the surplus from`);
    }
  } else if (rootIndexes.length === 1 && circuits[rootIndexes[0] ?? -1]?.meter) {
    gridCircuitIndex = rootIndexes[0];
  }
  const number = (key: string, fallback: number, range: Range) =>
    optionalNumber(pv[key], `pv.${key}`, fallback, range, problem);
  const batterySource =
    typeof pv.batterySource === 'string' && pv.batterySource.trim() ? pv.batterySource.trim() : undefined;
  return {
    gridCircuitIndex,
    residualPowerW: number('residualPowerW', 100, { min: 0 }),
    batterySource,
    batteryPrioritySocPercent: number('batteryPrioritySocPercent', 0, { min: 0, max: 100 }),
    batteryMaxChargeW: number('batteryMaxChargeW', 0, { min: 0 }),
    enableDelayMs: number('enableDelayMs', 60_000, { min: 0 }),
    disableDelayMs: number('disableDelayMs', 180_000, { min: 0 }),
    phaseSwitchDownDelayMs: number('phaseSwitchDownDelayMs', 180_000, { min: 0 }),
    phaseSwitchUpDelayMs: number('phaseSwitchUpDelayMs', 300_000, { min: 0 }),
    phaseSwitchUpMarginA: number('phaseSwitchUpMarginA', 1, { min: 0 }),
    phaseSwitchSettleMs: number('phaseSwitchSettleMs', 60_000, { min: 0 }),
    maxPhaseSwitchesPerSession: number('maxPhaseSwitchesPerSession', 4, { min: 0, integer: true }),
  };
}

function controlSettings(raw: unknown, problem: (field: string, message: string) => void): ControlConfig {
  const control: ControlConfig = { ...DEFAULT_CONTROL };
  if (raw === undefined || raw === null) return control;
  if (!isObject(raw)) {
    problem('control', 'expected an object');
    return control;
  }
  for (const key of Object.keys(raw)) {
    if (!(key in DEFAULT_CONTROL)) {
      problem(`control.${key}`, `unknown setting (known: ${Object.keys(DEFAULT_CONTROL).join(', ')})`);
      continue;
    }
    if (key === 'strictUnbalance') {
      if (typeof raw[key] === 'boolean') control.strictUnbalance = raw[key];
      else problem(`control.${key}`, `${JSON.stringify(raw[key])} is not true or false`);
      continue;
    }
    const name = key as Exclude<keyof ControlConfig, 'strictUnbalance'>;
    const min = name === 'stepA' || name === 'tickMs' ? Number.MIN_VALUE : 0;
    control[name] = optionalNumber(raw[key], `control.${key}`, DEFAULT_CONTROL[name], { min }, problem);
  }
  return control;
}

function modeSetting(
  value: unknown,
  field: string,
  problem: (field: string, message: string) => void,
): ChargingMode | ExpressionSetting | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.trim().startsWith('=')) return expression(value, field, problem);
  return choice(value, field, CHARGING_MODES, undefined, problem);
}

function expression(
  text: string,
  field: string,
  problem: (field: string, message: string) => void,
): ExpressionSetting | undefined {
  const source = text.trim().slice(1).trim();
  try {
    jsonata(source);
    return { expression: source };
  } catch (err) {
    problem(field, `the JSONata expression does not parse: ${(err as Error).message}`);
    return undefined;
  }
}

interface Range {
  min?: number;
  max?: number;
  integer?: boolean;
}

function optionalNumber(
  value: unknown,
  field: string,
  fallback: number,
  range: Range,
  problem: (field: string, message: string) => void,
): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(number)) {
    problem(field, `${JSON.stringify(value)} is not a number`);
    return fallback;
  }
  if (range.integer && !Number.isInteger(number)) {
    problem(field, `${number} is not a whole number`);
    return fallback;
  }
  if (range.min !== undefined && number < range.min) {
    problem(
      field,
      number < 0 && range.min >= 0 ? `${number} is negative` : `${number} is below ${range.min}`,
    );
    return fallback;
  }
  if (range.max !== undefined && number > range.max) {
    problem(field, `${number} is above ${range.max}`);
    return fallback;
  }
  return number;
}

/**
 * A current limit per phase given by a command: one number for all three phases, or exactly three
 * numbers [L1, L2, L3], each finite and ≥ 0. Throws an Error naming `field` otherwise.
 */
export function phaseLimitOf(value: unknown, field: string): Triple {
  const list = Array.isArray(value) ? value : [value, value, value];
  if (list.length !== 3) {
    throw new Error(`${field}: expected one number or three [L1, L2, L3], got ${JSON.stringify(value)}`);
  }
  return list.map((item, p) => {
    if (typeof item !== 'number' || !Number.isFinite(item) || item < 0) {
      throw new Error(
        `${field}: L${p + 1} ${describeValue(item)} is not a number ≥ 0 (a limit that is not a number would remove the constraint)`,
      );
    }
    return item;
  }) as Triple;
}

/** A value as an error message shows it (NaN and Infinity as such, not as JSON's null). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function phaseValues(
  value: unknown,
  field: string,
  problem: (field: string, message: string) => void,
  options: { required?: boolean } = {},
): Triple | undefined {
  if (value === undefined || value === null || value === '') {
    if (options.required) problem(field, 'is required (A per phase: one number or [L1, L2, L3])');
    return undefined;
  }
  const list = Array.isArray(value) ? value : [value, value, value];
  if (list.length !== 3) {
    problem(field, 'expected one number or three, [L1, L2, L3]');
    return undefined;
  }
  const numbers = list.map((item) =>
    typeof item === 'number' ? item : typeof item === 'string' ? Number(item) : NaN,
  );
  const bad = numbers.findIndex((n) => !Number.isFinite(n));
  if (bad >= 0) {
    problem(field, `L${bad + 1} ${JSON.stringify(list[bad])} is not a number`);
    return undefined;
  }
  const negative = numbers.findIndex((n) => n < 0);
  if (negative >= 0) {
    problem(field, `L${negative + 1} ${numbers[negative]} A is negative`);
    return undefined;
  }
  return [numbers[0] ?? 0, numbers[1] ?? 0, numbers[2] ?? 0];
}

function choice<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  fallback: T | undefined,
  problem: (field: string, message: string) => void,
): T | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problem(field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return fallback;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
