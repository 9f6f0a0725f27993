/**
 * ampflow's own absence (DESIGN.md; Bender manual §7.7: the sum of the fallbacks must not exceed
 * the available current). When Node-RED stops, the host reboots or the network to the chargers
 * breaks, nobody lowers anything: every connector draws what it does on its own, and the other
 * loads draw up to the most they have drawn. This module is the one owner of that plan: what each
 * connector draws then, the other loads' level per circuit, whether the sum fits each circuit's
 * limit (minus its headroom) per phase, and which fallbacks to choose so that it does (the
 * connector's minimum, 6 A, for as many connectors as fit by priority, 0 A for the rest).
 * Pure functions over the site's circuits and connectors: *Check the site* (site/warnings.ts) runs
 * them on the configuration, the load manager (control/offline-fit.ts) on what the chargers confirmed.
 */
import { conductorsOf, GRID_PHASES, type GridPhase, type Triple, triple } from '../phases';
import { blindIncluding, childrenFirst, leftA, withChildrenA } from './circuit';
import type { Circuit, Connector } from './model';

/** Below this, two currents are the same (the plan adds whole amps and learned tenths). */
const FIT_EPS = 1e-6;

/**
 * The grid phases (conductors) a connector's fallback loads: a car that arrives offline may use all
 * it is wired with (on IT a single-phase connector's two conductors: phases.ts `gridPhasesFor`).
 */
function phasesLoaded(connector: Connector): readonly GridPhase[] {
  return conductorsOf(connector);
}

/**
 * The other loads each circuit carries while ampflow is gone, per phase: its meter's level (`own`,
 * per circuit with a meter: the learned peak, else the configured `fallback.otherLoadA`, else 0)
 * combined with its children's by the circuit's rule (site/circuit.ts `withChildrenA`: no meter, the
 * children's plus its configured `fallback.otherLoadA`; a meter that includes the chargers sees the
 * children's loads too, at least what they count, and with `ownPart` what they count plus its own
 * part, `blindIncluding`, as evidence/other-load-peaks.ts counts a blind meter; one of the other
 * loads only adds them).
 */
export function otherLoadsOffline(
  circuits: readonly Circuit[],
  own: (circuit: Circuit, phase: GridPhase) => number,
  ownPart?: (circuit: Circuit, phase: GridPhase) => number | undefined,
): Triple[] {
  const result: Triple[] = circuits.map(() => triple(0));
  for (const c of childrenFirst(circuits)) {
    const circuit = circuits[c];
    if (!circuit) continue;
    const childA = triple(0);
    for (const child of circuit.childIndexes)
      for (const p of GRID_PHASES) childA[p] += result[child]?.[p] ?? 0;
    result[c] = GRID_PHASES.map((p) => {
      if (!circuit.meter) return withChildrenA(circuit, circuit.fallback.otherLoadA?.[p] ?? 0, childA[p]);
      const mine = own(circuit, p);
      if (circuit.meter.location === 'includesChargers' && ownPart)
        return blindIncluding(mine, childA[p], ownPart(circuit, p));
      return withChildrenA(circuit, mine, childA[p]);
    }) as Triple;
  }
  return result;
}

/**
 * What each circuit has left per phase for the connectors' fallbacks: its configured limit (not
 * lowered by a site limit) − headroom − other loads (site/circuit.ts `leftA`).
 */
export function budgets(circuits: readonly Circuit[], otherA: readonly Triple[]): Triple[] {
  return circuits.map(
    (circuit, c) => GRID_PHASES.map((p) => leftA(circuit, circuit.limitA, p, otherA[c]?.[p] ?? 0)) as Triple,
  );
}

/** Whether `amps` on the connector's phases fits what is left on every circuit of its path. */
function fitsOnPath(left: readonly Triple[], connector: Connector, amps: number): boolean {
  for (const c of connector.path) {
    const room = left[c];
    if (!room) continue;
    for (const p of phasesLoaded(connector)) if (room[p] < amps - FIT_EPS) return false;
  }
  return true;
}

/** Takes `amps` on the connector's phases from every circuit of its path. */
export function takeOnPath(left: Triple[], connector: Connector, amps: number): void {
  if (amps <= 0) return;
  for (const c of connector.path) {
    const room = left[c];
    if (!room) continue;
    for (const p of phasesLoaded(connector)) room[p] -= amps;
  }
}

/**
 * The fallback a connector is given where ampflow installs one: its minimum (6 A: a car cannot
 * charge below it) where that fits after what is `left`, else 0 A; never above `upToA`, by default
 * what the charger itself allows offline (`offlineA`, the installer's upper bound; a charger that
 * keeps its last limit is bounded by its cap instead; `amps`: a keeper's car's own minimum). Takes what it gives
 * from `left`.
 */
export function chooseMinimum(
  left: Triple[],
  connector: Connector,
  upToA = Math.min(connector.offlineA, connector.maxA),
  amps = connector.minA,
): number {
  if (amps > upToA + FIT_EPS || !fitsOnPath(left, connector, amps)) return 0;
  takeOnPath(left, connector, amps);
  return amps;
}

/**
 * Shares what is `left` among `connectors` evenly: on every circuit and phase a connector loads it
 * takes at most an equal share of what is left there, and at most `upToA` in all, so their sum
 * fits. A few passes give what one connector could not take (its `upToA`) to the others. Returns
 * what each got (0.1 A steps, rounded down) and takes it from `left`.
 */
export function shareEvenly(
  left: Triple[],
  connectors: readonly Connector[],
  upToA: (connector: Connector) => number,
): number[] {
  const given = connectors.map(() => 0);
  for (let pass = 0; pass < 3; pass++) {
    const open = connectors.map((connector, i) => upToA(connector) - (given[i] ?? 0) >= 0.1);
    const count: Triple[] = left.map(() => triple(0));
    connectors.forEach((connector, i) => {
      if (!open[i]) return;
      for (const c of connector.path) {
        const counts = count[c];
        if (counts) for (const p of phasesLoaded(connector)) counts[p] += 1;
      }
    });
    const shares = connectors.map((connector, i) => {
      if (!open[i]) return 0;
      let share = upToA(connector) - (given[i] ?? 0);
      for (const c of connector.path)
        for (const p of phasesLoaded(connector))
          share = Math.min(share, Math.max(0, left[c]?.[p] ?? 0) / (count[c]?.[p] || 1));
      return Math.floor(Math.max(0, share) * 10 + FIT_EPS) / 10;
    });
    if (shares.every((share) => share <= 0)) break;
    connectors.forEach((connector, i) => {
      const share = shares[i] ?? 0;
      takeOnPath(left, connector, share);
      given[i] = (given[i] ?? 0) + share;
    });
  }
  return given;
}

/** One circuit's sum when ampflow is gone, on its fullest phase. */
export interface OfflineSum {
  circuit: number;
  phase: GridPhase;
  /** What the connectors below draw then, on that phase. */
  connectorsA: number;
  otherA: number;
  /** connectorsA + otherA. */
  totalA: number;
  /** limit − headroom on that phase. */
  availableA: number;
  fits: boolean;
}

/**
 * Per circuit, the sum on its fullest phase (by what is over, then by load) of what each
 * connector draws when ampflow is gone (`drawA`, per connector index) and the other loads.
 */
export function offlineSums(
  circuits: readonly Circuit[],
  connectors: readonly Connector[],
  otherA: readonly Triple[],
  drawA: (connector: Connector) => number,
): OfflineSum[] {
  const onPhase: Triple[] = circuits.map(() => triple(0));
  for (const connector of connectors) {
    const amps = drawA(connector);
    if (amps <= 0) continue;
    for (const c of connector.path) {
      const sums = onPhase[c];
      if (sums) for (const p of phasesLoaded(connector)) sums[p] += amps;
    }
  }
  return circuits.map((circuit, c) => {
    let worst: OfflineSum | undefined;
    for (const p of GRID_PHASES) {
      const connectorsA = onPhase[c]?.[p] ?? 0;
      const other = otherA[c]?.[p] ?? 0;
      const availableA = leftA(circuit, circuit.limitA, p);
      const totalA = connectorsA + other;
      const sum: OfflineSum = {
        circuit: c,
        phase: p,
        connectorsA,
        otherA: other,
        totalA,
        availableA,
        fits: totalA <= availableA + FIT_EPS,
      };
      if (!worst || totalA - availableA > worst.totalA - worst.availableA + FIT_EPS) worst = sum;
    }
    return worst as OfflineSum;
  });
}
