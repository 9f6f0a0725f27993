/**
 * The policy's hold for decreases still on their way (control/policy.ts): an increase that needs the
 * current a decrease frees goes out only once the decrease has taken effect.
 */
import type { AllocationProblem } from '../allocation/allocate';
import { checkAllocation } from '../allocation/invariant';
import { followMsOf } from '../evidence/overdraw';
import type { ConnectorRuntime, ConnectorView } from '../parts';
import { type GridPhase, gridPhasesFor, type Triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import type { Connector, Site } from '../site/model';
import { english, type Reason, say, sayNames } from '../words';

/** What the hold looks at (the policy's context). */
export interface HoldContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
}

/**
 * What a charger may still draw until it shows it followed its next set-point: the last one sent,
 * or, when it is back online with a car charging, its own fallback if that is higher (until now it
 * ran on its own). Both the decrease it is expected to follow (send) and the increases of others
 * that must wait for it (holdForPendingDecreases) count it at this.
 */
export function mayStillDrawA(connector: Connector, runtime: ConnectorRuntime): number {
  const before = runtime.sent?.limitA ?? 0;
  return runtime.sent && runtime.resend && runtime.state?.status === 'Charging'
    ? Math.max(before, connector.offlineA)
    : before;
}

/**
 * What the hold reads of each connector's record, noted in the policy's one pass over the records
 * (before the finals are known): what it may still draw, the decrease it has not followed yet, and
 * the grid phases it had if it was switched up in this update (`last`: its set-point sent).
 */
export class OnItsWay {
  readonly mayDrawA: Float64Array;
  readonly pendingFromA: Float64Array;
  readonly oldPhases = new Map<number, readonly number[]>();
  /** Per grid phase, what it may draw above a set-point (evidence/observations.ts registerAboveA). */
  readonly aboveA = new Map<number, Readonly<Triple>>();

  constructor(count: number) {
    this.mayDrawA = new Float64Array(count);
    this.pendingFromA = new Float64Array(count);
  }

  note(
    k: number,
    connector: Connector | undefined,
    runtime: ConnectorRuntime | undefined,
    last: number,
    now: number,
  ): void {
    this.mayDrawA[k] = runtime && connector ? mayStillDrawA(connector, runtime) : last;
    this.pendingFromA[k] = runtime?.pendingDecrease?.fromA ?? 0;
    const above = runtime?.session.registerAboveA;
    if (above) this.aboveA.set(k, above);
    else this.aboveA.delete(k);
    // (A paused connector was not switched up: its session is not read.)
    const session = last > 0 ? runtime?.session : undefined;
    if (connector && session?.switchedAtMs === now && !session.onePhase) {
      this.oldPhases.set(k, gridPhasesFor(connector, session.previousChargerPhases ?? []));
    }
  }
}

/**
 * An increase that needs current a decrease frees waits until the decrease has taken effect: the
 * invariant is checked with every connector decreased in this update, or decreased earlier without
 * a reading that shows it followed (and less than decreaseSettleMs ago), counted at its previous
 * set-point; an increase below a circuit that then fails is held. A connector switched up to three
 * phases in this update is an increase on the two phases it did not use, whatever its amps do:
 * there it starts at its minimum (which the switch made sure fits beside everyone's decreases
 * still on their way) until the others follow.
 */
export function holdForPendingDecreases(
  context: HoldContext,
  problem: AllocationProblem,
  finals: number[],
  lasts: number[],
  onItsWay: OnItsWay,
): void {
  const { site, views } = context;
  // The worst case: the problem with higher floors for those counted at what they may still draw,
  // and the switched up (checkAllocation's floorsA: nothing else of a demand changes).
  let worstFloorsA: (Triple | undefined)[] | undefined;
  const switchedUp = new Set<number>();
  /** Connectors counted at what they may still draw (not the switched up): who the held wait for. */
  const decreasing: number[] = [];
  /** Connectors a hold may lower: increases counted as they are, and the switched up. */
  const holdable: number[] = [];
  for (let k = 0; k < problem.connectors.length; k++) {
    const demand = problem.connectors[k];
    if (!demand) continue;
    const last = lasts[k] ?? 0;
    const final = finals[k] ?? 0;
    const mayDraw = onItsWay.mayDrawA[k] as number;
    const from = Math.max(final < mayDraw ? mayDraw : 0, onItsWay.pendingFromA[k] as number);
    const oldPhases = onItsWay.oldPhases.get(k);
    let floorA: Triple | undefined;
    if (oldPhases && oldPhases.length < demand.phases.length) {
      // What it may still draw only on the phases it had; on the others it is new (its final).
      switchedUp.add(k);
      holdable.push(k);
      floorA = demand.floorA.map((floor, p) =>
        oldPhases.includes(p as GridPhase) ? Math.max(floor, from, mayDraw) : floor,
      ) as Triple;
    } else if (from > final) {
      decreasing.push(k);
      // A charger its register showed above a set-point may draw that much more than `from`.
      const above = onItsWay.aboveA.get(k);
      floorA = demand.floorA.map((floor, p) =>
        demand.phases.includes(p as GridPhase) ? Math.max(floor, from + (above?.[p] ?? 0)) : floor,
      ) as Triple;
      // Raised above its set-point while it has not shown it followed an earlier decrease to it (a
      // paused car started again while it still draws): an increase of its set-point all the same,
      // held like the others' increases. Not a charger that is decreasing only because it is back
      // online on its own fallback: its own set-point is what it waits for (held, it would wait
      // for itself for ever).
      if (final > last && (onItsWay.pendingFromA[k] as number) > final) holdable.push(k);
    } else if (final > last) holdable.push(k);
    if (floorA) {
      worstFloorsA ??= new Array<Triple | undefined>(problem.connectors.length).fill(undefined);
      worstFloorsA[k] = floorA;
    }
  }
  // Nothing on its way, or nobody a hold could lower: nothing to check.
  if (!worstFloorsA || holdable.length === 0) return;
  const violated = new Uint8Array(problem.circuits.length);
  let waitingFor: string | Reason | undefined;
  // A start is checked with the margin its admission asked for (allocation/allocator.ts): a car not
  // read yet may draw above its limit (evidence/overshoot.ts), and the worst case has no room
  // left for that. Started at 6 A beside a 32 A car lowered to 22 A that followed 2 s after it, a
  // car 3 % above its limit put 0.18 A over a breaker filled to the ampere by the worst case
  // (AMPFLOW_CLOSED_LOOP_SEED=20261211 path 2385).
  const starts = holdable.filter((k) => (lasts[k] ?? 0) <= 0 && (finals[k] ?? 0) > 0);
  const starting = new Uint8Array(starts.length === 0 ? 0 : finals.length);
  for (const k of starts) starting[k] = 1;
  const checkedLimits = () =>
    starts.length === 0
      ? finals
      : finals.map((a, k) =>
          a > 0 && starting[k] === 1
            ? a + problem.startMarginA + (problem.connectors[k]?.startExtraA ?? 0)
            : a,
        );
  /** Whether a hold could still lower k: the switched up to its minimum, an increase to its last. */
  const lowerable = (k: number) =>
    switchedUp.has(k)
      ? (finals[k] ?? 0) > (problem.connectors[k]?.minA ?? site.connectors[k]?.minA ?? 0)
      : (finals[k] ?? 0) > (lasts[k] ?? 0);
  for (let round = 0; round <= finals.length; round++) {
    // A round holds only whom a hold could still lower: with nobody left, it would hold nobody
    // (typically the round after one that held every increase below a circuit the worst case fails).
    if (!holdable.some(lowerable)) return;
    violated.fill(0);
    for (const v of checkAllocation(problem, checkedLimits(), worstFloorsA))
      if (v.kind !== 'minimum' && v.kind !== 'maximum') violated[v.index] = 1;
    // A charger back online on its own fallback given less than that is decreasing, whatever it
    // was sent before: its own set-point goes out (holding it would wait for itself for ever).
    const hold: number[] = [];
    const toMinimum: number[] = [];
    for (const k of holdable) {
      if (!problem.connectors[k]?.path.some((c) => violated[c] === 1) || !lowerable(k)) continue;
      (switchedUp.has(k) ? toMinimum : hold).push(k);
    }
    if (hold.length === 0 && toMinimum.length === 0) return;
    // The same in every round: who is counted at what it may still draw.
    waitingFor ??= blindOnes(
      context,
      decreasing,
      sayNames(decreasing.map((k) => site.connectors[k]?.key ?? '')),
    );
    for (const k of hold) {
      finals[k] = lasts[k] ?? 0;
      const view = views[k];
      if (view) view.holdReason = [say('waitingDecrease', { names: waitingFor })];
    }
    for (const k of toMinimum) {
      finals[k] = problem.connectors[k]?.minA ?? site.connectors[k]?.minA ?? 0;
      const view = views[k];
      if (view) view.holdReason = [say('switchedThree', { names: waitingFor })];
    }
  }
}

/**
 * A few names, and how many more: a reason a person reads (and that every held connector carries)
 * names at most three connectors, whatever the size of the site.
 */
export function namesInShort(keys: readonly string[]): string {
  const said = sayNames(keys);
  return typeof said === 'string' ? said : english(said);
}

/**
 * Of the connectors waited for, those whose charger refused to report per-phase currents
 * (`ConnectorState.sampling`): no reading of theirs will show it, so only their follow time does.
 */
function blindOnes(
  context: HoldContext,
  decreasing: readonly number[],
  names: string | Reason,
): string | Reason {
  const blind = decreasing.flatMap((k) => {
    const connector = context.site.connectors[k];
    const runtime = connector && context.runtimes.of(connector);
    return connector && runtime?.state?.sampling?.perPhaseCurrents === false
      ? [`${connector.key}, ${Math.round(followMsOf(context.site, runtime) / 1000)} s`]
      : [];
  });
  return blind.length === 0 ? names : [say('namesFollowTime', { names, blind: sayNames(blind) })];
}
