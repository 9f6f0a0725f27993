/**
 * Whether a rise may skip the ramp (control/policy.ts): what the ramp protects against, checked
 * instead of waited for. The ramp (`rampUpAPerS`, one change per `minUpdateIntervalMs`) lets a
 * circuit meter and the others' decreases catch up before new current is taken, and a start at the
 * minimum keeps a charger whose draw is not known yet (a new session: it may ignore its limit and
 * draw its maximum until its first reading shows otherwise) from taking much, and is the test of
 * whether it follows: at the minimum a charger that offers more than told shows it in its first
 * reading, where at the car's maximum the car's own limit hides it until a later decrease (found by
 * the closed-loop property at 10,000 sites: a start at the target left a charger offering 3 A more
 * uncaught, and 14 A over a breaker for 140 s when the other loads rose). So a start stays at the
 * minimum; what is checked here lets the rise after it, and every later one, go in one step:
 * - the connector's own charger showed that it follows: its newest reading, after its start, at its
 *   set-point (within the overdraw tolerance), no phase above;
 * - every circuit on the connector's path has its headroom measured (evidence/circuit-view.ts
 *   `CircuitView.measured`: no fallback, fresh and plausible, a meter that counts the chargers read
 *   with nothing open below it and nothing changed since);
 * - on each of those circuits the other loads, the connectors whose draw is known at what they are
 *   given (the higher of their target and their last set-point) and every connector whose draw is
 *   not known (no reading of its own since it started charging; offline, uncontrolled or
 *   overdrawing) at its maximum fit the limit,
 *   on every phase (each connector counted on every phase: the safe side), and its power limit.
 * Then the allocation's target is what is free now: the rise goes in one step, the first one after
 * a start without waiting an interval (decreases still first, increases that need a decrease still
 * held for it: control/pending-decreases.ts). Measured: a car alone in a 63 A zone with 55 A free
 * got 6 A, 21 A after 30 s and its 32 A after 60 s; now 6 A, then 32 A at its first reading.
 */
import type { CircuitView } from '../evidence/circuit-view';
import { READING_STAMP_SLACK_MS } from '../evidence/decrease-settle';
import { MAX_INTERVAL_MS } from '../evidence/energy-draw';
import { CONFIRMED_EPS_A } from '../evidence/follow-from';
import type { DrawSample } from '../evidence/measurements';
import { followMsOf } from '../evidence/overdraw';
import type { ConnectorView } from '../parts';
import { EPS } from '../phases';
import type { ConnectorRuntime, ConnectorRuntimes } from '../runtime';
import type { Connector, Site } from '../site/model';

/**
 * Whether `runtime`'s charger showed that it follows its limit since it started charging: its
 * newest reading, taken after its start, shows its set-point reached (within the overdraw
 * tolerance) and no phase above it, and it is under control now (online, not overdrawing, not
 * counted as uncontrolled).
 */
function drawKnown(
  runtime: ConnectorRuntime | undefined,
  view: ConnectorView | undefined,
  toleranceA: number,
): boolean {
  if (!view?.online || view.uncontrolled || view.overdrawExcessA > 0) return false;
  const sent = runtime?.sent?.limitA ?? 0;
  if (!runtime || sent <= 0) return false;
  const since = runtime.chargingSinceMs;
  const draw = runtime.draw;
  if (since === undefined || draw === undefined || !takenAfterStart(runtime, draw, since)) return false;
  // It reached its set-point (a reading before the car followed shows nothing of an excess) and no
  // phase is above it.
  let reached = false;
  for (const amps of draw.chargerA) {
    if ((amps ?? 0) > sent + toleranceA + EPS) return false;
    if ((amps ?? 0) >= sent - toleranceA - EPS) reached = true;
  }
  return reached;
}

/**
 * Whether a charger's reading was taken after its start went out (`since`): stamped after it, or,
 * where the charger confirmed its limit since (the set-point in force now), received after that
 * confirmation and stamped at most READING_STAMP_SLACK_MS before it. Chargers stamp whole seconds:
 * a reading taken right after the start's limit went in was stamped before the start, and a charger
 * that reports every 10 s kept its car at the minimum a whole interval longer (issue 45: a lone car
 * at its share 20 s after its first limit instead of 10 s; the same slack proves a decrease:
 * evidence/decrease-settle.ts).
 */
function takenAfterStart(runtime: ConnectorRuntime, draw: DrawSample, since: number): boolean {
  if (draw.atMs > since) return true;
  const confirmed = runtime.confirmed;
  const sent = runtime.sent;
  if (!confirmed || !sent || confirmed.atMs < since) return false;
  if (confirmed.limitA > sent.limitA + CONFIRMED_EPS_A) return false;
  return draw.receivedMs >= confirmed.sinceMs && draw.atMs >= confirmed.sinceMs - READING_STAMP_SLACK_MS;
}

/**
 * Whether the test a start is (the module comment) is over, so that the ramp may raise it: its
 * charger showed that it follows (drawKnown); or a reading after the start says the charger offers
 * and the car takes nothing (SuspendedEV: nothing can hide under a raise while it draws nothing,
 * and a car that does not start at the minimum is asked more: evidence/car-minimum.ts); or it had
 * its follow time since the start with no reading that shows it (a charger that gives no evidence
 * is not held at its start for good), or it has given no reading at all (ramped on time alone, as
 * before: nothing would show the test).
 * Before, the ramp's first raise went out an interval (30 s) after the start whatever the charger
 * had shown: a charger slower than that was raised before its start landed, and its draw there,
 * 3 A above the start, was less than the raise it might still be following: hidden until the raise
 * landed, 3 A over a breaker then for its response time (57 s), the breaker's only other load a
 * charger that refuses its limits (PROPERTY_SEED=20261123 PROPERTY_PATH=2034 with
 * POPULATION=following; six more such sites in 2,000 of that seed and 1,000 PV).
 * A charger read by its energy register alone (readByRegister) is not raised on time before a
 * delta that began after its start had its follow time (that delta shows the start in force, and
 * an over-offer is an overdraw by the same delta: evidence/overdraw.ts), or, for a register that
 * gives no such delta, its follow time and energy-draw.ts MAX_INTERVAL_MS since its start (not
 * held at its start for good). Its register readings give no draw until its car charges, and "no
 * reading" ramped it on time alone: a charger 36 s to follow, offering 3 A more, was raised to
 * 12 A 30 s after its 6 A start, before the start landed (as 9 A, under the 12 A it might still be
 * following); the 12 A landed as 15 A while a pause took 36 s: 1 A over a breaker for 31 s
 * (POPULATION=all PROPERTY_SEED=8123 PROPERTY_PATH=1776; also path 410, and on IT a one-phase car
 * 3 % above its set-point raised before any delta, IT_PROPERTY_SEED=7020 path 433, 8132 paths
 * 200 and 385). Held for its follow time alone, a charger 55 s to follow with 47 s readings was
 * raised at 74 s on a register that had shown nothing settled yet (IT 5420 path 366).
 */
export function startTested(
  site: Site,
  runtime: ConnectorRuntime,
  view: ConnectorView | undefined,
  now: number,
): boolean {
  const since = runtime.chargingSinceMs;
  const draw = runtime.draw;
  if (since === undefined) return true;
  const followMs = followMsOf(site, runtime);
  if (readByRegister(runtime)) {
    // Its start had its follow time before the delta began: the delta shows it in force.
    if (draw?.energy && draw.energy.fromMs >= since + followMs) return true;
    if (now - since >= followMs + MAX_INTERVAL_MS) return true;
  } else if (!draw || now - since >= followMs) return true;
  if (!draw) return false;
  if (runtime.state?.status === 'SuspendedEV' && takenAfterStart(runtime, draw, since)) return true;
  return drawKnown(runtime, view, site.control.overdrawToleranceA);
}

/**
 * Whether its draw is known from its energy register alone (evidence/energy-draw.ts): its draw is a
 * register's delta, or it has reported its register and no current yet.
 */
function readByRegister(runtime: ConnectorRuntime): boolean {
  return runtime.draw ? runtime.draw.energy !== undefined : runtime.register !== undefined;
}

export class MeasuredHeadroom {
  /** Per circuit index, whether its headroom is measured and what is counted on it fits (computed on first ask). */
  private fits: (boolean | undefined)[] = [];

  constructor(
    private readonly site: Site,
    private readonly runtimes: ConnectorRuntimes,
    private readonly views: readonly ConnectorView[],
    private readonly circuitViews: readonly CircuitView[] | undefined,
    private readonly targets: readonly number[],
  ) {}

  /** Whether `connector` may rise to its target without the ramp (see the module comment). */
  allows(connector: Connector): boolean {
    if (!this.circuitViews || this.site.control.softStart) return false;
    // Its own charger first shows that it follows (its start, at the minimum, is that test).
    const k = connector.index;
    if (!drawKnown(this.runtimes.at(k), this.views[k], this.site.control.overdrawToleranceA)) return false;
    for (const c of connector.path) if (!this.circuitFits(c)) return false;
    return true;
  }

  private circuitFits(c: number): boolean {
    const known = this.fits[c];
    if (known !== undefined) return known;
    const fits = this.check(c);
    this.fits[c] = fits;
    return fits;
  }

  private check(c: number): boolean {
    const circuit = this.site.circuits[c];
    const view = this.circuitViews?.[c];
    if (!circuit || !view?.measured) return false;
    let countedA = 0;
    for (const k of circuit.connectorIndexes) {
      const connector = this.site.connectors[k];
      if (!connector) continue;
      const runtime = this.runtimes.at(k);
      const view = this.views[k];
      // Counted at what it may draw on its own (offline, not reported, its limit failed): not measured.
      if (view?.uncontrolled && view.uncontrolled.amps > 0) {
        countedA += Math.max(connector.maxA, view.uncontrolled.amps);
        continue;
      }
      const target = this.targets[k] ?? 0;
      const last = runtime?.sent?.limitA ?? 0;
      if (target <= 0 && last <= 0) continue;
      countedA += drawKnown(runtime, view, this.site.control.overdrawToleranceA)
        ? Math.max(target, last)
        : connector.maxA;
    }
    for (let p = 0; p < 3; p++) {
      if ((view.limitA[p] ?? 0) - (view.otherA[p] ?? 0) - countedA < -EPS) return false;
    }
    if (circuit.powerLimitW !== undefined) {
      if (view.otherW + countedA * 3 * this.site.voltageV > circuit.powerLimitW + EPS) return false;
    }
    return true;
  }
}
