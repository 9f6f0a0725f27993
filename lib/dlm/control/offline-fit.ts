/**
 * The load manager's side of ampflow's own absence (site/offline-plan.ts has the arithmetic): what each
 * connector would draw if ampflow stopped now, the fallbacks it chooses for the charging-profile
 * node to install (carried by the set-points, `SetPoint.fallbackA`), the limits it holds chargers
 * that keep their last limit offline to (`control.holdKeptLimits`), and what the summary says
 * where the sum does not fit.
 *
 * A connector, if ampflow stopped now, draws:
 * - the offline fallback the charging-profile node installed and the charger confirmed
 *   (`ConnectorState.offlineFallback`), bounded by the charger's own `offlineA`;
 * - its last limit, for a charger that takes no fallback and keeps the last limit it was given
 *   forever (`ConnectorState.keepsLimitOffline`: limits at stack level 0, a vendor key): what it
 *   keeps is what it draws, whatever its `offlineA` (issue 45: the breaker bounds a kept limit,
 *   not `offlineA`);
 * - else its own offline limit `offlineA` (what the installer entered, else its maximum), also
 *   for a charger that refuses its limits (`ConnectorState.limitFailed`);
 * - nothing, for a charger never seen.
 */

import type { CircuitView } from '../evidence/circuit-view';
import { OtherLoadPeaks } from '../evidence/other-load-peaks';
import { outOfService } from '../evidence/uncontrolled';
import type { ConnectorView } from '../parts';
import { conductorsOf, GRID_PHASES, type GridPhase, type Triple } from '../phases';
import type { ConnectorRuntime, ConnectorRuntimes } from '../runtime';
import { leftA } from '../site/circuit';
import { round1 } from '../site/fields';
import type { Circuit, Connector, Site } from '../site/model';
import {
  budgets,
  chooseMinimum,
  offlineSums,
  otherLoadsOffline,
  shareEvenly,
  takeOnPath,
} from '../site/offline-plan';
import { type Reason, type Said, say, sayNames } from '../words';

/**
 * A circuit if ampflow stopped now (Node-RED stopped, the network to the chargers down): every
 * connector at its own fallback plus the other loads at their learned peak, on its fullest phase.
 */
export interface OfflineSummary {
  /** The grid phase (1..3). */
  phase: number;
  totalA: number;
  /** What the connectors below would draw on it. */
  connectorsA: number;
  /** The other loads' learned peak (else the configured fallback.otherLoadA, else 0). */
  otherA: number;
  /** limit − headroom. */
  availableA: number;
  fits: boolean;
  /** Nothing is learned of the other loads yet, and no fallback.otherLoadA is set: counted at 0. */
  otherUnlearned?: true;
  /**
   * Chargers that keep their last limit offline, at their highest (offlineA) instead of their limit
   * now, while they are not held within the plan (control.holdKeptLimits false).
   */
  worstA?: number;
  worstPhase?: number;
  worstFits?: boolean;
}

export type OfflineDrawKind = 'fallback' | 'keeps' | 'own' | 'never';

/** What the connector would draw if ampflow stopped now (`limitA`: its limit now, for a keeper). */
export function offlineDrawOf(
  connector: Connector,
  runtime: ConnectorRuntime,
  limitA = runtime.sent?.limitA,
): { amps: number; kind: OfflineDrawKind } {
  const state = runtime.state;
  const own = Math.min(connector.offlineA, connector.maxA);
  if (state?.neverConnected) return { amps: 0, kind: 'never' };
  // One that refuses its limits draws on its own, whatever it was given or confirmed; nothing while
  // it is Unavailable without a transaction (its availability outlives ampflow: OCPP 1.6 §5.2).
  if (state?.limitFailed) return { amps: outOfService(runtime) ? 0 : own, kind: 'own' };
  const confirmed = state?.offlineFallback;
  if (confirmed) return { amps: Math.min(confirmed.limitA, own), kind: 'fallback' };
  if (state?.keepsLimitOffline && limitA !== undefined)
    return { amps: Math.min(Math.max(0, limitA), connector.maxA), kind: 'keeps' };
  return { amps: own, kind: 'own' };
}

/**
 * Whether a connector is under the plan's control: online, so the fallback it is given goes to it,
 * and taking limits (one that refuses its limits refuses the fallback's profile as well: it draws
 * its own offline limit).
 */
function plannable(runtime: ConnectorRuntime): boolean {
  return runtime.state?.online === true && !runtime.state.neverConnected && !runtime.state.limitFailed;
}

/** What the plan reads. */
export interface OfflineContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  peaks: OtherLoadPeaks;
  /**
   * The circuits as the allocation sees them now (their limit and other loads): where what it may
   * share is no more than what is left if ampflow stops, it holds the kept limits on its own.
   */
  circuitViews?: readonly CircuitView[];
  /** Connector indexes in keep order (allocation/from-update.ts `keepOrder`: priority, then the shedding rule). */
  order?: readonly number[];
}

/**
 * The other loads per circuit while ampflow is gone: the learned peak of its meter (other-load-
 * peaks.ts `level`; where the site may generate, never less than with what was generated then
 * added back: ampflow may be gone at night), before anything is learned the configured
 * `fallback.otherLoadA`, else 0 (and the circuit is named in `unlearned`).
 */
export function otherLoadsIfAbsent(site: Site, peaks: OtherLoadPeaks): OtherLoadsIfAbsent {
  // Asked two to four times an update (the kept limits, the fallbacks, the summary) with the same
  // peaks: worked out once (offline-plan.ts walks every circuit, children first).
  const last = lastAbsent.get(peaks);
  if (last && last.site === site && last.version === peaks.version) return last.result;
  const result = workOutOtherLoadsIfAbsent(site, peaks);
  lastAbsent.set(peaks, { site, version: peaks.version, result });
  return result;
}

/** What otherLoadsIfAbsent gave last per peaks (read only by its callers). */
interface OtherLoadsIfAbsent {
  readonly otherA: readonly Triple[];
  readonly unlearned: ReadonlySet<number>;
}

const lastAbsent = new WeakMap<OtherLoadPeaks, { site: Site; version: number; result: OtherLoadsIfAbsent }>();

function workOutOtherLoadsIfAbsent(site: Site, peaks: OtherLoadPeaks): OtherLoadsIfAbsent {
  const unlearned = new Set<number>();
  const otherA = otherLoadsOffline(
    site.circuits,
    (circuit: Circuit, p: GridPhase) => {
      const meter = circuit.meter;
      if (!meter) return 0;
      const level = peaks.level(OtherLoadPeaks.keyOf(circuit.id, meter.source), p);
      // With no PV generating (ampflow may be gone at night): what the plant covered counts too.
      const gross = peaks.level(OtherLoadPeaks.grossKeyOf(circuit.id, meter.source), p);
      if (level) return Math.max(level.amps, gross?.amps ?? 0);
      const configured = circuit.fallback.otherLoadA?.[p];
      if (configured !== undefined) return configured;
      unlearned.add(circuit.index);
      return 0;
    },
    (circuit, p) => {
      // Only a learned level has an own part (configured or nothing learned: the larger of the two).
      const meter = circuit.meter;
      if (!meter || !peaks.level(OtherLoadPeaks.keyOf(circuit.id, meter.source), p)) return 0;
      return peaks.level(OtherLoadPeaks.ownPartKeyOf(circuit.id, meter.source), p)?.amps;
    },
  );
  return { otherA, unlearned };
}

/** Connector indexes in keep order where known, else by priority (highest first), then as listed. */
function byPriority(context: OfflineContext): readonly number[] {
  const { site, views, order } = context;
  if (order && order.length === site.connectors.length) return order;
  return site.connectors
    .map((_c, k) => k)
    .sort((a, b) => (views[b]?.priority ?? 0) - (views[a]?.priority ?? 0) || a - b);
}

/**
 * With `control.holdKeptLimits`: caps each charger that keeps its last limit offline (a keeper) only
 * as far as the breakers need it. If ampflow stopped now, the kept limits, the others' fallbacks,
 * the own offline draw of the connectors not under control and the other loads' peak must fit every
 * circuit on every phase. What is left after the connectors not under control goes, in priority
 * order, first to each keeper whose car wants current (its minimum), then to the other connectors
 * under control at the fallback they have (the one their charger confirmed, else the one sent, else
 * the minimum they will be given where it fits); what remains is shared evenly among those keepers,
 * each up to the cap it has now (`view.capA`), and only a keeper whose share is below that cap is
 * held. Where the kept limits fit, nobody is held (four cars on an empty 63 A zone keep 15.7 A each,
 * where `offlineA` 6 A held them at 6 A: issue 45). A keeper whose minimum does not fit waits.
 *
 * Returns what each keeper may keep once the others' fallbacks are lowered (the same with those at
 * 0 A): `chooseFallbacks` gives the others a fallback only from what is left after that, so their
 * fallbacks go down where keepers need the room, and the keepers rise once the lower fallbacks were
 * sent (counted here at what the charger confirmed or was sent: never before). A fallback is what
 * a car draws while ampflow is gone; a hold costs a keeper's car current every minute ampflow is
 * there. Before, every other connector kept its 6 A fallback ahead of the keepers' cars (a keeper
 * beside five of them on 40 A stayed at 10 A where the breaker shares 20 A; on the car-park day
 * the keepers' cars got 63.2 % of what this rule allows with perfect knowledge, now 66.5 %: issue 45).
 */
export function capKeptLimits(context: OfflineContext): ReadonlyMap<number, number> | undefined {
  const { site, runtimes, views } = context;
  if (!site.control.holdKeptLimits) return undefined;
  // Usually no charger keeps its last limit: nothing to cap.
  if (!site.connectors.some((connector) => runtimes.of(connector).state?.keepsLimitOffline)) return undefined;
  // What they may keep once the others' fallbacks are lowered: worked out before any is held.
  const targets = keeperCaps(context, 'none');
  const caps = keeperCaps(context, 'asNow');
  for (const [k, capA] of caps) {
    const view = views[k];
    // Within 0.1 A of its cap (shareEvenly's step): its share is the cap, not a hold.
    if (!view || capA >= view.capA - 0.1 + 1e-6) continue;
    view.capA = Math.floor(capA * 10) / 10;
    view.capReason = [say('keptLimitFits', { amps: view.capA })];
  }
  return targets;
}

/**
 * What each keeper whose car wants current may keep (see capKeptLimits), the other connectors under
 * control counted at the fallback they have (`asNow`) or at nothing (`none`: their fallbacks lowered).
 */
function keeperCaps(context: OfflineContext, others: 'asNow' | 'none'): Map<number, number> {
  const { site, runtimes, views } = context;
  const keepers: number[] = [];
  const { otherA } = otherLoadsIfAbsent(site, context.peaks);
  const left = budgets(site.circuits, otherA);
  const order = byPriority(context);
  for (const k of order) {
    const connector = site.connectors[k];
    if (!connector) continue;
    const runtime = runtimes.of(connector);
    const keeps = runtime.state?.keepsLimitOffline !== undefined;
    if (keeps && plannable(runtime) && views[k]?.wantsByStatus) keepers.push(k);
    else if (!plannable(runtime) || keeps)
      takeOnPath(left, connector, offlineDrawOf(connector, runtime).amps);
  }
  // What a keeper may keep: the cap it has now (its maximum, its car's, its circuits').
  const upToA = (connector: Connector) => Math.min(connector.maxA, views[connector.index]?.capA ?? 0);
  const caps = new Map<number, number>();
  // A keeper's minimum is its car's (view.minA: a car that wants 7 A does not start on 6 A), so a
  // keeper is held at or above what its car takes, or at 0 where that does not fit (it waits, the
  // policy's pause), never between (issue 45: kept limits of 6.7 A left 7 A cars paused all day).
  for (const k of keepers) {
    const connector = site.connectors[k] as Connector;
    const minA = Math.max(connector.minA, views[k]?.minA ?? 0);
    caps.set(k, chooseMinimum(left, connector, upToA(connector), minA));
  }
  // The others under control at the fallback they have: the one the charger confirmed, else the
  // one sent, else the minimum they will be given where it fits (as chooseFallbacks gives it). A
  // lower one counts only once confirmed or sent, never before.
  if (others === 'asNow')
    for (const k of order) {
      const connector = site.connectors[k];
      if (!connector || caps.has(k)) continue;
      const runtime = runtimes.of(connector);
      if (!plannable(runtime) || runtime.state?.keepsLimitOffline !== undefined) continue;
      const hasA = runtime.state?.offlineFallback?.limitA ?? runtime.sent?.fallbackA;
      if (hasA === undefined) chooseMinimum(left, connector);
      else takeOnPath(left, connector, Math.min(hasA, connector.offlineA, connector.maxA));
    }
  // A circuit where the allocation may share no more than what is left for the keepers if ampflow
  // stopped now needs no hold: the limits it gives them fit that too. Such a circuit bounds no
  // share (the empty zone: its 63 A either way), and a keeper below only such circuits is not held.
  const free = allocationHolds(context, left, keepers, caps);
  for (const c of free) left[c] = [Infinity, Infinity, Infinity];
  // What remains, shared evenly among the keepers that got their minimum (a fair share per phase).
  const sharing = keepers.filter((k) => (caps.get(k) ?? 0) > 0);
  const extras = shareEvenly(
    left,
    sharing.map((k) => site.connectors[k] as Connector),
    (connector) => upToA(connector) - (caps.get(connector.index) ?? 0),
  );
  sharing.forEach((k, i) => {
    caps.set(k, (caps.get(k) ?? 0) + (extras[i] ?? 0));
  });
  return caps;
}

/**
 * The circuits where what the allocation shares now among the connectors below (the limit as it
 * sees it, less the headroom and the other loads it counts now: allocation/from-update.ts) is no
 * more, on any phase, than what is `left` for the keepers if ampflow stopped now (their minimums,
 * `caps`, given back). There the limits the allocation gives the keepers fit ampflow's absence
 * whatever they are.
 */
function allocationHolds(
  context: OfflineContext,
  left: readonly Triple[],
  keepers: readonly number[],
  caps: ReadonlyMap<number, number>,
): number[] {
  const { site, circuitViews } = context;
  if (!circuitViews) return [];
  const room = left.map((triple) => [...triple] as Triple);
  for (const k of keepers) {
    const connector = site.connectors[k] as Connector;
    const amps = caps.get(k) ?? 0;
    for (const c of connector.path) {
      const r = room[c];
      if (r) for (const p of conductorsOf(connector)) r[p] += amps;
    }
  }
  const free: number[] = [];
  for (const circuit of site.circuits) {
    const view = circuitViews[circuit.index];
    const r = room[circuit.index];
    if (!view || !r) continue;
    const shared = (p: GridPhase) => leftA(circuit, view.limitA, p, view.otherA[p]);
    if (GRID_PHASES.every((p) => shared(p) <= r[p] + 1e-6)) free.push(circuit.index);
  }
  return free;
}

/**
 * The fallback each connector under control is given (undefined: none, it is not online or keeps
 * its last limit): its minimum for as many as fit after the connectors not under control, the
 * keepers at the limit they get now (`limitsA`, per index) or what they may keep once the
 * connectors without a car have lower fallbacks (`keptA`, capKeptLimits), whichever is higher, and
 * the other loads' peak; the connectors whose car wants current first, then those without a car,
 * each by priority; 0 A for the rest.
 */
export function chooseFallbacks(
  context: OfflineContext,
  limitsA: readonly number[],
  keptA?: ReadonlyMap<number, number>,
): (number | undefined)[] {
  const { site, runtimes, views } = context;
  const { otherA } = otherLoadsIfAbsent(site, context.peaks);
  const left = budgets(site.circuits, otherA);
  const chosen: (number | undefined)[] = site.connectors.map(() => undefined);
  const planned: number[] = [];
  for (const connector of site.connectors) {
    const runtime = runtimes.of(connector);
    const k = connector.index;
    if (plannable(runtime) && runtime.state?.keepsLimitOffline === undefined) planned.push(k);
    else {
      const limitA = Math.max(limitsA[k] ?? 0, keptA?.get(k) ?? 0);
      takeOnPath(left, connector, offlineDrawOf(connector, runtime, limitA).amps);
    }
  }
  const plannedSet = new Set(planned);
  const order = byPriority(context);
  const wants = (k: number) => views[k]?.wantsByStatus === true;
  for (const k of [...order.filter(wants), ...order.filter((k) => !wants(k))]) {
    const connector = site.connectors[k];
    if (connector && plannedSet.has(k)) chosen[k] = chooseMinimum(left, connector);
  }
  return chosen;
}

/**
 * Per circuit, what it would carry on its fullest phase if ampflow stopped now, and (where a
 * charger keeps its last limit and is not held) at worst; with the problem to name where it does
 * not fit and what to set.
 */
export function offlineCheck(context: OfflineContext): {
  circuits: OfflineSummary[];
  problems: (Reason | undefined)[];
} {
  const { site, runtimes } = context;
  const { otherA, unlearned } = otherLoadsIfAbsent(site, context.peaks);
  const draws = site.connectors.map((connector) => offlineDrawOf(connector, runtimes.of(connector)));
  const now = offlineSums(site.circuits, site.connectors, otherA, (c) => draws[c.index]?.amps ?? 0);
  const hold = site.control.holdKeptLimits;
  // Not held, chargers that keep their last limit may be at their highest when ampflow stops.
  const anyKeeper = !hold && draws.some((draw) => draw.kind === 'keeps');
  const worstOf = (connector: Connector) => {
    const draw = draws[connector.index];
    return draw?.kind === 'keeps' ? connector.maxA : (draw?.amps ?? 0);
  };
  const worst = anyKeeper ? offlineSums(site.circuits, site.connectors, otherA, worstOf) : now;
  const problems: (Reason | undefined)[] = [];
  const belowOf = (circuit: Circuit) =>
    circuit.connectorIndexes.flatMap((k) => {
      const connector = site.connectors[k];
      return connector ? [connector] : [];
    });
  const circuits = site.circuits.map((circuit, c): OfflineSummary => {
    const sum = now[c] as (typeof now)[number];
    const bad = worst[c] as (typeof worst)[number];
    const worse = anyKeeper && bad.totalA > sum.totalA + 1e-6;
    const entry: OfflineSummary = {
      phase: sum.phase + 1,
      totalA: round1(sum.totalA),
      connectorsA: round1(sum.connectorsA),
      otherA: round1(sum.otherA),
      availableA: round1(sum.availableA),
      fits: sum.fits,
      ...(worse ? { worstA: round1(bad.totalA), worstPhase: bad.phase + 1, worstFits: bad.fits } : {}),
      ...(unlearned.has(c) ? { otherUnlearned: true as const } : {}),
    };
    if (!sum.fits) problems[c] = describe(circuit, sum, belowOf(circuit), draws, unlearned.has(c), hold);
    else if (worse && !bad.fits) {
      const keepers = belowOf(circuit).filter((connector) => draws[connector.index]?.kind === 'keeps');
      problems[c] = [
        say('offlineKeepers', {
          circuit: circuit.name,
          names: sayNames(keepers.map((k) => k.key)),
          totalA: round1(bad.totalA),
          availableA: round1(bad.availableA),
          phase: bad.phase + 1,
        }),
        say('holdWithinPlan'),
      ];
    }
    return entry;
  });
  return { circuits, problems };
}

function describe(
  circuit: Circuit,
  sum: ReturnType<typeof offlineSums>[number],
  below: readonly Connector[],
  draws: readonly { amps: number; kind: OfflineDrawKind }[],
  unlearned: boolean,
  hold: boolean,
): Reason {
  const of = (kind: OfflineDrawKind) =>
    below.filter(
      (connector) => draws[connector.index]?.kind === kind && (draws[connector.index]?.amps ?? 0) > 0,
    );
  const listed = (connectors: readonly Connector[]) => {
    const amps = new Set(connectors.map((connector) => draws[connector.index]?.amps ?? 0));
    const one = [...amps][0] ?? 0;
    const each = [
      amps.size !== 1
        ? say('theirOwnAmps')
        : connectors.length === 1
          ? say('amps', { amps: one })
          : say('ampsEach', { amps: one }),
    ];
    return { names: sayNames(connectors.map((connector) => connector.key)), each };
  };
  const parts: Said[] = [];
  const fallback = of('fallback');
  const keeps = of('keeps');
  const own = of('own');
  if (fallback.length > 0) parts.push(say('offlineFallbacks', listed(fallback)));
  if (keeps.length > 0) parts.push(say('keptLastLimits', listed(keeps)));
  if (own.length > 0) parts.push(say('ownOfflineLimits', listed(own)));
  parts.push(unlearned ? say('otherUnlearned') : say('otherPeak', { amps: round1(sum.otherA) }));
  const set: Said[] = [];
  if (own.length > 0) set.push(say('letProfileInstall', { names: sayNames(own.map((c) => c.key)) }));
  if (fallback.length > 0) set.push(say('giveSetPoints'));
  if (keeps.length > 0 && !hold) set.push(say('setHoldKept'));
  if (set.length === 0) set.push(say('feedFewer'));
  return [
    say('offlineNow', {
      circuit: circuit.name,
      totalA: round1(sum.totalA),
      availableA: round1(sum.availableA),
      phase: sum.phase + 1,
      detail: parts,
    }),
    ...set,
  ];
}
