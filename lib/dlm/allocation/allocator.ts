/**
 * The allocation strategy of one round of `allocate` (allocate.ts, which owns the rounds and says
 * why the safety invariant holds): minimums in keep order, progressive filling, the unbalance
 * fix-up, rounding.
 */
import type { GridPhase } from '../phases';
import { progressiveFill } from './fill';
import { type Allocation, AT_MAX, type Bound } from './problem';
import { ALLOCATION_EPS, AllocationState } from './state';
import { argmax, argmin, capFor } from './unbalance';

/** Per circuit whose unbalance a round ended over its limit: that gap's high and low phase. */
export type OverLimit = ReadonlyMap<number, readonly [GridPhase, GridPhase]>;

/**
 * One round's step 1: the connectors in the order their minimums were tried, and for each whether
 * it was admitted (null) or what refused it. The next round tries the same connectors in the same
 * order up to the first one excluded since: those decisions are the same again.
 */
export interface Admissions {
  order: readonly number[];
  outcomes: readonly (Bound | null)[];
}

/** The allocation strategy: minimums in keep order, progressive filling, the unbalance fix-up, rounding. */
export class Allocator extends AllocationState {
  admissions: Admissions | undefined;
  private overLimit: OverLimit = new Map();
  /** Connectors refused because they would widen a gap over its limit (overLimit): their circuit. */
  private readonly refusedOverLimit = new Map<number, number>();

  run(earlier?: Admissions, overLimit: OverLimit = new Map()): Allocation {
    this.overLimit = overLimit;
    this.admitMinimums(earlier);
    this.raiseOwned();
    this.share(this.onConnectors());
    this.admitYielding();
    this.fixUnbalance(true);
    // Rounding down may lower a connector on the least loaded phase: fix the unbalance once more,
    // now only by lowering (in whole steps).
    this.round();
    this.toChargerSteps(true);
    this.fixUnbalance(false);
    this.toChargerSteps(false);
    this.finish();
    return { connectors: this.result };
  }

  /**
   * Step 1: every connector that wants current gets its minimum, in keep order, while it fits.
   * Keep order: connectors inside their minimum on time, then priority, then the shedding rule.
   * After a restart, the `earlier` round's decisions are taken again where the order is the same
   * (the state each of them was made in is then the same too).
   */
  private admitMinimums(earlier: Admissions | undefined): void {
    const order = this.layout.wantingInKeepOrder(this.excluded);
    const outcomes: (Bound | null)[] = new Array(order.length);
    let same = 0;
    if (earlier) {
      const end = Math.min(order.length, earlier.order.length);
      while (same < end && earlier.order[same] === order[same]) same++;
    }
    if (this.overLimit.size > 0) {
      // An earlier round's admission is taken again only where this round's refusal does not apply.
      for (let at = 0; at < same; at++) {
        if (earlier?.outcomes[at] === null && this.widensOverLimit(order[at] ?? 0) !== undefined) {
          same = at;
          break;
        }
      }
    }
    for (let at = 0; at < order.length; at++) {
      const k = order[at] ?? 0;
      const entry = this.result[k];
      if (!entry) continue;
      if (this.problem.connectors[k]?.yields) {
        outcomes[at] = AT_MAX;
        continue;
      }
      const outcome = at < same ? (earlier?.outcomes[at] ?? null) : this.admissionOf(k);
      outcomes[at] = outcome;
      if (outcome) {
        entry.bound = outcome;
        continue;
      }
      this.setLimit(k, this.flat.minA[k] ?? 0);
      entry.state = 'charging';
      entry.bound = undefined;
    }
    this.admissions = { order, outcomes };
  }

  /**
   * Step 2b: a car that rests on its own (`yields`, skipped by step 1) gets its minimum, in keep
   * order, only where it fits beside what the others took in step 2 (with the start margin).
   */
  private admitYielding(): void {
    for (const k of this.layout.wantingInKeepOrder(this.excluded)) {
      const entry = this.result[k];
      if (!entry || !this.problem.connectors[k]?.yields) continue;
      const outcome = this.admissionOf(k);
      entry.bound = outcome ?? AT_MAX;
      if (outcome) continue;
      this.setLimit(k, this.flat.minA[k] ?? 0);
      entry.state = 'charging';
    }
  }

  /** Whether connector k's minimum fits now (null) or what refuses it. */
  private admissionOf(k: number): Bound | null {
    const { minA, maxA, phaseCount, starting } = this.flat;
    const min = minA[k] ?? 0;
    if ((maxA[k] ?? 0) + ALLOCATION_EPS < min || phaseCount[k] === 0) return AT_MAX;
    const margin = starting[k] ? this.problem.startMarginA + (this.demand(k).startExtraA ?? 0) : 0;
    // A paused connector must find room for its minimum plus the start margin, so that it is
    // not started now only to be paused again by the next small rise of the other loads (and
    // what it draws above a set-point, where it was seen doing so).
    const refused = this.violated(k, min + margin);
    if (refused) return refused;
    const circuit = this.widensOverLimit(k);
    if (circuit === undefined) return null;
    this.refusedOverLimit.set(k, circuit);
    return { kind: 'unbalance', circuit };
  }

  /**
   * The circuit on connector k's path whose gap the last round ended over its limit, if k at its
   * minimum would widen that gap (it counts on the high phase, not on the low one, above its floor).
   */
  private widensOverLimit(k: number): number | undefined {
    if (this.overLimit.size === 0) return undefined;
    const demand = this.demand(k);
    for (const c of demand.path) {
      const pair = this.overLimit.get(c);
      if (!pair) continue;
      if (this.widensGap(k, pair[0], pair[1]) && demand.minA > demand.floorA[pair[0]] + ALLOCATION_EPS)
        return c;
    }
    return undefined;
  }

  /** Every circuit whose unbalance is over its limit now, with its high and low phase. */
  overUnbalanceLimit(): OverLimit {
    const over = new Map<number, readonly [GridPhase, GridPhase]>();
    this.problem.circuits.forEach((_, c) => {
      const gap = this.gapOver(c);
      if (gap) over.set(c, [gap.high, gap.low]);
    });
    return over;
  }

  /** Circuit c's phase gap where it is over its unbalance limit: the high and low phase and by how much. */
  private gapOver(c: number): { high: GridPhase; low: GridPhase; excess: number } | undefined {
    const limitA = this.unbalanceLimit[c] ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(limitA)) return undefined;
    const loads = this.phaseLoads(c);
    const high = argmax(loads);
    const low = argmin(loads);
    const excess = loads[high] - loads[low] - limitA;
    return excess > ALLOCATION_EPS ? { high, low, excess } : undefined;
  }

  /** Whether connector k loads the gap's high phase and not its low one (so its current widens it). */
  private widensGap(k: number, high: GridPhase, low: GridPhase): boolean {
    return this.unbalanceCounts(k, high) && !this.unbalanceCounts(k, low);
  }

  /** Whether every connector refused by `widensOverLimit` would widen the gap this round ended with. */
  refusalsHeld(endedOver: () => OverLimit): boolean {
    if (this.refusedOverLimit.size === 0) return true;
    const over = endedOver();
    for (const [k, c] of this.refusedOverLimit) {
      const pair = over.get(c);
      if (!pair || !this.widensGap(k, pair[0], pair[1])) return false;
    }
    return true;
  }

  /**
   * Step 1b: a charging connector with an own floor (ConnectorDemand.ownFloorA) up to the most its
   * own question allows (violatedOwn: its count that may mean more is not what holds it), before the
   * others share what is left; in keep order, whole problem steps (a bisection: what a rise adds
   * beside its own floor only grows with it).
   */
  private raiseOwned(): void {
    const { owned, maxA } = this.flat;
    const { stepA } = this.problem;
    for (const k of this.layout.wantingInKeepOrder(this.excluded)) {
      if (owned[k] !== 1 || this.result[k]?.state !== 'charging') continue;
      const from = this.limit[k] ?? 0;
      const top = maxA[k] ?? 0;
      if (!(top > from + ALLOCATION_EPS)) continue;
      const refused = this.violatedOwn(k, top);
      let lo = from;
      if (!refused) lo = top;
      else {
        let hi = top;
        while (hi - lo > stepA / 2) {
          const mid = (lo + hi) / 2;
          if (this.violatedOwn(k, mid)) hi = mid;
          else lo = mid;
        }
      }
      if (lo > from + ALLOCATION_EPS) this.setLimit(k, lo);
      const entry = this.result[k];
      if (entry) entry.bound = refused ?? AT_MAX;
    }
  }

  private onConnectors(): number[] {
    const on: number[] = [];
    const result = this.result;
    for (let k = 0; k < result.length; k++) if (result[k]?.state === 'charging') on.push(k);
    return on;
  }

  /**
   * Step 2: what is left goes to the charging connectors, tier by tier in priority order, each
   * tier by progressive filling (equal current; a connector that cannot use its share leaves it
   * to the others).
   */
  private share(connectors: number[], fixed: ReadonlySet<number> = new Set()): void {
    const tiers = new Map<number, number[]>();
    const { priority: priorityOf } = this.flat;
    // Connectors come in runs of one priority: the last one's tier is taken without the map.
    let lastPriority = Number.NaN;
    let tier: number[] = [];
    for (const k of connectors) {
      // One with an own floor is not filled: below its floor a rise adds nothing to what the fill
      // sees, and it would be raised to its floor beside what it surely draws (raiseOwned's).
      if (fixed.has(k) || this.flat.owned[k] === 1) continue;
      const priority = priorityOf[k] ?? 0;
      if (priority !== lastPriority) {
        tier = tiers.get(priority) ?? [];
        tiers.set(priority, tier);
        lastPriority = priority;
      }
      tier.push(k);
    }
    for (const priority of [...tiers.keys()].sort((a, b) => b - a)) this.fill(tiers.get(priority) ?? []);
  }

  private fill(members: number[]): void {
    progressiveFill(members, {
      limit: this.limit,
      maxA: this.flat.maxA,
      terms: this.terms,
      capacity: this.capacity,
      usage: this.usage,
      bound: (j) => this.layout.bounds[j] ?? AT_MAX,
      stop: (k, value, bound) => {
        // A member the fill holds where it is (a full constraint) keeps its limit as it is.
        if (value !== this.limit[k]) this.setLimit(k, value);
        const entry = this.result[k];
        if (entry) entry.bound = bound;
      },
      atMax: (k) => this.boundAtMax(k),
    });
  }

  private boundAtMax(k: number): void {
    const entry = this.result[k];
    if (entry && !entry.bound) entry.bound = AT_MAX;
  }

  /**
   * Step 3: where single- or two-phase loads make the phases of a circuit differ by more than its
   * unbalance limit, lower (and if need be pause) the connectors on the most loaded phase, then
   * share what that freed among the others again.
   */
  private fixUnbalance(reshare: boolean): void {
    const { circuits } = this.problem;
    const reduced = new Set<number>();
    for (let round = 0; round < 4; round++) {
      let changed = false;
      circuits.forEach((_, c) => {
        for (let step = 0; step < 12; step++) {
          const gap = this.gapOver(c);
          if (!gap) break;
          const { high, low, excess } = gap;
          // Only connectors whose lower limit lowers the high phase help (not one drawing above it).
          const candidates: number[] = [];
          for (const k of this.layout.unevenBelow(c)) {
            if (
              this.widensGap(k, high, low) &&
              (this.limit[k] ?? 0) > (this.flat.floorA[3 * k + high] ?? 0) + ALLOCATION_EPS &&
              this.result[k]?.state === 'charging'
            )
              candidates.push(k);
          }
          if (candidates.length === 0) break;
          this.lowerBy(candidates, excess, { kind: 'unbalance', circuit: c });
          for (const k of candidates) reduced.add(k);
          changed = true;
        }
      });
      if (!changed || !reshare) break;
      this.share(this.onConnectors(), reduced);
    }
  }

  /** Lowers the candidates' total by `amount` with a common cap, pausing in reverse keep order if needed. */
  private lowerBy(candidates: number[], amount: number, bound: Bound): void {
    const limits = new Float64Array(candidates.length);
    const minimums = new Float64Array(candidates.length);
    let room = 0;
    let hi = Number.NEGATIVE_INFINITY;
    // Only a candidate above its minimum can be cut: the others are left out of the sums below.
    let above = 0;
    for (const k of candidates) {
      const a = this.limit[k] ?? 0;
      const min = this.flat.minA[k] ?? 0;
      room += a - min;
      hi = Math.max(hi, a);
      if (a <= min) continue;
      limits[above] = a;
      minimums[above++] = min;
    }
    if (room + ALLOCATION_EPS >= amount) {
      const lo = capFor(limits.subarray(0, above), minimums.subarray(0, above), amount, hi);
      for (const k of candidates) {
        const capped = Math.max(this.flat.minA[k] ?? 0, this.stepDown(Math.min(this.limit[k] ?? 0, lo)));
        if (capped < (this.limit[k] ?? 0) - ALLOCATION_EPS) this.setLimit(k, capped);
        // Every candidate is held by the unbalance now, lowered or not.
        const entry = this.result[k];
        if (entry) entry.bound = bound;
      }
      return;
    }
    for (const k of candidates) {
      this.setLimit(k, this.flat.minA[k] ?? 0);
      const entry = this.result[k];
      if (entry) entry.bound = bound;
    }
    let left = amount - room;
    const shedOrder = [...candidates].sort(
      (a, b) =>
        Number(this.demand(a).keepOn) - Number(this.demand(b).keepOn) ||
        this.demand(a).priority - this.demand(b).priority ||
        this.demand(b).keepRank - this.demand(a).keepRank ||
        b - a,
    );
    for (const k of shedOrder) {
      if (left <= ALLOCATION_EPS) break;
      left -= this.limit[k] ?? 0;
      this.pause(k, bound);
    }
  }

  private pause(k: number, bound: Bound): void {
    this.setLimit(k, 0);
    if (bound.kind === 'unbalance') this.unbalancePaused.set(k, bound);
    const entry = this.result[k];
    if (entry) {
      entry.state = 'paused';
      entry.bound = bound;
    }
  }

  private stepDown(a: number): number {
    const { stepA } = this.problem;
    return Math.round(Math.floor((a + ALLOCATION_EPS) / stepA) * stepA * 1000) / 1000;
  }

  /** Rounds down to the step; never below the minimum (a limit is 0 or ≥ minimum). */
  private round(): void {
    const { result, limit } = this;
    const { minA } = this.flat;
    for (let k = 0; k < result.length; k++) {
      const entry = result[k];
      if (!entry) continue;
      const min = minA[k] ?? 0;
      const a = limit[k] ?? 0;
      if (entry.state !== 'charging' || a < min - ALLOCATION_EPS) {
        if (a !== 0) this.setLimit(k, 0);
        if (entry.state === 'charging') entry.state = 'paused';
        continue;
      }
      const stepped = Math.max(min, this.stepDown(a));
      if (stepped !== a) this.setLimit(k, stepped);
    }
  }

  /**
   * Connectors whose charger takes only multiples of its own step (whole amperes) are rounded down
   * to it (paused below their minimum); with `reshare`, what that left goes to the others (fixed at
   * their steps, the others filled again, then rounded to the problem's step). Without, only rounds
   * (after the unbalance fix-up lowered someone: lowering never needs a reshare to be safe).
   */
  private toChargerSteps(reshare: boolean): void {
    const { connectors, stepA } = this.problem;
    const coarse = new Set<number>();
    let changed = false;
    for (let k = 0; k < connectors.length; k++) {
      const own = connectors[k]?.stepA;
      const entry = this.result[k];
      if (own === undefined || own <= stepA + ALLOCATION_EPS || entry?.state !== 'charging') continue;
      coarse.add(k);
      const a = this.limit[k] ?? 0;
      const stepped = Math.round(Math.floor((a + ALLOCATION_EPS) / own) * own * 1000) / 1000;
      if (stepped === a) continue;
      changed = true;
      if (stepped < (this.flat.minA[k] ?? 0) - ALLOCATION_EPS) this.pause(k, entry.bound ?? AT_MAX);
      else this.setLimit(k, stepped);
    }
    if (!changed || !reshare) return;
    this.share(this.onConnectors(), coarse);
    this.round();
  }

  private finish(): void {
    this.result.forEach((entry, k) => {
      entry.limitA = entry.state === 'charging' ? (this.limit[k] ?? 0) : 0;
      if (entry.limitA === 0 && entry.state === 'charging') entry.state = 'paused';
    });
  }
}
