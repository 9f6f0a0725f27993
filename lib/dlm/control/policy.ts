/**
 * Policy stage: how a target from the allocator becomes the set-point that goes out. It owns the
 * set-points sent and every rule about changing them: decreases at once (decreases first); a
 * start at the minimum; increases ramped (`rampUpAPerS`, decided here only; a pv car's rise out of
 * the surplus in one step, and so a rise into the current a car that left freed, control/freed-current.ts) at most once per interval and held while a decrease they need has not
 * taken effect or while expressions are being re-evaluated; small changes held while the invariant
 * holds; minimum on and off times (evidence/minimum-times.ts, started here as a set-point goes
 * out). Last, the invariant is checked on exactly what is about to go out.
 */
import type { SetPoint } from '../../contracts';
import type { Logger } from '../../log';
import type { AllocationProblem, ConnectorAllocation } from '../allocation/allocate';
import { checkAllocation } from '../allocation/invariant';
import { noteChange } from '../evidence/charger-draw';
import { chargerStepA } from '../evidence/charger-step';
import type { CircuitView } from '../evidence/circuit-view';
import { expectDecrease, notePassed, supersedeDecrease } from '../evidence/decrease-settle';
import { drewAnything, remember } from '../evidence/measurements';
import { startMinimumTimes } from '../evidence/minimum-times';
import type { ConnectorRuntime, ConnectorView } from '../parts';
import { EPS, floorStep } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import type { ControlConfig } from '../site/config';
import type { Connector, Site } from '../site/model';
import { english, given, type Reason, say } from '../words';
import { FreedCurrent } from './freed-current';
import { MeasuredHeadroom, startTested } from './measured-headroom';
import { holdForPendingDecreases, mayStillDrawA, OnItsWay } from './pending-decreases';

export { namesInShort } from './pending-decreases';

/** What the policy looks at in one update. */
export interface PolicyContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  /** The circuits as the circuits stage saw them (evidence/circuit-view.ts): whose headroom is measured. */
  circuitViews?: readonly CircuitView[];
}

export class UpdatePolicy {
  private internal: Reason[] = [];
  /** The current departures freed, which the others take without the ramp. */
  private readonly freed = new FreedCurrent();

  constructor(private readonly logger: Logger) {}

  /** What the last update's invariant check refused (cannot happen unless the allocator has a bug). */
  get internalProblems(): readonly Reason[] {
    return this.internal;
  }

  /** The set-points to send for the allocator's targets (see the module comment). */
  apply(
    context: PolicyContext,
    now: number,
    problem: AllocationProblem,
    allocation: ConnectorAllocation[],
    expressionsPending: boolean,
  ): number[] {
    const { site, runtimes, views } = context;
    const { control } = site;
    const targets: number[] = [];
    const finals: number[] = [];
    for (const entry of allocation) {
      targets.push(entry.limitA);
      finals.push(entry.limitA);
    }
    const lasts: number[] = [];
    const held: number[] = [];
    // What the hold reads of the records is noted in this pass (one pass over them).
    const onItsWay = new OnItsWay(problem.connectors.length);
    this.freed.open(site, runtimes, now);
    const headroom = new MeasuredHeadroom(site, runtimes, views, context.circuitViews, targets);
    for (let k = 0; k < site.connectors.length; k++) {
      const connector = site.connectors[k];
      const runtime = connector && runtimes.of(connector);
      const last = runtime?.sent?.limitA ?? 0;
      lasts.push(last);
      onItsWay.note(k, connector, runtimes.at(k), last, now);
      if (!connector || !runtime) continue;
      const view = views[k];
      if (view) view.holdReason = undefined;
      const target = targets[k] ?? 0;
      if (!(target > last)) runtime.increaseSinceMs = undefined;
      if (target === 0) continue;
      // (A pv or minpv car keeps its own rules: its rise out of the surplus is in one step already.)
      const measured =
        target > last && view?.mode !== 'pv' && view?.mode !== 'minpv' && headroom.allows(connector);
      if (last === 0) {
        // A start begins at the minimum (the test of whether its charger follows); its share
        // follows in one step once that shows (control/measured-headroom.ts), else the ramp.
        finals[k] = Math.min(target, view?.minA ?? connector.minA);
        continue;
      }
      if (target > last && last < (view?.minA ?? connector.minA)) {
        // Below a minimum that rose (the car's own, learned or asked for): to it at once, as a
        // start; held there as a small increase it would be a set-point below the minimum.
        finals[k] = Math.min(target, view?.minA ?? connector.minA);
        continue;
      }
      if (target < last) {
        if (last - target < control.minChangeA) {
          finals[k] = last;
          held.push(k);
        }
        continue;
      }
      if (target > last && !startTested(site, runtime, view, now)) {
        // The start is the test of whether its charger follows: no raise before it showed.
        finals[k] = last;
        if (view) view.holdReason = [say('atStart')];
        continue;
      }
      if (target > last) {
        finals[k] = rampedIncrease(
          { ...control, stepA: stepOf(control, connector, runtime) },
          runtime,
          last,
          target,
          now,
          measured || risesToSurplus(connector, view, allocation[k]),
          // A start at the minimum takes its one step once its headroom is measured, without waiting an interval.
          measured && runtime.chargingSinceMs === runtime.lastChangeAtMs,
        );
        // Current a car that left drew a moment ago: taken in one step, whenever the connector last
        // changed (each amp once, within one interval of the departure: control/freed-current.ts),
        // but not in rises smaller than minChangeA (a meter's jitter would take it a tenth at a time,
        // the set-point changing every second).
        const ramped = finals[k] ?? last;
        if (this.freed.any && target - ramped >= control.minChangeA - EPS)
          finals[k] = floorStep(
            ramped + this.freed.take(connector, target - ramped),
            stepOf(control, connector, runtime),
          );
      }
    }
    // While expressions re-evaluate after an input changed what they see, nobody is raised on the
    // old results (a decrease may still go out).
    if (expressionsPending) {
      for (let k = 0; k < finals.length; k++) {
        if ((finals[k] ?? 0) > (lasts[k] ?? 0)) {
          finals[k] = lasts[k] ?? 0;
          const view = views[k];
          if (view) view.holdReason = [say('waitingExpressions')];
        }
      }
    }
    if (held.length > 0 && checkAllocation(problem, finals).length > 0) {
      // A held small decrease is needed after all: send the decreases (before deciding which
      // increases must wait for them).
      for (const k of held) finals[k] = targets[k] ?? 0;
    }
    holdForPendingDecreases(context, problem, finals, lasts, onItsWay);
    const violations = checkAllocation(problem, finals);
    this.internal = [];
    if (violations.length > 0) {
      // Cannot happen unless the allocator has a bug: never let such limits out.
      // The invariant's own words (allocation/invariant.ts): a bug's report, for whoever fixes it.
      const refused = [
        say('internalCheck', { violations: [given(violations.map((v) => v.message).join('; '))] }),
      ];
      this.logger.error(english(refused));
      this.internal.push(refused);
      for (const violation of violations) {
        const affected =
          violation.kind === 'minimum' || violation.kind === 'maximum'
            ? [violation.index]
            : problem.connectors.flatMap((demand, k) => (demand.path.includes(violation.index) ? [k] : []));
        for (const k of affected) finals[k] = 0;
      }
    }
    return finals;
  }

  /**
   * Records and sends the set-points that changed, decreases first; `reasonFor` explains each (only
   * those: a reason is text for a person, and the load manager words the others' when asked).
   * Returns whether any went out.
   */
  send(
    context: PolicyContext,
    now: number,
    finals: number[],
    allocation: ConnectorAllocation[],
    reasonFor: (
      connector: Connector,
      view: ConnectorView,
      entry: ConnectorAllocation,
      limitA: number,
    ) => Reason,
    emit: (setPoint: SetPoint, words: Reason) => void,
    /** The offline fallback chosen per connector (control/offline-fit.ts); a change goes out with the set-point. */
    fallbacksA: readonly (number | undefined)[] = [],
  ): boolean {
    const { site, runtimes, views } = context;
    const changes: {
      k: number;
      limitA: number;
      phases: 1 | 2 | 3;
      reason: Reason;
      decrease: boolean;
      fallbackA: number | undefined;
    }[] = [];
    site.connectors.forEach((connector, k) => {
      const runtime = runtimes.of(connector);
      const view = views[k];
      const entry = allocation[k];
      if (!view || !entry) return;
      const limitA = finals[k] ?? 0;
      const last = runtime.sent;
      const phases = view.phasesOut;
      const fallbackA = fallbacksA[k];
      if (
        last &&
        last.limitA === limitA &&
        last.phases === phases &&
        (fallbackA === undefined || last.fallbackA === fallbackA) &&
        !runtime.resend
      )
        return;
      const reason = reasonFor(connector, view, entry, limitA);
      const before = last?.limitA ?? 0;
      const decrease = limitA < before || (limitA === before && phases < (last?.phases ?? 3));
      changes.push({ k, limitA, phases, reason, decrease, fallbackA });
    });
    // Decreases go out first: a charger that applies its increase before another applies its
    // decrease must not find the circuit full.
    changes.sort((a, b) => Number(b.decrease) - Number(a.decrease) || a.k - b.k);
    for (const { k, limitA, phases, reason, fallbackA } of changes) {
      const connector = site.connectors[k];
      const view = views[k];
      if (!connector || !view) continue;
      const runtime = runtimes.of(connector);
      // A connector given none this time (offline, keeps its last limit) keeps what it was given.
      const givenA = fallbackA ?? runtime.sent?.fallbackA;
      this.record(site, connector, view, runtime, limitA, phases, reason, now);
      if (runtime.sent && givenA !== undefined) runtime.sent.fallbackA = givenA;
      emit(
        {
          chargePointId: connector.chargePointId,
          connectorId: connector.connectorId,
          limitA,
          phases,
          reason: runtime.sent?.reason ?? english(reason),
          ...(fallbackA === undefined ? {} : { fallbackA }),
          // Watts for chargers that take them: 230 V / √3 per ampere and conductor on IT (SetPoint.voltageV).
          ...(site.network === 'IT' ? { voltageV: site.voltageV } : {}),
        },
        reason,
      );
    }
    return changes.length > 0;
  }

  /** Keeps a set-point that goes out, and starts the timers it starts. */
  private record(
    site: Site,
    connector: Connector,
    view: ConnectorView,
    runtime: ConnectorRuntime,
    limitA: number,
    phases: 1 | 2 | 3,
    reason: Reason,
    now: number,
  ): void {
    const last = runtime.sent;
    const before = last?.limitA ?? 0;
    startMinimumTimes(site.control, view, runtime, before, limitA, now);
    // Until now it had no current to draw: a meter reading from before this is compared with 0.
    // Not where its newest reading shows it drew anyway (a charger that refuses its limits, counted
    // at its car's 32 A, told 6 A from 0: the zero hid its 32 A from the grid meter's sample of a
    // second before, taken for other loads, and the start beside it was paused a second later at
    // every try; IT seed 20261214 path 1512).
    if (limitA > 0 && before === 0 && !drewAnything(runtime))
      remember(runtime, now, [0, 0, 0], { assumed: true });
    const fromA = mayStillDrawA(connector, runtime);
    if (limitA < fromA) expectDecrease(runtime, fromA, now);
    else supersedeDecrease(connector, runtime, limitA, phases);
    if (!last || last.limitA !== limitA) notePassed(runtime);
    runtime.resend = false;
    if (limitA > before) runtime.lastIncreaseAtMs = now;
    if (!last || last.limitA !== limitA || last.phases !== phases) {
      runtime.lastChangeAtMs = now;
      noteChange(runtime, limitA, now);
      if (last) runtime.previousSent = { limitA: last.limitA, phases: last.phases };
      runtime.increaseSinceMs = undefined;
    }
    runtime.sent = { limitA, phases, reason: english(reason), words: reason, atMs: now };
  }
}

/** The step a connector's set-points are rounded down to: the site's, or its charger's own where coarser. */
function stepOf(control: ControlConfig, connector: Connector, runtime: ConnectorRuntime): number {
  return Math.max(control.stepA, chargerStepA(connector, runtime) ?? 0);
}

/**
 * Whether a rise is taken out of the PV surplus and nothing else: a `pv` or `minpv` car (above its
 * minimum its current is surplus) whose target the surplus, its own maximum or the unbalance limit
 * bounds. That current already flows out to the grid, measured by the grid meter: taking it loads
 * no breaker beyond what the export did, so it needs no ramp (one change per interval still holds).
 * The unbalance limit bounds a phase difference, not a breaker: its target is below what the
 * surplus gives (a single-phase car held at 20 A where the surplus pays for more). A rise a breaker
 * bounds (a phase or a power limit), or a cap below its maximum (a stale meter's fail-safe, the
 * operator's limit), ramps as any other, and so does a car with a departure plan (evidence/departure.ts):
 * what it takes beyond the surplus comes from the grid.
 */
function risesToSurplus(
  connector: Connector,
  view: ConnectorView | undefined,
  entry: ConnectorAllocation | undefined,
): boolean {
  if (!view || (view.mode !== 'pv' && view.mode !== 'minpv')) return false;
  // A car with a departure plan may rise on the grid: ramped as any other.
  if (view.plan) return false;
  const bound = entry?.bound?.kind;
  return bound === 'pv' || bound === 'unbalance' || (bound === 'max' && view.capA >= connector.maxA);
}

/**
 * The ramp: from the last sent value when the increase became possible (or at the last change, if
 * later), so a quiet period does not allow a jump; a rise out of the PV surplus (`risesToSurplus`)
 * goes to its target in one step once the set-point has been steady for an interval. At most one
 * increase per interval, and a partial step only once the interval since the ramp started has passed. An increase smaller than
 * `minChangeA` waits until what it would have added is worth one of `minChangeA` for one interval
 * (A × s: a quarter of it waits four intervals), so a small rise that lasts (a PV car under a
 * rising sun, 15.8 A of 16) is not held for ever. Returns the set-point to send.
 */
function rampedIncrease(
  control: ControlConfig,
  runtime: ConnectorRuntime,
  last: number,
  target: number,
  now: number,
  fromSurplus: boolean,
  afterStart = false,
): number {
  runtime.increaseSinceMs ??= now;
  const changedAt = runtime.lastChangeAtMs ?? Number.NEGATIVE_INFINITY;
  const elapsedMs = now - (fromSurplus ? changedAt : Math.max(changedAt, runtime.increaseSinceMs));
  const ramped = fromSurplus
    ? floorStep(target, control.stepA)
    : floorStep(last + (control.rampUpAPerS * elapsedMs) / 1000, control.stepA);
  const next = Math.min(target, ramped);
  const possibleMs = now - runtime.increaseSinceMs;
  const small =
    next - last < control.minChangeA - EPS &&
    (next - last) * possibleMs < control.minChangeA * control.minUpdateIntervalMs - EPS;
  if (
    (now - changedAt < control.minUpdateIntervalMs && !afterStart) ||
    (ramped < target && elapsedMs < control.minUpdateIntervalMs) ||
    small ||
    next <= last
  ) {
    return last;
  }
  return next;
}
