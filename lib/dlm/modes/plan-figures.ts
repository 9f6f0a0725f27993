/**
 * The prices and the departure plans as the summary gives them to a dashboard: a connector's plan
 * in figures beside its words (`connectors[].planned`), and the price curve of the next hours with
 * the slots each plan takes grid energy in (`prices.slots`). The figures are the departure
 * planner's (modes/departure-planner.ts); this module only shapes them, so a dashboard shows them
 * without computing anything.
 */
import type { PlanFigures } from '../parts';
import type { PlannerResult } from './departure-planner';
import type { Slot } from './price-list';

/** How far ahead the summary's price curve reaches, ms. */
export const CURVE_MS = 24 * 3_600_000;

/** The prices as the summary gives them (`prices`): the price now, its currency, how far they reach and the curve. */
export interface PricesSummary {
  now?: number;
  currency?: string;
  until: string;
  slots: PriceSlotSummary[];
}

/** One slot of the price curve (the summary's `prices.slots`). */
export interface PriceSlotSummary {
  start: string;
  end: string;
  price: number;
  /** The connectors (`CP-1/1`) with grid energy planned in this slot. */
  plannedFor?: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A departure plan in figures (see PlanFigures). */
export function planFigures(plan: PlannerResult, departureMs: number): PlanFigures {
  const first = plan.pieces[0];
  return {
    energyWh: Math.round(plan.gridWh + plan.pvWh),
    pvWh: Math.round(plan.pvWh),
    departure: iso(departureMs),
    chargingNow: plan.chargeNow,
    ...(plan.priceNow === undefined ? {} : { priceNow: plan.priceNow }),
    ...(first
      ? { next: { start: iso(first.startMs), ...(first.price === undefined ? {} : { price: first.price }) } }
      : {}),
    ...(plan.shortWh >= 50 ? { shortWh: Math.round(plan.shortWh) } : {}),
    slots: plan.pieces.map((piece) => ({
      start: iso(piece.startMs),
      end: iso(piece.endMs),
      ...(piece.price === undefined ? {} : { price: piece.price }),
      gridWh: Math.round(piece.gridWh),
    })),
  };
}

/**
 * The price slots from the one now to `CURVE_MS` ahead, each with the connectors whose plan has
 * grid energy in it (a planned piece lies within one price slot: the planner cuts at every slot).
 */
export function priceCurve(
  slots: readonly Slot[],
  now: number,
  plans: ReadonlyMap<string, PlanFigures>,
): PriceSlotSummary[] {
  const pieces = [...plans].flatMap(([key, plan]) =>
    plan.slots
      .filter((piece) => piece.gridWh > 0)
      .map((piece) => ({ key, startMs: Date.parse(piece.start), endMs: Date.parse(piece.end) })),
  );
  return slots
    .filter((slot) => slot.endMs > now && slot.startMs < now + CURVE_MS)
    .map((slot) => {
      const keys = pieces
        .filter((piece) => piece.startMs < slot.endMs && piece.endMs > slot.startMs)
        .map((piece) => piece.key);
      const plannedFor = [...new Set(keys)];
      return {
        start: iso(slot.startMs),
        end: iso(slot.endMs),
        price: slot.value,
        ...(plannedFor.length > 0 ? { plannedFor } : {}),
      };
    });
}
