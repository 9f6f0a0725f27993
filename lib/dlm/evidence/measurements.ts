/**
 * Measurements stage: what the meters and the chargers measured, and when. It owns the circuit
 * meters' readings (each phase stamped and aging on its own), the battery's reading, and per
 * connector the newest draw sample and a short draw history. It answers the time-alignment
 * question of the fail-safe and of the PV surplus: what did a charger draw when a circuit meter
 * measured (`drawSince`, `drawInForceAt`)?
 * It judges nothing: staleness is the circuits stage's, overdraw the observer's.
 */
import type { PerPhase, Reading } from '../../contracts';
import { isoMs } from '../../time';
import { finiteOrUndefined, perPhase } from '../inputs';
import { GRID_PHASES, type GridPhase, ONE_PHASE, sum, type Triple, toGrid, wiredPhases } from '../phases';
import type { AllFields } from '../site/all-fields';
import { describeValue } from '../site/fields';
import type { Circuit, Connector, Site } from '../site/model';
import type { PlausibilityNote } from './meter-plausibility';

/** Measurements kept per connector to compare a circuit meter's older reading with. */
const DRAW_HISTORY = 6;

/** A value and when it was measured. */
export interface Stamped {
  value: number;
  atMs: number;
}

/** What a circuit's meter measured (the readings part of a meter's record). */
export interface MeterReadings {
  /** The meter's source when this was recorded (a replaced site may give the circuit another meter). */
  source: string;
  /** Per grid phase: the newest current and when it was measured. Each phase ages on its own. */
  phaseA: [Stamped | undefined, Stamped | undefined, Stamped | undefined];
  /** Total active power (import positive) and when it was measured. */
  powerW?: Stamped;
  /**
   * The meter said it is stale (a message with `stale: true`: its connection lost, its reads
   * failing): since when (`atMs`), why, and the newest value held then. Until a reading measured
   * after that value comes, the circuits stage counts every phase as stale, however young the
   * values held are.
   */
  reportedStale?: { atMs: number; why: string; newestMs: number };
}

/**
 * What the circuits stage notes about a meter between updates; kept with the meter's readings
 * (a replaced site keeps both, or neither), written only by the circuits stage.
 */
export interface MeterNotes extends PlausibilityNote {
  /** `fresh`, or which phases were stale or never read, as the last update saw it (log lines on change). */
  status?: string;
  /** Per grid phase, the other loads of the newest reading taken with no raise and no decrease open below (evidence/charger-draw.ts). */
  settledA?: [Stamped | undefined, Stamped | undefined, Stamped | undefined];
}

export type MeterRuntime = MeterReadings & MeterNotes;

/** One measurement of a charger's own currents (a connector state's currents, or its meter's reading). */
export interface DrawSample {
  /** Charger phases L1..L3; null where not measured. */
  chargerA: PerPhase;
  /** When it was measured: the reading's timestamp, the state's lastSeen, or its arrival. */
  atMs: number;
  /**
   * When it reached the central system (a connector state's lastSeen), else when it was measured:
   * compared with when the charger confirmed a limit (ConnectorState.limitInForce.since).
   */
  receivedMs: number;
  /** Increases with every new sample of the connector (a repeat is not a new sample). */
  seq: number;
  /** `chargerA` per grid phase through the rotation of `takenFor` (read it with `drawGrid`). */
  gridA: Readonly<Triple>;
  /** The connector (of the site model at the time) it was taken for. */
  takenFor: Connector;
  /** What a connector state carried with it, to tell a repeated state from a new measurement. */
  identity?: string;
  /** The charger reported its current without a phase: `chargerA` is that value on every wired phase. */
  unphased?: true;
}

/** The measurements part of a connector's record (written only here). */
export interface DrawRecord {
  /** The newest measurement of the charger's own currents. */
  draw?: DrawSample;
  drawSeq: number;
  /**
   * The last few measurements (charger phases), oldest first, and a zero where a set-point above
   * 0 followed none: what a circuit meter's older reading is compared with (chargersDrawBelow).
   * Such a zero is `assumed`: not a reading (the frozen rule compares readings only).
   */
  drawHistory: { atMs: number; chargerA: PerPhase; assumed?: true }[];
}

export function newDrawRecord(): AllFields<DrawRecord> {
  return { draw: undefined, drawSeq: 0, drawHistory: [] };
}

/** The battery's newest reading (PV surplus). */
export interface BatteryReading {
  powerW?: number;
  socPercent?: number;
  atMs: number;
}

/** A PV inverter's newest reading: what it generates per grid phase, A (at least 0). */
export interface GenerationReading {
  perPhaseA: Triple;
  atMs: number;
  /** The reading before it (a meter's older reading may have seen more generation). */
  previousA: Triple | undefined;
}

export class Measurements {
  /** By circuit id. */
  private meters = new Map<string, MeterRuntime>();
  private batteryReading: BatteryReading | undefined;
  /** By inverter source. */
  private readonly inverters = new Map<string, GenerationReading>();

  /** The inverter's newest reading, if any. */
  inverter(source: string): GenerationReading | undefined {
    return this.inverters.get(source);
  }

  /** The battery's newest reading, if any. */
  get battery(): BatteryReading | undefined {
    return this.batteryReading;
  }

  /**
   * Takes a meter reading: a circuit's meter, a charger's own meter (`<chargePointId>/<connectorId>`),
   * the battery. Values that are not numbers are taken as not measured (listed in `problems`).
   * Returns whether anything was taken.
   */
  ingest(
    site: Site,
    reading: Reading,
    now: number,
    drawOf: (connector: Connector) => DrawRecord,
    problems: string[],
    connectorOf: (key: string) => Connector | undefined = (key) => site.connectors.find((c) => c.key === key),
  ): boolean {
    if (typeof reading !== 'object' || reading === null || typeof reading.source !== 'string') {
      throw new Error(`reading: expected { source, timestamp, ... }, got ${describeValue(reading)}`);
    }
    const stampMs = typeof reading.timestamp === 'string' ? isoMs(reading.timestamp) : Number.NaN;
    const measuredAtMs = Number.isFinite(stampMs) ? Math.min(stampMs, now) : now;
    const where = `reading from "${reading.source}"`;
    const currentA = perPhase(reading.currentA, `${where} currentA`, problems);
    const powerW = perPhase(reading.powerW, `${where} powerW`, problems);
    const totalPowerW = finiteOrUndefined(reading.totalPowerW, `${where} totalPowerW`, problems);
    let used = false;
    for (const circuit of site.circuits) {
      if (circuit.meter?.source !== reading.source) continue;
      const meter = this.meter(circuit);
      const voltageV = site.voltageV;
      // Per phase: the current, else the phase's power / V (power factor 1).
      const phases: (number | undefined)[] = GRID_PHASES.map(
        (p) =>
          currentA?.[p] ??
          (powerW?.[p] === null || powerW?.[p] === undefined ? undefined : powerW[p] / voltageV),
      );
      if (phases.some((v) => v === undefined) && totalPowerW !== undefined) {
        if (circuit.meter.noGenerationBelow) {
          // Nothing below generates: the whole total on each phase it does not give is the worst case.
          for (const p of GRID_PHASES) phases[p] ??= Math.max(0, totalPowerW) / voltageV;
        } else if (phases.every((v) => v === undefined)) {
          problems.push(
            `${where}: only a total power; export on one phase could hide import on another, so it gives no current per phase (set meter.noGenerationBelow on circuit "${circuit.id}" if nothing below it generates)`,
          );
        }
      }
      const reported = meter.reportedStale;
      if (
        reported &&
        measuredAtMs > reported.newestMs &&
        (phases.some((v) => v !== undefined) || totalPowerW !== undefined)
      ) {
        // A reading newer than anything held when the meter said it was stale: it reads again.
        meter.reportedStale = undefined;
        used = true;
      }
      for (const p of GRID_PHASES) {
        const value = phases[p];
        const last = meter.phaseA[p];
        if (value === undefined || (last && measuredAtMs < last.atMs)) continue;
        meter.phaseA[p] = { value, atMs: measuredAtMs };
        used = true;
      }
      const total =
        totalPowerW ??
        (powerW?.every((v) => v !== null) ? sum(powerW as Triple) : undefined) ??
        (currentA?.every((v) => v !== null) ? sum(currentA as Triple) * voltageV : undefined);
      if (total !== undefined && (!meter.powerW || measuredAtMs >= meter.powerW.atMs)) {
        meter.powerW = { value: total, atMs: measuredAtMs };
        used = true;
      }
    }
    const connector = connectorOf(reading.source);
    const unphasedA = currentA
      ? undefined
      : finiteOrUndefined(reading.currentUnphasedA, `${where} currentUnphasedA`, problems);
    const chargerA = currentA ?? (connector && unphasedOn(connector, unphasedA));
    if (connector && chargerA) {
      const identity = `reading:${JSON.stringify(chargerA)}`;
      const unphased = currentA === undefined;
      if (
        takeDraw(connector, drawOf(connector), chargerA, measuredAtMs, identity, true, measuredAtMs, unphased)
      )
        used = true;
    }
    if (site.pv.inverterSources.includes(reading.source)) {
      const perPhaseA = generatedPerPhase(currentA, powerW, totalPowerW, site.voltageV);
      const last = this.inverters.get(reading.source);
      if (perPhaseA && (!last || measuredAtMs >= last.atMs)) {
        this.inverters.set(reading.source, { perPhaseA, atMs: measuredAtMs, previousA: last?.perPhaseA });
        used = true;
      }
    }
    if (site.pv.batterySource === reading.source) {
      const batteryW = totalPowerW ?? (powerW?.every((v) => v !== null) ? sum(powerW as Triple) : undefined);
      const soc = finiteOrUndefined(reading.socPercent, `${where} socPercent`, problems);
      this.batteryReading = { powerW: batteryW, socPercent: soc, atMs: measuredAtMs };
      used = true;
    }
    return used;
  }

  /**
   * A meter says it is stale (its connection lost, its reads failing): every circuit it meters
   * counts it as stale from now until a reading newer than the values held comes (`ingest`). The
   * notice's own values (its last reading) are not taken. Returns whether any circuit has that
   * meter.
   */
  reportStale(site: Site, source: string, why: string, now: number): boolean {
    let used = false;
    for (const circuit of site.circuits) {
      if (circuit.meter?.source !== source) continue;
      const meter = this.meter(circuit);
      const held = [...meter.phaseA.map((sample) => sample?.atMs), meter.powerW?.atMs];
      const newestMs = Math.max(Number.NEGATIVE_INFINITY, ...held.filter((ms) => ms !== undefined));
      meter.reportedStale = { atMs: meter.reportedStale?.atMs ?? now, why, newestMs };
      used = true;
    }
    return used;
  }

  /** The record of the circuit's meter (a new one when the circuit has another meter now). */
  meter(circuit: Circuit): MeterRuntime {
    let meter = this.meters.get(circuit.id);
    if (!meter || meter.source !== circuit.meter?.source) {
      meter = {
        source: circuit.meter?.source ?? '',
        phaseA: [undefined, undefined, undefined],
      };
      this.meters.set(circuit.id, meter);
    }
    return meter;
  }

  /** The record of the circuit's meter if one was ever made (the summary only looks). */
  peekMeter(circuitId: string): MeterRuntime | undefined {
    return this.meters.get(circuitId);
  }

  /**
   * A replaced site: meters are kept by circuit id while the circuit keeps the same meter source;
   * the battery's reading goes when the battery's source changed.
   */
  adopt(site: Site, oldBatterySource: string | undefined): void {
    const old = this.meters;
    this.meters = new Map();
    for (const circuit of site.circuits) {
      const meter = old.get(circuit.id);
      if (meter && circuit.meter && meter.source === circuit.meter.source) this.meters.set(circuit.id, meter);
    }
    if (site.pv.batterySource !== oldBatterySource) this.batteryReading = undefined;
    for (const source of [...this.inverters.keys()])
      if (!site.pv.inverterSources.includes(source)) this.inverters.delete(source);
  }
}

/**
 * What an inverter's reading says it generates per grid phase, A, either sign: its currents where
 * it gives all three; else its power per phase; else its total on every phase (its phase is not
 * known: the most it can be on any).
 */
function generatedPerPhase(
  currentA: PerPhase | undefined,
  powerW: PerPhase | undefined,
  totalPowerW: number | undefined,
  voltageV: number,
): Triple | undefined {
  if (currentA?.every((v) => v !== null)) return (currentA as Triple).map(Math.abs) as Triple;
  if (powerW?.every((v) => v !== null))
    return (powerW as Triple).map((w) => Math.abs(w) / voltageV) as Triple;
  const total =
    totalPowerW ??
    (powerW?.some((v) => v !== null) ? sum(powerW.map((v) => Math.abs(v ?? 0)) as Triple) : undefined);
  if (total === undefined) return undefined;
  const each = Math.abs(total) / voltageV;
  return [each, each, each];
}

/**
 * Records a measurement of a charger's currents unless it is older than the one held, or (when
 * `dedupe`) the same measurement again. Returns whether it was taken.
 */
export function takeDraw(
  connector: Connector,
  record: DrawRecord,
  chargerA: PerPhase,
  atMs: number,
  identity: string,
  dedupe: boolean,
  receivedMs = atMs,
  unphased = false,
): boolean {
  const last = record.draw;
  if (last && atMs < last.atMs) return false;
  if (last && dedupe && last.identity === identity && (identity.startsWith('state:') || last.atMs === atMs))
    return false;
  record.drawSeq += 1;
  const copy = [...chargerA] as PerPhase;
  record.draw = {
    chargerA: copy,
    atMs,
    receivedMs,
    seq: record.drawSeq,
    identity,
    gridA: toGrid(connector, copy),
    takenFor: connector,
    ...(unphased ? { unphased: true as const } : {}),
  };
  remember(record, atMs, copy);
  return true;
}

/**
 * A current a charger reported without a phase (`Reading.currentUnphasedA`, EVlink's plain
 * `Current.Import`), as charger phases: the value on every phase the connector is wired for, the
 * safe side (what the car draws on which phase is not known; the profile verification takes such a
 * value as the current per phase too); on L1 only while the car was switched to one phase
 * (`onePhase`: it is given current there only). Undefined without a value.
 */
export function unphasedOn(
  connector: Connector,
  valueA: number | undefined,
  onePhase = false,
): PerPhase | undefined {
  if (valueA === undefined) return undefined;
  const chargerA: PerPhase = [0, 0, 0];
  for (const i of onePhase ? ONE_PHASE : wiredPhases(connector)) chargerA[i] = valueA;
  return chargerA;
}

/**
 * A sample's currents per grid phase: worked out once, when it is taken (every update's view of the
 * connector reads them); through the rotation of `connector` anew when it was taken for another (a
 * replaced site may have rotated the connector).
 */
export function drawGrid(connector: Connector, sample: DrawSample): Readonly<Triple> {
  return sample.takenFor === connector ? sample.gridA : toGrid(connector, sample.chargerA);
}

/** A connector state without currents: no draw is known until a measurement brings one again. */
export function forgetDraw(record: DrawRecord): void {
  record.draw = undefined;
}

/** Keeps a measurement (or a known zero, `assumed`) in the connector's short history. */
export function remember(record: DrawRecord, atMs: number, chargerA: PerPhase, assumed?: true): void {
  const history = record.drawHistory;
  const last = history[history.length - 1];
  if (last && atMs < last.atMs) return;
  history.push(assumed ? { atMs, chargerA, assumed } : { atMs, chargerA });
  if (history.length > DRAW_HISTORY) history.shift();
}

/**
 * The connector's total current (A, over its wired phases) in the measurement in force at `atMs`
 * (the newest at or before it) and when that was measured; undefined when none is that old.
 */
export function drawInForceAt(
  connector: Connector,
  record: DrawRecord,
  atMs: number,
): { totalA: number; atMs: number } | undefined {
  const history = record.drawHistory;
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i];
    if (!entry || entry.atMs > atMs) continue;
    let totalA = 0;
    // On IT, over its conductors (a single-phase car's current counts on both of its two).
    if (connector.network === 'IT') totalA = sum(toGrid(connector, entry.chargerA));
    else for (const phase of wiredPhases(connector)) totalA += entry.chargerA[phase as GridPhase] ?? 0;
    return { totalA, atMs: entry.atMs };
  }
  return undefined;
}

/**
 * Per grid phase, the lowest the connector drew from the measurement in force at `atMs` (the
 * newest at or before it; all kept when none is that old) to now, written into `lowest`; false
 * (and `lowest` unchanged) without any. (Into the caller's list: this runs for every charging
 * connector below a metered circuit on every update.)
 */
export function drawSince(connector: Connector, record: DrawRecord, atMs: number, lowest: Triple): boolean {
  const history = record.drawHistory;
  if (history.length === 0) return false;
  let from = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    if ((history[i]?.atMs ?? Number.POSITIVE_INFINITY) <= atMs) {
      from = i;
      break;
    }
  }
  lowest[0] = Number.POSITIVE_INFINITY;
  lowest[1] = Number.POSITIVE_INFINITY;
  lowest[2] = Number.POSITIVE_INFINITY;
  // toGrid per entry, summed into three numbers (on TN with no arrays per entry; IT adds the return).
  const wired = wiredPhases(connector);
  for (let i = from; i < history.length; i++) {
    const entry = history[i];
    if (!entry) continue;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    if (connector.network === 'IT') [g0, g1, g2] = toGrid(connector, entry.chargerA);
    else
      for (let w = 0; w < wired.length; w++) {
        const phase = wired[w] as GridPhase;
        const grid = connector.gridPhaseOf[phase] ?? 0;
        const amps = entry.chargerA[phase] ?? 0;
        if (grid === 0) g0 += amps;
        else if (grid === 1) g1 += amps;
        else if (grid === 2) g2 += amps;
      }
    lowest[0] = Math.min(lowest[0], g0);
    lowest[1] = Math.min(lowest[1], g1);
    lowest[2] = Math.min(lowest[2], g2);
  }
  return true;
}
