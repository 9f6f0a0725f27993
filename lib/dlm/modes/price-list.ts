/**
 * The price list and the PV forecast a flow sends the load manager (topics `prices` and
 * `pvForecast`), read and checked here: a list of slots `{ start, end, price }` (ISO 8601 or ms
 * since 1970; any currency, one for the whole list), or the shapes tariff nodes already give:
 *
 * - Tibber: `{ startsAt, total }` (the end is the next slot's start; the last lasts as long as the
 *   one before it, one hour when alone); the node's `{ today: [...], tomorrow: [...] }` as well;
 * - aWATTar: `{ start_timestamp, end_timestamp, marketprice, unit }` (the API's `{ data: [...] }`
 *   as well); a price per MWh (`unit` "Eur/MWh") is taken per kWh (÷ 1000);
 * - Octopus: `{ valid_from, valid_to, value_inc_vat }` (the API's `{ results: [...] }` as well).
 *
 * The forecast is the same list with `powerW` (or `watts`) in place of the price. A list with a
 * field that is not usable is refused whole, with an error naming the slot and the field: nothing
 * of it is taken (inputs.ts's rule for commands). Pure: no clock, no state.
 */
import { isObject } from '../../objects';
import { parseTimestamp } from '../../time';
import { describeValue } from '../site/fields';

/** One slot of a list: `value` is the price (per kWh) or the forecast power (W) from `startMs` to `endMs`. */
export interface Slot {
  startMs: number;
  endMs: number;
  value: number;
}

export interface PriceList {
  /** Sorted by start, none overlapping. */
  slots: Slot[];
  /** The list's currency as it said it (`EUR`, `€`, `GBP`…), when it did. */
  currency?: string;
}

/** The longest list taken (a year of 15-minute slots): a longer one is a mistake, not a tariff. */
const MAX_SLOTS = 35_136;

/** Start, end and value field names, in the order they are looked for. */
const STARTS = ['start', 'startsAt', 'start_timestamp', 'valid_from', 'from'];
const ENDS = ['end', 'endsAt', 'end_timestamp', 'valid_to', 'to'];
const PRICES = ['price', 'total', 'marketprice', 'value_inc_vat', 'value'];
const POWERS = ['powerW', 'watts'];

/** A price list (`prices`) or a PV forecast (`pvForecast`); throws an Error naming the field. */
export function parseSlotList(payload: unknown, kind: 'prices' | 'pvForecast'): PriceList {
  let items: unknown = payload;
  let currency: string | undefined;
  if (isObject(payload)) {
    if (typeof payload.currency === 'string') currency = payload.currency;
    // The wrappers tariff nodes and APIs put around the list.
    if (Array.isArray(payload.today) || Array.isArray(payload.tomorrow))
      items = [...asArray(payload.today), ...asArray(payload.tomorrow)];
    else items = [payload[kind], payload.prices, payload.data, payload.results].find((v) => Array.isArray(v));
  }
  if (!Array.isArray(items)) {
    throw new Error(
      `${kind}: expected a list of { start, end, ${kind === 'prices' ? 'price' : 'powerW'} }, got ${describeValue(payload)}`,
    );
  }
  if (items.length > MAX_SLOTS) throw new Error(`${kind}: ${items.length} slots, more than ${MAX_SLOTS}`);
  const read: { startMs: number; endMs?: number; value: number; at: number }[] = [];
  items.forEach((item, i) => {
    const field = `${kind}[${i}]`;
    if (!isObject(item)) throw new Error(`${field}: ${describeValue(item)} is not a slot { start, end, … }`);
    const startName = STARTS.find((name) => item[name] !== undefined);
    if (!startName) throw new Error(`${field}.start is missing`);
    const startMs = timeOf(item[startName], `${field}.${startName}`);
    const endName = ENDS.find((name) => item[name] !== undefined);
    const endMs = endName ? timeOf(item[endName], `${field}.${endName}`) : undefined;
    const names = kind === 'prices' ? PRICES : POWERS;
    const valueName = names.find((name) => item[name] !== undefined);
    if (!valueName) throw new Error(`${field}.${names[0]} is missing`);
    const raw = item[valueName];
    const number = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof number !== 'number' || !Number.isFinite(number))
      throw new Error(`${field}.${valueName}: ${describeValue(raw)} is not a number`);
    if (kind === 'pvForecast' && number < 0) throw new Error(`${field}.${valueName}: ${number} is below 0`);
    const perMWh = typeof item.unit === 'string' && /mwh/i.test(item.unit);
    if (typeof item.currency === 'string') {
      if (currency !== undefined && currency !== item.currency)
        throw new Error(`${field}.currency: ${item.currency}, but the list is in ${currency}`);
      currency = item.currency;
    }
    read.push({
      startMs,
      ...(endMs === undefined ? {} : { endMs }),
      value: perMWh ? number / 1000 : number,
      at: i,
    });
  });
  read.sort((a, b) => a.startMs - b.startMs);
  const slots: Slot[] = read.map((slot, j) => {
    const next = read[j + 1];
    const previous = read[j - 1];
    const endMs =
      slot.endMs ??
      next?.startMs ??
      (previous ? slot.startMs + (slot.startMs - previous.startMs) : slot.startMs + 3_600_000);
    if (!(endMs > slot.startMs))
      throw new Error(`${kind}[${slot.at}].end: ${new Date(endMs).toISOString()} is not after its start`);
    return { startMs: slot.startMs, endMs, value: slot.value };
  });
  for (let j = 1; j < slots.length; j++) {
    const slot = slots[j] as Slot;
    const previous = slots[j - 1] as Slot;
    if (slot.startMs < previous.endMs) {
      throw new Error(
        `${kind}[${read[j]?.at}].start: ${new Date(slot.startMs).toISOString()} is before the end of the slot before it (${new Date(previous.endMs).toISOString()})`,
      );
    }
  }
  return { slots, ...(currency === undefined ? {} : { currency }) };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A time as ms since 1970: a number of ms, or an ISO 8601 date-time (one without offset is UTC). */
export function timeOf(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  const parsed = parseTimestamp(value);
  if (!parsed) throw new Error(`${field}: ${describeValue(value)} is not an ISO 8601 time or ms since 1970`);
  return parsed.ms;
}

/** The slot of `list` that holds `atMs`, if any (binary search: the list is sorted). */
export function slotAt(slots: readonly Slot[], atMs: number): Slot | undefined {
  let lo = 0;
  let hi = slots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const slot = slots[mid] as Slot;
    if (atMs < slot.startMs) hi = mid - 1;
    else if (atMs >= slot.endMs) lo = mid + 1;
    else return slot;
  }
  return undefined;
}

/** A price in words: `0.11 €/kWh` (the sign for EUR, GBP and USD, else the currency as said; none when not said). */
export function describePrice(price: number, currency?: string): string {
  const signs: Record<string, string> = { EUR: '€', GBP: '£', USD: '$' };
  const unit = currency === undefined ? '' : ` ${signs[currency.toUpperCase()] ?? currency}`;
  return `${price.toFixed(Math.abs(price) >= 0.1 ? 2 : 3)}${unit}/kWh`;
}
