/**
 * What the chargers below a metered circuit drew when its meter measured: the evidence the circuits
 * stage subtracts from a meter that counts them. One owner of the estimate of a charger's draw
 * between its own readings, from its readings and from its set-points (what it was told and when:
 * `PolicyRecord.changes`, noted by `noteChange`) and what it is known to follow (its follow time,
 * evidence/response-time.ts):
 * - at least: what it last reported (the lowest since the reading in force then), never more than
 *   the set-point it may still have been following then (`lowestFollowedAt`), and only while it
 *   charges;
 * - at most: the set-point in force then, where a raise to it (or to one before it) is not shown
 *   reached by the readings taken by then (`openRaise`). Not a decrease it has not shown to follow:
 *   the allocation counts such a charger at its new, lower set-point, so a rise taken for its old
 *   draw would hide a rise of the other loads until its reading comes (found by the closed-loop
 *   property: 15 A over a breaker for 47 s).
 * A meter that counts the chargers (the home layout: the grid meter with the wallbox behind it)
 * sees a raise a second after it lands, the charger's own reading up to its sample interval
 * later. `explainRise` takes the meter's step from its sample before as the chargers' draw as far
 * as their raises allow, so it is not taken for other loads (nor learned as their peak). The
 * allocation counts such a charger at that set-point anyway, so what is counted in all is never
 * below what the meter measured; the price, a real rise of the other loads taken for the charger's
 * while its car has not taken its raise, is a transient docs/load-manager.md documents and the
 * closed-loop property bounds.
 */

import type { PerPhase } from '../../contracts';
import type { ConnectorView } from '../parts';
import { GRID_PHASES, type GridPhase, phaseMask, type Triple, toGrid, triple } from '../phases';
import type { ConnectorRuntime, ConnectorRuntimes } from '../runtime';
import { countedA } from '../site/circuit';
import type { Circuit, Connector, Site } from '../site/model';
import { unphasedSurelyOn } from './draws';
import { drawSince, type MeterRuntime, type OtherCount } from './measurements';
import type { ChargerReading } from './meter-plausibility';
import { followMsOf } from './overdraw';
import { withOvershoot } from './overshoot';

/** A meter's sample is the reference of its next one for this long, ms (then its rise is not explained). */
export const SETTLED_REFERENCE_MS = 60_000;

/** What the estimate reads: the site, the connectors' records and their views of the update. */
export interface DrawContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
}

/**
 * How long after its car came a charger with no reading of its own may explain a meter's rise for
 * the other loads' peak: two readings of the slowest reporting the fleet shows (60 s; a register
 * gives its first delta at its second reading).
 */
const NO_READING_YET_MS = 120_000;

/** A charger whose reading is this close to its set-point, A, has reached it. */
const REACHED_TOLERANCE_A = 1;

/**
 * Per grid phase, what the chargers below drew at least; how much more their open raises allow;
 * and how much more they may draw in all, decreases they have not shown to follow included.
 */
export interface ChargersDrew {
  atLeastA: Triple;
  /**
   * What they surely drew (`atLeastA`, less what a charger measured by its energy register may have
   * left to a phase its car may not use, and a current reported without a phase on the phases it may
   * not flow on: draws.ts unphasedSurelyOn): what the meter must read at least (meter-plausibility.ts).
   */
  surelyA: Triple;
  raisedA: Triple;
  mayDrawMoreA: Triple;
  /**
   * Per grid phase, the connector (its index) whose open raise is the only one there of a charger
   * read by its energy register alone, where no charger below charges with no reading of its own
   * yet: -1 where there is none, more than one, or such a charger.
   */
  blindRaiseOf: Triple;
  /** Per charger read by its energy register (its connector index), what it surely drew (its part of `surelyA`). */
  registerSurelyA: ReadonlyMap<number, Triple>;
}

/** No charger read by its energy register below (most updates of most sites): one map for all. */
const NONE_BY_REGISTER: ReadonlyMap<number, Triple> = new Map();

/** The other loads of a phase as counted (`counted`) and as learned for their peak (`learned`). */
export interface ExplainedRise {
  counted: number;
  learned: number;
  /** How far the count rose above its reference's where raises were open: the rise they do not explain. */
  beyondRoomA?: number;
}

/**
 * The other loads a meter that counts the chargers shows on phase `p`: `measured` (its reading
 * less what the chargers drew at least), less as much of `raisedA` (what open raises allow them to
 * draw beyond that) as its rise since its sample before asks for: what is counted. The other
 * loads are never counted below what that sample counted them at (its reference) while a raise is
 * open, so only a step of the meter is taken for the raise, and a sample taken before the car
 * followed is not. What is learned as their peak (a blind meter's fallback) may also take away what
 * decreases not yet followed may still draw (`mayDrawMoreA`): a cascade of decreases is not a peak
 * of the house. With nothing open below, `measured` is counted and learned.
 *
 * The reference is the sample before, not one taken with nothing open: at a home whose chargers
 * report every 10-60 s something is open most of the time (each raise until its charger's reading
 * shows it), and a reference older than the last sample let a raise count as other loads (issue
 * 45: three cars dropped from 18.3 A to 16.4 A after every raise). Each sample's count is within
 * what the chargers' bounds allow (never below `measured` less the open raises), so the other
 * loads are never counted lower than the meter less the most the chargers may draw.
 */
export function explainRise(
  meter: MeterRuntime,
  p: GridPhase,
  measured: number,
  drewAt: (atMs: number) => ChargersDrew,
  atMs: number,
): ExplainedRise {
  meter.countedA ??= [undefined, undefined, undefined];
  const kept = meter.countedA[p];
  const drew = drewAt(atMs);
  // This sample may be counted again (a charger's reading came since): from the same reference.
  const reference = kept && kept.newest.atMs < atMs ? kept.newest : kept?.before;
  let result: ExplainedRise = { counted: measured, learned: measured };
  const roomA = drew.raisedA[p];
  if (
    drew.mayDrawMoreA[p] > 0 &&
    reference &&
    reference.atMs < atMs &&
    atMs - reference.atMs <= SETTLED_REFERENCE_MS
  ) {
    const explained = (room: number, floor: number) => Math.min(measured, Math.max(measured - room, floor));
    const floor = recounted(reference, () => drewAt(reference.atMs).raisedA[p]);
    const counted = explained(roomA, floor);
    result = {
      counted,
      learned: explained(drew.mayDrawMoreA[p], reference.learned),
      ...(roomA > 0 && counted > floor ? { beyondRoomA: counted - floor } : {}),
    };
  }
  const count = { atMs, counted: result.counted, learned: result.learned, measuredA: measured, roomA };
  if (!kept || kept.newest.atMs < atMs)
    meter.countedA[p] = { newest: count, ...(kept ? { before: kept.newest } : {}) };
  else if (kept.newest.atMs === atMs) kept.newest = count;
  return result;
}

/**
 * What a sample counts the other loads at now: its count, or more where a charger's reading taken
 * since bounds what it drew then (openRaise: a car rises to its new limit and stays there) and so
 * leaves less of its rise to the raises open then (`roomNowA`, never taken above the room it had;
 * asked only where that sample had room).
 * Its count stood on a raise that may have landed; a reading that shows it had not yet lands the
 * rise on the other loads, and the samples after it count from there. Found by the closed-loop
 * property (PROPERTY_SEED=20261201 PROPERTY_PATH=6014): a charger offering 3 A more than told
 * started beside two raises on their way, the grid meter's step was taken for all three, and the
 * 59 s charger's reading 19 s later that showed its raise not taken changed nothing: when it took
 * it, 0.6 A over a breaker for 30 s.
 */
function recounted(reference: OtherCount, roomNowA: () => number): number {
  if (reference.measuredA === undefined || !reference.roomA) return reference.counted;
  const roomA = Math.min(reference.roomA, roomNowA());
  return Math.max(reference.counted, Math.min(reference.measuredA, reference.measuredA - roomA));
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
  const surely = triple(0);
  const raised = triple(0);
  const more = triple(0);
  const since = triple(0);
  const blind: Triple = [-1, -1, -1];
  const blindRaises = triple(0);
  const unread = triple(0);
  let registerSurely: Map<number, Triple> | undefined;
  const below = circuit.connectorIndexes;
  for (let at = 0; at < below.length; at++) {
    const k = below[at] ?? 0;
    const view = context.views[k];
    const connector = context.site.connectors[k];
    if (!view || !connector) continue;
    const runtime = context.runtimes.of(connector);
    if (runtime.state?.status !== 'Charging') continue;
    if (!view.drawGridA) {
      // No reading of its own yet, its car come a moment ago: it may draw what it is counted at
      // (not under control, its own fallback; else its set-point), and a meter that counts it may
      // already show it. Not learned as the other loads' peak (a charger that refuses its limits
      // and reports its register alone: its car's start was learned as the house's, and the two
      // keepers beside it were held at 0 A all evening: issue 45, home day, seed 777); still
      // counted (the allocation counts it at that too). Only for NO_READING_YET_MS: a charger that
      // never reports explains no rise for good.
      const since = runtime.wantingSinceMs;
      const mayA = view.uncontrolled?.amps ?? runtime.sent?.limitA ?? 0;
      const loads = phaseMask(view.gridPhases);
      if (since !== undefined && atMs - since <= NO_READING_YET_MS)
        for (const p of GRID_PHASES) if (mayA > 0 && loads & (1 << p)) more[p] += mayA;
      for (const p of GRID_PHASES) if (loads & (1 << p)) unread[p] += 1;
      continue;
    }
    // Its car's learned overshoot is its own draw (evidence/overshoot.ts): not other loads.
    const sentLimit = withOvershoot(runtime, lowestFollowedAt(context.site, runtime, atMs));
    const raisedTo = openRaise(context.site, connector, runtime, atMs);
    const pending = runtime.pendingDecrease;
    const mayDrawTo = Math.max(
      raisedTo,
      pending && pending.atMs <= atMs ? Math.min(pending.fromA, connector.maxA) : 0,
    );
    const drawn = drawSince(connector, runtime, atMs, since) ? since : view.drawGridA;
    const register = runtime.draw?.energy;
    const surelyGrid = register ? toGrid(connector, register.surelyA) : undefined;
    const loads = phaseMask(view.gridPhases);
    // A current without a phase surely flows only where every car draws (draws.ts unphasedOn).
    const surelyOn = view.unphased ? unphasedSurelyOn(connector) : 7;
    const own = view.fromEnergy ? triple(0) : undefined;
    if (own) {
      registerSurely ??= new Map();
      registerSurely.set(k, own);
    }
    for (let p = 0; p < 3; p++) {
      const phase = p as GridPhase;
      const allowed = countedA(view.floorA[phase], (loads & (1 << p)) !== 0, sentLimit);
      const atLeast = Math.max(0, Math.min(drawn[phase], view.drawGridA[phase], allowed));
      subtract[phase] += atLeast;
      const sure = surelyOn & (1 << p) ? (surelyGrid ? Math.min(atLeast, surelyGrid[phase]) : atLeast) : 0;
      surely[phase] += sure;
      if (own) own[phase] = sure;
      if (raisedTo > 0 && loads & (1 << p)) {
        raised[phase] += Math.max(0, raisedTo - atLeast);
        if (view.fromEnergy) {
          blindRaises[phase] += 1;
          blind[phase] = blindRaises[phase] === 1 ? k : -1;
        }
      }
      if (mayDrawTo > 0 && loads & (1 << p)) more[phase] += Math.max(0, mayDrawTo - atLeast);
    }
  }
  // A charger with no reading of its own yet may be what rose: none is taken for the rise then.
  for (const p of GRID_PHASES) if (unread[p] > 0) blind[p] = -1;
  return {
    atLeastA: subtract,
    surelyA: surely,
    raisedA: raised,
    mayDrawMoreA: more,
    blindRaiseOf: blind,
    registerSurelyA: registerSurely ?? NONE_BY_REGISTER,
  };
}

/**
 * The readings of the chargers below a circuit that their histories still hold, measured only
 * (not the zero assumed where a set-point above 0 followed none): what they drew by their own
 * meters, whatever they were told or their status says (evidence/meter-plausibility.ts frozen rule).
 * Grouped by charger, each charger's oldest first (the frozen rule takes a reading's successor for
 * the next one in the list).
 */
export function readingsBelow(context: DrawContext, circuit: Circuit): ChargerReading[] {
  const readings: ChargerReading[] = [];
  for (const k of circuit.connectorIndexes) {
    const connector = context.site.connectors[k];
    if (!connector) continue;
    // A current without a phase is measured only where it surely flows: the phases `unphasedOn`
    // places it on move with what its register shows, not with what it draws (IT seed 20261224
    // path 1742: a one-phase car's 6.5 A placed on L1-L3, then on the two conductors its register
    // showed; the grid meter that counts it, rightly steady, was judged frozen "while the chargers
    // below went from 6.5 to 0.0 A on L1", its other loads taken at the fallback's 0 A and the
    // room given out: 1.5 A over a breaker for 6 s).
    for (const entry of context.runtimes.of(connector).drawHistory) {
      if (!entry.assumed)
        readings.push({
          key: k,
          atMs: entry.atMs,
          gridA: entry.unphased
            ? onPhases(toGrid(connector, entry.chargerA), unphasedSurelyOn(connector))
            : toGrid(connector, entry.chargerA),
          ...(entry.fromMs !== undefined ? { fromMs: entry.fromMs } : {}),
          ...(entry.spanA
            ? {
                spanA: toGrid(
                  connector,
                  entry.chargerA.map((a) => ((a ?? 0) > 0 ? entry.spanA : 0)) as PerPhase,
                ),
              }
            : {}),
        });
    }
  }
  return readings;
}

/** `grid` on the phases of `mask` (bit p for L(p+1)), 0 elsewhere. */
function onPhases(grid: Triple, mask: number): Triple {
  for (const p of GRID_PHASES) if (!(mask & (1 << p))) grid[p] = 0;
  return grid;
}

/** The set-point changes kept per connector (PolicyRecord.changes): a meter's sample is seconds old. */
const CHANGES_KEPT = 8;

/** A set-point change went out (control/policy.ts): kept for what the charger may have drawn since. */
export function noteChange(runtime: ConnectorRuntime, limitA: number, atMs: number): void {
  runtime.changes.push({ atMs, limitA });
  if (runtime.changes.length > CHANGES_KEPT) runtime.changes.shift();
}

/**
 * The index in `runtime.changes` of the set-point in force when a meter measured at `atMs` (the
 * newest that went out at or before it; a change at `atMs` itself may already show), -1 when none
 * kept is that old.
 */
function inForceAt(runtime: ConnectorRuntime, atMs: number): number {
  const changes = runtime.changes;
  for (let i = changes.length - 1; i >= 0; i--) if ((changes[i]?.atMs ?? 0) <= atMs) return i;
  return -1;
}

/**
 * Whether the change at `i` raised the charger and its own readings up to `atMs` leave it open: none
 * taken since shows it reached (within REACHED_TOLERANCE_A), nor was taken after its follow time
 * (evidence/response-time.ts: then the reading is what it draws, its car takes no more).
 */
function raiseOpen(site: Site, runtime: ConnectorRuntime, i: number, atMs: number): boolean {
  const change = runtime.changes[i];
  const before = runtime.changes[i - 1];
  if (!change || !before || before.limitA >= change.limitA) return false;
  const followedBy = change.atMs + followMsOf(site, runtime);
  const history = runtime.drawHistory;
  for (let h = history.length - 1; h >= 0; h--) {
    const entry = history[h];
    if (!entry || entry.atMs < change.atMs) break;
    if (entry.atMs > atMs) continue;
    if (entry.atMs >= followedBy) return false;
    for (const amps of entry.chargerA) if ((amps ?? 0) >= change.limitA - REACHED_TOLERANCE_A) return false;
  }
  return true;
}

/**
 * The most a charger raised and not yet shown at its new set-point may have drawn when a meter
 * measured at `atMs` (0 when no raise is open then): the set-point in force then, where it or one
 * before it raised the charger and its own readings taken by then leave that raise open
 * (raiseOpen). Until then it may draw anything from what it last reported up to that, and a meter
 * that counts it may already show it. Never more than the set-point in force then: a decrease it
 * has not shown to follow does not count (the allocation counts such a charger at its new, lower
 * set-point, so a rise taken for its old draw would hide a rise of the other loads until its
 * reading comes; found by the closed-loop property: 15 A over a breaker for 47 s). A reading of its
 * own taken after `atMs` does not close a raise for that sample (the grid meter's newest sample is
 * often a second older than a charger's newest reading; taken as closed, the meter's rise counted
 * as other loads: issue 45), but bounds it: a car rises to its new limit and stays there, so what
 * it drew later is the most it drew then. Every kept change is looked at, not only those since the
 * charger's newest reading: a small decrease sent in the second of that reading (22 -> 21.9 A) left
 * an older raise it had not yet taken (6 -> 21 A, within its follow time) unseen, and the grid
 * meter's step when it took it was counted as other loads (issue 45's home day, an energy-only
 * charger: two cars lowered by 6 A for 55 s).
 */
function openRaise(site: Site, connector: Connector, runtime: ConnectorRuntime, atMs: number): number {
  const i = inForceAt(runtime, atMs);
  const inForce = runtime.changes[i];
  if (!inForce) return 0;
  // Every kept change up to then: its own readings decide each raise (raiseOpen), not which change
  // was in force at the newest of them.
  let open = false;
  for (let j = i; j > 0 && !open; j--) open = raiseOpen(site, runtime, j, atMs);
  if (!open) return 0;
  let later = Number.POSITIVE_INFINITY;
  for (const entry of runtime.drawHistory) {
    if (entry.atMs <= atMs) continue;
    later = Math.max(...entry.chargerA.map((amps) => amps ?? 0));
    break;
  }
  return Math.min(inForce.limitA, connector.maxA, later);
}

/**
 * The least set-point the charger offered its car from `fromMs` to `toMs` (PolicyRecord.changes:
 * the one in force at `fromMs` and every one after it up to `toMs`); 0 where those kept do not
 * reach back to `fromMs`. What a reading over that span (and its charger's follow time before
 * it) was surely offered: evidence/observer.ts's under-draw rule.
 */
export function offeredSurely(runtime: ConnectorRuntime, fromMs: number, toMs: number): number {
  const changes = runtime.changes;
  const first = inForceAt(runtime, fromMs);
  if (first < 0) return 0;
  let least = Number.POSITIVE_INFINITY;
  for (let i = first; i < changes.length && (changes[i]?.atMs ?? 0) <= toMs; i++)
    least = Math.min(least, changes[i]?.limitA ?? 0);
  return least;
}

/**
 * The lowest set-point the charger may still have been following when a meter measured at `atMs`:
 * the one in force then, or, within its follow time of a raise (evidence/response-time.ts), with no
 * reading of its own since that raise, the one before it (a charger that answers in 7 s still draws
 * the old, lower current), and counting it at the new one would make the other loads look smaller
 * than they are (found by the closed-loop property, PROPERTY_SEED=10: 0.6 A over a 44 A phase for
 * 1 s). A decrease sent after the meter measured had not reached the charger then: counted at it,
 * the meter's sample of the old draw made the other loads look larger by the decrease, and the cars
 * were lowered again and again on it while the first decrease was on its way (issue 45). Until the
 * decrease is shown followed the others' increases count the charger at its old set-point anyway
 * (control/pending-decreases.ts).
 */
function lowestFollowedAt(site: Site, runtime: ConnectorRuntime, atMs: number): number {
  const changes = runtime.changes;
  let i = inForceAt(runtime, atMs);
  // None kept that old (or none at all): the set-point in force now.
  let lowest = changes[i]?.limitA ?? runtime.sent?.limitA ?? 0;
  const followMs = followMsOf(site, runtime);
  for (; i > 0; i--) {
    const change = changes[i];
    const before = changes[i - 1];
    if (!change || !before || before.limitA >= change.limitA) break;
    if (atMs >= change.atMs + followMs) break;
    if (runtime.drawHistory.some((entry) => entry.atMs >= change.atMs && entry.atMs <= atMs)) break;
    lowest = Math.min(lowest, before.limitA);
  }
  return lowest;
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
