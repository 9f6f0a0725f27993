/**
 * Circuits and fail-safe stage: each circuit now, as the readings show it (`CircuitView`): its
 * limit now and its other loads per phase (what the load manager does not control), children
 * first, from each circuit's meter minus what the chargers below drew, time-aligned with the
 * meter's reading; and while a meter is blind (stale, never read, implausible), its fallback (an
 * assumed other load, a per-connector cap), logged when it starts and ends. `CircuitLoads` owns the
 * circuit order, the peaks, the circuit views of the update and its notes on each meter;
 * `viewCircuit` counts one circuit. The circuit's rules (its limit now, how its loads add to its
 * children's, what its limits leave) are site/circuit.ts's; the allocation asks that module with
 * these views.
 */
import type { ModbusFault } from '../../contracts';
import type { Logger } from '../../log';
import type { ConnectorView } from '../parts';
import { GRID_PHASES, type GridPhase, sum, type Triple, triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import { childrenFirst, limitNowA, withChildren, withChildrenA } from '../site/circuit';
import type { SiteLimits } from '../site/limits';
import type { Circuit, Site } from '../site/model';
import { english, given, type Reason, type Said, say } from '../words';
import { type ChargersDrew, chargersDrawBelow, explainRise, readingsBelow, settledAt } from './charger-draw';
import { generationBelow, type SiteGeneration, siteGeneration } from './generation';
import type { Measurements, StaleNotice, Stamped } from './measurements';
import { noteMeterRoom } from './meter-phases';
import { FINEST_METER_STEP_A, implausibility, type MeterJudgement } from './meter-plausibility';
import { type BlindCount, OtherLoadPeaks } from './other-load-peaks';
import { noteStepAbove } from './overdraw';
import { UNREAD_OVERSHOOT } from './overshoot';

/** How a circuit counts in one update. */
export interface CircuitView {
  limitA: Triple;
  otherA: Triple;
  /**
   * What of `otherA` is measured for sure, per phase: fresh, plausible readings, a blind meter's
   * part at 0 (a lower bound of the other loads; what a meter above learns its own part beside).
   */
  knownA: Triple;
  /**
   * What the readings counted in `otherA` may hide per phase, A: a reading rounded to hundredths
   * is up to half of one below what flows (the allocation leaves it: site/circuit.ts circuitBudget).
   */
  hiddenA: Triple;
  otherW: number;
  stale: boolean;
  /** Which phases are stale or never read (`fresh` when none), to log changes. */
  staleKey?: string;
  /** Grid phases without fresh data. */
  stalePhases?: GridPhase[];
  /** Why the meter's fresh reading is not believed (every phase then counts as blind). */
  implausible?: Reason;
  fallback?: Reason;
  connectorCapA?: number;
  /**
   * Whether what is free below this circuit is measured, not believed: no fallback in force, every
   * circuit below measured too, and, for a meter that counts the chargers, its newest reading on
   * every phase was taken with no raise and no decrease open below it and no set-point below
   * changed since (what it shows free is free). A rise into measured headroom needs no ramp
   * (control/policy.ts).
   */
  measured?: boolean;
}

/** What the stage reads: the site, the measurements, the site limits, the connectors as observed. */
export interface CircuitContext {
  site: Site;
  measurements: Measurements;
  siteLimits: SiteLimits;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
}

/** What the circuits below one circuit count (`a`, `w`) and measured for sure (`knownA`). */
export interface Below {
  a: Triple;
  knownA: Triple;
  /** What their readings may hide (CircuitView.hiddenA). */
  hiddenA: Triple;
  w: number;
  /** Whether a meter is somewhere below (then a meter that counts them learns its own part apart). */
  metered: boolean;
  /** Whether every circuit below has its headroom measured (CircuitView.measured). */
  measured: boolean;
}

export class CircuitLoads {
  /** Circuit indexes, children before their parents. */
  private order: number[] = [];
  private current: CircuitView[] = [];
  private startedAtMs: number | undefined;
  /** What the site may generate (decided once per site): evidence/generation.ts. */
  private generation: SiteGeneration = 'none';
  /** The most each circuit's other loads have drawn (what a blind meter counts them at). */
  readonly peaks = new OtherLoadPeaks();
  /** Circuit indexes with a meter somewhere below them (whose own part is learned apart). */
  private meteredBelow = new Set<number>();

  constructor(private readonly logger: Logger) {}

  /** The circuit views of the last update, by circuit index. */
  get views(): readonly CircuitView[] {
    return this.current;
  }

  /** A new or replaced site: the order in which circuits are counted (children first). */
  adopt(site: Site): void {
    this.order = childrenFirst(site.circuits);
    this.generation = siteGeneration(site);
    this.meteredBelow = new Set();
    for (const circuit of site.circuits) {
      if (!circuit.meter) continue;
      for (let up = circuit.parentIndex; up !== undefined; up = site.circuits[up]?.parentIndex)
        this.meteredBelow.add(up);
    }
  }

  /** The other loads of every circuit, children first (a circuit counts what its children count). */
  update(context: CircuitContext, now: number): readonly CircuitView[] {
    const views: CircuitView[] = [];
    for (const c of this.order) {
      const circuit = context.site.circuits[c];
      if (!circuit) continue;
      const below: Below = {
        a: triple(0),
        knownA: triple(0),
        hiddenA: triple(0),
        w: 0,
        metered: this.meteredBelow.has(c),
        measured: true,
      };
      for (const child of circuit.childIndexes) {
        const view = views[child];
        if (!view) continue;
        if (!view.measured) below.measured = false;
        for (const p of GRID_PHASES) {
          below.a[p] += view.otherA[p];
          below.knownA[p] += view.knownA[p];
          below.hiddenA[p] += view.hiddenA[p];
        }
        below.w += view.otherW;
      }
      views[c] = viewCircuit(context, circuit, now, below, this.peaks, this.generation);
    }
    suspectBelow(context, views);
    this.current = views;
    return views;
  }

  /** A stale circuit's per-connector fallback caps every connector below it. */
  capConnectors(site: Site, views: readonly ConnectorView[]): void {
    // Usually no meter is stale: then nothing is capped (no pass over every connector's path).
    if (!this.current.some((view) => view?.connectorCapA !== undefined)) return;
    site.connectors.forEach((connector, k) => {
      const view = views[k];
      if (!view) return;
      for (const c of connector.path) {
        const circuitView = this.current[c];
        if (circuitView?.connectorCapA !== undefined && circuitView.connectorCapA < view.capA) {
          view.capA = circuitView.connectorCapA;
          // The fallback itself leads the connector's reason (report/explain.ts): here only its cap.
          view.capReason = [say('failSafeCap', { amps: circuitView.connectorCapA })];
        }
      }
    });
  }

  /** Logs each meter that went stale or fresh since the last update; returns whether any did. */
  logChanges(site: Site, measurements: Measurements, now: number): boolean {
    let changed = false;
    this.startedAtMs ??= now;
    const startedAtMs = this.startedAtMs;
    site.circuits.forEach((circuit, c) => {
      if (!circuit.meter) return;
      const meter = measurements.meter(circuit);
      const view = this.current[c];
      let status = view?.staleKey ?? 'fresh';
      // Right after start no meter has answered yet: the fallback applies at once, but that is
      // the normal start-up, logged as information; a warning follows if the meter stays silent.
      const startingUp = status === 'never:012 stale:' && now - startedAtMs < circuit.meter.staleAfterMs;
      if (startingUp) status = 'starting';
      if (meter.status === status) return;
      changed = true;
      if (status === 'fresh') {
        if (meter.status !== undefined && meter.status !== 'starting')
          this.logger.info(`meter "${circuit.meter.source}" of ${circuit.name} is fresh again`);
      } else if (startingUp) {
        this.logger.info(
          `${circuit.name}: waiting for the first reading; meanwhile ${view?.fallback ? english(view.fallback) : 'fallback'}`,
        );
      } else this.logger.warn(`${circuit.name}: ${view?.fallback ? english(view.fallback) : 'fallback'}`);
      meter.status = status;
    });
    return changed;
  }
}

/**
 * What a fresh meter that counts the chargers reads beyond what its circuits below count (its own
 * part of the other loads) may be a charger below one of those circuits that draws more than it is
 * counted at, unseen by them: one whose draw no fresh current reading shows (none yet, or its energy
 * register's, which does not tell its phases). Each circuit between that meter and such a charger
 * counts that part too, up to what those chargers may draw (their maxA with the fleet's unread
 * overshoot, less their floors); a circuit whose own meter counts the chargers sees them itself.
 * Counted at the meter alone, a charger that ignored its limits, read every 5 min by its register
 * (its car at 16.48 A from its arrival, no reading yet), was taken as the grid meter's other loads,
 * and a car below the same sub-breaker raised into its current: 0.96 A over it for 61 s
 * (POPULATION=all PROPERTY_SEED=7031 PROPERTY_PATH=1605); one that offered 3 A more than told, the
 * same (PROPERTY_SEED=20261123 PROPERTY_PATH=5737: 1 A for 30 s).
 */
function suspectBelow(context: CircuitContext, views: CircuitView[]): void {
  const { site } = context;
  const own = new Map<number, Triple>();
  for (const circuit of site.circuits) {
    const view = views[circuit.index];
    if (circuit.meter?.location !== 'includesChargers' || !view || view.stale || view.implausible) continue;
    if (circuit.childIndexes.length === 0) continue;
    const ownA = triple(0);
    for (const p of GRID_PHASES) {
      let belowA = 0;
      for (const child of circuit.childIndexes) belowA += views[child]?.otherA[p] ?? 0;
      ownA[p] = Math.max(0, view.otherA[p] - belowA);
    }
    if (sum(ownA) > 0) own.set(circuit.index, ownA);
  }
  for (const [c, ownA] of own) {
    const stack = [...(site.circuits[c]?.childIndexes ?? [])];
    while (stack.length > 0) {
      const d = stack.pop() as number;
      const circuit = site.circuits[d];
      const view = views[d];
      if (!circuit || !view) continue;
      // Its own meter counts the chargers below it: what they draw is in what it reads.
      if (circuit.meter?.location === 'includesChargers' && !view.stale && !view.implausible) continue;
      const hiddenA = triple(0);
      // On IT a one-phase charger carries its current on both its conductors: what the meter shows
      // unexplained on one of them may be on the other as well, where a raise still open may have
      // explained the meter's step (IT seed 20261126 path 1182: an energy-only charger offering 3 A
      // more than told, its step on L3 taken for a neighbour's raise, 1 A over a breaker for 25 s).
      // Per pair of conductors (indexed by the one it leaves out), what such chargers may hide.
      const pairHiddenA = triple(0);
      for (const k of circuit.connectorIndexes) {
        const connector = site.connectors[k];
        const v = context.views[k];
        if (!connector || !v?.wantsByStatus) continue;
        if (v.drawGridA && !v.fromEnergy && !v.unphased) continue;
        const mostA = connector.maxA * (1 + UNREAD_OVERSHOOT);
        for (const p of v.gridPhases) hiddenA[p] += Math.max(0, mostA - (v.floorA[p] ?? 0));
        const [a, b] = v.gridPhases;
        if (connector.network !== 'IT' || v.gridPhases.length !== 2 || a === undefined || b === undefined)
          continue;
        pairHiddenA[(3 - a - b) as GridPhase] += Math.max(
          0,
          mostA - Math.max(v.floorA[a] ?? 0, v.floorA[b] ?? 0),
        );
      }
      const pairedA = triple(0);
      for (const left of GRID_PHASES) {
        const a = ((left + 1) % 3) as GridPhase;
        const b = ((left + 2) % 3) as GridPhase;
        pairedA[a] += Math.min(ownA[b], pairHiddenA[left]);
        pairedA[b] += Math.min(ownA[a], pairHiddenA[left]);
      }
      if (sum(hiddenA) > 0) {
        const otherA: Triple = [...view.otherA];
        for (const p of GRID_PHASES) otherA[p] += Math.min(Math.max(ownA[p], pairedA[p]), hiddenA[p]);
        views[d] = { ...view, otherA };
      }
      stack.push(...circuit.childIndexes);
    }
  }
}

/**
 * A fresh, plausible meter that counts the chargers: per charger below it read by its energy
 * register whose car's phases are not known, what each phase read beyond what the other chargers
 * surely drew, generation below added back (evidence/meter-phases.ts). Only with every phase read.
 */
function noteRoomBelow(
  context: CircuitContext,
  fresh: (Stamped | undefined)[],
  generated: MeterJudgement['generation'],
  drewAt: (atMs: number) => ChargersDrew,
): void {
  const samples = GRID_PHASES.map((p) => fresh[p]);
  if (samples.some((sample) => sample === undefined)) return;
  const atMs = Math.max(...samples.map((sample) => sample?.atMs ?? 0));
  for (const [k] of drewAt(atMs).registerSurelyA) {
    const connector = context.site.connectors[k];
    const runtime = connector ? context.runtimes.of(connector) : undefined;
    if (!connector || !runtime || runtime.session.energyProbed === 'widest') continue;
    if (connector.phases !== 3 || connector.network === 'IT') continue;
    const roomA = triple(0);
    for (const p of GRID_PHASES) {
      const sample = samples[p] as Stamped;
      const drew = drewAt(sample.atMs);
      const othersA = drew.surelyA[p] - (drew.registerSurelyA.get(k)?.[p] ?? 0);
      roomA[p] = sample.value + (typeof generated === 'object' ? generated.perPhaseA[p] : 0) - othersA;
    }
    noteMeterRoom(runtime.session, atMs, roomA);
  }
}

/**
 * Other loads of one circuit, per phase. Without a meter: what its children count, plus the
 * configured `fallback.otherLoadA` (what its own other loads draw at most, since nothing measures
 * them). With a meter,
 * each phase on its own: fresh and plausible, its reading (minus the chargers below for
 * `includesChargers`, never less than the children count; plus the children for `otherLoadsOnly`),
 * learned as the most the other loads have drawn; blind (stale, never read, or the whole meter
 * implausible: evidence/meter-plausibility.ts), the configured `fallback.otherLoadA`, else the most they
 * have drawn (evidence/other-load-peaks.ts), else (never read at all) the whole limit: nothing is known, so
 * its connectors wait.
 */
export function viewCircuit(
  context: CircuitContext,
  circuit: Circuit,
  now: number,
  below: Below,
  peaks: OtherLoadPeaks,
  generation: SiteGeneration,
): CircuitView {
  const { site } = context;
  const { a: childA, w: childW } = below;
  const limitA = limitNowA(circuit, context.siteLimits.of(circuit.id));
  if (!circuit.meter) {
    // No meter ever tells: its configured other loads (an estimate, as a blind meter's) count always.
    const estimateA = circuit.fallback.otherLoadA;
    return {
      limitA,
      otherA: estimateA ? withChildren(circuit, estimateA, childA) : childA,
      knownA: below.knownA,
      hiddenA: below.hiddenA,
      otherW: estimateA ? childW + sum(estimateA) * site.voltageV : childW,
      stale: false,
      staleKey: 'fresh',
      measured: below.measured,
    };
  }
  const meter = context.measurements.meter(circuit);
  const includes = circuit.meter.location === 'includesChargers';
  const combine = (own: number, p: GridPhase) => withChildrenA(circuit, own, childA[p]);
  const source = [say('meterOf', { name: circuit.meter.source, circuit: circuit.name })];
  // One reading usually stamps every phase alike: what the chargers drew then, once per time.
  const drawnAt = new Map<number, ChargersDrew>();
  const drewAt = (atMs: number): ChargersDrew => {
    let drawn = drawnAt.get(atMs);
    if (!drawn) {
      drawn = chargersDrawBelow(context, circuit, atMs);
      drawnAt.set(atMs, drawn);
    }
    return drawn;
  };
  const chargersAt = (atMs: number): Triple => drewAt(atMs).atLeastA;
  const { staleAfterMs } = circuit.meter;
  // A meter that said it is stale (evidence/measurements.ts reportStale) is, however young its values.
  const reported = meter.reportedStale;
  const fresh = GRID_PHASES.map((p) => {
    const sample = meter.phaseA[p];
    return sample && !reported && now - sample.atMs <= staleAfterMs ? sample : undefined;
  });
  // What may be generated below now (the most: the rules' tolerance; what was generated while a
  // reading was learned).
  const generated = generationBelow(site, circuit, context.measurements, generation, now);
  const implausible = implausibility(
    {
      source,
      fresh,
      ...(meter.powerW && fresh.some((f) => f?.atMs === meter.powerW?.atMs)
        ? { powerW: meter.powerW.value }
        : {}),
      includesChargers: includes,
      generation: generated,
      limitA,
      chargersAt: (atMs: number): Triple => drewAt(atMs).surelyA,
      chargerReadings: () => readingsBelow(context, circuit),
      chargersMeasured: circuit.connectorIndexes.some((k) => context.views[k]?.drawGridA !== undefined),
    },
    meter,
    now,
  );
  // A meter that counts metered circuits below it learns its own part apart; one at a site that
  // may generate, its loads with what was generated then added back.
  const keys = OtherLoadPeaks.keysOf(circuit.id, meter.source, {
    ownPart: includes && below.metered,
    gross: generation !== 'none',
  });
  const never: GridPhase[] = [];
  const stale: GridPhase[] = [];
  const otherA = triple(0);
  // A blind phase knows only what the meters below measure.
  const knownA: Triple = [...below.knownA];
  // What the children's readings hide where they count; a fresh reading here adds its own.
  const hiddenA: Triple = withChildren(circuit, triple(0), below.hiddenA);
  let explainedA = 0;
  for (const p of GRID_PHASES) {
    const sample = fresh[p];
    if (!meter.phaseA[p]) never.push(p);
    else if (!sample) stale.push(p);
    else if (!implausible) {
      // Subtract what the chargers below drew when the meter measured, but never more than they
      // may draw: over-subtracting is the unsafe side.
      const subtracted = includes ? chargersAt(sample.atMs)[p] : 0;
      const netA = sample.value - subtracted;
      const measured = Math.max(0, netA);
      const rise = includes ? explainRise(meter, p, measured, drewAt, sample.atMs) : undefined;
      const own = rise?.counted ?? measured;
      const connector = rise?.beyondRoomA ? site.connectors[drewAt(sample.atMs).blindRaiseOf[p]] : undefined;
      if (rise?.beyondRoomA && connector)
        noteStepAbove(connector, context.runtimes.of(connector), p, rise.beyondRoomA);
      explainedA += measured - own;
      // Its own part: beyond what the meters below measure for sure (a blind one's part is in it:
      // the safe side, two peaks never seen together still add up).
      peaks.learn(
        keys,
        p,
        {
          amps: rise?.learned ?? own,
          knownBelowA: below.knownA[p],
          exportA: netA,
          ...(typeof generated === 'object' ? { generatedA: generated.perPhaseA[p] } : {}),
        },
        sample.atMs,
      );
      otherA[p] = combine(own, p);
      // Rounded to hundredths, it may be up to half of one below what flows: an allocation that
      // fills a limit to what the readings show puts that much above it (a PV plant's 8.9996 A
      // beside 11 A of loads read 2.00 A for 2.0004 A: 0.0004 A over a 55 A breaker filled to
      // 55.00 A, faults seed 20261124 path 32). A reading of 0 is taken at its word: no current
      // it rounded (a circuit whose meter reads 0 keeps its whole limit: 32 A, not 31.9 A).
      const rounding = sample.value === 0 ? 0 : FINEST_METER_STEP_A / 2;
      hiddenA[p] = withChildrenA(circuit, rounding, below.hiddenA[p]);
      knownA[p] = includes ? Math.max(own, below.knownA[p]) : own + below.knownA[p];
    }
  }
  if (includes && !implausible && generated !== 'unmeasured')
    noteRoomBelow(context, fresh, generated, drewAt);
  const missing = implausible ? [...GRID_PHASES] : [...never, ...stale].sort();
  const { otherLoadA, connectorLimitA } = circuit.fallback;
  const counts: (BlindCount | undefined)[] = [];
  // What is surely generated now (a blind meter's loads get back what the plant no longer covers).
  const surely = keys.gross
    ? generationBelow(site, circuit, context.measurements, generation, now, 'least')
    : 'none';
  let unknown = false;
  // A reading no breaker could carry (an impossible one: a glitch, a CT ratio set too high) is
  // blind like any other lie, counted at what was learned or configured: the peaks were learned
  // from plausible readings only, and where the ratio was set too high they are above what is
  // drawn (the safe side). Never plausible, nothing was learned: up to the whole limit (below).
  // Counting the whole limit at once let one absurd value pause a zone (issue 46).
  for (const p of missing) {
    if (otherLoadA) {
      otherA[p] = combine(otherLoadA[p], p);
      continue;
    }
    const count = peaks.blindCount(keys, p, {
      includes,
      belowA: childA[p],
      generatedNowA: typeof surely === 'object' ? surely.perPhaseA[p] : 0,
    });
    counts[p] = count;
    if (count) otherA[p] = count.amps;
    else {
      // Never read: nothing is known of what it draws, up to the whole limit.
      unknown = true;
      otherA[p] = Math.max(limitA[p], childA[p]);
    }
  }
  let otherW = sum(otherA) * site.voltageV;
  const power = meter.powerW;
  if (missing.length === 0 && power && now - power.atMs <= circuit.meter.staleAfterMs) {
    const subtracted = includes ? sum(chargersAt(power.atMs)) + explainedA : 0;
    const own = Math.max(0, power.value - subtracted * site.voltageV);
    otherW = includes ? Math.max(own, childW) : own + childW;
  }
  if (missing.length === 0) {
    const measured =
      below.measured &&
      (!includes || GRID_PHASES.every((p) => settledAt(context, circuit, fresh[p], drewAt, p)));
    return { limitA, otherA, knownA, hiddenA, otherW, stale: false, staleKey: 'fresh', measured };
  }
  const phaseList = (phases: GridPhase[]) => phases.map((p) => `L${p + 1}`).join(', ');
  const newest = Math.max(...GRID_PHASES.map((p) => meter.phaseA[p]?.atMs ?? Number.NEGATIVE_INFINITY));
  let why: Reason;
  if (implausible) why = implausible.why;
  else if (never.length === 3) why = [say('noReadingYet', { source })];
  // The meter node's own words (lib/modbus), shown as they came.
  else if (reported) why = [say('reportsStale', { source, why: [staleWords(reported.notice)] })];
  else if (stale.length === 3) why = [say('isStale', { source, s: Math.round((now - newest) / 1000) })];
  else {
    const parts = [
      ...(never.length > 0 ? [say('noValueFor', { phases: phaseList(never) })] : []),
      ...(stale.length > 0
        ? [
            say('phasesStale', {
              phases: phaseList(stale),
              s: stale.map((p) => Math.round((now - (meter.phaseA[p]?.atMs ?? now)) / 1000)).join('/'),
            }),
          ]
        : []),
    ];
    why = [say('meterParts', { source, whyList: parts })];
  }
  const parts = [
    ...(otherLoadA
      ? [say('otherTakenAs', { amps: otherLoadA.join('/') })]
      : unknown
        ? [say('nothingKnown')]
        : [say('otherCountedAt', { what: [describeLevels(missing, counts)] })]),
    ...(connectorLimitA !== undefined ? [say('perConnector', { amps: connectorLimitA })] : []),
  ];
  return {
    limitA,
    otherA,
    knownA,
    hiddenA,
    otherW,
    stale: true,
    staleKey: implausible
      ? `implausible:${implausible.kind}`
      : `never:${never.join('')} stale:${stale.join('')}`,
    stalePhases: missing,
    ...(implausible ? { implausible: implausible.why } : {}),
    fallback: [say('fallback', { why, whatList: parts })],
    connectorCapA: connectorLimitA,
  };
}

/** "24/22/20 A (the most in 24 h)", or "… (the most in 3 h so far, plus a margin)". */
function describeLevels(missing: GridPhase[], counts: (BlindCount | undefined)[]): Said {
  const amps = missing.map((p) => Math.round((counts[p]?.amps ?? 0) * 10) / 10).join('/');
  const learned = missing.map((p) => counts[p]?.level).find((l) => l !== undefined);
  // What raised the count above the learned level (evidence/other-load-peaks.ts blindCount).
  const moreList = [
    ...(missing.some((p) => counts[p]?.gross) ? [say('withPvThen')] : []),
    ...(missing.some((p) => counts[p]?.apart) ? [say('atLeastBelow')] : []),
  ];
  if (!learned || learned.full)
    return moreList.length ? say('peak24More', { amps, moreList }) : say('peak24', { amps });
  const hours = learned.learnedMs / 3_600_000;
  const span =
    hours >= 1 ? `${Math.floor(hours)} h` : `${Math.max(1, Math.round(learned.learnedMs / 60_000))} min`;
  return moreList.length ? say('peakSoFarMore', { amps, span, moreList }) : say('peakSoFar', { amps, span });
}

/**
 * A meter's own stale notice in the catalogue's words: from its cause as ampflow-meter gives it
 * (lib/modbus/staleness.ts), its Modbus failure from the data beside the text (`fault`); a failure
 * without it (an older meter node's, another flow's, an error whose text is all there is) and a
 * notice of another flow's in their own words; none at all said so.
 */
export function staleWords(notice: StaleNotice): Said {
  const cause = notice.cause;
  if (cause && 'nothingReadS' in cause) return say('staleNothingRead', { s: cause.nothingReadS });
  if (cause && 'readsFailed' in cause) {
    const { times, error, fault } = cause.readsFailed;
    const words = [fault ? faultWords(fault) : given(error)];
    return times > 1
      ? say('staleReadsFailed', { n: times, fault: words })
      : say('staleReadFailed', { fault: words });
  }
  if (cause) {
    const lost = 'connectionLost' in cause;
    const { address, error, fault } = lost ? cause.connectionLost : cause.noConnection;
    if (error === undefined) return say(lost ? 'staleConnectionLost' : 'staleNoConnection', { address });
    const words = [fault ? faultWords(fault) : given(error)];
    return say(lost ? 'staleConnectionLostError' : 'staleNoConnectionError', { address, fault: words });
  }
  return notice.why === undefined ? say('staleNoReason') : given(notice.why);
}

/** A Modbus exception's name (Modbus Application Protocol 1.1b3, 7); codes 7 and 9 have none there. */
const EXCEPTION_NAMES: Readonly<Record<number, Said>> = {
  1: say('exceptionIllegalFunction'),
  2: say('exceptionIllegalAddress'),
  3: say('exceptionIllegalValue'),
  4: say('exceptionDeviceFailure'),
  5: say('exceptionAcknowledge'),
  6: say('exceptionDeviceBusy'),
  8: say('exceptionParity'),
  10: say('exceptionGatewayPath'),
  11: say('exceptionGatewayTarget'),
};

/** The system's error codes a bus meets (a socket's, a serial port's), in words; others by their code. */
const SYSTEM_ERRORS: Readonly<Record<string, Said>> = {
  ECONNREFUSED: say('systemRefused'),
  ECONNRESET: say('systemReset'),
  ECONNABORTED: say('systemAborted'),
  EPIPE: say('systemBroken'),
  ETIMEDOUT: say('systemTimedOut'),
  EHOSTUNREACH: say('systemHostUnreachable'),
  EHOSTDOWN: say('systemHostUnreachable'),
  ENETUNREACH: say('systemNetUnreachable'),
  ENOTFOUND: say('systemNameNotFound'),
  EAI_AGAIN: say('systemNameNotFound'),
  ENOENT: say('systemNoSuchPort'),
  EACCES: say('systemNoPermission'),
  EBUSY: say('systemPortBusy'),
};

/**
 * A Modbus failure (lib/readings.ts ModbusFault) in the catalogue's words; an unusable answer
 * without its cause (an error of the connection's whose text is all there is) as it came.
 */
export function faultWords(fault: ModbusFault): Said {
  const because = (cause: ModbusFault | undefined) => (cause ? [faultWords(cause)] : undefined);
  switch (fault.kind) {
    case 'timeout':
      return say('faultTimeout', { ms: fault.ms });
    case 'exception': {
      const name = EXCEPTION_NAMES[fault.code];
      return name
        ? say('faultException', { code: fault.code, name: [name] })
        : say('faultExceptionCode', { code: fault.code });
    }
    case 'wrongLength':
      return say('faultWrongLength', { registers: fault.registers, asked: fault.asked });
    case 'unusable':
      return say('faultUnusable', { detail: [fault.cause ? faultWords(fault.cause) : given(fault.detail)] });
    case 'badLength':
      return say('faultBadLength', { got: fault.got, expected: fault.expected });
    case 'wrongUnit':
      return say('faultWrongUnit', { got: fault.got, expected: fault.expected });
    case 'wrongFunction':
      return say('faultWrongFunction', { got: fault.got, expected: fault.expected });
    case 'byteCount':
      return say('faultByteCount', { got: fault.got, expected: fault.expected });
    case 'crc':
      return say('faultCrc');
    case 'system': {
      const what = SYSTEM_ERRORS[fault.code];
      return what
        ? say('faultSystem', { what: [what], code: fault.code })
        : say('faultSystemCode', { code: fault.code });
    }
    case 'connectTimeout':
      return say('faultConnectTimeout', { ms: fault.ms });
    case 'silent':
      return say('faultSilent', { s: fault.s });
    case 'closedByPeer':
      return say('faultClosedByPeer');
    case 'connectionClosed':
      return say('faultConnectionClosed');
    case 'portClosed':
      return say('faultPortClosed');
    case 'hungUp':
      return say('faultHungUp');
    case 'reopened':
      return say('faultReopened');
    case 'busClosed':
      return say('faultBusClosed');
    case 'queueFull':
      return say('faultQueueFull', { waiting: fault.waiting });
    case 'queueTimeout':
      return say('faultQueueTimeout', { ms: fault.ms });
    case 'notConnected': {
      const why = because(fault.cause);
      return why
        ? say('faultNotConnectedWhy', { why, ms: fault.ms })
        : say('faultNotConnected', { ms: fault.ms });
    }
    case 'brokeTwice': {
      const why = because(fault.cause);
      return why ? say('faultBrokeTwiceWhy', { why }) : say('faultBrokeTwice');
    }
    case 'backedOff': {
      const why = because(fault.last);
      const counts = { failures: fault.failures, s: fault.nextS };
      return why ? say('faultBackedOffWhy', { ...counts, why }) : say('faultBackedOff', counts);
    }
  }
}
