/**
 * Measurements stage, per connector: the newest draw sample and a short draw history, and the
 * time-alignment question of the fail-safe and of the PV surplus: what did a charger draw when a
 * circuit meter measured (`drawSince`, `drawInForceAt`)? measurements.ts re-exports it all.
 */
import type { PerPhase } from '../../contracts';
import { ACTIVE_PHASE_A } from '../../electrical';
import { type GridPhase, gridPhasesFor, phaseMask, sum, type Triple, toGrid, wiredPhases } from '../phases';
import type { AllFields } from '../site/all-fields';
import type { Connector } from '../site/model';
import type { Reason } from '../words';
import {
  type EnergyCount,
  type RegisterRecord,
  stepSpanA,
  type UnphasedRun,
  type UnphasedShows,
} from './energy-draw';

/** Measurements kept per connector to compare a circuit meter's older reading with. */
const DRAW_HISTORY = 6;

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
  /**
   * The charger reported its current without a phase: `chargerA` is that value on every wired phase,
   * or on L1 alone where its energy register shows one phase (`shows`, evidence/energy-draw.ts
   * unphasedShows: what the observer's phase detection takes; without it, no evidence of phases).
   */
  unphased?: true;
  shows?: UnphasedShows;
  /**
   * Derived from its energy register (evidence/energy-draw.ts): `chargerA` is the most a plausible
   * count of phases puts on each phase (what it is counted at), `leastA` the least the register
   * shows (what a judgement against its set-point takes, and its history keeps), `surelyA` what it
   * surely drew on each phase (evidence/energy-draw.ts), all the average since `fromMs`; `ambiguous`: its
   * car may be on fewer phases than every wired one.
   */
  energy?: {
    fromMs: number;
    leastA: PerPhase;
    surelyA: PerPhase;
    counts: readonly EnergyCount[];
    /** The register's readings at `fromMs` and at the sample's time, and its step, Wh. */
    fromWh: number;
    wh: number;
    stepWh: number;
    ambiguous?: true;
  };
}

/** The measurements part of a connector's record (written only here). */
export interface DrawRecord {
  /** The newest measurement of the charger's own currents. */
  draw?: DrawSample;
  drawSeq: number;
  /**
   * The last few measurements (charger phases), oldest first, and a zero where a set-point above
   * 0 followed none: what a circuit meter's older reading is compared with (chargersDrawBelow).
   * Such a zero is `assumed`: not a reading (the frozen rule compares readings only). `fromMs`: a
   * register's delta, the average since then (evidence/energy-draw.ts); `spanA`: how much more than
   * `chargerA` its step lets it be on each phase it loads (the step added instead of taken away).
   * `unphased`: a current reported without a phase, placed on phases by `unphasedOn` (a guess that
   * moves with what its register shows: the frozen rule takes it only where it surely flows).
   */
  drawHistory: DrawHistoryEntry[];
  /** Its energy register's last reading and what the last two gave (evidence/energy-draw.ts). */
  register?: RegisterRecord;
  /** The steady run of its unphased current with its register (evidence/energy-draw.ts unphasedShows). */
  unphasedRun?: UnphasedRun;
  /**
   * Its current without a phase was seen to be per phase, not a sum of its phases (a steady run
   * showed more than one phase, or it sat at two set-points apart: evidence/energy-draw.ts
   * unphasedShows); kept past its sessions.
   */
  unphasedPerPhase?: true;
  /** The first set-point its unphased current was seen at, followed (evidence/energy-draw.ts). */
  unphasedAtSetPointA?: number;
  /**
   * The newest reading refused as impossible (evidence/meter-plausibility.ts chargerReadingRefusal)
   * that the observer has not counted into the session yet (`takeRefusal`): why, and when it came.
   */
  refused?: { why: Reason; atMs: number };
}

/** One entry of a connector's draw history (DrawRecord.drawHistory). */
export interface DrawHistoryEntry {
  atMs: number;
  chargerA: PerPhase;
  assumed?: true;
  fromMs?: number;
  spanA?: number;
  unphased?: true;
}

export function newDrawRecord(): AllFields<DrawRecord> {
  return {
    draw: undefined,
    drawSeq: 0,
    drawHistory: [],
    register: undefined,
    unphasedRun: undefined,
    unphasedPerPhase: undefined,
    unphasedAtSetPointA: undefined,
    refused: undefined,
  };
}

/**
 * Values of a reading of the charger's currents refused as impossible (taken as not measured by
 * whoever took the reading): the refusal waits for the observer (`takeRefusal`).
 */
export function noteRefusal(record: DrawRecord, why: Reason, atMs: number): void {
  record.refused = { why, atMs };
}

/** The refusal not counted yet, taken (the observer counts it into the session it belongs to). */
export function takeRefusal(record: DrawRecord): { why: Reason; atMs: number } | undefined {
  const refused = record.refused;
  record.refused = undefined;
  return refused;
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
  energy?: DrawSample['energy'],
  shows?: UnphasedShows,
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
    ...(unphased && shows ? { shows } : {}),
    ...(energy ? { energy } : {}),
  };
  // A meter's older reading is compared with the least a register's delta shows (charger-draw.ts
  // takes it as what the charger drew at least).
  remember(
    record,
    atMs,
    energy ? [...energy.leastA] : copy,
    energy ? { fromMs: energy.fromMs, spanA: stepSpanA(energy) } : unphased ? { unphased: true } : undefined,
  );
  return true;
}

/**
 * A current a charger reported without a phase (`Reading.currentUnphasedA`, EVlink's plain
 * `Current.Import`), as charger phases: the value on every phase the connector is wired for, the
 * safe side (what the car draws on which phase is not known; the profile verification takes such a
 * value as the current per phase too), also after a switch to one phase: such a reading cannot show
 * that the switch was made (a car that ignored it, its charger reporting one current, was counted
 * on one phase while it drew 11 A on three: PROPERTY_SEED=20261123 PROPERTY_PATH=956, and IT seed
 * 20261126 path 829; and a charger that ignores its limits ignores a switch too: POPULATION=unphased,
 * ownMaximum PROPERTY_SEED=45005 PROPERTY_PATH=157); on L1 alone where its energy register shows
 * one phase (`shows`). Undefined without a value.
 */
export function unphasedOn(
  connector: Connector,
  valueA: number | undefined,
  shows?: UnphasedShows,
): PerPhase | undefined {
  if (valueA === undefined) return undefined;
  const chargerA: PerPhase = [0, 0, 0];
  // Its energy register shows one phase (evidence/energy-draw.ts unphasedShows): a single-phase car
  // on a type-2 charger draws on its L1 (IEC 62196-2), a reading on L1 alone.
  if (shows === 'one') chargerA[0] = valueA;
  else for (const i of wiredPhases(connector)) chargerA[i] = valueA;
  return chargerA;
}

/**
 * The grid phases (a mask, bit p for L(p+1)) a current reported without a phase surely flows on:
 * its charger's L1, which every car draws on (IEC 62196-2), with the conductor that closes it on IT
 * (phases.ts `gridPhasesFor`: one charger phase is two conductors there). `unphasedOn` counts the
 * value on every wired phase, the safe side for what it may draw; what a meter that counts the
 * chargers must read at least (charger-draw.ts `surelyA`, meter-plausibility.ts "below the
 * chargers") has it only here. Counted on all three, a one-phase car at a three-phase connector
 * reporting 11 A without a phase made its circuit meter's true 16 A on L1 read as "27 A by their own
 * meters": the meter was judged implausible (a CT disconnected?), its circuit fell back, and a rogue
 * charger read by its energy register alone arriving next went unseen until its delta (3 A over a
 * conductor for 89 s: POPULATION=keepers,noSmartCharging,unphased,reporting,following,overshoot,
 * ownMaximum,energyOnly IT_PROPERTY_SEED=9474 IT_PROPERTY_PATH=216).
 */
export function unphasedSurelyOn(connector: Connector): number {
  return phaseMask(gridPhasesFor(connector, [0]));
}

/**
 * A sample's currents per grid phase: worked out once, when it is taken (every update's view of the
 * connector reads them); through the rotation of `connector` anew when it was taken for another (a
 * replaced site may have rotated the connector).
 */
export function drawGrid(connector: Connector, sample: DrawSample): Readonly<Triple> {
  return sample.takenFor === connector ? sample.gridA : toGrid(connector, sample.chargerA);
}

/** Whether the charger's newest reading shows charging current on some phase (none: nothing shown). */
export function drewAnything(record: DrawRecord): boolean {
  return record.draw?.chargerA.some((amps) => (amps ?? 0) > ACTIVE_PHASE_A) ?? false;
}

/** A connector state without currents: no draw is known until a measurement brings one again. */
export function forgetDraw(record: DrawRecord): void {
  record.draw = undefined;
}

/**
 * Keeps a measurement (or a known zero, `assumed`) in the connector's short history, with what it
 * is (`DrawRecord.drawHistory`: a register's delta, a current without a phase).
 */
export function remember(
  record: DrawRecord,
  atMs: number,
  chargerA: PerPhase,
  what?: Omit<DrawHistoryEntry, 'atMs' | 'chargerA'>,
): void {
  const history = record.drawHistory;
  const last = history[history.length - 1];
  if (last && atMs < last.atMs) return;
  history.push({ atMs, chargerA, ...what });
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
