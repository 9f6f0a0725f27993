/**
 * The departure planner: where the grid part of a car's energy goes between now and its departure.
 * Pure (the time is an input; no state): the price stage (modes/price-plans.ts) asks it again on
 * every update, so a plan follows what was delivered, new prices and the breakers at once.
 *
 * 1. The time until the departure is cut at every price and forecast slot boundary.
 * 2. PV first: each piece gets the PV the forecast gives (`pvForecast`; without one, the surplus
 *    now, for the piece now only), where that reaches the car's minimum (less does not charge it),
 *    at most what the breakers let it take.
 * 3. The rest of the energy comes from the grid, in the cheapest pieces first (an earlier piece
 *    first among equal prices; pieces whose price is not known last, earliest first), each up to
 *    `PLAN_MARGIN` of what the breakers leave beside its PV: the margin pays for the other loads
 *    rising. What does not fit by the departure is `shortWh`.
 *
 * The car charges from the grid now when the piece now has grid energy planned.
 */

import { clockTime } from '../site/time-zone';
import { type Reason, say } from '../words';
import type { Slot } from './price-list';
import { describePrice, slotAt } from './price-list';

/** The share of what the breakers allow that a plan counts on in each slot. */
export const PLAN_MARGIN = 0.9;

/**
 * A car that charges from the grid now keeps the piece now before others up to this share dearer:
 * among nearly equal prices, the one it charges in does not lose its place with every update's
 * new estimate (each stop costs a minimum off time and a start).
 */
export const HOLD_SHARE = 0.03;

export interface PlannerInput {
  now: number;
  departureMs: number;
  /** The energy the car still needs, Wh. */
  remainingWh: number;
  /** What the breakers let the car take, W (its cap on its phases, less the other loads on its circuits). */
  maxW: number;
  /** The car's minimum, W: PV below it does not charge the car. */
  minW: number;
  prices: readonly Slot[];
  /** PV surplus expected, W per slot. */
  pvForecast?: readonly Slot[];
  /** The surplus now, W (used for the piece now when there is no forecast). */
  pvNowW?: number;
  /** The car charges from the grid now (see `HOLD_SHARE`). */
  chargingNow?: boolean;
  /** The least grid energy worth a start in the piece now, Wh (what the car takes in its minimum on time). */
  minRunWh?: number;
}

export interface PlannedPiece {
  startMs: number;
  endMs: number;
  price?: number;
  pvWh: number;
  gridWh: number;
}

export interface PlannerResult {
  /** Grid energy is planned now. */
  chargeNow: boolean;
  /** The price now (undefined when not known). */
  priceNow?: number;
  gridWh: number;
  pvWh: number;
  /** Energy the breakers cannot give by the departure, Wh. */
  shortWh: number;
  /** The pieces with grid energy, in time order. */
  pieces: PlannedPiece[];
  /** How long the planned grid energy takes, ms (a piece used in part counts in part). */
  gridMs: number;
}

/** The plan for one car (see the module comment). */
export function planDeparture(input: PlannerInput): PlannerResult {
  const { now, departureMs, prices } = input;
  const maxW = Math.max(0, input.maxW);
  const remainingWh = Math.max(0, input.remainingWh);
  const pieces: PlannedPiece[] = [];
  if (departureMs > now) {
    const cuts = new Set<number>([now, departureMs]);
    for (const list of [prices, input.pvForecast ?? []])
      for (const slot of list)
        for (const at of [slot.startMs, slot.endMs]) if (at > now && at < departureMs) cuts.add(at);
    const times = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i + 1 < times.length; i++) {
      const startMs = times[i] as number;
      const endMs = times[i + 1] as number;
      const price = slotAt(prices, startMs)?.value;
      const pvW = input.pvForecast
        ? (slotAt(input.pvForecast, startMs)?.value ?? 0)
        : i === 0
          ? (input.pvNowW ?? 0)
          : 0;
      const usableW = pvW >= input.minW ? Math.min(pvW, maxW) : 0;
      pieces.push({
        startMs,
        endMs,
        ...(price === undefined ? {} : { price }),
        pvWh: wh(usableW, endMs - startMs),
        gridWh: 0,
      });
    }
  }
  // PV first, in time order, until the energy is there.
  let leftWh = remainingWh;
  let pvWh = 0;
  for (const piece of pieces) {
    piece.pvWh = Math.min(piece.pvWh, leftWh);
    leftWh -= piece.pvWh;
    pvWh += piece.pvWh;
  }
  // The grid for the rest, cheapest first (the piece now a little cheaper while the car charges in it).
  const rank = (piece: PlannedPiece, i: number) =>
    i === 0 && input.chargingNow && piece.price !== undefined
      ? piece.price - Math.abs(piece.price) * HOLD_SHARE
      : (piece.price ?? 0);
  const byPrice = pieces
    .map((piece, i) => ({ piece, i, price: rank(piece, i) }))
    .sort(
      (a, b) =>
        Number(a.piece.price === undefined) - Number(b.piece.price === undefined) ||
        a.price - b.price ||
        a.i - b.i,
    );
  const fill = (skipNow: boolean) => {
    let left = leftWh;
    for (const { piece, i } of byPrice) {
      const roomWh = PLAN_MARGIN * wh(maxW, piece.endMs - piece.startMs) - piece.pvWh;
      piece.gridWh = skipNow && i === 0 ? 0 : Math.max(0, Math.min(roomWh, left));
      left -= piece.gridWh;
    }
    return left;
  };
  let shortWh = fill(false);
  // A car that does not charge now starts for no less than `minRunWh`: less of it goes elsewhere
  // where the rest of the time can take it (each start costs a minimum on and off time).
  const nowWh = pieces[0]?.gridWh ?? 0;
  if (!input.chargingNow && nowWh > 0 && nowWh < (input.minRunWh ?? 0)) {
    const skipped = fill(true);
    if (skipped > shortWh + 1e-6) shortWh = fill(false);
    else shortWh = skipped;
  }
  const gridWh = pieces.reduce((sum, piece) => sum + piece.gridWh, 0);
  leftWh = shortWh;
  const planned = pieces.filter((piece) => piece.gridWh > 0);
  const first = pieces[0];
  return {
    chargeNow: first !== undefined && first.gridWh > 0,
    ...(slotAt(prices, now) ? { priceNow: slotAt(prices, now)?.value } : {}),
    gridWh,
    pvWh,
    shortWh: Math.max(0, leftWh),
    pieces: planned,
    // The time the planned energy takes at what the plan counts on (a slot used in part, in part).
    gridMs: planned.reduce((sum, piece) => {
      const roomWh = PLAN_MARGIN * wh(maxW, piece.endMs - piece.startMs) - piece.pvWh;
      return sum + (piece.endMs - piece.startMs) * Math.min(1, roomWh > 0 ? piece.gridWh / roomWh : 1);
    }, 0),
  };
}

function wh(w: number, ms: number): number {
  return (w * ms) / 3_600_000;
}

/** `2 h`, `45 min`, `1 h 15 min` (from an hour on, to 5 min). */
export function duration(ms: number): string {
  const exact = Math.max(1, Math.round(ms / 60_000));
  const minutes = exact >= 60 ? Math.round(exact / 5) * 5 : exact;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}

const kWh = (wh: number) => `${(Math.round(wh / 100) / 10).toFixed(1)} kWh`;

/**
 * A plan in words: `charging now: 0.11 €/kWh, the cheapest 2 h before 07:00; 14.2 kWh planned`,
 * or `next: 01:00 at 0.08 €/kWh, the cheapest 2 h before 07:00; 14.2 kWh planned`.
 */
export function describeDeparturePlan(
  plan: PlannerResult,
  departureMs: number,
  now: number,
  timeZone: string,
  currency?: string,
): Reason {
  const before = clockTime(departureMs, now, timeZone);
  const price = (value: number | undefined) =>
    value === undefined ? [say('priceNotKnown')] : describePrice(value, currency);
  const total = plan.gridWh + plan.pvWh;
  const planned = [
    plan.pvWh >= 50
      ? say('plannedFromPv', { kWh: kWh(total), pvKWh: kWh(plan.pvWh) })
      : say('planned', { kWh: kWh(total) }),
  ];
  const short = plan.shortWh >= 50 ? [say('cannotBeHad', { kWh: kWh(plan.shortWh) })] : [];
  const next = plan.pieces[0];
  const cheapest = { duration: duration(plan.gridMs), time: before };
  if (plan.chargeNow)
    return [say('chargingNowCheapest', { price: price(plan.priceNow), ...cheapest }), ...planned, ...short];
  if (next)
    return [
      say('nextCheapest', {
        at: clockTime(next.startMs, now, timeZone),
        price: price(next.price),
        ...cheapest,
      }),
      ...planned,
      ...short,
    ];
  if (total > 0) return [say('pvOnlyBefore', { time: before, planned }), ...short];
  return [say('nothingLeft', { time: before })];
}
