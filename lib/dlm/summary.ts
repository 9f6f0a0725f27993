/** The site summary the load manager publishes (output 2 of the node) for dashboards. */
import type { ConnectorStatus } from '../contracts';
import type { Triple } from './phases';
import type { ChargingMode, MeterLocation } from './site-config';

export interface CircuitSummary {
  id: string;
  name: string;
  parent?: string;
  /** Limit per phase now in force (the configured one, lowered by a site limit). */
  limitA: Triple;
  configuredLimitA: Triple;
  headroomA: Triple;
  /**
   * Other loads as counted (measured, or the fallback while the meter is stale), including what
   * the child circuits count where the meter does not include them (or where there is no meter).
   */
  otherA: Triple;
  /** What the connectors below count: set-point on the phases they load, or what they draw above it. */
  chargersA: Triple;
  /** otherA + chargersA. */
  loadA: Triple;
  /** limitA − headroomA − loadA: what is left (negative means overloaded). */
  availableA: Triple;
  powerLimitW?: number;
  chargersPowerLimitW?: number;
  /** Difference between the most and least loaded phase caused by the connectors. */
  unbalanceA: number;
  unbalanceLimitA?: number;
  meter?: {
    source: string;
    location: MeterLocation;
    stale: boolean;
    /** Age of the newest value, ms; absent when none arrived yet. */
    ageMs?: number;
    /** The newest current per phase (once every phase was measured). */
    measuredA?: Triple;
    measuredW?: number;
    /** Phases (1..3) without a fresh value (each phase ages on its own). */
    stalePhases?: number[];
    /** Why its fresh reading is not believed (meter-plausibility.ts): the meter counts as blind. */
    implausible?: string;
  };
  /** Why the circuit runs on its fallback, when it does. */
  fallback?: string;
  /** Limits set by commands (a grid operator's signal, a tariff), each with its reason and end. */
  siteLimits?: {
    kind: 'limitA' | 'powerLimitW' | 'chargersPowerLimitW';
    value: number | Triple;
    reason: string;
    until?: string;
  }[];
  /** The loads the load manager does not control exceed the limit on some phase. */
  overloaded: boolean;
  /** What chargers not under control (offline, not reported yet) are counted at, per phase. */
  reservedA?: Triple;
  /** Not overloaded, but what those chargers may draw on their own leaves no room for the others. */
  fullOfReservations?: true;
  /** What it would carry if ampflow stopped now (offline-fit.ts): every charger on its own fallback. */
  offline?: OfflineSummary;
}

/**
 * A circuit if ampflow stopped now (Node-RED stopped, the network to the chargers down): every
 * connector at its own fallback plus the other loads at their learned peak, on its fullest phase.
 */
export interface OfflineSummary {
  /** The grid phase (1..3). */
  phase: number;
  totalA: number;
  /** What the connectors below would draw on it. */
  connectorsA: number;
  /** The other loads' learned peak (else the configured fallback.otherLoadA, else 0). */
  otherA: number;
  /** limit − headroom. */
  availableA: number;
  fits: boolean;
  /** Nothing is learned of the other loads yet, and no fallback.otherLoadA is set: counted at 0. */
  otherUnlearned?: true;
  /**
   * Chargers that keep their last limit offline, at their highest (offlineA) instead of their limit
   * now, while they are not held within the plan (control.holdKeptLimits false).
   */
  worstA?: number;
  worstPhase?: number;
  worstFits?: boolean;
}

export interface ConnectorSummary {
  chargePointId: string;
  connectorId: number;
  name: string;
  circuit: string;
  status?: ConnectorStatus;
  online: boolean;
  mode: ChargingMode;
  priority: number;
  limitA: number;
  phases: 1 | 2 | 3;
  reason: string;
  /** Grid phases (1..3) the connector is counted on. */
  gridPhases: number[];
  /** What the charger draws per grid phase (A), when known. */
  drawA?: Triple;
  /** What the connector counts per grid phase. */
  countedA: Triple;
  /** Set when it draws above its set-point (ignores the limit). */
  overdrawing?: boolean;
  /** Set when the car draws well below its set-point and the set-point follows its draw. */
  underDrawing?: boolean;
  pvEnabled?: boolean;
  energyWh?: number;
  phaseSwitches?: number;
}

export interface PvSummary {
  /** Grid power (import positive), W, when the grid meter is fresh. */
  gridPowerW?: number;
  batteryPowerW?: number;
  batterySocPercent?: number;
  /** Power the pv/minpv connectors may use together, W (absent when unknown). */
  surplusW?: number;
  /** What the pv/minpv connectors draw now, W. */
  chargersPowerW: number;
  /** The home battery is above its buffer SoC: it covers short dips of the pv cars' minimum. */
  batteryBuffer?: boolean;
}

export interface SiteSummary {
  at: string;
  /** Connectors with a set-point above 0 and a car that charges. */
  charging: number;
  /** Sum of all set-points, A. */
  totalLimitA: number;
  circuits: CircuitSummary[];
  connectors: ConnectorSummary[];
  pv?: PvSummary;
  /** Things an operator should look at: stale meters, chargers ignoring limits, failing expressions. */
  problems: string[];
}
