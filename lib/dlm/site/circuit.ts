/**
 * A circuit's rules, in one home (issue 47): its limit now (the configured one, lowered by a site
 * limit in force; site/limits.ts keeps those as the commands set them), its power limits now, what
 * its limits leave the connectors below (`leftA`, `circuitBudget`: limit − headroom − what else is
 * counted, per phase and in power), and how circuits count one another (children first; a
 * circuit's own other loads with its children's, by where its meter sits). Defined in
 * site/config.ts, parsed in site/circuits.ts. The circuits stage (evidence/circuit-view.ts) counts
 * each circuit's loads now from the readings by these rules and hands its limit and loads on in its
 * view; the allocation's problem (allocation/from-update.ts, and through it the invariant), the
 * price plans, the rises without a ramp, ampflow's own absence (site/offline-plan.ts,
 * control/offline-fit.ts), the summary and *Check the site* ask this module, none works it out again.
 */
import { GRID_PHASES, type GridPhase, type Triple } from '../phases';
import type { SiteLimit } from './limits';
import type { Circuit } from './model';

/** What a circuit's limits leave the connectors below it: the allocation's constraints (allocation/problem.ts). */
export interface CircuitBudget {
  /**
   * What the connectors below may use per grid phase: limit − headroom − counted other loads.
   * Negative when the loads we do not control already exceed the limit.
   */
  capacityA: Triple;
  /** Power the connectors below may use (power limit − other loads' power), W; Infinity for none. */
  capacityW: number;
  /** Limit on the connectors' own power below this circuit (a site limit such as §14a), W; Infinity for none. */
  chargersCapacityW: number;
  /** Largest phase difference the connectors' load below may cause, A; Infinity for none. */
  unbalanceLimitA: number;
}

/** The circuit's current limit per phase now: its own, lowered by a site limit in force. */
export function limitNowA(circuit: Circuit, siteLimit: SiteLimit | undefined): Triple {
  const override = siteLimit?.limitA?.value;
  return override
    ? (circuit.limitA.map((l, p) => Math.min(l, override[p as GridPhase])) as Triple)
    : [...circuit.limitA];
}

/** The circuit's power limit now, W: the lower of its own and a site limit's (undefined: neither). */
export function powerLimitNowW(circuit: Circuit, siteLimit: SiteLimit | undefined): number | undefined {
  const ownW = circuit.powerLimitW;
  const overrideW = siteLimit?.powerLimitW?.value;
  return ownW === undefined ? overrideW : overrideW === undefined ? ownW : Math.min(ownW, overrideW);
}

/** The limit on the chargers' own power below the circuit now, W (a site limit such as §14a; undefined: none). */
export function chargersPowerLimitNowW(siteLimit: SiteLimit | undefined): number | undefined {
  return siteLimit?.chargersPowerLimitW?.value;
}

/**
 * What the circuit's limit (`limitA`: the limit now, or the configured one where a site limit does
 * not count) leaves on grid phase `p` beside `loadA`: limit − headroom − load, negative where the
 * load is above it. With no load, what its limit leaves at all.
 */
export function leftA(circuit: Circuit, limitA: Readonly<Triple>, p: GridPhase, loadA = 0): number {
  return limitA[p] - circuit.headroomA[p] - loadA;
}

/**
 * The circuit's budget in an update: per phase what its limit now leaves beside its other loads
 * (`otherA`, as the circuits stage counts them), in power what the lower power limit leaves beside
 * the headroom at the site's voltage and the other loads' power (`otherW`), the chargers' power
 * limit and the unbalance limit (+∞ where none).
 */
export function circuitBudget(
  circuit: Circuit,
  siteLimit: SiteLimit | undefined,
  limitA: Readonly<Triple>,
  otherA: Readonly<Triple>,
  otherW: number,
  voltageV: number,
): CircuitBudget {
  const capacityA: Triple = [
    leftA(circuit, limitA, 0, otherA[0]),
    leftA(circuit, limitA, 1, otherA[1]),
    leftA(circuit, limitA, 2, otherA[2]),
  ];
  const limitW = powerLimitNowW(circuit, siteLimit);
  const { headroomA } = circuit;
  const headroomW = (headroomA[0] + headroomA[1] + headroomA[2]) * voltageV;
  return {
    capacityA,
    capacityW: limitW === undefined ? Number.POSITIVE_INFINITY : limitW - headroomW - otherW,
    chargersCapacityW: chargersPowerLimitNowW(siteLimit) ?? Number.POSITIVE_INFINITY,
    unbalanceLimitA: circuit.unbalanceLimitA ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * What a connector counts at on one phase of every circuit on its path: its limit where it loads
 * the phase, never less than its floor there (what it draws whatever its limit: an offline charger,
 * one that ignores its limit). The invariant checks the circuits by it, the summary shows it, the
 * phase switch and the meter's subtraction of the chargers bound a connector by it.
 */
export function countedA(floorA: number, loads: boolean, limitA: number): number {
  return Math.max(floorA, loads ? limitA : 0);
}

/** Circuit indexes, children before their parents (a circuit counts what its children count). */
export function childrenFirst(circuits: readonly Circuit[]): number[] {
  const depth = (index: number): number => {
    const parent = circuits[index]?.parentIndex;
    return parent === undefined ? 0 : 1 + depth(parent);
  };
  return circuits.map((c) => c.index).sort((a, b) => depth(b) - depth(a) || a - b);
}

/**
 * A circuit's other loads on one phase with what its child circuits count there (`childA`), from
 * its own (`ownA`: its meter's reading less the chargers, or what a blind meter or a circuit
 * without one is counted at), by where its meter sits (site/config.ts `MeterLocation`): a meter
 * that counts the chargers sees the children's loads too (at least what they count); one of the
 * other loads only and a circuit without a meter add them.
 */
export function withChildrenA(circuit: Circuit, ownA: number, childA: number): number {
  return circuit.meter?.location === 'includesChargers' ? Math.max(ownA, childA) : ownA + childA;
}

/**
 * What a blind meter that counts the circuits below it (`includesChargers`) counts its other loads
 * at on a phase: the most it read (`whole`), never less than what the circuits below count now
 * (`belowA`) plus the most its own part drew (`ownPartA`): two peaks it never saw at the same time
 * still add up. Without a learned own part, what is below plus the whole (the safe side). With no
 * meter below (`belowA` 0 and no own part), the most it read.
 */
export function blindIncluding(whole: number, belowA: number, ownPartA: number | undefined): number {
  return Math.max(whole, belowA + (ownPartA ?? whole));
}

/** `withChildrenA` on every phase. */
export function withChildren(circuit: Circuit, ownA: Readonly<Triple>, childA: Readonly<Triple>): Triple {
  return GRID_PHASES.map((p) => withChildrenA(circuit, ownA[p], childA[p])) as Triple;
}
