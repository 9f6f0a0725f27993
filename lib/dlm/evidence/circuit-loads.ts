/**
 * Circuits and fail-safe stage: the other loads of every circuit (what the load manager does not
 * control), children first, from each circuit's meter minus the chargers below it, time-aligned
 * with the meter's reading; and while a meter is stale or never read, its fallback (an assumed
 * other load, a per-connector cap), logged when it starts and ends. It owns the circuit order, the
 * circuit views of the update, and its notes on each meter (`MeterNotes`).
 */
import type { Logger } from '../../log';
import type { ConnectorView } from '../parts';
import { GRID_PHASES, triple } from '../phases';
import { childrenFirst } from '../site/circuit';
import type { Site } from '../site/model';
import { english, say } from '../words';
import { type Below, type CircuitContext, type CircuitView, viewCircuit } from './circuit-view';
import { type SiteGeneration, siteGeneration } from './generation';
import type { Measurements } from './measurements';
import { OtherLoadPeaks } from './other-load-peaks';

export type { CircuitContext, CircuitView } from './circuit-view';

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
