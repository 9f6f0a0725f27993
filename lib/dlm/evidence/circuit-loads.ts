/**
 * Circuits and fail-safe stage: the other loads of every circuit (what the load manager does not
 * control), children first, from each circuit's meter minus the chargers below it, time-aligned
 * with the meter's reading; and while a meter is stale or never read, its fallback (an assumed
 * other load, a per-connector cap), logged when it starts and ends. It owns the circuit order, the
 * circuit views of the update, and its notes on each meter (`MeterNotes`).
 */
import type { Logger } from '../../log';
import type { ConnectorView } from '../parts';
import { GRID_PHASES, type GridPhase, sum, type Triple, triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import type { SiteLimits } from '../site/limits';
import type { Circuit, Site } from '../site/model';
import { type ChargersDrew, chargersDrawBelow, explainRise, readingsBelow, settledAt } from './charger-draw';
import { generationBelow, type SiteGeneration, siteGeneration } from './generation';
import type { Measurements } from './measurements';
import { implausibility } from './meter-plausibility';
import { type BlindCount, OtherLoadPeaks } from './other-load-peaks';

/** How a circuit counts in one update. */
export interface CircuitView {
  limitA: Triple;
  otherA: Triple;
  /**
   * What of `otherA` is measured for sure, per phase: fresh, plausible readings, a blind meter's
   * part at 0 (a lower bound of the other loads; what a meter above learns its own part beside).
   */
  knownA: Triple;
  otherW: number;
  stale: boolean;
  /** Which phases are stale or never read (`fresh` when none), to log changes. */
  staleKey?: string;
  /** Grid phases without fresh data. */
  stalePhases?: GridPhase[];
  /** Why the meter's fresh reading is not believed (every phase then counts as blind). */
  implausible?: string;
  fallback?: string;
  connectorCapA?: number;
  overloaded: boolean;
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
    const depth = (index: number): number => {
      const parent = site.circuits[index]?.parentIndex;
      return parent === undefined ? 0 : 1 + depth(parent);
    };
    this.order = site.circuits.map((c) => c.index).sort((a, b) => depth(b) - depth(a) || a - b);
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
        }
        below.w += view.otherW;
      }
      views[c] = viewCircuit(context, circuit, now, below, this.peaks, this.generation);
    }
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
          view.capReason = `held at the fail-safe's ${circuitView.connectorCapA} A per connector`;
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
          `${circuit.name}: waiting for the first reading; meanwhile ${view?.fallback ?? 'fallback'}`,
        );
      } else this.logger.warn(`${circuit.name}: ${view?.fallback ?? 'fallback'}`);
      meter.status = status;
    });
    return changed;
  }
}

/** What the circuits below one circuit count (`a`, `w`) and measured for sure (`knownA`). */
interface Below {
  a: Triple;
  knownA: Triple;
  w: number;
  /** Whether a meter is somewhere below (then a meter that counts them learns its own part apart). */
  metered: boolean;
  /** Whether every circuit below has its headroom measured (CircuitView.measured). */
  measured: boolean;
}

/**
 * Other loads of one circuit, per phase. Without a meter: what its children count. With a meter,
 * each phase on its own: fresh and plausible, its reading (minus the chargers below for
 * `includesChargers`, never less than the children count; plus the children for `otherLoadsOnly`),
 * learned as the most the other loads have drawn; blind (stale, never read, or the whole meter
 * implausible: evidence/meter-plausibility.ts), the configured `fallback.otherLoadA`, else the most they
 * have drawn (evidence/other-load-peaks.ts), else (never read at all) the whole limit: nothing is known, so
 * its connectors wait.
 */
function viewCircuit(
  context: CircuitContext,
  circuit: Circuit,
  now: number,
  below: Below,
  peaks: OtherLoadPeaks,
  generation: SiteGeneration,
): CircuitView {
  const { site } = context;
  const { a: childA, w: childW } = below;
  const limitA = context.siteLimits.limitA(circuit);
  if (!circuit.meter) {
    return {
      limitA,
      otherA: childA,
      knownA: below.knownA,
      otherW: childW,
      stale: false,
      staleKey: 'fresh',
      overloaded: false,
      measured: below.measured,
    };
  }
  const meter = context.measurements.meter(circuit);
  const includes = circuit.meter.location === 'includesChargers';
  const combine = (own: number, p: GridPhase) => (includes ? Math.max(own, childA[p]) : own + childA[p]);
  const source = `meter "${circuit.meter.source}" of ${circuit.name}`;
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
      chargersAt,
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
      const rise = includes ? explainRise(meter, p, measured, drewAt(sample.atMs), sample.atMs) : undefined;
      const own = rise?.counted ?? measured;
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
      knownA[p] = includes ? Math.max(own, below.knownA[p]) : own + below.knownA[p];
    }
  }
  const missing = implausible ? [...GRID_PHASES] : [...never, ...stale].sort();
  const { otherLoadA, connectorLimitA } = circuit.fallback;
  const counts: (BlindCount | undefined)[] = [];
  // What is surely generated now (a blind meter's loads get back what the plant no longer covers).
  const surely = keys.gross
    ? generationBelow(site, circuit, context.measurements, generation, now, 'least')
    : 'none';
  let unknown = false;
  // A reading no breaker could carry says nothing of what the other loads draw, however much
  // was learned or configured: up to the whole limit.
  const nothingKnown = implausible?.kind === 'impossible';
  for (const p of missing) {
    if (otherLoadA && !nothingKnown) {
      otherA[p] = combine(otherLoadA[p], p);
      continue;
    }
    const count = nothingKnown
      ? undefined
      : peaks.blindCount(keys, p, {
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
    return { limitA, otherA, knownA, otherW, stale: false, staleKey: 'fresh', overloaded: false, measured };
  }
  const phaseList = (phases: GridPhase[]) => phases.map((p) => `L${p + 1}`).join(', ');
  const newest = Math.max(...GRID_PHASES.map((p) => meter.phaseA[p]?.atMs ?? Number.NEGATIVE_INFINITY));
  let why: string;
  if (implausible) why = implausible.why;
  else if (never.length === 3) why = `no reading yet from ${source}`;
  else if (reported) why = `${source} reports it is stale (${reported.why})`;
  else if (stale.length === 3) why = `${source} is stale (${Math.round((now - newest) / 1000)} s)`;
  else {
    const parts = [
      ...(never.length > 0 ? [`no value yet for ${phaseList(never)}`] : []),
      ...(stale.length > 0
        ? [
            `${phaseList(stale)} stale (${stale.map((p) => Math.round((now - (meter.phaseA[p]?.atMs ?? now)) / 1000)).join('/')} s)`,
          ]
        : []),
    ];
    why = `${source}: ${parts.join(', ')}`;
  }
  const parts = [
    ...(otherLoadA && !nothingKnown
      ? [`other loads taken as ${otherLoadA.join('/')} A`]
      : unknown
        ? ['nothing is known of its other loads: its connectors wait for a reading']
        : [`other loads counted at ${describeLevels(missing, counts)}`]),
    ...(connectorLimitA !== undefined ? [`${connectorLimitA} A per connector`] : []),
  ];
  return {
    limitA,
    otherA,
    knownA,
    otherW,
    stale: true,
    staleKey: implausible
      ? `implausible:${implausible.kind}`
      : `never:${never.join('')} stale:${stale.join('')}`,
    stalePhases: missing,
    ...(implausible ? { implausible: implausible.why } : {}),
    fallback: `fallback: ${why}, ${parts.join(', ')}`,
    connectorCapA: connectorLimitA,
    overloaded: false,
  };
}

/** "24/22/20 A (the most in 24 h)", or "… (the most in 3 h so far, plus a margin)". */
function describeLevels(missing: GridPhase[], counts: (BlindCount | undefined)[]): string {
  const amps = missing.map((p) => Math.round((counts[p]?.amps ?? 0) * 10) / 10).join('/');
  const learned = missing.map((p) => counts[p]?.level).find((l) => l !== undefined);
  // What raised the count above the learned level (evidence/other-load-peaks.ts blindCount).
  const gross = missing.some((p) => counts[p]?.gross)
    ? ', with what the PV plant generated then and does not now'
    : '';
  const apart = missing.some((p) => counts[p]?.apart)
    ? ', at least what the circuits below count plus the most its own loads drew'
    : '';
  const more = `${gross}${apart}`;
  if (!learned || learned.full) return `${amps} A (the most they drew in 24 h${more})`;
  const hours = learned.learnedMs / 3_600_000;
  const span =
    hours >= 1 ? `${Math.floor(hours)} h` : `${Math.max(1, Math.round(learned.learnedMs / 60_000))} min`;
  return `${amps} A (the most they drew in ${span} so far, plus a margin${more})`;
}
