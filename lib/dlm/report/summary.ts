/**
 * The site summary the load manager publishes (output 2 of the node) for dashboards, and what the
 * site draws from the grid (siteLoad: the one owner of that figure).
 */

import type { ConnectorStatus } from '../../contracts';
import type { OfflineSummary } from '../control/offline-fit';
import type { Measurements } from '../evidence/measurements';
import type { PricesSummary } from '../modes/plan-figures';
import type { PvSummary } from '../modes/pv-surplus';
import type { PlanFigures } from '../parts';
import { GRID_PHASES, round2, sum, type Triple } from '../phases';
import type { ChargingMode, MeterLocation } from '../site/config';
import type { SiteLimitSummary } from '../site/limits';
import type { Site } from '../site/model';
import type { Said } from '../words';

export type { OfflineSummary } from '../control/offline-fit';
export type { PvSummary } from '../modes/pv-surplus';

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
    /** Why its fresh reading is not believed (evidence/meter-plausibility.ts): the meter counts as blind. */
    implausible?: string;
  };
  /** Why the circuit runs on its fallback, when it does. */
  fallback?: string;
  /** `fallback` in message keys and parameters (lib/dlm/words.ts). */
  fallbackWords?: Said[];
  /** Limits set by commands (a grid operator's signal, a tariff), each with its reason and end. */
  siteLimits?: SiteLimitSummary[];
  /** The loads the load manager does not control exceed the limit on some phase. */
  overloaded: boolean;
  /** What chargers not under control (offline, not reported yet) are counted at, per phase. */
  reservedA?: Triple;
  /** Not overloaded, but what those chargers may draw on their own leaves no room for the others. */
  fullOfReservations?: true;
  /** What it would carry if ampflow stopped now (control/offline-fit.ts): every charger on its own fallback. */
  offline?: OfflineSummary;
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
  /** The reason in message keys and parameters (lib/dlm/words.ts): what a dashboard words in its language. */
  reasonWords?: Said[];
  /** Grid phases (1..3) the connector is counted on. */
  gridPhases: number[];
  /** What the charger draws per grid phase (A), when known. */
  drawA?: Triple;
  /**
   * `energy`: it reports no current, and `drawA` is derived from its energy register's readings
   * (evidence/energy-draw.ts: per phase the most its phases make plausible).
   */
  measuredBy?: 'energy';
  /** What the connector counts per grid phase. */
  countedA: Triple;
  /** Set when it draws above its set-point (ignores the limit). */
  overdrawing?: boolean;
  /**
   * How far its car is taken to draw above its set-point this session, % of it (evidence/overshoot.ts
   * `overshootOf`: what its readings showed, or 3 % where they cannot show it): the allocation keeps
   * that much back on its circuits.
   */
  overshootPercent?: number;
  /**
   * Why its charger's newest refused reading this session could not be a current (not a finite
   * number, or beyond what its wiring carries: evidence/meter-plausibility.ts): such a reading is
   * no evidence, and the connector counts as not measured (at its set-point) until one it can carry.
   */
  refusedReading?: string;
  /**
   * Online but not under control: it refused its limit or never answered (the profile manager
   * said so); why, in the load manager's words. It is counted at what it may draw on its own.
   */
  uncontrolled?: string;
  /** `uncontrolled` in message keys and parameters (lib/dlm/words.ts). */
  uncontrolledWords?: Said[];
  /** Offline (or not reported yet) and held for at what it may draw on its own, A per grid phase. */
  reservedA?: Triple;
  /** Set when the car draws well below its set-point and the set-point follows its draw. */
  underDrawing?: boolean;
  pvEnabled?: boolean;
  energyWh?: number;
  phaseSwitches?: number;
  /** A `price` connector's plan in words (modes/price-plans.ts). */
  plan?: string;
  /** `plan` in message keys and parameters (lib/dlm/words.ts). */
  planWords?: Said[];
  /** The same plan in figures, while the departure planner plans for it (modes/plan-figures.ts). */
  planned?: PlanFigures;
}

/**
 * What the site draws from the grid now, from what each root circuit's meter actually measures
 * (siteLoad): a meter that includes the chargers is taken as it reads (PV and a battery below it
 * are in its reading); a meter of the other loads only, plus what the chargers below it draw; a
 * root with no fresh meter, its other loads as counted plus its chargers' draw (`counted`).
 */
export interface SiteLoadSummary {
  /** W, import positive (negative while the site exports). */
  gridW: number;
  /** Per grid phase, A (import positive). */
  gridA: Triple;
  /** `measured` where every root circuit's figure comes from a fresh meter, else `counted`. */
  basis: 'measured' | 'counted';
  /** What the chargers draw (their own meters; their set-point while they have not reported), W. */
  chargersW: number;
  chargersA: Triple;
  /** What the PV inverters generate, W (at least 0), while their readings are fresh. */
  pvW?: number;
  /** The home battery, W: charging positive, feeding in negative. */
  batteryW?: number;
  /** The root circuits' configured limits at the site voltage: the most their breakers carry, W. */
  maxW: number;
}

/** Where a reading of generation is fresh, what the site generates and stores (siteLoad). */
export interface GenerationNow {
  pvW?: number;
  batteryW?: number;
}

/**
 * What the site's inverters generate and its battery takes now, from readings no older than the
 * grid meter's `staleAfterMs` (30 s without a grid meter).
 */
export function generationNow(
  site: Pick<Site, 'pv' | 'circuits' | 'voltageV'>,
  measurements: Pick<Measurements, 'inverter' | 'battery'>,
  now: number,
): GenerationNow {
  const maxAgeMs = site.circuits[site.pv.gridCircuitIndex ?? -1]?.meter?.staleAfterMs ?? 30_000;
  let pvW: number | undefined;
  for (const source of site.pv.inverterSources) {
    const reading = measurements.inverter(source);
    if (!reading || now - reading.atMs > maxAgeMs) continue;
    pvW = (pvW ?? 0) + sum(reading.perPhaseA) * site.voltageV;
  }
  const battery = measurements.battery;
  const batteryW = battery && now - battery.atMs <= maxAgeMs ? battery.powerW : undefined;
  return {
    ...(pvW === undefined ? {} : { pvW: Math.max(0, pvW) }),
    ...(batteryW === undefined ? {} : { batteryW }),
  };
}

/**
 * What the site draws from the grid (SiteLoadSummary), from the circuits and connectors of a
 * summary: per root circuit, a fresh meter that includes the chargers as it reads, never with the
 * chargers added on top; a meter of the other loads only plus the chargers below it; otherwise the
 * other loads as counted plus the chargers below.
 */
export function siteLoad(
  circuits: readonly CircuitSummary[],
  connectors: readonly ConnectorSummary[],
  voltageV: number,
  generation: GenerationNow = {},
): SiteLoadSummary {
  const parentOf = new Map(circuits.map((c) => [c.id, c.parent]));
  const rootOf = (id: string): string => {
    let at = id;
    for (let guard = 0; guard <= circuits.length; guard++) {
      const parent = parentOf.get(at);
      if (parent === undefined || parent === '') return at;
      at = parent;
    }
    return at;
  };
  // What each connector draws: its own meter's reading, else (online, not reported) its set-point.
  const chargersA = new Map<string, Triple>();
  const allChargersA: Triple = [0, 0, 0];
  for (const connector of connectors) {
    // An offline charger's reservation is room held for it, not load: it is not added.
    const draw = connector.drawA ?? (connector.online ? connector.countedA : undefined);
    if (!draw) continue;
    const root = rootOf(connector.circuit);
    const below = chargersA.get(root) ?? [0, 0, 0];
    for (const p of GRID_PHASES) {
      below[p] += draw[p];
      allChargersA[p] += draw[p];
    }
    chargersA.set(root, below);
  }
  const gridA: Triple = [0, 0, 0];
  let gridW = 0;
  let maxW = 0;
  let measured = true;
  for (const circuit of circuits) {
    if (circuit.parent !== undefined && circuit.parent !== '') continue;
    maxW += sum(circuit.configuredLimitA) * voltageV;
    const below = chargersA.get(circuit.id) ?? [0, 0, 0];
    const meter = circuit.meter;
    const fresh =
      meter && !meter.stale && !meter.implausible && meter.measuredA ? meter.measuredA : undefined;
    if (fresh) {
      const meterW = meter?.measuredW ?? sum(fresh) * voltageV;
      const withChargers = meter?.location === 'includesChargers';
      for (const p of GRID_PHASES) gridA[p] += fresh[p] + (withChargers ? 0 : below[p]);
      gridW += meterW + (withChargers ? 0 : sum(below) * voltageV);
    } else {
      measured = false;
      for (const p of GRID_PHASES) gridA[p] += circuit.otherA[p] + below[p];
      gridW += (sum(circuit.otherA) + sum(below)) * voltageV;
    }
  }
  return {
    gridW: Math.round(gridW),
    gridA: gridA.map(round2) as Triple,
    basis: measured ? 'measured' : 'counted',
    chargersW: Math.round(sum(allChargersA) * voltageV),
    chargersA: allChargersA.map(round2) as Triple,
    ...(generation.pvW === undefined ? {} : { pvW: Math.round(generation.pvW) }),
    ...(generation.batteryW === undefined ? {} : { batteryW: Math.round(generation.batteryW) }),
    maxW: Math.round(maxW),
  };
}

export interface SiteSummary {
  at: string;
  /** The site's IANA time zone (`Europe/Berlin`): the zone of the clock times in the reasons. */
  timeZone: string;
  /** What the site draws from the grid now (siteLoad). */
  site: SiteLoadSummary;
  /** Connectors with a set-point above 0 and a car that charges. */
  charging: number;
  /** Sum of all set-points, A. */
  totalLimitA: number;
  circuits: CircuitSummary[];
  connectors: ConnectorSummary[];
  pv?: PvSummary;
  /**
   * The price now and until when prices are known (the `prices` input), and the curve of the next
   * 24 h with the slots each plan takes grid energy in (modes/plan-figures.ts).
   */
  prices?: PricesSummary;
  /** Things an operator should look at: stale meters, chargers ignoring limits, failing expressions. */
  problems: string[];
  /** Each of `problems` in message keys and parameters (lib/dlm/words.ts). */
  problemWords?: Said[][];
}
