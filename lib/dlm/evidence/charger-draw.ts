/**
 * What the chargers below a metered circuit drew when its meter measured: the evidence the circuits
 * stage subtracts from a meter that counts them. One owner of the estimate of a charger's draw
 * between its own readings:
 * - at least: what it last reported (the lowest since the reading in force then), never more than
 *   the set-point it may still have been following (`lowestFollowedAt`), and only while it charges;
 * - at most: the set-point it was raised to and has not shown to have reached (`openRaise`).
 *   Not a decrease it has not shown to follow: the allocation counts such a charger at its new,
 *   lower set-point, so a rise taken for its old draw would hide a rise of the other loads until
 *   its reading comes (found by the closed-loop property: 15 A over a breaker for 47 s).
 * A meter that counts the chargers (the home layout: the grid meter with the wallbox behind it)
 * sees a raise a second after it lands, the charger's own reading up to its sample interval
 * later. `explainRise` takes the meter's rise as the chargers' draw as far as their raises allow,
 * so it is not taken for other loads (nor learned as their peak). The allocation counts such a
 * charger at that set-point anyway; the price, a real rise of the other loads taken for the
 * charger's until it draws its new set-point, is a transient docs/load-manager.md documents and
 * the closed-loop property bounds.
 */

import type { ConnectorView } from '../parts';
import { type GridPhase, phaseMask, type Triple, toGrid, triple } from '../phases';
import type { ConnectorRuntime, ConnectorRuntimes } from '../runtime';
import type { Circuit, Connector, Site } from '../site/model';
import { drawSince, type MeterRuntime } from './measurements';
import type { ChargerReading } from './meter-plausibility';
import { followMsOf } from './overdraw';

/** A settled reading (no raise and no decrease open below) is a reference this long, ms. */
export const SETTLED_REFERENCE_MS = 60_000;

/** What the estimate reads: the site, the connectors' records and their views of the update. */
export interface DrawContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
}

/** A charger whose reading is this close to its set-point, A, has reached it. */
const REACHED_TOLERANCE_A = 1;

/**
 * Per grid phase, what the chargers below drew at least; how much more their open raises allow;
 * and how much more they may draw in all, decreases they have not shown to follow included.
 */
export interface ChargersDrew {
  atLeastA: Triple;
  raisedA: Triple;
  mayDrawMoreA: Triple;
}

/** The other loads of a phase as counted (`counted`) and as learned for their peak (`learned`). */
export interface ExplainedRise {
  counted: number;
  learned: number;
}

/**
 * The other loads a meter that counts the chargers shows on phase `p`: `measured` (its reading
 * less what the chargers drew at least), less as much of `raisedA` (what open raises allow them to
 * draw beyond that) as the rise since the last settled reading asks for: what is counted. What is
 * learned as their peak (a blind meter's fallback) may also take away what decreases not yet
 * followed may still draw (`mayDrawMoreA`): a cascade of decreases is not a peak of the house.
 * With nothing open, `measured` is the settled reference.
 */
export function explainRise(
  meter: MeterRuntime,
  p: GridPhase,
  measured: number,
  drew: ChargersDrew,
  atMs: number,
): ExplainedRise {
  meter.settledA ??= [undefined, undefined, undefined];
  const settled = meter.settledA[p];
  if (drew.mayDrawMoreA[p] <= 0) {
    meter.settledA[p] = { value: measured, atMs };
    return { counted: measured, learned: measured };
  }
  if (!settled || atMs - settled.atMs > SETTLED_REFERENCE_MS) return { counted: measured, learned: measured };
  const explained = (room: number) => Math.min(measured, Math.max(measured - room, settled.value));
  return { counted: explained(drew.raisedA[p]), learned: explained(drew.mayDrawMoreA[p]) };
}

/**
 * What the chargers below a circuit drew per grid phase when a meter measured at `atMs`, each at
 * most what it may draw, and only while its status says it charges: a car that stopped draws
 * nothing, whatever its charger's last reading said (subtracting it would make the other loads
 * look smaller than they are). A charger's measurement newer than the meter's may show a change
 * the meter has not seen yet: the lowest of its measurements since the one in force at `atMs`
 * is taken (for the same reason).
 */
export function chargersDrawBelow(context: DrawContext, circuit: Circuit, atMs: number): ChargersDrew {
  const subtract = triple(0);
  const raised = triple(0);
  const more = triple(0);
  const since = triple(0);
  const below = circuit.connectorIndexes;
  for (let at = 0; at < below.length; at++) {
    const k = below[at] ?? 0;
    const view = context.views[k];
    const connector = context.site.connectors[k];
    if (!view?.drawGridA || !connector) continue;
    const runtime = context.runtimes.of(connector);
    if (runtime.state?.status !== 'Charging') continue;
    const sentLimit = lowestFollowedAt(context.site, runtime, atMs);
    const raisedTo = openRaise(context.site, connector, runtime, atMs);
    const pending = runtime.pendingDecrease;
    const mayDrawTo = Math.max(
      raisedTo,
      pending && pending.atMs <= atMs ? Math.min(pending.fromA, connector.maxA) : 0,
    );
    const drawn = drawSince(connector, runtime, atMs, since) ? since : view.drawGridA;
    const loads = phaseMask(view.gridPhases);
    for (let p = 0; p < 3; p++) {
      const phase = p as GridPhase;
      const allowed = Math.max(loads & (1 << p) ? sentLimit : 0, view.floorA[phase]);
      const atLeast = Math.max(0, Math.min(drawn[phase], view.drawGridA[phase], allowed));
      subtract[phase] += atLeast;
      if (raisedTo > 0 && loads & (1 << p)) raised[phase] += Math.max(0, raisedTo - atLeast);
      if (mayDrawTo > 0 && loads & (1 << p)) more[phase] += Math.max(0, mayDrawTo - atLeast);
    }
  }
  return { atLeastA: subtract, raisedA: raised, mayDrawMoreA: more };
}

/** One reading of a charger's own meter, per grid phase (what the frozen rule compares). */
/**
 * The readings of the chargers below a circuit that their histories still hold, measured only
 * (not the zero assumed where a set-point above 0 followed none): what they drew by their own
 * meters, whatever they were told or their status says (evidence/meter-plausibility.ts frozen rule).
 */
export function readingsBelow(context: DrawContext, circuit: Circuit): ChargerReading[] {
  const readings: ChargerReading[] = [];
  for (const k of circuit.connectorIndexes) {
    const connector = context.site.connectors[k];
    if (!connector) continue;
    for (const entry of context.runtimes.of(connector).drawHistory) {
      if (!entry.assumed)
        readings.push({ key: k, atMs: entry.atMs, gridA: toGrid(connector, entry.chargerA) });
    }
  }
  return readings;
}

/**
 * The set-point a charger was raised to and may not have reached yet at `atMs` (0 when none):
 * raised before `atMs`, and no reading of its own since shows that it reached it, unless its
 * follow time (evidence/response-time.ts) had passed by that reading (then the reading is what it draws:
 * its car takes no more). Until then it may draw anything from what it last reported up to that,
 * and a meter that counts it may already show it.
 */
function openRaise(site: Site, connector: Connector, runtime: ConnectorRuntime, atMs: number): number {
  const sent = runtime.sent?.limitA ?? 0;
  const previous = runtime.previousSent?.limitA;
  const changedAt = runtime.lastChangeAtMs;
  if (previous === undefined || changedAt === undefined || previous >= sent || changedAt > atMs) return 0;
  const followedBy = changedAt + followMsOf(site, runtime);
  const history = runtime.drawHistory;
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i];
    if (!entry || entry.atMs < changedAt) break;
    if (entry.atMs >= followedBy) return 0;
    for (const amps of entry.chargerA) if ((amps ?? 0) >= sent - REACHED_TOLERANCE_A) return 0;
  }
  return Math.min(sent, connector.maxA);
}

/**
 * The lowest set-point the charger may still have been following when a meter measured at `atMs`:
 * within its follow time of its last change (evidence/response-time.ts), with no reading of its own since that change, it may
 * not have followed an increase yet (a charger that answers in 7 s still draws the old, lower
 * current), and counting it at the new one would make the other loads look smaller than they are
 * (found by the closed-loop property, PROPERTY_SEED=10: 0.6 A over a 44 A phase for 1 s).
 */
function lowestFollowedAt(site: Site, runtime: ConnectorRuntime, atMs: number): number {
  const sent = runtime.sent?.limitA ?? 0;
  const previous = runtime.previousSent?.limitA;
  const changedAt = runtime.lastChangeAtMs;
  if (previous === undefined || changedAt === undefined || previous >= sent) return sent;
  if (atMs >= changedAt + followMsOf(site, runtime)) return sent;
  for (const entry of runtime.drawHistory) if (entry.atMs >= changedAt && entry.atMs <= atMs) return sent;
  return previous;
}

/**
 * Whether a meter that counts the chargers measured phase `p` settled: nothing open below it when
 * it measured (chargersDrawBelow) and no set-point below changed since (control/measured-headroom.ts).
 */
export function settledAt(
  context: DrawContext,
  circuit: Circuit,
  sample: { atMs: number } | undefined,
  drewAt: (atMs: number) => ChargersDrew,
  p: GridPhase,
): boolean {
  if (!sample || drewAt(sample.atMs).mayDrawMoreA[p] > 0) return false;
  for (const k of circuit.connectorIndexes) {
    const connector = context.site.connectors[k];
    const changedAt = connector && context.runtimes.of(connector).lastChangeAtMs;
    if (changedAt !== undefined && changedAt >= sample.atMs) return false;
  }
  return true;
}
