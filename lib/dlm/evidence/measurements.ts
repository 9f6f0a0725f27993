/**
 * Measurements stage: what the meters and the chargers measured, and when. It owns the circuit
 * meters' readings (each phase stamped and aging on its own), the battery's reading, and per
 * connector the newest draw sample and a short draw history. It answers the time-alignment
 * question of the fail-safe and of the PV surplus: what did a charger draw when a circuit meter
 * measured (`drawSince`, `drawInForceAt`)?
 * It judges nothing: staleness is the circuits stage's, overdraw the observer's.
 */
import type { PerPhase, Reading, StaleCause } from '../../contracts';
import { isoMs } from '../../time';
import { finiteOrUndefined, perPhase } from '../inputs';
import { GRID_PHASES, sum, type Triple } from '../phases';
import { describeValue } from '../site/fields';
import type { Circuit, Connector, Site } from '../site/model';
import { type DrawRecord, noteRefusal, takeDraw, unphasedOn } from './draws';
import { chargerReadingRefusal, type PlausibilityNote, withoutRefused } from './meter-plausibility';

export {
  type DrawRecord,
  type DrawSample,
  drawGrid,
  drawInForceAt,
  drawSince,
  drewAnything,
  forgetDraw,
  newDrawRecord,
  noteRefusal,
  remember,
  takeDraw,
  takeRefusal,
  unphasedOn,
} from './draws';

/** A value and when it was measured. */
/** A meter's own notice that it is stale: its words (as it sent them) and, from ampflow-meter, why as data. */
export interface StaleNotice {
  why?: string;
  cause?: StaleCause;
}

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
  reportedStale?: { atMs: number; notice: StaleNotice; newestMs: number };
}

/**
 * What the circuits stage notes about a meter between updates; kept with the meter's readings
 * (a replaced site keeps both, or neither), written only by the circuits stage.
 */
export interface MeterNotes extends PlausibilityNote {
  /** `fresh`, or which phases were stale or never read, as the last update saw it (log lines on change). */
  status?: string;
  /**
   * Per grid phase, what the other loads were counted at for the meter's newest sample and for the
   * one before it (evidence/charger-draw.ts explainRise: a sample's rise is measured from the one before).
   */
  countedA?: [OtherCounts | undefined, OtherCounts | undefined, OtherCounts | undefined];
}

/** What one sample of a meter's phase counted the other loads at, and learned as their peak. */
export interface OtherCount {
  atMs: number;
  counted: number;
  learned: number;
  /** The meter's reading less what the chargers drew at least then, and what their open raises allowed beyond it. */
  measuredA?: number;
  roomA?: number;
}

/** A phase's newest sample's count and the one before it (MeterNotes.countedA). */
export interface OtherCounts {
  newest: OtherCount;
  before?: OtherCount;
}

export type MeterRuntime = MeterReadings & MeterNotes;

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
    let used = false;
    const stampMs = typeof reading.timestamp === 'string' ? isoMs(reading.timestamp) : Number.NaN;
    const measuredAtMs = Number.isFinite(stampMs) ? Math.min(stampMs, now) : now;
    const where = `reading from "${reading.source}"`;
    const connector = connectorOf(reading.source);
    // A charger's value that its wiring cannot have carried is no reading (the charger's fault):
    // taken as not measured, for anything.
    const refusal = connector && chargerReadingRefusal(connector, reading.currentA, reading.currentUnphasedA);
    if (connector && refusal) {
      noteRefusal(drawOf(connector), refusal.why, now);
      used = true;
    }
    const currentA = withoutRefused(perPhase(reading.currentA, `${where} currentA`, problems), refusal);
    const powerW = perPhase(reading.powerW, `${where} powerW`, problems);
    const totalPowerW = finiteOrUndefined(reading.totalPowerW, `${where} totalPowerW`, problems);
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
    const unphasedA =
      currentA || refusal?.unphased
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
  reportStale(site: Site, source: string, notice: StaleNotice, now: number): boolean {
    let used = false;
    for (const circuit of site.circuits) {
      if (circuit.meter?.source !== source) continue;
      const meter = this.meter(circuit);
      const held = [...meter.phaseA.map((sample) => sample?.atMs), meter.powerW?.atMs];
      const newestMs = Math.max(Number.NEGATIVE_INFINITY, ...held.filter((ms) => ms !== undefined));
      meter.reportedStale = { atMs: meter.reportedStale?.atMs ?? now, notice, newestMs };
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
